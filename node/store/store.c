// SPDX-License-Identifier: Apache-2.0
// The LMDB store: opening (and upgrading) it, writing records with their
// current versions, seq index and counters, and reading them back. Query
// postings are in postings.c, queries in store_query.c, the reads of
// reconciliation in store_sync.c, the disk space reserved ahead of writes in
// store_space.c; what they share in store_int.h.
//
// Layout and the reasons for it are in docs/ARCHITECTURE.md ("Store layout").
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "base/error.h"
#include "model/iblt.h"
#include "model/kinds.h"
#include "base/log.h"
#include "model/record.h"
#include "store/store.h"
#include "store/store_int.h"
#include "base/util.h"
#include "base/xmalloc.h"

#define SKETCH_BATCH 4096                          /* ids hashed per lock */

/* ---- opening ---- */

/* The highest row in use, 0 when there is none. */
static int
last_row(MDB_txn *txn, const struct store *s, uint64_t *row)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	*row = 0;
	if ((rc = mdb_cursor_open(txn, s->rows, &cur)) != 0)
		return mdb_to_lcf("last row", rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == ROW_LEN)
		*row = get_be64(k.mv_data);
	else if (rc == 0)
		rc = MDB_CORRUPTED;
	mdb_cursor_close(cur);
	return mdb_to_lcf("last row", rc == MDB_NOTFOUND ? 0 : rc);
}

/*
 * Fills the sketch with every stored id. The ids are read from the seq index,
 * whose entries are author, seq and id only: every stored record has exactly one
 * entry there (store_put writes both in one transaction), and walking it reads a
 * fraction of the pages the records themselves fill.
 */
static int
sketch_fill(struct store *s, MDB_dbi dbi, struct iblt_set *set)
{
	uint8_t *ids = xreallocarray(NULL, SKETCH_BATCH, RECORD_ID_LEN);
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	size_t n = 0;
	int rc;

	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		goto out;
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0) {
		if (v.mv_size == RECORD_ID_LEN) {
			memcpy(ids + n * RECORD_ID_LEN, v.mv_data, RECORD_ID_LEN);
			if (++n == SKETCH_BATCH) {
				iblt_set_add_many(set, ids, n);
				n = 0;
			}
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	iblt_set_add_many(set, ids, n);
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	free(ids);
	return mdb_to_lcf("reading record ids", rc);
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
	uint64_t next = 1, moved = 0, base, bytes;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_dbi old;
	MDB_val k, v, rk;
	size_t n;
	int rc, ret = 0, have_last = 0;

	log_info("store: upgrading %s from schema 1 to 2", s->path);
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
		/* Every record is written again: disk room for it first, as
		 * for any write (store_space.c). */
		base = store__space_base(s);
		bytes = 0;
		if ((ret = store__space_reserve(s, base, STORE_SPACE_MARGIN)) != 0)
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
			bytes += v.mv_size + sizeof(last) + sizeof(row);
			if ((ret = store__space_reserve(s, base, STORE_SPACE_MARGIN +
			    STORE_SPACE_FACTOR * bytes)) != 0)
				goto out;
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
			/* Schema 2; upgrade_2 goes on from there. */
			put_be32(ver, 2);
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
	store__space_release(s);
	return ret != 0 ? ret : mdb_to_lcf("upgrading from schema 1", rc);
}

static int upgrade_2(struct store *s);

/* store_open's first transaction: the tables, and the schema checked or
 * written. */
struct open_ctx {
	struct store *s;
	MDB_txn *txn;                /* open while tables_open runs */
	char *err;
	size_t errlen;
	int upgrade;                 /* out: the older schema to upgrade, or 0 */
};

static int
tables_open(struct open_ctx *o)
{
	struct store *s = o->s;
	MDB_val k, v;
	uint8_t ver[4];
	MDB_stat qs;
	int rc, space;

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &o->txn)) != 0)
		goto out;
	/* A database that exists opens on a full disk, to be read; one that
	 * must be written first (created, upgraded) needs room. */
	space = store__space_reserve(s, store__space_base(s), STORE_SPACE_MARGIN);
	if ((rc = mdb_dbi_open(o->txn, "meta", MDB_CREATE, &s->meta)) != 0 ||
	    (rc = mdb_dbi_open(o->txn, "rows", MDB_CREATE, &s->rows)) != 0 ||
	    (rc = mdb_dbi_open(o->txn, "ids", MDB_CREATE, &s->ids)) != 0 ||
	    (rc = mdb_dbi_open(o->txn, "current", MDB_CREATE, &s->current)) != 0 ||
	    (rc = mdb_dbi_open(o->txn, "seq", MDB_CREATE | MDB_DUPSORT |
	    MDB_DUPFIXED, &s->seq)) != 0 ||
	    (rc = mdb_dbi_open(o->txn, "idx", MDB_CREATE | MDB_DUPSORT |
	    MDB_DUPFIXED | MDB_INTEGERDUP, &s->idx)) != 0 ||
	    (rc = mdb_dbi_open(o->txn, "docs", MDB_CREATE | MDB_INTEGERKEY,
	    &s->docs)) != 0 ||
	    (rc = mdb_dbi_open(o->txn, "late", MDB_CREATE | MDB_DUPSORT |
	    MDB_DUPFIXED, &s->late)) != 0 ||
	    (rc = mdb_dbi_open(o->txn, "words", MDB_CREATE | MDB_DUPSORT |
	    MDB_DUPFIXED, &s->words)) != 0 ||
	    (rc = mdb_dbi_open(o->txn, "quarantine", MDB_CREATE,
	    &s->quarantine)) != 0)
		goto out;
	if ((rc = mdb_stat(o->txn, s->quarantine, &qs)) != 0)
		goto out;
	s->quar_any = qs.ms_entries > 0;
	k.mv_data = "schema";
	k.mv_size = 6;
	rc = mdb_get(o->txn, s->meta, &k, &v);
	if ((rc == MDB_NOTFOUND || (rc == 0 && v.mv_size == 4 &&
	    get_be32(v.mv_data) < STORE_SCHEMA_VERSION)) && space != 0) {
		snprintf(o->err, o->errlen, "%s: cannot prepare the database: %s",
		    s->path, lcf_strerror(space));
		return space;
	}
	if (rc == MDB_NOTFOUND) {
		put_be32(ver, STORE_SCHEMA_VERSION);
		v.mv_data = ver;
		v.mv_size = 4;
		rc = mdb_put(o->txn, s->meta, &k, &v, 0);
	} else if (rc == 0 && v.mv_size == 4 && get_be32(v.mv_data) >= 1 &&
	    get_be32(v.mv_data) < STORE_SCHEMA_VERSION) {
		o->upgrade = (int)get_be32(v.mv_data);
	} else if (rc == 0 && (v.mv_size != 4 ||
	    get_be32(v.mv_data) != STORE_SCHEMA_VERSION)) {
		snprintf(o->err, o->errlen, "%s: database schema %u is not the one "
		    "this lcnode uses (%d)", s->path, v.mv_size == 4 ?
		    get_be32(v.mv_data) : 0, STORE_SCHEMA_VERSION);
		return LCF_ESTORE;
	}
	if (rc == 0) {
		rc = mdb_txn_commit(o->txn);
		o->txn = NULL;
	}
