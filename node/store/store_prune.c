// SPDX-License-Identifier: Apache-2.0
// Kinds of which only the newest version is kept (status beacons): deleting
// the versions a newer one superseded, at write and once for an older store.
//
// docs/PROTOCOL.md 1.2 ("Newest only") gives the rule; every node of the
// version that introduced such a kind applies it, so sets still agree. A
// version is deleted from every table that holds it ("rows", "ids", "seq",
// "late"); it is never current (its key's current version is newer) so it
// has no document and no postings. Its id leaves the live sketches when the
// transaction commits (store.c), so digests and tables stay exact.
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "model/iblt.h"
#include "model/kinds.h"
#include "model/record.h"
#include "store/store.h"
#include "store/store_int.h"

#define SEQ_KEY_LEN (AUTHOR_LEN + 8)

void
store__gone_free(struct gone *g)
{
	if (g == NULL)
		return;
	free(g->ids);
	free(g->late);
	memset(g, 0, sizeof(*g));
}

static void
gone_add(struct gone *g, const uint8_t *id, int late)
{
	if (g == NULL)
		return;
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 16;
		g->ids = xreallocarray(g->ids, g->cap, RECORD_ID_LEN);
		g->late = xreallocarray(g->late, g->cap, 1);
	}
	memcpy(g->ids + g->n * RECORD_ID_LEN, id, RECORD_ID_LEN);
	g->late[g->n++] = (uint8_t)(late != 0);
}

void
store__gone_unsketch(struct store *s, const struct gone *g)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		iblt_set_remove(s->sketch, g->ids + i * RECORD_ID_LEN);
		if (g->late[i])
			iblt_set_remove(s->late_sketch, g->ids + i * RECORD_ID_LEN);
	}
}

int
store__current_seq(MDB_txn *txn, struct store *s, const uint8_t *author,
    Lcf__Kind kind, const char *key, uint64_t *seq, int *found)
{
	uint8_t ck[CUR_KEY_MAX];
	MDB_val k, v;
	int rc;

	*seq = 0;
	*found = 0;
	k.mv_data = ck;
	k.mv_size = current_key(ck, author, kind, key);
	rc = mdb_get(txn, s->current, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc == 0 && v.mv_size != CURRENT_VAL_LEN)
		rc = MDB_CORRUPTED;
	if (rc != 0)
		return mdb_to_lcf("current version", rc);
	*seq = get_be64(v.mv_data);
	*found = 1;
	return 0;
}

int
store__forks_less(MDB_txn *txn, struct store *s, const uint8_t *seqkey)
{
	uint8_t fk[1 + AUTHOR_LEN];
	MDB_cursor *cur;
	MDB_val k = { SEQ_KEY_LEN, (void *)seqkey }, v;
	size_t n = 0;
	int rc, ret;

	if ((rc = mdb_cursor_open(txn, s->seq, &cur)) != 0)
		return mdb_to_lcf("seq index", rc);
	if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET)) == 0)
		rc = mdb_cursor_count(cur, &n);
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_to_lcf("seq index", rc);
	if (n < 2)
		return 0;
	fork_key(fk, seqkey);
	if ((ret = meta_add(txn, s, "forks", -1)) != 0)
		return ret;
	return meta_add_key(txn, s, fk, sizeof(fk), -1);
}

/* Deletes one stored version: its bytes, id, seq entry (seqkey, id) and late
 * entry, and notes its id in g. */
