// SPDX-License-Identifier: Apache-2.0
// Queries over the store: posting lists loaded and intersected in memory.
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

struct word_collect {
	char words[STORE_MAX_TERMS][WORD_MAX + 1];
	size_t n;
	int overflow;
};

static void
collect_word(void *arg, const char *w, size_t n)
{
	struct word_collect *wc = arg;
	size_t i;

	for (i = 0; i < wc->n; i++)
		if (strlen(wc->words[i]) == n && memcmp(wc->words[i], w, n) == 0)
			return;
	if (wc->n == STORE_MAX_TERMS) {
		wc->overflow = 1;
		return;
	}
	memcpy(wc->words[wc->n], w, n);
	wc->words[wc->n][n] = '\0';
	wc->n++;
}

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

/* First index in a[lo..n) whose value is >= v (a is ascending). */
static size_t
lower_bound(const uint32_t *a, size_t lo, size_t n, uint32_t v)
{
	size_t step = 1, hi;

	/* Gallop, then bisect: cheap when the next match is near. */
	while (lo + step < n && a[lo + step] < v)
		step *= 2;
	hi = lo + step < n ? lo + step + 1 : n;
	lo += step / 2;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Keeps in r (ascending, nr) the values present (keep = 1) or absent
 * (keep = 0) in b. Returns the new length. */
static size_t
filter_sorted(uint32_t *r, size_t nr, const uint32_t *b, size_t nb, int keep)
{
	size_t i, j = 0, o = 0;

	for (i = 0; i < nr; i++) {
		j = lower_bound(b, j, nb, r[i]);
		if ((j < nb && b[j] == r[i]) == keep)
			r[o++] = r[i];
	}
	return o;
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

int
store_query(struct store *s, const struct store_query *q, store_visit_fn fn,
    void *arg, int *truncated)
{
	struct plist pl[3 * STORE_MAX_TERMS + 8], del;
	struct word_collect wc;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v, rk, rv;
	size_t n = 0, i, nres, emitted = 0;
	uint32_t *res = NULL;
	int rc = 0, ret = 0;

	*truncated = 0;
	memset(pl, 0, sizeof(pl));
	memset(&del, 0, sizeof(del));
	memset(&wc, 0, sizeof(wc));
	store_words(q->text, collect_word, &wc);
	if (wc.overflow || q->nareas > STORE_MAX_TERMS ||
	    q->nclusters > STORE_MAX_TERMS || q->nauthors > STORE_MAX_AUTHORS)
		return LCF_EINVAL;
	if (q->text != NULL && wc.n == 0)
		return LCF_EINVAL;
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if ((rc = mdb_to_lcf("query", mdb_cursor_open(txn, s->idx, &cur))) != 0)
		goto done;

#define LIST(tag, term, len)                                                   \
	do {                                                                   \
		if ((rc = open_list(cur, q->kind, tag, term, len, &pl[n++])) != 0) \
			goto done;                                             \
	} while (0)

	for (i = 0; i < q->nareas; i++)
		LIST(TAG_AREA, q->areas[i], strlen(q->areas[i]));
	for (i = 0; i < q->nclusters; i++)
		LIST(TAG_CLUSTER, q->clusters[i], strlen(q->clusters[i]));
	if (q->country != NULL)
		LIST(TAG_COUNTRY, q->country, strlen(q->country));
	if (q->author != NULL || q->nauthors > 0) {
		if ((rc = open_authors(cur, q, &pl[n++])) != 0)
			goto done;
	}
	if (q->indicator != NULL)
		LIST(TAG_INDICATOR, q->indicator, strlen(q->indicator));
	if (q->period != NULL)
		LIST(TAG_PERIOD, q->period, strlen(q->period));
	for (i = 0; i < wc.n; i++)
		LIST(TAG_WORD, wc.words[i], strlen(wc.words[i]));
	if (n == 0) {
		/* No filter: every current version, tombstones unless asked. */
		LIST(TAG_ALL, "", 0);
		if (!q->include_deleted &&
		    (rc = open_list(cur, q->kind, TAG_DELETED, "", 0, &del)) != 0)
			goto done;
	}
#undef LIST

	/* Start from the shortest list: the answer is no longer than it. */
	qsort(pl, n, sizeof(pl[0]), plist_cmp);
	res = pl[0].docs;
	pl[0].docs = NULL;
	nres = pl[0].n;
	for (i = 1; i < n && nres > 0; i++)
		nres = filter_sorted(res, nres, pl[i].docs, pl[i].n, 1);
	if (del.n > 0)
		nres = filter_sorted(res, nres, del.docs, del.n, 0);

	/* Higher document numbers were stored later: newest first. */
	if (q->before != 0)
		nres = lower_bound(res, 0, nres, q->before);
	for (i = nres; i-- > 0;) {
		if (q->limit && emitted == q->limit) {
			*truncated = 1;
			if (q->next != NULL)
				*q->next = res[i + 1];
			break;
		}
		k.mv_data = &res[i];
		k.mv_size = sizeof(uint32_t);
		if (mdb_get(txn, s->docs, &k, &v) != 0 || v.mv_size != RECORD_ID_LEN)
			continue;
		rk = v;
		if (rec_get(txn, s, rk.mv_data, &rv) != 0)
			continue;
		if (q->keep != NULL && !q->keep(q->keep_arg, rv.mv_data, rv.mv_size))
			continue;
		emitted++;
		if ((ret = fn(arg, rk.mv_data, rv.mv_data, rv.mv_size)) != 0)
			break;
	}
	rc = 0;
done:
	for (i = 0; i < n; i++)
		free(pl[i].docs);
	free(del.docs);
	free(res);
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (ret != 0)
		return ret;
	/* rc is a project code, logged where it arose. */
	return rc != 0 ? LCF_ESTORE : 0;
}

