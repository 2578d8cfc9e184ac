// SPDX-License-Identifier: Apache-2.0
// Reading the store for reconciliation: ids by prefix, per-author summaries
// and a walk over one author's records.
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
			if (store__served(s, k.mv_data, rv.mv_data, rv.mv_size) &&
			    (ret = fn(arg, k.mv_data, rv.mv_data, rv.mv_size)) != 0)
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

/* Takes the author's entries in "late" (cursor late) out of d and *count:
 * the records a peer of the base protocol version does not hold. */
static int
late_subtract(MDB_cursor *late, const uint8_t author[AUTHOR_LEN],
    struct iblt_digest *d, uint64_t *count)
{
	uint8_t key[AUTHOR_LEN + 8];
	MDB_val k, v;
	int rc;

	memcpy(key, author, AUTHOR_LEN);
	memset(key + AUTHOR_LEN, 0, 8);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	rc = mdb_cursor_get(late, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size == sizeof(key) &&
	    memcmp(k.mv_data, author, AUTHOR_LEN) == 0) {
		if (v.mv_size == RECORD_ID_LEN && *count > 0) {
			iblt_digest_remove(d, v.mv_data);
			(*count)--;
		}
		rc = mdb_cursor_get(late, &k, &v, MDB_NEXT);
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Walks the seq entries of the author at the cursor's position (k, v from the
 * last positioning call, rc its result) into sum and runs, leaving the cursor on
 * the first entry of the next author. Returns the final cursor result
 * (MDB_NOTFOUND at the end of the index) and counts entries in *walked. */
static int
walk_author(MDB_cursor *cur, MDB_cursor *late, MDB_val *k, MDB_val *v, int rc,
    struct store_author_summary *sum, uint64_t *runs, size_t max_runs,
    size_t *nruns, size_t *walked)
{
	struct iblt_digest d;
	uint64_t seq;
	int lrc;

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
	/* The runs stay: a seq held by a late record is held, and a base
	 * peer cannot hold another record at it unless the author forked. */
	if (late != NULL && (rc == 0 || rc == MDB_NOTFOUND) &&
	    (lrc = late_subtract(late, sum->author, &d, &sum->count)) != 0)
		rc = lrc;
	iblt_digest_bytes(&d, sum->digest);
	return rc;
}

int
store_author_summary(struct store *s, int legacy, const uint8_t author[32],
    struct store_author_summary *out, uint64_t *runs, size_t max_runs,
    size_t *nruns)
{
	uint8_t key[AUTHOR_LEN + 8];
	MDB_txn *txn;
	MDB_cursor *cur = NULL, *late = NULL;
	MDB_val k, v;
	size_t walked = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memcpy(out->author, author, AUTHOR_LEN);
	if (nruns != NULL)
		*nruns = 0;
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if ((rc = mdb_cursor_open(txn, s->seq, &cur)) != 0 ||
	    (legacy && (rc = mdb_cursor_open(txn, s->late, &late)) != 0))
		goto out;
	memcpy(key, author, AUTHOR_LEN);
	memset(key + AUTHOR_LEN, 0, 8);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	rc = walk_author(cur, late, &k, &v, rc, out, runs, max_runs, nruns,
	    &walked);
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	if (late != NULL)
		mdb_cursor_close(late);
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc == 0 ? 0 : map_err(rc);
}

int
store_author_summaries(struct store *s, int legacy, const uint8_t *after,
    size_t max_authors, size_t max_records, int *done, store_summary_fn fn,
    void *arg)
{
	uint8_t key[AUTHOR_LEN + 8];
	struct store_author_summary sum;
	MDB_txn *txn;
	MDB_cursor *cur = NULL, *late = NULL;
	MDB_val k, v;
	size_t authors = 0, walked = 0;
	int rc, ret = 0;

	*done = 0;
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	if ((rc = mdb_cursor_open(txn, s->seq, &cur)) != 0 ||
	    (legacy && (rc = mdb_cursor_open(txn, s->late, &late)) != 0))
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
		rc = walk_author(cur, late, &k, &v, rc, &sum, NULL, 0, NULL,
		    &walked);
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
	if (late != NULL)
		mdb_cursor_close(late);
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
			    store__served(s, rk.mv_data, rv.mv_data, rv.mv_size) &&
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

