// SPDX-License-Identifier: Apache-2.0
// A full store: the episode's state, its one log line, and the back-off that keeps reconciliation from fetching records it cannot keep.
//
// A write refused for space (LCF_EMAPFULL: the map is at [store] map_size;
// LCF_ENOSPC: the disk holding the store is full, store_space.c) starts an
// episode. Reads go on as before: only writes are refused. Without a
// back-off every reconciliation fetched the whole difference again and lost
// it at the first commit (315 MiB in 45 s measured), so while full the node
// starts no pulls (peersync.c) and asks for nothing in the sessions peers
// start (sync.c), until space may have changed. The cheap check is the room
// of what is full: the disk's free bytes (statvfs), or the map's (the pages
// past the last in use and the free pages), read at each sync tick. Room
// made (SPACE_RESUME_BYTES) ends the episode at once; some room made lets one
// pull through as a probe once per back-off, which starts at five
// sync_intervals and doubles up to an hour; no room made, a probe once an
// hour only (a raised disk quota shows in no statvfs). A larger map_size is
// read at start only (LMDB's mdb_env_set_mapsize needs every transaction of
// the process closed): raising it needs a restart, after which the episode
// is forgotten and sync starts at once.
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "core/node.h"
#include "core/space.h"
#include "store/store.h"

const char *
space_full_name(enum space_full f)
{
	switch (f) {
	case SPACE_MAP: return "map_size";
	case SPACE_DISK: return "disk";
	default: return NULL;
	}
}

/* The room for writes of what is full: bytes free on the data directory's
 * file system for an unprivileged writer (disk), or the map's room (free
 * pages and the pages past the last in use); 0 when it cannot be read. */
static uint64_t
room(const struct node *n, enum space_full f)
{
	struct statvfs sv;
	uint64_t r = 0;

	if (f == SPACE_MAP)
		return n->store != NULL && store_map_room(n->store, &r) == 0 ?
		    r : 0;
	if (n->cfg.dir == NULL || statvfs(n->cfg.dir, &sv) != 0)
		return 0;
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

void
space_describe(const struct node *n, char *buf, size_t len)
{
	const struct space_state *sp = &n->space;

	if (sp->full == SPACE_MAP)
		snprintf(buf, len, "the store is full: its map reached map_size "
		    "(%llu MiB) in %s; raise map_size in [store] of lcnode.conf "
		    "and restart lcnode (it is read at start only); reads are "
		    "served, and reconciliation fetches nothing meanwhile",
		    (unsigned long long)(n->cfg.map_size >> 20),
		    n->cfg.path != NULL ? n->cfg.path : "lcnode.conf");
	else if (sp->full == SPACE_DISK)
		snprintf(buf, len, "the store is full: the disk holding %s is "
		    "full; free some space on that disk (lcnode resumes by itself "
		    "once there is room); reads are served, and reconciliation "
		    "fetches nothing meanwhile", n->cfg.dir != NULL ?
		    n->cfg.dir : "the data directory");
	else if (len > 0)
		buf[0] = '\0';
}

/* The wait before the next probe: the first of an episode, or twice the
 * last after a refused probe. */
static void
backoff_next(struct node *n)
{
	struct space_state *sp = &n->space;
	uint64_t first = (uint64_t)n->cfg.sync_interval * 1000 *
	    SPACE_BACKOFF_FIRST;

	if (first == 0)
		first = 1000;
	/* A new episode long after the last: start afresh. */
	if (sp->full == SPACE_OK && sp->cleared_at != 0 &&
	    mono_ms() - sp->cleared_at > sp->backoff_ms)
		sp->backoff_ms = 0;
	if (sp->backoff_ms == 0)
		sp->backoff_ms = first;
	else if (sp->backoff_ms < SPACE_BACKOFF_MAX_MS / 2)
		sp->backoff_ms *= 2;
	else
		sp->backoff_ms = SPACE_BACKOFF_MAX_MS;
	if (sp->backoff_ms > SPACE_BACKOFF_MAX_MS)
		sp->backoff_ms = SPACE_BACKOFF_MAX_MS;
	sp->probe_at = mono_ms() + sp->backoff_ms;
}

void
space_refused(struct node *n, int rc, enum space_source src, size_t records)
{
	struct space_state *sp = &n->space;
	enum space_full f;
	char what[400];

	if (rc == LCF_EMAPFULL)
		f = SPACE_MAP;
	else if (rc == LCF_ENOSPC)
		f = SPACE_DISK;
	else
		return;
	sp->refused_writes++;
	if (src == SPACE_FROM_PUSH)
		sp->refused_push += records;
	else if (src == SPACE_FROM_SYNC)
		sp->refused_sync += records;
	else
		sp->refused_node += records;
	sp->room_at_refusal = room(n, f);
	/* The episode's start, or a probe refused, moves the next probe on;
	 * other refusals (the rest of the session that filled the store, a
	 * push, a publish) say nothing new. */
	if (sp->full == SPACE_OK || (sp->probing && src == SPACE_FROM_SYNC)) {
		sp->probing = 0;
		backoff_next(n);
	}
	if (sp->full == f) {
		log_debug("store: full (%s): %zu more records not stored",
		    space_full_name(f), records);
		return;
	}
	sp->full = f;
	sp->since_ms = now_ms();
	sp->episodes++;
	sp->last_probe = mono_ms();
	space_describe(n, what, sizeof(what));
	log_warnx("store: %s (records not stored now: %zu; next reconciliation "
	    "that may fetch records in %llu s)", what, records,
	    (unsigned long long)(sp->backoff_ms / 1000));
}

/* The episode ends. */
static void
space_clear(struct node *n, const char *why)
{
	struct space_state *sp = &n->space;

	if (sp->full == SPACE_OK)
		return;
	log_warnx("store: no longer full (%s) after %lld s: reconciliation "
	    "fetches records again", why,
	    (long long)((now_ms() - sp->since_ms) / 1000));
	sp->full = SPACE_OK;
	sp->probing = 0;
	sp->since_ms = 0;
	sp->probe_at = 0;
	/* backoff_ms stays: see SPACE_BACKOFF_FIRST. */
	sp->cleared_at = mono_ms();
}

void
space_stored(struct node *n)
{
	if (n->space.probing)
		space_clear(n, "records were stored");
}

int
space_pull_allowed(struct node *n)
{
	struct space_state *sp = &n->space;
	uint64_t now, r;

	if (sp->full == SPACE_OK)
		return 1;
	r = room(n, sp->full);
	if (r >= sp->room_at_refusal + SPACE_RESUME_BYTES) {
		space_clear(n, sp->full == SPACE_DISK ? "the disk has room "
		    "again" : "pages of the map were freed");
		return 1;
	}
	now = mono_ms();
	if (now < sp->probe_at)
		return 0;
	/* No room made at all: a probe would only fetch a window of records
	 * to lose it again. Once an hour all the same (a disk quota raised
	 * shows in no statvfs). */
	if (r <= sp->room_at_refusal &&
	    now - sp->last_probe < SPACE_BACKOFF_MAX_MS) {
		sp->probe_at = now + sp->backoff_ms;
		return 0;
	}
	sp->last_probe = now;
	/* One probe per back-off: until it is refused (which doubles the
	 * back-off) or stores (which ends the episode), no other. */
	sp->probes++;
	sp->probing = 1;
	sp->probe_at = now + sp->backoff_ms;
	log_info("store: still full (%s); one reconciliation may fetch records "
	    "to see whether there is room now", space_full_name(sp->full));
	return 1;
}
