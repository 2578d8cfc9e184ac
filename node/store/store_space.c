// SPDX-License-Identifier: Apache-2.0
// Disk blocks reserved ahead of the store's writable map, so that a full disk
// is an error (LCF_ENOSPC) and never a SIGBUS.
//
// The store maps its data file for writing (MDB_WRITEMAP, store.c says why)
// and the file is sparse: a page written for the first time takes a block of
// the disk at that moment, and when the disk has none left the kernel can only
// answer the store instruction that wrote it with SIGBUS. LMDB takes the pages
// of a write transaction from its free pages (blocks it already has) or from
// the end of the pages in use upwards, so every write transaction reserves
// with fallocate(2) the blocks just past that end before it writes: a margin
// at its start, then, before each batch of records, a multiple of the bytes
// it was given so far. When the reservation fails the transaction is refused
// and aborted: nothing of it is stored. When a transaction ends, what it
// reserved past the pages then in use (and a margin) is given back, so the
// file takes no more of the disk than before.
//
// The multiple (STORE_SPACE_FACTOR) is what a transaction needs at most as
// measured, with room to spare: imports grow the pages in use by 2.1 to 3.0
// times the record bytes they store (the records, their indexes and the
// copies of the pages they touch; the most for small imports). LMDB lets one write transaction
// take at most MDB_IDL_UM_MAX (2^17) dirty page runs, which caps it in any
// case. Dropping MDB_WRITEMAP instead (LMDB then writes with pwrite and gets
// ENOSPC) left 257 MiB of heap in the node after that import instead of
// 14 MiB: LMDB keeps the pages it allocated for dirty data.
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>

#include <lmdb.h>

#include "base/error.h"
#include "base/log.h"
#include "store/store_int.h"

#define DIRTY_CAP (((uint64_t)1 << 17) * 4096)   /* pages LMDB lets a txn dirty */

int
store__space_init(struct store *s)
{
	MDB_envinfo info;
	MDB_stat st;
	int rc;

	if ((rc = mdb_env_get_fd(s->env, &s->fd)) != 0 ||
	    (rc = mdb_env_stat(s->env, &st)) != 0 ||
	    (rc = mdb_env_info(s->env, &info)) != 0)
		return mdb_to_lcf("disk reservation", rc);
	s->psize = st.ms_psize;
	s->mapsize = info.me_mapsize;
	s->reserved_end = 0;
	return 0;
}

uint64_t
store__space_base(struct store *s)
{
	MDB_envinfo info;

	if (mdb_env_info(s->env, &info) != 0)
		return s->mapsize;
	return ((uint64_t)info.me_last_pgno + 1) * s->psize;
}

int
store__space_reserve(struct store *s, uint64_t base, uint64_t need)
{
	uint64_t start, end;
	int rc;

	if (s->space_off)
		return 0;
	if (need > DIRTY_CAP + STORE_SPACE_MARGIN)
		need = DIRTY_CAP + STORE_SPACE_MARGIN;
	end = base + need;
	/* Whole pages, and never past the map (LMDB refuses those with
	 * MDB_MAP_FULL, which says what to do). */
	end = (end + s->psize - 1) / s->psize * s->psize;
	if (end > s->mapsize)
		end = s->mapsize;
	if (end <= s->reserved_end)
		return 0;
	start = s->reserved_end > base ? s->reserved_end : base;
	if (start >= end)
		return 0;
	do
		rc = fallocate(s->fd, 0, (off_t)start, (off_t)(end - start));
	while (rc != 0 && errno == EINTR);
	if (rc == 0) {
		s->reserved_end = end;
		return 0;
	}
	if (errno == EOPNOTSUPP || errno == ENOSYS) {
		/* A file system that cannot reserve: write as before. */
		log_warnx("store: %s: the file system cannot reserve space "
		    "(fallocate): a full disk will stop lcnode", s->path);
		s->space_off = 1;
		return 0;
	}
	if (errno == ENOSPC || errno == EDQUOT) {
		/* A file system may keep part of a failed reservation: give it
		 * back (no page in use lies past base, and the write is then
		 * abandoned). */
		(void)fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		    (off_t)start, (off_t)(end - start));
		/* Told once per episode, with what to do, by the writer's
		 * caller (core/space.c): not at every refused write. */
		log_debug("store: the disk holding %s is full (%llu KiB more were "
		    "needed): the write was refused and nothing of it is stored",
		    s->path,
		    (unsigned long long)((end - start) >> 10));
		return LCF_ENOSPC;
	}
	log_warn("store: reserving space for %s", s->path);
	return LCF_EIO;
}

void
store__space_release(struct store *s)
{
	uint64_t keep;

	if (s->space_off)
		return;
	keep = store__space_base(s) + STORE_SPACE_MARGIN;
	keep = (keep + s->psize - 1) / s->psize * s->psize;
	if (keep >= s->reserved_end)
		return;
	/* Past the pages in use: no reader looks there, and the next write
	 * reserves again before it does. */
	if (fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	    (off_t)keep, (off_t)(s->reserved_end - keep)) == 0)
		s->reserved_end = keep;
}

int
store__space_extend(struct store *s, uint64_t extra)
{
	uint64_t base = store__space_base(s);
	uint64_t have = s->reserved_end > base ? s->reserved_end - base : 0;

	return store__space_reserve(s, base, have + extra);
}

int
store_map_room(struct store *s, uint64_t *room)
{
	MDB_envinfo info;
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint64_t used, pages = 0;
	int rc, ret = LCF_ESTORE;

	*room = 0;
	if (mdb_env_info(s->env, &info) != 0 ||
	    mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
		goto out;
	/* The free pages: LMDB's database 0 maps a transaction id to a list
	 * of page numbers, its first word their count (as mdb_stat -f reads
	 * it). */
	if (mdb_cursor_open(txn, 0, &c) != 0)
		goto out;
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0)
		if (v.mv_size >= sizeof(size_t))
			pages += *(const size_t *)v.mv_data;
	if (rc != MDB_NOTFOUND)
		goto out;
	used = ((uint64_t)info.me_last_pgno + 1) * s->psize;
	*room = (info.me_mapsize > used ? info.me_mapsize - used : 0) +
	    pages * s->psize;
	ret = 0;
out:
	if (c != NULL)
		mdb_cursor_close(c);
	if (txn != NULL)
		mdb_txn_abort(txn);
	return ret;
}
