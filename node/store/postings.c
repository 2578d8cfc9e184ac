// SPDX-License-Identifier: Apache-2.0
// Query index postings: the terms of a record, gathered per transaction and
// written in key order, and removed when a version stops being current.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>

#include "base/error.h"
#include "base/log.h"
#include "model/kinds.h"
#include "model/record.h"
#include "store/store.h"
#include "store/store_int.h"
#include "base/util.h"
#include "base/xmalloc.h"

/* Where postings_of sends each posting: a key of kind (1), tag (1) and term. */
struct postings {
	void (*emit)(struct postings *p, const uint8_t *key, size_t len);
	Lcf__Kind kind;
	struct pending *pd;           /* emit_pending: gathered for doc */
	uint32_t doc;
	MDB_txn *txn;                 /* emit_remove: deleted from idx */
	MDB_dbi idx, words;
	struct pending *wpd;          /* text postings: gathered (add) or
	                               * counted (remove) */
	int rc;                       /* emit_remove's first error */
};

static void
post_add(struct postings *p, char tag, const char *term, size_t len)
{
	uint8_t key[IDX_KEY_MAX];

	if (len > TERM_MAX)
		len = TERM_MAX;
	key[0] = (uint8_t)p->kind;
	key[1] = (uint8_t)tag;
	memcpy(key + 2, term, len);
	p->emit(p, key, 2 + len);
}

static void pending_add(struct pending *pd, const uint8_t *key, size_t len,
    const uint8_t *val, uint32_t doc);

/* The record's day (UTC) of its author's clock, for "since" filters. */
static void
post_day(struct postings *p, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char d[16];

	if (ms < 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(d, sizeof(d), "%Y-%m-%d", &tm) != 10)
		return;
	post_add(p, TAG_DAY, d, 10);
}

/* A text posting: the key in the words table and its value. */
static void
text_term(void *arg, const char *lang, const char *w, size_t n, unsigned tf,
    unsigned dl, unsigned positions)
{
	struct postings *p = arg;
	uint8_t key[WORDS_KEY_MAX], val[WORDS_VAL_LEN];
	size_t ll = strlen(lang);
	MDB_val k, v;
	int rc;

	if (1 + ll + 1 + n > sizeof(key))
		return;
	key[0] = (uint8_t)p->kind;
	memcpy(key + 1, lang, ll);
	key[1 + ll] = ':';
	memcpy(key + 2 + ll, w, n);
	put_be32(val, p->doc);
	val[4] = (uint8_t)(tf > WORDS_TF_MAX ? WORDS_TF_MAX : tf);
	val[5] = (uint8_t)words_dl_code(dl);
	val[6] = (uint8_t)(positions >> 8);
	val[7] = (uint8_t)positions;
	if (p->txn == NULL) {
		pending_add(p->wpd, key, 2 + ll + n, val, p->doc);
		return;
	}
	if (p->rc != 0)
		return;
	k.mv_data = key;
	k.mv_size = 2 + ll + n;
	v.mv_data = val;
	v.mv_size = sizeof(val);
	rc = mdb_del(p->txn, p->words, &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		p->rc = rc;
}

/* A language of the text: a posting, and one more unit to the counters. */
static void
text_unit(void *arg, const char *lang, unsigned dl)
{
	struct postings *p = arg;
	int64_t sign = p->txn == NULL ? 1 : -1;

	post_add(p, TAG_LANG, lang, strlen(lang));
	p->wpd->text_units += sign;
	p->wpd->text_len += sign * (int64_t)dl;
}

static void
post_text(struct postings *p, const Lcf__Practice *pr)
{
	struct text_sink sink = { text_term, text_unit, p };

	if (p->wpd != NULL)
		store__text_terms(pr, &sink);
}

static int
is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80;
}

void
store_words(const char *text, void (*fn)(void *arg, const char *w, size_t n),
    void *arg)
{
	const unsigned char *p = (const unsigned char *)text;
	char w[WORD_MAX + 1];
	size_t n;

	if (text == NULL)
		return;
	while (*p) {
		while (*p && !is_word_byte(*p))
			p++;
		n = 0;
		while (*p && is_word_byte(*p)) {
			if (n < WORD_MAX + 1)
				w[n] = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
			n++;
			p++;
		}
		/* Over-long tokens (URLs, identifiers) are not useful words. */
		if (n >= WORD_MIN && n <= WORD_MAX)
			fn(arg, w, n);
	}
}


