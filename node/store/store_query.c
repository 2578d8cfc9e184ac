// SPDX-License-Identifier: Apache-2.0
// Queries over the store: posting lists loaded and intersected in memory, a
// text search (search.c) among them, answered newest first or by relevance.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "base/error.h"
#include "base/log.h"
#include "model/record.h"
#include "store/store.h"
#include "store/store_int.h"
#include "base/util.h"
#include "base/xmalloc.h"

struct plist {
	uint32_t *docs;
	size_t n;
};

static int
plist_cmp(const void *a, const void *b)
{
	const struct plist *x = a, *y = b;

	return (x->n > y->n) - (x->n < y->n);
}

static int
open_list(MDB_cursor *cur, Lcf__Kind kind, char tag, const char *term, size_t len,
    struct plist *pl)
{
	uint8_t key[IDX_KEY_MAX];

	if (len > TERM_MAX)
		len = TERM_MAX;
	key[0] = (uint8_t)kind;
	key[1] = (uint8_t)tag;
	memcpy(key + 2, term, len);
	return store__list_load(cur, key, 2 + len, &pl->docs, &pl->n);
}

/* Merges two ascending lists into a new ascending list without repeats. */
static uint32_t *
union_sorted(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
    size_t *nout)
{
	uint32_t *r = xcalloc(na + nb ? na + nb : 1, sizeof(*r));
	size_t i = 0, j = 0, o = 0;

	while (i < na || j < nb) {
		if (j == nb || (i < na && a[i] < b[j]))
			r[o++] = a[i++];
		else if (i == na || b[j] < a[i])
			r[o++] = b[j++];
		else {
			r[o++] = a[i++];
			j++;
		}
	}
	*nout = o;
	return r;
}

/* The documents of any of the query's authors: one list, the union of each
 * author's, so a city's line of keys filters like one author. */
static int
open_authors(MDB_cursor *cur, const struct store_query *q, struct plist *out)
{
	struct plist one, acc;
	uint32_t *u;
	size_t i, nu;
	int rc = 0;

	memset(&acc, 0, sizeof(acc));
	for (i = 0; i <= q->nauthors && rc == 0; i++) {
		const uint8_t *a = i == 0 ? q->author : q->authors[i - 1];

		if (a == NULL)
			continue;
		memset(&one, 0, sizeof(one));
		if ((rc = open_list(cur, q->kind, TAG_AUTHOR, (const char *)a,
		    AUTHOR_LEN, &one)) != 0)
			break;
		u = union_sorted(acc.docs, acc.n, one.docs, one.n, &nu);
		free(acc.docs);
		free(one.docs);
		acc.docs = u;
		acc.n = nu;
	}
	if (rc != 0) {
		free(acc.docs);
		acc.docs = NULL;
		acc.n = 0;
	}
	*out = acc;
	return rc;
}

/* Keeps in c the documents present (keep = 1) or absent in b (ascending). */
static void
cand_filter(struct hits *c, const uint32_t *b, size_t nb, int keep)
{
	size_t i, j = 0, o = 0;
	int gallop = c->n * 8 < nb;

	for (i = 0; i < c->n; i++) {
		/* Galloping pays when b is much longer; else a step at a time. */
		if (gallop)
			j = store__lower_bound(b, j, nb, c->doc[i]);
		else
			while (j < nb && b[j] < c->doc[i])
				j++;
		if ((j < nb && b[j] == c->doc[i]) != keep)
			continue;
		c->doc[o] = c->doc[i];
		c->score[o++] = c->score[i];
	}
	c->n = o;
}

/* Candidates from a list of documents, scores 0 (the list is consumed). */
static void
cand_from(struct hits *c, struct plist *pl)
{
	c->doc = pl->docs;
	c->n = pl->n;
	c->score = xcalloc(pl->n ? pl->n : 1, sizeof(*c->score));
	pl->docs = NULL;
	pl->n = 0;
}

/* The documents of records dated since (YYYY-MM-DD) or later: a bitmap of
 * document numbers, from the day lists (*bits; NULL when since is NULL). */
