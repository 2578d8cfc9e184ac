// SPDX-License-Identifier: Apache-2.0
// The store's internals, shared by store.c (opening, writing, reading),
// postings.c (query index postings), store_query.c and store_sync.c.
#ifndef LCF_STORE_INT_H
#define LCF_STORE_INT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <string.h>

#include <lmdb.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "model/fold.h"
#include "model/record.h"
#include "model/squery.h"
#include "store/store.h"

#define AUTHOR_LEN 32
#define CURRENT_VAL_LEN (8 + RECORD_ID_LEN + 4)   /* seq, id, doc */
#define PENDING_FLUSH (1u << 20)                   /* postings held per flush */
#define TERM_MAX 200
#define IDX_KEY_MAX (2 + TERM_MAX)
#define CUR_KEY_MAX (AUTHOR_LEN + 1 + 256)
#define WORD_MIN 2
#define WORD_MAX 32
#define ROW_LEN 8                                  /* a row number, big-endian */
#define MIGRATE_BATCH 50000                        /* records per upgrade txn */

/* Posting tags: see docs/ARCHITECTURE.md. */
#define TAG_ALL '*'
#define TAG_DELETED '-'
#define TAG_AREA 'a'
#define TAG_CLUSTER 'c'
#define TAG_COUNTRY 'n'
#define TAG_AUTHOR 'u'
#define TAG_WORD 'w'
#define TAG_INDICATOR 'i'
#define TAG_PERIOD 'p'
#define TAG_LANG 'l'          /* a language of the text (own, translations) */
#define TAG_SDG 'g'           /* an SDG, in decimal */
#define TAG_DAY 'd'           /* the record's day, YYYY-MM-DD (UTC) */

/* The text index ("words"): key kind (1), language code, ':', folded stem;
 * values WORDS_VAL_LEN bytes: document (4, big-endian, so that a list sorts
 * by document), weighted term frequency (1, at most 255), the length of the
 * document's text in that language (1, words_dl_code), and the positions of
 * the word in that text modulo 16 as a bit set (2, big-endian), which rules
 * out most phrase candidates before their text is read. Meta key "text" + kind: text units (documents x
 * languages) and their summed lengths, 8 bytes big-endian each (BM25's
 * average length). */
#define WORDS_VAL_LEN 8
#define WORDS_KEY_MAX (1 + 9 + 1 + 64)

struct store {
	MDB_env *env;
	MDB_dbi meta, rows, ids, current, seq, idx, docs, words;
	/* "late": author, seq -> id of every record of a kind that a peer of
	 * the base protocol version is not sent (kinds_late), like seq. */
	MDB_dbi late;
	char *path;
	struct iblt_set *sketch;      /* every stored id: see store_sketch */
	struct iblt_set *late_sketch; /* the ids in "late" */
	/* Held while ids join both sketches and while store_sketch_view reads
	 * them, so that a view never sees an id in one and not the other. */
	pthread_mutex_t sketch_mu;
	/* store_space.c: blocks reserved ahead of the map; changed only by
	 * the holder of write_mu, which store_txn_begin takes and the
	 * transaction's end gives back. */
	pthread_mutex_t write_mu;
	int fd;                       /* the data file, LMDB's */
	uint64_t psize, mapsize;
	uint64_t reserved_end;        /* blocks below are known allocated */
	int space_off;                /* the file system cannot reserve */
	/* store_quarantine.c: ids noted by reads (quar_n of them, with
	 * why), under quar_mu; quar_any is set once the quarantine table
	 * holds a record, so that store_put looks there only then. */
	MDB_dbi quarantine;
	pthread_mutex_t quar_mu;
	uint8_t *quar_ids, *quar_why;
	size_t quar_n;
	int quar_any;
};

/*
 * Postings written by one store_put are gathered per term and written in key
 * order with MDB_MULTIPLE, one call per term: an import of many records then
 * costs a few thousand B-tree descents instead of one per posting. Document
 * numbers only grow, so each term's list arrives already sorted.
 *
 * The table is looked up once for every word of every text, so a lookup must
 * touch little memory: a term is one 64-byte slot (one cache line) holding its
 * hash, its key when short (every word is), its last document (a word repeated
 * in a record is dropped without reading the list) and its list.
 */
#define SLOT_KEY_INLINE 40

struct slot {
	uint32_t *docs;               /* NULL: the slot is free */
	uint32_t hash;
	uint32_t n;                   /* capacity: 4, then the next power of 2 */
	uint32_t last;                /* docs[n - 1] */
	uint16_t len;
	union {
		uint8_t key[SLOT_KEY_INLINE];   /* len <= SLOT_KEY_INLINE */
		uint8_t *long_key;              /* else, allocated */
	} k;
};

