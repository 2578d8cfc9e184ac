// SPDX-License-Identifier: Apache-2.0
// Coverage: which cities reported which catalog indicators for a period (a
// value's period matches when it overlaps the one asked), with totals and
// what is missing.
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "base/error.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "core/lineage.h"
#include "core/member.h"
#include "core/node.h"
#include "model/catalog.h"
#include "model/identity.h"
#include "model/period.h"
#include "model/record.h"
#include "store/store.h"
#include "view/coverage.h"
#include "view/records.h"
#include "view/view.h"

struct cov_city {
	uint8_t id[32];               /* the newest key of its line */
	char *name, *country;
	const char *state;            /* membership: admitted, expired, open */
	/* per catalog indicator: the value found (its record's index in vals)
	 * or -1 */
	long *cell;
	size_t reported;
};

struct cov_value {
	uint8_t rec[32];
	char *period;
	int last;                     /* the period's last month */
	double value;
	int64_t timestamp;
	char *unit;
};

struct cov {
	struct node *n;
	struct lineage *lin;
	const struct catalog *cat;
	struct period want;
	const char *only;             /* one indicator id, or NULL */
	int values;                   /* each city's values in the answer */
	struct cov_city *cities;
	size_t ncities, cap;
	struct cov_value *vals;
	size_t nvals, vcap;
	char **periods;               /* the periods held that overlap want */
	size_t nperiods, pcap;
};

static int
keep_period(void *arg, const char *period)
{
	struct cov *cv = arg;
	struct period p;

	if (period_parse(period, &p, NULL) != 0 || !period_overlaps(&p, &cv->want))
		return 0;
	if (cv->nperiods == cv->pcap) {
		cv->pcap = cv->pcap ? 2 * cv->pcap : 16;
		cv->periods = xreallocarray(cv->periods, cv->pcap,
		    sizeof(*cv->periods));
	}
	cv->periods[cv->nperiods++] = xstrdup(period);
	return 0;
}

static int
city_cmp(const void *a, const void *b)
{
	return memcmp(((const struct cov_city *)a)->id, ((const struct cov_city *)b)->id, 32);
}

static struct cov_city *
find_city(struct cov *cv, const uint8_t id[32])
{
	struct cov_city key;

	memcpy(key.id, id, 32);
	return cv->ncities == 0 ? NULL :
	    bsearch(&key, cv->cities, cv->ncities, sizeof(key), city_cmp);
}

static struct cov_city *
add_city(struct cov *cv, const uint8_t id[32], const char *name,
    const char *country, const char *state)
{
	struct cov_city *c;

	if (cv->ncities == cv->cap) {
		cv->cap = cv->cap ? 2 * cv->cap : 64;
		cv->cities = xreallocarray(cv->cities, cv->cap, sizeof(*cv->cities));
	}
	c = &cv->cities[cv->ncities++];
	memset(c, 0, sizeof(*c));
	memcpy(c->id, id, 32);
	c->name = name != NULL && *name != '\0' ? xstrdup(name) : NULL;
	c->country = country != NULL && *country != '\0' ? xstrdup(country) : NULL;
	c->state = state;
	return c;
}

static int
profile_city(void *arg, const uint8_t head[32], const Lcf__CityProfile *p)
{
	add_city(arg, head, p->name, p->country, "open");
	return 0;
}

/* The cities to cover: a federation's members in force, or every city with
 * a profile on an open node. */