static int
since_bits(MDB_txn *txn, struct store *s, MDB_cursor *cur, Lcf__Kind kind,
    const char *since, uint8_t **bits, uint32_t *nbits)
{
	uint8_t key[2 + 10];
	MDB_cursor *dc = NULL;
	MDB_val k, v;
	uint32_t max = 0, d;
	size_t m, i;
	int rc;

	*bits = NULL;
	*nbits = 0;
	if (since == NULL)
		return 0;
	if ((rc = mdb_cursor_open(txn, s->docs, &dc)) != 0)
		return mdb_to_lcf("query", rc);
	rc = mdb_cursor_get(dc, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == sizeof(max))
		memcpy(&max, k.mv_data, sizeof(max));
	mdb_cursor_close(dc);
	*nbits = max + 1;
	*bits = xcalloc((size_t)max / 8 + 1, 1);
	key[0] = (uint8_t)kind;
	key[1] = TAG_DAY;
	memcpy(key + 2, since, 10);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size == sizeof(key) && memcmp(k.mv_data, key, 2) == 0) {
		/* v holds the value of a key that has only one. */
		rc = mdb_cursor_get(cur, &k, &v, MDB_GET_MULTIPLE);
		while (rc == 0) {
			m = v.mv_size / sizeof(uint32_t);
			for (i = 0; i < m; i++) {
				memcpy(&d, (const uint8_t *)v.mv_data + 4 * i, 4);
				if (d <= max)
					(*bits)[d / 8] |= (uint8_t)(1u << (d % 8));
			}
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_MULTIPLE);
		}
		if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP);
	}
	return mdb_to_lcf("query", rc == MDB_NOTFOUND ? 0 : rc);
}

static int
bit_set(const uint8_t *bits, uint32_t nbits, uint32_t d)
{
	return d < nbits && (bits[d / 8] & (1u << (d % 8)));
}

/* Ranked order: better score first, then newer. */
static int
rank_cmp(const void *x, const void *y, void *arg)
{
	const struct hits *c = arg;
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	if (c->score[a] != c->score[b])
		return c->score[a] < c->score[b] ? 1 : -1;
	return (c->doc[a] < c->doc[b]) - (c->doc[a] > c->doc[b]);
}

/* The k best candidates, best first, into idx (k entries): a heap whose top
 * is the worst kept. Returns how many. */
static size_t
rank_top(const struct hits *c, size_t k, uint32_t *idx)
{
	struct hits *cc = (struct hits *)c;
	size_t i, n = 0, j, m;
	uint32_t t;

	if (k > c->n)
		k = c->n;
	for (i = 0; i < c->n && k > 0; i++) {
		t = (uint32_t)i;
		if (n == k) {
			if (rank_cmp(&t, &idx[0], cc) >= 0)
				continue;
			idx[0] = t;
		} else {
			/* Sift up. */
			j = n++;
			while (j > 0 && rank_cmp(&idx[(j - 1) / 2], &t, cc) < 0) {
				idx[j] = idx[(j - 1) / 2];
				j = (j - 1) / 2;
			}
			idx[j] = t;
			continue;
		}
		/* Sift the new top down. */
		for (j = 0; (m = 2 * j + 1) < n; j = m) {
			if (m + 1 < n && rank_cmp(&idx[m + 1], &idx[m], cc) > 0)
				m++;
			if (rank_cmp(&idx[m], &t, cc) <= 0)
				break;
			idx[j] = idx[m];
		}
		idx[j] = t;
	}
	qsort_r(idx, n, sizeof(*idx), rank_cmp, cc);
	return n;
}

/* The walk over candidates that emits one page. */
struct page {
	struct store *s;
	MDB_txn *txn;
	const struct store_query *q;
	const struct search *se;      /* NULL without text */
	store_visit_fn fn;
	void *arg;
	size_t emitted;
	int ret;                      /* the visitor's stop value */
	/* Cursors on docs and rows, opened at the first use: documents are
	 * visited in order, so the next key is mostly on the page the cursor
	 * is on, and LMDB then searches that page only instead of descending
	 * the tree again (a third of a coverage matrix's lookups). */
	MDB_cursor *docs, *rows;
};

