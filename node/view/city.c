// SPDX-License-Identifier: Apache-2.0
// View "city": one city as partner cities read it (profile, membership,
// records by kind, its newest practices and indicator values, and the values
// of the latest period it reported), the same for lcctl and the HTTP API.
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "core/lineage.h"
#include "core/member.h"
#include "core/node.h"
#include "model/identity.h"
#include "model/kinds.h"
#include "model/period.h"
#include "model/record.h"
#include "store/store.h"
#include "view/city.h"
#include "view/records.h"
#include "view/view.h"

#define CITY_PAGE 50

int
view_city_resolve(struct node *n, const struct lineage *lin, const char *hex,
    const char *param, uint8_t line[LINEAGE_MAX][32], size_t *nline,
    struct view_error *e)
{
	uint8_t author[32];
	int rc;

	if (hex == NULL)
		return view_fail(e, LCF_EINVAL, 400, param, "%s: give a city id (64 "
		    "hex digits, or a unique prefix of at least 6)", param);
	if (!hex_is_prefix(hex) || strlen(hex) < 6)
		return view_fail(e, LCF_EINVAL, 400, param, "'%s' is not a city id "
		    "(64 hex digits, or a unique prefix of at least 6)", hex);
	if (strlen(hex) == 64) {
		hex_decode(hex, author, 32);
	} else if ((rc = store_resolve_author(n->store, hex, author)) != 0) {
		if (rc == LCF_EAMBIGUOUS)
			return view_fail(e, LCF_EINVAL, 400, param, "'%s' matches "
			    "several cities: give more digits", hex);
		return view_fail(e, LCF_ENOTFOUND, 404, param, "no city '%s' here",
		    hex);
	}
	*nline = lineage_line(lin, author, line);
	return 0;
}

const char *
view_city_state(struct node *n, const uint8_t city[32])
{
	struct member_info mi;
	char why[256];

	if (!members_enabled(n))
		return "open";
	if (members_get(n, city, &mi) != 0)
		return "none";
	return mi.revoked ? "revoked" : members_link_ok(n, city, why,
	    sizeof(why)) == 0 ? "admitted" : mi.admitted ? "expired" : "none";
}

json_t *
view_city_membership(struct node *n, const uint8_t city[32])
{
	struct member_info mi;
	json_t *j = json_object();

	json_object_set_new(j, "state", json_string(view_city_state(n, city)));
	if (!members_enabled(n) || members_get(n, city, &mi) != 0)
		return j;
	if (mi.admitted) {
		json_object_set_new(j, "admitted_ms", json_integer(mi.admitted_ms));
		if (mi.expires_ms != 0)
			json_object_set_new(j, "expires_ms", json_integer(mi.expires_ms));
	}
	if (mi.revoked) {
		json_object_set_new(j, "revoked_ms", json_integer(mi.revoked_ms));
		json_object_set_new(j, "reason", json_string(mi.reason));
	}
	return j;
}

json_t *
view_city_summary(struct view_records *r, const uint8_t author[32])
{
	const char *name = NULL, *country = NULL;
	uint8_t line[LINEAGE_MAX][32];
	size_t nline, i;
	json_t *j = json_object(), *prev;

	nline = lineage_line(r->lin, author, line);
	view_records_name(r, line[nline - 1], &name, &country);
	json_object_set_new(j, "id", view_hex(line[nline - 1], 32));
	json_object_set_new(j, "name", name != NULL ? json_string(name) : json_null());
	json_object_set_new(j, "country", country != NULL ? json_string(country) :
	    json_null());
	json_object_set_new(j, "self", json_boolean(memcmp(line[nline - 1],
	    r->n->id->pk, 32) == 0));
	prev = json_array();
	for (i = 0; i + 1 < nline; i++)
		json_array_append_new(prev, view_hex(line[i], 32));
	json_object_set_new(j, "previous_ids", prev);
	json_object_set_new(j, "membership", view_city_membership(r->n,
	    line[nline - 1]));
	return j;
}

