// SPDX-License-Identifier: Apache-2.0
// Partner matching: the cities that could help this one with the challenges
// its profile names, ranked by a score each result explains in words.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/codes.h"
#include "base/error.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "core/lineage.h"
#include "core/member.h"
#include "core/node.h"
#include "model/fold.h"
#include "model/identity.h"
#include "model/record.h"
#include "store/store.h"
#include "view/records.h"
#include "view/view.h"

/* The scoring, documented in README.md ("Ranking partners"): per challenge
 * sub-area, points for listing it among one's strengths, one point per
 * practice in it and one per such practice in a language of this city (each
 * capped, so that one prolific city does not drown the rest), and a bonus,
 * once, for a profile language in common. */
#define PARTNERS_STRENGTH_POINTS 3
#define PARTNERS_PRACTICE_CAP 5
#define PARTNERS_LANGUAGE_CAP 5
#define PARTNERS_SHARED_LANGUAGE_POINTS 2
#define PARTNERS_DEFAULT_LIMIT 20
#define PARTNERS_MAX_LIMIT 1000
#define PARTNERS_MAX_AREAS 16         /* sub-areas asked about at most */
#define PARTNERS_MAX_LANGS 16         /* this city's languages looked at */

struct cand_area {
	int strength;                 /* lists the sub-area among its strengths */
	size_t practices, in_lang;
};

struct cand {
	uint8_t id[32];               /* the newest key of its line */
	char *name, *country;
	const char *membership;
	char **langs;                 /* profile languages shared with this city */
	size_t nlangs;
	struct cand_area area[PARTNERS_MAX_AREAS];
	long score, area_score;
	size_t practices;
};

struct match {
	struct node *n;
	struct lineage *lin;
	uint8_t self[32];
	const char *areas[PARTNERS_MAX_AREAS];
	size_t nareas;
	char *langs[PARTNERS_MAX_LANGS];   /* this city's profile languages */
	size_t nlangs;
	int have_profile;
	struct cand *c;
	size_t nc, cap;
	size_t cur_area;              /* the sub-area being counted */
};

/* Whether two BCP 47 tags share their primary language subtag ("en-GB" and
 * "en" do): a practice in British English serves a city that reads English. */
static int
same_language(const char *a, const char *b)
{
	size_t la = strcspn(a, "-_"), lb = strcspn(b, "-_");

	return la > 0 && la == lb && strncasecmp(a, b, la) == 0;
}

/* This city's language matching tag, or NULL. */
static const char *
own_language(const struct match *m, const char *tag)
{
	size_t i;

	for (i = 0; tag != NULL && i < m->nlangs; i++)
		if (same_language(m->langs[i], tag))
			return m->langs[i];
	return NULL;
}

static int
own_profile_visit(void *arg, const uint8_t id[32], const uint8_t *raw,
    size_t len)
{
	struct match *m = arg;
	struct record rec;
	const Lcf__CityProfile *p;
	size_t i;

	(void)id;
	if (record_open(raw, len, 0, &rec) != 0)
		return 0;
	if (!rec.c->deleted && (p = rec.c->city) != NULL) {
		m->have_profile = 1;
		for (i = 0; i < p->n_languages && m->nlangs < PARTNERS_MAX_LANGS; i++)
			m->langs[m->nlangs++] = xstrdup(p->languages[i]);
		/* The sub-areas asked about are the profile's unless --area
		 * narrowed them; a repeated id counts once. */
		if (m->nareas == 0) {
			for (i = 0; i < p->n_challenges &&
			    m->nareas < PARTNERS_MAX_AREAS; i++) {
				size_t k;

				for (k = 0; k < m->nareas; k++)
					if (strcmp(m->areas[k], p->challenges[i]) == 0)
						break;
				if (k == m->nareas && code_subarea_valid(p->challenges[i]))
					m->areas[m->nareas++] =
					    xstrdup(p->challenges[i]);
			}
		}
	}
	record_release(&rec);
	return 0;
}

static int
cand_cmp_id(const void *a, const void *b)
{
	return memcmp(((const struct cand *)a)->id, ((const struct cand *)b)->id, 32);
}

