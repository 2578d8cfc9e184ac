// SPDX-License-Identifier: Apache-2.0
// Small named values in the store's meta table (the city the store belongs
// to, the restore state) and the store's compacted copy for backups.
#include <pthread.h>
#include <string.h>

#include <lmdb.h>

#include "base/error.h"
#include "store/store.h"
#include "store/store_int.h"

int
store_meta_get(struct store *s, const char *name, void *buf, size_t cap,
    size_t *len)
{
	MDB_txn *txn;
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc, ret = LCF_ESTORE;

	*len = 0;
	if (rd_begin(s, &txn) != 0)
		return LCF_ESTORE;
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		ret = LCF_ENOTFOUND;
	} else if (rc != 0) {
		log_mdb("reading meta", rc);
	} else if (v.mv_size > cap) {
		ret = LCF_ETOOBIG;
	} else {
		memcpy(buf, v.mv_data, v.mv_size);
		*len = v.mv_size;
		ret = 0;
	}
	mdb_txn_abort(txn);
	return ret;
}

int
store_meta_put(struct store *s, const char *name, const void *val, size_t len)
{
	MDB_txn *txn = NULL;
	MDB_val k = { strlen(name), (void *)name }, v = { len, (void *)val };
	int rc, ret;

	/* A write like any other: under the writers' lock, with disk room
	 * reserved first (store_space.c). */
	pthread_mutex_lock(&s->write_mu);
	if ((ret = store__space_reserve(s, store__space_base(s),
	    STORE_SPACE_MARGIN)) != 0)
		goto out;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		goto fail;
	rc = val != NULL ? mdb_put(txn, s->meta, &k, &v, 0) :
	    mdb_del(txn, s->meta, &k, NULL);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc != 0)
		goto fail;
	rc = mdb_txn_commit(txn);
	txn = NULL;
fail:
	ret = mdb_to_lcf("writing meta", rc);
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	store__space_release(s);
	pthread_mutex_unlock(&s->write_mu);
	return ret;
}

int
store_copy_compact(struct store *s, int fd)
{
	return mdb_to_lcf("compacted copy", mdb_env_copyfd2(s->env, fd,
	    MDB_CP_COMPACT));
}
