// SPDX-License-Identifier: Apache-2.0
// The LMDB store: records, current versions, seq index, query indexes, counters.
//
// Layout and the reasons for it are in docs/ARCHITECTURE.md ("Store layout").
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "error.h"
#include "iblt.h"
#include "log.h"
#include "record.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

#define AUTHOR_LEN 32
#define CURRENT_VAL_LEN (8 + RECORD_ID_LEN + 4)   /* seq, id, doc */
#define PENDING_FLUSH (1u << 20)                   /* postings held per flush */
#define TERM_MAX 200
#define IDX_KEY_MAX (2 + TERM_MAX)
#define CUR_KEY_MAX (AUTHOR_LEN + 1 + 256)
#define WORD_MIN 2
#define WORD_MAX 32
#define SKETCH_BATCH 4096                          /* ids hashed per lock */
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

struct store {
	MDB_env *env;
	MDB_dbi meta, rows, ids, current, seq, idx, docs;
	char *path;
	struct iblt_set *sketch;      /* every stored id: see store_sketch */
};

static int
map_err(int rc)
{
	if (rc == MDB_MAP_FULL)
		return LCF_EMAPFULL;
	if (rc == MDB_NOTFOUND)
		return LCF_ENOTFOUND;
	return LCF_ESTORE;
}

static void
log_mdb(const char *what, int rc)
{
	if (rc != 0 && rc != MDB_NOTFOUND)
		log_warnx("store: %s: %s", what, mdb_strerror(rc));
}

/* ---- opening ---- */

/*
 * Fills the sketch with every stored id. The ids are read from the seq index,
 * whose entries are author, seq and id only: every stored record has exactly one
 * entry there (store_put writes both in one transaction), and walking it reads a
 * fraction of the pages the records themselves fill.
 */
/* The bytes of the record with this id (valid until txn ends): the id index
 * gives its row, the rows table its bytes. */
static int
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
static int
row_bytes(MDB_txn *txn, const struct store *s, MDB_val *v, MDB_val *out)
{
	MDB_val k = *v;
	int rc;

	if (v->mv_size != ROW_LEN)
		return MDB_CORRUPTED;
	rc = mdb_get(txn, s->rows, &k, out);
	return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
}

/* The highest row in use, 0 when there is none. */
static int
last_row(MDB_txn *txn, const struct store *s, uint64_t *row)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	*row = 0;
	if ((rc = mdb_cursor_open(txn, s->rows, &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == ROW_LEN)
		*row = get_be64(k.mv_data);
	else if (rc == 0)
		rc = MDB_CORRUPTED;
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
sketch_build(struct store *s)
{
	uint8_t *ids = xreallocarray(NULL, SKETCH_BATCH, RECORD_ID_LEN);
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	size_t n = 0;
	int rc;

	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_cursor_open(txn, s->seq, &cur)) != 0)
		goto out;
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0) {
		if (v.mv_size == RECORD_ID_LEN) {
			memcpy(ids + n * RECORD_ID_LEN, v.mv_data, RECORD_ID_LEN);
			if (++n == SKETCH_BATCH) {
				iblt_set_add_many(s->sketch, ids, n);
				n = 0;
			}
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	iblt_set_add_many(s->sketch, ids, n);
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	free(ids);
	return rc;
}

/*
 * Schema 1 kept each record's bytes under its id in "records"; schema 2
 * appends them to "rows" and keeps id -> row in "ids". Records are moved in
 * transactions of MIGRATE_BATCH; the schema changes with the last one, and an
 * upgrade that was interrupted starts over (rows and ids are emptied first).
 */
static int
upgrade_1(struct store *s)
{
	uint8_t last[RECORD_ID_LEN], row[ROW_LEN], ver[4];
	uint64_t next = 1, moved = 0;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_dbi old;
	MDB_val k, v, rk;
	size_t n;
	int rc, have_last = 0;

	log_info("store: upgrading %s from schema 1 to %d", s->path,
	    STORE_SCHEMA_VERSION);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, "records", 0, &old)) != 0 ||
	    (rc = mdb_drop(txn, s->rows, 0)) != 0 ||
	    (rc = mdb_drop(txn, s->ids, 0)) != 0)
		goto out;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	while (rc == 0) {
		if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0 ||
		    (rc = mdb_cursor_open(txn, old, &cur)) != 0)
			goto out;
		if (have_last) {
			k.mv_data = last;
			k.mv_size = sizeof(last);
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			if (rc == 0 && k.mv_size == sizeof(last) &&
			    memcmp(k.mv_data, last, sizeof(last)) == 0)
				rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		} else {
			rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		}
		for (n = 0; rc == 0 && n < MIGRATE_BATCH; n++) {
			if (k.mv_size != RECORD_ID_LEN) {
				rc = MDB_CORRUPTED;
				goto out;
			}
			memcpy(last, k.mv_data, sizeof(last));
			have_last = 1;
			put_be64(row, next++);
			rk.mv_data = row;
			rk.mv_size = sizeof(row);
			if ((rc = mdb_put(txn, s->rows, &rk, &v, MDB_APPEND)) != 0 ||
			    (rc = mdb_put(txn, s->ids, &k, &rk, MDB_NOOVERWRITE)) != 0)
				goto out;
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		moved += n;
		mdb_cursor_close(cur);
		cur = NULL;
		if (rc == MDB_NOTFOUND) {
			/* The last batch: drop the old table, mark the schema. */
			k.mv_data = "schema";
			k.mv_size = 6;
			put_be32(ver, STORE_SCHEMA_VERSION);
			v.mv_data = ver;
			v.mv_size = sizeof(ver);
			if ((rc = mdb_drop(txn, old, 1)) != 0 ||
			    (rc = mdb_put(txn, s->meta, &k, &v, 0)) != 0)
				goto out;
			rc = mdb_txn_commit(txn);
			txn = NULL;
			if (rc == 0)
				log_info("store: upgraded: %llu records moved",
				    (unsigned long long)moved);
			break;
		}
		if (rc != 0)
			goto out;
		rc = mdb_txn_commit(txn);
		txn = NULL;
		log_info("store: upgrading: %llu records moved", (unsigned long long)moved);
	}
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	return rc;
}