static struct cand *
find_cand(struct match *m, const uint8_t id[32])
{
	struct cand key;

	memcpy(key.id, id, 32);
	return m->nc == 0 ? NULL :
	    bsearch(&key, m->c, m->nc, sizeof(key), cand_cmp_id);
}

/* Whether a city may be proposed: not revoked, not an observer, its
 * membership in force on a federation node. The words name its standing. */
static const char *
standing(struct match *m, const uint8_t id[32])
{
	struct member_info mi;
	char why[256];

	if (!members_enabled(m->n))
		return "open";
	if (members_get(m->n, id, &mi) != 0 || mi.revoked || mi.observer)
		return NULL;
	return members_link_ok(m->n, id, why, sizeof(why)) == 0 ? "admitted" : NULL;
}

/* A city with a profile: a candidate unless it is this city or not in
 * standing. */
static int
profile_cand(void *arg, const uint8_t head[32], const Lcf__CityProfile *p)
{
	struct match *m = arg;
	struct cand *c;
	const char *state;
	size_t i, k;

	if (memcmp(head, m->self, 32) == 0 || (state = standing(m, head)) == NULL)
		return 0;
	if (m->nc == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->c = xreallocarray(m->c, m->cap, sizeof(*m->c));
	}
	c = &m->c[m->nc++];
	memset(c, 0, sizeof(*c));
	memcpy(c->id, head, 32);
	c->name = p->name != NULL ? xstrdup(p->name) : NULL;
	c->country = p->country != NULL ? xstrdup(p->country) : NULL;
	c->membership = state;
	for (k = 0; k < m->nareas; k++)
		for (i = 0; i < p->n_strengths; i++)
			if (strcmp(p->strengths[i], m->areas[k]) == 0)
				c->area[k].strength = 1;
	for (i = 0; i < m->nlangs; i++) {
		for (k = 0; k < p->n_languages; k++)
			if (same_language(m->langs[i], p->languages[k]))
				break;
		if (k < p->n_languages) {
			c->langs = xreallocarray(c->langs, c->nlangs + 1, sizeof(char *));
			c->langs[c->nlangs++] = xstrdup(m->langs[i]);
		}
	}
	return 0;
}

static int
practice_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct match *m = arg;
	const Lcf__Practice *p;
	struct cand_area *a;
	struct record rec;
	struct cand *c;
	uint8_t head[32];
	size_t i;
	int lang;

	if (record_open_stored(raw, len, id, &rec) != 0)
		return 0;
	p = rec.c->practice;
	if (rec.c->deleted || p == NULL || rec.c->author.len != 32)
		goto out;
	lineage_head(m->lin, rec.c->author.data, head);
	/* Candidates are cities in force only (standing): a revoked city's or
	 * an observer's practice finds none. A version a later key replaced
	 * counts once, as the later key's. */
	if ((c = find_cand(m, head)) == NULL || (!lineage_empty(m->lin) &&
	    lineage_shadowed(m->lin, m->n->store, rec.c)))
		goto out;
	a = &c->area[m->cur_area];
	a->practices++;
	lang = own_language(m, p->language) != NULL;
	for (i = 0; !lang && i < p->n_translations; i++)
		lang = p->translations[i] != NULL &&
		    own_language(m, p->translations[i]->language) != NULL;
	a->in_lang += lang;
out:
	record_release(&rec);
	return 0;
}

static size_t
cap(size_t v, size_t max)
{
	return v < max ? v : max;
}

static void
score(const struct match *m, struct cand *c)
{
	size_t k;

	c->area_score = 0;
	for (k = 0; k < m->nareas; k++) {
		const struct cand_area *a = &c->area[k];

		c->area_score += (long)(a->strength * PARTNERS_STRENGTH_POINTS +
		    cap(a->practices, PARTNERS_PRACTICE_CAP) +
		    cap(a->in_lang, PARTNERS_LANGUAGE_CAP));
		c->practices += a->practices;
	}
	c->score = c->area_score + (c->nlangs > 0 ?
	    PARTNERS_SHARED_LANGUAGE_POINTS : 0);
}

