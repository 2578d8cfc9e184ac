// SPDX-License-Identifier: Apache-2.0
// Quarantine: stored records whose bytes no longer hash to their id (damaged
// on disk), caught as they are read to leave the node, moved aside and never
// served again, so that reconciliation fetches a good copy from a peer.
//
// A read (store_get, the scans, a query's pages, the sync reads) checks each
// record with record_check_id before its visitor sees it; a damaged one is
// skipped and its id noted in a small list (read transactions cannot write).
// store_quarantine_flush then moves every noted record, in one write
// transaction, from "rows", "ids", "seq" and "late" to the "quarantine" table
// (id -> when, why, the damaged bytes), and takes its id out of the live
// sketches: digests then say the node lacks it, and a peer sends it again.
// A current version keeps its entry in "current" and its postings (they were
// written from the good bytes): reads skip it while its id is absent, and the
// good copy, stored again under the same id, takes its place (store_put
// replaces a current version with itself, and deletes the quarantine entry).
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "model/record.h"
#include "store/store.h"
#include "store/store_int.h"

#define SEQ_KEY_LEN (AUTHOR_LEN + 8)
#define QUAR_HEAD 9                  /* when (8, ms, big-endian), why (1) */
#define QUAR_PENDING_MAX 4096        /* ids noted between two flushes */

const char *
store_quarantine_why(int why)
{
	switch (why) {
	case STORE_QUAR_ID:
		return "its bytes no longer hash to its id";
	case STORE_QUAR_SIGNATURE:
		return "its signature does not verify";
	default:
		return "damaged";
	}
}

void
store_quarantine_note(struct store *s, const uint8_t id[32], int why)
{
	size_t i;

	pthread_mutex_lock(&s->quar_mu);
	for (i = 0; i < s->quar_n; i++)
		if (memcmp(s->quar_ids + i * RECORD_ID_LEN, id, RECORD_ID_LEN) == 0)
			goto out;
	/* Past the cap a record is still never served (every read checks
	 * it); it is moved aside by a later read after the next flush. */
	if (s->quar_n == QUAR_PENDING_MAX)
		goto out;
	s->quar_ids = xreallocarray(s->quar_ids, s->quar_n + 1, RECORD_ID_LEN);
	s->quar_why = xreallocarray(s->quar_why, s->quar_n + 1, 1);
	memcpy(s->quar_ids + s->quar_n * RECORD_ID_LEN, id, RECORD_ID_LEN);
	s->quar_why[s->quar_n++] = (uint8_t)why;
out:
	pthread_mutex_unlock(&s->quar_mu);
}

int
store__served(struct store *s, const uint8_t *id, const uint8_t *raw, size_t len)
{
	if (record_check_id(raw, len, id) == 0)
		return 1;
	store_quarantine_note(s, id, STORE_QUAR_ID);
	return 0;
}

size_t
store_quarantine_pending(struct store *s)
{
	size_t n;

	pthread_mutex_lock(&s->quar_mu);
	n = s->quar_n;
	pthread_mutex_unlock(&s->quar_mu);
	return n;
}

/* 0 when the dupsort table dbi holds the pair (k, v), else an LMDB code. */
static int
get_both(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v)
{
	MDB_cursor *cur;
	int rc;

	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, k, v, MDB_GET_BOTH);
	mdb_cursor_close(cur);
	return rc;
}

/* The key (author, seq) under which the seq index holds id, into seqkey:
 * from the decoded bytes when they still say it, else by walking the index
 * (the damage may be in the author or the seq). 0, or MDB_NOTFOUND. */
static int
seq_key_of(MDB_txn *txn, struct store *s, const uint8_t *id, const uint8_t *raw,
    size_t len, uint8_t seqkey[SEQ_KEY_LEN])
{
	struct record rec;
	MDB_cursor *cur;
	MDB_val k, v = { RECORD_ID_LEN, (void *)id };
	int rc = MDB_NOTFOUND;

	memset(&rec, 0, sizeof(rec));
	if (record_open(raw, len, 0, &rec) == 0 &&
	    rec.c->author.len == AUTHOR_LEN) {
		memcpy(seqkey, rec.c->author.data, AUTHOR_LEN);
		put_be64(seqkey + AUTHOR_LEN, rec.c->seq);
		k.mv_data = seqkey;
		k.mv_size = SEQ_KEY_LEN;
		rc = get_both(txn, s->seq, &k, &v);
	}
	record_release(&rec);
	if (rc != MDB_NOTFOUND)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->seq, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		if (k.mv_size == SEQ_KEY_LEN && v.mv_size == RECORD_ID_LEN &&
		    memcmp(v.mv_data, id, RECORD_ID_LEN) == 0) {
			memcpy(seqkey, k.mv_data, SEQ_KEY_LEN);
			break;
		}
	mdb_cursor_close(cur);
	return rc;
}