int
store_open(const char *path, uint64_t map_size, struct store **out, char *err,
    size_t errlen)
{
	struct store *s = xcalloc(1, sizeof(*s));
	MDB_txn *txn = NULL;
	MDB_val k, v;
	uint8_t ver[4];
	int rc, ret = LCF_ESTORE, upgrade = 0;

	*out = NULL;
	s->path = xstrdup(path);
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		goto out;
	}
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, 10)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, (size_t)map_size)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, 254)) != 0) {
		snprintf(err, errlen, "%s: %s", path, mdb_strerror(rc));
		goto out;
	}
	/* MDB_NOTLS: read transactions are not tied to threads, so the loop and
	 * the thread pool can both read. MDB_WRITEMAP: a transaction's dirty pages
	 * live in the file mapping, not in heap memory that LMDB would keep cached
	 * for the life of the process after a large import. MDB_NORDAHEAD: with
	 * read-ahead, each page a commit dirties in the shared mapping wrote back
	 * a whole read-ahead block (120 GB of disk writes for a 1 GB bootstrap,
	 * 6.8 GB without). */
	if ((rc = mdb_env_open(s->env, path, MDB_NOTLS | MDB_WRITEMAP | MDB_NORDAHEAD,
	    0600)) != 0) {
		snprintf(err, errlen, "cannot open database %s: %s", path,
		    mdb_strerror(rc));
		goto out;
	}
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "rows", MDB_CREATE, &s->rows)) != 0 ||
	    (rc = mdb_dbi_open(txn, "ids", MDB_CREATE, &s->ids)) != 0 ||
	    (rc = mdb_dbi_open(txn, "current", MDB_CREATE, &s->current)) != 0 ||
	    (rc = mdb_dbi_open(txn, "seq", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED,
	    &s->seq)) != 0 ||
	    (rc = mdb_dbi_open(txn, "idx", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED |
	    MDB_INTEGERDUP, &s->idx)) != 0 ||
	    (rc = mdb_dbi_open(txn, "docs", MDB_CREATE | MDB_INTEGERKEY,
	    &s->docs)) != 0) {
		snprintf(err, errlen, "%s: %s", path, mdb_strerror(rc));
		goto out;
	}
	k.mv_data = "schema";
	k.mv_size = 6;
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		put_be32(ver, STORE_SCHEMA_VERSION);
		v.mv_data = ver;
		v.mv_size = 4;
		rc = mdb_put(txn, s->meta, &k, &v, 0);
	} else if (rc == 0 && v.mv_size == 4 && get_be32(v.mv_data) == 1) {
		upgrade = 1;
	} else if (rc == 0 && (v.mv_size != 4 ||
	    get_be32(v.mv_data) != STORE_SCHEMA_VERSION)) {
		snprintf(err, errlen, "%s: database schema %u is not the one this "
		    "lcnode uses (%d)", path, v.mv_size == 4 ? get_be32(v.mv_data) : 0,
		    STORE_SCHEMA_VERSION);
		goto out;
	}
	if (rc != 0) {
		/* txn stays set: out: aborts it. */
		snprintf(err, errlen, "%s: %s", path, mdb_strerror(rc));
		goto out;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", path, mdb_strerror(rc));
		goto out;
	}
	if (upgrade && (rc = upgrade_1(s)) != 0) {
		snprintf(err, errlen, "%s: upgrading the database from schema 1: %s",
		    path, mdb_strerror(rc));
		goto out;
	}
	s->sketch = iblt_set_new();
	if ((rc = sketch_build(s)) != 0) {
		snprintf(err, errlen, "%s: reading record ids: %s", path,
		    mdb_strerror(rc));
		goto out;
	}
	*out = s;
	s = NULL;
	ret = 0;
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	store_close(s);
	return ret;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->env != NULL)
		mdb_env_close(s->env);
	iblt_set_free(s->sketch);
	free(s->path);
	free(s);
}

struct iblt_set *
store_sketch(struct store *s)
{
	return s->sketch;
}

/* ---- counters in meta ---- */

static int
meta_add_key(MDB_txn *txn, struct store *s, const void *key, size_t keylen,
    uint64_t delta)
{
	MDB_val k = { keylen, (void *)key }, v;
	uint8_t buf[8];
	uint64_t cur = 0;
	int rc;

	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		cur = get_be64(v.mv_data);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	put_be64(buf, cur + delta);
	v.mv_data = buf;
	v.mv_size = 8;
	return mdb_put(txn, s->meta, &k, &v, 0);
}

static int
meta_add(MDB_txn *txn, struct store *s, const char *name, uint64_t delta)
{
	return meta_add_key(txn, s, name, strlen(name), delta);
}

/* The meta key of an author's fork counter: "F" and the author's 32 bytes. */
static void
fork_key(uint8_t key[1 + AUTHOR_LEN], const uint8_t *author)
{
	key[0] = 'F';
	memcpy(key + 1, author, AUTHOR_LEN);
}

static uint64_t
meta_get(MDB_txn *txn, struct store *s, const char *name)
{
	MDB_val k = { strlen(name), (void *)name }, v;

	if (mdb_get(txn, s->meta, &k, &v) == 0 && v.mv_size == 8)
		return get_be64(v.mv_data);
	return 0;
}

/* ---- postings ---- */