int
store__drop_version(MDB_txn *txn, struct store *s, const uint8_t *seqkey,
    const uint8_t *id, int late, struct gone *g)
{
	uint8_t row[ROW_LEN];
	MDB_val k = { RECORD_ID_LEN, (void *)id }, v;
	int rc;

	if ((rc = mdb_get(txn, s->ids, &k, &v)) == 0 && v.mv_size != ROW_LEN)
		rc = MDB_CORRUPTED;
	if (rc != 0)
		return mdb_to_lcf("deleting a superseded record", rc);
	memcpy(row, v.mv_data, ROW_LEN);
	if ((rc = mdb_del(txn, s->ids, &k, NULL)) != 0)
		goto out;
	k.mv_data = row;
	k.mv_size = ROW_LEN;
	if ((rc = mdb_del(txn, s->rows, &k, NULL)) != 0)
		goto out;
	k.mv_data = (void *)seqkey;
	k.mv_size = SEQ_KEY_LEN;
	v.mv_data = (void *)id;
	v.mv_size = RECORD_ID_LEN;
	if ((rc = mdb_del(txn, s->seq, &k, &v)) != 0)
		goto out;
	if (late) {
		rc = mdb_del(txn, s->late, &k, &v);
		if (rc == MDB_NOTFOUND)
			rc = 0;
	}
out:
	if (rc == 0)
		gone_add(g, id, late);
	return mdb_to_lcf("deleting a superseded record", rc);
}

