// SPDX-License-Identifier: Apache-2.0
// The read-only JSON API under /api/v1/: status, cities, practices, indicator
// values, the catalog, members and peers.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codes.h"
#include "base/error.h"
#include "base/util.h"
#include "base/version.h"
#include "base/xmalloc.h"
#include "control.pb-c.h"
#include "core/lineage.h"
#include "core/member.h"
#include "core/node.h"
#include "core/seq.h"
#include "http/http_int.h"
#include "model/catalog.h"
#include "model/identity.h"
#include "model/kinds.h"
#include "model/pbjson.h"
#include "model/record.h"
#include "net/peer.h"
#include "net/sync.h"
#include "store/store.h"
#include "view/city.h"
#include "view/coverage.h"
#include "view/records.h"
#include "view/view.h"
#include "write/held.h"
#include "openapi_doc.h"

#define LIMIT_DEFAULT 50
#define LIMIT_MAX 500
#define VERSIONS_MAX 500
#define IDS_MAX 200                   /* ids in one list request */

/* What a list answer needs while it walks the store. */
struct view {
	struct http_call *c;
	struct view_records r;        /* names cities, renders records */
	struct lineage *lin;          /* r's */
	json_t *items;
	struct view_keep *keep;       /* the query's keep function's, or NULL */
	int skip_deleted;
	/* versions: the key looked for */
	int kind;
	const char *key;
	size_t found;
};

static void
view_init(struct view *v, struct http_call *c)
{
	memset(v, 0, sizeof(*v));
	v->c = c;
	view_records_init(&v->r, c->n, c->personal ? VIEW_PERSONAL : 0);
	v->lin = v->r.lin;
	v->items = json_array();
}

static void
view_free(struct view *v)
{
	view_records_free(&v->r);
	json_decref(v->items);
}

/* A record of a city the federation revoked, or whose membership expired
 * (listed with include_revoked, or from before), carries "membership":
 * "revoked" or "expired". Returns j. */
static json_t *
mark(struct view *v, json_t *j)
{
	uint8_t city[32];
	const char *hex = json_string_value(json_object_get(j, "city_id")), *st;

	if (!members_enabled(v->c->n) || hex == NULL || strlen(hex) != 64)
		return j;
	hex_decode(hex, city, 32);
	st = view_city_state(v->c->n, city);
	if (strcmp(st, "revoked") == 0 || strcmp(st, "expired") == 0)
		json_object_set_new(j, "membership", json_string(st));
	return j;
}

static int
item_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct view *v = arg;
	struct record rec;

	if (view_keep_open(v->keep, id, raw, len, &rec) != 0)
		return 0;
	if (!(v->skip_deleted && rec.c->deleted) && rec.c->has_author &&
	    rec.c->author.len == 32)
		json_array_append_new(v->items, mark(v, view_record_json(&v->r, id,
		    rec.c)));
	record_release(&rec);
	return 0;
}

static void answer_view(struct http_call *c, const char *name);
static int one_visit(void *arg, const uint8_t id[32], const uint8_t *raw,
    size_t len);

/* ---- parameters ---- */

static int
param_bool(struct http_call *c, const char *name, int *out)
{
	const char *v = answer_param(c, name);

	*out = 0;
	if (v == NULL || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return 0;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || *v == '\0') {
		*out = 1;
		return 0;
	}
	answer_problem(c, 400, name, "%s: expected true or false", name);
	return LCF_EINVAL;
}

static int
param_limit(struct http_call *c, size_t *out)
{
	const char *v = answer_param(c, "limit");
	char *end;
	unsigned long n;

	*out = LIMIT_DEFAULT;
	if (v == NULL)
		return 0;
	n = strtoul(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || n < 1 || n > LIMIT_MAX) {
		answer_problem(c, 400, "limit", "limit: expected a whole number "
		    "from 1 to %d", LIMIT_MAX);
		return LCF_EINVAL;
	}
	*out = n;
	return 0;
}

static int
param_cursor(struct http_call *c, uint32_t *out)
{
	const char *v = answer_param(c, "cursor");
	char *end;
	unsigned long n;

	*out = 0;
	if (v == NULL)
		return 0;
	n = strtoul(v, &end, 16);
	if (*v == '\0' || strlen(v) > 8 || *end != '\0' || hex_digit(*v) < 0 ||
	    n == 0) {
		answer_problem(c, 400, "cursor", "cursor: not a cursor this API "
		    "gave (take the list's \"next\" URL as it is)");
		return LCF_EINVAL;
	}
	*out = (uint32_t)n;
	return 0;
}

/* A city id, or a unique prefix of at least 6 hex digits, to a key with
 * records here. 0, or a problem answered (param names where it came from;
 * NULL: the path, then 404 for an unknown city). */
static int
resolve_city(struct http_call *c, const char *hex, const char *param,
    uint8_t author[32])
{
	int rc;

	if (!hex_is_prefix(hex) || strlen(hex) < 6) {
		answer_problem(c, 400, param != NULL ? param : "id", "'%s' is not a "
		    "city id (64 hex digits, or a unique prefix of at least 6)", hex);
		return LCF_EINVAL;
	}
	if (strlen(hex) == 64) {
		hex_decode(hex, author, 32);
		return 0;
	}
	rc = store_resolve_author(c->n->store, hex, author);
	if (rc == LCF_EAMBIGUOUS)
		answer_problem(c, 400, param != NULL ? param : "id", "'%s' matches "
		    "several cities: give more digits", hex);
	else if (rc != 0)
		answer_problem(c, param != NULL ? 400 : 404, param != NULL ? param : "id",
		    "no city '%s' here", hex);
	return rc;
}