out:
	if (rc != 0)
		snprintf(o->err, o->errlen, "%s: %s", s->path, mdb_strerror(rc));
	return rc == 0 ? 0 : map_err(rc);
}

int
store_open(const char *path, uint64_t map_size, struct store **out, char *err,
    size_t errlen)
{
	struct store *s = xcalloc(1, sizeof(*s));
	struct open_ctx o = { .s = s, .err = err, .errlen = errlen };
	int rc, ret = LCF_ESTORE;

	*out = NULL;
	s->path = xstrdup(path);
	pthread_mutex_init(&s->write_mu, NULL);
	pthread_mutex_init(&s->sketch_mu, NULL);
	pthread_mutex_init(&s->quar_mu, NULL);
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		goto out;
	}
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, 12)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, (size_t)map_size)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, 254)) != 0) {
		snprintf(err, errlen, "%s: %s", path, mdb_strerror(rc));
		goto out;
	}
	/* MDB_NOTLS: read transactions are not tied to threads, so the loop and
	 * the thread pool can both read. MDB_WRITEMAP: a transaction's dirty pages
	 * live in the file mapping, not in heap memory that LMDB would keep cached
	 * for the life of the process after a large import (store_space.c
	 * reserves the disk blocks they need, so a full disk is an error).
	 * MDB_NORDAHEAD: with read-ahead, each page a commit dirties in the
	 * shared mapping wrote back a whole read-ahead block (120 GB of disk
	 * writes for a 1 GB bootstrap, 6.8 GB without). */
	if ((rc = mdb_env_open(s->env, path, MDB_NOTLS | MDB_WRITEMAP | MDB_NORDAHEAD,
	    0600)) != 0) {
		/* A map the file system or the kernel cannot give: the
		 * setting to change is map_size. */
		if (rc == EFBIG || rc == ENOMEM || rc == EINVAL)
			snprintf(err, errlen, "cannot open database %s: %s: "
			    "map_size (%llu MiB, [store] in lcnode.conf) is more "
			    "than this system or its file system can map; lower "
			    "it", path, mdb_strerror(rc),
			    (unsigned long long)(map_size >> 20));
		else
			snprintf(err, errlen, "cannot open database %s: %s", path,
			    mdb_strerror(rc));
		goto out;
	}
	if ((ret = store__space_init(s)) != 0) {
		snprintf(err, errlen, "%s: %s", path, lcf_strerror(ret));
		goto out;
	}
	if ((ret = tables_open(&o)) != 0)
		goto out;
	if (o.upgrade == 1 && (ret = upgrade_1(s)) != 0) {
		snprintf(err, errlen, "%s: upgrading the database from schema 1: %s",
		    path, lcf_strerror(ret));
		goto out;
	}
	if (o.upgrade != 0 && o.upgrade <= 2 && (ret = upgrade_2(s)) != 0) {
		snprintf(err, errlen, "%s: upgrading the database from schema 2 "
		    "(the search index): %s", path, lcf_strerror(ret));
		goto out;
	}
	if (o.upgrade != 0 && (ret = store__prune_all(s)) != 0) {
		snprintf(err, errlen, "%s: upgrading the database from schema 3 "
		    "(superseded beacons): %s", path, lcf_strerror(ret));
		goto out;
	}
	s->sketch = iblt_set_new();
	s->late_sketch = iblt_set_new();
	if ((ret = sketch_fill(s, s->seq, s->sketch)) != 0 ||
	    (ret = sketch_fill(s, s->late, s->late_sketch)) != 0) {
		snprintf(err, errlen, "%s: reading record ids: %s", path,
		    lcf_strerror(ret));
		goto out;
	}
	*out = s;
	s = NULL;
	ret = 0;
out:
	if (o.txn != NULL)
		mdb_txn_abort(o.txn);
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
	pthread_mutex_destroy(&s->write_mu);
	iblt_set_free(s->sketch);
	iblt_set_free(s->late_sketch);
	pthread_mutex_destroy(&s->sketch_mu);
	pthread_mutex_destroy(&s->quar_mu);
	free(s->quar_ids);
	free(s->quar_why);
	free(s->path);
	free(s);
}

