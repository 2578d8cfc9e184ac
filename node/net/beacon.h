/* SPDX-License-Identifier: Apache-2.0 */
/* Status beacons: this node's own (published at start, then by interval or on a
 * material change) and what the beacons of others tell, two nodes on one key included. */
#ifndef LCF_BEACON_H
#define LCF_BEACON_H

#include <stddef.h>
#include <stdint.h>

struct events_event;
struct node;

#define BEACON_KEY		"beacon"
#define BEACON_MIN_GAP_MS	(600 * 1000)	/* at most one per 10 minutes */
#define BEACON_CHECK_MS		(60 * 1000)	/* material changes looked for */
#define BEACON_SHARED_LOG_MS	(3600 * 1000)	/* the shared-key warning, hourly */
#define BEACON_SOFTWARE_MAX	32

/* What an author's current beacon says (beacon_get), and what this node
 * concluded from all the beacons of that author it has seen since it started. */
struct beacon_seen {
	int has;                     /* a current beacon is held */
	int64_t timestamp;           /* its envelope's time (Unix ms) */
	uint64_t seq;
	char software[BEACON_SOFTWARE_MAX + 1];
	unsigned protocol;
	int64_t started;
	uint64_t records, set_count;
	int has_digest;
	uint8_t digest[16];
	unsigned peers;
	int64_t last_sync;
	/* Two nodes run with this key (PROTOCOL 1.3.15, "two nodes, one key"):
	 * seen at shared_ms (Unix ms), 0 when never. */
	int64_t shared_ms;
	int64_t shared_started[2];   /* the two instances' start times */
};

/* Makes the state and reads the current beacons of every author from the
 * store (before peers_start). 0 or LCF_ESTORE with err set. */
int beacon_open(struct node *n, char *err, size_t errlen);
/* After peers_start and discover_start: queues this node's first beacon (it
 * is published once seqs settle) when the node has a federation or a peer,
 * and starts the timer that publishes the next ones. */
void beacon_start(struct node *n);
void beacon_stop(struct node *n);
void beacon_free(struct node *n);

/* The subscriber (arg: the node) of EVENTS_STORED (beacons of other nodes,
 * and records of this node's key that another node made) and of
 * EVENTS_LINK_UP / EVENTS_LINK_DOWN (peers connected, a material change). */
void beacon_on_event(void *arg, const struct events_event *ev);

/* What the author's current beacon says into *out (out->has 0 when there is
 * none). For this node's own key, out->shared_ms tells whether another node
 * runs with it. 0, or LCF_ESTORE. Call from the loop. */
int beacon_get(struct node *n, const uint8_t author[32], struct beacon_seen *out);

/* This node's live figures, as its next beacon would carry them: records,
 * the base set's count and digest. 0 or LCF_ESTORE. Any thread. */
int beacon_own_set(struct node *n, uint64_t *records, uint64_t *set_count,
    uint8_t digest[16]);

#endif