/* 1 when the author of seqkey still has a record in the seq index. */
static int
author_has_records(MDB_txn *txn, struct store *s, const uint8_t *seqkey)
{
	uint8_t start[SEQ_KEY_LEN];
	MDB_cursor *cur;
	MDB_val k = { SEQ_KEY_LEN, start }, v;
	int rc, has;

	memcpy(start, seqkey, AUTHOR_LEN);
	memset(start + AUTHOR_LEN, 0, 8);
	if (mdb_cursor_open(txn, s->seq, &cur) != 0)
		return 1;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	has = rc != 0 || memcmp(k.mv_data, seqkey, AUTHOR_LEN) == 0;
	if (rc == MDB_NOTFOUND)
		has = 0;
	mdb_cursor_close(cur);
	return has;
}

/* Moves one record aside inside txn: 1 when moved (its id added to g), 0
 * when there was nothing to move, or a negative project code. */
static int
move_one(MDB_txn *txn, struct store *s, const uint8_t *id, int why,
    struct gone *g)
{
	uint8_t seqkey[SEQ_KEY_LEN], *val = NULL;
	MDB_val v, k, lv = { RECORD_ID_LEN, (void *)id };
	size_t len;
	int rc, late, ret;

	if ((rc = rec_get(txn, s, id, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return mdb_to_lcf("quarantine: reading a record", rc);
	if (why == STORE_QUAR_ID && record_check_id(v.mv_data, v.mv_size, id) == 0)
		return 0;
	len = v.mv_size;
	val = xmalloc(QUAR_HEAD + len);
	put_be64(val, (uint64_t)now_ms());
	val[8] = (uint8_t)why;
	memcpy(val + QUAR_HEAD, v.mv_data, len);
	if ((rc = seq_key_of(txn, s, id, val + QUAR_HEAD, len, seqkey)) != 0) {
		ret = mdb_to_lcf("quarantine: finding a record's seq", rc);
		goto out;
	}
	k.mv_data = seqkey;
	k.mv_size = SEQ_KEY_LEN;
	late = get_both(txn, s->late, &k, &lv) == 0;
	if ((ret = store__forks_less(txn, s, seqkey)) != 0 ||
	    (ret = store__drop_version(txn, s, seqkey, id, late, g)) != 0)
		goto out;
	if (!author_has_records(txn, s, seqkey) &&
	    (ret = meta_add(txn, s, "authors", -1)) != 0)
		goto out;
	k.mv_data = (void *)id;
	k.mv_size = RECORD_ID_LEN;
	v.mv_data = val;
	v.mv_size = QUAR_HEAD + len;
	if ((ret = mdb_to_lcf("quarantine", mdb_put(txn, s->quarantine, &k, &v,
	    0))) == 0)
		ret = 1;
out:
	free(val);
	return ret;
}

static void
log_moved(const struct gone *g, const uint8_t *why, const uint8_t *ids, size_t n)
{
	char hex[2 * RECORD_ID_LEN + 1];
	size_t i, j;

	for (i = 0; i < g->n; i++) {
		const uint8_t *id = g->ids + i * RECORD_ID_LEN;
		int w = STORE_QUAR_ID;

		for (j = 0; j < n; j++)
			if (memcmp(ids + j * RECORD_ID_LEN, id, RECORD_ID_LEN) == 0)
				w = why[j];
		log_warnx("store: record %s quarantined: %s (damaged on disk); "
		    "it is no longer served and will be fetched again from a peer "
		    "(lcctl verify lists it)", hex_encode(id, RECORD_ID_LEN, hex),
		    store_quarantine_why(w));
	}
}

int
store_quarantine_flush(struct store *s, size_t *moved)
{
	struct gone g;
	MDB_txn *txn = NULL;
	uint8_t *ids, *why;
	size_t i, n;
	int rc, ret = 0;

	*moved = 0;
	memset(&g, 0, sizeof(g));
	pthread_mutex_lock(&s->quar_mu);
	ids = s->quar_ids;
	why = s->quar_why;
	n = s->quar_n;
	s->quar_ids = s->quar_why = NULL;
	s->quar_n = 0;
	pthread_mutex_unlock(&s->quar_mu);
	if (n == 0)
		return 0;
	pthread_mutex_lock(&s->write_mu);
	if ((ret = store__space_reserve(s, store__space_base(s),
	    STORE_SPACE_MARGIN)) != 0)
		goto out;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
		ret = mdb_to_lcf("quarantine", rc);
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((ret = move_one(txn, s, ids + i * RECORD_ID_LEN, why[i],
		    &g)) < 0)
			goto out;
	ret = 0;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if ((ret = mdb_to_lcf("quarantine", rc)) != 0)
		goto out;
	pthread_mutex_lock(&s->sketch_mu);
	store__gone_unsketch(s, &g);
	pthread_mutex_unlock(&s->sketch_mu);
	if (g.n > 0)
		__atomic_store_n(&s->quar_any, 1, __ATOMIC_RELEASE);
	*moved = g.n;
	log_moved(&g, why, ids, n);
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	store__space_release(s);
	pthread_mutex_unlock(&s->write_mu);
	store__gone_free(&g);
	free(ids);
	free(why);
	return ret;
}

int
store__quarantine_resolve(MDB_txn *txn, struct store *s, const uint8_t *id)
{
	MDB_val k = { RECORD_ID_LEN, (void *)id };
	char hex[2 * RECORD_ID_LEN + 1];
	int rc;

	if (!__atomic_load_n(&s->quar_any, __ATOMIC_ACQUIRE))
		return 0;
	rc = mdb_del(txn, s->quarantine, &k, NULL);
	if (rc == 0)
		log_info("store: record %s stored again from a good copy: out "
		    "of quarantine", hex_encode(id, RECORD_ID_LEN, hex));
	return mdb_to_lcf("quarantine", rc == MDB_NOTFOUND ? 0 : rc);
}

int
store__quarantine_bytes(MDB_txn *txn, struct store *s, const uint8_t *id,
    MDB_val *out)
{
	MDB_val k = { RECORD_ID_LEN, (void *)id };
	int rc;

	if ((rc = mdb_get(txn, s->quarantine, &k, out)) != 0)
		return rc;
	if (out->mv_size <= QUAR_HEAD)
		return MDB_CORRUPTED;
	out->mv_data = (uint8_t *)out->mv_data + QUAR_HEAD;
	out->mv_size -= QUAR_HEAD;
	return 0;
}

uint64_t
store__quarantine_max_seq(MDB_txn *txn, struct store *s, const uint8_t *author,
    uint64_t seq)
{
	struct record rec;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if (!__atomic_load_n(&s->quar_any, __ATOMIC_ACQUIRE) ||
	    mdb_cursor_open(txn, s->quarantine, &cur) != 0)
		return seq;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (v.mv_size <= QUAR_HEAD || record_open((uint8_t *)v.mv_data +
		    QUAR_HEAD, v.mv_size - QUAR_HEAD, 0, &rec) != 0)
			continue;
		if (rec.c->author.len == AUTHOR_LEN &&
		    memcmp(rec.c->author.data, author, AUTHOR_LEN) == 0 &&
		    rec.c->seq > seq)
			seq = rec.c->seq;
		record_release(&rec);
	}
	mdb_cursor_close(cur);
	return seq;
}

int
store_quarantine_list(struct store *s, size_t max, store_quarantine_fn fn,
    void *arg, uint64_t *total)
{
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_stat ms;
	MDB_val k, v;
	size_t n = 0;
	int rc, ret = 0;

	*total = 0;
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if ((rc = mdb_stat(txn, s->quarantine, &ms)) != 0)
		goto out;
	*total = ms.ms_entries;
	if (fn == NULL || (rc = mdb_cursor_open(txn, s->quarantine, &cur)) != 0)
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && n < max;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), n++) {
		const uint8_t *p = v.mv_data;

		if (k.mv_size != RECORD_ID_LEN || v.mv_size < QUAR_HEAD)
			continue;
		if ((ret = fn(arg, k.mv_data, get_be64(p), p[8],
		    v.mv_size - QUAR_HEAD)) != 0)
			goto out;
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	return rd_end(txn, cur, ret, rc);
}
