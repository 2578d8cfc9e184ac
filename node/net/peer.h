/* SPDX-License-Identifier: Apache-2.0 */
/* The peer table: cities to dial and accept, their links, push and sync scheduling. */
#ifndef LCF_PEER_H
#define LCF_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "core/counters.h"
#include "net/sync.h"
#include "peer.pb-c.h"

struct events_event;
struct link;
struct node;

#define PEERS_FILE_NAME		"peers.json"	/* in the data directory */
#define PEERS_FILE_MAX		(4u << 20)	/* largest peers.json read */
#define PEER_ADDR_MAX		272		/* "[HOST]:PORT" and its NUL */
#define PEER_TEXT_MAX		160		/* names, errors, sync messages */
#define PEER_BACKOFF_MIN_MS	1000		/* first retry after a failure */
#define PEER_BACKOFF_MAX_MS	(5 * 60 * 1000)	/* retries slow down to this */
#define PEER_PUSH_MAX_BYTES	(4u << 20)	/* records in one pushed message */

enum peer_state {
	PEER_DISCONNECTED,	/* inbound-only peer, not connected: never dialed */
	PEER_CONNECTING,	/* a dial is under way */
	PEER_CONNECTED,
	PEER_RETRYING,		/* waiting for the backoff before dialing again */
};

/* One row of `peer list`: a copy, owned by the caller. Times are Unix ms, 0
 * when never; ids are valid only when their has_ flag is set. */
struct peer_info {
	int has_id, has_pin;
	uint8_t id[32];			/* the key the peer presented last */
	uint8_t pin[32];		/* the key it must present (peer add --id) */
	char address[PEER_ADDR_MAX];	/* dialed address; "" for inbound-only */
	char remote[PEER_ADDR_MAX];	/* IP:PORT of the connection, if any */
	char city_name[PEER_TEXT_MAX];	/* from its Hello: the peer's words */
	char listen[PEER_ADDR_MAX];	/* where it says it accepts peers */
	int inbound;			/* known from its connections only */
	int discovered;			/* dialed by discovery (discover.c) */
	int link_outbound;		/* connected, and we dialed */
	enum peer_state state;
	int64_t since_ms;		/* the state's start */
	int64_t last_handshake_ms;
	int64_t rtt_ms;			/* -1 when not measured */
	int64_t next_dial_ms;		/* when retrying */
	uint64_t bytes_in, bytes_out;	/* wire bytes, persistent */
	uint64_t queued_bytes;		/* waiting to be sent on the live link */
	uint64_t records_in, records_out;	/* records exchanged, persistent */
	uint64_t refused;		/* refused records and violations */
	char last_error[PEER_TEXT_MAX];
	int64_t last_error_ms;
	int sync_running;		/* sessions we started, still running */
	int64_t last_sync_ms;		/* end of the last reconciliation */
	int last_sync_result;		/* 0 or a negative lcf code */
	int64_t last_good_sync_ms;	/* end of the last that succeeded:
					 * the last one's, or one since start */
	char last_sync_message[PEER_TEXT_MAX];
	uint64_t last_sync_records_in, last_sync_records_out;
};

/* Node-wide figures for `status`. */
struct peers_summary {
	size_t known;			/* entries in the table */
	size_t connected;
	size_t discovering;		/* discovery's dials under way */
	uint64_t refused_connections;	/* inbound handshakes that failed */
	uint64_t refused_by[COUNTERS_HS_N];	/* the same by reason */
	uint64_t dead_links;		/* city links closed as dead: silent
					 * though it sends keepalives, or
					 * taking no bytes (LCF_ETIMEDOUT) */
	uint16_t listen_port;
	/* Bounds (wire/conn.h's conn_budget, net/penalty.h): bytes queued to
	 * all peers now and their bound (peers_queue); times a peer's queue
	 * reached peer_queue, and the total peers_queue; peers dropped for
	 * leaving their bytes unread, and of them those dropped sooner as
	 * peers_queue was reached; protocol offences since start, and
	 * addresses and keys refused now for theirs. */
	uint64_t queued_bytes, queue_limit;
	uint64_t peer_queue_full, peers_queue_full;
	uint64_t stalled, stalled_pressed;
	uint64_t offences, offenders;
	/* Records received and waiting to be verified and stored (ingest.h):
	 * their bytes now, the bound (receive_queue), times it was reached
	 * (links then stopped reading), and links stopped for it now. */
	uint64_t receive_bytes, receive_limit, receive_full;
	size_t receive_waiting;
};