int
store_sketch_view(struct store *s, int legacy, int cls, struct iblt *out_table,
    struct iblt_digest *out_digest)
{
	struct iblt late_t;
	struct iblt_digest late_d;
	int ret;

	memset(&late_t, 0, sizeof(late_t));
	pthread_mutex_lock(&s->sketch_mu);
	ret = iblt_set_snapshot(s->sketch, cls, out_table, out_digest);
	if (ret == 0 && legacy)
		ret = iblt_set_snapshot(s->late_sketch, cls,
		    out_table != NULL ? &late_t : NULL, &late_d);
	pthread_mutex_unlock(&s->sketch_mu);
	if (ret == 0 && legacy) {
		if (out_table != NULL)
			ret = iblt_subtract(out_table, &late_t);
		if (out_digest != NULL)
			iblt_digest_subtract(out_digest, &late_d);
	}
	iblt_free(&late_t);
	return ret;
}

struct iblt_set *
store_sketch(struct store *s)
{
	return s->sketch;
}

/* ---- counters in meta ---- */

/* A counter in meta into *out (0 when it was never set): 0 or LCF_ESTORE. */
static int
meta_get(MDB_txn *txn, struct store *s, const char *name, uint64_t *out)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc;

	*out = 0;
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		*out = get_be64(v.mv_data);
	else if (rc == 0)
		rc = MDB_CORRUPTED;
	if (rc == MDB_NOTFOUND)
		rc = 0;
	log_mdb("reading a counter", rc);
	return rc == 0 ? 0 : LCF_ESTORE;
}

/* ---- current versions ---- */

/* Decodes the record with the given id from within txn (no signature check:
 * everything in the store was verified on the way in). */
static int
load_record(MDB_txn *txn, struct store *s, const uint8_t id[32], struct record *rec)
{
	MDB_val v;
	int rc;

	/* A quarantined version (store_quarantine.c) may still be current:
	 * its damaged bytes are all there is to retire it with. */
	if ((rc = rec_get(txn, s, id, &v)) == MDB_NOTFOUND)
		rc = store__quarantine_bytes(txn, s, id, &v);
	if (rc != 0)
		return mdb_to_lcf("reading a record", rc);
	if (record_open(v.mv_data, v.mv_size, 0, rec) != 0) {
		log_warnx("store: a stored record does not decode");
		return LCF_ESTORE;
	}
	return 0;
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
	struct pending wpending;      /* the text index's */
	uint32_t next_doc;            /* next document number to give out */
	uint32_t first_doc;           /* first one given out in this transaction */
	uint64_t next_row;            /* row the next record's bytes go to */
	uint8_t cc_author[AUTHOR_LEN];   /* last author_country answer */
	char cc_country[3];
	int cc_valid, cc_found;
	/* The version an item replaces, and the decoded form of an item given
	 * as bytes only: here, so that an abort releases them however the
	 * write ended. */
	struct record old, tmp;
	int late;                     /* the last item went into "late" */
	struct gone gone;             /* versions deleted: superseded (store_prune.c) */
};

/* Writes the postings gathered so far, both tables'. */
static int
flush_all(struct put_ctx *x, struct store *s)
{
	int ret;

	if ((ret = store__pending_flush(x->txn, s, &x->pending)) != 0)
		return ret;
	return store__pending_flush(x->txn, s, &x->wpending);
}

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

