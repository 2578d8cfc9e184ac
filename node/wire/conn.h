/* SPDX-License-Identifier: Apache-2.0 */
/* An encrypted, framed peer connection: Noise XX over libuv TCP (proto/peer.proto). */
#ifndef LCF_CONN_H
#define LCF_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "model/kinds.h"
#include "wire/noise.h"
#include "peer.pb-c.h"

#define CONN_PROLOGUE		"lcf-peer/1"	/* Noise prologue */
#define CONN_VERSION		2		/* Hello.version: always 2 */
/* Hello.protocol: the protocol version we speak (model/kinds.h). */
#define CONN_PROTOCOL		KINDS_PROTO_VERSION
/* Longest host name a connection accepts (DNS: 253 characters); peerfile.h
 * sizes its buffers to match. */
#define CONN_HOST_MAX		253
#define CONN_MAX_MSG		(8u << 20)	/* largest PeerMsg, either way */
/* Largest fragment of a message in one transport frame (one byte is flags). */
#define CONN_MAX_FRAGMENT	(NOISE_MAX_PAYLOAD - 1)
#define CONN_HELLO_MAX		4096		/* largest serialized Hello */
#define CONN_CONNECT_TIMEOUT_MS		10000
#define CONN_HANDSHAKE_TIMEOUT_MS	10000
#define CONN_LINGER_MS		5000	/* default: conn_close waits this long to flush */
#define CONN_HIGH_WATER		(16u << 20)	/* default congestion mark */
#define CONN_LOW_WATER		(4u << 20)	/* default on_drain mark */
#define CONN_QUEUE_MAX		(64u << 20)	/* conn_send refuses above this */
#define CONN_STALL_TIMEOUT_MS	60000	/* default: unsent bytes that stay unsent */
/* A peer's dead-link timeout is at least this many of its keepalive periods
 * (PROTOCOL 4.12): one lost Keepalive is no reason to close. */
#define CONN_DEAD_PERIODS	3
#define CONN_PENDING_PER_ADDR	8	/* default: handshakes from one address */

#include "base/ratelimit.h"

struct identity;
struct conn;
struct conn_listener;

/* What conn_callbacks.admit says about an accepted connection. */
enum conn_admit {
	CONN_ADMIT,
	CONN_ADMIT_SHARED,
	CONN_REFUSE,
};

/*
 * Bytes queued to every conn that shares one budget (conn_config.budget),
 * owned by the caller (zeroed, then limit set) and written by this module
 * only, on the loop's thread; it must outlive every conn given it. While the
 * conns' queues hold limit bytes or more together, a conn that has bytes
 * queued counts as congested (conn_is_congested) until its own queue is
 * empty, so the total stays below limit plus one message per conn, and a
 * conn whose unsent bytes do not move is failed after a quarter of its
 * stall_timeout_ms instead of the whole.
 */
struct conn_budget {
	size_t		 limit;		/* 0: no bound on the total */
	size_t		 queued;	/* wire bytes queued to all now */
	uint64_t	 own_full;	/* a conn's queue reached its high_water */
	uint64_t	 all_full;	/* the total reached limit */
	uint64_t	 stalls;	/* conns failed for not taking their bytes */
	uint64_t	 stalls_pressed; /* of them, sooner: the total was full */
	struct ratelimit log;		/* its log lines */
};

/*
 * Callbacks, all called from the loop (never from inside a conn_* call) with
 * the arg of the conn (see conn_set_arg). After conn_close() or a failure only
 * on_close is called.
 *
 * on_ready: the handshake is done; remote is the peer's Hello, already checked
 * (32-byte identity bound to the Noise static key, version CONN_VERSION). The
 * pointer is valid during the call only; its strings (listen, city_name, may
 * be NULL) are the peer's words: bounded by CONN_HELLO_MAX, otherwise
 * unchecked.
 *
 * on_message: one whole PeerMsg (0..CONN_MAX_MSG bytes, not decoded), the
 * peer's Keepalives included (see keepalive_ms); msg is valid during the
 * call only.
 *
 * on_drain (may be NULL): the write queue went from at least high_water down
 * to low_water or less; producing may resume.
 *
 * on_close: called exactly once for every conn that a starter returned
 * successfully (conn_connect, or a conn accepted by a listener), after the
 * socket is closed; never for a starter that returned an error. code is 0
 * when conn_close() was called (reason is then its argument), else a negative
 * LCF_* code: LCF_ECLOSED the peer closed, LCF_EIO a socket error,
 * LCF_ECONNECT resolution, connect or a timeout failed, LCF_ETIMEDOUT bytes
 * queued for the peer were not taken for stall_timeout_ms, or nothing came
 * from a peer that promised keepalives for the dead-link timeout (see
 * keepalive_ms), LCF_EPROTO a malformed
 * or out-of-order frame, LCF_ECRYPTO decryption or handshake failure or a
 * Hello identity not bound to the Noise key, LCF_EVERSION another protocol
 * version, LCF_EPERM not the expected peer (or, accepted, refused by
 * admit), LCF_EBUSY accepted while pending_per_addr handshakes from its
 * address were under way, LCF_ETOOBIG a message over CONN_MAX_MSG. reason is a sentence for a log, valid during the call. The
 * conn is still readable in the callback (counters, address, identity);
 * conn_send and conn_close are harmless no-ops there. The module frees the
 * conn when on_close returns: drop every pointer to it.
 */
