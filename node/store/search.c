// SPDX-License-Identifier: Apache-2.0
// Text search over the words table: a parsed query (model/squery.h) run
// against the posting lists of every language indexed, scored with BM25.
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "base/util.h"
#include "base/xmalloc.h"
#include "model/fold.h"
#include "model/squery.h"
#include "store/store_int.h"

#define BM25_K1 1.2f
#define BM25_B 0.75f
#define LANGS_MAX 64              /* languages one query looks in */
#define PREFIX_WORDS_MAX 2000     /* words a prefix expands to, per language */
#define MERGE_PAIRWISE 4          /* lists merged pairwise; more are summed */
#define TF_ROWS (WORDS_TF_MAX + 1) /* frequencies a posting can hold */
#define DL_CODES 256              /* length codes a posting can hold */

struct run {
	MDB_txn *txn;
	struct store *s;
	struct search *se;
	MDB_cursor *cur;              /* on words */
	int reference;                /* leaves loaded list by list (tests) */
	Lcf__Kind kind;
	char langs[LANGS_MAX][FOLD_LANG_MAX];
	int stem[LANGS_MAX];
	size_t nlangs;
	float n, avgdl;               /* BM25: text units and their mean length */
	struct bm25 *bm;              /* the thread's, for avgdl */
	int rc;                       /* the first LMDB failure, a project code */
};

void
store__hits_free(struct hits *h)
{
	free(h->doc);
	free(h->score);
	free(h->pos);
	memset(h, 0, sizeof(*h));
}

static void
hits_alloc(struct hits *h, size_t n)
{
	h->doc = xreallocarray(NULL, n ? n : 1, sizeof(*h->doc));
	h->score = xreallocarray(NULL, n ? n : 1, sizeof(*h->score));
	h->pos = xreallocarray(NULL, n ? n : 1, sizeof(*h->pos));
	h->n = 0;
}

static void
hits_put(struct hits *h, uint32_t doc, float score, uint16_t pos)
{
	h->doc[h->n] = doc;
	h->score[h->n] = score;
	h->pos[h->n++] = pos;
}

/* a | b, scores summed; a and b are consumed. */
static struct hits
hits_union(struct hits *a, struct hits *b)
{
	struct hits r;
	size_t i = 0, j = 0;

	if (a->n == 0 || b->n == 0) {
		r = a->n == 0 ? *b : *a;
		store__hits_free(a->n == 0 ? a : b);
		if (a->n == 0)
			memset(b, 0, sizeof(*b));
		else
			memset(a, 0, sizeof(*a));
		return r;
	}
	hits_alloc(&r, a->n + b->n);
	while (i < a->n || j < b->n) {
		if (j == b->n || (i < a->n && a->doc[i] < b->doc[j])) {
			hits_put(&r, a->doc[i], a->score[i], a->pos[i]);
			i++;
		} else if (i == a->n || b->doc[j] < a->doc[i]) {
			hits_put(&r, b->doc[j], b->score[j], b->pos[j]);
			j++;
		} else {
			hits_put(&r, a->doc[i], a->score[i] + b->score[j],
			    a->pos[i] | b->pos[j]);
			i++;
			j++;
		}
	}
	store__hits_free(a);
	store__hits_free(b);
	return r;
}

/* Keeps in a the documents in b (keep) or not in b (!keep); with keep, b's
 * scores are added. a is filtered in place. */