/* A city's country changed: move the country postings of its live records. */
static int
reindex_country(struct put_ctx *x, struct store *s, const uint8_t author[32],
    const char *oldc, const char *newc)
{
	const struct kinds_def *kd;
	uint8_t ukey[2 + AUTHOR_LEN], ckey[4];
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint32_t *docs = NULL;
	size_t i, j, n;
	int rc, ret;

	/* The author's own postings may still be pending. */
	if ((ret = store__pending_flush(x->txn, s, &x->pending)) != 0)
		return ret;
	if ((rc = mdb_cursor_open(x->txn, s->idx, &cur)) != 0)
		return mdb_to_lcf("country postings", rc);
	for (i = 0; (kd = kinds_at(i)) != NULL; i++) {
		/* The profile carries the country: its own postings are written
		 * anew with the record that changed it. */
		if (!(kd->flags & KINDS_BY_COUNTRY) || kd->kind == LCF__KIND__KIND_CITY)
			continue;
		ukey[0] = (uint8_t)kd->kind;
		ukey[1] = TAG_AUTHOR;
		memcpy(ukey + 2, author, AUTHOR_LEN);
		if ((ret = store__list_load(cur, ukey, sizeof(ukey), &docs, &n)) != 0)
			goto out;
		/* Two posting lists of n numbers change (the old country's and
		 * the new one's): room for them beyond the record's own. */
		if ((ret = store__space_extend(s, (uint64_t)STORE_SPACE_FACTOR *
		    2 * n * sizeof(uint32_t) + 2 * s->psize)) != 0)
			goto out;
		ckey[0] = (uint8_t)kd->kind;
		ckey[1] = TAG_COUNTRY;
		k.mv_data = ckey;
		k.mv_size = sizeof(ckey);
		for (j = 0; j < n; j++) {
			v.mv_data = &docs[j];
			v.mv_size = sizeof(uint32_t);
			rc = 0;
			if (oldc != NULL) {
				memcpy(ckey + 2, oldc, 2);
				rc = mdb_del(x->txn, s->idx, &k, &v);
				rc = rc == MDB_NOTFOUND ? 0 : rc;
			}
			if (rc == 0 && newc != NULL) {
				memcpy(ckey + 2, newc, 2);
				rc = mdb_put(x->txn, s->idx, &k, &v, MDB_NODUPDATA);
				rc = rc == MDB_KEYEXIST ? 0 : rc;
			}
			if ((ret = mdb_to_lcf("country postings", rc)) != 0)
				goto out;
		}
		free(docs);
		docs = NULL;
	}
	ret = 0;
out:
	free(docs);
	mdb_cursor_close(cur);
	return ret;
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

/* The record's bytes: its id points at the next row, the bytes are appended
 * there. An id already held sets STORE_DUP and writes nothing. */
static int
put_bytes(struct put_ctx *x, struct store *s, struct store_item *it)
{
	uint8_t row[ROW_LEN];
	MDB_val k, v;
	int rc;

	put_be64(row, x->next_row);
	k.mv_data = (void *)it->rec->id;
	k.mv_size = RECORD_ID_LEN;
	v.mv_data = row;
	v.mv_size = sizeof(row);
	rc = mdb_put(x->txn, s->ids, &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST) {
		it->result = STORE_DUP;
		return 0;
	}
	if (rc == 0) {
		k.mv_data = row;
		k.mv_size = sizeof(row);
		v.mv_data = (void *)it->raw;
		v.mv_size = it->len;
		rc = mdb_put(x->txn, s->rows, &k, &v, MDB_APPEND);
	}
	if (rc == 0)
		x->next_row++;
	if (rc == 0)
		return store__quarantine_resolve(x->txn, s, it->rec->id);
	return mdb_to_lcf("record bytes", rc);
}

/* Seq index entry, the authors counter for a new author and the fork counters
 * when the author already has a record with this seq. */
static int
put_seq(struct put_ctx *x, struct store *s, struct store_item *it)
{
	const Lcf__Content *c = it->rec->c;
	uint8_t seqkey[AUTHOR_LEN + 8], fk[1 + AUTHOR_LEN];
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	size_t ndup = 0;
	int rc, ret, same_author = 0;

	memcpy(seqkey, c->author.data, AUTHOR_LEN);
	put_be64(seqkey + AUTHOR_LEN, c->seq);
	if ((rc = mdb_cursor_open(x->txn, s->seq, &cur)) != 0)
		return mdb_to_lcf("seq index", rc);
	k.mv_data = seqkey;
	k.mv_size = sizeof(seqkey);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && k.mv_size == sizeof(seqkey) &&
	    memcmp(k.mv_data, seqkey, sizeof(seqkey)) == 0) {
		rc = mdb_cursor_count(cur, &ndup);
		same_author = 1;
	} else if (rc == MDB_NOTFOUND || rc == 0) {
		if (rc == 0)
			same_author = memcmp(k.mv_data, seqkey, AUTHOR_LEN) == 0;
		if (!same_author) {
			/* Maybe an earlier seq of this author. */
			rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) :
			    mdb_cursor_get(cur, &k, &v, MDB_LAST);
			same_author = rc == 0 &&
			    memcmp(k.mv_data, seqkey, AUTHOR_LEN) == 0;
		}
		rc = rc == MDB_NOTFOUND ? 0 : rc;
	}
	mdb_cursor_close(cur);
	if ((ret = mdb_to_lcf("seq index", rc)) != 0)
		return ret;
	if (!same_author && (ret = meta_add(x->txn, s, "authors", 1)) != 0)
		return ret;
	k.mv_data = seqkey;
	k.mv_size = sizeof(seqkey);
	v.mv_data = (void *)it->rec->id;
	v.mv_size = RECORD_ID_LEN;
	rc = mdb_put(x->txn, s->seq, &k, &v, MDB_NODUPDATA);
	if ((ret = mdb_to_lcf("seq index", rc == MDB_KEYEXIST ? 0 : rc)) != 0)
		return ret;
	if (ndup > 0) {
		it->result |= STORE_FORK;
		fork_key(fk, c->author.data);
		if ((ret = meta_add(x->txn, s, "forks", 1)) != 0 ||
		    (ret = meta_add_key(x->txn, s, fk, sizeof(fk), 1)) != 0)
			return ret;
		log_warnx("store: fork: two records with one author and seq %llu",
		    (unsigned long long)c->seq);
	}
	return 0;
}

/* A record of a kind outside what a base-version peer takes: its entry in
 * "late", so that reconciliation with such a peer leaves it out. */
static int
put_late(struct put_ctx *x, struct store *s, struct store_item *it)
{
	const Lcf__Content *c = it->rec->c;
	uint8_t key[AUTHOR_LEN + 8];
	MDB_val k, v;
	int rc;

	if (!kinds_late((int)c->kind))
		return 0;
	memcpy(key, c->author.data, AUTHOR_LEN);
	put_be64(key + AUTHOR_LEN, c->seq);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	v.mv_data = (void *)it->rec->id;
	v.mv_size = RECORD_ID_LEN;
	rc = mdb_put(x->txn, s->late, &k, &v, MDB_NODUPDATA);
	x->late = 1;
	return mdb_to_lcf("late index", rc == MDB_KEYEXIST ? 0 : rc);
}

/* The current version of the item's key, if any, into x->old (its document
 * number into *olddoc). Sets STORE_STALE when it wins over the item: higher
 * seq wins; on a fork the lower id, so every node picks the same one. */
static int
find_current(struct put_ctx *x, struct store *s, struct store_item *it,
    uint32_t *olddoc)
{
	const Lcf__Content *c = it->rec->c;
	uint8_t ck[CUR_KEY_MAX];
	MDB_val k, v;
	uint64_t oseq;
	const uint8_t *oid;
	int rc;

	k.mv_data = ck;
	k.mv_size = current_key(ck, c->author.data, c->kind, c->key);
	rc = mdb_get(x->txn, s->current, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc == 0 && v.mv_size != CURRENT_VAL_LEN)
		rc = MDB_CORRUPTED;
	if (rc != 0)
		return mdb_to_lcf("current version", rc);
	oseq = get_be64(v.mv_data);
	oid = (const uint8_t *)v.mv_data + 8;
	if (c->seq < oseq || (c->seq == oseq &&
	    memcmp(it->rec->id, oid, RECORD_ID_LEN) > 0)) {
		it->result |= STORE_STALE;
		return 0;
	}
	memcpy(olddoc, oid + RECORD_ID_LEN, sizeof(*olddoc));
	return load_record(x->txn, s, oid, &x->old);
}