/* Where postings_of sends each posting: a key of kind (1), tag (1) and term. */
struct postings {
	void (*emit)(struct postings *p, const uint8_t *key, size_t len);
	Lcf__Kind kind;
	struct pending *pd;           /* emit_pending: gathered for doc */
	uint32_t doc;
	MDB_txn *txn;                 /* emit_remove: deleted from idx */
	MDB_dbi idx;
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

static void
post_word(void *arg, const char *w, size_t n)
{
	post_add(arg, TAG_WORD, w, n);
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
	size_t i;

	p->kind = c->kind;
	post_add(p, TAG_ALL, "", 0);
	if (c->deleted) {
		post_add(p, TAG_DELETED, "", 0);
		return;
	}
	post_add(p, TAG_AUTHOR, (const char *)c->author.data, c->author.len);
	/* Only the kinds reindex_country moves when a city changes country
	 * (and the city profile itself) carry a country posting. */
	if (country != NULL && (c->kind == LCF__KIND__KIND_CITY ||
	    c->kind == LCF__KIND__KIND_PRACTICE || c->kind == LCF__KIND__KIND_INDICATOR))
		post_add(p, TAG_COUNTRY, country, strlen(country));
	switch (c->body_case) {
	case LCF__CONTENT__BODY_PRACTICE: {
		const Lcf__Practice *pr = c->practice;

		for (i = 0; i < pr->n_kflc_areas; i++)
			post_add(p, TAG_AREA, pr->kflc_areas[i], strlen(pr->kflc_areas[i]));
		for (i = 0; i < pr->n_clusters; i++)
			post_add(p, TAG_CLUSTER, pr->clusters[i], strlen(pr->clusters[i]));
		store_words(pr->title, post_word, p);
		store_words(pr->summary, post_word, p);
		store_words(pr->description, post_word, p);
		store_words(pr->objectives, post_word, p);
		store_words(pr->outcomes, post_word, p);
		store_words(pr->lessons, post_word, p);
		store_words(pr->organisation, post_word, p);
		for (i = 0; i < pr->n_target_groups; i++)
			store_words(pr->target_groups[i], post_word, p);
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
};

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

/* emit for gathering: adds p->doc to the key's list once. */
static void
emit_pending(struct postings *p, const uint8_t *key, size_t len)
{
	struct pending *pd = p->pd;
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
	} else if (sl->last == p->doc) {
		/* A record's postings share one document: a term repeated
		 * in its text is written once. */
		return;
	} else if (sl->n >= 4 && (sl->n & (sl->n - 1)) == 0) {
		sl->docs = xreallocarray(sl->docs, 2 * (size_t)sl->n,
		    sizeof(*sl->docs));
	}
	sl->docs[sl->n++] = p->doc;
	sl->last = p->doc;
	pd->nposts++;
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

static void
pending_free(struct pending *pd)
{
	pending_clear(pd);
	free(pd->slots);
	memset(pd, 0, sizeof(*pd));
}

/* Writes every pending posting, term by term in key order. */
static int
pending_flush(MDB_txn *txn, struct store *s, struct pending *pd)
{
	struct slot **terms;
	MDB_cursor *cur = NULL;
	MDB_val k, v[2];
	size_t i, n = 0, done;
	unsigned int flags;
	int rc = 0;

	if (pd->nterms == 0)
		return 0;
	terms = xreallocarray(NULL, pd->nterms, sizeof(*terms));
	for (i = 0; i < pd->nslots; i++)
		if (pd->slots[i].docs != NULL)
			terms[n++] = &pd->slots[i];
	qsort(terms, n, sizeof(*terms), slot_cmp);
	if ((rc = mdb_cursor_open(txn, s->idx, &cur)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		/* The documents of this transaction are newer than every one in
		 * the store, so they go at the end of each list: MDB_APPENDDUP
		 * skips LMDB's search for their place. Should a list hold a
		 * higher number all the same, LMDB refuses with MDB_KEYEXIST
		 * (nothing written for that value) and the rest goes in sorted. */
		flags = MDB_MULTIPLE | MDB_APPENDDUP;
		for (done = 0; done < terms[i]->n; done += v[1].mv_size) {
			k.mv_data = (void *)slot_key(terms[i]);
			k.mv_size = terms[i]->len;
			v[0].mv_size = sizeof(uint32_t);
			v[0].mv_data = terms[i]->docs + done;
			v[1].mv_size = terms[i]->n - done;
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
	free(terms);
	pending_clear(pd);
	return rc;
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
static int
postings_remove(MDB_txn *txn, struct store *s, const Lcf__Content *c,
    const char *country, uint32_t doc)
{
	struct postings p;

	memset(&p, 0, sizeof(p));
	p.emit = emit_remove;
	p.txn = txn;
	p.idx = s->idx;
	p.doc = doc;
	postings_of(c, country, &p);
	return p.rc;
}

/* Gathers a current version's postings for the next pending_flush. */
static void
postings_add(struct pending *pd, const Lcf__Content *c, const char *country,
    uint32_t doc)
{
	struct postings p;

	memset(&p, 0, sizeof(p));
	p.emit = emit_pending;
	p.pd = pd;
	p.doc = doc;
	postings_of(c, country, &p);
}

/* ---- current versions ---- */

static size_t
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

/* Decodes the record with the given id from within txn (no signature check:
 * everything in the store was verified on the way in). */
static int
load_record(MDB_txn *txn, struct store *s, const uint8_t id[32], struct record *rec)
{
	MDB_val v;
	int rc;

	if ((rc = rec_get(txn, s, id, &v)) != 0)
		return rc;
	return record_open(v.mv_data, v.mv_size, 0, rec) == 0 ? 0 : MDB_CORRUPTED;
}

/* Country of an author's current city profile, copied into out (3 bytes). */
static int
author_country(MDB_txn *txn, struct store *s, const uint8_t author[32], char out[3])
{
	uint8_t ck[CUR_KEY_MAX];
	MDB_val k, v;
	struct record rec;
	int found = 0;

	k.mv_data = ck;
	k.mv_size = current_key(ck, author, LCF__KIND__KIND_CITY, "profile");
	if (mdb_get(txn, s->current, &k, &v) != 0 || v.mv_size != CURRENT_VAL_LEN)
		return 0;
	if (load_record(txn, s, (uint8_t *)v.mv_data + 8, &rec) != 0)
		return 0;
	if (!rec.c->deleted && rec.c->city != NULL && rec.c->city->country != NULL &&
	    strlen(rec.c->city->country) == 2) {
		memcpy(out, rec.c->city->country, 3);
		found = 1;
	}
	record_release(&rec);
	return found;
}

/* State of one store_put transaction. */
struct put_ctx {
	MDB_txn *txn;
	struct pending pending;
	uint32_t next_doc;            /* next document number to give out */
	uint32_t first_doc;           /* first one given out in this transaction */
	uint64_t next_row;            /* row the next record's bytes go to */
	uint8_t cc_author[AUTHOR_LEN];   /* last author_country answer */
	char cc_country[3];
	int cc_valid, cc_found;
};

static int
ctx_country(struct put_ctx *x, struct store *s, const uint8_t author[32],
    char out[3])
{
	if (!x->cc_valid || memcmp(x->cc_author, author, AUTHOR_LEN) != 0) {
		memcpy(x->cc_author, author, AUTHOR_LEN);
		x->cc_found = author_country(x->txn, s, author, x->cc_country);
		x->cc_valid = 1;
	}
	if (x->cc_found)
		memcpy(out, x->cc_country, 3);
	return x->cc_found;
}

/* Reads a whole posting list into a new array (ascending document numbers). */
static int
list_load(MDB_cursor *cur, const uint8_t *key, size_t klen, uint32_t **out,
    size_t *n)
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
	if (rc != 0)
		return rc;
	if ((rc = mdb_cursor_count(cur, &cap)) != 0)
		return rc;
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
		return rc;
	}
	*out = a;
	*n = cnt;
	return 0;
}

/* A city's country changed: move the country postings of its live records. */
static int
reindex_country(struct put_ctx *x, struct store *s, const uint8_t author[32],
    const char *oldc, const char *newc)
{
	static const Lcf__Kind kinds[] = { LCF__KIND__KIND_PRACTICE,
	    LCF__KIND__KIND_INDICATOR };
	uint8_t ukey[2 + AUTHOR_LEN], ckey[4];
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint32_t *docs = NULL;
	size_t i, j, n;
	int rc;

	/* The author's own postings may still be pending. */
	if ((rc = pending_flush(x->txn, s, &x->pending)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(x->txn, s->idx, &cur)) != 0)
		return rc;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		ukey[0] = (uint8_t)kinds[i];
		ukey[1] = TAG_AUTHOR;
		memcpy(ukey + 2, author, AUTHOR_LEN);
		if ((rc = list_load(cur, ukey, sizeof(ukey), &docs, &n)) != 0)
			goto out;
		ckey[0] = (uint8_t)kinds[i];
		ckey[1] = TAG_COUNTRY;
		k.mv_data = ckey;
		k.mv_size = sizeof(ckey);
		for (j = 0; j < n; j++) {
			v.mv_data = &docs[j];
			v.mv_size = sizeof(uint32_t);
			if (oldc != NULL) {
				memcpy(ckey + 2, oldc, 2);
				rc = mdb_del(x->txn, s->idx, &k, &v);
				if (rc != 0 && rc != MDB_NOTFOUND)
					goto out;
			}
			if (newc != NULL) {
				memcpy(ckey + 2, newc, 2);
				rc = mdb_put(x->txn, s->idx, &k, &v, MDB_NODUPDATA);
				if (rc != 0 && rc != MDB_KEYEXIST)
					goto out;
			}
		}
		free(docs);
		docs = NULL;
	}
	rc = 0;
out:
	free(docs);
	mdb_cursor_close(cur);
	return rc;
}

/* ---- writing ---- */

/* Country to index a record under: its own for a city profile, else its
 * author's. */
static int
index_country(struct put_ctx *x, struct store *s, const Lcf__Content *c, char out[3])
{
	if (c->kind == LCF__KIND__KIND_CITY) {
		if (c->deleted || c->city == NULL || c->city->country == NULL ||
		    strlen(c->city->country) != 2)
			return 0;
		memcpy(out, c->city->country, 3);
		return 1;
	}
	return ctx_country(x, s, c->author.data, out);
}

static int
put_one(struct put_ctx *x, struct store *s, struct store_item *it)
{
	MDB_txn *txn = x->txn;
	const Lcf__Content *c = it->rec->c;
	const uint8_t *id = it->rec->id;
	uint8_t seqkey[AUTHOR_LEN + 8], ck[CUR_KEY_MAX], cval[CURRENT_VAL_LEN];
	uint8_t row[ROW_LEN];
	char oldc[3], newc[3];
	int have_oldc = 0, have_newc, rc, is_profile;
	uint32_t doc, olddoc = 0;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	struct record old;
	size_t ndup = 0;

	memset(&old, 0, sizeof(old));
	it->result = 0;
	/* The id points at the next row; the bytes are appended there. */
	put_be64(row, x->next_row);
	k.mv_data = (void *)id;
	k.mv_size = RECORD_ID_LEN;
	v.mv_data = row;
	v.mv_size = sizeof(row);
	rc = mdb_put(txn, s->ids, &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST) {
		it->result = STORE_DUP;
		return 0;
	}
	if (rc != 0)
		return rc;
	k.mv_data = row;
	k.mv_size = sizeof(row);
	v.mv_data = (void *)it->raw;
	v.mv_size = it->len;
	if ((rc = mdb_put(txn, s->rows, &k, &v, MDB_APPEND)) != 0)
		return rc;
	x->next_row++;

	/* Seq index, authors and forks. */
	memcpy(seqkey, c->author.data, AUTHOR_LEN);
	put_be64(seqkey + AUTHOR_LEN, c->seq);
	if ((rc = mdb_cursor_open(txn, s->seq, &cur)) != 0)
		return rc;
	k.mv_data = seqkey;
	k.mv_size = sizeof(seqkey);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && k.mv_size == sizeof(seqkey) &&
	    memcmp(k.mv_data, seqkey, sizeof(seqkey)) == 0) {
		mdb_cursor_count(cur, &ndup);
	} else if (rc == MDB_NOTFOUND || rc == 0) {
		int same_author = 0;

		if (rc == 0)
			same_author = memcmp(k.mv_data, seqkey, AUTHOR_LEN) == 0;
		if (!same_author) {
			/* Maybe an earlier seq of this author. */
			rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) :
			    mdb_cursor_get(cur, &k, &v, MDB_LAST);
			same_author = rc == 0 &&
			    memcmp(k.mv_data, seqkey, AUTHOR_LEN) == 0;
		}
		if (!same_author && (rc = meta_add(txn, s, "authors", 1)) != 0)
			goto out;
	} else {
		goto out;
	}
	mdb_cursor_close(cur);
	cur = NULL;
	k.mv_data = seqkey;
	k.mv_size = sizeof(seqkey);
	v.mv_data = (void *)id;
	v.mv_size = RECORD_ID_LEN;
	if ((rc = mdb_put(txn, s->seq, &k, &v, MDB_NODUPDATA)) != 0 &&
	    rc != MDB_KEYEXIST)
		goto out;
	if (ndup > 0) {
		uint8_t fk[1 + AUTHOR_LEN];

		it->result |= STORE_FORK;
		fork_key(fk, c->author.data);
		if ((rc = meta_add(txn, s, "forks", 1)) != 0 ||
		    (rc = meta_add_key(txn, s, fk, sizeof(fk), 1)) != 0)
			goto out;
		log_warnx("store: fork: two records with one author and seq %llu",
		    (unsigned long long)c->seq);
	}

	/* Current version: higher seq wins; on a fork the lower id, so every
	 * node picks the same one. */
	k.mv_data = ck;
	k.mv_size = current_key(ck, c->author.data, c->kind, c->key);
	rc = mdb_get(txn, s->current, &k, &v);
	if (rc == 0 && v.mv_size == CURRENT_VAL_LEN) {
		uint64_t oseq = get_be64(v.mv_data);
		const uint8_t *oid = (const uint8_t *)v.mv_data + 8;

		if (c->seq < oseq || (c->seq == oseq &&
		    memcmp(id, oid, RECORD_ID_LEN) > 0)) {
			it->result |= STORE_STALE;
			rc = 0;
			goto out;
		}
		memcpy(&olddoc, (const uint8_t *)v.mv_data + 8 + RECORD_ID_LEN,
		    sizeof(olddoc));
		if ((rc = load_record(txn, s, oid, &old)) != 0)
			goto out;
	} else if (rc != MDB_NOTFOUND) {
		goto out;
	}
	is_profile = c->kind == LCF__KIND__KIND_CITY && strcmp(c->key, "profile") == 0;
	if (old.c != NULL) {
		/* Postings of this very transaction must be written before they
		 * can be deleted. */
		if (olddoc >= x->first_doc &&
		    (rc = pending_flush(txn, s, &x->pending)) != 0)
			goto out;
		have_oldc = index_country(x, s, old.c, oldc);
		if ((rc = postings_remove(txn, s, old.c, have_oldc ? oldc : NULL,
		    olddoc)) != 0)
			goto out;
		k.mv_data = &olddoc;
		k.mv_size = sizeof(olddoc);
		if ((rc = mdb_del(txn, s->docs, &k, NULL)) != 0 && rc != MDB_NOTFOUND)
			goto out;
	}
	doc = x->next_doc++;
	put_be64(cval, c->seq);
	memcpy(cval + 8, id, RECORD_ID_LEN);
	memcpy(cval + 8 + RECORD_ID_LEN, &doc, sizeof(doc));
	k.mv_data = ck;
	k.mv_size = current_key(ck, c->author.data, c->kind, c->key);
	v.mv_data = cval;
	v.mv_size = sizeof(cval);
	if ((rc = mdb_put(txn, s->current, &k, &v, 0)) != 0)
		goto out;
	k.mv_data = &doc;
	k.mv_size = sizeof(doc);
	v.mv_data = (void *)id;
	v.mv_size = RECORD_ID_LEN;
	if ((rc = mdb_put(txn, s->docs, &k, &v, MDB_APPEND)) != 0)
		goto out;
	if (is_profile) {
		/* The author's country may change with this version. */
		x->cc_valid = 0;
		if (old.c == NULL)
			have_oldc = 0;
	}
	have_newc = index_country(x, s, c, newc);
	postings_add(&x->pending, c, have_newc ? newc : NULL, doc);
	if (is_profile && (have_oldc != have_newc ||
	    (have_oldc && strcmp(oldc, newc) != 0))) {
		rc = reindex_country(x, s, c->author.data, have_oldc ? oldc : NULL,
		    have_newc ? newc : NULL);
		if (rc != 0)
			goto out;
	}
	if (x->pending.nposts >= PENDING_FLUSH &&
	    (rc = pending_flush(txn, s, &x->pending)) != 0)
		goto out;
	it->result |= STORE_CURRENT;
	rc = 0;
out:
	record_release(&old);
	if (cur != NULL)
		mdb_cursor_close(cur);
	return rc;
}

/* A write transaction that may span several store_txn_put calls. */
struct store_txn {
	struct store *s;
	struct put_ctx x;
	uint8_t *ids;                 /* ids written, for the sketch at commit */
	size_t nids, capids;
};

int
store_txn_begin(struct store *s, struct store_txn **out)
{
	struct store_txn *t = xcalloc(1, sizeof(*t));
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc;

	*out = NULL;
	t->s = s;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &t->x.txn)) != 0)
		goto out;
	/* Document numbers continue after the highest one in use. */
	if ((rc = mdb_cursor_open(t->x.txn, s->docs, &cur)) != 0)
		goto out;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == sizeof(uint32_t)) {
		memcpy(&t->x.next_doc, k.mv_data, sizeof(uint32_t));
		t->x.next_doc++;
	} else if (rc != MDB_NOTFOUND) {
		goto out;
	}
	if (t->x.next_doc == 0)
		t->x.next_doc = 1;
	t->x.first_doc = t->x.next_doc;
	mdb_cursor_close(cur);
	cur = NULL;
	if ((rc = last_row(t->x.txn, s, &t->x.next_row)) != 0)
		goto out;
	t->x.next_row++;
	*out = t;
	t = NULL;
	rc = 0;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (t != NULL) {
		log_mdb("write", rc);
		store_txn_abort(t);
	}
	return rc == 0 ? 0 : map_err(rc);
}