/* The value at key k of dbi, through the cursor *c (opened when NULL). */
static int
page_get(struct page *pg, MDB_cursor **c, MDB_dbi dbi, MDB_val *k,
    MDB_val *v)
{
	int rc;

	if (*c == NULL && (rc = mdb_cursor_open(pg->txn, dbi, c)) != 0) {
		*c = NULL;
		return rc;
	}
	return mdb_cursor_get(*c, k, v, MDB_SET_KEY);
}

static void
page_close(struct page *pg)
{
	if (pg->docs != NULL)
		mdb_cursor_close(pg->docs);
	if (pg->rows != NULL)
		mdb_cursor_close(pg->rows);
	pg->docs = pg->rows = NULL;
}

/* Visits document doc when it passes the phrase checks and keep: 1 when it
 * was emitted. */
static int
page_visit(struct page *pg, uint32_t doc)
{
	const struct store_query *q = pg->q;
	MDB_val k = { sizeof(doc), &doc }, v, ik, rk, rv;
	struct record rec;
	int ok;

	if (page_get(pg, &pg->docs, pg->s->docs, &k, &v) != 0 ||
	    v.mv_size != RECORD_ID_LEN)
		return 0;
	ik.mv_size = RECORD_ID_LEN;
	ik.mv_data = v.mv_data;
	if (mdb_get(pg->txn, pg->s->ids, &ik, &rk) != 0 || rk.mv_size != ROW_LEN ||
	    page_get(pg, &pg->rows, pg->s->rows, &rk, &rv) != 0)
		return 0;
	if (pg->se != NULL && pg->se->q->has_phrase) {
		if (record_open(rv.mv_data, rv.mv_size, 0, &rec) != 0)
			return 0;
		ok = store__search_match(pg->se, doc, rec.c);
		record_release(&rec);
		if (!ok)
			return 0;
	}
	if (!store__served(pg->s, v.mv_data, rv.mv_data, rv.mv_size))
		return 0;
	if (q->keep != NULL && !q->keep(q->keep_arg, rv.mv_data, rv.mv_size))
		return 0;
	pg->emitted++;
	pg->ret = pg->fn(pg->arg, v.mv_data, rv.mv_data, rv.mv_size);
	return 1;
}

/* Newest first, from before the cursor. */
static void
page_newest(struct page *pg, const struct hits *c, int *truncated)
{
	const struct store_query *q = pg->q;
	size_t i, n = c->n;

	if (q->before != 0)
		n = store__lower_bound(c->doc, 0, n, q->before);
	for (i = n; i-- > 0 && pg->ret == 0;) {
		if (q->limit && pg->emitted == q->limit) {
			*truncated = 1;
			if (q->next != NULL)
				*q->next = c->doc[i + 1];
			break;
		}
		page_visit(pg, c->doc[i]);
	}
}

/* Best first, from the offset the cursor gives. */
static void
page_ranked(struct page *pg, const struct hits *c, int *truncated)
{
	const struct store_query *q = pg->q;
	size_t i, k, got, off = q->before;
	uint32_t *idx = NULL;

	k = off + (q->limit ? q->limit : c->n) + 1;
	for (;;) {
		if (k > c->n)
			k = c->n;
		idx = xreallocarray(idx, k ? k : 1, sizeof(*idx));
		got = rank_top(c, k, idx);
		for (i = off; i < got && pg->ret == 0; i++) {
			if (q->limit && pg->emitted == q->limit) {
				*truncated = 1;
				/* An offset into the ranked answer. */
				if (q->next != NULL)
					*q->next = (uint32_t)i;
				break;
			}
			page_visit(pg, c->doc[idx[i]]);
		}
		/* Candidates were passed over: rank further and go on. */
		if (i < got || got == c->n || pg->ret != 0 || *truncated)
			break;
		off = got;
		k = 4 * k;
	}
	free(idx);
}