/* The replaced version x->old (document olddoc) stops being current: its
 * postings and its document go. *have_oldc/oldc: the country it was indexed
 * under. */
static int
retire_old(struct put_ctx *x, struct store *s, uint32_t olddoc, int *have_oldc,
    char oldc[3])
{
	MDB_val k;
	int rc, ret;

	/* Postings of this very transaction must be written before they can
	 * be deleted. */
	if (olddoc >= x->first_doc && (ret = flush_all(x, s)) != 0)
		return ret;
	*have_oldc = index_country(x, s, x->old.c, oldc);
	if (kinds_by_kind((int)x->old.c->kind) != NULL &&
	    (ret = store__postings_remove(x->txn, s, &x->wpending, x->old.c,
	    *have_oldc ? oldc : NULL, olddoc)) != 0)
		return ret;
	k.mv_data = &olddoc;
	k.mv_size = sizeof(olddoc);
	rc = mdb_del(x->txn, s->docs, &k, NULL);
	return mdb_to_lcf("documents", rc == MDB_NOTFOUND ? 0 : rc);
}

/* The item becomes the current version of its key, as document doc. */
static int
put_current(struct put_ctx *x, struct store *s, struct store_item *it,
    uint32_t doc)
{
	const Lcf__Content *c = it->rec->c;
	uint8_t ck[CUR_KEY_MAX], cval[CURRENT_VAL_LEN];
	MDB_val k, v;
	int rc;

	put_be64(cval, c->seq);
	memcpy(cval + 8, it->rec->id, RECORD_ID_LEN);
	memcpy(cval + 8 + RECORD_ID_LEN, &doc, sizeof(doc));
	k.mv_data = ck;
	k.mv_size = current_key(ck, c->author.data, c->kind, c->key);
	v.mv_data = cval;
	v.mv_size = sizeof(cval);
	rc = mdb_put(x->txn, s->current, &k, &v, 0);
	if (rc == 0) {
		k.mv_data = &doc;
		k.mv_size = sizeof(doc);
		v.mv_data = (void *)it->rec->id;
		v.mv_size = RECORD_ID_LEN;
		rc = mdb_put(x->txn, s->docs, &k, &v, MDB_APPEND);
	}
	return mdb_to_lcf("current version", rc);
}

/* An item of a newest-only kind older than its key's current version is
 * not stored: STORE_DUP | STORE_SUPERSEDED. */
static int
superseded(struct put_ctx *x, struct store *s, struct store_item *it)
{
	const Lcf__Content *c = it->rec->c;
	uint64_t cseq;
	int found, ret;

	if (!kinds_newest_only((int)c->kind))
		return 0;
	if ((ret = store__current_seq(x->txn, s, c->author.data, c->kind,
	    c->key, &cseq, &found)) != 0)
		return ret;
	if (found && c->seq < cseq)
		it->result = STORE_DUP | STORE_SUPERSEDED;
	return 0;
}

/* Writes one item: its bytes, seq index entry and, unless a newer version is
 * current, its current version and postings; for a newest-only kind, the
 * versions it supersedes go. 0 or a project code. */
static int
put_one(struct put_ctx *x, struct store *s, struct store_item *it)
{
	const Lcf__Content *c = it->rec->c;
	char oldc[3], newc[3];
	int have_oldc = 0, have_newc, is_profile, ret;
	uint32_t doc, olddoc = 0;

	record_release(&x->old);
	it->result = 0;
	x->late = 0;
	if ((ret = superseded(x, s, it)) != 0 || (it->result & STORE_DUP))
		return ret;
	if ((ret = put_bytes(x, s, it)) != 0 || (it->result & STORE_DUP))
		return ret;
	if ((ret = put_seq(x, s, it)) != 0 ||
	    (ret = put_late(x, s, it)) != 0 ||
	    (ret = find_current(x, s, it, &olddoc)) != 0 ||
	    (it->result & STORE_STALE))
		return ret;
	is_profile = c->kind == LCF__KIND__KIND_CITY && strcmp(c->key, "profile") == 0;
	if (x->old.c != NULL &&
	    (ret = retire_old(x, s, olddoc, &have_oldc, oldc)) != 0)
		return ret;
	doc = x->next_doc++;
	if ((ret = put_current(x, s, it, doc)) != 0)
		return ret;
	/* Only the highest seq's versions are held (the forks of one seq
	 * included), so those of the replaced version's seq are all there is
	 * to delete. */
	if (x->old.c != NULL && kinds_newest_only((int)c->kind) &&
	    x->old.c->seq < c->seq &&
	    (ret = store__prune_at(x->txn, s, c->author.data, x->old.c->seq,
	    c->kind, c->key, &x->gone, NULL)) != 0)
		return ret;
	if (is_profile) {
		/* The author's country may change with this version. */
		x->cc_valid = 0;
		if (x->old.c == NULL)
			have_oldc = 0;
	}
	have_newc = index_country(x, s, c, newc);
	/* A kind this node does not know is kept for peers, not for queries. */
	if (kinds_by_kind((int)c->kind) != NULL)
		store__postings_add(&x->pending, &x->wpending, c,
		    have_newc ? newc : NULL, doc);
	if (is_profile && (have_oldc != have_newc ||
	    (have_oldc && strcmp(oldc, newc) != 0)) &&
	    (ret = reindex_country(x, s, c->author.data, have_oldc ? oldc : NULL,
	    have_newc ? newc : NULL)) != 0)
		return ret;
	if (x->pending.nposts + x->wpending.nposts >= PENDING_FLUSH &&
	    (ret = flush_all(x, s)) != 0)
		return ret;
	it->result |= STORE_CURRENT;
	record_release(&x->old);
	return 0;
}