static int
gather_cities(struct cov *cv, struct view_error *e)
{
	struct member_info *m = NULL;
	size_t count = 0, i;
	char name[201], why[256];
	int rc = 0;

	if (members_enabled(cv->n)) {
		if ((rc = members_list(cv->n, &m, &count, name, sizeof(name))) != 0)
			return view_fail(e, rc, 500, NULL, "the members cannot be listed");
		for (i = 0; i < count; i++) {
			/* An observer is no city (PROTOCOL 5.8). */
			if (m[i].revoked || m[i].has_successor || m[i].observer)
				continue;
			add_city(cv, m[i].city, m[i].name, m[i].country,
			    members_link_ok(cv->n, m[i].city, why, sizeof(why)) == 0 ?
			    "admitted" : m[i].admitted ? "expired" : "withdrawn");
		}
		free(m);
	} else if ((rc = view_profiles(cv->n, cv->lin, profile_city, cv)) != 0) {
		return view_fail(e, rc, 500, NULL, "the database cannot be read");
	}
	if (cv->ncities > 1)
		qsort(cv->cities, cv->ncities, sizeof(*cv->cities), city_cmp);
	for (i = 0; i < cv->ncities; i++) {
		size_t k;

		cv->cities[i].cell = xreallocarray(NULL, cv->cat->n ? cv->cat->n : 1,
		    sizeof(long));
		for (k = 0; k < cv->cat->n; k++)
			cv->cities[i].cell[k] = -1;
	}
	return 0;
}

static int
value_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct cov *cv = arg;
	struct record rec;
	const Lcf__IndicatorValue *iv;
	struct cov_city *city;
	struct cov_value *v;
	struct period p;
	uint8_t head[32];
	long k;

	if (record_open_stored(raw, len, id, &rec) != 0)
		return 0;
	iv = rec.c->indicator;
	if (rec.c->deleted || iv == NULL || iv->indicator == NULL ||
	    (k = catalog_index(cv->cat, iv->indicator)) < 0 ||
	    period_parse(iv->period, &p, NULL) != 0 ||
	    !period_overlaps(&p, &cv->want))
		goto out;
	lineage_head(cv->lin, rec.c->author.data, head);
	if ((city = find_city(cv, head)) == NULL)
		goto out;
	/* The newest period wins, then the newest record; a value replaced
	 * gives its slot to the winner. */
	if (city->cell[k] >= 0) {
		v = &cv->vals[city->cell[k]];
		if (v->last > p.last || (v->last == p.last &&
		    v->timestamp >= rec.c->timestamp))
			goto out;
		free(v->period);
		free(v->unit);
	} else {
		city->reported++;
		if (cv->nvals == cv->vcap) {
			cv->vcap = cv->vcap ? 2 * cv->vcap : 256;
			cv->vals = xreallocarray(cv->vals, cv->vcap,
			    sizeof(*cv->vals));
		}
		city->cell[k] = (long)cv->nvals;
		v = &cv->vals[cv->nvals++];
	}
	memcpy(v->rec, id, 32);
	v->period = xstrdup(iv->period);
	v->last = p.last;
	v->value = iv->value;
	v->timestamp = rec.c->timestamp;
	v->unit = iv->unit != NULL ? xstrdup(iv->unit) : NULL;
out:
	record_release(&rec);
	return 0;
}

/*
 * The answer, written as JSON text with yajl's generator as the matrix is
 * walked: no tree of ~60,000 values is built, dumped and freed (that took
 * three fifths of the time at 1,000 cities). Keys and order as
 * docs/openapi.json's Coverage says.
 */
#define G_STR(g, s) yajl_gen_string((g), (const unsigned char *)(s), strlen(s))

static void
g_str_or_null(yajl_gen g, const char *s)
{
	if (s != NULL)
		G_STR(g, s);
	else
		yajl_gen_null(g);
}

/* A string that needs no escaping (hex digits, or a catalog id: 1 to 64 of
 * [A-Za-z0-9._-], validate.c), written as it is: yajl_gen_number puts its
 * text in place unchanged, with the commas and indentation of its place,
 * where yajl_gen_string would look at every byte for escapes (a fifth of
 * the answer's time with --missing: 38,835 ids). Values only (yajl wants
 * keys through yajl_gen_string). */
static void
g_plain(yajl_gen g, const char *s, size_t len)
{
	char buf[2 + 64 + 1];

	if (len > 64) {
		yajl_gen_string(g, (const unsigned char *)s, len);
		return;
	}
	buf[0] = '"';
	memcpy(buf + 1, s, len);
	buf[len + 1] = '"';
	yajl_gen_number(g, buf, len + 2);
}

