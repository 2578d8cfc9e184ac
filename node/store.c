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
#include "log.h"
#include "record.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

#define AUTHOR_LEN 32
#define POSTING_LEN (8 + RECORD_ID_LEN)
#define CURRENT_VAL_LEN (8 + RECORD_ID_LEN)
#define TERM_MAX 200
#define IDX_KEY_MAX (2 + TERM_MAX)
#define CUR_KEY_MAX (AUTHOR_LEN + 1 + 256)
#define WORD_MIN 2
#define WORD_MAX 32

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
	MDB_dbi meta, records, current, seq, idx;
	char *path;
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

int
store_open(const char *path, uint64_t map_size, struct store **out, char *err,
    size_t errlen)
{
	struct store *s = xcalloc(1, sizeof(*s));
	MDB_txn *txn = NULL;
	MDB_val k, v;
	uint8_t ver[4];
	int rc, ret = LCF_ESTORE;

	*out = NULL;
	s->path = xstrdup(path);
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		goto out;
	}
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, 8)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, (size_t)map_size)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, 254)) != 0) {
		snprintf(err, errlen, "%s: %s", path, mdb_strerror(rc));
		goto out;
	}
	/* MDB_NOTLS: read transactions are not tied to threads, so the loop and
	 * the thread pool can both read. */
	if ((rc = mdb_env_open(s->env, path, MDB_NOTLS, 0600)) != 0) {
		snprintf(err, errlen, "cannot open database %s: %s", path,
		    mdb_strerror(rc));
		goto out;
	}
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "records", MDB_CREATE, &s->records)) != 0 ||
	    (rc = mdb_dbi_open(txn, "current", MDB_CREATE, &s->current)) != 0 ||
	    (rc = mdb_dbi_open(txn, "seq", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED,
	    &s->seq)) != 0 ||
	    (rc = mdb_dbi_open(txn, "idx", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED,
	    &s->idx)) != 0) {
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
	} else if (rc == 0 && (v.mv_size != 4 ||
	    get_be32(v.mv_data) != STORE_SCHEMA_VERSION)) {
		snprintf(err, errlen, "%s: database schema %u is not the one this "
		    "lcnode uses (%d)", path, v.mv_size == 4 ? get_be32(v.mv_data) : 0,
		    STORE_SCHEMA_VERSION);
		goto out;
	}
	if (rc != 0 || (rc = mdb_txn_commit(txn)) != 0) {
		snprintf(err, errlen, "%s: %s", path, mdb_strerror(rc));
		txn = NULL;
		goto out;
	}
	txn = NULL;
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
	free(s->path);
	free(s);
}

/* ---- counters in meta ---- */