/* Writes s %-escaped for a query string. */
static void
url_escape(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch) != NULL)
			fputc(ch, f);
		else
			fprintf(f, "%%%02X", ch);
	}
}

/* The URL of the page after this one: the same path and parameters, with
 * this cursor. */
static json_t *
next_url(struct http_call *c, uint32_t cursor)
{
	h2o_req_t *req = c->req;
	size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);
	json_t *j;

	fwrite(req->path.base, 1, plen, f);
	fputc('?', f);
	for (i = 0; i < c->nparams; i++) {
		if (strcmp(c->params[i].name, "cursor") == 0)
			continue;
		url_escape(f, c->params[i].name);
		fputc('=', f);
		url_escape(f, c->params[i].value);
		fputc('&', f);
	}
	fprintf(f, "cursor=%" PRIx32, cursor);
	fclose(f);
	j = json_string(buf);
	free(buf);
	return j;
}

/* ---- lists of records ---- */

/* One sdg parameter (1..17) into q: 0, or a problem answered. */
static int
search_sdg(struct http_call *c, struct store_query *q, const char *val)
{
	char *end;
	unsigned long g = strtoul(val, &end, 10);

	if (*val < '0' || *val > '9' || *end != '\0' || g < 1 || g > 17) {
		answer_problem(c, 400, "sdg", "sdg '%s' is not a Sustainable "
		    "Development Goal: a number from 1 to 17", val);
		return LCF_EINVAL;
	}
	if (q->nsdgs == STORE_MAX_TERMS) {
		answer_problem(c, 400, "sdg", "at most %d sdg in one query",
		    STORE_MAX_TERMS);
		return LCF_EINVAL;
	}
	q->sdgs[q->nsdgs++] = (unsigned)g;
	return 0;
}

/* The search parameters lang, since and sort into q: 0, or a problem
 * answered. */
static int
search_params(struct http_call *c, struct store_query *q)
{
	const char *sort = answer_param(c, "sort");

	if ((q->lang = answer_param(c, "lang")) != NULL &&
	    !code_bcp47_valid(q->lang)) {
		answer_problem(c, 400, "lang", "lang '%s' is not a BCP 47 language "
		    "tag, such as sv or pt-BR", q->lang);
		return LCF_EINVAL;
	}
	if ((q->since = answer_param(c, "since")) != NULL &&
	    !store_since_valid(q->since)) {
		answer_problem(c, 400, "since", "since '%s' is not a date "
		    "YYYY-MM-DD", q->since);
		return LCF_EINVAL;
	}
	if ((q->sort = store_sort_parse(sort, answer_param(c, "text"))) < 0) {
		answer_problem(c, 400, "sort", "sort '%s' is not an order: "
		    "relevance or newest", sort);
		return LCF_EINVAL;
	}
	return 0;
}

/* Fills q's filters from the parameters; author (32 bytes) and line hold the
 * city's keys when a city is named (fixed, from the path, or the city
 * parameter). 0, or a problem answered. */
static int
list_filters(struct http_call *c, struct store_query *q, struct view *v,
    const char *fixed_city, uint8_t line[LINEAGE_MAX][32])
{
	const char *city = fixed_city != NULL ? fixed_city : answer_param(c, "city");
	uint8_t author[32];
	size_t i, nline;

	for (i = 0; i < c->nparams; i++) {
		const char *n = c->params[i].name, *val = c->params[i].value;

		if (strcmp(n, "area") == 0) {
			if (!code_subarea_valid(val)) {
				answer_problem(c, 400, "area", "area '%s' is not a KFLC "
				    "sub-area: one of %s", val, code_subarea_list());
				return LCF_EINVAL;
			}
			if (q->nareas == STORE_MAX_TERMS)
				goto too_many;
			q->areas[q->nareas++] = val;
		} else if (strcmp(n, "cluster") == 0) {
			if (!code_cluster_valid(val)) {
				answer_problem(c, 400, "cluster", "cluster '%s' is not a "
				    "cluster: one of %s", val, code_cluster_list());
				return LCF_EINVAL;
			}
			if (q->nclusters == STORE_MAX_TERMS)
				goto too_many;
			q->clusters[q->nclusters++] = val;
		} else if (strcmp(n, "sdg") == 0 && search_sdg(c, q, val) != 0) {
			return LCF_EINVAL;
		}
	}
	if (search_params(c, q) != 0)
		return LCF_EINVAL;
	if ((q->country = answer_param(c, "country")) != NULL &&
	    !code_country_valid(q->country)) {
		answer_problem(c, 400, "country", "country '%s' is not an ISO 3166-1 "
		    "alpha-2 code in capitals, such as SE", q->country);
		return LCF_EINVAL;
	}
	q->text = answer_param(c, "text");
	q->indicator = answer_param(c, "indicator");
	q->period = answer_param(c, "period");
	if (city != NULL) {
		if (resolve_city(c, city, fixed_city != NULL ? NULL : "city",
		    author) != 0)
			return LCF_EINVAL;
		nline = lineage_line(v->lin, author, line);
		q->author = line[0];
		q->authors = (const uint8_t (*)[32])line + 1;
		q->nauthors = nline - 1;
	}
	return 0;
too_many:
	answer_problem(c, 400, NULL, "at most %d areas and %d clusters in one query",
	    STORE_MAX_TERMS, STORE_MAX_TERMS);
	return LCF_EINVAL;
}

/* Runs q (kind and filters set) for one page into {"items", "next",
 * "limit"}; next_path NULL: the next page's URL is the request's own. 0, or a
 * problem answered. */
