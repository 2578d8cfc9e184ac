// SPDX-License-Identifier: Apache-2.0
// Unit tests for reporting periods: parsing and overlap (model/period.c).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/error.h"
#include "model/period.h"

static struct period
P(const char *s)
{
	struct period p = { -1, -1 };

	assert_int_equal(period_parse(s, &p, NULL), 0);
	return p;
}

static void
test_parse(void **state)
{
	struct period p;
	const char *why = NULL;

	(void)state;
	p = P("2024");
	assert_int_equal(p.first, 2024 * 12);
	assert_int_equal(p.last, 2024 * 12 + 11);
	p = P("2024-Q3");
	assert_int_equal(p.first, 2024 * 12 + 6);
	assert_int_equal(p.last, 2024 * 12 + 8);
	p = P("2023-09/2024-08");
	assert_int_equal(p.first, 2023 * 12 + 8);
	assert_int_equal(p.last, 2024 * 12 + 7);
	assert_int_equal(period_parse("2024-Q5", &p, &why), LCF_EINVAL);
	assert_string_equal(why, "the quarter must be Q1..Q4");
	assert_int_equal(period_parse("2024-08/2024-08", &p, &why), LCF_EINVAL);
	assert_int_equal(period_parse("2024-13/2025-01", &p, &why), LCF_EINVAL);
	assert_int_equal(period_parse("1799", &p, &why), LCF_EINVAL);
	assert_int_equal(period_parse("24", &p, &why), LCF_EINVAL);
	assert_int_equal(period_parse("", &p, &why), LCF_EINVAL);
	assert_int_equal(period_parse(NULL, &p, &why), LCF_EINVAL);
}

static void
test_overlap(void **state)
{
	struct period y = P("2024"), q3 = P("2024-Q3"), span = P("2023-09/2024-08"),
	    y23 = P("2023"), y25 = P("2025"), q4_23 = P("2023-Q4");

	(void)state;
	assert_true(period_overlaps(&y, &q3));
	assert_true(period_overlaps(&q3, &y));
	assert_true(period_overlaps(&y, &span));
	assert_true(period_overlaps(&y23, &span));
	assert_true(period_overlaps(&q4_23, &span));
	assert_false(period_overlaps(&y25, &span));
	assert_false(period_overlaps(&y23, &q3));
	assert_false(period_overlaps(&y, &y25));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_overlap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
