// SPDX-License-Identifier: Apache-2.0
// View "report": the draft of a city's progress report for a reporting cycle
// (profile, each catalog indicator's latest value and its change, practices
// published by KFLC sub-area, indicators not reported), as JSON or Markdown.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/codes.h"
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
#include "view/city.h"
#include "view/records.h"
#include "view/report.h"
#include "view/view.h"

/* One indicator value of the city in the catalog in force. */
struct rep_value {
	size_t k;                     /* its catalog index */
	struct period p;
	char *period, *unit;
	double value;
	int64_t timestamp;
	uint8_t rec[32];
};

struct rep {
	struct node *n;
	const struct catalog *cat;
	struct view_records r;
	uint8_t line[LINEAGE_MAX][32];
	size_t nline;
	int from, to;                 /* the cycle, calendar years */
	struct period cycle;
	int64_t from_ms, until_ms;    /* its first and past-its-last instant */
	struct rep_value *vals;
	size_t nvals, cap;
	json_t *areas;                /* sub-area id -> array of practices */
	size_t npractices;            /* in the cycle */
	size_t nall;                  /* any time */
	json_t *profile;              /* the profile record, or NULL */
};

static int
value_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct rep *rp = arg;
	const Lcf__IndicatorValue *iv;
	struct rep_value *v;
	struct record rec;
	struct period p;
	long k;

	if (record_open(raw, len, 0, &rec) != 0)
		return 0;
	iv = rec.c->indicator;
	if (rec.c->deleted || iv == NULL || iv->indicator == NULL ||
	    (k = catalog_index(rp->cat, iv->indicator)) < 0 ||
	    period_parse(iv->period, &p, NULL) != 0)
		goto out;
	if (rp->nvals == rp->cap) {
		rp->cap = rp->cap ? 2 * rp->cap : 64;
		rp->vals = xreallocarray(rp->vals, rp->cap, sizeof(*rp->vals));
	}
	v = &rp->vals[rp->nvals++];
	v->k = (size_t)k;
	v->p = p;
	v->period = xstrdup(iv->period);
	v->unit = iv->unit != NULL ? xstrdup(iv->unit) : NULL;
	v->value = iv->value;
	v->timestamp = rec.c->timestamp;
	memcpy(v->rec, id, 32);
out:
	record_release(&rec);
	return 0;
}

static int
practice_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct rep *rp = arg;
	const Lcf__Practice *pr;
	struct record rec;
	json_t *item, *list;
	size_t i;

	if (record_open(raw, len, 0, &rec) != 0)
		return 0;
	pr = rec.c->practice;
	if (!rec.c->deleted && pr != NULL)
		rp->nall++;
	if (rec.c->deleted || pr == NULL || rec.c->timestamp < rp->from_ms ||
	    rec.c->timestamp >= rp->until_ms)
		goto out;
	rp->npractices++;
	item = json_object();
	json_object_set_new(item, "id", view_hex(id, 32));
	json_object_set_new(item, "key", json_string(rec.c->key ? rec.c->key : ""));
	json_object_set_new(item, "title", json_string(pr->title ? pr->title : ""));
	json_object_set_new(item, "language", pr->language ?
	    json_string(pr->language) : json_null());
	json_object_set_new(item, "published_ms", json_integer(rec.c->timestamp));
	/* A practice in several sub-areas is listed under each. */
	for (i = 0; i < pr->n_kflc_areas; i++) {
		if (!code_subarea_valid(pr->kflc_areas[i]))
			continue;
		if ((list = json_object_get(rp->areas, pr->kflc_areas[i])) == NULL) {
			list = json_array();
			json_object_set_new(rp->areas, pr->kflc_areas[i], list);
		}
		json_array_append(list, item);
	}
	json_decref(item);
out:
	record_release(&rec);
	return 0;
}

static int
profile_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct rep *rp = arg;
	struct record rec;

	if (record_open(raw, len, 0, &rec) != 0)
		return 0;
	if (!rec.c->deleted && rec.c->city != NULL && rp->profile == NULL)
		rp->profile = view_record_json(&rp->r, id, rec.c);
	record_release(&rec);
	return 0;
}

/* Reads the city's profile, its values and its practices. */
static int
gather(struct rep *rp)
{
	struct store_query q;
	int truncated, rc = 0;
	size_t i;

	for (i = rp->nline; i-- > 0 && rp->profile == NULL;)
		store_get_current(rp->n->store, rp->line[i], LCF__KIND__KIND_CITY,
		    "profile", profile_visit, rp);
	memset(&q, 0, sizeof(q));
	q.author = rp->line[0];
	q.authors = (const uint8_t (*)[32])rp->line + 1;
	q.nauthors = rp->nline - 1;
	q.kind = LCF__KIND__KIND_INDICATOR;
	if ((rc = store_query(rp->n->store, &q, value_visit, rp, &truncated)) != 0)
		return rc;
	q.kind = LCF__KIND__KIND_PRACTICE;
	return store_query(rp->n->store, &q, practice_visit, rp, &truncated);
}