/* What the city answer gathers while it walks the store. */
struct show {
	struct node *n;
	struct view_records r;
	uint8_t line[LINEAGE_MAX][32];
	size_t nline;
	json_t *items;                /* the page (or profile) being read */
	uint64_t count;
	/* the latest period: its bounds, its text and its values */
	struct period best;
	char *best_text;
	json_t *latest;
	struct view_keep *keep;       /* the query's keep function's, or NULL */
};

/* A query of kind over every key of the city's line. */
static void
line_query(struct show *s, struct store_query *q, Lcf__Kind kind)
{
	memset(q, 0, sizeof(*q));
	q->kind = kind;
	q->author = s->line[0];
	q->authors = (const uint8_t (*)[32])s->line + 1;
	q->nauthors = s->nline - 1;
}

static int
count_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	(void)id;
	(void)raw;
	(void)len;
	((struct show *)arg)->count++;
	return 0;
}

static int
item_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct show *s = arg;
	struct record rec;

	if (view_keep_open(s->keep, id, raw, len, &rec) != 0)
		return 0;
	if (!rec.c->deleted && rec.c->has_author && rec.c->author.len == 32)
		json_array_append_new(s->items, view_record_json(&s->r, id, rec.c));
	record_release(&rec);
	return 0;
}

/* A later period wins; of two ending together, the longer one (a year over
 * its last quarter). */
static int
period_later(const struct period *a, const char *at, const struct period *b,
    const char *bt)
{
	if (a->last != b->last)
		return a->last > b->last;
	if (a->first != b->first)
		return a->first < b->first;
	return strcmp(at, bt) > 0;
}

static int
latest_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct show *s = arg;
	struct record rec;
	const Lcf__IndicatorValue *iv;
	struct period p;

	if (view_keep_open(s->keep, id, raw, len, &rec) != 0)
		return 0;
	iv = rec.c->indicator;
	if (rec.c->deleted || iv == NULL || iv->period == NULL ||
	    period_parse(iv->period, &p, NULL) != 0)
		goto out;
	if (s->best_text == NULL || period_later(&p, iv->period, &s->best,
	    s->best_text)) {
		free(s->best_text);
		s->best_text = xstrdup(iv->period);
		s->best = p;
		json_array_clear(s->latest);
	} else if (strcmp(iv->period, s->best_text) != 0) {
		goto out;
	}
	json_array_append_new(s->latest, view_record_json(&s->r, id, rec.c));
out:
	record_release(&rec);
	return 0;
}

/* Records of the city by content kind, and their total. */
static json_t *
record_counts(struct show *s, uint64_t *total)
{
	const struct kinds_def *kd;
	struct store_query q;
	json_t *counts = json_object();
	int truncated;
	size_t i;

	*total = 0;
	for (i = 0; (kd = kinds_at(i)) != NULL; i++) {
		if (!(kd->flags & KINDS_CONTENT))
			continue;
		line_query(s, &q, kd->kind);
		s->count = 0;
		store_query(s->n->store, &q, count_visit, s, &truncated);
		json_object_set_new(counts, kd->name, json_integer((json_int_t)s->count));
		*total += s->count;
	}
	return counts;
}

/* The first page of the city's records of kind, {"items", "next", "limit"},
 * next leading to /api/v1/cities/ID/WHAT. Revoked cities' records and
 * versions a later key replaced stay out, as in the lists. */
static int
first_page(struct show *s, Lcf__Kind kind, const char *id, const char *what,
    json_t **out)
{
	struct store_query q;
	struct view_keep ka;
	uint32_t next = 0;
	int truncated = 0, rc;
	json_t *j;

	line_query(s, &q, kind);
	q.limit = CITY_PAGE;
	q.next = &next;
	memset(&ka, 0, sizeof(ka));
	ka.n = s->n;
	ka.lin = s->r.lin;
	ka.revoked = members_any_revoked(s->n);
	if (ka.revoked || !lineage_empty(s->r.lin)) {
		q.keep = view_records_keep;
		q.keep_arg = &ka;
		s->keep = &ka;
	}
	json_decref(s->items);
	s->items = json_array();
	rc = store_query(s->n->store, &q, item_visit, s, &truncated);
	view_keep_drop(&ka);
	s->keep = NULL;
	if (rc != 0)
		return rc;
	j = json_object();
	json_object_set(j, "items", s->items);
	if (!truncated || next == 0)
		json_object_set_new(j, "next", json_null());
	else
		json_object_set_new(j, "next", json_sprintf("/api/v1/cities/%s/%s"
		    "?limit=%d&cursor=%" PRIx32, id, what, CITY_PAGE, next));
	json_object_set_new(j, "limit", json_integer(CITY_PAGE));
	*out = j;
	return 0;
}