_Static_assert(sizeof(struct slot) == 64, "a slot is one cache line");

struct pending {
	struct slot *slots;           /* open addressing on the key hash */
	size_t nslots, nterms, nposts;
	int words;                    /* 1: for the words table (8-byte values,
	                               * two uint32 of docs each), else idx */
	int64_t text_units, text_len; /* words: changes to the meta counters */
	struct slot **terms;          /* a flush's terms in key order: kept here
	                               * so that a flush cut short leaks nothing */
};

static inline int
map_err(int rc)
{
	if (rc == MDB_MAP_FULL)
		return LCF_EMAPFULL;
	if (rc == MDB_NOTFOUND)
		return LCF_ENOTFOUND;
	return LCF_ESTORE;
}

static inline void
log_mdb(const char *what, int rc)
{
	/* A full map is told once per episode, with what to do, by the
	 * writer's caller (core/space.c): here only at debug level. */
	if (rc == MDB_MAP_FULL)
		log_debug("store: %s: %s", what, mdb_strerror(rc));
	else if (rc != 0 && rc != MDB_NOTFOUND)
		log_warnx("store: %s: %s", what, mdb_strerror(rc));
}

/* An LMDB result at the store's boundary: 0 stays 0; a failure is logged with
 * what the store was doing and LMDB's words (MDB_NOTFOUND is not logged) and
 * becomes a project code. */
static inline int
mdb_to_lcf(const char *what, int rc)
{
	log_mdb(what, rc);
	return rc == 0 ? 0 : map_err(rc);
}

static inline int
rd_begin(struct store *s, MDB_txn **txn)
{
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);

	log_mdb("read transaction", rc);
	return rc;
}

/* Ends a read: closes the cursor (may be NULL) and the transaction, and gives
 * the visitor's stop value, else 0 or the LMDB error as a project code. */
static inline int
rd_end(MDB_txn *txn, MDB_cursor *cur, int ret, int rc)
{
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (ret != 0)
		return ret;
	return rc == 0 ? 0 : map_err(rc);
}

/* Adds delta (-1 takes one away) to the counter under key in meta, which
 * never goes below 0: 0 or a project code. */
static inline int
meta_add_key(MDB_txn *txn, struct store *s, const void *key, size_t keylen,
    int64_t delta)
{
	MDB_val k = { keylen, (void *)key }, v;
	uint8_t buf[8];
	uint64_t cur = 0;
	int rc;

	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		cur = get_be64(v.mv_data);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_to_lcf("counter", rc);
	if (delta < 0 && cur < (uint64_t)-delta)
		cur = 0;
	else
		cur += (uint64_t)delta;
	put_be64(buf, cur);
	v.mv_data = buf;
	v.mv_size = 8;
	return mdb_to_lcf("counter", mdb_put(txn, s->meta, &k, &v, 0));
}

static inline int
meta_add(MDB_txn *txn, struct store *s, const char *name, int64_t delta)
{
	return meta_add_key(txn, s, name, strlen(name), delta);
}

/* The meta key of an author's fork counter: "F" and the author's 32 bytes. */
static inline void
fork_key(uint8_t key[1 + AUTHOR_LEN], const uint8_t *author)
{
	key[0] = 'F';
	memcpy(key + 1, author, AUTHOR_LEN);
}

/* The key of (author, kind, key) in "current": the author, the kind's byte
 * and the key (cut at CUR_KEY_MAX). Returns its length. */
static inline size_t
current_key(uint8_t *out, const uint8_t author[32], Lcf__Kind kind, const char *key)
{
	size_t kl = strlen(key);

	if (kl > CUR_KEY_MAX - AUTHOR_LEN - 1)
		kl = CUR_KEY_MAX - AUTHOR_LEN - 1;
	memcpy(out, author, AUTHOR_LEN);
	out[AUTHOR_LEN] = (uint8_t)kind;
	memcpy(out + AUTHOR_LEN + 1, key, kl);
	return AUTHOR_LEN + 1 + kl;
}

/* The bytes of the record with this id (valid until txn ends): the id index
 * gives its row, the rows table its bytes. rec_get and row_bytes are thin
 * wrappers of LMDB reads and return LMDB's codes (MDB_NOTFOUND is an answer,
 * not a failure); the public read that calls them maps the result once, with
 * rd_end or map_err. Everything that writes returns project codes. */