static json_t *
value_json(const struct rep_value *v)
{
	json_t *j = json_object();

	json_object_set_new(j, "period", json_string(v->period));
	json_object_set_new(j, "value", json_real(v->value));
	json_object_set_new(j, "unit", v->unit ? json_string(v->unit) : json_null());
	json_object_set_new(j, "record", view_hex(v->rec, 32));
	return j;
}

/* Whether a is the later of two values of one indicator: the later period's
 * end, then the longer period, then the newer record. */
static int
later(const struct rep_value *a, const struct rep_value *b)
{
	if (a->p.last != b->p.last)
		return a->p.last > b->p.last;
	if (a->p.first != b->p.first)
		return a->p.first < b->p.first;
	return a->timestamp > b->timestamp;
}

/* Catalog indicator k: the latest value whose period overlaps the cycle,
 * the latest before it (its period ending before the latest's begins, in the
 * cycle or not) and the change between them. */
static json_t *
indicator_json(const struct rep *rp, size_t k, int *reported)
{
	const Lcf__CatalogIndicator *ci = rp->cat->items[k];
	const struct rep_value *latest = NULL, *prev = NULL, *v;
	json_t *j = json_object();
	size_t i;

	for (i = 0; i < rp->nvals; i++) {
		v = &rp->vals[i];
		if (v->k == k && period_overlaps(&v->p, &rp->cycle) &&
		    (latest == NULL || later(v, latest)))
			latest = v;
	}
	for (i = 0; latest != NULL && i < rp->nvals; i++) {
		v = &rp->vals[i];
		if (v->k == k && v->p.last < latest->p.first &&
		    (prev == NULL || later(v, prev)))
			prev = v;
	}
	json_object_set_new(j, "id", json_string(ci->id));
	json_object_set_new(j, "name", json_string(ci->name ? ci->name : ""));
	json_object_set_new(j, "sub_area", json_string(ci->sub_area ?
	    ci->sub_area : ""));
	json_object_set_new(j, "unit", ci->unit ? json_string(ci->unit) :
	    json_null());
	json_object_set_new(j, "latest", latest ? value_json(latest) : json_null());
	json_object_set_new(j, "previous", prev ? value_json(prev) : json_null());
	json_object_set_new(j, "change", latest && prev ?
	    json_real(latest->value - prev->value) : json_null());
	*reported = latest != NULL;
	return j;
}

/* The practices grouped in the order of the KFLC sub-areas. */
static json_t *
practices_json(const struct rep *rp)
{
	const char *list = code_subarea_list(), *p, *end;
	json_t *groups = json_array(), *j, *g, *items;
	char id[16];

	for (p = list; *p != '\0'; p = end) {
		while (*p == ' ')
			p++;
		end = p + strcspn(p, " ");
		if (end == p || (size_t)(end - p) >= sizeof(id))
			break;
		memcpy(id, p, (size_t)(end - p));
		id[end - p] = '\0';
		if ((items = json_object_get(rp->areas, id)) == NULL)
			continue;
		g = json_object();
		json_object_set_new(g, "area", json_string(id));
		json_object_set_new(g, "name", json_string(code_subarea_name(id) ?
		    code_subarea_name(id) : ""));
		json_object_set(g, "items", items);
		json_array_append_new(groups, g);
	}
	j = json_object();
	json_object_set_new(j, "total", json_integer((json_int_t)rp->npractices));
	json_object_set_new(j, "by_area", groups);
	return j;
}

static json_t *
build(struct rep *rp)
{
	json_t *j = view_city_summary(&rp->r, rp->line[0]), *inds = json_array();
	json_t *missing = json_array(), *cycle = json_object(), *o;
	size_t k, reported = 0;
	int got;

	json_object_set_new(cycle, "from", json_integer(rp->from));
	json_object_set_new(cycle, "to", json_integer(rp->to));
	json_object_set_new(cycle, "period", json_sprintf("%04d-01/%04d-12",
	    rp->from, rp->to));
	json_object_set_new(j, "cycle", cycle);
	json_object_set_new(j, "generated_ms", json_integer(now_ms()));
	json_object_set_new(j, "catalog", json_string(rp->cat->source ?
	    rp->cat->source : ""));
	json_object_set_new(j, "profile", rp->profile ? json_incref(rp->profile) :
	    json_null());
	for (k = 0; k < rp->cat->n; k++) {
		o = indicator_json(rp, k, &got);
		if (got) {
			reported++;
		} else {
			json_array_append_new(missing, json_pack("{s:s, s:s, s:s}",
			    "id", rp->cat->items[k]->id,
			    "name", rp->cat->items[k]->name ? rp->cat->items[k]->name : "",
			    "sub_area", rp->cat->items[k]->sub_area ?
			    rp->cat->items[k]->sub_area : ""));
		}
		json_array_append_new(inds, o);
	}
	json_object_set_new(j, "indicators", inds);
	json_object_set_new(j, "practices", practices_json(rp));
	json_object_set_new(j, "not_reported", missing);
	json_object_set_new(j, "totals", json_pack("{s:I, s:I, s:I}",
	    "indicators", (json_int_t)rp->cat->n, "reported", (json_int_t)reported,
	    "practices", (json_int_t)rp->npractices));
	return j;
}

