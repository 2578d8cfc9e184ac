// SPDX-License-Identifier: Apache-2.0
// Unit tests of core/seq.c, the one owner of this city's sequence counter.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/node.h"
#include "core/seq.h"

static void
test_reserve_and_hand_back(void **state)
{
	struct node n;

	(void)state;
	memset(&n, 0, sizeof(n));
	seq_init(&n, 9);
	assert_int_equal(seq_next(&n), 10);
	assert_int_equal(seq_reserve(&n, 5), 10);
	assert_int_equal(seq_next(&n), 15);
	/* Nothing written: the five come back. */
	seq_hand_back(&n, 10, 15);
	assert_int_equal(seq_next(&n), 10);
	/* A later reservation moved on: an older one is not handed back. */
	seq_reserve(&n, 2);
	seq_reserve(&n, 3);
	seq_hand_back(&n, 10, 12);
	assert_int_equal(seq_next(&n), 15);
}

static void
test_observed_inside_a_reservation(void **state)
{
	struct node n;

	(void)state;
	memset(&n, 0, sizeof(n));
	seq_init(&n, 9);
	assert_int_equal(seq_reserve(&n, 10), 10);
	/* Our own record 15, from an old copy, comes back meanwhile. */
	seq_observe(&n, 15);
	assert_int_equal(seq_next(&n), 20);
	/* The reservation fails: 15 was seen, so only 10..15 may not return. */
	seq_hand_back(&n, 10, 20);
	assert_int_equal(seq_next(&n), 16);
}

static void
test_observed_between_two_parts(void **state)
{
	struct node n;
	uint64_t first;

	(void)state;
	memset(&n, 0, sizeof(n));
	seq_init(&n, 9);
	/* An import reserves per chunk and hands back the whole range. */
	first = seq_reserve(&n, 10);
	seq_observe(&n, 25);
	assert_int_equal(seq_next(&n), 26);
	seq_reserve(&n, 10);
	seq_hand_back(&n, first, seq_next(&n));
	assert_int_equal(seq_next(&n), 26);
	/* Observing an older seq never moves the counter back. */
	seq_observe(&n, 3);
	assert_int_equal(seq_next(&n), 26);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reserve_and_hand_back),
		cmocka_unit_test(test_observed_inside_a_reservation),
		cmocka_unit_test(test_observed_between_two_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