int
store_txn_put(struct store_txn *t, struct store_item *items, size_t n)
{
	size_t i;
	int rc = 0;

	if (t->x.next_doc > UINT32_MAX - n) {
		/* Not "map full": raising map_size would not help. */
		log_warnx("store: document numbers exhausted: compact the database");
		rc = MDB_CORRUPTED;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct store_item *it = &items[i];
		struct record tmp;

		/* A batch from ingest holds only the bytes: decode them here. */
		if (it->rec != NULL) {
			memcpy(it->id, it->rec->id, RECORD_ID_LEN);
			rc = put_one(&t->x, t->s, it);
		} else if (record_open(it->raw, it->len, 0, &tmp) != 0) {
			log_warnx("store: item %zu is not a record", i);
			rc = MDB_BAD_VALSIZE;
		} else {
			memcpy(it->id, tmp.id, RECORD_ID_LEN);
			it->rec = &tmp;
			rc = put_one(&t->x, t->s, it);
			it->rec = NULL;
			record_release(&tmp);
		}
		if (rc != 0)
			goto out;
		if (it->result & STORE_DUP)
			continue;
		if (t->nids == t->capids) {
			t->capids = t->capids ? 2 * t->capids : 1024;
			t->ids = xreallocarray(t->ids, t->capids, RECORD_ID_LEN);
		}
		memcpy(t->ids + t->nids++ * RECORD_ID_LEN, it->id, RECORD_ID_LEN);
	}
out:
	if (rc != 0) {
		log_mdb("write", rc);
		for (i = 0; i < n; i++)
			items[i].result = 0;
		return map_err(rc);
	}
	return 0;
}