/* Sends the postings of a current version to p->emit. country is the author's
 * city country (may be NULL); tombstones are listed only under TAG_ALL and
 * TAG_DELETED. A term repeated in the text is sent each time. */
static void
postings_of(const Lcf__Content *c, const char *country, struct postings *p)
{
	const struct kinds_def *kd;
	size_t i;

	p->kind = c->kind;
	post_add(p, TAG_ALL, "", 0);
	if (c->deleted) {
		post_add(p, TAG_DELETED, "", 0);
		return;
	}
	post_add(p, TAG_AUTHOR, (const char *)c->author.data, c->author.len);
	post_day(p, c->timestamp);
	/* The kinds listed by country (kinds.h) carry a country posting;
	 * reindex_country moves them when the city's country changes. */
	if (country != NULL && (kd = kinds_by_kind(c->kind)) != NULL &&
	    (kd->flags & KINDS_BY_COUNTRY))
		post_add(p, TAG_COUNTRY, country, strlen(country));
	switch (c->body_case) {
	case LCF__CONTENT__BODY_PRACTICE: {
		const Lcf__Practice *pr = c->practice;

		for (i = 0; i < pr->n_kflc_areas; i++)
			post_add(p, TAG_AREA, pr->kflc_areas[i], strlen(pr->kflc_areas[i]));
		for (i = 0; i < pr->n_clusters; i++)
			post_add(p, TAG_CLUSTER, pr->clusters[i], strlen(pr->clusters[i]));
		for (i = 0; i < pr->n_sdgs; i++) {
			char g[12];

			post_add(p, TAG_SDG, g, (size_t)snprintf(g, sizeof(g), "%u",
			    (unsigned)pr->sdgs[i]));
		}
		post_text(p, pr);
		break;
	}
	case LCF__CONTENT__BODY_INDICATOR:
		if (c->indicator->indicator != NULL)
			post_add(p, TAG_INDICATOR, c->indicator->indicator,
			    strlen(c->indicator->indicator));
		if (c->indicator->period != NULL)
			post_add(p, TAG_PERIOD, c->indicator->period,
			    strlen(c->indicator->period));
		break;
	default:
		break;
	}
}

static uint32_t
key_hash(const uint8_t *k, size_t n)
{
	uint32_t h = 2166136261u;     /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ k[i]) * 16777619u;
	return h;
}

static const uint8_t *
slot_key(const struct slot *sl)
{
	return sl->len <= SLOT_KEY_INLINE ? sl->k.key : sl->k.long_key;
}

static void
pending_grow(struct pending *pd)
{
	struct slot *old = pd->slots;
	size_t i, j, oldn = pd->nslots;

	pd->nslots = oldn ? 2 * oldn : 1024;
	pd->slots = xcalloc(pd->nslots, sizeof(*pd->slots));
	for (i = 0; i < oldn; i++) {
		if (old[i].docs == NULL)
			continue;
		j = old[i].hash & (pd->nslots - 1);
		while (pd->slots[j].docs != NULL)
			j = (j + 1) & (pd->nslots - 1);
		pd->slots[j] = old[i];
	}
	free(old);
}

/* Adds a posting to the key's list: doc to an idx list (once), or the
 * WORDS_VAL_LEN bytes val, for document doc, to a words list. */
static void
pending_add(struct pending *pd, const uint8_t *key, size_t len,
    const uint8_t *val, uint32_t doc)
{
	unsigned units = pd->words ? WORDS_VAL_LEN / sizeof(uint32_t) : 1;
	struct slot *sl;
	uint32_t h;
	size_t j;

	if (pd->nterms * 2 >= pd->nslots)
		pending_grow(pd);
	h = key_hash(key, len);
	j = h & (pd->nslots - 1);
	while ((sl = &pd->slots[j])->docs != NULL) {
		if (sl->hash == h && sl->len == len &&
		    memcmp(slot_key(sl), key, len) == 0)
			break;
		j = (j + 1) & (pd->nslots - 1);
	}
	if (sl->docs == NULL) {
		sl->docs = xreallocarray(NULL, 4, sizeof(*sl->docs));
		sl->hash = h;
		sl->len = (uint16_t)len;
		if (len <= SLOT_KEY_INLINE) {
			memcpy(sl->k.key, key, len);
		} else {
			sl->k.long_key = xmalloc(len);
			memcpy(sl->k.long_key, key, len);
		}
		pd->nterms++;
	} else if (sl->last == doc) {
		/* A record's postings share one document: a term repeated
		 * in its text is written once. */
		return;
	} else if (sl->n >= 4 && (sl->n & (sl->n - 1)) == 0) {
		/* Capacity is a power of 2 of at least 4 units, and a value
		 * is 1 or 2 of them: a full list has a power-of-2 length. */
		sl->docs = xreallocarray(sl->docs, 2 * (size_t)sl->n,
		    sizeof(*sl->docs));
	}
	if (val != NULL)
		memcpy(sl->docs + sl->n, val, units * sizeof(uint32_t));
	else
		sl->docs[sl->n] = doc;
	sl->n += units;
	sl->last = doc;
	pd->nposts++;
}