/* One transaction of upgrade_2: postings of the documents after *after, at
 * most MIGRATE_BATCH of them; *done at the end (then the schema is marked). */
static int
reindex_batch(struct store *s, uint32_t *after, int *done, uint64_t *count)
{
	struct put_ctx x;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint64_t base, bytes = 0;
	uint32_t doc;
	uint8_t ver[4];
	char cc[3];
	size_t n;
	int rc, ret = 0;

	memset(&x, 0, sizeof(x));
	x.wpending.words = 1;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &x.txn)) != 0 ||
	    (rc = mdb_cursor_open(x.txn, s->docs, &cur)) != 0)
		goto out;
	base = store__space_base(s);
	if ((ret = store__space_reserve(s, base, STORE_SPACE_MARGIN)) != 0)
		goto out;
	k.mv_data = after;
	k.mv_size = sizeof(*after);
	rc = mdb_cursor_get(cur, &k, &v, *after ? MDB_SET_RANGE : MDB_FIRST);
	if (rc == 0 && *after && k.mv_size == sizeof(doc) &&
	    memcmp(k.mv_data, after, sizeof(doc)) == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	for (n = 0; rc == 0 && n < MIGRATE_BATCH; n++) {
		if (k.mv_size != sizeof(doc) || v.mv_size != RECORD_ID_LEN) {
			rc = MDB_CORRUPTED;
			goto out;
		}
		memcpy(&doc, k.mv_data, sizeof(doc));
		record_release(&x.old);
		if ((ret = load_record(x.txn, s, v.mv_data, &x.old)) != 0)
			goto out;
		bytes += x.old.sr->content.len;
		if ((ret = store__space_reserve(s, base, STORE_SPACE_MARGIN +
		    STORE_SPACE_FACTOR * bytes)) != 0)
			goto out;
		store__postings_add(&x.pending, &x.wpending, x.old.c,
		    index_country(&x, s, x.old.c, cc) ? cc : NULL, doc);
		if (x.pending.nposts + x.wpending.nposts >= PENDING_FLUSH &&
		    (ret = flush_all(&x, s)) != 0)
			goto out;
		*after = doc;
		(*count)++;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto out;
	*done = rc == MDB_NOTFOUND;
	rc = 0;
	if ((ret = flush_all(&x, s)) != 0)
		goto out;
	if (*done) {
		k.mv_data = "schema";
		k.mv_size = 6;
		/* Schema 3; store__prune_all goes on from there. */
		put_be32(ver, 3);
		v.mv_data = ver;
		v.mv_size = sizeof(ver);
		if ((rc = mdb_put(x.txn, s->meta, &k, &v, 0)) != 0)
			goto out;
	}
	mdb_cursor_close(cur);
	cur = NULL;
	rc = mdb_txn_commit(x.txn);
	x.txn = NULL;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (x.txn != NULL)
		mdb_txn_abort(x.txn);
	store__pending_free(&x.pending);
	store__pending_free(&x.wpending);
	record_release(&x.old);
	store__space_release(s);
	return ret != 0 ? ret : mdb_to_lcf("re-indexing", rc);
}

/*
 * Schema 3 indexes text in the words table (folded, stemmed, with term
 * frequencies: docs/ARCHITECTURE.md) and adds language, SDG and day postings.
 * Every current version is indexed again, MIGRATE_BATCH a transaction, with
 * the document numbers it has; the schema changes with the last batch, and an
 * upgrade that was interrupted starts over (the indexes are emptied first).
 */
static int
upgrade_2(struct store *s)
{
	uint8_t key[5] = { 't', 'e', 'x', 't', LCF__KIND__KIND_PRACTICE };
	MDB_val k = { sizeof(key), key };
	MDB_txn *txn = NULL;
	uint64_t count = 0;
	uint32_t after = 0;
	int rc, ret = 0, done = 0;

	log_info("store: upgrading %s from schema 2 to 3: indexing the text "
	    "again", s->path);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_drop(txn, s->idx, 0)) != 0 ||
	    (rc = mdb_drop(txn, s->words, 0)) != 0)
		goto out;
	rc = mdb_del(txn, s->meta, &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto out;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	while (rc == 0 && !done) {
		if ((ret = reindex_batch(s, &after, &done, &count)) != 0)
			goto out;
		log_info("store: upgrading: %llu records indexed",
		    (unsigned long long)count);
	}
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	return ret != 0 ? ret : mdb_to_lcf("upgrading from schema 2", rc);
}

/* A write transaction that may span several store_txn_put calls. */
struct store_txn {
	struct store *s;
	struct put_ctx x;
	uint8_t *ids;                 /* ids written, for the sketch at commit */
	size_t nids, capids;
	uint8_t *late_ids;            /* those of them in "late" */
	size_t nlate, caplate;
	struct store_item *items;     /* the store_txn_put call being served */
	size_t nitems;
	uint64_t base;                /* where the pages in use ended at begin */
	uint64_t bytes;               /* record bytes given so far */
	int locked;                   /* holds s->write_mu */
};

/* The first document number not in use: after the highest one. */
static int
first_free_doc(MDB_txn *txn, const struct store *s, uint32_t *doc)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	*doc = 1;
	if ((rc = mdb_cursor_open(txn, s->docs, &cur)) != 0)
		return mdb_to_lcf("documents", rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == sizeof(uint32_t)) {
		memcpy(doc, k.mv_data, sizeof(uint32_t));
		if (++*doc == 0)
			*doc = 1;
	} else if (rc == 0) {
		rc = MDB_CORRUPTED;
	}
	mdb_cursor_close(cur);
	return mdb_to_lcf("documents", rc == MDB_NOTFOUND ? 0 : rc);
}

