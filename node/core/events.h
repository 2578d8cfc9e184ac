/* SPDX-License-Identifier: Apache-2.0 */
/* The node's event bus: what happened, told to the modules that react to it. */
#ifndef LCF_EVENTS_H
#define LCF_EVENTS_H

#include <stddef.h>
#include <stdint.h>

struct conn;

/*
 * The events. A lower layer tells a higher one what happened by emitting one;
 * the modules that react subscribe in one place, node/main.c.
 *
 * Delivery contract:
 *  - synchronous, on the loop's thread: events_emit returns once every
 *    subscriber has seen the event;
 *  - in registration order (the order of the events_subscribe calls in
 *    main.c), to each subscriber whose mask holds the event's kind;
 *  - an event and everything it points to are valid during the delivery only
 *    (they live on the emitter's stack or in its batch): a subscriber copies
 *    what it keeps;
 *  - a subscriber may emit an event itself: that one is delivered in full,
 *    to every subscriber, before its emit returns, so before the outer event
 *    reaches the subscribers after this one. Emission nests at most
 *    EVENTS_DEPTH_MAX deep; deeper, events_emit delivers nothing and returns
 *    LCF_EBUSY (a loop of reactions, a bug);
 *  - the bus allocates nothing: subscribers sit in a fixed table, and the
 *    emitter builds the event from memory it holds.
 */
enum events_kind {
	EVENTS_STORED,        /* a writer committed a batch (events_stored) */
	EVENTS_MEMBERSHIP,    /* a city's membership changed (events_membership) */
	EVENTS_RESYNC,        /* records may now be taken: reconcile soon */
	EVENTS_LINK_UP,       /* a link to a city is ready (events_link) */
	EVENTS_LINK_DOWN,     /* a ready link closed (events_link) */
	EVENTS_LINK_REFUSED,  /* a city's link was refused (events_link) */
	EVENTS_INGEST_ROOM,   /* records received and waiting to be stored fell
	                       * to half of receive_queue: links may read again */
	EVENTS_KINDS          /* how many kinds there are: not an event */
};

#define EVENTS_MASK(kind)	(1u << (kind))
#define EVENTS_MASK_ALL		(EVENTS_MASK(EVENTS_KINDS) - 1)
#define EVENTS_SUBSCRIBERS_MAX	16	/* subscriptions in one bus */
#define EVENTS_DEPTH_MAX	4	/* emissions nested inside handlers */

/* Where a stored batch came from. */
enum events_origin {
	EVENTS_FROM_PEER,     /* pushed or reconciled by a peer: `from` is set */
	EVENTS_FROM_PUBLISH,  /* published here (publish.c) */
	EVENTS_FROM_IMPORT,   /* imported here (import.c) */
	EVENTS_FROM_NODE,     /* taken by the node itself: held records released,
	                       * a membership shown in a handshake */
};

/* How a peer's batch came (EVENTS_FROM_PEER), for the counters of
 * /metrics; set by the net/ file that handed the batch to ingest. */
enum events_via {
	EVENTS_VIA_NONE,      /* not from a peer, or not said */
	EVENTS_VIA_PUSH,      /* pushed (net/push.c) */
	EVENTS_VIA_SYNC,      /* sent in a reconciliation (net/sync.c) */
};

/* One record of a stored batch. */
struct events_record {
	const uint8_t *raw;           /* SignedRecord bytes */
	size_t len;
	const uint8_t *author;        /* 32 bytes */
	uint64_t seq;
	int64_t timestamp;
	int kind;                     /* Lcf__Kind */
	int result;                   /* STORE_* flags (store.h): STORE_DUP means
	                               * nothing was written for it */
};

struct events_stored {
	enum events_origin origin;
	const void *from;             /* EVENTS_FROM_PEER: the link the batch came
	                               * from (sync_io arg), compared only, never
	                               * dereferenced; else NULL */
	enum events_via via;          /* EVENTS_FROM_PEER: pushed or reconciled
	                               * (ingest_submit_via); else NONE */
	const struct events_record *recs;
	size_t count;
	int partial;                  /* recs leaves out some of the batch's
	                               * city content (profiles, practices,
	                               * indicator values) of an import too
	                               * large to keep: it reaches peers by
	                               * reconciliation. Records of every other
	                               * kind are always in recs. */
};

enum events_membership_change {
	EVENTS_ADMITTED,      /* city may now write and link */
	EVENTS_REVOKED,       /* city's records and links end (effective time) */
	EVENTS_EXPIRED,       /* the clock may have ended memberships (city is
	                       * NULL): links are checked again */
	EVENTS_OWN_CHANGED,   /* this node's own membership record changed */
};

struct events_membership {
	enum events_membership_change change;
	const uint8_t *city;          /* 32 bytes, or NULL (EVENTS_EXPIRED) */
};

enum events_refusal {
	EVENTS_REFUSED_ROOM,          /* max_peers reached or the table is full */
	EVENTS_REFUSED_MEMBERSHIP,    /* not a member, revoked, expired */
};

struct events_link {
	const uint8_t *city;          /* 32 bytes: the key the peer presented */
	const void *link;             /* the link (for net/ files), compared only */
	struct conn *conn;            /* its connection, valid during the call
	                               * (closing already for LINK_DOWN) */
	int outbound;                 /* this node dialed */
	enum events_refusal refusal;  /* EVENTS_LINK_REFUSED */
	const char *reason;           /* LINK_DOWN, LINK_REFUSED: why, or "" */
};

struct events_event {
	enum events_kind kind;
	union {
		struct events_stored stored;
		struct events_membership membership;
		struct events_link link;
	} u;
};

/* A subscriber: ev is valid during the call only. */
typedef void (*events_fn)(void *arg, const struct events_event *ev);

struct events_sub {
	events_fn fn;
	void *arg;
	unsigned mask;
};

/* The bus: a member of struct node, zeroed (events_init) before use. */
struct events_bus {
	struct events_sub subs[EVENTS_SUBSCRIBERS_MAX];
	size_t count;
	int depth;                    /* emissions under way */
};

void events_init(struct events_bus *b);

/* Adds fn for the kinds in mask (EVENTS_MASK bits), after every subscriber
 * already added. 0, LCF_EINVAL (no fn, empty mask or unknown bits) or
 * LCF_EFULL (EVENTS_SUBSCRIBERS_MAX reached). */
int events_subscribe(struct events_bus *b, unsigned mask, events_fn fn,
    void *arg);

/* Delivers ev as the contract above says. 0, or LCF_EINVAL (unknown kind) or
 * LCF_EBUSY (nested too deep): then no subscriber saw it. */
int events_emit(struct events_bus *b, const struct events_event *ev);

/* The kind's name ("stored", "link-up", ...) for logs; "?" when unknown. */
const char *events_kind_name(enum events_kind kind);

#endif