/* Loads the filter lists of q (not text, not since) into pl (*n of them). */
static int
filter_lists(MDB_cursor *cur, const struct store_query *q, const char *lang,
    struct plist *pl, size_t *n)
{
	char g[12];
	size_t i;
	int rc = 0;

#define LIST(tag, term, len)                                                   \
	do {                                                                   \
		if ((rc = open_list(cur, q->kind, tag, term, len, &pl[(*n)++])) != 0) \
			return rc;                                             \
	} while (0)

	for (i = 0; i < q->nareas; i++)
		LIST(TAG_AREA, q->areas[i], strlen(q->areas[i]));
	for (i = 0; i < q->nclusters; i++)
		LIST(TAG_CLUSTER, q->clusters[i], strlen(q->clusters[i]));
	for (i = 0; i < q->nsdgs; i++)
		LIST(TAG_SDG, g, (size_t)snprintf(g, sizeof(g), "%u", q->sdgs[i]));
	if (q->country != NULL)
		LIST(TAG_COUNTRY, q->country, strlen(q->country));
	if (q->author != NULL || q->nauthors > 0) {
		if ((rc = open_authors(cur, q, &pl[(*n)++])) != 0)
			return rc;
	}
	if (q->indicator != NULL)
		LIST(TAG_INDICATOR, q->indicator, strlen(q->indicator));
	if (q->period != NULL)
		LIST(TAG_PERIOD, q->period, strlen(q->period));
	if (lang != NULL)
		LIST(TAG_LANG, lang, strlen(lang));
#undef LIST
	return 0;
}

static void
set_error(const struct store_query *q, const char *msg)
{
	if (q->error != NULL)
		snprintf(q->error, STORE_ERROR_MAX, "%s", msg);
}

/* The candidates of q: its filter lists intersected, and the search result
 * when there is text (its scores kept). */
static int
candidates(MDB_txn *txn, struct store *s, MDB_cursor *cur,
    const struct store_query *q, const char *lang, struct search *se,
    struct hits *c)
{
	struct plist pl[3 * STORE_MAX_TERMS + 8], del;
	uint8_t *bits = NULL;
	uint32_t nbits = 0;
	size_t n = 0, i, o;
	int rc;

	memset(pl, 0, sizeof(pl));
	memset(&del, 0, sizeof(del));
	memset(c, 0, sizeof(*c));
	if ((rc = filter_lists(cur, q, lang, pl, &n)) != 0 ||
	    (rc = since_bits(txn, s, cur, q->kind, q->since, &bits, &nbits)) != 0)
		goto out;
	qsort(pl, n, sizeof(pl[0]), plist_cmp);
	if (se != NULL) {
		if ((rc = store__search_run(txn, s, q->kind, se)) != 0)
			goto out;
		*c = se->result;
		memset(&se->result, 0, sizeof(se->result));
		i = 0;
	} else if (n > 0) {
		cand_from(c, &pl[0]);
		i = 1;
	} else {
		/* No filter: every current version, tombstones unless asked.
		 * Text postings and the other lists hold no tombstones. */
		if ((rc = open_list(cur, q->kind, TAG_ALL, "", 0, &pl[0])) != 0 ||
		    (!q->include_deleted && (rc = open_list(cur, q->kind,
		    TAG_DELETED, "", 0, &del)) != 0))
			goto out;
		cand_from(c, &pl[0]);
		i = 1;
		n = 0;
		cand_filter(c, del.docs, del.n, 0);
	}
	for (; i < n && c->n > 0; i++)
		cand_filter(c, pl[i].docs, pl[i].n, 1);
	if (bits != NULL) {
		for (i = o = 0; i < c->n; i++) {
			if (!bit_set(bits, nbits, c->doc[i]))
				continue;
			c->doc[o] = c->doc[i];
			c->score[o++] = c->score[i];
		}
		c->n = o;
	}
out:
	for (i = 0; i < sizeof(pl) / sizeof(pl[0]); i++)
		free(pl[i].docs);
	free(del.docs);
	free(bits);
	return rc;
}