static int
list_page(struct http_call *c, struct view *v, struct store_query *q,
    int revoked, const char *next_path, json_t **out)
{
	struct view_keep ka;
	char err[STORE_ERROR_MAX] = "";
	uint32_t next = 0;
	int truncated = 0, rc;
	json_t *j;

	q->next = &next;
	q->error = err;
	v->skip_deleted = !q->include_deleted;
	memset(&ka, 0, sizeof(ka));
	ka.n = c->n;
	ka.lin = v->lin;
	ka.revoked = !revoked && members_any_revoked(c->n);
	/* An observer is no city (PROTOCOL 5.8): what it signs is listed
	 * only when asked for by its id. */
	ka.observers = q->author == NULL && members_any_observer(c->n);
	if (ka.revoked || ka.observers || !lineage_empty(v->lin)) {
		q->keep = view_records_keep;
		q->keep_arg = &ka;
		v->keep = &ka;
	}
	/* A page of its own: an earlier one may still be referenced. */
	json_decref(v->items);
	v->items = json_array();
	rc = store_query(c->n->store, q, item_visit, v, &truncated);
	view_keep_drop(&ka);
	v->keep = NULL;
	if (rc == LCF_EINVAL) {
		answer_problem(c, 400, "text", "text: %s", err);
		return rc;
	}
	if (rc != 0) {
		answer_problem(c, 500, NULL, "the database cannot be read: %s",
		    lcf_strerror(rc));
		return rc;
	}
	j = json_object();
	json_object_set(j, "items", v->items);
	if (!truncated || next == 0)
		json_object_set_new(j, "next", json_null());
	else if (next_path == NULL)
		json_object_set_new(j, "next", next_url(c, next));
	else
		json_object_set_new(j, "next", json_sprintf("%s?limit=%zu&cursor=%"
		    PRIx32, next_path, q->limit, next));
	json_object_set_new(j, "limit", json_integer((json_int_t)q->limit));
	*out = j;
	return 0;
}

/* Whether the parameters besides id are only those an id list takes. 0, or
 * a problem answered. */
static int
ids_alone(struct http_call *c)
{
	size_t i;

	for (i = 0; i < c->nparams; i++) {
		const char *n = c->params[i].name;

		if (strcmp(n, "id") != 0 && strcmp(n, "format") != 0) {
			answer_problem(c, 400, "id", "id names the records itself: "
			    "give it without %s (format only may come with it)", n);
			return LCF_EINVAL;
		}
	}
	return 0;
}

/* One id (64 hex digits or a unique prefix of 6 or more) of a record of
 * v->kind appended to v->items: 0, or a problem answered. */
static int
list_one_id(struct http_call *c, struct view *v, const char *ref)
{
	uint8_t id[32];
	size_t before = json_array_size(v->items);
	int rc;

	if (!hex_is_prefix(ref) || strlen(ref) < 6 || strlen(ref) > 64) {
		answer_problem(c, 400, "id", "id '%s' is not a record id (64 hex "
		    "digits, or a unique prefix of at least 6)", ref);
		return LCF_EINVAL;
	}
	if ((rc = store_resolve_id(c->n->store, ref, id)) == 0)
		rc = store_get(c->n->store, id, one_visit, v);
	if (rc == LCF_EAMBIGUOUS) {
		answer_problem(c, 400, "id", "id '%s' matches several records: "
		    "give more digits", ref);
	} else if (rc == 0 && json_array_size(v->items) == before) {
		answer_problem(c, 400, "id", "record '%s' is not a %s", ref,
		    kinds_name(v->kind));
		rc = LCF_EINVAL;
	} else if (rc != 0) {
		answer_problem(c, 404, "id", "no record '%s' here", ref);
	}
	return rc;
}

/* The records the id parameters name (each a list separated by commas), in
 * that order, into v->items: 0, or a problem answered. */
static int
list_ids(struct http_call *c, struct view *v, Lcf__Kind kind)
{
	char *copy, *save = NULL, *ref;
	size_t i, nids = 0;
	int rc = 0;

	v->kind = kind;
	if (ids_alone(c) != 0)
		return LCF_EINVAL;
	for (i = 0; i < c->nparams; i++)
		if (strcmp(c->params[i].name, "id") == 0)
			for (ref = c->params[i].value; ref != NULL; ref = strchr(ref +
			    1, ','))
				nids++;
	if (nids > IDS_MAX) {
		answer_problem(c, 400, "id", "at most %d ids in one request",
		    IDS_MAX);
		return LCF_EINVAL;
	}
	for (i = 0; rc == 0 && i < c->nparams; i++) {
		if (strcmp(c->params[i].name, "id") != 0)
			continue;
		copy = xstrdup(c->params[i].value);
		for (ref = strtok_r(copy, ",", &save); rc == 0 && ref != NULL;
		    ref = strtok_r(NULL, ",", &save))
			rc = list_one_id(c, v, ref);
		free(copy);
	}
	return rc;
}

/* Answers the list j ({"items", ...}) as JSON or, with format=csv, as CSV;
 * takes the reference. */
static void
answer_list(struct http_call *c, Lcf__Kind kind, int csv, json_t *j)
{
	if (csv)
		csv_answer_records(c, (int)kind, json_object_get(j, "items"));
	else
		answer_json(c, 200, json_incref(j));
	json_decref(j);
}

/* Answers a page of the current records of kind that match the request, or
 * the records its id parameters name. */