struct conn_callbacks {
	void	(*on_ready)(void *arg, struct conn *c, const Lcf__Hello *remote);
	void	(*on_message)(void *arg, struct conn *c, const uint8_t *msg,
		    size_t len);
	void	(*on_drain)(void *arg, struct conn *c);
	void	(*on_close)(void *arg, struct conn *c, int code,
		    const char *reason);
	/* A listener's (may be NULL): asked about each accepted connection
	 * before its handshake, with the peer's numeric IP address: returns
	 * CONN_ADMIT, CONN_ADMIT_SHARED (an address many peers may share: no
	 * bound per address applies) or CONN_REFUSE (on_close follows with
	 * LCF_EPERM and why as reason). Asked from the loop's next timer
	 * phase, after the close callbacks of the current iteration, before
	 * anything is read; also at accept, with why NULL and whylen 0, when
	 * the address has pending_per_addr handshakes under way. */
	int	(*admit)(void *arg, const char *ip, char *why, size_t whylen);
};

/*
 * What a starter needs. The struct and everything it points to is read during
 * the starter call only (the key is converted and the Hello serialized then),
 * so it may live on the stack. Zero fields take the defaults above.
 */
struct conn_config {
	const struct identity	*identity;	/* our Ed25519 key pair */
	const char		*listen;	/* Hello.listen, or NULL */
	const char		*city_name;	/* Hello.city_name, or NULL */
	const uint8_t		*federation;	/* Hello.federation (32 bytes), or NULL */
	const uint8_t		*membership;	/* Hello.membership bytes, or NULL */
	size_t			 membership_len;
	struct conn_callbacks	 cbs;		/* on_ready, on_message, on_close required */
	void			*arg;		/* first argument of every callback */
	unsigned		 connect_timeout_ms;	/* resolve + TCP connect */
	unsigned		 handshake_timeout_ms;	/* from TCP up to on_ready */
	unsigned		 linger_ms;	/* conn_close's flush, at most */
	size_t			 high_water;	/* conn_is_congested() from here */
	size_t			 low_water;	/* on_drain at or below this */
	/* Once ready, a conn whose unsent bytes do not move for this long (the
	 * peer stopped reading, or the path is dead) fails with LCF_ETIMEDOUT. */
	unsigned		 stall_timeout_ms;
	/*
	 * Liveness (PROTOCOL 4.12). keepalive_ms, announced in our Hello: with
	 * a peer whose Hello announces one too, a Keepalive is sent whenever
	 * we have sent nothing for half of it, and the conn fails with
	 * LCF_ETIMEDOUT once nothing at all arrived for dead_ms (at least
	 * CONN_DEAD_PERIODS of the peer's period; never while we pause
	 * reading ourselves). Both 0: no keepalives, as protocol 3. The
	 * socket's TCP keepalive probes start after keepalive_ms idle
	 * (60 s when 0) and its TCP_USER_TIMEOUT is the larger of dead_ms
	 * and stall_timeout_ms, so a path that takes no bytes also ends a
	 * link with a peer that sends no keepalives.
	 */
	unsigned		 keepalive_ms;
	unsigned		 dead_ms;
	/* Bytes queued to all conns sharing it, bounded (may be NULL). */
	struct conn_budget	*budget;
	/* A listener's: handshakes at once from one IP address; more are
	 * refused at once (0: CONN_PENDING_PER_ADDR). */
	unsigned		 pending_per_addr;
};

/*
 * Dials host:port (an IPv4/IPv6 literal, or a name resolved with
 * uv_getaddrinfo; its first address is used) as the Noise initiator. When
 * expect_pk (32 bytes, copied; may be NULL) is given, a peer with another
 * identity is refused before we reveal ours (on_close with LCF_EPERM). On
 * success *out is the conn, owned by the module until on_close returns.
 * Returns 0; LCF_EINVAL for a bad argument, a Hello over CONN_HELLO_MAX or an
 * identity whose key does not convert; LCF_ECONNECT if the connect could not
 * even start. Later failures, timeouts included, arrive through on_close.
 */
int conn_connect(uv_loop_t *loop, const char *host, uint16_t port,
    const uint8_t *expect_pk, const struct conn_config *cfg,
    struct conn **out);

