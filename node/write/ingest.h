/* SPDX-License-Identifier: Apache-2.0 */
/* Records from the network: verify in the pool, validate, store, tell the node. */
#ifndef LCF_INGEST_H
#define LCF_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/events.h"

struct events_event;
struct node;

#define INGEST_MAX_FUTURE_MS (10 * 60 * 1000)   /* timestamps past now + this are refused */
#define INGEST_MAX_BATCH 4096                   /* records in one ingest_submit */

struct ingest_result {
	size_t received;       /* records handed in */
	size_t known;          /* ids already held: dropped without verifying */
	size_t stored;         /* new records written */
	size_t current;        /* of those, new current versions (pushed onward) */
	size_t refused;        /* bad signature, malformed, invalid, future, or
	                        * refused by the federation's membership rules */
	size_t held;           /* author not admitted yet: kept aside (member.h) */
	size_t superseded;     /* status beacons older than the one held: valid,
	                        * dropped unstored, neither stored nor refused
	                        * (STORE_SUPERSEDED) */
	size_t bad;            /* of those, malformed, oversized or with a bad
	                        * signature: the sender is at fault (a record that
	                        * is only invalid or early may be honest gossip) */
	int error;             /* 0, or a store error (nothing written) */
	char reason[160];      /* first refusal or error, for logs and peer list */
};

typedef void (*ingest_cb)(void *arg, const struct ingest_result *r);

/*
 * Takes SignedRecord byte strings received from peer `from` (opaque, NULL for
 * none) and, in order: drops ids already stored; decodes each within bounds,
 * verifies its signature and validates it in the thread pool, in batches, on
 * both cores; refuses timestamps more than INGEST_MAX_FUTURE_MS ahead; stores
 * the rest in one transaction (records of authors not admitted yet are kept
 * aside: held.c); emits EVENTS_STORED for the batch (origin EVENTS_FROM_PEER
 * with `from`, or EVENTS_FROM_NODE when from is NULL), before cb. The byte
 * strings are copied: the
 * caller may free them when this returns. cb is called from the loop once the
 * batch is done (never if this returns an error). At most 4,096 records per call
 * (INGEST_MAX_BATCH; more is LCF_EINVAL). `from` is the peer link the records
 * came from (the sync_io arg for sync answers): it is only compared, never
 * dereferenced, so it may be gone by the time the batch is stored.
 */
int ingest_submit(struct node *n, void *from, const uint8_t *const *raws,
    const size_t *lens, size_t count, ingest_cb cb, void *arg);
/* The same, for records a peer sent: via (EVENTS_VIA_PUSH or EVENTS_VIA_SYNC)
 * goes into the STORED event and says which counter of n->counters counts
 * them (core/counters.h); ingest_submit is via EVENTS_VIA_NONE. */
int ingest_submit_via(struct node *n, void *from, enum events_via via,
    const uint8_t *const *raws, const size_t *lens, size_t count,
    ingest_cb cb, void *arg);

/* The MEMBERSHIP subscriber (arg: the node): an admitted city's held
 * records are taken again (from the loop, in batches; their results are
 * logged) and, when records were refused for want of room to hold them,
 * EVENTS_RESYNC is emitted; a revoked city's held records are dropped. */
void ingest_on_event(void *arg, const struct events_event *ev);

/* Records to store wait while an import holds the write transaction
 * (node.import_writing); the import calls this when it has ended. */
void ingest_resume(struct node *n);

/*
 * receive_queue (core/config.h): the bytes of the records handed in and not
 * yet through their callback, from every caller (peers' pushes, their
 * reconciliations, held records taken again, signed records handed in with
 * `lcctl publish`). 1 while they are at the bound or above: a peer's link
 * stops reading after its message (net/peer.c), and EVENTS_INGEST_ROOM is
 * emitted once they are down to half of it. Reaching it is logged (a few
 * lines a minute) and counted. A bound of 0 (a node made without
 * config_init, in tests) is no bound.
 */
int ingest_receive_full(const struct node *n);
/* The bytes held now, and the times the bound was reached since start. */
void ingest_receive_counts(const struct node *n, uint64_t *bytes,
    uint64_t *full);
/* Records written by ingest since start, and the transactions that wrote them. */
void ingest_counts(const struct node *n, uint64_t *records, uint64_t *transactions);

/* Stops the writer thread once the write under way (if any) is committed, runs
 * that write's callbacks, and closes the module's handle; batches still being
 * checked then end with LCF_ECLOSED and store nothing, and ingest_submit fails
 * with LCF_ECLOSED. Call from the loop's thread when the loop is not running,
 * before its last run (the handle's close). Accepts a node that never ingested
 * anything, and repeated calls. */
void ingest_stop(struct node *n);

/* Releases the module's state once the loop has finished: after ingest_stop
 * and the loop's last run. Accepts a node that never ingested anything. */
void ingest_free(struct node *n);

#endif