static void
list_records(struct http_call *c, Lcf__Kind kind, const char *fixed_city,
    const char *const *params)
{
	struct store_query q;
	struct view v;
	uint8_t line[LINEAGE_MAX][32];
	size_t limit;
	int deleted, revoked, csv;
	json_t *j;

	view_init(&v, c);
	memset(&q, 0, sizeof(q));
	if (answer_known_params(c, params) != 0 || csv_param(c, &csv) != 0)
		goto out;
	if (answer_param(c, "id") != NULL) {
		if (list_ids(c, &v, kind) == 0)
			answer_list(c, kind, csv, json_pack("{s:O, s:n}", "items",
			    v.items, "next"));
		goto out;
	}
	if (param_limit(c, &limit) != 0 || param_cursor(c, &q.before) != 0 ||
	    param_bool(c, "include_deleted", &deleted) != 0 ||
	    param_bool(c, "include_revoked", &revoked) != 0 ||
	    list_filters(c, &q, &v, fixed_city, line) != 0)
		goto out;
	q.kind = kind;
	q.limit = limit;
	q.include_deleted = deleted;
	if (list_page(c, &v, &q, revoked, NULL, &j) == 0)
		answer_list(c, kind, csv, j);
out:
	view_free(&v);
}

static const char *const practice_params[] = { "limit", "cursor",
	"include_deleted", "include_revoked", "area", "cluster", "country", "city",
	"text", "lang", "sdg", "since", "sort", "format", "id", NULL };
static const char *const city_practice_params[] = { "limit", "cursor",
	"include_deleted", "include_revoked", "area", "cluster", "country", "city",
	"text", "lang", "sdg", "since", "sort", "format", NULL };
static const char *const indicator_params[] = { "limit", "cursor",
	"include_deleted", "include_revoked", "city", "indicator", "period",
	"format", NULL };

void
api_practices(struct http_call *c)
{
	list_records(c, LCF__KIND__KIND_PRACTICE, NULL, practice_params);
}

void
api_indicators(struct http_call *c)
{
	list_records(c, LCF__KIND__KIND_INDICATOR, NULL, indicator_params);
}

void
api_city_practices(struct http_call *c)
{
	list_records(c, LCF__KIND__KIND_PRACTICE, c->segs[0],
	    city_practice_params);
}

void
api_city_indicators(struct http_call *c)
{
	list_records(c, LCF__KIND__KIND_INDICATOR, c->segs[0], indicator_params);
}

/* ---- one practice and its versions ---- */

static int
one_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct view *v = arg;
	struct record rec;

	if (record_open(raw, len, 0, &rec) != 0)
		return 0;
	if ((int)rec.c->kind == v->kind && rec.c->has_author && rec.c->author.len == 32)
		json_array_append_new(v->items, view_record_json(&v->r, id, rec.c));
	record_release(&rec);
	return 0;
}

/* Finds the practice version the path names into v->items (one). 0, or a
 * problem answered. */
static int
find_practice(struct http_call *c, struct view *v, uint8_t id[32])
{
	const char *ref = c->segs[0];
	int rc;

	if (!hex_is_prefix(ref) || strlen(ref) < 6) {
		answer_problem(c, 400, "id", "'%s' is not a record id (64 hex "
		    "digits, or a unique prefix of at least 6)", ref);
		return LCF_EINVAL;
	}
	v->kind = LCF__KIND__KIND_PRACTICE;
	if ((rc = store_resolve_id(c->n->store, ref, id)) == 0)
		rc = store_get(c->n->store, id, one_visit, v);
	if (rc == LCF_EAMBIGUOUS) {
		answer_problem(c, 400, "id", "'%s' matches several records: give "
		    "more digits", ref);
	} else if (rc == 0 && json_array_size(v->items) == 0) {
		answer_problem(c, 404, "id", "record '%s' is not a practice", ref);
		rc = LCF_ENOTFOUND;
	} else if (rc != 0) {
		answer_problem(c, 404, "id", "no practice '%s' here", ref);
	}
	return rc;
}

void
api_practice(struct http_call *c)
{
	struct view v;
	uint8_t id[32];

	view_init(&v, c);
	if (answer_known_params(c, (const char *const[]){ NULL }) == 0 &&
	    find_practice(c, &v, id) == 0)
		answer_json(c, 200, json_incref(json_array_get(v.items, 0)));
	view_free(&v);
}

static int
version_visit(void *arg, uint64_t seq, const uint8_t id[32], const uint8_t *raw,
    size_t len)
{
	struct view *v = arg;
	struct record rec;

	(void)seq;
	if (record_open(raw, len, 0, &rec) != 0)
		return 0;
	if ((int)rec.c->kind == v->kind && rec.c->key != NULL &&
	    strcmp(rec.c->key, v->key) == 0) {
		v->found++;
		if (json_array_size(v->items) < VERSIONS_MAX)
			json_array_insert_new(v->items, 0, view_record_json(&v->r, id, rec.c));
	}
	record_release(&rec);
	return 0;
}

void
api_practice_versions(struct http_call *c)
{
	struct view v;
	uint8_t id[32], line[LINEAGE_MAX][32];
	const char *key;
	char *keycopy = NULL;
	size_t nline, i;
	json_t *first, *j;

	view_init(&v, c);
	if (answer_known_params(c, (const char *const[]){ NULL }) != 0 ||
	    find_practice(c, &v, id) != 0)
		goto out;
	first = json_array_get(v.items, 0);
	key = json_string_value(json_object_get(first, "key"));
	keycopy = xstrdup(key != NULL ? key : "");
	hex_decode(json_string_value(json_object_get(first, "author")), id, 32);
	json_array_clear(v.items);
	v.key = keycopy;
	/* Every key of the city's line may hold versions of it. */
	nline = lineage_line(v.lin, id, line);
	for (i = 0; i < nline; i++)
		store_scan_author(c->n->store, line[i], 1, NULL, UINT64_MAX,
		    version_visit, &v);
	j = json_object();
	json_object_set(j, "items", v.items);
	json_object_set_new(j, "next", json_null());
	json_object_set_new(j, "total", json_integer((json_int_t)v.found));
	answer_json(c, 200, j);
out:
	free(keycopy);
	view_free(&v);
}