int
store_query(struct store *s, const struct store_query *q, store_visit_fn fn,
    void *arg, int *truncated)
{
	char err[SQUERY_ERR_MAX], lang[FOLD_LANG_MAX];
	struct squery *sq = NULL;
	struct search se;
	struct hits c;
	struct page pg;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	int rc = 0;

	*truncated = 0;
	memset(&se, 0, sizeof(se));
	memset(&c, 0, sizeof(c));
	if (q->nareas > STORE_MAX_TERMS || q->nclusters > STORE_MAX_TERMS ||
	    q->nsdgs > STORE_MAX_TERMS || q->nauthors > STORE_MAX_AUTHORS ||
	    (q->since != NULL && strlen(q->since) != 10)) {
		set_error(q, "too many filters in one query");
		return LCF_EINVAL;
	}
	if (q->text != NULL && squery_parse(q->text, &sq, err, sizeof(err)) != 0) {
		set_error(q, err);
		return LCF_EINVAL;
	}
	if (q->lang != NULL)
		fold_lang(q->lang, lang);
	se.q = sq;
	se.lang = q->lang != NULL ? lang : NULL;
	se.reference = q->search_reference;
	if (rd_begin(s, &txn) != 0) {
		squery_free(sq);
		return LCF_ESTORE;
	}
	if ((rc = mdb_to_lcf("query", mdb_cursor_open(txn, s->idx, &cur))) != 0 ||
	    (rc = candidates(txn, s, cur, q, q->lang != NULL ? lang : NULL,
	    sq != NULL ? &se : NULL, &c)) != 0)
		goto done;
	memset(&pg, 0, sizeof(pg));
	pg.s = s;
	pg.txn = txn;
	pg.q = q;
	pg.se = sq != NULL ? &se : NULL;
	pg.fn = fn;
	pg.arg = arg;
	if (sq != NULL && q->sort == STORE_SORT_RELEVANCE)
		page_ranked(&pg, &c, truncated);
	else
		page_newest(&pg, &c, truncated);
	page_close(&pg);
	rc = pg.ret;
	if (rc != 0) {
		/* The visitor's stop value, as it gave it. */
		store__hits_free(&c);
		store__search_free(&se);
		squery_free(sq);
		mdb_cursor_close(cur);
		mdb_txn_abort(txn);
		return rc;
	}
done:
	store__hits_free(&c);
	store__search_free(&se);
	squery_free(sq);
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	/* rc is a project code, logged where it arose. */
	return rc != 0 ? LCF_ESTORE : 0;
}

/* A bitmap of the documents of a list: set b (its nbits after). */
static uint8_t *
bits_of(const uint32_t *docs, size_t n, uint32_t *nbits)
{
	uint8_t *b;
	size_t i;

	*nbits = n > 0 ? docs[n - 1] + 1 : 0;
	b = xcalloc((size_t)*nbits / 8 + 1, 1);
	for (i = 0; i < n; i++)
		b[docs[i] / 8] |= (uint8_t)(1u << (docs[i] % 8));
	return b;
}

/* How many of a are set in bits. */
static size_t
count_set(const uint32_t *a, size_t na, const uint8_t *bits, uint32_t nbits)
{
	size_t i, n = 0;

	for (i = 0; i < na; i++)
		n += (size_t)bit_set(bits, nbits, a[i]);
	return n;
}

/* The documents of c also in any of the lists of langs, into *out. */
static int
lang_docs(MDB_cursor *cur, Lcf__Kind kind, const struct hits *c,
    const char *const *langs, size_t nlangs, struct plist *out)
{
	struct plist one, acc;
	uint32_t *u;
	size_t i, j, nu;
	int rc = 0;

	memset(&acc, 0, sizeof(acc));
	for (i = 0; i < nlangs && rc == 0; i++) {
		memset(&one, 0, sizeof(one));
		if ((rc = open_list(cur, kind, TAG_LANG, langs[i], strlen(langs[i]),
		    &one)) != 0)
			break;
		u = union_sorted(acc.docs, acc.n, one.docs, one.n, &nu);
		free(acc.docs);
		free(one.docs);
		acc.docs = u;
		acc.n = nu;
	}
	out->docs = xcalloc(c->n ? c->n : 1, sizeof(*out->docs));
	out->n = 0;
	for (i = j = 0; rc == 0 && i < c->n; i++) {
		j = store__lower_bound(acc.docs, j, acc.n, c->doc[i]);
		if (j < acc.n && acc.docs[j] == c->doc[i])
			out->docs[out->n++] = c->doc[i];
	}
	free(acc.docs);
	return rc;
}