/* The ids at (author, seq) in the seq index into *ids (the caller frees). */
static int
ids_at(MDB_txn *txn, struct store *s, const uint8_t seqkey[SEQ_KEY_LEN],
    uint8_t **ids, size_t *n)
{
	MDB_cursor *cur;
	MDB_val k = { SEQ_KEY_LEN, (void *)seqkey }, v;
	size_t cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	if ((rc = mdb_cursor_open(txn, s->seq, &cur)) != 0)
		return mdb_to_lcf("seq index", rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	while (rc == 0) {
		if (v.mv_size != RECORD_ID_LEN) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (*n == cap) {
			cap = cap ? 2 * cap : 4;
			*ids = xreallocarray(*ids, cap, RECORD_ID_LEN);
		}
		memcpy(*ids + (*n)++ * RECORD_ID_LEN, v.mv_data, RECORD_ID_LEN);
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(cur);
	return mdb_to_lcf("seq index", rc == MDB_NOTFOUND ? 0 : rc);
}

int
store__prune_at(MDB_txn *txn, struct store *s, const uint8_t *author,
    uint64_t seq, Lcf__Kind kind, const char *key, struct gone *g, size_t *n)
{
	uint8_t seqkey[SEQ_KEY_LEN], *ids = NULL;
	struct record rec;
	MDB_val v;
	size_t nids = 0, i;
	int rc, ret, match;

	memcpy(seqkey, author, AUTHOR_LEN);
	put_be64(seqkey + AUTHOR_LEN, seq);
	if ((ret = ids_at(txn, s, seqkey, &ids, &nids)) != 0)
		goto out;
	for (i = 0; i < nids; i++) {
		const uint8_t *id = ids + i * RECORD_ID_LEN;

		/* One seq may hold records of other keys or kinds (a fork):
		 * those stay. */
		if ((rc = rec_get(txn, s, id, &v)) != 0) {
			ret = mdb_to_lcf("reading a superseded record", rc);
			goto out;
		}
		if (record_open(v.mv_data, v.mv_size, 0, &rec) != 0) {
			log_warnx("store: a stored record does not decode");
			ret = LCF_ESTORE;
			goto out;
		}
		match = rec.c->kind == kind && strcmp(rec.c->key, key) == 0;
		record_release(&rec);
		if (match && (ret = store__drop_version(txn, s, seqkey, id,
		    kinds_late((int)kind), g)) != 0)
			goto out;
		if (match && n != NULL)
			(*n)++;
	}
	ret = 0;
out:
	free(ids);
	return ret;
}

/* The late entries from *from on (a seq key; all zero to start), up to a
 * key boundary past MIGRATE_BATCH entries: those of a newest-only kind
 * older than their key's current version are deleted. *from becomes the
 * first key not walked; *done is set at the end. */
static int
prune_batch(struct store *s, uint8_t from[SEQ_KEY_LEN], int *done,
    uint64_t *walked, uint64_t *dropped)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v, rv;
	struct record rec;
	uint8_t *drops = NULL, last[SEQ_KEY_LEN], ver[4];
	size_t ndrops = 0, cap = 0, n = 0, i;
	uint64_t cseq, base;
	int rc, ret = 0, found, have_last = 0, old;

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_cursor_open(txn, s->late, &cur)) != 0)
		goto out;
	base = store__space_base(s);
	if ((ret = store__space_reserve(s, base, STORE_SPACE_MARGIN)) != 0)
		goto out;
	k.mv_data = from;
	k.mv_size = SEQ_KEY_LEN;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != SEQ_KEY_LEN || v.mv_size != RECORD_ID_LEN) {
			rc = MDB_CORRUPTED;
			goto out;
		}
		/* A batch ends between two keys: the next starts at one. */
		if (n >= MIGRATE_BATCH && have_last &&
		    memcmp(k.mv_data, last, SEQ_KEY_LEN) != 0) {
			memcpy(from, k.mv_data, SEQ_KEY_LEN);
			break;
		}
		memcpy(last, k.mv_data, SEQ_KEY_LEN);
		have_last = 1;
		n++;
		if ((rc = rec_get(txn, s, v.mv_data, &rv)) != 0)
			goto out;
		if (record_open(rv.mv_data, rv.mv_size, 0, &rec) != 0) {
			log_warnx("store: a stored record does not decode");
			ret = LCF_ESTORE;
			goto out;
		}
		old = 0;
		if (kinds_newest_only((int)rec.c->kind)) {
			ret = store__current_seq(txn, s, rec.c->author.data,
			    rec.c->kind, rec.c->key, &cseq, &found);
			old = ret == 0 && found && rec.c->seq < cseq;
		}
		record_release(&rec);
		if (ret != 0)
			goto out;
		if (old) {
			if (ndrops == cap) {
				cap = cap ? 2 * cap : 256;
				drops = xreallocarray(drops, cap,
				    SEQ_KEY_LEN + RECORD_ID_LEN);
			}
			memcpy(drops + ndrops * (SEQ_KEY_LEN + RECORD_ID_LEN),
			    k.mv_data, SEQ_KEY_LEN);
			memcpy(drops + ndrops * (SEQ_KEY_LEN + RECORD_ID_LEN) +
			    SEQ_KEY_LEN, v.mv_data, RECORD_ID_LEN);
			ndrops++;
		}
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto out;
	*done = rc == MDB_NOTFOUND;
	rc = 0;
	mdb_cursor_close(cur);
	cur = NULL;
	/* Deleted once the walk is over: a cursor is not moved under. Each
	 * deletion dirties a page of four tables at most. */
	if ((ret = store__space_reserve(s, base, STORE_SPACE_MARGIN +
	    (uint64_t)ndrops * 4 * s->psize)) != 0)
		goto out;
	for (i = 0; i < ndrops; i++) {
		uint8_t *d = drops + i * (SEQ_KEY_LEN + RECORD_ID_LEN);

		if ((ret = store__drop_version(txn, s, d, d + SEQ_KEY_LEN, 1, NULL)) != 0)
			goto out;
	}
	if (*done) {
		k.mv_data = "schema";
		k.mv_size = 6;
		put_be32(ver, STORE_SCHEMA_VERSION);
		v.mv_data = ver;
		v.mv_size = sizeof(ver);
		if ((rc = mdb_put(txn, s->meta, &k, &v, 0)) != 0)
			goto out;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	*walked += n;
	*dropped += ndrops;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	free(drops);
	store__space_release(s);
	return ret != 0 ? ret : mdb_to_lcf("deleting superseded records", rc);
}

int
store__prune_all(struct store *s)
{
	uint8_t from[SEQ_KEY_LEN];
	uint64_t walked = 0, dropped = 0;
	int ret = 0, done = 0;

	log_info("store: upgrading %s to schema %d: deleting superseded status "
	    "beacons", s->path, STORE_SCHEMA_VERSION);
	memset(from, 0, sizeof(from));
	while (!done) {
		if ((ret = prune_batch(s, from, &done, &walked, &dropped)) != 0)
			return ret;
		log_info("store: upgrading: %llu records walked, %llu superseded "
		    "ones deleted", (unsigned long long)walked,
		    (unsigned long long)dropped);
	}
	return 0;
}
