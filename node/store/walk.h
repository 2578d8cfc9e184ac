/* SPDX-License-Identifier: Apache-2.0 */
/* The deep walk of a store (every page and record), run in a child process so that a damaged page that makes LMDB abort ends the child, not the node. */
#ifndef LCF_WALK_H
#define LCF_WALK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The hidden option that makes lcnode the walking child:
 * `lcnode --walk-store DBDIR` (main.c). */
#define STORE_WALK_OPTION "--walk-store"
#define STORE_WALK_BAD_MAX 1000      /* damaged record ids reported */

/* What a walk found. */
struct store_walk_result {
	int sound;                   /* 1: every page and entry could be read */
	uint64_t pages;              /* pages of every table (LMDB's counts) */
	uint64_t entries;            /* entries walked in every table */
	uint64_t records;            /* records whose bytes were hashed */
	uint64_t bad;                /* records whose bytes do not hash to their id */
	uint8_t (*bad_ids)[32];      /* the first STORE_WALK_BAD_MAX of them */
	size_t nbad_ids;
	char what[600];              /* sound == 0: what failed, in words (the
	                              * LMDB error, or the signal that ended the
	                              * child and what it printed) */
};

/* The child's side: opens the LMDB environment in dbdir read-only, walks
 * every table (the free list, the main table, each named table: LMDB's page
 * counts, every entry read, every record's bytes hashed against its id) and
 * writes what it found to out as lines ("pages N", "bad ID", "error ...").
 * Returns the child's exit status: 0 when the structure is sound, 3 when an
 * LMDB call failed. A damaged page may also make LMDB abort: the parent
 * sees the signal. */
int store_walk_run(const char *dbdir, FILE *out);

/* The parent's side: runs this program (/proc/self/exe) with
 * STORE_WALK_OPTION dbdir, reads what it says, waits for it, and fills r
 * (release with store_walk_result_free). Blocks for the whole walk: call it
 * before the loop runs, or from a pool thread. 0 when the child ran (r says
 * what it found), or LCF_EIO when it could not be started (r->what says
 * why). */
int store_walk_child(const char *dbdir, struct store_walk_result *r);
void store_walk_result_free(struct store_walk_result *r);

#endif
