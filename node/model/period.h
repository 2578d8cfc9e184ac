/* SPDX-License-Identifier: Apache-2.0 */
/* Reporting periods of indicator values ("2024", "2024-Q3", "2023-09/2024-08")
 * as month ranges, and whether two overlap. */
#ifndef LCF_PERIOD_H
#define LCF_PERIOD_H

#define PERIOD_YEAR_MIN 1800
#define PERIOD_YEAR_MAX 2200

/* A period as months counted from year 0 (year * 12 + month - 1), first and
 * last included. */
struct period {
	int first, last;
};

/* Parses s: "YYYY", "YYYY-Qn" (n 1..4) or "YYYY-MM/YYYY-MM" (the start month
 * before the end month), years PERIOD_YEAR_MIN..PERIOD_YEAR_MAX. 0, or
 * LCF_EINVAL with *why (when why is not NULL) a phrase saying what is wrong. */
int period_parse(const char *s, struct period *out, const char **why);
/* 1 when a and b share at least one month. */
int period_overlaps(const struct period *a, const struct period *b);

#endif