/* Best first: score, then practices in the sub-areas, then name, then id. */
static int
cand_cmp_rank(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	int r;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (a->practices != b->practices)
		return a->practices > b->practices ? -1 : 1;
	if ((r = strcmp(a->name ? a->name : "", b->name ? b->name : "")) != 0)
		return r;
	return memcmp(a->id, b->id, 32);
}

/* "your language (en)" or "your languages (en, sv)". */
static void
lang_words(const struct match *m, char *buf, size_t len)
{
	size_t i, off;

	off = (size_t)snprintf(buf, len, "%s (", m->nlangs == 1 ? "your language" :
	    "your languages");
	for (i = 0; i < m->nlangs && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
		    m->langs[i]);
	if (off < len)
		snprintf(buf + off, len - off, ")");
}

static json_t *
cand_json(const struct match *m, const struct cand *c)
{
	json_t *j = json_object(), *areas = json_array(), *reasons = json_array();
	json_t *langs = json_array();
	char words[512], lw[160], buf[256];
	size_t k, off = 0;

	lang_words(m, lw, sizeof(lw));
	for (k = 0; k < m->nareas; k++) {
		const struct cand_area *a = &c->area[k];
		long pts = (long)(a->strength * PARTNERS_STRENGTH_POINTS +
		    cap(a->practices, PARTNERS_PRACTICE_CAP) +
		    cap(a->in_lang, PARTNERS_LANGUAGE_CAP));

		json_array_append_new(areas, json_pack("{s:s, s:b, s:I, s:I, s:I}",
		    "area", m->areas[k], "strength", a->strength,
		    "practices", (json_int_t)a->practices,
		    "practices_in_your_languages", (json_int_t)a->in_lang,
		    "points", (json_int_t)pts));
		if (a->practices > 0) {
			off = (size_t)snprintf(buf, sizeof(buf), "%zu practice%s in %s",
			    a->practices, a->practices == 1 ? "" : "s", m->areas[k]);
			if (a->in_lang > 0 && off < sizeof(buf))
				snprintf(buf + off, sizeof(buf) - off, ", %zu in %s",
				    a->in_lang, lw);
			json_array_append_new(reasons, json_string(buf));
		}
		if (a->strength) {
			snprintf(buf, sizeof(buf), "lists %s among its strengths",
			    m->areas[k]);
			json_array_append_new(reasons, json_string(buf));
		}
	}
	for (k = 0; k < c->nlangs; k++)
		json_array_append_new(langs, json_string(c->langs[k]));
	if (c->nlangs > 0) {
		snprintf(buf, sizeof(buf), "shares your language%s %s",
		    c->nlangs > 1 ? "s" : "", c->langs[0]);
		for (k = 1, off = strlen(buf); k < c->nlangs && off < sizeof(buf); k++)
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
			    k + 1 == c->nlangs ? " and " : ", ", c->langs[k]);
		json_array_append_new(reasons, json_string(buf));
	}
	words[0] = '\0';
	for (k = 0, off = 0; k < json_array_size(reasons) && off < sizeof(words);
	    k++)
		off += (size_t)snprintf(words + off, sizeof(words) - off, "%s%s",
		    k ? "; " : "", json_string_value(json_array_get(reasons, k)));
	json_object_set_new(j, "id", view_hex(c->id, 32));
	json_object_set_new(j, "name", c->name ? json_string(c->name) : json_null());
	json_object_set_new(j, "country", c->country ? json_string(c->country) :
	    json_null());
	json_object_set_new(j, "membership", json_string(c->membership));
	json_object_set_new(j, "score", json_integer(c->score));
	json_object_set_new(j, "why", json_string(words));
	json_object_set_new(j, "reasons", reasons);
	json_object_set_new(j, "areas", areas);
	json_object_set_new(j, "shared_languages", langs);
	return j;
}