/* The current profile under the newest key of the line that has one. */
static json_t *
profile_of(struct show *s)
{
	size_t i;

	json_decref(s->items);
	s->items = json_array();
	for (i = s->nline; i-- > 0 && json_array_size(s->items) == 0;)
		store_get_current(s->n->store, s->line[i], LCF__KIND__KIND_CITY,
		    "profile", item_visit, s);
	return json_array_size(s->items) > 0 ?
	    json_incref(json_array_get(s->items, 0)) : json_null();
}

/* {"period", "items"}: the values of the latest period the city reported
 * (every value whose period is written the same), newest first. */
static int
latest_values(struct show *s, json_t **out)
{
	struct store_query q;
	struct view_keep ka;
	int truncated, rc;

	line_query(s, &q, LCF__KIND__KIND_INDICATOR);
	memset(&ka, 0, sizeof(ka));
	ka.n = s->n;
	ka.lin = s->r.lin;
	ka.revoked = members_any_revoked(s->n);
	q.keep = view_records_keep;
	q.keep_arg = &ka;
	s->keep = &ka;
	s->latest = json_array();
	rc = store_query(s->n->store, &q, latest_visit, s, &truncated);
	view_keep_drop(&ka);
	s->keep = NULL;
	if (rc != 0)
		return rc;
	*out = json_object();
	json_object_set_new(*out, "period", s->best_text != NULL ?
	    json_string(s->best_text) : json_null());
	json_object_set(*out, "items", s->latest);
	return 0;
}

int
view_city(struct node *n, const json_t *args, unsigned flags, json_t **out,
    struct view_error *e)
{
	const char *hex = view_arg(args, "id"), *state, *id;
	struct show s;
	uint64_t total;
	json_t *j = NULL, *profile, *page;
	int rc;

	memset(&s, 0, sizeof(s));
	s.n = n;
	view_records_init(&s.r, n, flags);
	if ((rc = view_city_resolve(n, s.r.lin, hex, "id", s.line, &s.nline,
	    e)) != 0)
		goto out;
	j = view_city_summary(&s.r, s.line[0]);
	json_object_set_new(j, "records", record_counts(&s, &total));
	profile = profile_of(&s);
	json_object_set_new(j, "profile", profile);
	state = json_string_value(json_object_get(json_object_get(j, "membership"),
	    "state"));
	if (json_is_null(profile) && total == 0 && (strcmp(state, "none") == 0 ||
	    strcmp(state, "open") == 0) && memcmp(s.line[s.nline - 1], n->id->pk,
	    32) != 0) {
		rc = view_fail(e, LCF_ENOTFOUND, 404, "id", "no city '%s' here", hex);
		goto out;
	}
	id = json_string_value(json_object_get(j, "id"));
	if ((rc = first_page(&s, LCF__KIND__KIND_PRACTICE, id, "practices",
	    &page)) != 0)
		goto fail;
	json_object_set_new(j, "practices", page);
	if ((rc = first_page(&s, LCF__KIND__KIND_INDICATOR, id, "indicators",
	    &page)) != 0)
		goto fail;
	json_object_set_new(j, "indicators", page);
	if ((rc = latest_values(&s, &page)) != 0)
		goto fail;
	json_object_set_new(j, "latest_indicators", page);
	*out = j;
	j = NULL;
	goto out;
fail:
	rc = view_fail(e, rc, 500, NULL, "the database cannot be read: %s",
	    lcf_strerror(rc));
out:
	json_decref(j);
	json_decref(s.items);
	json_decref(s.latest);
	free(s.best_text);
	view_records_free(&s.r);
	return rc;
}