/*
 * Listens on host:port (an IPv4 or IPv6 literal; port 0 picks a free port, see
 * conn_listener_port) and runs the responder side for each connection, with
 * cfg's callbacks. At most max_pending accepted connections may be in their
 * handshake at once (0: 64): a newer one pushes out the oldest (on_close with
 * LCF_EFULL). Of them, at most cfg->pending_per_addr from one IP address
 * (when below max_pending) unless admit calls it shared: a further one is
 * refused at once (on_close with LCF_EBUSY). The
 * caller owns the listener and stops it with conn_listener_close(); conns
 * already accepted are not affected. Returns 0, LCF_EINVAL, or LCF_EIO with a
 * sentence in err (address in use...).
 */
int conn_listen(uv_loop_t *loop, const char *host, uint16_t port,
    const struct conn_config *cfg, unsigned max_pending,
    struct conn_listener **out, char *err, size_t errlen);
/* Serializes a new Hello from cfg (its identity must be the listener's) for
 * the connections accepted from now on. 0, or LCF_EINVAL as for conn_listen. */
int conn_listener_update(struct conn_listener *l, const struct conn_config *cfg);
/* The port the listener is bound to, or 0 if unknown. */
uint16_t conn_listener_port(const struct conn_listener *l);
/* Stops accepting and wipes the listener's copy of the key; the memory is
 * released from the loop once libuv has closed the socket. Accepts NULL. */
void conn_listener_close(struct conn_listener *l);

/*
 * Queues one serialized PeerMsg (conn_send_bytes: len bytes, copied; conn_send:
 * msg packed by protobuf-c) as fragments of at most CONN_MAX_FRAGMENT bytes.
 * The buffer is kept until libuv's write callback. Returns 0; LCF_ETOOBIG over
 * CONN_MAX_MSG; LCF_EINVAL before on_ready or for a NULL argument;
 * LCF_ECLOSED once closing; LCF_EBUSY when CONN_QUEUE_MAX bytes are already
 * queued (the caller ignored conn_is_congested). Nothing is queued on error.
 */
int conn_send_bytes(struct conn *c, const uint8_t *bytes, size_t len);
int conn_send(struct conn *c, const ProtobufCMessage *msg);

/* Wire bytes handed to uv_write whose write callback has not run yet. */
size_t conn_write_queue_bytes(const struct conn *c);
/* 1 when the write queue holds high_water bytes or more, or holds any while
 * the budget's total is at its limit: stop producing until on_drain, which
 * is then due. */
int conn_is_congested(struct conn *c);

/*
 * Stops (conn_pause_reading) or restarts delivery of on_message, so a slow
 * consumer does not let input pile up: TCP flow control then slows the peer.
 * Messages already received are delivered after the resume, from the loop.
 * Both are no-ops before on_ready or once closing.
 */
void conn_pause_reading(struct conn *c);
void conn_resume_reading(struct conn *c);

/*
 * Closes the connection: queued writes are flushed first (for at most
 * linger_ms), nothing more is read or delivered, then the socket is
 * closed and on_close(arg, c, 0, reason) follows from the loop. reason (may
 * be NULL) is copied. Calling it again, or on a conn already failing, does
 * nothing. Accepts NULL.
 */
void conn_close(struct conn *c, const char *reason);

/* Replaces the arg given to later callbacks (e.g. a peer found in on_ready). */
void conn_set_arg(struct conn *c, void *arg);

/* Wire bytes read and written so far (handshake included). */
uint64_t conn_bytes_in(const struct conn *c);
uint64_t conn_bytes_out(const struct conn *c);
/* "IP:PORT" ("[IP6]:PORT") of the peer once connected; before, "HOST:PORT"
 * as asked. Valid as long as the conn. */
const char *conn_remote_addr(const struct conn *c);
/* The peer's numeric IP address (no port) once connected, else "". Valid
 * as long as the conn. */
const char *conn_remote_ip(const struct conn *c);
/* 1 when we dialed, 0 when we accepted. */
int conn_is_initiator(const struct conn *c);
/* The period of the Keepalives sent to the peer (0: none: it, or we, did
 * not announce keepalive) and the dead-link timeout in force (0: none). */
unsigned conn_keepalive_ms(const struct conn *c);
unsigned conn_dead_ms(const struct conn *c);
/* 1 between on_ready and closing. */
int conn_is_ready(const struct conn *c);
/* The peer's Ed25519 public key (32 bytes) from on_ready on, else NULL.
 * Valid as long as the conn. */
const uint8_t *conn_remote_identity(const struct conn *c);

/* The protocol version a checked Hello announces: Hello.protocol when it is
 * present and above CONN_VERSION, else CONN_VERSION (PROTOCOL 3.1). */
unsigned conn_hello_protocol(const Lcf__Hello *h);

#endif