int
store_txn_commit(struct store_txn *t)
{
	int rc;

	rc = pending_flush(t->x.txn, t->s, &t->x.pending);
	if (rc == 0) {
		rc = mdb_txn_commit(t->x.txn);
		t->x.txn = NULL;
	}
	/* Only ids whose transaction committed join the sketch: a reader must
	 * never see an id in the sketch that the store does not hold. */
	if (rc == 0)
		iblt_set_add_many(t->s->sketch, t->ids, t->nids);
	log_mdb("commit", rc);
	store_txn_abort(t);
	return rc == 0 ? 0 : map_err(rc);
}

void
store_txn_abort(struct store_txn *t)
{
	if (t == NULL)
		return;
	if (t->x.txn != NULL)
		mdb_txn_abort(t->x.txn);
	pending_free(&t->x.pending);
	free(t->ids);
	free(t);
}

int
store_put(struct store *s, struct store_item *items, size_t n)
{
	struct store_txn *t;
	int rc;

	if ((rc = store_txn_begin(s, &t)) != 0)
		return rc;
	if ((rc = store_txn_put(t, items, n)) != 0) {
		store_txn_abort(t);
		return rc;
	}
	if ((rc = store_txn_commit(t)) != 0) {
		size_t i;

		for (i = 0; i < n; i++)
			items[i].result = 0;
	}
	return rc;
}