/* ---- cities ---- */

/* One city as the list gives it (view/city.h). */
static json_t *
city_json(struct view *v, const uint8_t author[32])
{
	return view_city_summary(&v->r, author);
}

static int
city_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct view *v = arg;
	struct record rec;
	json_t *j;

	if (view_keep_open(v->keep, id, raw, len, &rec) != 0)
		return 0;
	if (!rec.c->deleted && rec.c->has_author && rec.c->author.len == 32) {
		j = city_json(v, rec.c->author.data);
		json_object_set_new(j, "profile", view_record_json(&v->r, id, rec.c));
		json_array_append_new(v->items, j);
	}
	record_release(&rec);
	return 0;
}

void
api_cities(struct http_call *c)
{
	static const char *const params[] = { "limit", "cursor", "country",
		"include_revoked", NULL };
	struct store_query q;
	struct view_keep ka;
	struct view v;
	uint32_t next = 0;
	size_t limit;
	int truncated = 0, revoked, rc;
	json_t *j;

	view_init(&v, c);
	memset(&q, 0, sizeof(q));
	if (answer_known_params(c, params) != 0 || param_limit(c, &limit) != 0 ||
	    param_cursor(c, &q.before) != 0 ||
	    param_bool(c, "include_revoked", &revoked) != 0)
		goto out;
	if ((q.country = answer_param(c, "country")) != NULL &&
	    !code_country_valid(q.country)) {
		answer_problem(c, 400, "country", "country '%s' is not an ISO 3166-1 "
		    "alpha-2 code in capitals, such as SE", q.country);
		goto out;
	}
	q.kind = LCF__KIND__KIND_CITY;
	q.limit = limit;
	q.next = &next;
	memset(&ka, 0, sizeof(ka));
	ka.n = c->n;
	ka.lin = v.lin;
	ka.revoked = !revoked && members_any_revoked(c->n);
	ka.observers = members_any_observer(c->n);
	q.keep = view_records_keep;
	q.keep_arg = &ka;
	v.keep = &ka;
	rc = store_query(c->n->store, &q, city_visit, &v, &truncated);
	view_keep_drop(&ka);
	v.keep = NULL;
	if (rc != 0) {
		answer_problem(c, 500, NULL, "the database cannot be read");
		goto out;
	}
	j = json_object();
	json_object_set(j, "items", v.items);
	json_object_set_new(j, "next", truncated && next != 0 ?
	    next_url(c, next) : json_null());
	json_object_set_new(j, "limit", json_integer((json_int_t)limit));
	answer_json(c, 200, j);
out:
	view_free(&v);
}

void
api_city(struct http_call *c)
{
	answer_view(c, "city");
}

/* ---- the node, the catalog, members, peers ---- */

/* Reconciliation as a whole (net/sync.h), for operators. */
static json_t *
sync_json(struct node *n)
{
	struct sync_progress_info p;
	json_t *j;

	sync_progress_get(n, &p);
	j = json_pack("{s:I, s:I}", "running", (json_int_t)p.running,
	    "received", (json_int_t)p.received);
	if (p.running > 0) {
		json_object_set_new(j, "expected", json_integer((json_int_t)p.expected));
		json_object_set_new(j, "stored", json_integer((json_int_t)p.stored));
		json_object_set_new(j, "remaining", json_integer((json_int_t)p.remaining));
		json_object_set_new(j, "started_ms", json_integer(p.started_ms));
		json_object_set_new(j, "eta_ms", p.has_eta ?
		    json_integer((json_int_t)p.eta_ms) : json_null());
	}
	return j;
}

