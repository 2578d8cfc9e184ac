// SPDX-License-Identifier: Apache-2.0
// base/ratelimit: a few lines a minute, and how many were held back.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/ratelimit.h"

static void
test_burst_then_held(void **state)
{
	struct ratelimit r = { 0 };
	unsigned long held = 99;
	unsigned i;

	(void)state;
	for (i = 0; i < RATELIMIT_BURST; i++) {
		assert_int_equal(ratelimit_pass(&r, 1000 + i, &held), 1);
		assert_int_equal(held, 0);
	}
	for (i = 0; i < 25; i++)
		assert_int_equal(ratelimit_pass(&r, 2000 + i, &held), 0);
	/* Still inside the minute. */
	assert_int_equal(ratelimit_pass(&r, 1000 + RATELIMIT_WINDOW_MS - 1, &held), 0);
	/* A new minute: the line says 26 were not logged. */
	assert_int_equal(ratelimit_pass(&r, 1000 + RATELIMIT_WINDOW_MS, &held), 1);
	assert_int_equal(held, 26);
	assert_int_equal(ratelimit_pass(&r, 1000 + RATELIMIT_WINDOW_MS + 1, &held), 1);
	assert_int_equal(held, 0);
}

static void
test_quiet_start_at_zero(void **state)
{
	struct ratelimit r = { 0 };
	unsigned long held;

	(void)state;
	/* A monotonic clock may read 0 (or little) at first. */
	assert_int_equal(ratelimit_pass(&r, 0, &held), 1);
	assert_int_equal(ratelimit_pass(&r, 5, &held), 1);
	assert_int_equal(r.used, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_held),
		cmocka_unit_test(test_quiet_start_at_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