static inline int
rec_get(MDB_txn *txn, const struct store *s, const uint8_t *id, MDB_val *out)
{
	MDB_val k = { RECORD_ID_LEN, (void *)id }, v;
	int rc;

	if ((rc = mdb_get(txn, s->ids, &k, &v)) != 0)
		return rc;
	if (v.mv_size != ROW_LEN)
		return MDB_CORRUPTED;
	return mdb_get(txn, s->rows, &v, out);
}

/* The bytes at the row an id index entry (v) points to. */
static inline int
row_bytes(MDB_txn *txn, const struct store *s, MDB_val *v, MDB_val *out)
{
	MDB_val k = *v;
	int rc;

	if (v->mv_size != ROW_LEN)
		return MDB_CORRUPTED;
	rc = mdb_get(txn, s->rows, &k, out);
	return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
}

/* store_space.c. store__space_init reads what the reservation needs from the
 * open environment. store__space_base is where the pages in use end (bytes).
 * store__space_reserve makes sure the need bytes past base have disk blocks
 * (capped at the map and at what one LMDB transaction can dirty): 0,
 * LCF_ENOSPC (logged with what to do) or LCF_EIO. Call it only inside a write
 * transaction, holding write_mu. */
#define STORE_SPACE_MARGIN (1u << 20)     /* reserved at every txn's start */
#define STORE_SPACE_FACTOR 4              /* map growth per record byte, at most */
int store__space_init(struct store *s);
uint64_t store__space_base(struct store *s);
int store__space_reserve(struct store *s, uint64_t base, uint64_t need);
/* Reserves extra bytes more past what the open write transaction reserved
 * already: for writes that grow with what the store holds, not with the
 * records given (a city's records moved to another country). */
int store__space_extend(struct store *s, uint64_t extra);
/* After a write transaction ended (committed or not), and still under
 * write_mu: gives back the blocks reserved past the pages in use and a margin. */
void store__space_release(struct store *s);

/* postings.c: a transaction's postings, gathered per term (pending), then
 * written in key order. store__pending_flush writes and empties the table;
 * store__pending_free releases it. store__postings_add gathers the postings
 * of c as document doc; store__postings_remove deletes those of c as
 * document doc at once. Each returns 0 or a project code. */
void store__postings_add(struct pending *pd, struct pending *wpd,
    const Lcf__Content *c, const char *country, uint32_t doc);
int store__postings_remove(MDB_txn *txn, struct store *s, struct pending *wpd,
    const Lcf__Content *c, const char *country, uint32_t doc);
int store__pending_flush(MDB_txn *txn, struct store *s, struct pending *pd);
void store__pending_free(struct pending *pd);
/* Reads a whole posting list into a new array (*out, the caller frees it),
 * ascending document numbers: 0 (an absent list is empty) or a project code. */
int store__list_load(MDB_cursor *cur, const uint8_t *key, size_t klen,
    uint32_t **out, size_t *n);

/* text_index.c: the text of a practice as search terms. store__text_terms
 * calls term once for each distinct (language, folded stem) of c with its
 * weighted frequency and the weighted length of c's text in that language,
 * and unit once for each language (the practice's own and its translations'),
 * with that length. */
#define WORDS_TF_MAX 255
/* A text length in one byte: 4 * sqrt(len), rounded, at most 255 (lengths up
 * to about 4,000); words_dl_len gives a length back. */
static inline unsigned
words_dl_code(unsigned len)
{
	float q = 4.0f * sqrtf((float)len) + 0.5f;

	return q >= 255.0f ? 255 : (unsigned)q;
}

static inline float
words_dl_len(unsigned code)
{
	return (float)(code * code) / 16.0f;
}

struct text_sink {
	void (*term)(void *arg, const char *lang, const char *w, size_t n,
	    unsigned tf, unsigned dl, unsigned positions);
	void (*unit)(void *arg, const char *lang, unsigned dl);
	void *arg;
};
void store__text_terms(const Lcf__Practice *pr, const struct text_sink *sink);
/* Whether the phrase (folded in each language, words of "" hold any word)
 * occurs in one field of pr in language lang (NULL: any language). */
int store__text_has_phrase(const Lcf__Practice *pr, const char *lang,
    char *const *words, size_t nwords);
/* search.c: a parsed text query run against the words table. hits are
 * ascending documents with their scores (BM25). store__search_run fills
 * result (and the leaves' hits, for store__search_match) from the languages
 * in the index, or only lang when it is set; store__search_match says whether
 * document doc (its content c) passes the phrase checks of the query, when
 * q->has_phrase (else every result passes). */