/* emit for gathering: adds p->doc to the key's list once. */
static void
emit_pending(struct postings *p, const uint8_t *key, size_t len)
{
	pending_add(p->pd, key, len, NULL, p->doc);
}

static int
slot_cmp(const void *a, const void *b)
{
	const struct slot *x = *(struct slot *const *)a;
	const struct slot *y = *(struct slot *const *)b;
	int c = memcmp(slot_key(x), slot_key(y), x->len < y->len ? x->len : y->len);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void
pending_clear(struct pending *pd)
{
	size_t i;

	for (i = 0; i < pd->nslots; i++) {
		if (pd->slots[i].docs == NULL)
			continue;
		free(pd->slots[i].docs);
		if (pd->slots[i].len > SLOT_KEY_INLINE)
			free(pd->slots[i].k.long_key);
		memset(&pd->slots[i], 0, sizeof(pd->slots[i]));
	}
	pd->nterms = 0;
	pd->nposts = 0;
}

void
store__pending_free(struct pending *pd)
{
	pending_clear(pd);
	free(pd->slots);
	free(pd->terms);
	memset(pd, 0, sizeof(*pd));
}

static void
text_stats_key(uint8_t key[5], Lcf__Kind kind)
{
	memcpy(key, "text", 4);
	key[4] = (uint8_t)kind;
}

int
store__text_stats(MDB_txn *txn, struct store *s, Lcf__Kind kind, uint64_t *units,
    uint64_t *len)
{
	uint8_t key[5];
	MDB_val k = { sizeof(key), key }, v;
	int rc;

	*units = *len = 0;
	text_stats_key(key, kind);
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == 0 && v.mv_size != 16)
		rc = MDB_CORRUPTED;
	if (rc == 0) {
		*units = get_be64(v.mv_data);
		*len = get_be64((const uint8_t *)v.mv_data + 8);
	}
	return mdb_to_lcf("text index counters", rc == MDB_NOTFOUND ? 0 : rc);
}

/* Adds to the text index counters (only practices carry text). */
static int
text_stats_add(MDB_txn *txn, struct store *s, int64_t units, int64_t len)
{
	uint8_t key[5], val[16];
	MDB_val k = { sizeof(key), key }, v = { sizeof(val), val };
	uint64_t u, l;
	int ret;

	if ((ret = store__text_stats(txn, s, LCF__KIND__KIND_PRACTICE, &u, &l)) != 0)
		return ret;
	text_stats_key(key, LCF__KIND__KIND_PRACTICE);
	put_be64(val, (uint64_t)((int64_t)u + units));
	put_be64(val + 8, (uint64_t)((int64_t)l + len));
	return mdb_to_lcf("text index counters", mdb_put(txn, s->meta, &k, &v, 0));
}

