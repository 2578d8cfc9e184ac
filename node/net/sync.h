/* SPDX-License-Identifier: Apache-2.0 */
/* Reconciliation of the record set with one peer (IBLT, then per-author). */
#ifndef LCF_SYNC_H
#define LCF_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "peer.pb-c.h"

struct node;

/* Protocol limits (docs/PROTOCOL.md section 4); a peer exceeding one is
 * refused. A bulk message is a Records batch or a page of author summaries. */
#define SYNC_BATCH_RECORDS 4096          /* records in one Records message */
#define SYNC_BATCH_BYTES (2u << 20)      /* their bytes, at most */
#define SYNC_WINDOW 32                   /* bulk messages not yet acknowledged */
#define SYNC_PAGE_AUTHORS 4096           /* summaries or AuthorWants per message */
#define SYNC_MAX_RUNS 1024               /* runs in one AuthorWant */
/* SyncStarts a peer may make: a burst of this many, then one per interval;
 * beyond, busy. Each costs a read of the store on the loop (a summary page
 * walks up to 262,144 records); lcnode starts one per peer per sync_interval,
 * plus the operator's `peer sync` and a second round. */
#define SYNC_START_BURST 8
#define SYNC_START_EVERY_MS 2000

/* How the sync module reaches one connected peer; owned by the peer manager,
 * valid until sync_peer_gone(). */
struct sync_stats;

struct sync_io {
	void *arg;             /* the peer manager's peer */
	int (*send)(void *arg, const Lcf__PeerMsg *m, size_t *wire_bytes);
	/* The peer sent records that are malformed or badly signed: the peer
	 * manager counts it and disconnects, as for pushed records. */
	void (*violation)(void *arg, const char *reason);
	/* May be NULL. 1 while what was sent to the peer piles up unread: a
	 * SyncStart is then answered busy, so a peer that asks and does not
	 * read cannot make the node queue ever more tables, and no session
	 * sends a bulk message (records, a summary page) until the owner
	 * calls sync_on_drain. An owner that sets it must call that. */
	int (*congested)(void *arg);
	/* May be NULL. A session the peer started ended, with st (result 0:
	 * both sets were brought together, as far as room allowed). */
	void (*answered)(void *arg, const struct sync_stats *st);
	/* The peer's protocol version (conn_hello_protocol); 0 when the owner
	 * does not say, taken as this node's own. A peer before
	 * KINDS_PROTO_OPEN is reconciled over the kinds it knows. */
	unsigned version;
	/* sync.c's own (zero-initialised by the owner, like the rest): the
	 * monotonic ms by which this peer's SyncStart allowance is spent. */
	uint64_t start_due;
};

/* round_trips counts the initiator's waits: a wait starts when it sends a
 * SyncStart, SyncSketch, a SyncWant that is more than an acknowledgement, or
 * its last Records batch, and ends when such a message or a SyncDone arrives. */
struct sync_stats {
	uint64_t round_trips;
	uint64_t bytes_sent, bytes_received;     /* sync messages, serialized */
	uint64_t records_sent, records_received;
	int64_t started_ms, finished_ms;
	int result;            /* 0 ok, else a negative lcf code */
	char message[160];     /* "in sync", "received 1000 records", or the failure */
	/* A measuring session (sync_measure) that succeeded: how it knows the
	 * ids only this node holds (only_here) and only the peer holds. */
	enum sync_measure_kind {
		SYNC_MEASURE_NONE,       /* not a measuring session, or it failed */
		SYNC_MEASURE_EXACT,      /* a table decoded */
		SYNC_MEASURE_ESTIMATE,   /* the largest table's d' (PROTOCOL 4.4) */
		SYNC_MEASURE_LOWER,      /* too many to estimate: the counts' difference */
	} measure_kind;
	uint64_t only_here, only_there;
};

typedef void (*sync_done_cb)(void *arg, const struct sync_stats *st);

/* Starts one reconciliation as initiator. cb runs once, from the loop, when it
 * ends (success, failure, or the peer going away). */
int sync_begin(struct node *n, struct sync_io *io, sync_done_cb cb, void *arg);

/* The first protocol version that knows SyncStart.measure: an older peer
 * ignores the field and would transfer records, so it is never measured. */
#define SYNC_PROTO_MEASURE 3
/* A measuring session ends this long after it began, answered or not. */
#define SYNC_MEASURE_TIMEOUT_MS 5000

/*
 * Starts a measuring session (PROTOCOL 4.11) as initiator: the peer sends its
 * tables, this node decodes them and counts the ids each side alone holds;
 * no record moves either way. cb runs once, from the loop, unless this
 * returns an error: LCF_EVERSION when the peer speaks a version before
 * SYNC_PROTO_MEASURE, LCF_EBUSY when a measuring session with it is running
 * or the module is stopping, or a send error. On success st->measure_kind
 * says how the counts are known; the session ends after
 * SYNC_MEASURE_TIMEOUT_MS in any case (result LCF_ETIMEDOUT). It runs
 * beside an ordinary session with the same peer.
 */
int sync_measure(struct node *n, struct sync_io *io, sync_done_cb cb, void *arg);

/* Hands the sync module every SyncStart, SyncSketch, SyncWant, SyncDone, and
 * every Records message with a non-zero session, from a connected peer. Returns
 * 0, or a negative code when the peer broke the protocol (the caller then
 * disconnects it). */
int sync_on_message(struct node *n, struct sync_io *io, const Lcf__PeerMsg *m,
    size_t wire_bytes);

/* What was queued for the peer drained below congestion: the sessions with it
 * that stopped for congestion (sync_io.congested) send again. */
void sync_on_drain(struct node *n, struct sync_io *io);

/* 1 while a session the peer started on io (this node answering) runs. */
int sync_responding(struct node *n, const struct sync_io *io);

/* The peer disconnected: its sessions end (their callbacks run with an error). */
void sync_peer_gone(struct node *n, struct sync_io *io);

/* Progress for `status`: sessions running, records received in them so far. */
void sync_progress(struct node *n, uint64_t *running, uint64_t *records);

/* Progress of reconciliation as a whole, for `status` and /api/v1/status:
 * expected is what the peers announced that this node lacked when the
 * sessions running began (author summaries, IBLT differences), each record
 * counted once however many peers announce it; stored is what was stored
 * since; eta_ms (has_eta) the time the rest takes at the rate so far. All 0
 * when no session runs. */
struct sync_progress_info {
	uint64_t running, received;
	uint64_t expected, stored, remaining;
	int64_t started_ms;
	int has_eta;
	uint64_t eta_ms;
};
void sync_progress_get(struct node *n, struct sync_progress_info *out);

/* Ends every session (callbacks run with LCF_ECLOSED, peers are told) and
 * releases the module's state once the loop has closed its timer. Call before
 * stopping the loop; later calls start afresh. Accepts a node that never synced. */
void sync_stop(struct node *n);

#endif
