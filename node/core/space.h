/* SPDX-License-Identifier: Apache-2.0 */
/* A full store (map_size reached, or its disk full): told once, shown, and sync held back until space may have come. */
#ifndef LCF_SPACE_H
#define LCF_SPACE_H

#include <stddef.h>
#include <stdint.h>

struct node;

/* What is full; SPACE_OK when nothing is. */
enum space_full {
	SPACE_OK = 0,
	SPACE_MAP = 1,               /* LCF_EMAPFULL: [store] map_size reached */
	SPACE_DISK = 2,              /* LCF_ENOSPC: the disk holding the store */
};

/* Where a refused write came from: who counts it. */
enum space_source {
	SPACE_FROM_NODE = 0,         /* publish, import, held records */
	SPACE_FROM_PUSH = 1,         /* records a peer pushed */
	SPACE_FROM_SYNC = 2,         /* records a reconciliation pulled */
};

/* The first probe waits SPACE_BACKOFF_FIRST sync_intervals, each after a
 * refused one twice as long as the one before, at most SPACE_BACKOFF_MAX_MS.
 * An episode that starts again sooner after the last one's end than the
 * back-off it ended with goes on from it, doubled: a probe that found room
 * for a few records only (a peer with little to send, a map with a few
 * pages free) makes the store fill again less and less often.
 * A probe costs what the refused pull cost (a window of records, up to
 * 64 MiB), so the first waits long enough for a few intervals of serving
 * peers without it. */
#define SPACE_BACKOFF_FIRST 5
#define SPACE_BACKOFF_MAX_MS (3600u * 1000)
/* The store has room again once this many bytes more than at the refusal
 * are free on its disk, or in its map (pages freed): the store's reservation
 * of a batch is of this order. */
#define SPACE_RESUME_BYTES (8u << 20)

/*
 * The state, written only by space.c (the node embeds it; zero is "not
 * full"). An episode starts with the first write refused for space and ends
 * when a probe's reconciliation stores records and ends well, or the disk
 * has room again.
 */
struct space_state {
	enum space_full full;
	int64_t since_ms;            /* wall clock: the episode's first refusal */
	uint64_t episodes;           /* since start */
	uint64_t refused_writes;     /* writes refused for space, since start */
	uint64_t refused_push;       /* pushed records not stored for space */
	uint64_t refused_sync;       /* pulled records not stored for space */
	uint64_t refused_node;       /* the node's own records not stored */
	uint64_t backoff_ms;         /* the wait before the next probe */
	uint64_t probe_at;           /* monotonic ms: a pull may probe from then */
	uint64_t room_at_refusal;    /* the room (disk free, or the map's) at
	                              * the last refusal */
	uint64_t last_probe;         /* monotonic ms: the last probe, or the
	                              * episode's start */
	uint64_t probes;             /* pulls let through while full */
	uint64_t cleared_at;         /* monotonic ms: the last episode's end */
	int probing;                 /* one is let through: its refusal doubles
	                              * the back-off, its records stored end
	                              * the episode */
};

/* rc is a write's result: LCF_EMAPFULL or LCF_ENOSPC start (or continue) an
 * episode; records not stored are counted by source. Other codes are
 * ignored. The first refusal of an episode is logged with what to do; later
 * ones at debug level. Call from the loop. */
void space_refused(struct node *n, int rc, enum space_source src, size_t records);

/* A reconciliation ended well having stored records: the episode, if any,
 * ends (logged once) when a probe was let through since its last refusal
 * (a session that began before says nothing: the store filled in it, or
 * it was let through with nothing to fetch). A probe that stores some
 * records and is then refused goes on with the episode. Call from the
 * loop. */
void space_stored(struct node *n);

/* 1 when a reconciliation may fetch records from a peer, else 0: always when
 * the store is not full; when it is, once the disk or the map has
 * SPACE_RESUME_BYTES more room than at the last refusal (the episode then
 * ends), or once per back-off as a probe when some room was made (the next
 * refusal doubles the back-off), or once an hour when none was. Cheap: a
 * statvfs(2) of the data directory, or a read of the map's free pages.
 * Call from the loop. */
int space_pull_allowed(struct node *n);

/* "map_size", "disk" or NULL. */
const char *space_full_name(enum space_full f);

/* One sentence: what is full and what to do, into buf (empty when not full). */
void space_describe(const struct node *n, char *buf, size_t len);

#endif