/* Writes every pending posting, term by term in key order. */
int
store__pending_flush(MDB_txn *txn, struct store *s, struct pending *pd)
{
	struct slot **terms;
	MDB_cursor *cur = NULL;
	MDB_val k, v[2];
	size_t i, n = 0, done, units = pd->words ? WORDS_VAL_LEN / sizeof(uint32_t) : 1;
	unsigned int flags;
	int rc = 0, ret;

	if (pd->words && (pd->text_units != 0 || pd->text_len != 0)) {
		if ((ret = text_stats_add(txn, s, pd->text_units, pd->text_len)) != 0)
			return ret;
		pd->text_units = pd->text_len = 0;
	}
	if (pd->nterms == 0)
		return 0;
	terms = pd->terms = xreallocarray(pd->terms, pd->nterms, sizeof(*terms));
	for (i = 0; i < pd->nslots; i++)
		if (pd->slots[i].docs != NULL)
			terms[n++] = &pd->slots[i];
	qsort(terms, n, sizeof(*terms), slot_cmp);
	if ((rc = mdb_cursor_open(txn, pd->words ? s->words : s->idx, &cur)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		/* The documents of this transaction are newer than every one in
		 * the store, so they go at the end of each list: MDB_APPENDDUP
		 * skips LMDB's search for their place. Should a list hold a
		 * higher number all the same, LMDB refuses with MDB_KEYEXIST
		 * (nothing written for that value) and the rest goes in sorted. */
		flags = MDB_MULTIPLE | MDB_APPENDDUP;
		for (done = 0; done < terms[i]->n; done += v[1].mv_size * units) {
			k.mv_data = (void *)slot_key(terms[i]);
			k.mv_size = terms[i]->len;
			v[0].mv_size = units * sizeof(uint32_t);
			v[0].mv_data = terms[i]->docs + done;
			v[1].mv_size = (terms[i]->n - done) / units;
			rc = mdb_cursor_put(cur, &k, v, flags);
			if (rc == MDB_KEYEXIST && (flags & MDB_APPENDDUP)) {
				flags = MDB_MULTIPLE;
				continue;
			}
			if (rc != 0)
				goto out;
			if (v[1].mv_size == 0) {
				rc = MDB_CORRUPTED;
				goto out;
			}
		}
	}
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	free(pd->terms);
	pd->terms = NULL;
	pending_clear(pd);
	return mdb_to_lcf("postings", rc);
}

/* emit for removal: a version stopped being current. */
static void
emit_remove(struct postings *p, const uint8_t *key, size_t len)
{
	MDB_val k = { len, (void *)key }, v = { sizeof(p->doc), &p->doc };
	int rc;

	if (p->rc != 0)
		return;
	/* A term repeated in the text was deleted already. */
	rc = mdb_del(p->txn, p->idx, &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		p->rc = rc;
}

/* Removes a version's postings. */
int
store__postings_remove(MDB_txn *txn, struct store *s, struct pending *wpd,
    const Lcf__Content *c, const char *country, uint32_t doc)
{
	struct postings p;

	memset(&p, 0, sizeof(p));
	p.emit = emit_remove;
	p.txn = txn;
	p.idx = s->idx;
	p.words = s->words;
	p.wpd = wpd;
	p.doc = doc;
	postings_of(c, country, &p);
	return mdb_to_lcf("removing postings", p.rc);
}

/* Gathers a current version's postings for the next store__pending_flush. */
void
store__postings_add(struct pending *pd, struct pending *wpd, const Lcf__Content *c,
    const char *country, uint32_t doc)
{
	struct postings p;

	memset(&p, 0, sizeof(p));
	p.emit = emit_pending;
	p.pd = pd;
	p.wpd = wpd;
	p.doc = doc;
	postings_of(c, country, &p);
}

/* Reads a whole posting list into a new array (ascending document numbers). */
int
store__list_load(MDB_cursor *cur, const uint8_t *key, size_t klen,
    uint32_t **out, size_t *n)
{
	MDB_val k = { klen, (void *)key }, v;
	uint32_t *a = NULL;
	size_t cap = 0, cnt = 0;
	int rc;

	*out = NULL;
	*n = 0;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || (rc = mdb_cursor_count(cur, &cap)) != 0)
		return mdb_to_lcf("reading postings", rc);
	a = xreallocarray(NULL, cap ? cap : 1, sizeof(*a));
	/* DUPFIXED lists come a page of values at a time. */
	rc = mdb_cursor_get(cur, &k, &v, MDB_GET_MULTIPLE);
	while (rc == 0) {
		size_t m = v.mv_size / sizeof(uint32_t);

		if (cnt + m > cap) {
			rc = MDB_CORRUPTED;
			break;
		}
		memcpy(a + cnt, v.mv_data, m * sizeof(uint32_t));
		cnt += m;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_MULTIPLE);
	}
	if (rc != MDB_NOTFOUND) {
		free(a);
		return mdb_to_lcf("reading postings", rc);
	}
	*out = a;
	*n = cnt;
	return 0;
}