static void
hits_filter(struct hits *a, const struct hits *b, int keep)
{
	size_t i = 0, j = 0, o = 0;
	uint32_t x, y;
	int in, gallop = a->n * 8 < b->n;

	if (keep && !gallop) {
		/* Lists of like length: a step on the lower side, a document
		 * written at o, which moves on only when it is in both (no
		 * branch on either). */
		while (i < a->n && j < b->n) {
			x = a->doc[i];
			y = b->doc[j];
			in = x == y;
			a->doc[o] = x;
			a->pos[o] = a->pos[i];
			a->score[o] = a->score[i] + (in ? b->score[j] : 0);
			o += (size_t)in;
			i += x <= y;
			j += y <= x;
		}
		a->n = o;
		return;
	}
	for (i = 0; i < a->n; i++) {
		/* Galloping pays when b is much longer; else a step at a time. */
		if (gallop)
			j = store__lower_bound(b->doc, j, b->n, a->doc[i]);
		else
			while (j < b->n && b->doc[j] < a->doc[i])
				j++;
		in = j < b->n && b->doc[j] == a->doc[i];
		if (in != keep)
			continue;
		a->doc[o] = a->doc[i];
		a->pos[o] = a->pos[i];
		a->score[o++] = a->score[i] + (in ? b->score[j] : 0);
	}
	a->n = o;
}

/* Arrays indexed by document number for hits_join, kept per thread and
 * zero between joins: allocating them for every query cost more than
 * summing (fresh pages). They grow with the highest document number joined
 * (6 bytes a document) and live as long as the thread. */
static __thread struct {
	float *score;
	uint16_t *pos;
	uint64_t *seen;               /* a bit a document: the ones summed */
	size_t n;
} tls_dense;

static pthread_key_t dense_key;
static pthread_once_t dense_once = PTHREAD_ONCE_INIT;

/* BM25's term part tf (k1 + 1) / (tf + k1 (1 - b + b dl / avgdl)) for
 * every frequency and length code a posting can hold, kept per thread for
 * one mean length avgdl (which moves only when practices come or go): a
 * row of 256 is worked out when a query first needs it, so that a query
 * costs no divisions once its rows are there (the first version tabled the
 * frequencies under 16 for each query and divided for the others: many a
 * common word's frequencies are higher). */
struct bm25 {
	float avgdl;
	float dlpart[DL_CODES];       /* k1 (1 - b + b dl / avgdl) */
	uint8_t row_ok[TF_ROWS];
	float part[TF_ROWS][DL_CODES];
};

static __thread struct bm25 *tls_bm25;

/* At a thread's end (its TLS is still there while key destructors run). */
static void
dense_free(void *p)
{
	(void)p;
	free(tls_dense.score);
	free(tls_dense.pos);
	free(tls_dense.seen);
	memset(&tls_dense, 0, sizeof(tls_dense));
	free(tls_bm25);
	tls_bm25 = NULL;
}

static void
dense_key_init(void)
{
	(void)pthread_key_create(&dense_key, dense_free);
}

/* Grows the per-thread arrays to hold documents below n, keeping what they
 * hold (a sum may grow them half way). */
static void
dense_reserve(size_t n)
{
	size_t old = tls_dense.n;

	if (n <= old)
		return;
	if (old == 0) {
		(void)pthread_once(&dense_once, dense_key_init);
		(void)pthread_setspecific(dense_key, &tls_dense);
	}
	n = n < 2 * old ? 2 * old : n;
	n = (n + 63) & ~(size_t)63;
	tls_dense.score = xreallocarray(tls_dense.score, n,
	    sizeof(*tls_dense.score));
	tls_dense.pos = xreallocarray(tls_dense.pos, n, sizeof(*tls_dense.pos));
	tls_dense.seen = xreallocarray(tls_dense.seen, n / 64,
	    sizeof(*tls_dense.seen));
	memset(tls_dense.score + old, 0, (n - old) * sizeof(*tls_dense.score));
	memset(tls_dense.pos + old, 0, (n - old) * sizeof(*tls_dense.pos));
	memset(tls_dense.seen + old / 64, 0, (n - old) / 64 *
	    sizeof(*tls_dense.seen));
	tls_dense.n = n;
}

/* Moves the documents summed in the per-thread arrays, in words lo..hi of
 * the bit set, into r (room for them all), leaving the arrays zeroed. */
