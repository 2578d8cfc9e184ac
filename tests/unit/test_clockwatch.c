// SPDX-License-Identifier: Apache-2.0
// core/clockwatch: records refused as dated ahead of the clock, by key, in
// a window of an hour, and the spans it writes.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/clockwatch.h"

static void
test_span(void **state)
{
	char b[48];

	(void)state;
	clockwatch_span(7199500, b, sizeof(b));
	assert_string_equal(b, "2 h 0 min");
	clockwatch_span(725000, b, sizeof(b));
	assert_string_equal(b, "12 min 5 s");
	clockwatch_span(600000, b, sizeof(b));
	assert_string_equal(b, "10 min");
	clockwatch_span(40999, b, sizeof(b));
	assert_string_equal(b, "40 s");
}

static void
test_window(void **state)
{
	struct clockwatch w, batch;
	uint8_t a[32], b[32];
	char text[320];
	int64_t t0 = 1700000000000;

	(void)state;
	memset(&w, 0, sizeof(w));
	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	assert_int_equal(clockwatch_say(&w, t0, text, sizeof(text)), 0);
	memset(&batch, 0, sizeof(batch));
	clockwatch_note(&batch, t0, a, 3600000, 1);
	clockwatch_note(&batch, t0, b, 7200000, 1);
	clockwatch_note(&batch, t0, a, 60000, 1);
	clockwatch_merge(&w, &batch, t0);
	assert_int_equal(w.records, 3);
	assert_int_equal(w.nauthors, 2);
	assert_int_equal(w.max_ahead_ms, 7200000);
	assert_int_equal(clockwatch_say(&w, t0 + 1000, text, sizeof(text)), 1);
	assert_non_null(strstr(text, "3 records from 2 keys"));
	assert_non_null(strstr(text, "2 h 0 min ahead"));
	/* An hour of quiet: nothing to say; the next refusal starts anew. */
	assert_int_equal(clockwatch_say(&w, t0 + CLOCKWATCH_WINDOW_MS + 1, text,
	    sizeof(text)), 0);
	clockwatch_note(&w, t0 + CLOCKWATCH_WINDOW_MS + 2, a, 700000, 1);
	assert_int_equal(w.records, 1);
	assert_int_equal(w.max_ahead_ms, 700000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_span),
		cmocka_unit_test(test_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
