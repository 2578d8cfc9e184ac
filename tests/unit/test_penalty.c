// SPDX-License-Identifier: Apache-2.0
// net/penalty: a back-off that doubles at each offence, up to its bound, forgiven after a quiet while, in a table of bounded size.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "net/penalty.h"

static void
test_doubles_to_the_bound(void **state)
{
	struct penalty pt;
	uint64_t now = 1000;
	unsigned n = 0;

	(void)state;
	penalty_init(&pt, 1, 10);
	assert_int_equal(penalty_left(&pt, "address 192.0.2.1", now), 0);
	assert_int_equal(penalty_offend(&pt, "address 192.0.2.1", now, &n), 1000);
	assert_int_equal(n, 1);
	assert_int_equal(penalty_left(&pt, "address 192.0.2.1", now + 400), 600);
	assert_int_equal(penalty_left(&pt, "address 192.0.2.1", now + 1000), 0);
	/* Another offender is not affected. */
	assert_int_equal(penalty_left(&pt, "address 192.0.2.2", now), 0);
	assert_int_equal(penalty_offend(&pt, "address 192.0.2.1", now + 1000, &n), 2000);
	assert_int_equal(penalty_offend(&pt, "address 192.0.2.1", now + 3000, &n), 4000);
	assert_int_equal(penalty_offend(&pt, "address 192.0.2.1", now + 7000, &n), 8000);
	/* 16 s would pass the bound of 10. */
	assert_int_equal(penalty_offend(&pt, "address 192.0.2.1", now + 15000, &n), 10000);
	assert_int_equal(n, 5);
	assert_int_equal(penalty_offend(&pt, "address 192.0.2.1", now + 25000, &n), 10000);
	assert_int_equal(penalty_active(&pt, now + 25000), 1);
	assert_int_equal(pt.offences, 6);
	penalty_free(&pt);
}

static void
test_forgiven_after_quiet(void **state)
{
	struct penalty pt;
	unsigned n = 0;

	(void)state;
	penalty_init(&pt, 1, 10);
	penalty_offend(&pt, "key ab", 0, &n);
	penalty_offend(&pt, "key ab", 1000, &n);
	assert_int_equal(n, 2);
	/* Its back-off ended at 3 s: 10 s later less a moment, not forgiven. */
	assert_int_equal(penalty_offend(&pt, "key ab", 12999, &n), 4000);
	assert_int_equal(n, 3);
	/* 10 s after the end of that one (16999): forgiven. */
	assert_int_equal(penalty_offend(&pt, "key ab", 26999, &n), 1000);
	assert_int_equal(n, 1);
	penalty_free(&pt);
}

static void
test_off_and_bounded(void **state)
{
	struct penalty pt;
	char name[PENALTY_NAME_MAX];
	unsigned i, n = 0;

	(void)state;
	/* Off: offences counted, nobody refused. */
	penalty_init(&pt, 0, 600);
	assert_int_equal(penalty_offend(&pt, "address 192.0.2.1", 5, &n), 0);
	assert_int_equal(penalty_left(&pt, "address 192.0.2.1", 5), 0);
	assert_int_equal(penalty_active(&pt, 5), 0);
	assert_int_equal(pt.offences, 1);
	penalty_free(&pt);
	/* No name (a shared address): counted, nobody refused. */
	penalty_init(&pt, 100, 600);
	assert_int_equal(penalty_offend(&pt, NULL, 5, NULL), 0);
	assert_int_equal(penalty_offend(&pt, "", 5, NULL), 0);
	assert_int_equal(penalty_active(&pt, 5), 0);
	assert_int_equal(pt.offences, 2);
	penalty_free(&pt);
	/* More offenders than slots: the table keeps PENALTY_SLOTS, the
	 * newest among them; the oldest back-off gives its slot. */
	penalty_init(&pt, 100, 600);
	for (i = 0; i < PENALTY_SLOTS + 10; i++) {
		snprintf(name, sizeof(name), "address 10.0.%u.%u", i / 256, i % 256);
		penalty_offend(&pt, name, i, &n);
	}
	assert_int_equal(penalty_active(&pt, PENALTY_SLOTS + 10), PENALTY_SLOTS);
	assert_int_equal(penalty_left(&pt, "address 10.0.0.0", PENALTY_SLOTS + 10), 0);
	snprintf(name, sizeof(name), "address 10.0.%u.%u", (PENALTY_SLOTS + 9) / 256,
	    (PENALTY_SLOTS + 9) % 256);
	assert_true(penalty_left(&pt, name, PENALTY_SLOTS + 10) > 0);
	penalty_free(&pt);
	penalty_free(&pt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubles_to_the_bound),
		cmocka_unit_test(test_forgiven_after_quiet),
		cmocka_unit_test(test_off_and_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
