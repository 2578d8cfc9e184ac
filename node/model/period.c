// SPDX-License-Identifier: Apache-2.0
// Reporting periods as month ranges, and whether two overlap.
#include <string.h>

#include "base/error.h"
#include "model/period.h"

static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		v = v * 10 + (s[i] - '0');
	*out = v;
	return i == n;
}

int
period_parse(const char *s, struct period *out, const char **why)
{
	const char *w = NULL;
	size_t len = s != NULL ? strlen(s) : 0;
	int y1 = 0, m1 = 1, y2 = 0, m2 = 12, qn = 0;

	if (len == 4 && digits(s, 4, &y1)) {
		y2 = y1;
	} else if (len == 7 && digits(s, 4, &y1) && s[4] == '-' && s[5] == 'Q' &&
	    digits(s + 6, 1, &qn)) {
		y2 = y1;
		if (qn < 1 || qn > 4)
			w = "the quarter must be Q1..Q4";
		m1 = 3 * qn - 2;
		m2 = 3 * qn;
	} else if (len == 15 && digits(s, 4, &y1) && s[4] == '-' &&
	    digits(s + 5, 2, &m1) && s[7] == '/' && digits(s + 8, 4, &y2) &&
	    s[12] == '-' && digits(s + 13, 2, &m2)) {
		if (m1 < 1 || m1 > 12 || m2 < 1 || m2 > 12)
			w = "months must be 01..12";
		else if (y1 * 12 + m1 >= y2 * 12 + m2)
			w = "the period must start before it ends";
	} else {
		w = "expected YYYY, YYYY-Qn or YYYY-MM/YYYY-MM, as in 2024, "
		    "2024-Q3 or 2023-09/2024-08";
	}
	if (w == NULL && (y1 < PERIOD_YEAR_MIN || y2 > PERIOD_YEAR_MAX))
		w = "years must be 1800..2200";
	if (why != NULL)
		*why = w;
	if (w != NULL)
		return LCF_EINVAL;
	out->first = y1 * 12 + m1 - 1;
	out->last = y2 * 12 + m2 - 1;
	return 0;
}

int
period_overlaps(const struct period *a, const struct period *b)
{
	return a->first <= b->last && b->first <= a->last;
}