/* ---- reading ---- */

static int
rd_begin(struct store *s, MDB_txn **txn)
{
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);

	log_mdb("read transaction", rc);
	return rc;
}

/* Ends a read: closes the cursor (may be NULL) and the transaction, and gives
 * the visitor's stop value, else 0 or the LMDB error as a project code. */
static int
rd_end(MDB_txn *txn, MDB_cursor *cur, int ret, int rc)
{
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (ret != 0)
		return ret;
	return rc == 0 ? 0 : map_err(rc);
}

uint64_t
store_authors(struct store *s)
{
	MDB_txn *txn;
	uint64_t n;

	if (rd_begin(s, &txn) != 0)
		return 0;
	n = meta_get(txn, s, "authors");
	mdb_txn_abort(txn);
	return n;
}

uint64_t
store_last_seq(struct store *s, const uint8_t author[32])
{
	uint8_t key[AUTHOR_LEN + 8];
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t seq = 0;
	int rc;

	if (rd_begin(s, &txn) != 0)
		return 0;
	if (mdb_cursor_open(txn, s->seq, &cur) == 0) {
		memcpy(key, author, AUTHOR_LEN);
		memset(key + AUTHOR_LEN, 0xff, 8);
		k.mv_data = key;
		k.mv_size = sizeof(key);
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == 0 && k.mv_size == sizeof(key) &&
		    memcmp(k.mv_data, key, sizeof(key)) == 0)
			seq = UINT64_MAX;
		else {
			rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) :
			    mdb_cursor_get(cur, &k, &v, MDB_LAST);
			if (rc == 0 && k.mv_size == sizeof(key) &&
			    memcmp(k.mv_data, author, AUTHOR_LEN) == 0)
				seq = get_be64((uint8_t *)k.mv_data + AUTHOR_LEN);
		}
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	return seq;
}

int
store_has(struct store *s, const uint8_t id[32])
{
	MDB_txn *txn;
	MDB_val k = { RECORD_ID_LEN, (void *)id }, v;
	int found;

	if (rd_begin(s, &txn) != 0)
		return 0;
	found = mdb_get(txn, s->ids, &k, &v) == 0;
	mdb_txn_abort(txn);
	return found;
}

int
store_has_many(struct store *s, const uint8_t *ids, const uint8_t *skip,
    size_t n, uint8_t *found)
{
	MDB_txn *txn;
	MDB_val k, v;
	size_t i;
	int rc;

	memset(found, 0, n);
	if ((rc = rd_begin(s, &txn)) != 0)
		return map_err(rc);
	for (i = 0; i < n; i++) {
		if (skip != NULL && skip[i])
			continue;
		k.mv_size = RECORD_ID_LEN;
		k.mv_data = (void *)(ids + i * RECORD_ID_LEN);
		found[i] = mdb_get(txn, s->ids, &k, &v) == 0;
	}
	mdb_txn_abort(txn);
	return 0;
}

int
store_get(struct store *s, const uint8_t id[32], store_visit_fn fn, void *arg)
{
	MDB_txn *txn;
	MDB_val v;
	int rc, ret;

	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	rc = rec_get(txn, s, id, &v);
	if (rc == 0)
		ret = fn(arg, id, v.mv_data, v.mv_size);
	else
		ret = map_err(rc);
	mdb_txn_abort(txn);
	return ret;
}

/* Parses a hex prefix into bytes; *nibbles gets its length in hex digits. */
static int
prefix_parse(const char *hex, uint8_t out[32], size_t *nibbles)
{
	size_t n = strlen(hex), i;

	if (!hex_is_prefix(hex))
		return LCF_EINVAL;
	memset(out, 0, 32);
	for (i = 0; i < n; i++) {
		int c = hex[i], d;

		d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
		out[i / 2] |= (uint8_t)(i % 2 ? d : d << 4);
	}
	*nibbles = n;
	return 0;
}

static int
prefix_match(const uint8_t *key, const uint8_t *prefix, size_t nibbles)
{
	size_t full = nibbles / 2;

	if (memcmp(key, prefix, full) != 0)
		return 0;
	return nibbles % 2 == 0 || (key[full] & 0xf0) == prefix[full];
}

int
store_resolve_id(struct store *s, const char *hex, uint8_t id[32])
{
	uint8_t pre[32];
	size_t nib;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, ret = LCF_ENOTFOUND;

	if (prefix_parse(hex, pre, &nib) != 0)
		return LCF_EINVAL;
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if (mdb_cursor_open(txn, s->ids, &cur) != 0) {
		mdb_txn_abort(txn);
		return LCF_ESTORE;
	}
	k.mv_data = pre;
	k.mv_size = 32;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && k.mv_size == 32 && prefix_match(k.mv_data, pre, nib)) {
		memcpy(id, k.mv_data, 32);
		ret = 0;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		if (rc == 0 && k.mv_size == 32 && prefix_match(k.mv_data, pre, nib))
			ret = LCF_EAMBIGUOUS;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return ret;
}

int
store_resolve_author(struct store *s, const char *hex, uint8_t author[32])
{
	uint8_t pre[32], key[AUTHOR_LEN + 8];
	size_t nib;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, ret = LCF_ENOTFOUND;

	if (prefix_parse(hex, pre, &nib) != 0)
		return LCF_EINVAL;
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if (mdb_cursor_open(txn, s->seq, &cur) != 0) {
		mdb_txn_abort(txn);
		return LCF_ESTORE;
	}
	memcpy(key, pre, 32);
	memset(key + 32, 0, 8);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && prefix_match(k.mv_data, pre, nib)) {
		memcpy(author, k.mv_data, 32);
		ret = 0;
		/* Skip past this author's entries to see whether another matches. */
		memcpy(key, author, 32);
		memset(key + 32, 0xff, 8);
		k.mv_data = key;
		k.mv_size = sizeof(key);
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == 0 && memcmp(k.mv_data, author, 32) == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP);
		if (rc == 0 && prefix_match(k.mv_data, pre, nib))
			ret = LCF_EAMBIGUOUS;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return ret;
}