static void
dense_take(struct hits *r, size_t lo, size_t hi)
{
	float *sc = tls_dense.score;
	uint16_t *ps = tls_dense.pos;
	uint64_t *seen = tls_dense.seen, bits;
	uint32_t d;
	size_t w;

	for (w = lo; w <= hi; w++) {
		for (bits = seen[w]; bits != 0; bits &= bits - 1) {
			d = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
			hits_put(r, d, sc[d], ps[d]);
			sc[d] = 0.0f;
			ps[d] = 0;
		}
		seen[w] = 0;
	}
}

/* Joins n lists into one (they are consumed), a document's scores summed
 * and positions joined: few are merged pairwise; many are summed in arrays
 * indexed by document number, when those are not much longer than the
 * postings, else merged pairwise all the same. */
static struct hits
hits_join(struct hits *l, size_t n)
{
	struct hits r;
	float *sc;
	uint16_t *ps;
	uint64_t *seen;
	uint32_t max = 0, d;
	size_t i, j, total = 0;

	memset(&r, 0, sizeof(r));
	if (n <= MERGE_PAIRWISE) {
		for (i = 0; i < n; i++)
			r = hits_union(&r, &l[i]);
		return r;
	}
	for (i = 0; i < n; i++) {
		total += l[i].n;
		if (l[i].n > 0 && l[i].doc[l[i].n - 1] > max)
			max = l[i].doc[l[i].n - 1];
	}
	if ((size_t)max > 16 * total) {
		for (i = 0; i < n; i++)
			r = hits_union(&r, &l[i]);
		return r;
	}
	dense_reserve((size_t)max + 1);
	sc = tls_dense.score;
	ps = tls_dense.pos;
	seen = tls_dense.seen;
	for (i = 0; i < n; i++) {
		for (j = 0; j < l[i].n; j++) {
			d = l[i].doc[j];
			sc[d] += l[i].score[j];
			ps[d] |= l[i].pos[j];
			seen[d / 64] |= (uint64_t)1 << (d % 64);
		}
		store__hits_free(&l[i]);
	}
	/* Only the words of the bit set that have a bit are read; everything
	 * is left zeroed for the next join. */
	hits_alloc(&r, total);
	dense_take(&r, 0, max / 64);
	return r;
}

/* A growing set of lists to join. */
struct lists {
	struct hits *l;
	size_t n, cap;
};

static void
lists_push(struct lists *ls, struct hits h)
{
	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? 2 * ls->cap : 8;
		ls->l = xreallocarray(ls->l, ls->cap, sizeof(*ls->l));
	}
	ls->l[ls->n++] = h;
}

static struct hits
lists_join(struct lists *ls)
{
	struct hits r = hits_join(ls->l, ls->n);

	free(ls->l);
	memset(ls, 0, sizeof(*ls));
	return r;
}

/* The thread's table for the mean length avgdl. */
static struct bm25 *
bm25_table(float avgdl)
{
	struct bm25 *t = tls_bm25;
	unsigned dl;

	if (t == NULL) {
		(void)pthread_once(&dense_once, dense_key_init);
		(void)pthread_setspecific(dense_key, &tls_dense);
		t = tls_bm25 = xcalloc(1, sizeof(*t));
		t->avgdl = -1.0f;
	}
	if (t->avgdl != avgdl) {
		t->avgdl = avgdl;
		for (dl = 0; dl < DL_CODES; dl++)
			t->dlpart[dl] = BM25_K1 * (1.0f - BM25_B + BM25_B *
			    words_dl_len(dl) / avgdl);
		memset(t->row_ok, 0, sizeof(t->row_ok));
	}
	return t;
}

static void
bm25_row(struct bm25 *t, unsigned tf)
{
	unsigned dl;

	for (dl = 0; dl < DL_CODES; dl++)
		t->part[tf][dl] = (float)tf * (BM25_K1 + 1.0f) /
		    ((float)tf + t->dlpart[dl]);
	t->row_ok[tf] = 1;
}