static int
meta_add(MDB_txn *txn, struct store *s, const char *name, uint64_t delta)
{
	MDB_val k = { strlen(name), (void *)name }, v;
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

static uint64_t
meta_get(MDB_txn *txn, struct store *s, const char *name)
{
	MDB_val k = { strlen(name), (void *)name }, v;

	if (mdb_get(txn, s->meta, &k, &v) == 0 && v.mv_size == 8)
		return get_be64(v.mv_data);
	return 0;
}

/* ---- postings ---- */

struct posting_key {
	uint16_t len;
	uint8_t key[IDX_KEY_MAX];
};

struct postings {
	struct posting_key *keys;
	size_t n, cap;
	Lcf__Kind kind;
};

static void
post_add(struct postings *p, char tag, const char *term, size_t len)
{
	if (len > TERM_MAX)
		len = TERM_MAX;
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->keys = xreallocarray(p->keys, p->cap, sizeof(*p->keys));
	}
	p->keys[p->n].key[0] = (uint8_t)p->kind;
	p->keys[p->n].key[1] = (uint8_t)tag;
	memcpy(p->keys[p->n].key + 2, term, len);
	p->keys[p->n].len = (uint16_t)(2 + len);
	p->n++;
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

static int
posting_key_cmp(const void *a, const void *b)
{
	const struct posting_key *x = a, *y = b;
	int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Sorts and removes repeated keys so each posting is written once, in key
 * order, which also keeps the B-tree writes local. */
static void
post_unique(struct postings *p)
{
	size_t i, o = 0;

	qsort(p->keys, p->n, sizeof(*p->keys), posting_key_cmp);
	for (i = 0; i < p->n; i++) {
		if (o > 0 && posting_key_cmp(&p->keys[o - 1], &p->keys[i]) == 0)
			continue;
		if (o != i)
			p->keys[o] = p->keys[i];
		o++;
	}
	p->n = o;
}

/* The postings of a current version. country is the author's city country (may
 * be NULL); tombstones are listed only under TAG_ALL and TAG_DELETED. */
static void
postings_of(const Lcf__Content *c, const char *country, struct postings *p)
{
	size_t i;

	p->n = 0;
	p->kind = c->kind;
	post_add(p, TAG_ALL, "", 0);
	if (c->deleted) {
		post_add(p, TAG_DELETED, "", 0);
		return;
	}
	post_add(p, TAG_AUTHOR, (const char *)c->author.data, c->author.len);
	if (country != NULL)
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
	post_unique(p);
}

static void
posting_value(const Lcf__Content *c, const uint8_t id[32], uint8_t val[POSTING_LEN])
{
	/* Inverted timestamps make every posting list sort newest first. */
	put_be64(val, UINT64_MAX - (uint64_t)c->timestamp);
	memcpy(val + 8, id, RECORD_ID_LEN);
}

static int
postings_apply(MDB_txn *txn, struct store *s, const struct postings *p,
    const uint8_t val[POSTING_LEN], int add)
{
	MDB_val k, v;
	size_t i;
	int rc;

	for (i = 0; i < p->n; i++) {
		k.mv_data = p->keys[i].key;
		k.mv_size = p->keys[i].len;
		v.mv_data = (void *)val;
		v.mv_size = POSTING_LEN;
		if (add)
			rc = mdb_put(txn, s->idx, &k, &v, MDB_NODUPDATA);
		else
			rc = mdb_del(txn, s->idx, &k, &v);
		if (rc != 0 && rc != MDB_KEYEXIST && rc != MDB_NOTFOUND)
			return rc;
	}
	return 0;
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
	MDB_val k = { RECORD_ID_LEN, (void *)id }, v;
	int rc;

	if ((rc = mdb_get(txn, s->records, &k, &v)) != 0)
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

/* A city's country changed: move the country postings of its live records. */
static int
reindex_country(MDB_txn *txn, struct store *s, const uint8_t author[32],
    const char *oldc, const char *newc)
{
	static const Lcf__Kind kinds[] = { LCF__KIND__KIND_PRACTICE,
	    LCF__KIND__KIND_INDICATOR };
	uint8_t ukey[2 + AUTHOR_LEN], okey[4], nkey[4], val[POSTING_LEN];
	MDB_cursor *cur = NULL;
	MDB_val k, v, ok, nk, pv;
	size_t i;
	int rc = 0;

	if ((rc = mdb_cursor_open(txn, s->idx, &cur)) != 0)
		return rc;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		ukey[0] = (uint8_t)kinds[i];
		ukey[1] = TAG_AUTHOR;
		memcpy(ukey + 2, author, AUTHOR_LEN);
		k.mv_data = ukey;
		k.mv_size = sizeof(ukey);
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
		while (rc == 0) {
			memcpy(val, v.mv_data, POSTING_LEN);
			pv.mv_data = val;
			pv.mv_size = POSTING_LEN;
			if (oldc != NULL) {
				okey[0] = (uint8_t)kinds[i];
				okey[1] = TAG_COUNTRY;
				memcpy(okey + 2, oldc, 2);
				ok.mv_data = okey;
				ok.mv_size = 4;
				rc = mdb_del(txn, s->idx, &ok, &pv);
				if (rc != 0 && rc != MDB_NOTFOUND)
					goto out;
			}
			if (newc != NULL) {
				nkey[0] = (uint8_t)kinds[i];
				nkey[1] = TAG_COUNTRY;
				memcpy(nkey + 2, newc, 2);
				nk.mv_data = nkey;
				nk.mv_size = 4;
				rc = mdb_put(txn, s->idx, &nk, &pv, MDB_NODUPDATA);
				if (rc != 0 && rc != MDB_KEYEXIST)
					goto out;
			}
			/* The cursor is on another DBI key only for TAG_AUTHOR, and
			 * the writes above touch other keys, so it stays valid. */
			k.mv_data = ukey;
			k.mv_size = sizeof(ukey);
			v.mv_data = val;
			v.mv_size = POSTING_LEN;
			rc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH);
			if (rc == 0)
				rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP);
		}
		if (rc != MDB_NOTFOUND)
			goto out;
		rc = 0;
	}
out:
	mdb_cursor_close(cur);
	return rc;
}