/* Whether the federation has a record of the city (admitted or revoked). */
static int
members_known(struct node *n, const uint8_t city[32])
{
	struct member_info mi;

	return members_enabled(n) && members_get(n, city, &mi) == 0;
}

/* A calendar year argument, or the default when absent. */
static int
year_arg(const json_t *args, const char *name, int *out, struct view_error *e)
{
	const char *s = view_arg(args, name);
	struct period p;

	if (s == NULL)
		return 0;
	if (strlen(s) != 4 || period_parse(s, &p, NULL) != 0)
		return view_fail(e, LCF_EINVAL, 400, name, "%s: '%s' is not a "
		    "calendar year (YYYY, %d..%d)", name, s, PERIOD_YEAR_MIN,
		    PERIOD_YEAR_MAX);
	*out = p.first / 12;
	return 0;
}

static int64_t
year_start_ms(int year)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mday = 1;
	return (int64_t)timegm(&tm) * 1000;
}

/* The cycle from the arguments: both years; one of them, a two-year cycle
 * from or to it; neither, the last two calendar years before this one. */
static int
cycle_args(struct rep *rp, const json_t *args, struct view_error *e)
{
	struct tm tm;
	time_t now = time(NULL);
	int rc;

	rp->from = rp->to = 0;
	if ((rc = year_arg(args, "from", &rp->from, e)) != 0 ||
	    (rc = year_arg(args, "to", &rp->to, e)) != 0)
		return rc;
	if (rp->from == 0 && rp->to == 0) {
		gmtime_r(&now, &tm);
		rp->to = tm.tm_year + 1900 - 1;
	}
	if (rp->from == 0)
		rp->from = rp->to - 1;
	if (rp->to == 0)
		rp->to = rp->from + 1;
	if (rp->from > rp->to)
		return view_fail(e, LCF_EINVAL, 400, "to", "to: %d is before from "
		    "(%d)", rp->to, rp->from);
	rp->cycle.first = rp->from * 12;
	rp->cycle.last = rp->to * 12 + 11;
	rp->from_ms = year_start_ms(rp->from);
	rp->until_ms = year_start_ms(rp->to + 1);
	return 0;
}

static void
rep_free(struct rep *rp)
{
	size_t i;

	for (i = 0; i < rp->nvals; i++) {
		free(rp->vals[i].period);
		free(rp->vals[i].unit);
	}
	free(rp->vals);
	json_decref(rp->areas);
	json_decref(rp->profile);
	view_records_free(&rp->r);
}

int
view_report(struct node *n, const json_t *args, unsigned flags, json_t **out,
    struct view_error *e)
{
	const char *format = view_arg(args, "format");
	struct rep rp;
	json_t *j;
	char *md;
	int rc;

	if (format != NULL && strcmp(format, "json") != 0 &&
	    strcmp(format, "markdown") != 0)
		return view_fail(e, LCF_EINVAL, 400, "format", "format: json or "
		    "markdown, not '%s'", format);
	memset(&rp, 0, sizeof(rp));
	rp.n = n;
	rp.cat = n->catalog;
	rp.areas = json_object();
	view_records_init(&rp.r, n, flags);
	if ((rc = cycle_args(&rp, args, e)) != 0 ||
	    (rc = view_city_resolve(n, rp.r.lin, view_arg(args, "id"), "id",
	    rp.line, &rp.nline, e)) != 0)
		goto out;
	if ((rc = gather(&rp)) != 0) {
		rc = view_fail(e, rc, 500, NULL, "the database cannot be read: %s",
		    lcf_strerror(rc));
		goto out;
	}
	if (rp.profile == NULL && rp.nvals == 0 && rp.nall == 0 &&
	    memcmp(rp.line[rp.nline - 1], n->id->pk, 32) != 0 &&
	    !members_known(n, rp.line[rp.nline - 1])) {
		rc = view_fail(e, LCF_ENOTFOUND, 404, "id", "no city '%s' here",
		    view_arg(args, "id"));
		goto out;
	}
	j = build(&rp);
	if (format != NULL && strcmp(format, "markdown") == 0) {
		md = view_report_markdown(j);
		json_decref(j);
		j = json_pack("{s:s, s:s}", "format", "markdown", "markdown", md);
		free(md);
	}
	*out = j;
out:
	rep_free(&rp);
	return rc;
}