static void
match_free(struct match *m)
{
	size_t i, k;

	for (i = 0; i < m->nc; i++) {
		free(m->c[i].name);
		free(m->c[i].country);
		for (k = 0; k < m->c[i].nlangs; k++)
			free(m->c[i].langs[k]);
		free(m->c[i].langs);
	}
	free(m->c);
	for (i = 0; i < m->nareas; i++)
		free((char *)m->areas[i]);
	for (i = 0; i < m->nlangs; i++)
		free(m->langs[i]);
	lineage_free(m->lin);
}

/* Reads --area and --limit. */
static int
parse_args(struct match *m, const json_t *args, uint64_t *limit,
    struct view_error *e)
{
	const char *area = view_arg(args, "area"), *lim = view_arg(args, "limit");
	char *end;

	*limit = PARTNERS_DEFAULT_LIMIT;
	if (area != NULL) {
		if (!code_subarea_valid(area))
			return view_fail(e, LCF_EINVAL, 400, "area", "area '%s' is not "
			    "a KFLC sub-area: one of %s", area, code_subarea_list());
		m->areas[m->nareas++] = xstrdup(area);
	}
	if (lim != NULL) {
		*limit = strtoull(lim, &end, 10);
		if (*lim < '0' || *lim > '9' || *end != '\0' || *limit == 0 ||
		    *limit > PARTNERS_MAX_LIMIT)
			return view_fail(e, LCF_EINVAL, 400, "limit", "limit '%s': give "
			    "a count from 1 to %d", lim, PARTNERS_MAX_LIMIT);
	}
	return 0;
}

/* Whether the index's language lists answer same_language exactly for this
 * city's languages: each folds (model/fold.h) to its own primary subtag, a
 * code no other language shares (not nb, nn or no). Their codes into langs.
 * (The index holds a practice's first 16 languages: one translated into
 * more, found by its 17th, would count as not in this city's language.) */
static int
langs_exact(const struct match *m, char codes[][FOLD_LANG_MAX],
    const char **langs)
{
	size_t i, n;

	for (i = 0; i < m->nlangs; i++) {
		fold_lang(m->langs[i], codes[i]);
		n = strcspn(m->langs[i], "-_");
		if (strlen(codes[i]) != n || fold_lang_shared(codes[i]) ||
		    strncasecmp(codes[i], m->langs[i], n) != 0)
			return 0;
		langs[i] = codes[i];
	}
	return 1;
}

/* The practices of every candidate in each sub-area, the slow way: each one
 * read (a city whose line has several keys, where a later key's version
 * replaces an older one's; or languages the index cannot tell apart). */
static int
count_read(struct match *m, const struct cand *only, struct view_error *e)
{
	uint8_t line[LINEAGE_MAX][32];
	struct store_query q;
	int truncated, rc;

	for (m->cur_area = 0; m->cur_area < m->nareas; m->cur_area++) {
		memset(&q, 0, sizeof(q));
		q.kind = LCF__KIND__KIND_PRACTICE;
		q.areas[0] = m->areas[m->cur_area];
		q.nareas = 1;
		if (only != NULL) {
			q.nauthors = lineage_line(m->lin, only->id, line);
			q.authors = (const uint8_t (*)[32])line;
		}
		if ((rc = store_query(m->n->store, &q, practice_visit, m,
		    &truncated)) != 0)
			return view_fail(e, rc, 500, NULL, "the database cannot be read");
	}
	return 0;
}

/* Counts the practices of the candidates in each sub-area asked about, and
 * those in this city's languages: from the index's lists (the sub-area's,
 * each author's, the languages'), without reading a record, for every city
 * whose line is one key; the rest are read (count_read). */