/* ---- writing ---- */

static int
put_one(MDB_txn *txn, struct store *s, struct store_item *it, struct postings *p)
{
	const Lcf__Content *c = it->rec->c;
	const uint8_t *id = it->rec->id;
	uint8_t seqkey[AUTHOR_LEN + 8], ck[CUR_KEY_MAX], cval[CURRENT_VAL_LEN];
	uint8_t val[POSTING_LEN];
	char oldc[3], newc[3];
	int have_oldc = 0, have_newc, rc, is_profile;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	struct record old;
	size_t ndup = 0;

	memset(&old, 0, sizeof(old));
	it->result = 0;
	k.mv_data = (void *)id;
	k.mv_size = RECORD_ID_LEN;
	v.mv_data = (void *)it->raw;
	v.mv_size = it->len;
	rc = mdb_put(txn, s->records, &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST) {
		it->result = STORE_DUP;
		return 0;
	}
	if (rc != 0)
		return rc;

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
			k.mv_data = seqkey;
			k.mv_size = sizeof(seqkey);
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) :
			    mdb_cursor_get(cur, &k, &v, MDB_LAST);
			same_author = rc == 0 &&
			    memcmp(k.mv_data, seqkey, AUTHOR_LEN) == 0;
		}
		if (!same_author && (rc = meta_add(txn, s, "authors", 1)) != 0 &&
		    rc != MDB_NOTFOUND)
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
		it->result |= STORE_FORK;
		if ((rc = meta_add(txn, s, "forks", 1)) != 0)
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
		if ((rc = load_record(txn, s, oid, &old)) != 0)
			goto out;
	} else if (rc != MDB_NOTFOUND) {
		goto out;
	}
	is_profile = c->kind == LCF__KIND__KIND_CITY && strcmp(c->key, "profile") == 0;
	if (old.c != NULL) {
		if (c->kind == LCF__KIND__KIND_CITY) {
			have_oldc = !old.c->deleted && old.c->city != NULL &&
			    old.c->city->country != NULL;
			if (have_oldc)
				snprintf(oldc, sizeof(oldc), "%s", old.c->city->country);
		} else {
			have_oldc = author_country(txn, s, c->author.data, oldc);
		}
		postings_of(old.c, have_oldc ? oldc : NULL, p);
		posting_value(old.c, old.id, val);
		if ((rc = postings_apply(txn, s, p, val, 0)) != 0)
			goto out;
	} else if (is_profile) {
		have_oldc = 0;
	}
	put_be64(cval, c->seq);
	memcpy(cval + 8, id, RECORD_ID_LEN);
	k.mv_data = ck;
	k.mv_size = current_key(ck, c->author.data, c->kind, c->key);
	v.mv_data = cval;
	v.mv_size = sizeof(cval);
	if ((rc = mdb_put(txn, s->current, &k, &v, 0)) != 0)
		goto out;
	if (c->kind == LCF__KIND__KIND_CITY) {
		have_newc = !c->deleted && c->city != NULL && c->city->country != NULL;
		if (have_newc)
			snprintf(newc, sizeof(newc), "%s", c->city->country);
	} else {
		have_newc = author_country(txn, s, c->author.data, newc);
	}
	postings_of(c, have_newc ? newc : NULL, p);
	posting_value(c, id, val);
	if ((rc = postings_apply(txn, s, p, val, 1)) != 0)
		goto out;
	if (is_profile && (have_oldc != have_newc ||
	    (have_oldc && strcmp(oldc, newc) != 0))) {
		rc = reindex_country(txn, s, c->author.data, have_oldc ? oldc : NULL,
		    have_newc ? newc : NULL);
		if (rc != 0)
			goto out;
	}
	it->result |= STORE_CURRENT;
	rc = 0;
out:
	record_release(&old);
	if (cur != NULL)
		mdb_cursor_close(cur);
	return rc;
}