/* BM25's term part of a posting b (its frequency and length code). */
static inline float
tf_part(const struct run *r, const uint8_t *b)
{
	if (!r->bm->row_ok[b[4]])
		bm25_row(r->bm, b[4]);
	return r->bm->part[b[4]][b[5]];
}

/* The lists of one leaf (a word in its languages and forms, a prefix's
 * words), joined: a document's scores are summed in the order the lists
 * come (so the sum, a float, is the same either way) and its positions
 * joined. The summed way adds each posting, as read from LMDB's pages, to
 * the per-thread arrays (hits_join's), and takes the documents out at the
 * end: no list of its own is built. The loaded way (reference, for tests)
 * builds one per list and joins them with hits_join. */
struct gather {
	struct lists ls;              /* loaded; summed: the first list */
	size_t lo, hi;                /* summed: words of the bit set touched */
	size_t total;                 /* summed: postings */
	int pos;                      /* summed: positions kept (phrases) */
};

/* Sums the posting list at the cursor's key (positioned there). */
static int
sum_list(struct run *r, struct gather *g)
{
	MDB_val k, v;
	size_t cnt = 0, got = 0, m, i;
	const uint8_t *b;
	float idf, *sc;
	uint16_t *ps;
	uint64_t *seen;
	uint32_t d;
	int rc;

	if ((rc = mdb_cursor_count(r->cur, &cnt)) != 0)
		return rc;
	idf = logf(1.0f + (r->n - (float)cnt + 0.5f) / ((float)cnt + 0.5f));
	if (idf < 0.01f)
		idf = 0.01f;
	if ((rc = mdb_cursor_get(r->cur, &k, &v, MDB_GET_CURRENT)) == 0)
		rc = mdb_cursor_get(r->cur, &k, &v, MDB_GET_MULTIPLE);
	while (rc == 0) {
		m = v.mv_size / WORDS_VAL_LEN;
		if (m == 0 || got + m > cnt || v.mv_size % WORDS_VAL_LEN != 0)
			return MDB_CORRUPTED;
		/* A page's documents ascend: its last is its highest. */
		b = (const uint8_t *)v.mv_data;
		d = get_be32(b + (m - 1) * WORDS_VAL_LEN);
		dense_reserve((size_t)d + 1);
		if (d / 64 > g->hi)
			g->hi = d / 64;
		if ((d = get_be32(b)) / 64 < g->lo)
			g->lo = d / 64;
		got += m;
		g->total += m;
		sc = tls_dense.score;
		ps = tls_dense.pos;
		seen = tls_dense.seen;
		for (i = 0; i < m; i++, b += WORDS_VAL_LEN) {
			d = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
			    (uint32_t)b[2] << 8 | b[3];
			if (d >= tls_dense.n)
				return MDB_CORRUPTED;         /* not ascending */
			sc[d] += idf * tf_part(r, b);
			if (g->pos)
				ps[d] |= (uint16_t)(b[6] << 8 | b[7]);
			seen[d / 64] |= (uint64_t)1 << (d % 64);
		}
		rc = mdb_cursor_get(r->cur, &k, &v, MDB_NEXT_MULTIPLE);
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The posting list at the cursor's key (positioned there), scored. */
static int
load_scored(struct run *r, struct hits *out)
{
	MDB_val k, v;
	size_t cnt = 0, m, i;
	const uint8_t *b;
	float idf;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = mdb_cursor_count(r->cur, &cnt)) != 0)
		return rc;
	idf = logf(1.0f + (r->n - (float)cnt + 0.5f) / ((float)cnt + 0.5f));
	if (idf < 0.01f)
		idf = 0.01f;
	hits_alloc(out, cnt);
	/* A key with one value has no page of them: GET_MULTIPLE leaves v
	 * as GET_CURRENT set it. */
	if ((rc = mdb_cursor_get(r->cur, &k, &v, MDB_GET_CURRENT)) == 0)
		rc = mdb_cursor_get(r->cur, &k, &v, MDB_GET_MULTIPLE);
	while (rc == 0) {
		m = v.mv_size / WORDS_VAL_LEN;
		if (out->n + m > cnt || v.mv_size % WORDS_VAL_LEN != 0)
			return MDB_CORRUPTED;
		for (i = 0, b = v.mv_data; i < m; i++, b += WORDS_VAL_LEN)
			hits_put(out, get_be32(b), idf * tf_part(r, b),
			    (uint16_t)(b[6] << 8 | b[7]));
		rc = mdb_cursor_get(r->cur, &k, &v, MDB_NEXT_MULTIPLE);
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* pos: whether the leaf's positions are wanted (a word of a phrase); the
 * other leaves' are never read. */
static void
gather_init(struct gather *g, int pos)
{
	memset(g, 0, sizeof(*g));
	g->lo = SIZE_MAX;
	g->pos = pos;
}

/* Adds the documents of h to the per-thread arrays (h is consumed). */
static void
sum_hits(struct gather *g, struct hits *h)
{
	size_t i;
	uint32_t d;

	if (h->n > 0) {
		dense_reserve((size_t)h->doc[h->n - 1] + 1);
		if (h->doc[0] / 64 < g->lo)
			g->lo = h->doc[0] / 64;
		if (h->doc[h->n - 1] / 64 > g->hi)
			g->hi = h->doc[h->n - 1] / 64;
	}
	for (i = 0; i < h->n; i++) {
		d = h->doc[i];
		tls_dense.score[d] += h->score[i];
		tls_dense.pos[d] |= h->pos[i];
		tls_dense.seen[d / 64] |= (uint64_t)1 << (d % 64);
	}
	g->total += h->n;
	store__hits_free(h);
}

/* Adds the list at the cursor's key (positioned there) to g. The first is
 * loaded as it is (a word in one language needs nothing more); from the
 * second on, the lists are summed (the first too). */
static int
gather_list(struct run *r, struct gather *g)
{
	struct hits h;
	int rc;

	if (!r->reference && g->ls.n + g->total > 0) {
		if (g->ls.n == 1)
			sum_hits(g, &g->ls.l[--g->ls.n]);
		return sum_list(r, g);
	}
	if ((rc = load_scored(r, &h)) == 0)
		lists_push(&g->ls, h);
	else
		store__hits_free(&h);
	return rc;
}

/* The documents of g's lists (a sum is taken out even after a failure, so
 * that the per-thread arrays are left zeroed). */
static struct hits
gather_end(struct gather *g)
{
	struct hits h;

	if (g->total == 0 || g->lo == SIZE_MAX)
		return lists_join(&g->ls);
	free(g->ls.l);
	hits_alloc(&h, g->total);
	dense_take(&h, g->lo, g->hi);
	return h;
}

static size_t
words_key(uint8_t *key, Lcf__Kind kind, const char *lang, const char *w, size_t n)
{
	size_t ll = strlen(lang);

	key[0] = (uint8_t)kind;
	memcpy(key + 1, lang, ll);
	key[1 + ll] = ':';
	memcpy(key + 2 + ll, w, n);
	return 2 + ll + n;
}

/* Adds the list of one word of language lang to g. */
static void
word_list(struct run *r, struct gather *g, const char *lang, const char *f)
{
	uint8_t key[WORDS_KEY_MAX];
	MDB_val k, v;
	int rc;

	k.mv_data = key;
	k.mv_size = words_key(key, r->kind, lang, f, strlen(f));
	rc = mdb_cursor_get(r->cur, &k, &v, MDB_SET_KEY);
	if (rc == 0)
		rc = gather_list(r, g);
	if (rc != 0 && rc != MDB_NOTFOUND)
		r->rc = mdb_to_lcf("searching", rc);
}

/* A word: its folded stem in each language (and the stem of it typed
 * without diacritics), the lists joined. */
static struct hits
eval_word(struct run *r, const char *word)
{
	char f[FOLD_WORD_MAX + 1], alt[FOLD_WORD_MAX + 1];
	struct gather g;
	size_t i;

	gather_init(&g, 0);
	for (i = 0; i < r->nlangs && r->rc == 0; i++) {
		if (fold_word(r->langs[i], word, strlen(word), r->stem[i], f,
		    alt) == 0)
			continue;
		word_list(r, &g, r->langs[i], f);
		if (alt[0] != '\0')
			word_list(r, &g, r->langs[i], alt);
	}
	return gather_end(&g);
}

/* A prefix: every word of each language that starts with it (folded, not
 * stemmed), at most PREFIX_WORDS_MAX a language, the lists joined. */
static struct hits
eval_prefix(struct run *r, const char *word)
{
	uint8_t key[WORDS_KEY_MAX];
	char f[FOLD_WORD_MAX + 1];
	struct gather g;
	MDB_val k, v;
	size_t i, n, kl, words;
	int rc;

	gather_init(&g, 0);
	n = fold_plain(word, strlen(word), f);
	for (i = 0; i < r->nlangs && r->rc == 0 && n > 0; i++) {
		k.mv_data = key;
		k.mv_size = kl = words_key(key, r->kind, r->langs[i], f, n);
		rc = mdb_cursor_get(r->cur, &k, &v, MDB_SET_RANGE);
		for (words = 0; rc == 0 && words < PREFIX_WORDS_MAX; words++) {
			if (k.mv_size < kl || memcmp(k.mv_data, key, kl) != 0)
				break;
			if ((rc = gather_list(r, &g)) != 0)
				break;
			rc = mdb_cursor_get(r->cur, &k, &v, MDB_NEXT_NODUP);
		}
		if (rc != 0 && rc != MDB_NOTFOUND)
			r->rc = mdb_to_lcf("searching", rc);
	}
	return gather_end(&g);
}

/* A word's list in language li: its stem's and its other form's. */
static struct hits
word_in_lang(struct run *r, size_t li, const char *word)
{
	char f[FOLD_WORD_MAX + 1], alt[FOLD_WORD_MAX + 1];
	struct gather g;

	gather_init(&g, 1);
	if (fold_word(r->langs[li], word, strlen(word), r->stem[li], f, alt) > 0) {
		word_list(r, &g, r->langs[li], f);
		if (alt[0] != '\0')
			word_list(r, &g, r->langs[li], alt);
	}
	return gather_end(&g);
}

static uint16_t
rotl16(uint16_t x, unsigned s)
{
	s %= 16;
	return s == 0 ? x : (uint16_t)((x << s) | (x >> (16 - s)));
}

/* Keeps in acc the documents of w where a word of w may follow one of acc at
 * distance shift (positions modulo 16); the positions kept are w's. */
static void
adjacent(struct hits *acc, const struct hits *w, unsigned shift)
{
	size_t i = 0, j = 0, o = 0;
	uint32_t a, b;
	uint16_t m;
	int gallop = acc->n * 8 < w->n;

	while (i < acc->n && j < w->n) {
		a = acc->doc[i];
		if (gallop && (j = store__lower_bound(w->doc, j, w->n, a)) == w->n)
			break;
		b = w->doc[j];
		if (a != b) {
			/* Lists of like length: a step on the lower side, with
			 * no branch on which. */
			i += a < b;
			j += b < a;
			continue;
		}
		if ((m = rotl16(acc->pos[i], shift) & w->pos[j]) != 0) {
			acc->doc[o] = a;
			acc->score[o] = acc->score[i] + w->score[j];
			acc->pos[o++] = m;
		}
		i++;
		j++;
	}
	acc->n = o;
}

/* A phrase: in each language, the documents where its words may stand next
 * to each other by their positions modulo 16 (store__search_match then
 * reads the text of those it shows). */
static struct hits
eval_phrase(struct run *r, const struct squery_node *nd)
{
	struct lists out = { 0 };
	struct hits acc, w;
	size_t li, k;
	unsigned shift;
	int first;

	for (li = 0; li < r->nlangs && r->rc == 0; li++) {
		memset(&acc, 0, sizeof(acc));
		first = 1;
		shift = 0;
		for (k = 0; k < nd->nwords; k++) {
			shift++;
			if (nd->words[k][0] == '\0')
				continue;
			w = word_in_lang(r, li, nd->words[k]);
			if (first) {
				acc = w;
				first = 0;
			} else {
				adjacent(&acc, &w, shift);
				store__hits_free(&w);
			}
			shift = 0;
			if (acc.n == 0)
				break;
		}
		lists_push(&out, acc);
	}
	return lists_join(&out);
}

static struct hits eval(struct run *r, const struct squery_node *nd);

/* Every kid's documents (scores summed), none of a NOT kid's. */
static struct hits
eval_and(struct run *r, const struct squery_node *nd)
{
	struct hits acc = { 0 }, h;
	size_t i;
	int first = 1;

	for (i = 0; i < nd->nkids; i++) {
		if (nd->kids[i]->op == SQUERY_NOT)
			continue;
		h = eval(r, nd->kids[i]);
		if (first) {
			acc = h;
			first = 0;
		} else {
			/* Filter the smaller by the larger. */
			if (h.n < acc.n) {
				struct hits t = acc;

				acc = h;
				h = t;
			}
			hits_filter(&acc, &h, 1);
			store__hits_free(&h);
		}
	}
	for (i = 0; i < nd->nkids && acc.n > 0; i++) {
		if (nd->kids[i]->op != SQUERY_NOT)
			continue;
		h = eval(r, nd->kids[i]->kids[0]);
		hits_filter(&acc, &h, 0);
		store__hits_free(&h);
	}
	return acc;
}

/* Keeps a copy of a leaf's documents for store__search_match. */
static void
keep_leaf(struct run *r, const struct squery_node *nd, const struct hits *h)
{
	struct hits *c;

	if (!r->se->q->has_phrase || nd->leaf < 0)
		return;
	c = &r->se->leaf[nd->leaf];
	store__hits_free(c);
	hits_alloc(c, h->n);
	memcpy(c->doc, h->doc, h->n * sizeof(*h->doc));
	memcpy(c->score, h->score, h->n * sizeof(*h->score));
	memcpy(c->pos, h->pos, h->n * sizeof(*h->pos));
	c->n = h->n;
}

static struct hits
eval(struct run *r, const struct squery_node *nd)
{
	struct hits h = { 0 };
	struct lists ls = { 0 };
	size_t i;

	switch (nd->op) {
	case SQUERY_WORD:
		h = eval_word(r, nd->words[0]);
		break;
	case SQUERY_PREFIX:
		h = eval_prefix(r, nd->words[0]);
		break;
	case SQUERY_PHRASE:
		h = eval_phrase(r, nd);
		break;
	case SQUERY_AND:
		h = eval_and(r, nd);
		break;
	case SQUERY_OR:
		for (i = 0; i < nd->nkids; i++)
			lists_push(&ls, eval(r, nd->kids[i]));
		h = lists_join(&ls);
		break;
	case SQUERY_NOT:
		/* Only under AND, which handles it. */
		break;
	}
	keep_leaf(r, nd, &h);
	return h;
}

/* The languages of the index: the TAG_LANG lists of kind in idx. */
static int
index_langs(struct run *r)
{
	uint8_t key[2] = { (uint8_t)r->kind, TAG_LANG };
	MDB_cursor *c = NULL;
	MDB_val k = { sizeof(key), key }, v;
	size_t n;
	int rc;

	if ((rc = mdb_cursor_open(r->txn, r->s->idx, &c)) != 0)
		return mdb_to_lcf("searching", rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && r->nlangs < LANGS_MAX && k.mv_size > 2 &&
	    memcmp(k.mv_data, key, 2) == 0) {
		n = k.mv_size - 2;
		if (n < FOLD_LANG_MAX) {
			memcpy(r->langs[r->nlangs], (const char *)k.mv_data + 2, n);
			r->langs[r->nlangs][n] = '\0';
			r->stem[r->nlangs] = fold_lang(r->langs[r->nlangs],
			    r->langs[r->nlangs]);
			r->nlangs++;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_NODUP);
	}
	mdb_cursor_close(c);
	return mdb_to_lcf("searching", rc == MDB_NOTFOUND ? 0 : rc);
}

int
store__search_run(MDB_txn *txn, struct store *s, Lcf__Kind kind,
    struct search *se)
{
	struct run r;
	uint64_t units, len;
	int ret;

	memset(&r, 0, sizeof(r));
	r.txn = txn;
	r.s = s;
	r.se = se;
	r.kind = kind;
	r.reference = se->reference;
	if ((ret = store__text_stats(txn, s, kind, &units, &len)) != 0)
		return ret;
	r.n = (float)units;
	r.avgdl = units ? (float)len / (float)units : 1.0f;
	if (r.avgdl < 1.0f)
		r.avgdl = 1.0f;
	r.bm = bm25_table(r.avgdl);
	if (se->lang != NULL) {
		snprintf(r.langs[0], sizeof(r.langs[0]), "%s", se->lang);
		r.stem[0] = fold_lang(se->lang, r.langs[0]);
		r.nlangs = 1;
	} else if ((ret = index_langs(&r)) != 0) {
		return ret;
	}
	if ((ret = mdb_to_lcf("searching", mdb_cursor_open(txn, s->words,
	    &r.cur))) != 0)
		return ret;
	se->result = eval(&r, se->q->root);
	mdb_cursor_close(r.cur);
	if (r.rc != 0)
		store__hits_free(&se->result);
	return r.rc;
}

static int
in_hits(const struct hits *h, uint32_t doc)
{
	size_t i = store__lower_bound(h->doc, 0, h->n, doc);

	return i < h->n && h->doc[i] == doc;
}

static int
match(const struct search *se, const struct squery_node *nd, uint32_t doc,
    const Lcf__Practice *pr)
{
	size_t i;

	switch (nd->op) {
	case SQUERY_WORD:
	case SQUERY_PREFIX:
		return in_hits(&se->leaf[nd->leaf], doc);
	case SQUERY_PHRASE:
		return in_hits(&se->leaf[nd->leaf], doc) && pr != NULL &&
		    store__text_has_phrase(pr, se->lang, nd->words, nd->nwords);
	case SQUERY_AND:
		for (i = 0; i < nd->nkids; i++) {
			if (nd->kids[i]->op == SQUERY_NOT ?
			    match(se, nd->kids[i]->kids[0], doc, pr) :
			    !match(se, nd->kids[i], doc, pr))
				return 0;
		}
		return 1;
	case SQUERY_OR:
		for (i = 0; i < nd->nkids; i++)
			if (match(se, nd->kids[i], doc, pr))
				return 1;
		return 0;
	case SQUERY_NOT:
		return !match(se, nd->kids[0], doc, pr);
	}
	return 0;
}

int
store__search_match(const struct search *se, uint32_t doc, const Lcf__Content *c)
{
	if (!se->q->has_phrase)
		return 1;
	return match(se, se->q->root, doc,
	    c->body_case == LCF__CONTENT__BODY_PRACTICE ? c->practice : NULL);
}

void
store__search_free(struct search *se)
{
	size_t i;

	for (i = 0; i < SQUERY_MAX_TERMS; i++)
		store__hits_free(&se->leaf[i]);
	store__hits_free(&se->result);
}