void
api_status(struct http_call *c)
{
	struct node *n = c->n;
	const struct kinds_def *kd;
	struct store_stats ss;
	struct peers_summary ps;
	struct view v;
	const char *name, *country;
	char why[256];
	json_t *j, *kinds;
	uint64_t held;
	size_t i;

	if (answer_known_params(c, (const char *const[]){ NULL }) != 0)
		return;
	if (store_stats(n->store, &ss) != 0) {
		answer_problem(c, 500, NULL, "the database cannot be read");
		return;
	}
	view_init(&v, c);
	view_records_name(&v.r, n->id->pk, &name, &country);
	j = json_object();
	json_object_set_new(j, "city_id", view_hex(n->id->pk, 32));
	json_object_set_new(j, "city_name", name != NULL ? json_string(name) : json_null());
	json_object_set_new(j, "version", json_string(LCF_VERSION));
	json_object_set_new(j, "started_ms", json_integer(n->started_ms));
	json_object_set_new(j, "uptime_ms", json_integer((json_int_t)(mono_ms() -
	    n->started_mono)));
	json_object_set_new(j, "records_total", json_integer((json_int_t)ss.records));
	json_object_set_new(j, "authors", json_integer((json_int_t)ss.authors));
	json_object_set_new(j, "forks", json_integer((json_int_t)ss.forks));
	if (store_quarantine_list(n->store, 0, NULL, NULL, &held) == 0)
		json_object_set_new(j, "records_quarantined",
		    json_integer((json_int_t)held));
	json_object_set_new(j, "last_seq", json_integer((json_int_t)(seq_next(n) - 1)));
	kinds = json_object();
	for (i = 0; (kd = kinds_at(i)) != NULL; i++) {
		json_t *k;

		if (!(kd->flags & KINDS_CONTENT) && ss.kinds[kd->kind].current == 0)
			continue;
		k = json_object();
		json_object_set_new(k, "current", json_integer((json_int_t)(
		    ss.kinds[kd->kind].current - ss.kinds[kd->kind].deleted)));
		json_object_set_new(k, "deleted", json_integer((json_int_t)
		    ss.kinds[kd->kind].deleted));
		json_object_set_new(kinds, kd->name, k);
	}
	json_object_set_new(j, "kinds", kinds);
	json_object_set_new(j, "federation", n->cfg.has_federation ?
	    view_hex(n->cfg.federation, 32) : json_null());
	if (members_enabled(n))
		json_object_set_new(j, "membership", json_string(members_link_ok(n,
		    n->id->pk, why, sizeof(why)) == 0 ? "member" : why));
	if (c->operator) {
		peers_summary(n, &ps);
		json_object_set_new(j, "data_dir", json_string(n->cfg.dir));
		json_object_set_new(j, "db_size", json_integer((json_int_t)ss.used_bytes));
		json_object_set_new(j, "db_map_size", json_integer((json_int_t)ss.map_size));
		json_object_set_new(j, "peers_known", json_integer((json_int_t)ps.known));
		json_object_set_new(j, "peers_connected",
		    json_integer((json_int_t)ps.connected));
		json_object_set_new(j, "sync", sync_json(n));
	}
	answer_json(c, 200, j);
	view_free(&v);
}

/* The words of a space-separated code list as a JSON array. */
static json_t *
code_words(const char *list)
{
	json_t *a = json_array();
	const char *p = list, *end;

	while (*p != '\0') {
		end = strchr(p, ' ');
		if (end == NULL)
			end = p + strlen(p);
		json_array_append_new(a, json_stringn(p, (size_t)(end - p)));
		p = *end == ' ' ? end + 1 : end;
	}
	return a;
}

/* The catalog answer j with the codes a practice's filters take: the KFLC
 * sub-areas (id and name) and the clusters. Returns j. */
static json_t *
with_codes(json_t *j)
{
	json_t *ids = code_words(code_subarea_list()), *areas = json_array(), *x;
	size_t i;

	json_array_foreach(ids, i, x)
		json_array_append_new(areas, json_pack("{s:O, s:s}", "id", x, "name",
		    code_subarea_name(json_string_value(x))));
	json_object_set_new(j, "kflc_areas", areas);
	json_object_set_new(j, "clusters", code_words(code_cluster_list()));
	json_decref(ids);
	return j;
}

void
api_catalog(struct http_call *c)
{
	struct catalog *cat = c->n->catalog;
	Lcf__CatalogReply cr = LCF__CATALOG_REPLY__INIT;

	if (answer_known_params(c, (const char *const[]){ NULL }) != 0)
		return;
	cr.indicators = cat->items;
	cr.n_indicators = cat->n;
	cr.source = cat->source;
	if (cat->federation) {
		cr.has_federation = 1;
		cr.federation.data = cat->fed;
		cr.federation.len = 32;
	}
	answer_json(c, 200, with_codes(pbjson_encode(&cr.base)));
}

static json_t *
member_json(struct node *n, const struct member_info *m,
    const struct peer_info *pi, size_t npeers)
{
	json_t *j = json_object();
	char why[256];
	int reachable = memcmp(m->city, n->id->pk, 32) == 0;
	int64_t seen = 0;
	size_t k;

	json_object_set_new(j, "id", view_hex(m->city, 32));
	json_object_set_new(j, "name", m->name[0] ? json_string(m->name) : json_null());
	json_object_set_new(j, "country", m->country[0] ? json_string(m->country) :
	    json_null());
	json_object_set_new(j, "role", json_string(m->observer ? "observer" :
	    "city"));
	json_object_set_new(j, "state", json_string(m->revoked ? "revoked" :
	    members_link_ok(n, m->city, why, sizeof(why)) == 0 ? "admitted" :
	    m->admitted ? "expired" : "withdrawn"));
	if (m->admitted) {
		json_object_set_new(j, "admitted_ms", json_integer(m->admitted_ms));
		json_object_set_new(j, "expires_ms", m->expires_ms != 0 ?
		    json_integer(m->expires_ms) : json_null());
	}
	if (m->revoked) {
		json_object_set_new(j, "revoked_ms", json_integer(m->revoked_ms));
		json_object_set_new(j, "reason", json_string(m->reason));
	}
	if (m->has_successor)
		json_object_set_new(j, "successor", view_hex(m->successor, 32));
	if (m->has_predecessor)
		json_object_set_new(j, "predecessor", view_hex(m->predecessor, 32));
	for (k = 0; k < npeers; k++) {
		if (!pi[k].has_id || memcmp(pi[k].id, m->city, 32) != 0)
			continue;
		if (pi[k].state == PEER_CONNECTED)
			reachable = 1;
		if (pi[k].last_handshake_ms > seen)
			seen = pi[k].last_handshake_ms;
	}
	json_object_set_new(j, "reachable", json_boolean(reachable));
	json_object_set_new(j, "last_handshake_ms", seen > 0 ? json_integer(seen) :
	    json_null());
	json_object_set_new(j, "held", json_integer((json_int_t)held_of(n, m->city)));
	return j;
}