static void
g_hex(yajl_gen g, const uint8_t *b)
{
	char hex[65];

	g_plain(g, hex_encode(b, 32, hex), 64);
}

static void
g_int(yajl_gen g, const char *key, size_t v)
{
	G_STR(g, key);
	yajl_gen_integer(g, (long long)v);
}

/* As jansson writes a real (17 significant digits, a ".0" when they
 * read as a whole number), so that the answer is the same text it was;
 * null for what JSON cannot hold. */
static void
g_real(yajl_gen g, double d)
{
	char buf[40];
	int len;

	if (!isfinite(d)) {
		yajl_gen_null(g);
		return;
	}
	len = snprintf(buf, sizeof(buf) - 2, "%.17g", d);
	if (strpbrk(buf, ".eE") == NULL) {
		buf[len++] = '.';
		buf[len++] = '0';
	}
	yajl_gen_number(g, buf, (size_t)len);
}

static int
wanted(const struct cov *cv, size_t k)
{
	return cv->only == NULL || strcmp(cv->only, cv->cat->items[k]->id) == 0;
}

static void
write_value(yajl_gen g, const struct cov_value *v)
{
	yajl_gen_map_open(g);
	G_STR(g, "period");
	G_STR(g, v->period);
	G_STR(g, "value");
	g_real(g, v->value);
	if (v->unit != NULL) {
		G_STR(g, "unit");
		G_STR(g, v->unit);
	}
	G_STR(g, "record");
	g_hex(g, v->rec);
	yajl_gen_map_close(g);
}

/* A city's row: its values (with values), what it has not reported (with
 * missing). */