static int
count_practices(struct match *m, struct view_error *e)
{
	char codes[PARTNERS_MAX_LANGS][FOLD_LANG_MAX];
	const char *langs[PARTNERS_MAX_LANGS];
	uint8_t line[LINEAGE_MAX][32], (*ids)[32];
	size_t *which, *cnt, *inl, nfast = 0, i, k;
	struct store_query q;
	int rc = 0;

	if (!langs_exact(m, codes, langs))
		return count_read(m, NULL, e);
	ids = xreallocarray(NULL, m->nc ? m->nc : 1, sizeof(*ids));
	which = xreallocarray(NULL, m->nc ? m->nc : 1, sizeof(*which));
	cnt = xreallocarray(NULL, m->nc ? m->nc : 1, sizeof(*cnt));
	inl = xcalloc(m->nc ? m->nc : 1, sizeof(*inl));
	for (i = 0; i < m->nc && rc == 0; i++) {
		if (lineage_line(m->lin, m->c[i].id, line) == 1) {
			memcpy(ids[nfast], m->c[i].id, 32);
			which[nfast++] = i;
		} else {
			rc = count_read(m, &m->c[i], e);
		}
	}
	for (k = 0; k < m->nareas && rc == 0 && nfast > 0; k++) {
		memset(&q, 0, sizeof(q));
		q.kind = LCF__KIND__KIND_PRACTICE;
		q.areas[0] = m->areas[k];
		q.nareas = 1;
		if ((rc = store_count_authors(m->n->store, &q,
		    (const uint8_t (*)[32])ids, nfast, langs, m->nlangs, cnt,
		    inl)) != 0) {
			rc = view_fail(e, rc, 500, NULL, "the database cannot be read");
			break;
		}
		for (i = 0; i < nfast; i++) {
			m->c[which[i]].area[k].practices = cnt[i];
			m->c[which[i]].area[k].in_lang = inl[i];
		}
	}
	free(ids);
	free(which);
	free(cnt);
	free(inl);
	return rc;
}

int
view_partners(struct node *n, const json_t *args, unsigned flags,
    json_t **out, struct view_error *e)
{
	struct match m;
	json_t *j, *items, *arr;
	uint64_t limit;
	size_t i;
	int rc;

	(void)flags;
	memset(&m, 0, sizeof(m));
	m.n = n;
	memcpy(m.self, n->id->pk, 32);
	m.lin = lineage_snapshot(n);
	if ((rc = parse_args(&m, args, &limit, e)) != 0)
		goto done;
	store_get_current(n->store, m.self, LCF__KIND__KIND_CITY, "profile",
	    own_profile_visit, &m);
	if (m.nareas == 0) {
		rc = view_fail(e, LCF_ENOTFOUND, 409, "challenges", "%s: partners are "
		    "matched against the KFLC sub-areas this city wants help with; "
		    "name them with `lcctl city set --challenge 2.2` (repeatable), "
		    "or ask about one with --area 2.2 (area=2.2)", !m.have_profile ?
		    "this city has no profile yet" : "this city's profile lists no "
		    "challenges");
		goto done;
	}
	if ((rc = view_profiles(n, m.lin, profile_cand, &m)) != 0) {
		rc = view_fail(e, rc, 500, NULL, "the database cannot be read");
		goto done;
	}
	if (m.nc > 1)
		qsort(m.c, m.nc, sizeof(*m.c), cand_cmp_id);
	if ((rc = count_practices(&m, e)) != 0)
		goto done;
	for (i = 0; i < m.nc; i++)
		score(&m, &m.c[i]);
	if (m.nc > 1)
		qsort(m.c, m.nc, sizeof(*m.c), cand_cmp_rank);
	items = json_array();
	/* A city that answers none of the challenges is no partner for them,
	 * whatever language it speaks. */
	for (i = 0; i < m.nc && json_array_size(items) < limit; i++)
		if (m.c[i].area_score > 0)
			json_array_append_new(items, cand_json(&m, &m.c[i]));
	arr = json_array();
	for (i = 0; i < m.nareas; i++)
		json_array_append_new(arr, json_string(m.areas[i]));
	j = json_object();
	json_object_set_new(j, "challenges", arr);
	arr = json_array();
	for (i = 0; i < m.nlangs; i++)
		json_array_append_new(arr, json_string(m.langs[i]));
	json_object_set_new(j, "languages", arr);
	json_object_set_new(j, "items", items);
	json_object_set_new(j, "next", json_null());
	*out = j;
done:
	match_free(&m);
	return rc;
}
