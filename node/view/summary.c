// SPDX-License-Identifier: Apache-2.0
// The indicator summary: per catalog indicator and period, how many cities
// reported a value and the federation's median, least and greatest of them.
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/xmalloc.h"
#include "core/lineage.h"
#include "core/member.h"
#include "core/node.h"
#include "model/catalog.h"
#include "model/period.h"
#include "model/record.h"
#include "store/store.h"
#include "view/records.h"
#include "view/view.h"

/* One city's total (not disaggregated) value of an indicator for a period. */
struct sum_value {
	long ind;                     /* index in the catalog */
	char *period;
	uint8_t city[32];             /* the newest key of its line */
	int64_t timestamp;
	double value;
};

struct sum {
	const struct catalog *cat;
	struct lineage *lin;
	const char *period;           /* only this period, or NULL */
	long ind;                     /* the indicator being read */
	struct view_keep *keep;       /* the query's keep state: its decoding */
	struct sum_value *v;
	size_t n, cap;
};

/* A value broken down by sex, age or group is no city total. */
static int
disaggregated(const Lcf__IndicatorValue *iv)
{
	const Lcf__Disaggregation *d = iv->disaggregation;

	return d != NULL && ((d->sex != NULL && *d->sex != '\0') ||
	    (d->age_band != NULL && *d->age_band != '\0') ||
	    (d->group != NULL && *d->group != '\0'));
}

static int
value_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct sum *s = arg;
	const Lcf__IndicatorValue *iv;
	struct record rec;
	struct sum_value *v;

	if (view_keep_open(s->keep, id, raw, len, &rec) != 0)
		return 0;
	iv = rec.c->indicator;
	if (!rec.c->deleted && iv != NULL && iv->period != NULL &&
	    iv->has_value && !disaggregated(iv) && rec.c->author.len == 32) {
		if (s->n == s->cap) {
			s->cap = s->cap ? 2 * s->cap : 64;
			s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
		}
		v = &s->v[s->n++];
		v->ind = s->ind;
		v->period = xstrdup(iv->period);
		lineage_head(s->lin, rec.c->author.data, v->city);
		v->timestamp = rec.c->timestamp;
		v->value = iv->value;
	}
	record_release(&rec);
	return 0;
}

/* Indicator, period, city, then the newest first. */
static int
value_cmp(const void *a, const void *b)
{
	const struct sum_value *x = a, *y = b;
	int c;

	if (x->ind != y->ind)
		return x->ind < y->ind ? -1 : 1;
	if ((c = strcmp(x->period, y->period)) != 0)
		return c;
	if ((c = memcmp(x->city, y->city, 32)) != 0)
		return c;
	return x->timestamp > y->timestamp ? -1 : x->timestamp < y->timestamp;
}

static int
double_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The entry of the values vals[0..n) (one per city, sorted in place). */
static json_t *
entry(const struct sum *s, const struct sum_value *first, double *vals,
    size_t n)
{
	double median;

	qsort(vals, n, sizeof(*vals), double_cmp);
	median = n % 2 ? vals[n / 2] : (vals[n / 2 - 1] + vals[n / 2]) / 2;
	return json_pack("{s:s, s:s, s:I, s:f, s:f, s:f}",
	    "indicator", s->cat->items[first->ind]->id,
	    "period", first->period, "cities", (json_int_t)n,
	    "median", median, "min", vals[0], "max", vals[n - 1]);
}

/* The entries of the values gathered, in catalog then period order. */
static json_t *
build(struct sum *s)
{
	json_t *items = json_array();
	double *vals = xreallocarray(NULL, s->n ? s->n : 1, sizeof(double));
	size_t i = 0, k, n;

	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), value_cmp);
	while (i < s->n) {
		/* One group: the same indicator and period; a city's newest
		 * value counts, once. */
		n = 0;
		for (k = i; k < s->n && s->v[k].ind == s->v[i].ind &&
		    strcmp(s->v[k].period, s->v[i].period) == 0; k++)
			if (k == i || memcmp(s->v[k].city, s->v[k - 1].city, 32) != 0)
				vals[n++] = s->v[k].value;
		json_array_append_new(items, entry(s, &s->v[i], vals, n));
		i = k;
	}
	free(vals);
	return items;
}

static void
sum_free(struct sum *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].period);
	free(s->v);
	lineage_free(s->lin);
}

int
view_summary(struct node *n, const json_t *args, unsigned flags,
    json_t **out, struct view_error *e)
{
	const char *only = view_arg(args, "indicator"), *why;
	struct view_keep ka;
	struct store_query q;
	struct period p;
	struct sum s;
	size_t i;
	int truncated, rc = 0;

	(void)flags;
	memset(&s, 0, sizeof(s));
	s.cat = n->catalog;
	s.period = view_arg(args, "period");
	if (only != NULL && catalog_find(s.cat, only) == NULL)
		return view_fail(e, LCF_EINVAL, 400, "indicator", "indicator '%s' is "
		    "not in the catalog in force (`lcctl catalog list`)", only);
	if (s.period != NULL && period_parse(s.period, &p, &why) != 0)
		return view_fail(e, LCF_EINVAL, 400, "period", "period '%s': %s",
		    s.period, why);
	s.lin = lineage_snapshot(n);
	/* Revoked cities do not count; a city's earlier keys count as it. */
	memset(&ka, 0, sizeof(ka));
	ka.n = n;
	ka.lin = s.lin;
	ka.revoked = members_any_revoked(n);
	/* An observer is no city (PROTOCOL 5.8). */
	ka.observers = members_any_observer(n);
	s.keep = &ka;
	for (i = 0; rc == 0 && i < s.cat->n; i++) {
		if (only != NULL && strcmp(only, s.cat->items[i]->id) != 0)
			continue;
		memset(&q, 0, sizeof(q));
		q.kind = LCF__KIND__KIND_INDICATOR;
		q.indicator = s.cat->items[i]->id;
		q.period = s.period;
		q.keep = view_records_keep;
		q.keep_arg = &ka;
		s.ind = (long)i;
		if ((rc = store_query(n->store, &q, value_visit, &s, &truncated)) != 0)
			rc = view_fail(e, rc, 500, NULL, "the database cannot be read");
	}
	view_keep_drop(&ka);
	if (rc == 0)
		*out = json_pack("{s:o}", "items", build(&s));
	sum_free(&s);
	return rc;
}