int
store_get_current(struct store *s, const uint8_t author[32], Lcf__Kind kind,
    const char *key, store_visit_fn fn, void *arg)
{
	uint8_t ck[CUR_KEY_MAX];
	MDB_txn *txn;
	MDB_val k, v, rk, rv;
	int rc, ret;

	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	k.mv_data = ck;
	k.mv_size = current_key(ck, author, kind, key);
	rc = mdb_get(txn, s->current, &k, &v);
	if (rc == 0 && v.mv_size != CURRENT_VAL_LEN)
		rc = MDB_CORRUPTED;
	if (rc == 0) {
		rk.mv_data = (uint8_t *)v.mv_data + 8;
		rk.mv_size = RECORD_ID_LEN;
		rc = rec_get(txn, s, rk.mv_data, &rv);
	}
	if (rc == 0)
		ret = fn(arg, rk.mv_data, rv.mv_data, rv.mv_size);
	else
		ret = map_err(rc);
	mdb_txn_abort(txn);
	return ret;
}

/* ---- queries: posting lists intersected in memory ---- */

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
	return list_load(cur, key, 2 + len, &pl->docs, &pl->n);
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
	if ((rc = mdb_cursor_open(txn, s->idx, &cur)) != 0)
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
	for (i = nres; i-- > 0;) {
		if (q->limit && emitted == q->limit) {
			*truncated = 1;
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
	if (rc != 0) {
		log_mdb("query", rc);
		return LCF_ESTORE;
	}
	return 0;
}

int
store_scan_current(struct store *s, uint8_t *cursor, size_t *cursor_len,
    size_t max, int *done, store_visit_fn fn, void *arg)
{
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k, v, rk, rv;
	size_t count = 0;
	int rc, ret = 0;

	*done = 0;
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if ((rc = mdb_cursor_open(txn, s->current, &cur)) != 0)
		goto out;
	if (*cursor_len == 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	} else {
		k.mv_data = cursor;
		k.mv_size = *cursor_len;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == 0 && k.mv_size == *cursor_len &&
		    memcmp(k.mv_data, cursor, *cursor_len) == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	while (rc == 0 && count < max) {
		if (v.mv_size == CURRENT_VAL_LEN) {
			rk.mv_data = (uint8_t *)v.mv_data + 8;
			rk.mv_size = RECORD_ID_LEN;
			if (rec_get(txn, s, rk.mv_data, &rv) == 0 &&
			    (ret = fn(arg, rk.mv_data, rv.mv_data, rv.mv_size)) != 0)
				goto out;
		}
		if (k.mv_size <= STORE_CURSOR_MAX) {
			memcpy(cursor, k.mv_data, k.mv_size);
			*cursor_len = k.mv_size;
		}
		count++;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc == MDB_NOTFOUND) {
		*done = 1;
		rc = 0;
	}
out:
	return rd_end(txn, cur, ret, rc);
}

int
store_scan_all(struct store *s, uint8_t lo, uint8_t hi, store_visit_fn fn, void *arg)
{
	uint8_t start[RECORD_ID_LEN];
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k, v, rv;
	int rc, ret = 0;

	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if ((rc = mdb_cursor_open(txn, s->ids, &cur)) != 0)
		goto out;
	memset(start, 0, sizeof(start));
	start[0] = lo;
	k.mv_data = start;
	k.mv_size = sizeof(start);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && ((uint8_t *)k.mv_data)[0] <= hi) {
		if ((rc = row_bytes(txn, s, &v, &rv)) != 0)
			goto out;
		if ((ret = fn(arg, k.mv_data, rv.mv_data, rv.mv_size)) != 0)
			goto out;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	return rd_end(txn, cur, ret, rc);
}

/* ---- reading for reconciliation ---- */

int
store_get_prefixes(struct store *s, const uint8_t *prefixes, size_t n,
    size_t *consumed, store_visit_fn fn, void *arg)
{
	uint8_t start[RECORD_ID_LEN];
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k, v, rv;
	size_t i, matches;
	int rc = 0, ret = 0;

	*consumed = 0;
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if ((rc = mdb_cursor_open(txn, s->ids, &cur)) != 0)
		goto out;
	memset(start, 0, sizeof(start));
	for (i = 0; i < n; i++) {
		const uint8_t *pre = prefixes + 8 * i;

		memcpy(start, pre, 8);
		k.mv_data = start;
		k.mv_size = sizeof(start);
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		matches = 0;
		while (rc == 0 && k.mv_size == RECORD_ID_LEN &&
		    memcmp(k.mv_data, pre, 8) == 0 &&
		    matches < STORE_PREFIX_MATCHES) {
			if ((rc = row_bytes(txn, s, &v, &rv)) != 0)
				goto out;
			if ((ret = fn(arg, k.mv_data, rv.mv_data, rv.mv_size)) != 0)
				goto out;
			matches++;
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		if (rc != 0 && rc != MDB_NOTFOUND)
			goto out;
		rc = 0;
		*consumed = i + 1;
	}
out:
	return rd_end(txn, cur, ret, rc);
}

/* Walks the seq entries of the author at the cursor's position (k, v from the
 * last positioning call, rc its result) into sum and runs, leaving the cursor on
 * the first entry of the next author. Returns the final cursor result
 * (MDB_NOTFOUND at the end of the index) and counts entries in *walked. */
static int
walk_author(MDB_cursor *cur, MDB_val *k, MDB_val *v, int rc,
    struct store_author_summary *sum, uint64_t *runs, size_t max_runs,
    size_t *nruns, size_t *walked)
{
	struct iblt_digest d;
	uint64_t seq;

	memset(&d, 0, sizeof(d));
	sum->count = 0;
	sum->max_seq = 0;
	if (nruns != NULL)
		*nruns = 0;
	while (rc == 0 && k->mv_size == AUTHOR_LEN + 8 &&
	    memcmp(k->mv_data, sum->author, AUTHOR_LEN) == 0) {
		seq = get_be64((uint8_t *)k->mv_data + AUTHOR_LEN);
		if (v->mv_size == RECORD_ID_LEN) {
			iblt_digest_add(&d, v->mv_data);
			sum->count++;
		}
		/* Entries come in seq order, so a run grows at its end only. */
		if (runs != NULL && seq != 0) {
			if (*nruns > 0 && (runs[2 * *nruns - 1] == seq ||
			    runs[2 * *nruns - 1] == seq - 1))
				runs[2 * *nruns - 1] = seq;
			else if (*nruns < max_runs) {
				runs[2 * *nruns] = seq;
				runs[2 * *nruns + 1] = seq;
				(*nruns)++;
			}
		}
		sum->max_seq = seq;
		(*walked)++;
		rc = mdb_cursor_get(cur, k, v, MDB_NEXT);
	}
	iblt_digest_bytes(&d, sum->digest);
	return rc;
}

int
store_author_summary(struct store *s, const uint8_t author[32],
    struct store_author_summary *out, uint64_t *runs, size_t max_runs,
    size_t *nruns)
{
	uint8_t key[AUTHOR_LEN + 8];
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	size_t walked = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memcpy(out->author, author, AUTHOR_LEN);
	if (nruns != NULL)
		*nruns = 0;
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if ((rc = mdb_cursor_open(txn, s->seq, &cur)) != 0)
		goto out;
	memcpy(key, author, AUTHOR_LEN);
	memset(key + AUTHOR_LEN, 0, 8);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	rc = walk_author(cur, &k, &v, rc, out, runs, max_runs, nruns, &walked);
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc == 0 ? 0 : map_err(rc);
}

int
store_author_summaries(struct store *s, const uint8_t *after,
    size_t max_authors, size_t max_records, int *done, store_summary_fn fn,
    void *arg)
{
	uint8_t key[AUTHOR_LEN + 8];
	struct store_author_summary sum;
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	size_t authors = 0, walked = 0;
	int rc, ret = 0;

	*done = 0;
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if ((rc = mdb_cursor_open(txn, s->seq, &cur)) != 0)
		goto out;
	if (after == NULL) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	} else {
		/* The first key past every seq of `after`. */
		memcpy(key, after, AUTHOR_LEN);
		memset(key + AUTHOR_LEN, 0xff, 8);
		k.mv_data = key;
		k.mv_size = sizeof(key);
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == 0 && k.mv_size == sizeof(key) &&
		    memcmp(k.mv_data, key, sizeof(key)) == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP);
	}
	while (rc == 0 && authors < max_authors && walked < max_records) {
		if (k.mv_size != AUTHOR_LEN + 8) {
			rc = MDB_CORRUPTED;
			goto out;
		}
		memset(&sum, 0, sizeof(sum));
		memcpy(sum.author, k.mv_data, AUTHOR_LEN);
		rc = walk_author(cur, &k, &v, rc, &sum, NULL, 0, NULL, &walked);
		if (rc != 0 && rc != MDB_NOTFOUND)
			goto out;
		authors++;
		if ((ret = fn(arg, &sum)) != 0)
			goto out;
	}
	if (rc == MDB_NOTFOUND) {
		*done = 1;
		rc = 0;
	}
out:
	return rd_end(txn, cur, ret, rc);
}

int
store_scan_author(struct store *s, const uint8_t author[32], uint64_t from_seq,
    const uint8_t *after_id, uint64_t to_seq, store_seq_visit_fn fn, void *arg)
{
	uint8_t key[AUTHOR_LEN + 8];
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k, v, rk, rv;
	uint64_t seq;
	int rc, ret = 0;

	if (from_seq > to_seq)
		return 0;
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if ((rc = mdb_cursor_open(txn, s->seq, &cur)) != 0)
		goto out;
	memcpy(key, author, AUTHOR_LEN);
	put_be64(key + AUTHOR_LEN, from_seq);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	if (after_id != NULL) {
		/* The first id of from_seq at or after after_id, then past it. */
		v.mv_data = (void *)after_id;
		v.mv_size = RECORD_ID_LEN;
		rc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH_RANGE);
		if (rc == 0 && memcmp(v.mv_data, after_id, RECORD_ID_LEN) == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		else if (rc == MDB_NOTFOUND) {
			/* No id of from_seq after after_id: the next seq. */
			if (from_seq == UINT64_MAX)
				goto out;
			put_be64(key + AUTHOR_LEN, from_seq + 1);
			k.mv_data = key;
			k.mv_size = sizeof(key);
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		}
	} else {
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	}
	while (rc == 0 && k.mv_size == sizeof(key) &&
	    memcmp(k.mv_data, author, AUTHOR_LEN) == 0) {
		seq = get_be64((uint8_t *)k.mv_data + AUTHOR_LEN);
		if (seq > to_seq)
			break;
		if (v.mv_size == RECORD_ID_LEN) {
			rk = v;
			rc = rec_get(txn, s, rk.mv_data, &rv);
			if (rc == 0 &&
			    (ret = fn(arg, seq, rk.mv_data, rv.mv_data, rv.mv_size)) != 0)
				goto out;
			if (rc != 0 && rc != MDB_NOTFOUND)
				goto out;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	return rd_end(txn, cur, ret, rc);
}

static uint64_t
count_list(MDB_cursor *cur, Lcf__Kind kind, char tag)
{
	uint8_t key[2] = { (uint8_t)kind, (uint8_t)tag };
	MDB_val k = { 2, key }, v;
	size_t n = 0;

	if (mdb_cursor_get(cur, &k, &v, MDB_SET_KEY) == 0)
		mdb_cursor_count(cur, &n);
	return n;
}

int
store_stats(struct store *s, struct store_stats *st)
{
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_envinfo info;
	MDB_stat ms;
	size_t k;
	int ret = LCF_ESTORE;

	memset(st, 0, sizeof(*st));
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if (mdb_stat(txn, s->ids, &ms) != 0)
		goto out;
	st->records = ms.ms_entries;
	st->forks = meta_get(txn, s, "forks");
	st->authors = meta_get(txn, s, "authors");
	if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &ms) != 0)
		goto out;
	st->used_bytes = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	st->map_size = info.me_mapsize;
	if (mdb_cursor_open(txn, s->idx, &cur) != 0)
		goto out;
	for (k = 1; k < sizeof(st->kinds) / sizeof(st->kinds[0]); k++) {
		st->kinds[k].current = count_list(cur, (Lcf__Kind)k, TAG_ALL);
		st->kinds[k].deleted = count_list(cur, (Lcf__Kind)k, TAG_DELETED);
	}
	ret = 0;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return ret;
}

uint64_t
store_author_forks(struct store *s, const uint8_t author[32])
{
	uint8_t fk[1 + AUTHOR_LEN];
	MDB_txn *txn = NULL;
	MDB_val k = { sizeof(fk), fk }, v;
	uint64_t n = 0;

	fork_key(fk, author);
	if (rd_begin(s, &txn) != 0)
		return 0;
	if (mdb_get(txn, s->meta, &k, &v) == 0 && v.mv_size == 8)
		n = get_be64(v.mv_data);
	mdb_txn_abort(txn);
	return n;
}