int
store_count_authors(struct store *s, const struct store_query *q,
    const uint8_t (*authors)[32], size_t nauthors, const char *const *langs,
    size_t nlangs, size_t *counts, size_t *in_lang)
{
	struct plist inl, one;
	struct hits c;
	uint8_t *cbits = NULL, *lbits = NULL;
	uint32_t ncbits = 0, nlbits = 0;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	size_t i;
	int rc;

	memset(&c, 0, sizeof(c));
	memset(&inl, 0, sizeof(inl));
	if (q->text != NULL || q->since != NULL || q->keep != NULL ||
	    q->limit != 0 || q->before != 0 || q->nareas > STORE_MAX_TERMS ||
	    q->nclusters > STORE_MAX_TERMS || q->nsdgs > STORE_MAX_TERMS ||
	    q->nauthors > STORE_MAX_AUTHORS ||
	    nauthors > STORE_MAX_COUNT_AUTHORS || nlangs > STORE_MAX_TERMS)
		return LCF_EINVAL;
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if ((rc = mdb_to_lcf("counting", mdb_cursor_open(txn, s->idx, &cur))) != 0 ||
	    (rc = candidates(txn, s, cur, q, NULL, NULL, &c)) != 0 ||
	    (nlangs > 0 && (rc = lang_docs(cur, q->kind, &c, langs, nlangs,
	    &inl)) != 0))
		goto done;
	/* Each author's list is short beside the candidates: a bit each
	 * document. */
	cbits = bits_of(c.doc, c.n, &ncbits);
	lbits = bits_of(inl.docs, inl.n, &nlbits);
	for (i = 0; i < nauthors; i++) {
		memset(&one, 0, sizeof(one));
		if ((rc = open_list(cur, q->kind, TAG_AUTHOR,
		    (const char *)authors[i], AUTHOR_LEN, &one)) != 0)
			goto done;
		counts[i] = count_set(one.docs, one.n, cbits, ncbits);
		if (nlangs > 0)
			in_lang[i] = count_set(one.docs, one.n, lbits, nlbits);
		free(one.docs);
	}
done:
	free(cbits);
	free(lbits);
	free(inl.docs);
	store__hits_free(&c);
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc != 0 ? LCF_ESTORE : 0;
}

int
store_sort_parse(const char *name, const char *text)
{
	if (name == NULL)
		return text != NULL ? STORE_SORT_RELEVANCE : STORE_SORT_NEWEST;
	if (strcmp(name, "relevance") == 0)
		return STORE_SORT_RELEVANCE;
	if (strcmp(name, "newest") == 0)
		return STORE_SORT_NEWEST;
	return -1;
}

int
store_since_valid(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d, i;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	return !(m == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)));
}

int
store_periods(struct store *s, Lcf__Kind kind,
    int (*fn)(void *arg, const char *period), void *arg)
{
	uint8_t key[2] = { (uint8_t)kind, TAG_PERIOD };
	char term[TERM_MAX + 1];
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc, ret = 0;

	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if (mdb_cursor_open(txn, s->idx, &cur) != 0) {
		ret = LCF_ESTORE;
		goto out;
	}
	k.mv_data = key;
	k.mv_size = sizeof(key);
	/* Each key once (MDB_NEXT_NODUP), while it starts with kind, 'p'. */
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP)) {
		if (k.mv_size < 2 || memcmp(k.mv_data, key, 2) != 0)
			break;
		memcpy(term, (const uint8_t *)k.mv_data + 2, k.mv_size - 2);
		term[k.mv_size - 2] = '\0';
		if ((ret = fn(arg, term)) != 0)
			break;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		ret = LCF_ESTORE;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return ret;
}