int
store_txn_begin(struct store *s, struct store_txn **out)
{
	struct store_txn *t = xcalloc(1, sizeof(*t));
	int ret;

	*out = NULL;
	t->s = s;
	/* Outside LMDB's own write lock, which serializes the same
	 * transactions: the disk reservation changes only under this one. */
	pthread_mutex_lock(&s->write_mu);
	t->locked = 1;
	if ((ret = mdb_to_lcf("write", mdb_txn_begin(s->env, NULL, 0,
	    &t->x.txn))) != 0 ||
	    (ret = first_free_doc(t->x.txn, s, &t->x.next_doc)) != 0 ||
	    (ret = last_row(t->x.txn, s, &t->x.next_row)) != 0)
		goto out;
	t->base = store__space_base(s);
	if ((ret = store__space_reserve(s, t->base, STORE_SPACE_MARGIN)) != 0)
		goto out;
	t->x.first_doc = t->x.next_doc;
	t->x.wpending.words = 1;
	t->x.next_row++;
	*out = t;
	t = NULL;
out:
	store_txn_abort(t);
	return ret;
}

/* store_txn_put's work: t->items, t->nitems. */
static int
txn_put_items(struct store_txn *t)
{
	size_t i;
	int ret;

	for (i = 0; i < t->nitems; i++) {
		struct store_item *it = &t->items[i];

		/* A batch from ingest holds only the bytes: decode them here. */
		if (it->rec != NULL) {
			memcpy(it->id, it->rec->id, RECORD_ID_LEN);
			ret = put_one(&t->x, t->s, it);
		} else if (record_open(it->raw, it->len, 0, &t->x.tmp) != 0) {
			log_warnx("store: item %zu is not a record", i);
			ret = LCF_ESTORE;
		} else {
			memcpy(it->id, t->x.tmp.id, RECORD_ID_LEN);
			it->rec = &t->x.tmp;
			ret = put_one(&t->x, t->s, it);
			it->rec = NULL;
			record_release(&t->x.tmp);
		}
		if (ret != 0)
			return ret;
		if (it->result & STORE_DUP)
			continue;
		if (t->nids == t->capids) {
			t->capids = t->capids ? 2 * t->capids : 1024;
			t->ids = xreallocarray(t->ids, t->capids, RECORD_ID_LEN);
		}
		memcpy(t->ids + t->nids++ * RECORD_ID_LEN, it->id, RECORD_ID_LEN);
		if (t->x.late) {
			if (t->nlate == t->caplate) {
				t->caplate = t->caplate ? 2 * t->caplate : 64;
				t->late_ids = xreallocarray(t->late_ids,
				    t->caplate, RECORD_ID_LEN);
			}
			memcpy(t->late_ids + t->nlate++ * RECORD_ID_LEN, it->id,
			    RECORD_ID_LEN);
		}
	}
	return 0;
}

int
store_txn_put(struct store_txn *t, struct store_item *items, size_t n)
{
	size_t i;
	int ret;

	if (t->x.next_doc > UINT32_MAX - n) {
		/* Not "map full": raising map_size would not help. */
		log_warnx("store: document numbers exhausted: compact the database");
		ret = LCF_ESTORE;
	} else {
		for (i = 0; i < n; i++)
			t->bytes += items[i].len;
		ret = store__space_reserve(t->s, t->base, STORE_SPACE_MARGIN +
		    STORE_SPACE_FACTOR * t->bytes);
	}
	if (ret == 0) {
		t->items = items;
		t->nitems = n;
		ret = txn_put_items(t);
		t->items = NULL;
		t->nitems = 0;
	}
	if (ret != 0) {
		for (i = 0; i < n; i++)
			items[i].result = 0;
	}
	return ret;
}

/* store_txn_commit's work: the last postings, then LMDB's commit (which ends
 * the transaction however it goes). */
static int
txn_commit_work(struct store_txn *t)
{
	int ret, rc;

	if ((ret = flush_all(&t->x, t->s)) != 0)
		return ret;
	rc = mdb_txn_commit(t->x.txn);
	t->x.txn = NULL;
	return mdb_to_lcf("commit", rc);
}

int
store_txn_commit(struct store_txn *t)
{
	int ret;

	ret = txn_commit_work(t);
	/* Only ids whose transaction committed join the sketch: a reader must
	 * never see an id in the sketch that the store does not hold. */
	if (ret == 0) {
		pthread_mutex_lock(&t->s->sketch_mu);
		iblt_set_add_many(t->s->late_sketch, t->late_ids, t->nlate);
		iblt_set_add_many(t->s->sketch, t->ids, t->nids);
		/* After the adds: an id written and superseded in this one
		 * transaction leaves no trace. */
		store__gone_unsketch(t->s, &t->x.gone);
		pthread_mutex_unlock(&t->s->sketch_mu);
	}
	log_debug("store: a write of %llu record bytes grew the pages in use "
	    "by %llu bytes", (unsigned long long)t->bytes,
	    (unsigned long long)(store__space_base(t->s) - t->base));
	store_txn_abort(t);
	return ret;
}