void
api_members(struct http_call *c)
{
	struct node *n = c->n;
	struct member_info *v = NULL;
	struct peer_info *pi = NULL;
	size_t count = 0, npeers = 0, i;
	char name[201];
	json_t *j, *items;

	if (answer_known_params(c, (const char *const[]){ NULL }) != 0)
		return;
	if (members_list(n, &v, &count, name, sizeof(name)) != 0 ||
	    peers_list(n, &pi, &npeers) != 0) {
		answer_problem(c, 500, NULL, "the members cannot be listed");
		goto out;
	}
	items = json_array();
	for (i = 0; i < count; i++)
		json_array_append_new(items, member_json(n, &v[i], pi, npeers));
	j = json_object();
	json_object_set_new(j, "federation", n->cfg.has_federation ?
	    view_hex(n->cfg.federation, 32) : json_null());
	json_object_set_new(j, "federation_name", name[0] ? json_string(name) :
	    json_null());
	json_object_set_new(j, "items", items);
	json_object_set_new(j, "next", json_null());
	answer_json(c, 200, j);
out:
	free(pi);
	free(v);
}

static const char *
peer_state_name(enum peer_state s)
{
	switch (s) {
	case PEER_CONNECTED: return "connected";
	case PEER_CONNECTING: return "connecting";
	case PEER_RETRYING: return "retrying";
	default: return "disconnected";
	}
}

void
api_peers(struct http_call *c)
{
	struct peer_info *pi = NULL;
	size_t n = 0, i;
	json_t *items, *p, *j;

	if (answer_known_params(c, (const char *const[]){ NULL }) != 0)
		return;
	if (peers_list(c->n, &pi, &n) != 0) {
		answer_problem(c, 500, NULL, "the peers cannot be listed");
		return;
	}
	items = json_array();
	for (i = 0; i < n; i++) {
		p = json_object();
		json_object_set_new(p, "id", pi[i].has_id ? view_hex(pi[i].id, 32) :
		    json_null());
		json_object_set_new(p, "address", pi[i].address[0] ?
		    json_string(pi[i].address) : json_null());
		json_object_set_new(p, "remote", pi[i].remote[0] ?
		    json_string(pi[i].remote) : json_null());
		json_object_set_new(p, "city_name", pi[i].city_name[0] ?
		    json_string(pi[i].city_name) : json_null());
		json_object_set_new(p, "state", json_string(peer_state_name(pi[i].state)));
		json_object_set_new(p, "inbound", json_boolean(pi[i].inbound));
		json_object_set_new(p, "discovered", json_boolean(pi[i].discovered));
		json_object_set_new(p, "since_ms", json_integer(pi[i].since_ms));
		json_object_set_new(p, "last_handshake_ms", json_integer(pi[i].last_handshake_ms));
		json_object_set_new(p, "rtt_ms", pi[i].rtt_ms >= 0 ?
		    json_integer(pi[i].rtt_ms) : json_null());
		json_object_set_new(p, "bytes_in", json_integer((json_int_t)pi[i].bytes_in));
		json_object_set_new(p, "bytes_out", json_integer((json_int_t)pi[i].bytes_out));
		json_object_set_new(p, "records_in", json_integer((json_int_t)pi[i].records_in));
		json_object_set_new(p, "records_out", json_integer((json_int_t)pi[i].records_out));
		json_object_set_new(p, "last_error", pi[i].last_error[0] ?
		    json_string(pi[i].last_error) : json_null());
		json_object_set_new(p, "sync_running", json_boolean(pi[i].sync_running));
		json_object_set_new(p, "last_sync_ms", pi[i].last_sync_ms > 0 ?
		    json_integer(pi[i].last_sync_ms) : json_null());
		json_object_set_new(p, "last_sync_result", pi[i].last_sync_ms > 0 ?
		    json_string(pi[i].last_sync_result == 0 ? "ok" :
		    lcf_strerror(pi[i].last_sync_result)) : json_null());
		json_array_append_new(items, p);
	}
	free(pi);
	j = json_object();
	json_object_set_new(j, "items", items);
	json_object_set_new(j, "next", json_null());
	answer_json(c, 200, j);
}

void
api_openapi(struct http_call *c)
{
	if (answer_known_params(c, (const char *const[]){ NULL }) != 0)
		return;
	answer_text(c, 200, "application/json", openapi_doc, sizeof(openapi_doc) - 1);
}

/* A view that answers {"format": "markdown", "markdown": TEXT} (a report
 * asked with format=markdown) is sent as the document: 0, the reference
 * taken. Else LCF_EINVAL and out left alone. */
static int
markdown_answer(struct http_call *c, json_t *out)
{
	const char *md = json_string_value(json_object_get(out, "markdown"));
	const char *fmt = json_string_value(json_object_get(out, "format"));

	if (md == NULL || fmt == NULL || strcmp(fmt, "markdown") != 0)
		return LCF_EINVAL;
	answer_text(c, 200, "text/markdown; charset=utf-8", md, strlen(md));
	json_decref(out);
	return 0;
}

/* The view's answer out to args as flat rows for CSV (a new reference). */
typedef json_t *(*csv_rows_fn)(const json_t *args, const json_t *out);

/* The view's arguments: the query's parameters (a repeated one a list), the
 * path's '*' segment as "id"; format left out when the view has a CSV form
 * (skip_format). A new reference. */
