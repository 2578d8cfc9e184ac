/* SPDX-License-Identifier: Apache-2.0 */
/* The node's event counters: integers the layer that sees an event bumps, and
 * /metrics (http/metrics.c) reads. */
#ifndef LCF_COUNTERS_H
#define LCF_COUNTERS_H

#include <stdint.h>

/*
 * Each family is one table (an X-macro): the enum below and the names
 * /metrics prints are made from it, so a new outcome is one line here. Every
 * counter lives in the node's struct node_counters (node.h: n->counters),
 * starts at 0 with the process, is written on the loop's thread only (never
 * from the thread pool or the writer threads) by the file named beside it,
 * and only ever grows. A bump is an integer increment: no allocation, no
 * system call.
 */

/* Handshakes, by result and reason: X(NAME, result, reason). Counted by
 * net/peer.c once per connection whose handshake ended, at the moment the
 * link was kept or refused, or when the connection failed before it. */
#define COUNTERS_HANDSHAKES(X)						\
	X(OK,			"ok",		"none")			\
	X(REFUSED_ROOM,		"refused",	"room")	/* max_peers, table full */ \
	X(REFUSED_MEMBERSHIP,	"refused",	"membership")		\
	X(REFUSED_SELF,		"refused",	"self")	/* reached this node */ \
	X(REFUSED_ADDRESS,	"refused",	"address") /* handshakes_per_address */ \
	X(REFUSED_BACKOFF,	"refused",	"backoff") /* an offender's back-off */ \
	X(FAILED_CRYPTO,	"failed",	"crypto")		\
	X(FAILED_VERSION,	"failed",	"version")		\
	X(FAILED_IDENTITY,	"failed",	"identity") /* not the pinned key */ \
	X(FAILED_PROTOCOL,	"failed",	"protocol")		\
	X(FAILED_TIMEOUT,	"failed",	"timeout")		\
	X(FAILED_CONNECT,	"failed",	"connect") /* dial never connected */ \
	X(FAILED_CLOSED,	"failed",	"closed") /* hung up, socket error */ \
	X(FAILED_EVICTED,	"failed",	"evicted") /* gave way to newer ones */

/* Where stored records came from: X(NAME, source). Counted by the writers
 * when their transaction is committed: write/publish.c and write/import.c
 * (LOCAL), write/ingest.c (the others, from the STORED event's origin and
 * via). */
#define COUNTERS_SOURCES(X)						\
	X(LOCAL,	"local")	/* published or imported here */	\
	X(PUSH,		"push")		/* pushed by a peer */			\
	X(RECONCILE,	"reconcile")	/* taken in a reconciliation */	\
	X(NODE,		"node")		/* held records released, a membership \
					 * shown in a handshake, lcctl's */

/* Records refused by ingest (write/ingest.c): X(NAME, reason). */
#define COUNTERS_REFUSALS(X)						\
	X(MALFORMED,	"malformed")	/* undecodable or oversized */		\
	X(SIGNATURE,	"signature")	/* bad signature: a verify failure */	\
	X(INVALID,	"invalid")	/* not canonical, invalid, from the future */ \
	X(MEMBERSHIP,	"membership")	/* refused by the membership rules */

/* Reconciliation sessions by how they ended: X(NAME, result). Counted by
 * net/sync_session.c when a session ends, on either side. */
#define COUNTERS_SYNC_RESULTS(X)					\
	X(OK,		"ok")							\
	X(CLOSED,	"closed")	/* the peer left, no progress, stopping */ \
	X(BUSY,		"busy")		/* gave way to another city's */	\
	X(PROTOCOL,	"protocol")	/* the peer broke the protocol */	\
	X(ERROR,	"error")	/* anything else (store, ingest) */

/* Admin clients closed by a bound (admin/ctlbound.c): X(NAME, reason). */
#define COUNTERS_ADMIN_CLOSES(X)					\
	X(PART,		"part_frame")	/* part of a request, then silence */ \
	X(WAIT,		"no_room")	/* waited too long for room */	\
	X(STALL,	"unread_answer") /* did not read its answer */	\
	X(IDLE,		"idle")		/* asked nothing */		\
	X(CONNS,	"too_many")	/* too many clients already */

#define COUNTERS_ENUM_HS(name, result, reason) COUNTERS_HS_##name,
#define COUNTERS_ENUM_ADM(name, label) COUNTERS_ADM_##name,
#define COUNTERS_ENUM_SRC(name, label) COUNTERS_SRC_##name,
#define COUNTERS_ENUM_REF(name, label) COUNTERS_REF_##name,
#define COUNTERS_ENUM_SYNC(name, label) COUNTERS_SYNC_##name,
enum counters_handshake { COUNTERS_HANDSHAKES(COUNTERS_ENUM_HS) COUNTERS_HS_N };
enum counters_source { COUNTERS_SOURCES(COUNTERS_ENUM_SRC) COUNTERS_SRC_N };
enum counters_refusal { COUNTERS_REFUSALS(COUNTERS_ENUM_REF) COUNTERS_REF_N };
enum counters_sync { COUNTERS_SYNC_RESULTS(COUNTERS_ENUM_SYNC) COUNTERS_SYNC_N };
enum counters_admin_close { COUNTERS_ADMIN_CLOSES(COUNTERS_ENUM_ADM) COUNTERS_ADM_N };

/*
 * The push delay histogram: seconds from a record's timestamp (its author's
 * clock) to its arrival here by push, for each record a push stored new.
 * Upper bounds in milliseconds, ascending; the +Inf bucket is implicit. A
 * push normally takes well under a second; the large bounds catch records
 * pushed onward long after they were made (a peer that was offline).
 */
#define COUNTERS_PUSH_DELAY_BOUNDS_MS					\
	{ 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,	\
	  300000, 3600000 }
#define COUNTERS_PUSH_DELAY_BUCKETS 12
/* Buckets exclusive of each other (a record is counted in the first whose
 * bound holds it; the last slot is +Inf): /metrics sums them cumulatively. */
struct counters_histogram {
	uint64_t bucket[COUNTERS_PUSH_DELAY_BUCKETS + 1];
	uint64_t count;
	int64_t sum_ms;              /* delays below 0 (clock skew) count as 0 */
};

struct node_counters {
	uint64_t handshakes[COUNTERS_HS_N];        /* net/peer.c */
	uint64_t stored[COUNTERS_SRC_N];           /* write/publish.c,
	                                            * write/import.c,
	                                            * write/ingest.c */
	uint64_t refused[COUNTERS_REF_N];          /* write/ingest.c */
	uint64_t superseded;                       /* write/ingest.c: status
	                                            * beacons older than the
	                                            * one held, dropped */
	uint64_t sync_sessions[2][COUNTERS_SYNC_N];    /* net/sync_session.c:
	                                            * [0] responder, [1] initiator */
	uint64_t sync_bytes_sent;                  /* net/sync_session.c */
	uint64_t sync_bytes_received;              /* net/sync_session.c */
	uint64_t sync_round_trips;                 /* net/sync_session.c */
	struct counters_histogram push_delay;      /* write/ingest.c */
	uint64_t admin_closed[COUNTERS_ADM_N];     /* admin/ctlbound.c */
};

/* Counts one delay of ms milliseconds into h: a loop over the bounds, no
 * allocation. Loop thread only (the owner's). */
void counters_observe(struct counters_histogram *h, int64_t ms);
/* The bucket bounds in milliseconds (COUNTERS_PUSH_DELAY_BUCKETS of them). */
extern const int64_t counters_push_delay_bounds_ms[COUNTERS_PUSH_DELAY_BUCKETS];

#endif