/* Takes a Records message a peer pushed on link l (not a reconciliation's);
 * r is valid during the call only. */
typedef void (*peers_pushed_fn)(struct link *l, const Lcf__Records *r);

/*
 * Loads DIR/peers.json (a missing file is an empty table), listens on the
 * configured address and dials every peer with an address. Records peers
 * push go to pushed (push.c's push_received; NULL drops them). Returns 0, or
 * a negative code with a sentence in err (address in use, malformed file);
 * then nothing is left running. n->peers is set on success.
 *
 * Links are told through the event bus: EVENTS_LINK_UP once a link is the
 * city's, EVENTS_LINK_DOWN when such a link closes, EVENTS_LINK_REFUSED
 * before a refused link is closed (its conn still open).
 */
int peers_start(struct node *n, peers_pushed_fn pushed, char *err,
    size_t errlen);

/*
 * Stops listening, closes every connection ("shutting down") and every timer.
 * Closing completes from the loop, which must run on until its handles are
 * closed; then peers_free saves the table and releases it. Accepts a node
 * without peers.
 */
void peers_stop(struct node *n);
void peers_free(struct node *n);

/*
 * Adds a peer to dial at address ("HOST:PORT", "[v6]:PORT"); pin (32 bytes,
 * may be NULL) is the key it must present, else the connection is dropped.
 * Saves the table at once and starts dialing. out (may be NULL) receives the
 * new row. LCF_EINVAL for a bad address, LCF_EEXIST for an address or pinned
 * id already in the table, LCF_ETOOBIG when the table is full, LCF_EIO when
 * peers.json cannot be written (the peer is then not added); err says why.
 */
int peers_add(struct node *n, const char *address, const uint8_t *pin,
    struct peer_info *out, char *err, size_t errlen);

/*
 * Forgets the peer named by ref: its address exactly as added, or a prefix of
 * at least 6 hex digits of its id. Its connection is closed ("removed by the
 * operator") and the table saved. LCF_ENOTFOUND, LCF_EAMBIGUOUS, LCF_EIO.
 */
int peers_remove(struct node *n, const char *ref, char *err, size_t errlen);

/* Copies every row into a new array the caller frees. Returns 0. */
int peers_list(struct node *n, struct peer_info **out, size_t *count);

/* Called once when a requested reconciliation ends; st is valid during the
 * call only. */
typedef void (*peersync_cb)(void *arg, const struct sync_stats *st);

/*
 * Starts one reconciliation now with the connected peer named by ref (as for
 * peers_remove). cb runs once, from the loop, unless this returns an error:
 * LCF_ENOTFOUND, LCF_EAMBIGUOUS, LCF_ECONNECT (not connected), or the error
 * of sync_begin; err says why.
 */
int peersync_request(struct node *n, const char *ref, peersync_cb cb, void *arg,
    char *err, size_t errlen);

/* The MEMBERSHIP subscriber (arg: the node): this city's own membership
 * changed (the handshakes to come show the new record); a revocation or the
 * expiry check closes the links of cities that may no longer be linked
 * (members_link_ok; the reason shows in peer list). And INGEST_ROOM's: the
 * links that stopped reading for receive_queue read again. */
void peers_on_event(void *arg, const struct events_event *ev);
void peers_summary(struct node *n, struct peers_summary *s);

/*
 * For discovery (discover.c). A discovered entry is pinned to the city whose
 * endpoint record gave its address. It is never redialed on its own: after a
 * failure or a disconnection it waits out its backoff, then discovery may
 * dial it again. peers.json keeps it only as a city known by id (like one
 * that connected to us), and it gives way to a new city when the table is
 * full. Inbound connections from it count against max_peers like any city
 * the operator did not add.
 */
/* 1 when discovery may dial city now: not this node, no operator entry for
 * it, not connected, no dial under way, not in its backoff. */
int peers_discover_ok(struct node *n, const uint8_t city[32]);
/* Dials city at address (HOST:PORT) as a discovered peer, pinned to city.
 * 0, LCF_EINVAL (bad address), LCF_EEXIST (not peers_discover_ok),
 * LCF_ETOOBIG (table full), LCF_EBUSY (stopping). */
int peers_discover_dial(struct node *n, const uint8_t city[32],
    const char *address);
/* Closes up to count links to discovered peers, chosen at random ("making
 * room for configured peers"). */
void peers_discover_trim(struct node *n, size_t count);

#endif