int
store_put(struct store *s, struct store_item *items, size_t n)
{
	struct postings p;
	MDB_txn *txn = NULL;
	size_t i;
	int rc;

	memset(&p, 0, sizeof(p));
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((rc = put_one(txn, s, &items[i], &p)) != 0)
			goto out;
	rc = mdb_txn_commit(txn);
	txn = NULL;
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	free(p.keys);
	if (rc != 0) {
		log_mdb("write", rc);
		for (i = 0; i < n; i++)
			items[i].result = 0;
		return map_err(rc);
	}
	return 0;
}

/* ---- reading ---- */

static int
rd_begin(struct store *s, MDB_txn **txn)
{
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);

	log_mdb("read transaction", rc);
	return rc;
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
store_get(struct store *s, const uint8_t id[32], store_visit_fn fn, void *arg)
{
	MDB_txn *txn;
	MDB_val k = { RECORD_ID_LEN, (void *)id }, v;
	int rc, ret;

	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	rc = mdb_get(txn, s->records, &k, &v);
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
	if (mdb_cursor_open(txn, s->records, &cur) != 0) {
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
	if (rc == 0 && v.mv_size == CURRENT_VAL_LEN) {
		rk.mv_data = (uint8_t *)v.mv_data + 8;
		rk.mv_size = RECORD_ID_LEN;
		rc = mdb_get(txn, s->records, &rk, &rv);
	}
	if (rc == 0)
		ret = fn(arg, rk.mv_data, rv.mv_data, rv.mv_size);
	else
		ret = map_err(rc);
	mdb_txn_abort(txn);
	return ret;
}

/* ---- queries: leapfrog join over posting lists ---- */

struct plist {
	MDB_cursor *cur;
	uint8_t key[IDX_KEY_MAX];
	size_t klen;
};

static int
plist_open(MDB_txn *txn, struct store *s, struct plist *pl, Lcf__Kind kind,
    char tag, const char *term, size_t len, MDB_val *first)
{
	MDB_val k;
	int rc;

	if (len > TERM_MAX)
		len = TERM_MAX;
	pl->key[0] = (uint8_t)kind;
	pl->key[1] = (uint8_t)tag;
	memcpy(pl->key + 2, term, len);
	pl->klen = 2 + len;
	if ((rc = mdb_cursor_open(txn, s->idx, &pl->cur)) != 0)
		return rc;
	k.mv_data = pl->key;
	k.mv_size = pl->klen;
	return mdb_cursor_get(pl->cur, &k, first, MDB_SET_KEY);
}

/* Moves a list to its first value >= target. */
static int
plist_seek(struct plist *pl, const uint8_t *target, MDB_val *v)
{
	MDB_val k = { pl->klen, pl->key };

	v->mv_data = (void *)target;
	v->mv_size = POSTING_LEN;
	return mdb_cursor_get(pl->cur, &k, v, MDB_GET_BOTH_RANGE);
}

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

int
store_query(struct store *s, const struct store_query *q, store_visit_fn fn,
    void *arg, int *truncated)
{
	struct plist pl[3 * STORE_MAX_TERMS + 4];
	MDB_val vals[3 * STORE_MAX_TERMS + 4], rk, rv;
	struct word_collect wc;
	struct plist del;
	size_t n = 0, i, emitted = 0;
	uint8_t maxv[POSTING_LEN];
	MDB_txn *txn = NULL;
	int rc = 0, ret = 0, filtered, all_equal;

	*truncated = 0;
	memset(pl, 0, sizeof(pl));
	memset(&del, 0, sizeof(del));
	memset(&wc, 0, sizeof(wc));
	store_words(q->text, collect_word, &wc);
	if (wc.overflow || q->nareas > STORE_MAX_TERMS ||
	    q->nclusters > STORE_MAX_TERMS)
		return LCF_EINVAL;
	if (q->text != NULL && wc.n == 0)
		return LCF_EINVAL;
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;

#define OPEN_LIST(tag, term, len)                                              \
	do {                                                                   \
		rc = plist_open(txn, s, &pl[n], q->kind, tag, term, len,       \
		    &vals[n]);                                                 \
		n++;                                                           \
		if (rc != 0)                                                   \
			goto done;                                             \
	} while (0)

	for (i = 0; i < q->nareas; i++)
		OPEN_LIST(TAG_AREA, q->areas[i], strlen(q->areas[i]));
	for (i = 0; i < q->nclusters; i++)
		OPEN_LIST(TAG_CLUSTER, q->clusters[i], strlen(q->clusters[i]));
	if (q->country != NULL)
		OPEN_LIST(TAG_COUNTRY, q->country, strlen(q->country));
	if (q->author != NULL)
		OPEN_LIST(TAG_AUTHOR, (const char *)q->author, AUTHOR_LEN);
	if (q->indicator != NULL)
		OPEN_LIST(TAG_INDICATOR, q->indicator, strlen(q->indicator));
	if (q->period != NULL)
		OPEN_LIST(TAG_PERIOD, q->period, strlen(q->period));
	for (i = 0; i < wc.n; i++)
		OPEN_LIST(TAG_WORD, wc.words[i], strlen(wc.words[i]));
	filtered = n > 0;
	if (!filtered) {
		OPEN_LIST(TAG_ALL, "", 0);
		if (!q->include_deleted) {
			MDB_val dv;

			if (plist_open(txn, s, &del, q->kind, TAG_DELETED, "", 0,
			    &dv) != 0) {
				mdb_cursor_close(del.cur);
				del.cur = NULL;
			}
		}
	}
#undef OPEN_LIST

	for (;;) {
		/* Find the largest current value, then seek the others to it. */
		memcpy(maxv, vals[0].mv_data, POSTING_LEN);
		for (i = 1; i < n; i++)
			if (memcmp(vals[i].mv_data, maxv, POSTING_LEN) > 0)
				memcpy(maxv, vals[i].mv_data, POSTING_LEN);
		all_equal = 1;
		for (i = 0; i < n; i++) {
			if (memcmp(vals[i].mv_data, maxv, POSTING_LEN) == 0)
				continue;
			all_equal = 0;
			if ((rc = plist_seek(&pl[i], maxv, &vals[i])) != 0)
				goto done;
		}
		if (!all_equal)
			continue;
		if (del.cur != NULL) {
			MDB_val dk = { del.klen, del.key }, dv = { POSTING_LEN, maxv };

			if (mdb_cursor_get(del.cur, &dk, &dv, MDB_GET_BOTH) == 0)
				goto next;
		}
		if (q->limit && emitted == q->limit) {
			*truncated = 1;
			goto done;
		}
		rk.mv_data = maxv + 8;
		rk.mv_size = RECORD_ID_LEN;
		if (mdb_get(txn, s->records, &rk, &rv) == 0) {
			emitted++;
			if ((ret = fn(arg, maxv + 8, rv.mv_data, rv.mv_size)) != 0)
				goto done;
		}
next:
		rc = mdb_cursor_get(pl[0].cur, &rk, &vals[0], MDB_NEXT_DUP);
		if (rc != 0)
			goto done;
	}
done:
	for (i = 0; i < n; i++)
		if (pl[i].cur != NULL)
			mdb_cursor_close(pl[i].cur);
	if (del.cur != NULL)
		mdb_cursor_close(del.cur);
	mdb_txn_abort(txn);
	if (ret != 0)
		return ret;
	if (rc != 0 && rc != MDB_NOTFOUND) {
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
			if (mdb_get(txn, s->records, &rk, &rv) == 0 &&
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
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (ret != 0)
		return ret;
	return rc == 0 ? 0 : map_err(rc);
}

int
store_scan_all(struct store *s, uint8_t lo, uint8_t hi, store_visit_fn fn, void *arg)
{
	uint8_t start[RECORD_ID_LEN];
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc, ret = 0;

	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if ((rc = mdb_cursor_open(txn, s->records, &cur)) != 0)
		goto out;
	memset(start, 0, sizeof(start));
	start[0] = lo;
	k.mv_data = start;
	k.mv_size = sizeof(start);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && ((uint8_t *)k.mv_data)[0] <= hi) {
		if ((ret = fn(arg, k.mv_data, v.mv_data, v.mv_size)) != 0)
			goto out;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (ret != 0)
		return ret;
	return rc == 0 ? 0 : map_err(rc);
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
	if (mdb_stat(txn, s->records, &ms) != 0)
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
