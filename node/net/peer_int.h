// SPDX-License-Identifier: Apache-2.0
// The peer manager's internals, shared by peer.c (the table, links, dialing),
// push.c (records pushed to and from links) and peersync.c (reconciliation
// scheduling and `lcctl peer sync`). push.c and peersync.c call peer.c's
// functions below (peer__*); peer.c calls neither of them.
#ifndef LCF_PEER_INT_H
#define LCF_PEER_INT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "base/ratelimit.h"
#include "wire/conn.h"
#include "core/counters.h"
#include "write/ingest.h"
#include "core/node.h"
#include "net/peer.h"
#include "net/peerfile.h"
#include "net/penalty.h"
#include "net/sync.h"

#define SAVE_DELAY_MS		5000	/* counters reach the disk this late at most */
#define STABLE_MS		10000	/* a link this old resets the backoff */
/* A healthy link (up STABLE_MS, or reconciled) that failed (a dead path,
 * the peer gone) is redialed quickly for QUICK_WINDOW_MS: backoff from
 * QUICK_MIN_MS doubling to QUICK_MAX_MS, each connect given QUICK_CONNECT_MS
 * (a partition drops SYNs, and the kernel's SYN retries would leave 4 s
 * gaps after a heal). PROTOCOL 4.12. */
#define QUICK_WINDOW_MS		(5 * 60 * 1000)
#define QUICK_MIN_MS		250
#define QUICK_MAX_MS		1000
#define QUICK_CONNECT_MS	2000
#define LINK_MAX_INFLIGHT	4	/* pushed batches in ingest before reading pauses */
#define CATCH_UP_MS		1000	/* a dialed link's catch-up: first look,
					 * then again while the peer's runs */
#define REF_MIN_HEX		6	/* shortest id prefix accepted from a person */
#define SHORT_HEX		12	/* id digits in log lines */
#define HOST_MAX		PEERFILE_HOST_MAX
_Static_assert(PEERFILE_HOST_MAX == CONN_HOST_MAX + 1,
    "peers.json and connections must accept the same host names");

struct peers;
struct peer;

struct link {
	struct peers	*ps;
	struct peer	*p;		/* NULL until matched, or once removed */
	struct conn	*c;		/* NULL once on_close has run */
	struct link	*next, **prevp;
	struct sync_io	 io;
	int		 acceptor;	/* the listener's stand-in */
	int		 outbound;
	int		 identified;	/* on_ready ran: the sync module may know it */
	int		 ready;		/* matched and kept: the city's link */
	int		 up;		/* EVENTS_LINK_UP told, LINK_DOWN not yet */
	int		 closing;	/* conn_close was called */
	unsigned	 refs;		/* the conn, ingest batches, sync requests */
	unsigned	 inflight;	/* pushed batches in ingest */
	int		 room_wait;	/* reading stopped: receive_queue reached */
	uint64_t	 catch_up_at;	/* mono ms: our own reconciliation due,
					 * once the peer's is over (peersync.c) */
	unsigned	 syncing;	/* sessions we started */
	struct waiter	*queued;	/* for the session after the running one */
	uint64_t	 dial_mono, ready_mono;
	uint8_t		 rid[32];	/* the remote city, once ready */
	char		 remote[PEER_ADDR_MAX];	/* IP:PORT, kept for logs */
};

struct peer {
	struct peers	*ps;
	struct peer	*next, **prevp;
	/* What persists; its bytes exclude the links still open. */
	struct peer_saved s;
	char		 host[HOST_MAX];	/* of s.address */
	uint16_t	 port;
	enum peer_state	 state;
	int64_t		 since_ms, next_dial_ms;
	unsigned	 backoff_ms;
	uv_timer_t	 timer;		/* the next dial */
	int		 timer_init;
	int		 removed;
	int		 discovered;	/* see peers_discover_dial */
	int		 self;		/* its address reached this node */
	int64_t		 good_sync_ms;	/* end of the last reconciliation
					 * that succeeded (peersync.c), 0;
					 * before ours since start, one the
					 * peer started that caught us up */
	uint64_t	 quick_until;	/* mono ms: quick redials until then */
	struct link	*active, *dialing;
};

struct peers {
	struct node		*n;
	struct conn_listener	*listener;
	struct link		 acceptor;
	struct peer		*list;
	size_t			 count;
	struct link		*links;
	peers_pushed_fn		 pushed;	/* push.c's, from main.c */
	uv_timer_t		 save_timer;
	int			 timers_init;
	uv_timer_t		 sync_timer;	/* peersync.c's */
	int			 sync_timer_init;
	uv_timer_t		 catch_up_timer;	/* peersync.c's */
	int			 stopping;
	uint64_t		 refused_connections;
	uint64_t		 dead_links;	/* closed with LCF_ETIMEDOUT */
	/* Inbound connections refused or failed before a link, by reason
	 * (COUNTERS_HS_*; refused_connections is their sum); their log
	 * lines, a few a minute (a storm is summed up). */
	uint64_t		 refused_by[COUNTERS_HS_N];
	struct ratelimit	 refused_log;
	/* Bytes queued to every conn (written by wire/conn.c), and the
	 * back-off of offenders (peerbound.c) with its log lines. */
	struct conn_budget	 budget;
	struct penalty		 penalty;
	struct ratelimit	 offence_log;
	char			*path;
	char			 listen[PEER_ADDR_MAX];
	uint8_t			*membership;	/* ours, for the Hello, or NULL */
	size_t			 membership_len;
};

/* Someone waiting for the end of a reconciliation (`lcctl peer sync`). */
struct waiter {
	peersync_cb	 cb;
	void		*arg;
	struct waiter	*next;
};

struct sync_req {
	struct link	*l;
	struct waiter	*waiters;
};

/* Reads from l again unless a bound still holds it back (its pushed batches
 * in ingest, or receive_queue). */
void peer__link_read_again(struct link *l);

/* peerbound.c: offenders' back-off, and the conn's admit callback. */
void peer__bounds_init(struct peers *ps);
void peer__bounds_free(struct peers *ps);
/* conn_callbacks.admit: refuses an address in its back-off; calls
 * shared_addresses shared (arg: a link). */
int peer__admit(void *arg, const char *ip, char *why, size_t whylen);
/* An address broke the protocol before the handshake ended, or a key after
 * it: one more offence (penalty.h), logged a few lines a minute. */
void peer__offence_address(struct peers *ps, const char *ip, const char *reason);
void peer__offence_key(struct peers *ps, const uint8_t key[32],
    const char *reason);
/* 1, with a sentence in why, when key is in its back-off. */
int peer__key_barred(struct peers *ps, const uint8_t key[32], char *why,
    size_t whylen);

/* peer.c */
/* "ADDRESS (CITY, 0123456789ab)" for log lines, into buf. */
const char *peer__name(const struct peer *p, const struct link *l, char *buf,
    size_t size);
void peer__set_error(struct peer *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Counters changed: peers.json is written within SAVE_DELAY_MS. */
void peer__mark_dirty(struct peers *ps);
/* Drops a reference to l; the last one frees it. */
void peer__link_unref(struct link *l);
/* The peer broke a rule: count it, say why, drop the link. */
void peer__misbehave(struct link *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The entry named by ref: an address, or an id prefix of >= 6 hex digits
 * (a city with several entries: the connected one, else one the operator
 * added); for a prefix, city (32 bytes, may be NULL) gets the id it names. */
int peer__find_ref(struct peers *ps, const char *ref, struct peer **out, uint8_t *city,
    char *err, size_t errlen);

#endif