static json_t *
view_args(const struct http_call *c, int skip_format)
{
	json_t *args = json_object(), *cur;
	size_t i;

	for (i = 0; i < c->nparams; i++) {
		const char *k = c->params[i].name;
		json_t *v;

		if (skip_format && strcmp(k, "format") == 0)
			continue;
		v = json_string(c->params[i].value);
		if ((cur = json_object_get(args, k)) == NULL) {
			json_object_set_new(args, k, v);
		} else if (json_is_array(cur)) {
			json_array_append_new(cur, v);
		} else {
			json_t *a = json_array();

			json_array_append(a, cur);
			json_array_append_new(a, v);
			json_object_set_new(args, k, a);
		}
	}
	if (c->nsegs > 0)
		json_object_set_new(args, "id", json_string(c->segs[0]));
	return args;
}

/* Runs the view and answers it: as CSV through rows when rows is not NULL,
 * else as JSON (or Markdown when the view made some). */
static void
view_answer(struct http_call *c, const char *name, const json_t *args,
    csv_rows_fn rows)
{
	const struct view_def *v = view_find(name);
	unsigned flags = (c->operator ? VIEW_OPERATOR : 0) |
	    (c->personal ? VIEW_PERSONAL : 0);
	struct view_error e;
	json_t *out = NULL, *r;
	char *text;
	size_t len;

	/* A view that writes its own text (the large ones) is sent as it
	 * wrote it, without a tree. */
	if (rows == NULL && v != NULL && v->text != NULL) {
		if (view_run_text(c->n, name, args, flags, 0, &text, &len, &e) != 0)
			answer_problem(c, e.status ? e.status : 500, e.param[0] ?
			    e.param : NULL, "%s", e.msg);
		else
			answer_json_text(c, 200, text, len);
		return;
	}
	if (view_run(c->n, name, args, flags, &out, &e) != 0) {
		answer_problem(c, e.status ? e.status : 500, e.param[0] ? e.param :
		    NULL, "%s", e.msg);
	} else if (rows != NULL) {
		r = rows(args, out);
		csv_answer_rows(c, r);
		json_decref(r);
		json_decref(out);
	} else if (markdown_answer(c, out) != 0) {
		answer_json(c, 200, out);
	}
}

/*
 * A request held open while its view's first step runs (view_prepare: a
 * measurement): the loop serves others meanwhile. The token in the
 * request's pool tells it when the client goes away first; then the answer
 * is dropped.
 */
struct later {
	struct http *h;
	struct node *n;
	h2o_req_t *req;               /* NULL once the client went away */
	struct later **tok;           /* in req's pool, pointing here */
	const char *name;             /* a view's name: static */
	json_t *args;
	csv_rows_fn rows;             /* CSV asked for: its rows, else NULL */
	int head, operator, personal;
	unsigned route_flags;
};

static void
later_dispose(void *p)
{
	struct later **tok = p;

	if (*tok != NULL)
		(*tok)->req = NULL;
}

static void
later_ready(void *arg)
{
	struct later *l = arg;
	struct http_call c;

	if (l->req != NULL) {
		memset(&c, 0, sizeof(c));
		c.h = l->h;
		c.n = l->n;
		c.req = l->req;
		c.head = l->head;
		c.operator = l->operator;
		c.personal = l->personal;
		c.route_flags = l->route_flags;
		*l->tok = NULL;
		view_answer(&c, l->name, l->args, l->rows);
		l->h->send_later(&c);
		free(c.body);
	}
	json_decref(l->args);
	free(l);
}

/* Answers the view name with the query's parameters as its arguments; with
 * rows (a view that has a CSV form), format=csv answers rows' CSV. A view
 * with a first step (view_prepare) answers once that step is done. */
static void
answer_view_as(struct http_call *c, const char *name, csv_rows_fn rows)
{
	struct view_error e;
	struct later *l;
	json_t *args;
	int rc, csv = 0;

	if (rows != NULL && csv_param(c, &csv) != 0)
		return;
	/* format=json as well as csv is the answer's, not the view's. */
	args = view_args(c, rows != NULL);
	if (!csv)
		rows = NULL;
	l = xcalloc(1, sizeof(*l));
	rc = view_prepare(c->n, name, args, later_ready, l, &e);
	if (rc == 0) {
		l->h = c->h;
		l->n = c->n;
		l->req = c->req;
		l->name = name;
		l->args = args;
		l->rows = rows;
		l->head = c->head;
		l->operator = c->operator;
		l->personal = c->personal;
		l->route_flags = c->route_flags;
		l->tok = h2o_mem_alloc_shared(&c->req->pool, sizeof(*l->tok),
		    later_dispose);
		*l->tok = l;
		c->taken = 1;
		return;
	}
	free(l);
	if (rc < 0)
		answer_problem(c, e.status ? e.status : 400, e.param[0] ? e.param :
		    NULL, "%s", e.msg);
	else
		view_answer(c, name, args, rows);
	json_decref(args);
}

static void
answer_view(struct http_call *c, const char *name)
{
	answer_view_as(c, name, NULL);
}

/* lcctl coverage --csv's rows: the matrix, or with missing the pairs. */
static json_t *
coverage_rows(const json_t *args, const json_t *out)
{
	struct view_error e;
	int missing = 0;

	if (view_arg_bool(args, "missing", &missing, &e) != 0)
		missing = 0;
	return view_coverage_rows(out, missing);
}

void
api_coverage(struct http_call *c)
{
	answer_view_as(c, "coverage", coverage_rows);
}

void
api_city_report(struct http_call *c)
{
	answer_view(c, "report");
}

void
api_partners(struct http_call *c)
{
	answer_view(c, "partners");
}

void
api_indicator_summary(struct http_call *c)
{
	answer_view(c, "indicator_summary");
}

void
api_federation_status(struct http_call *c)
{
	answer_view(c, "federation_status");
}