void
store_txn_abort(struct store_txn *t)
{
	if (t == NULL)
		return;
	if (t->x.txn != NULL)
		mdb_txn_abort(t->x.txn);
	if (t->locked) {
		/* What a failed write reserved goes back to the disk. */
		store__space_release(t->s);
		pthread_mutex_unlock(&t->s->write_mu);
	}
	store__pending_free(&t->x.pending);
	store__pending_free(&t->x.wpending);
	record_release(&t->x.old);
	record_release(&t->x.tmp);
	store__gone_free(&t->x.gone);
	free(t->ids);
	free(t->late_ids);
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

int
store_authors(struct store *s, uint64_t *n)
{
	MDB_txn *txn;
	int ret;

	*n = 0;
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	ret = meta_get(txn, s, "authors", n);
	mdb_txn_abort(txn);
	return ret;
}

int
store_last_seq(struct store *s, const uint8_t author[32], uint64_t *seq)
{
	uint8_t key[AUTHOR_LEN + 8];
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc;

	*seq = 0;
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if ((rc = mdb_cursor_open(txn, s->seq, &cur)) != 0)
		goto out;
	/* Past the author's highest possible entry, then one step back. */
	memcpy(key, author, AUTHOR_LEN);
	memset(key + AUTHOR_LEN, 0xff, 8);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && k.mv_size == sizeof(key) &&
	    memcmp(k.mv_data, key, sizeof(key)) == 0) {
		*seq = UINT64_MAX;
		goto out;
	}
	if (rc == 0 || rc == MDB_NOTFOUND)
		rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) :
		    mdb_cursor_get(cur, &k, &v, MDB_LAST);
	/* Every key of the seq index is an author and a seq: anything else is
	 * damage, never "no records". */
	if (rc == 0 && k.mv_size != sizeof(key))
		rc = MDB_CORRUPTED;
	else if (rc == 0 && memcmp(k.mv_data, author, AUTHOR_LEN) == 0)
		*seq = get_be64((uint8_t *)k.mv_data + AUTHOR_LEN);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	/* A quarantined record still took its seq: numbering must go on
	 * past it (else a new record would fork it). */
	if (rc == 0)
		*seq = store__quarantine_max_seq(txn, s, author, *seq);
out:
	log_mdb("reading the last seq", rc);
	if (rc != 0)
		*seq = 0;
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc == 0 ? 0 : LCF_ESTORE;
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
	if (rc == 0 && store__served(s, id, v.mv_data, v.mv_size))
		ret = fn(arg, id, v.mv_data, v.mv_size);
	else if (rc == 0)
		ret = LCF_ENOTFOUND;
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
		int d = hex_digit((unsigned char)hex[i]);

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
	if (rc == 0 && store__served(s, rk.mv_data, rv.mv_data, rv.mv_size))
		ret = fn(arg, rk.mv_data, rv.mv_data, rv.mv_size);
	else if (rc == 0)
		ret = LCF_ENOTFOUND;
	else
		ret = map_err(rc);
	mdb_txn_abort(txn);
	return ret;
}

int
store_scan_current(struct store *s, const struct store_scan_filter *f,
    uint8_t *cursor, size_t *cursor_len, size_t max, int *done,
    store_visit_fn fn, void *arg)
{
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k, v, rk, rv;
	const uint8_t *author = f != NULL ? f->author : NULL;
	uint32_t kinds = f != NULL ? f->kinds : 0;
	uint8_t start[AUTHOR_LEN];
	size_t count = 0;
	int rc, ret = 0, kind;

	*done = 0;
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if ((rc = mdb_cursor_open(txn, s->current, &cur)) != 0)
		goto out;
	if (*cursor_len == 0 && author == NULL) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	} else if (*cursor_len == 0) {
		memcpy(start, author, AUTHOR_LEN);
		k.mv_data = start;
		k.mv_size = AUTHOR_LEN;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	} else {
		k.mv_data = cursor;
		k.mv_size = *cursor_len;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == 0 && k.mv_size == *cursor_len &&
		    memcmp(k.mv_data, cursor, *cursor_len) == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	while (rc == 0 && count < max) {
		if (author != NULL && (k.mv_size < AUTHOR_LEN ||
		    memcmp(k.mv_data, author, AUTHOR_LEN) != 0)) {
			rc = MDB_NOTFOUND;	/* past the author's versions */
			break;
		}
		kind = k.mv_size > AUTHOR_LEN ? ((uint8_t *)k.mv_data)[AUTHOR_LEN] : 0;
		if (v.mv_size == CURRENT_VAL_LEN &&
		    (kinds == 0 || (kind < KINDS_LIMIT && (kinds & (1u << kind)) != 0))) {
			rk.mv_data = (uint8_t *)v.mv_data + 8;
			rk.mv_size = RECORD_ID_LEN;
			if (rec_get(txn, s, rk.mv_data, &rv) == 0 &&
			    store__served(s, rk.mv_data, rv.mv_data, rv.mv_size) &&
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
	const struct kinds_def *kd;
	size_t i;
	int ret = LCF_ESTORE;

	memset(st, 0, sizeof(*st));
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if (mdb_stat(txn, s->ids, &ms) != 0)
		goto out;
	st->records = ms.ms_entries;
	if (meta_get(txn, s, "forks", &st->forks) != 0 ||
	    meta_get(txn, s, "authors", &st->authors) != 0)
		goto out;
	if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &ms) != 0)
		goto out;
	st->used_bytes = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	st->map_size = info.me_mapsize;
	if (mdb_cursor_open(txn, s->idx, &cur) != 0)
		goto out;
	for (i = 0; (kd = kinds_at(i)) != NULL; i++) {
		st->kinds[kd->kind].current = count_list(cur, kd->kind, TAG_ALL);
		st->kinds[kd->kind].deleted = count_list(cur, kd->kind, TAG_DELETED);
	}
	ret = 0;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return ret;
}

uint64_t
store_generation(struct store *s)
{
	MDB_envinfo info;

	if (mdb_env_info(s->env, &info) != 0)
		return 0;
	return (uint64_t)info.me_last_txnid;
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