struct hits {
	uint32_t *doc;
	float *score;
	uint16_t *pos;                /* positions modulo 16 (phrases) */
	size_t n;
};
struct search {
	const struct squery *q;
	const char *lang;             /* a fold_lang code, or NULL */
	int reference;                /* tests: the plain evaluation, each list
	                               * of a leaf loaded and joined on its own */
	struct hits leaf[SQUERY_MAX_TERMS];
	struct hits result;
};
int store__search_run(MDB_txn *txn, struct store *s, Lcf__Kind kind,
    struct search *se);
int store__search_match(const struct search *se, uint32_t doc,
    const Lcf__Content *c);
void store__search_free(struct search *se);
void store__hits_free(struct hits *h);

/* store_quarantine.c. store__served: 1 when raw hashes to id, else 0 and
 * the id is noted for quarantine (the caller skips the record).
 * store__quarantine_resolve deletes id's quarantine entry when a good copy
 * is stored (inside the writer's txn). store__quarantine_bytes: the damaged
 * bytes kept for id (LMDB codes). store__drop_version (store_prune.c)
 * deletes one stored version from rows, ids, seq and (with late) late.
 * store__forks_less (store_prune.c), before a version of seqkey's (author,
 * seq) is moved aside: when the seq holds others too, the fork counters
 * (a seq's versions past its first, in all and per author) take one away,
 * so that the version is counted once when it comes back. Superseded
 * versions deleted by the pruning keep their forks counted (as stored). */
int store__served(struct store *s, const uint8_t *id, const uint8_t *raw,
    size_t len);
int store__quarantine_resolve(MDB_txn *txn, struct store *s, const uint8_t *id);
int store__quarantine_bytes(MDB_txn *txn, struct store *s, const uint8_t *id,
    MDB_val *out);
/* The highest of seq and the seqs of author's quarantined records (as
 * their damaged bytes still say them). */
uint64_t store__quarantine_max_seq(MDB_txn *txn, struct store *s,
    const uint8_t *author, uint64_t seq);
struct gone;
int store__drop_version(MDB_txn *txn, struct store *s, const uint8_t *seqkey,
    const uint8_t *id, int late, struct gone *g);
int store__forks_less(MDB_txn *txn, struct store *s, const uint8_t *seqkey);

/* store_prune.c: kinds of which only the newest version is kept
 * (KINDS_NEWEST_ONLY, docs/PROTOCOL.md 1.2). A write transaction gathers
 * the ids it deleted in a struct gone, and they leave the sketches (and,
 * with late set, the late sketch) when it commits. */
struct gone {
	uint8_t *ids;                 /* RECORD_ID_LEN each */
	uint8_t *late;                /* 1: the id was in "late" too */
	size_t n, cap;
};
void store__gone_free(struct gone *g);
/* Removes the ids of g from the sketches, under sketch_mu (after the
 * transaction's new ids joined them). */
void store__gone_unsketch(struct store *s, const struct gone *g);
/* The seq of the current version of (author, kind, key) into *seq and 1
 * into *found, or *found 0 when there is none: 0 or a project code. */
int store__current_seq(MDB_txn *txn, struct store *s, const uint8_t *author,
    Lcf__Kind kind, const char *key, uint64_t *seq, int *found);
/* Deletes every record of (author, kind, key) with this seq (forks
 * included; records of other kinds or keys at that seq stay): its bytes,
 * its id, its seq and late entries, and adds its id to g. None of them may
 * be a current version. *n (may be NULL) counts the records deleted. */
int store__prune_at(MDB_txn *txn, struct store *s, const uint8_t *author,
    uint64_t seq, Lcf__Kind kind, const char *key, struct gone *g, size_t *n);
/* The upgrade from schema 3: deletes every record of a newest-only kind
 * older than the current version of its key, in transactions of
 * MIGRATE_BATCH records walked, and marks the schema with the last. For
 * store_open, before the sketches are filled. */
int store__prune_all(struct store *s);

/* The meta counters of the text index for a kind: 0 or a project code. */
int store__text_stats(MDB_txn *txn, struct store *s, Lcf__Kind kind,
    uint64_t *units, uint64_t *len);

/* First index in a[lo..n) whose value is >= v (a is ascending): gallop from
 * lo, then bisect, cheap when the next match is near. Inline: the search's
 * intersections call it in their inner loops. */
static inline size_t
store__lower_bound(const uint32_t *a, size_t lo, size_t n, uint32_t v)
{
	size_t step = 1, hi;

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

#endif