static void
write_city(yajl_gen g, const struct cov *cv, const struct cov_city *c,
    int missing)
{
	size_t k;

	yajl_gen_map_open(g);
	G_STR(g, "id");
	g_hex(g, c->id);
	G_STR(g, "name");
	g_str_or_null(g, c->name);
	G_STR(g, "country");
	g_str_or_null(g, c->country);
	G_STR(g, "membership");
	G_STR(g, c->state);
	g_int(g, "reported", c->reported);
	if (cv->values) {
		G_STR(g, "values");
		yajl_gen_map_open(g);
		for (k = 0; k < cv->cat->n; k++) {
			if (c->cell[k] < 0 || !wanted(cv, k))
				continue;
			G_STR(g, cv->cat->items[k]->id);
			write_value(g, &cv->vals[c->cell[k]]);
		}
		yajl_gen_map_close(g);
	}
	if (missing) {
		G_STR(g, "missing");
		yajl_gen_array_open(g);
		for (k = 0; k < cv->cat->n; k++)
			if (c->cell[k] < 0 && wanted(cv, k))
				g_plain(g, cv->cat->items[k]->id,
				    strlen(cv->cat->items[k]->id));
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
}

static size_t
city_missing(const struct cov *cv, const struct cov_city *c)
{
	size_t k, m = 0;

	for (k = 0; k < cv->cat->n; k++)
		m += c->cell[k] < 0 && wanted(cv, k);
	return m;
}

static void
write_indicators(yajl_gen g, const struct cov *cv, size_t *reported,
    size_t *nind)
{
	size_t k, i, cnt;

	G_STR(g, "indicators");
	yajl_gen_array_open(g);
	for (k = 0; k < cv->cat->n; k++) {
		const Lcf__CatalogIndicator *ci = cv->cat->items[k];

		if (!wanted(cv, k))
			continue;
		for (cnt = 0, i = 0; i < cv->ncities; i++)
			cnt += cv->cities[i].cell[k] >= 0;
		yajl_gen_map_open(g);
		G_STR(g, "id");
		G_STR(g, ci->id);
		G_STR(g, "name");
		G_STR(g, ci->name ? ci->name : "");
		G_STR(g, "sub_area");
		G_STR(g, ci->sub_area ? ci->sub_area : "");
		g_int(g, "reported", cnt);
		g_int(g, "missing", cv->ncities - cnt);
		yajl_gen_map_close(g);
		*reported += cnt;
		(*nind)++;
	}
	yajl_gen_array_close(g);
}

static void
write_answer(yajl_gen g, struct cov *cv, const char *period, int missing)
{
	size_t i, reported = 0, nind = 0;
	long only = cv->only != NULL ? catalog_index(cv->cat, cv->only) : -1;

	yajl_gen_map_open(g);
	G_STR(g, "period");
	G_STR(g, period);
	G_STR(g, "catalog");
	G_STR(g, cv->cat->source ? cv->cat->source : "");
	write_indicators(g, cv, &reported, &nind);
	G_STR(g, "cities");
	yajl_gen_array_open(g);
	for (i = 0; i < cv->ncities; i++) {
		struct cov_city *c = &cv->cities[i];

		if (only >= 0)
			c->reported = c->cell[only] >= 0;
		if (missing && city_missing(cv, c) == 0)
			continue;
		write_city(g, cv, c, missing);
	}
	yajl_gen_array_close(g);
	G_STR(g, "totals");
	yajl_gen_map_open(g);
	g_int(g, "cities", cv->ncities);
	g_int(g, "indicators", nind);
	g_int(g, "reported", reported);
	g_int(g, "expected", cv->ncities * nind);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
}

/* The text of the answer. yajl is not asked to check UTF-8: every string
 * here was checked on its way in (record validation, the catalog's file). */
/* yajl's buffer in huge pages once it passes a megabyte (xmalloc.h). */
static void *
g_malloc(void *ctx, size_t size)
{
	(void)ctx;
	return xmalloc_big(size);
}

static void *
g_realloc(void *ctx, void *p, size_t size)
{
	(void)ctx;
	return xrealloc_big(p, p != NULL ? malloc_usable_size(p) : 0, size);
}

static void
g_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static yajl_alloc_funcs g_alloc = { g_malloc, g_realloc, g_free, NULL };

static int
write_text(struct cov *cv, const char *period, int missing, int indent,
    char **text, size_t *len, struct view_error *e)
{
	yajl_gen g = yajl_gen_alloc(&g_alloc);
	const unsigned char *buf;
	yajl_gen_status st;

	if (g == NULL)
		return view_fail(e, LCF_ENOMEM, 500, NULL, "out of memory");
	if (indent) {
		yajl_gen_config(g, yajl_gen_beautify, 1);
		yajl_gen_config(g, yajl_gen_indent_string, "  ");
	}
	write_answer(g, cv, period, missing);
	/* Room for a newline and a NUL: the HTTP answer ends with one. */
	if ((st = yajl_gen_get_buf(g, &buf, len)) != yajl_gen_status_ok ||
	    (*text = malloc_big(*len + 2)) == NULL) {
		yajl_gen_free(g);
		return view_fail(e, LCF_EIO, 500, NULL, "the coverage cannot be "
		    "written as JSON (yajl status %d)", (int)st);
	}
	memcpy(*text, buf, *len);
	(*text)[*len] = '\0';
	yajl_gen_free(g);
	return 0;
}

static void
cov_free(struct cov *cv)
{
	size_t i;

	for (i = 0; i < cv->ncities; i++) {
		free(cv->cities[i].name);
		free(cv->cities[i].country);
		free(cv->cities[i].cell);
	}
	for (i = 0; i < cv->nvals; i++) {
		free(cv->vals[i].period);
		free(cv->vals[i].unit);
	}
	for (i = 0; i < cv->nperiods; i++)
		free(cv->periods[i]);
	free(cv->periods);
	free(cv->cities);
	free(cv->vals);
	lineage_free(cv->lin);
}

int
view_coverage_text(struct node *n, const json_t *args, unsigned flags,
    int indent, char **text, size_t *len, struct view_error *e)
{
	const char *period = view_arg(args, "period"), *why;
	struct store_query q;
	struct cov cv;
	size_t i;
	int missing, truncated, rc;

	(void)flags;
	memset(&cv, 0, sizeof(cv));
	if (period == NULL)
		return view_fail(e, LCF_EINVAL, 400, "period", "period: give the "
		    "reporting period to cover, such as 2024");
	if (period_parse(period, &cv.want, &why) != 0)
		return view_fail(e, LCF_EINVAL, 400, "period", "period '%s': %s",
		    period, why);
	if ((rc = view_arg_bool(args, "missing", &missing, e)) != 0)
		return rc;
	/* values=false: the totals and what is missing, not each value (what
	 * lcctl's tables print: a tenth of the bytes at 1,000 cities). */
	if (view_arg(args, "values") == NULL)
		cv.values = 1;
	else if ((rc = view_arg_bool(args, "values", &cv.values, e)) != 0)
		return rc;
	cv.n = n;
	cv.cat = n->catalog;
	cv.only = view_arg(args, "indicator");
	if (cv.only != NULL && catalog_find(cv.cat, cv.only) == NULL)
		return view_fail(e, LCF_EINVAL, 400, "indicator", "indicator '%s' is "
		    "not in the catalog in force (`lcctl catalog list`)", cv.only);
	cv.lin = lineage_snapshot(n);
	if ((rc = gather_cities(&cv, e)) != 0)
		goto done;
	/* Only the values of periods that overlap the one asked are read: the
	 * index names every period held. */
	if ((rc = store_periods(n->store, LCF__KIND__KIND_INDICATOR, keep_period,
	    &cv)) != 0) {
		rc = view_fail(e, rc, 500, NULL, "the database cannot be read");
		goto done;
	}
	for (i = 0; i < cv.nperiods; i++) {
		memset(&q, 0, sizeof(q));
		q.kind = LCF__KIND__KIND_INDICATOR;
		q.indicator = cv.only;
		q.period = cv.periods[i];
		if ((rc = store_query(n->store, &q, value_visit, &cv,
		    &truncated)) != 0) {
			rc = view_fail(e, rc, 500, NULL, "the database cannot be read");
			goto done;
		}
	}
	rc = write_text(&cv, period, missing, indent, text, len, e);
done:
	cov_free(&cv);
	return rc;
}

/* The matrix, or the pairs not reported, as flat rows for csvout. */
json_t *
view_coverage_rows(const json_t *cov, int missing)
{
	json_t *rows = json_array(), *row;
	const json_t *c, *x;
	size_t i, k;

	json_array_foreach(json_object_get(cov, "cities"), i, c) {
		if (missing) {
			json_array_foreach(json_object_get(c, "missing"), k, x)
				json_array_append_new(rows, json_pack("{s:O, s:O, s:O, "
				    "s:O, s:O}", "city_id", json_object_get(c, "id"),
				    "city", json_object_get(c, "name"),
				    "country", json_object_get(c, "country"),
				    "period", json_object_get(cov, "period"),
				    "indicator", x));
			continue;
		}
		row = json_pack("{s:O, s:O, s:O, s:O, s:O}",
		    "city_id", json_object_get(c, "id"),
		    "city", json_object_get(c, "name"),
		    "country", json_object_get(c, "country"),
		    "membership", json_object_get(c, "membership"),
		    "reported", json_object_get(c, "reported"));
		/* Every indicator a column, in the catalog's order, empty where
		 * nothing was reported. */
		json_array_foreach(json_object_get(cov, "indicators"), k, x) {
			const char *id = json_string_value(json_object_get(x, "id"));
			json_t *v = json_object_get(json_object_get(
			    json_object_get(c, "values"), id), "value");

			json_object_set(row, id, v != NULL ? v : json_null());
		}
		json_array_append_new(rows, row);
	}
	return rows;
}
