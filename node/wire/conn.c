// SPDX-License-Identifier: Apache-2.0
// Peer connections: TCP, a Noise XX handshake carrying Hellos, fragmented transport messages.
//
// Wire format (proto/peer.proto): every Noise message is preceded by its length
// as 2 bytes big-endian. Handshake: message 1 (initiator) is e with an empty
// payload, messages 2 and 3 carry a serialized Hello. Transport: the plaintext
// of each frame is one flag byte (bit 0: more fragments follow) and a fragment
// of a PeerMsg of at most CONN_MAX_MSG bytes.
//
// Life of a conn: a starter creates it with three handles (the TCP socket, a
// timer used for the connect, handshake and linger timeouts and to resume
// reading, and the liveness timer of keepalives) and, for a host name, a
// getaddrinfo request. Every failure and conn_close() end in teardown(),
// which wipes the ciphers and closes the handles; when the last handle or
// request has called back, finish() calls on_close (if the starter had
// succeeded) and frees the conn. libuv calls pending write, connect and
// shutdown callbacks (with UV_ECANCELED) before a handle's close callback, so
// those never see a freed conn.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>
#include <uv.h>

#include "base/addr.h"
#include "wire/conn.h"
#include "base/error.h"
#include "model/identity.h"
#include "base/log.h"
#include "wire/noise.h"
#include "base/util.h"
#include "base/xmalloc.h"

#define FRAME_HDR	2			/* big-endian length */
#define FRAME_OVERHEAD	(FRAME_HDR + 1 + NOISE_TAG)	/* length, flags, tag */
#define FLAG_MORE	0x01
#define RBUF_SIZE	(FRAME_HDR + NOISE_MAX_MSG)	/* any one frame fits */
#define HS_OVERHEAD	96	/* XX message 2 beyond its payload (noise.h) */
#define REASON_MAX	256
#define HOST_MAX	CONN_HOST_MAX
#define ADDR_MAX	(HOST_MAX + 16)	/* "[HOST]:65535" */
#define PENDING_DEFAULT	64
#define LISTEN_BACKLOG	4096	/* the kernel caps it at net.core.somaxconn */
#define MSG_KEEP	(1u << 20)	/* reassembly buffer kept between messages */
#define KEEPALIVE_S	60	/* TCP keepalive idle time without ours */
#define KA_TICK_MIN_MS	50	/* the liveness timer's shortest period */

enum conn_state {
	ST_RESOLVING,
	ST_CONNECTING,
	ST_HANDSHAKE,
	ST_READY,
	ST_FLUSHING,	/* conn_close() waits for the queued writes */
	ST_CLOSED,	/* the handles are closing */
};

/* A conn_config checked and turned into what the wire needs. */
struct prepared {
	struct conn_callbacks	 cbs;
	void			*arg;
	unsigned		 connect_timeout_ms;
	unsigned		 handshake_timeout_ms;
	unsigned		 linger_ms;
	unsigned		 stall_timeout_ms;
	unsigned		 keepalive_ms, dead_ms;
	size_t			 high_water, low_water;
	struct conn_budget	*budget;
	unsigned		 pending_per_addr;
	uint8_t			 x_priv[NOISE_KEY];	/* wipe after use */
	uint8_t			 hello[CONN_HELLO_MAX];
	size_t			 hello_len;
};

struct conn {
	uv_tcp_t		 tcp;
	uv_timer_t		 timer;
	uv_timer_t		 ka_timer;	/* liveness, once ready */
	uv_getaddrinfo_t	 gai;
	uv_connect_t		 connect_req;
	uv_shutdown_t		 shutdown_req;
	enum conn_state		 state;
	int			 initiator;
	int			 started;	/* on_close is owed */
	int			 refs;		/* handles and requests still to call back */
	int			 gai_pending;
	int			 hs_reads;	/* handshake messages read */
	int			 paused;
	int			 reading;	/* uv_read_start is in force */
	int			 drain_armed;
	int			 has_expect, has_remote;
	uint8_t			 expect_pk[IDENTITY_PK_LEN];
	uint8_t			 remote_pk[IDENTITY_PK_LEN];
	struct conn_callbacks	 cbs;
	void			*arg;
	unsigned		 connect_timeout_ms, handshake_timeout_ms;
	unsigned		 linger_ms;
	unsigned		 stall_timeout_ms;
	unsigned		 keepalive_ms, dead_ms;	/* as configured */
	/* With a peer that announced keepalive: the period we send at and
	 * the silence that ends the link (0 otherwise); mono ms of the last
	 * byte read, the last message queued and the last liveness tick. */
	unsigned		 ka_send_ms, ka_dead_ms;
	uint64_t		 last_rx, last_tx, ka_tick;
	size_t			 high_water, low_water;
	/*
	 * Ready, the timer delivers buffered input after conn_resume_reading
	 * (resume_due) and watches the write backlog while there is one
	 * (watching): libuv's unsent bytes must shrink now and then.
	 */
	int			 resume_due, watching;
	int			 admit_due;	/* accepted: admit not asked yet */
	uint64_t		 handed;	/* wire bytes ever given to uv_write */
	uint64_t		 stall_mark;	/* bytes libuv had sent ... */
	uint64_t		 stall_since;	/* ... when this mono ms began */
	struct noise_handshake	 hs;
	struct noise_cipher	 tx, rx;
	uint8_t			*hello;		/* our serialized Hello */
	size_t			 hello_len;
	uint8_t			*rbuf;		/* received, not yet consumed */
	size_t			 rlen;
	uint8_t			*msg;		/* message being reassembled */
	size_t			 msg_len, msg_cap;
	size_t			 queued;	/* wire bytes given to uv_write */
	struct conn_budget	*budget;	/* shared with other conns, or NULL */
	uint64_t		 bytes_in, bytes_out;
	struct conn_listener	*listener;	/* set while in its handshake */
	struct conn		*lnext, **lprevp;
	int			 code;
	char			 reason[REASON_MAX];
	char			 addr[ADDR_MAX];
	char			 ip[INET6_ADDRSTRLEN];	/* numeric, once connected */
};

struct conn_listener {
	uv_tcp_t		 tcp;
	uv_loop_t		*loop;
	struct prepared		 p;
	unsigned		 max_pending, npending;
	struct conn		*pending;
	int			 closing;
};

/* One uv_write: the buffer lives until the write callback. */
struct wreq {
	uv_write_t		 req;
	struct conn		*c;
	size_t			 len;
	uint8_t			 data[];
};

static void process_input(struct conn *c);
static void admit_now(struct conn *c);

/* ---- helpers ---- */

static void
put_be16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t
get_be16(const uint8_t *p)
{
	return ((size_t)p[0] << 8) | p[1];
}

/* Replaces the address asked for by the socket's numeric peer address. */
static void
set_peer_addr(struct conn *c)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	/* On any failure c->addr keeps the address asked for. */
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
		return;
	addr_format_sockaddr(c->addr, sizeof(c->addr),
	    (const struct sockaddr *)&ss);
	if (ss.ss_family == AF_INET)
		uv_ip4_name((const struct sockaddr_in *)&ss, c->ip, sizeof(c->ip));
	else if (ss.ss_family == AF_INET6)
		uv_ip6_name((const struct sockaddr_in6 *)&ss, c->ip, sizeof(c->ip));
}

/* Parses an IPv4 or IPv6 literal; 0 or LCF_EINVAL. */
static int
parse_ip(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
	int ret = 0;

	memset(ss, 0, sizeof(*ss));
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
		goto out;
	if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0)
		goto out;
	ret = LCF_EINVAL;
out:
	return ret;
}

/* Checks cfg, converts the key and serializes our Hello into p. */
static int
prepare(const struct conn_config *cfg, struct prepared *p)
{
	Lcf__Hello hello = LCF__HELLO__INIT;
	uint8_t pk[IDENTITY_PK_LEN];
	int ret = LCF_EINVAL;

	memset(p, 0, sizeof(*p));
	if (cfg == NULL || cfg->identity == NULL || cfg->cbs.on_ready == NULL ||
	    cfg->cbs.on_message == NULL || cfg->cbs.on_close == NULL)
		goto out;
	if (noise_static_from_ed25519(cfg->identity->sk, p->x_priv) != 0)
		goto out;
	memcpy(pk, cfg->identity->pk, sizeof(pk));
	hello.has_identity = 1;
	hello.identity.data = pk;
	hello.identity.len = sizeof(pk);
	hello.has_version = 1;
	hello.version = CONN_VERSION;
	hello.has_protocol = 1;
	hello.protocol = CONN_PROTOCOL;
	if (cfg->keepalive_ms > 0) {
		hello.has_keepalive = 1;
		hello.keepalive = cfg->keepalive_ms;
	}
	hello.listen = (char *)cfg->listen;
	hello.city_name = (char *)cfg->city_name;
	if (cfg->federation != NULL) {
		hello.has_federation = 1;
		hello.federation.data = (uint8_t *)cfg->federation;
		hello.federation.len = 32;
	}
	if (cfg->membership != NULL && cfg->membership_len > 0) {
		hello.has_membership = 1;
		hello.membership.data = (uint8_t *)cfg->membership;
		hello.membership.len = cfg->membership_len;
	}
	p->hello_len = lcf__hello__get_packed_size(&hello);
	if (p->hello_len > CONN_HELLO_MAX)
		goto out;
	lcf__hello__pack(&hello, p->hello);
	p->cbs = cfg->cbs;
	p->arg = cfg->arg;
	p->connect_timeout_ms = cfg->connect_timeout_ms ?
	    cfg->connect_timeout_ms : CONN_CONNECT_TIMEOUT_MS;
	p->handshake_timeout_ms = cfg->handshake_timeout_ms ?
	    cfg->handshake_timeout_ms : CONN_HANDSHAKE_TIMEOUT_MS;
	p->linger_ms = cfg->linger_ms ? cfg->linger_ms : CONN_LINGER_MS;
	p->stall_timeout_ms = cfg->stall_timeout_ms ? cfg->stall_timeout_ms :
	    CONN_STALL_TIMEOUT_MS;
	p->keepalive_ms = cfg->keepalive_ms;
	p->dead_ms = cfg->dead_ms;
	p->high_water = cfg->high_water ? cfg->high_water : CONN_HIGH_WATER;
	p->low_water = cfg->low_water ? cfg->low_water : CONN_LOW_WATER;
	if (p->low_water > p->high_water)
		p->low_water = p->high_water;
	p->budget = cfg->budget;
	p->pending_per_addr = cfg->pending_per_addr ? cfg->pending_per_addr :
	    CONN_PENDING_PER_ADDR;
	ret = 0;
out:
	if (ret != 0)
		sodium_memzero(p, sizeof(*p));
	return ret;
}

/* ---- life and death ---- */

static void
listener_detach(struct conn *c)
{
	if (c->listener == NULL)
		return;
	*c->lprevp = c->lnext;
	if (c->lnext != NULL)
		c->lnext->lprevp = c->lprevp;
	c->listener->npending--;
	c->listener = NULL;
	c->lnext = NULL;
	c->lprevp = NULL;
}

static void
listener_attach(struct conn_listener *l, struct conn *c)
{
	c->listener = l;
	c->lnext = l->pending;
	if (l->pending != NULL)
		l->pending->lprevp = &c->lnext;
	c->lprevp = &l->pending;
	l->pending = c;
	l->npending++;
}

static void
finish(struct conn *c)
{
	if (c->started)
		c->cbs.on_close(c->arg, c, c->code, c->reason);
	noise_hs_wipe(&c->hs);
	noise_cipher_wipe(&c->tx);
	noise_cipher_wipe(&c->rx);
	free(c->hello);
	free(c->rbuf);
	free(c->msg);
	free(c);
}

static void
release(struct conn *c)
{
	if (--c->refs == 0)
		finish(c);
}

static void
handle_closed(uv_handle_t *h)
{
	release(h->data);
}

/* Starts closing both handles; the conn is freed once they have closed. */
static void
teardown(struct conn *c)
{
	if (c->state == ST_CLOSED)
		return;
	c->state = ST_CLOSED;
	noise_hs_wipe(&c->hs);
	noise_cipher_wipe(&c->tx);
	noise_cipher_wipe(&c->rx);
	listener_detach(c);
	if (c->gai_pending)
		uv_cancel((uv_req_t *)&c->gai);
	uv_close((uv_handle_t *)&c->tcp, handle_closed);
	uv_close((uv_handle_t *)&c->timer, handle_closed);
	uv_close((uv_handle_t *)&c->ka_timer, handle_closed);
}

/* Fails the connection with a reason: the first reason is the one reported. */
static void
fail(struct conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct conn *c, int code, const char *fmt, ...)
{
	va_list ap;

	if (c->state == ST_CLOSED)
		return;
	/* A graceful close already has its code and reason. */
	if (c->state != ST_FLUSHING) {
		c->code = code;
		va_start(ap, fmt);
		vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
		va_end(ap);
		log_debug("peer %s: %s", c->addr, c->reason);
	}
	teardown(c);
}

/*
 * Allocates a conn with its handles initialised. Returns NULL only if libuv
 * refuses to initialise the TCP handle.
 */
static struct conn *
conn_new(uv_loop_t *loop, const struct prepared *p, int initiator)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	c->initiator = initiator;
	c->cbs = p->cbs;
	c->arg = p->arg;
	c->connect_timeout_ms = p->connect_timeout_ms;
	c->handshake_timeout_ms = p->handshake_timeout_ms;
	c->linger_ms = p->linger_ms;
	c->stall_timeout_ms = p->stall_timeout_ms;
	c->keepalive_ms = p->keepalive_ms;
	c->dead_ms = p->dead_ms;
	c->high_water = p->high_water;
	c->low_water = p->low_water;
	c->budget = p->budget;
	c->hello = xmalloc(p->hello_len);
	memcpy(c->hello, p->hello, p->hello_len);
	c->hello_len = p->hello_len;
	c->rbuf = xmalloc(RBUF_SIZE);
	snprintf(c->addr, sizeof(c->addr), "?");
	/* The arguments are valid by construction: XX with a static key. */
	noise_hs_init(&c->hs, NOISE_XX, initiator, (const uint8_t *)CONN_PROLOGUE,
	    strlen(CONN_PROLOGUE), p->x_priv, NULL);
	if (uv_tcp_init(loop, &c->tcp) != 0) {
		noise_hs_wipe(&c->hs);
		free(c->hello);
		free(c->rbuf);
		free(c);
		return NULL;
	}
	/* uv_timer_init cannot fail. */
	uv_timer_init(loop, &c->timer);
	uv_timer_init(loop, &c->ka_timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->ka_timer.data = c;
	c->gai.data = c;
	c->connect_req.data = c;
	c->shutdown_req.data = c;
	c->refs = 3;
	return c;
}

/* ---- writing ---- */

/* 1 while the conns sharing b have its limit queued, or more. */
static int
budget_full(const struct conn_budget *b)
{
	return b != NULL && b->limit > 0 && b->queued >= b->limit;
}

/* Logs a bound being hit, a few lines a minute (b's budget). */
static void
budget_log(struct conn_budget *b, int warn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
budget_log(struct conn_budget *b, int warn, const char *fmt, ...)
{
	char line[REASON_MAX * 2];
	unsigned long held;
	va_list ap;

	if (!ratelimit_pass(&b->log, mono_ms(), &held))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (warn)
		log_warnx("%s%s", line, held > 0 ? " (more such lines were "
		    "not logged since the last one)" : "");
	else
		log_info("%s%s", line, held > 0 ? " (more such lines were "
		    "not logged since the last one)" : "");
}

/* Counts len more bytes queued to c: its own bound and the shared one. */
static void
account_queued(struct conn *c, size_t len)
{
	struct conn_budget *b = c->budget;
	size_t was = c->queued;

	c->queued += len;
	if (b == NULL)
		return;
	if (was < c->high_water && c->queued >= c->high_water) {
		b->own_full++;
		budget_log(b, 0, "peer %s: %zu bytes queued for it, its bound is "
		    "%zu (peer_queue): sending to it waits until it reads",
		    c->addr, c->queued, c->high_water);
	}
	was = b->queued;
	b->queued += len;
	if (b->limit > 0 && was < b->limit && b->queued >= b->limit) {
		b->all_full++;
		budget_log(b, 1, "peers: %zu bytes queued to all peers, the bound "
		    "is %zu (peers_queue): sending to peers waits, and a peer that "
		    "takes none of its bytes for %.1f s is dropped", b->queued,
		    b->limit, (double)c->stall_timeout_ms / 4000);
	}
}

/* Whether a congested conn may produce again (on_drain). */
static int
drain_due(const struct conn *c)
{
	return c->queued == 0 ||
	    (c->queued <= c->low_water && !budget_full(c->budget));
}

static void
written(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct conn *c = w->c;

	c->queued -= w->len;
	if (c->budget != NULL)
		c->budget->queued -= w->len;
	if (status == 0)
		c->bytes_out += w->len;
	free(w);
	if (status < 0) {
		if (status != UV_ECANCELED)
			fail(c, LCF_EIO, "write: %s", uv_strerror(status));
		return;
	}
	if (c->state == ST_READY && c->drain_armed && drain_due(c)) {
		c->drain_armed = 0;
		if (c->cbs.on_drain != NULL)
			c->cbs.on_drain(c->arg, c);
	}
}

static void timer_cb(uv_timer_t *t);

/* How long unsent bytes may stay: a quarter of stall_timeout_ms while the
 * shared budget is full (a peer holding its share while others wait). */
static unsigned
stall_limit_ms(const struct conn *c)
{
	unsigned t = c->stall_timeout_ms;

	return budget_full(c->budget) && t >= 4 ? t / 4 : t;
}

/* Checks at this interval whether the backlog moved. */
static unsigned
stall_check_ms(const struct conn *c)
{
	unsigned t = stall_limit_ms(c);

	return t >= 4 ? t / 4 : 1;
}

/*
 * Fails c when libuv's unsent bytes have not shrunk for stall_timeout_ms;
 * keeps watching while there are any. A peer that stops reading fills its
 * receive window and then ours, and every byte queued after that stays: a
 * hostile peer could pin CONN_QUEUE_MAX bytes per connection for good.
 */
static void
check_stall(struct conn *c)
{
	size_t backlog = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
	uint64_t sent, now;
	int pressed;

	c->watching = 0;
	if (c->state != ST_READY || backlog == 0)
		return;
	sent = c->handed - backlog;
	now = mono_ms();
	if (sent != c->stall_mark) {
		c->stall_mark = sent;
		c->stall_since = now;
	} else if (now - c->stall_since >= stall_limit_ms(c)) {
		pressed = stall_limit_ms(c) < c->stall_timeout_ms;
		if (c->budget != NULL) {
			c->budget->stalls++;
			c->budget->stalls_pressed += (uint64_t)pressed;
		}
		fail(c, LCF_ETIMEDOUT, "the peer took none of %zu bytes for "
		    "%u %s%s: it stopped reading, or the path is down", backlog,
		    stall_limit_ms(c) >= 1000 ? stall_limit_ms(c) / 1000 :
		    stall_limit_ms(c), stall_limit_ms(c) >= 1000 ? "s" : "ms",
		    pressed ? " while the bytes queued to all peers were at their "
		    "bound (peers_queue)" : "");
		return;
	}
	c->watching = 1;
	uv_timer_start(&c->timer, timer_cb, stall_check_ms(c), 0);
}

/* A backlog has begun: start watching it, unless the timer is already
 * watching or due to resume reading (it checks the backlog afterwards). */
static void
watch_writes(struct conn *c)
{
	size_t backlog = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);

	if (c->state != ST_READY || c->watching || c->resume_due || backlog == 0)
		return;
	c->stall_mark = c->handed - backlog;
	c->stall_since = mono_ms();
	c->watching = 1;
	uv_timer_start(&c->timer, timer_cb, stall_check_ms(c), 0);
}

/* Hands w to libuv, or frees it and fails the conn. Returns 0 or LCF_ECLOSED. */
static int
queue_write(struct conn *c, struct wreq *w)
{
	uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)w->len);
	int rc, ret = LCF_ECLOSED;

	w->c = c;
	rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, written);
	if (rc != 0) {
		free(w);
		fail(c, LCF_EIO, "write: %s", uv_strerror(rc));
		goto out;
	}
	account_queued(c, w->len);
	c->handed += w->len;
	c->last_tx = mono_ms();
	watch_writes(c);
	ret = 0;
out:
	return ret;
}

/* Writes our next handshake message with payload. Returns 0 or fails c. */
static int
send_handshake(struct conn *c, const uint8_t *payload, size_t len)
{
	struct wreq *w = xmalloc(sizeof(*w) + FRAME_HDR + len + HS_OVERHEAD);
	size_t out_len;
	int rc, ret = -1;

	rc = noise_hs_write_message(&c->hs, payload, len, w->data + FRAME_HDR,
	    len + HS_OVERHEAD, &out_len);
	if (rc != 0) {
		free(w);
		fail(c, LCF_ECRYPTO, "handshake: cannot write message: %s",
		    lcf_strerror(rc));
		goto out;
	}
	put_be16(w->data, out_len);
	w->len = FRAME_HDR + out_len;
	ret = queue_write(c, w);
out:
	return ret;
}

/*
 * Frames one message in place: the plaintext is placed at the end of the
 * buffer and each fragment moved forward to its frame, then encrypted there.
 * Frame i starts at i * (CONN_MAX_FRAGMENT + FRAME_OVERHEAD) and its source at
 * n * FRAME_OVERHEAD + i * CONN_MAX_FRAGMENT, so writing frame i never
 * overwrites a byte of a later fragment.
 */
static int
send_message(struct conn *c, const uint8_t *bytes, const ProtobufCMessage *m,
    size_t len)
{
	struct wreq *w = NULL;
	size_t n, i, total, frag, off;
	uint8_t *src, *frame;
	int ret = LCF_EINVAL;

	if (c == NULL)
		goto out;
	ret = LCF_ECLOSED;
	if (c->state == ST_FLUSHING || c->state == ST_CLOSED)
		goto out;
	ret = LCF_EINVAL;
	if (c->state != ST_READY)
		goto out;
	ret = LCF_ETOOBIG;
	if (len > CONN_MAX_MSG)
		goto out;
	ret = LCF_EBUSY;
	if (c->queued >= CONN_QUEUE_MAX)
		goto out;

	n = len == 0 ? 1 : (len + CONN_MAX_FRAGMENT - 1) / CONN_MAX_FRAGMENT;
	total = n * FRAME_OVERHEAD + len;
	w = xmalloc(sizeof(*w) + total);
	w->len = total;
	src = w->data + total - len;
	if (m != NULL)
		protobuf_c_message_pack(m, src);
	else if (len > 0)
		memcpy(src, bytes, len);
	for (i = 0; i < n; i++) {
		off = i * CONN_MAX_FRAGMENT;
		frag = len - off < CONN_MAX_FRAGMENT ? len - off : CONN_MAX_FRAGMENT;
		frame = w->data + i * (CONN_MAX_FRAGMENT + FRAME_OVERHEAD);
		put_be16(frame, 1 + frag + NOISE_TAG);
		frame[FRAME_HDR] = i + 1 < n ? FLAG_MORE : 0;
		memmove(frame + FRAME_HDR + 1, src + off, frag);
		ret = noise_encrypt(&c->tx, frame + FRAME_HDR, 1 + frag,
		    frame + FRAME_HDR);
		if (ret != 0) {
			free(w);
			fail(c, LCF_ECRYPTO, "cannot encrypt: %s",
			    lcf_strerror(ret));
			goto out;
		}
	}
	ret = queue_write(c, w);
	if (ret == 0)
		(void)conn_is_congested(c);
out:
	return ret;
}

int
conn_send_bytes(struct conn *c, const uint8_t *bytes, size_t len)
{
	int ret = LCF_EINVAL;

	if (bytes == NULL && len > 0)
		goto out;
	ret = send_message(c, bytes, NULL, len);
out:
	return ret;
}

int
conn_send(struct conn *c, const ProtobufCMessage *msg)
{
	int ret = LCF_EINVAL;

	if (msg == NULL)
		goto out;
	ret = send_message(c, NULL, msg, protobuf_c_message_get_packed_size(msg));
out:
	return ret;
}

/* ---- liveness (PROTOCOL 4.12) ---- */

/*
 * Every tick: a peer from which no byte was read for ka_dead_ms is gone (a
 * lost path, a frozen process: TCP would wait for minutes); a link on which
 * we queued nothing for half the period gets a Keepalive, so a link busy
 * with our own messages carries none.
 */
static void
ka_cb(uv_timer_t *t)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__Keepalive k = LCF__KEEPALIVE__INIT;
	struct conn *c = t->data;
	uint64_t now = mono_ms();

	if (c->state != ST_READY)
		return;
	/*
	 * Our own loop stood still (a stopped process, a long stall) or we
	 * stopped reading: what the peer sent meanwhile waits unread, so its
	 * silence proves nothing. It gets a whole timeout from now.
	 */
	if (c->paused || now - c->ka_tick > c->ka_dead_ms / 2)
		c->last_rx = now;
	c->ka_tick = now;
	if (now - c->last_rx >= c->ka_dead_ms) {
		fail(c, LCF_ETIMEDOUT, "nothing received from the peer for %llu "
		    "ms though it sends keepalives: the peer or the path is down",
		    (unsigned long long)(now - c->last_rx));
		return;
	}
	if (now - c->last_tx >= c->ka_send_ms / 2) {
		m.msg_case = LCF__PEER_MSG__MSG_KEEPALIVE;
		m.keepalive = &k;
		/* A full queue is no failure: the stall check watches it. */
		(void)conn_send(c, &m.base);
	}
}

/* Starts the liveness timer when both Hellos announce keepalive. */
static void
start_liveness(struct conn *c, const Lcf__Hello *hello)
{
	uint64_t dead, tick;

	if (c->keepalive_ms == 0 || !hello->has_keepalive || hello->keepalive == 0)
		return;
	dead = (uint64_t)hello->keepalive * CONN_DEAD_PERIODS;
	if (dead < c->dead_ms)
		dead = c->dead_ms;
	c->ka_send_ms = c->keepalive_ms;
	c->ka_dead_ms = dead > UINT32_MAX ? UINT32_MAX : (unsigned)dead;
	tick = c->keepalive_ms / 2;
	if (tick > c->ka_dead_ms / 4)
		tick = c->ka_dead_ms / 4;
	if (tick < KA_TICK_MIN_MS)
		tick = KA_TICK_MIN_MS;
	c->last_rx = c->last_tx = c->ka_tick = mono_ms();
	uv_timer_start(&c->ka_timer, ka_cb, tick, tick);
}

unsigned
conn_keepalive_ms(const struct conn *c)
{
	return c->ka_send_ms;
}

unsigned
conn_dead_ms(const struct conn *c)
{
	return c->ka_dead_ms;
}

/* ---- reading ---- */

unsigned
conn_hello_protocol(const Lcf__Hello *h)
{
	return h->has_protocol && h->protocol > CONN_VERSION ? h->protocol :
	    CONN_VERSION;
}

/* Checks the peer's Hello; on failure fails c and returns non-zero. */
static int
accept_hello(struct conn *c, const uint8_t *p, size_t len, Lcf__Hello **out)
{
	Lcf__Hello *h;
	const uint8_t *rs;
	uint8_t x_pub[NOISE_KEY];
	char hex[LCF_ID_HEX], want[LCF_ID_HEX];
	int ret = -1;

	*out = NULL;
	h = lcf__hello__unpack(NULL, len, p);
	if (h == NULL) {
		fail(c, LCF_EPROTO, "handshake: malformed Hello");
		goto out;
	}
	if (!h->has_version || h->version != CONN_VERSION) {
		fail(c, LCF_EVERSION,
		    "handshake: peer speaks protocol version %u, we speak %d",
		    h->has_version ? h->version : 0, CONN_VERSION);
		goto out;
	}
	if (!h->has_identity || h->identity.len != IDENTITY_PK_LEN) {
		fail(c, LCF_EPROTO, "handshake: Hello without a 32-byte identity");
		goto out;
	}
	hex_encode(h->identity.data, IDENTITY_PK_LEN, hex);
	rs = noise_hs_remote_static(&c->hs);
	if (rs == NULL || noise_pub_from_ed25519(h->identity.data, x_pub) != 0 ||
	    sodium_memcmp(x_pub, rs, NOISE_KEY) != 0) {
		fail(c, LCF_ECRYPTO, "handshake: Hello identity %s does not match "
		    "the peer's Noise static key", hex);
		goto out;
	}
	if (c->has_expect &&
	    memcmp(h->identity.data, c->expect_pk, IDENTITY_PK_LEN) != 0) {
		hex_encode(c->expect_pk, IDENTITY_PK_LEN, want);
		fail(c, LCF_EPERM, "handshake: peer is %s, not the expected %s",
		    hex, want);
		goto out;
	}
	memcpy(c->remote_pk, h->identity.data, IDENTITY_PK_LEN);
	c->has_remote = 1;
	*out = h;
	h = NULL;
	ret = 0;
out:
	if (h != NULL)
		lcf__hello__free_unpacked(h, NULL);
	return ret;
}

static void
handshake_frame(struct conn *c, const uint8_t *f, size_t flen)
{
	uint8_t payload[CONN_HELLO_MAX];
	Lcf__Hello *hello = NULL;
	size_t plen;
	int rc;

	if (noise_hs_needs_write(&c->hs)) {
		fail(c, LCF_EPROTO, "handshake: message out of order");
		goto out;
	}
	rc = noise_hs_read_message(&c->hs, f, flen, payload, sizeof(payload),
	    &plen);
	c->hs_reads++;
	if (rc != 0) {
		int msg = c->initiator ? 2 : 2 * c->hs_reads - 1;

		/* Message 1 is an ephemeral key alone: too much of it is no
		 * Hello. */
		fail(c, rc == LCF_ECRYPTO ? LCF_ECRYPTO : LCF_EPROTO,
		    "handshake: message %d of %zu bytes refused: %s", msg, flen,
		    rc != LCF_ETOOBIG ? lcf_strerror(rc) : msg == 1 ?
		    "message 1 is the initiator's 32-byte ephemeral key alone" :
		    "its Hello is over 4,096 bytes");
		goto out;
	}
	if (!c->initiator && c->hs_reads == 1) {
		/* Message 1 is the initiator's ephemeral key alone. */
		if (plen != 0) {
			fail(c, LCF_EPROTO, "handshake: message 1 carries "
			    "%zu bytes of payload", plen);
			goto out;
		}
		send_handshake(c, c->hello, c->hello_len);
		goto out;
	}
	if (accept_hello(c, payload, plen, &hello) != 0)
		goto out;
	/* Message 3 reveals the initiator: send it only now, all checked. */
	if (c->initiator && send_handshake(c, c->hello, c->hello_len) != 0)
		goto out;
	if (noise_hs_split(&c->hs, &c->tx, &c->rx) != 0) {
		fail(c, LCF_ECRYPTO, "handshake: cannot derive the transport keys");
		goto out;
	}
	c->state = ST_READY;
	uv_timer_stop(&c->timer);
	listener_detach(c);
	start_liveness(c, hello);
	c->cbs.on_ready(c->arg, c, hello);
out:
	if (hello != NULL)
		lcf__hello__free_unpacked(hello, NULL);
}

static void
deliver(struct conn *c, const uint8_t *msg, size_t len)
{
	c->cbs.on_message(c->arg, c, msg, len);
}

static void
transport_frame(struct conn *c, uint8_t *f, size_t flen)
{
	size_t fraglen, need, cap;
	uint8_t flags;
	int rc;

	if (flen < NOISE_TAG + 1) {
		fail(c, LCF_EPROTO, "transport frame of %zu bytes is too short",
		    flen);
		goto out;
	}
	rc = noise_decrypt(&c->rx, f, flen, f);
	if (rc != 0) {
		fail(c, LCF_ECRYPTO, "transport frame refused: %s",
		    lcf_strerror(rc));
		goto out;
	}
	flags = f[0];
	fraglen = flen - NOISE_TAG - 1;
	if ((flags & ~FLAG_MORE) != 0) {
		fail(c, LCF_EPROTO, "transport frame with unknown flags 0x%02x",
		    flags);
		goto out;
	}
	if (c->msg_len + fraglen > CONN_MAX_MSG) {
		fail(c, LCF_ETOOBIG, "peer message exceeds %u bytes",
		    CONN_MAX_MSG);
		goto out;
	}
	/* A whole message in one frame is delivered from the read buffer. */
	if (!(flags & FLAG_MORE) && c->msg_len == 0) {
		deliver(c, f + 1, fraglen);
		goto out;
	}
	need = c->msg_len + fraglen;
	if (need > c->msg_cap) {
		cap = c->msg_cap ? c->msg_cap : 2 * CONN_MAX_FRAGMENT;
		while (cap < need)
			cap *= 2;
		if (cap > CONN_MAX_MSG)
			cap = CONN_MAX_MSG;
		c->msg = xreallocarray(c->msg, cap, 1);
		c->msg_cap = cap;
	}
	memcpy(c->msg + c->msg_len, f + 1, fraglen);
	c->msg_len = need;
	if (flags & FLAG_MORE)
		goto out;
	deliver(c, c->msg, c->msg_len);
	c->msg_len = 0;
	/* Do not keep up to 8 MiB per idle connection. */
	if (c->msg_cap > MSG_KEEP) {
		free(c->msg);
		c->msg = NULL;
		c->msg_cap = 0;
	}
out:
	return;
}

/* Consumes every whole frame in the read buffer, unless paused or closing. */
static void
process_input(struct conn *c)
{
	size_t pos = 0, flen;

	while (!c->paused &&
	    (c->state == ST_HANDSHAKE || c->state == ST_READY) &&
	    c->rlen - pos >= FRAME_HDR) {
		flen = get_be16(c->rbuf + pos);
		if (c->rlen - pos - FRAME_HDR < flen)
			break;
		pos += FRAME_HDR + flen;
		if (c->state == ST_HANDSHAKE)
			handshake_frame(c, c->rbuf + pos - flen, flen);
		else
			transport_frame(c, c->rbuf + pos - flen, flen);
	}
	if (pos > 0 && c->state != ST_CLOSED) {
		memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
		c->rlen -= pos;
	}
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct conn *c = h->data;

	(void)suggested;
	/* Room for a whole frame is always left: process_input consumes them. */
	*b = uv_buf_init((char *)c->rbuf + c->rlen,
	    (unsigned)(RBUF_SIZE - c->rlen));
}

static void
read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct conn *c = s->data;

	(void)b;
	if (nread == UV_EOF) {
		fail(c, LCF_ECLOSED, "peer closed the connection%s",
		    c->state == ST_READY ? "" : " during the handshake");
	} else if (nread < 0) {
		fail(c, LCF_EIO, "read: %s", uv_strerror((int)nread));
	} else if (nread > 0) {
		c->bytes_in += (uint64_t)nread;
		c->last_rx = mono_ms();
		c->rlen += (size_t)nread;
		process_input(c);
	}
}

static void
start_reading(struct conn *c)
{
	int rc;

	if (c->reading)
		return;
	rc = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
	if (rc != 0)
		fail(c, LCF_EIO, "cannot read: %s", uv_strerror(rc));
	else
		c->reading = 1;
}

static void
stop_reading(struct conn *c)
{
	if (c->reading)
		uv_read_stop((uv_stream_t *)&c->tcp);
	c->reading = 0;
}

void
conn_pause_reading(struct conn *c)
{
	if (c == NULL || c->state != ST_READY || c->paused)
		return;
	c->paused = 1;
	stop_reading(c);
}

static void
timer_cb(uv_timer_t *t)
{
	struct conn *c = t->data;

	switch (c->state) {
	case ST_RESOLVING:
	case ST_CONNECTING:
		fail(c, LCF_ECONNECT, "connect timed out after %u ms",
		    c->connect_timeout_ms);
		break;
	case ST_HANDSHAKE:
		if (c->admit_due)
			admit_now(c);
		else
			fail(c, LCF_ECONNECT, "handshake not finished after %u ms",
			    c->handshake_timeout_ms);
		break;
	case ST_READY:
		/*
		 * Scheduled by conn_resume_reading: deliver what is buffered,
		 * then read again (the buffer has room for a frame only once
		 * its whole frames are consumed).
		 */
		if (c->resume_due) {
			c->resume_due = 0;
			process_input(c);
			if (c->state == ST_READY && !c->paused)
				start_reading(c);
		}
		if (c->state == ST_READY)
			check_stall(c);
		break;
	case ST_FLUSHING:
		teardown(c);
		break;
	case ST_CLOSED:
		break;
	}
}

void
conn_resume_reading(struct conn *c)
{
	if (c == NULL || c->state != ST_READY || !c->paused)
		return;
	c->paused = 0;
	/* Frames already buffered are delivered from the loop, not from here. */
	c->resume_due = 1;
	c->watching = 0;
	uv_timer_start(&c->timer, timer_cb, 0, 0);
}

/* ---- connecting ---- */

/*
 * Nagle off; TCP keepalive probes after keepalive_ms idle (a peer that sends
 * no keepalives of its own is still probed); TCP_USER_TIMEOUT so that bytes
 * the path does not take end the link within the larger of dead_ms and
 * stall_timeout_ms rather than after TCP's back-off of about 15 minutes.
 * Not below stall_timeout_ms: a peer that pauses its reading (flow control)
 * leaves our window closed, which the stall check judges. Best effort: a
 * socket that refuses an option keeps the kernel's default.
 */
static void
tune_socket(struct conn *c)
{
	unsigned idle = c->keepalive_ms > 0 ? (c->keepalive_ms + 999) / 1000 :
	    KEEPALIVE_S;
	unsigned user = c->dead_ms > c->stall_timeout_ms ? c->dead_ms :
	    c->stall_timeout_ms;
	int fd, v;
	uv_os_fd_t ofd;

	/* Small sync exchanges would otherwise wait for Nagle's timer. */
	uv_tcp_nodelay(&c->tcp, 1);
	uv_tcp_keepalive(&c->tcp, 1, idle);
	if (c->keepalive_ms == 0 || uv_fileno((uv_handle_t *)&c->tcp, &ofd) != 0)
		return;
	fd = ofd;
	v = (int)idle;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof(v));
	v = (int)user;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, sizeof(v));
}

static void
connected(uv_connect_t *req, int status)
{
	struct conn *c = req->data;

	if (c->state != ST_CONNECTING)
		return;
	if (status < 0) {
		fail(c, LCF_ECONNECT, "cannot connect to %s: %s", c->addr,
		    uv_strerror(status));
		return;
	}
	set_peer_addr(c);
	tune_socket(c);
	c->state = ST_HANDSHAKE;
	uv_timer_start(&c->timer, timer_cb, c->handshake_timeout_ms, 0);
	start_reading(c);
	if (c->state == ST_HANDSHAKE)
		send_handshake(c, NULL, 0);
}

static void
resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct conn *c = req->data;
	int rc;

	c->gai_pending = 0;
	if (c->state != ST_RESOLVING)
		goto out;
	if (status < 0 || res == NULL) {
		fail(c, LCF_ECONNECT, "cannot resolve %s: %s", c->addr,
		    status < 0 ? uv_strerror(status) : "no address");
		goto out;
	}
	c->state = ST_CONNECTING;
	rc = uv_tcp_connect(&c->connect_req, &c->tcp, res->ai_addr, connected);
	if (rc != 0)
		fail(c, LCF_ECONNECT, "cannot connect to %s: %s", c->addr,
		    uv_strerror(rc));
out:
	uv_freeaddrinfo(res);
	release(c);
}

int
conn_connect(uv_loop_t *loop, const char *host, uint16_t port,
    const uint8_t *expect_pk, const struct conn_config *cfg,
    struct conn **out)
{
	struct prepared p;
	struct sockaddr_storage ss;
	struct addrinfo hints;
	struct conn *c = NULL;
	char service[8];
	size_t hlen;
	int rc, ret = LCF_EINVAL;

	memset(&p, 0, sizeof(p));
	if (loop == NULL || host == NULL || out == NULL || port == 0)
		goto out;
	hlen = strnlen(host, HOST_MAX + 1);
	if (hlen == 0 || hlen > HOST_MAX)
		goto out;
	if ((ret = prepare(cfg, &p)) != 0)
		goto out;
	ret = LCF_ECONNECT;
	if ((c = conn_new(loop, &p, 1)) == NULL)
		goto out;
	addr_format(c->addr, sizeof(c->addr), host, port);
	if (expect_pk != NULL) {
		memcpy(c->expect_pk, expect_pk, IDENTITY_PK_LEN);
		c->has_expect = 1;
	}
	uv_timer_start(&c->timer, timer_cb, c->connect_timeout_ms, 0);
	if (parse_ip(host, port, &ss) == 0) {
		c->state = ST_CONNECTING;
		rc = uv_tcp_connect(&c->connect_req, &c->tcp,
		    (const struct sockaddr *)&ss, connected);
	} else {
		c->state = ST_RESOLVING;
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		snprintf(service, sizeof(service), "%u", port);
		rc = uv_getaddrinfo(loop, &c->gai, resolved, host, service,
		    &hints);
		if (rc == 0) {
			c->gai_pending = 1;
			c->refs++;
		}
	}
	if (rc != 0) {
		log_debug("peer %s: cannot connect: %s", c->addr,
		    uv_strerror(rc));
		/* Not started: freed from the loop without on_close. */
		teardown(c);
		goto out;
	}
	c->started = 1;
	*out = c;
	ret = 0;
out:
	sodium_memzero(&p, sizeof(p));
	return ret;
}

/* ---- listening ---- */

/* Handshakes under way from c's IP address, c excluded. */
static unsigned
pending_from(const struct conn_listener *l, const struct conn *c)
{
	const struct conn *o;
	unsigned n = 0;

	for (o = l->pending; o != NULL; o = o->lnext)
		if (o != c && strcmp(o->ip, c->ip) == 0)
			n++;
	return n;
}

/*
 * Refuses c, just accepted, when its address has pending_per_addr handshakes
 * under way already (unless admit calls it shared): on_close follows from
 * the loop. Returns 1 when refused.
 */
static int
refuse_crowd(struct conn_listener *l, struct conn *c)
{
	unsigned n;

	/* A bound of max_pending or more is none: the oldest gives way. */
	if (c->ip[0] == '\0' || l->p.pending_per_addr >= l->max_pending ||
	    (n = pending_from(l, c)) < l->p.pending_per_addr)
		return 0;
	if (c->cbs.admit != NULL && c->cbs.admit(c->arg, c->ip, NULL, 0) ==
	    CONN_ADMIT_SHARED)
		return 0;
	fail(c, LCF_EBUSY, "refused before the handshake: %u handshakes from %s "
	    "under way already (handshakes_per_address)", n, c->ip);
	return 1;
}

/*
 * Asks admit about c, from the loop's timer phase: an offence that closed
 * another conn of the same address in this loop iteration has been told by
 * then (on_close runs in the closing phase), so an offender that redials at
 * once is not let through. Starts the handshake, or refuses c.
 */
static void
admit_now(struct conn *c)
{
	char why[REASON_MAX];

	c->admit_due = 0;
	why[0] = '\0';
	if (c->cbs.admit != NULL && c->ip[0] != '\0' &&
	    c->cbs.admit(c->arg, c->ip, why, sizeof(why)) == CONN_REFUSE) {
		fail(c, LCF_EPERM, "%s", why[0] != '\0' ? why :
		    "refused before the handshake");
		return;
	}
	uv_timer_start(&c->timer, timer_cb, c->handshake_timeout_ms, 0);
	start_reading(c);
}

/* Makes room for one more handshake: the oldest gives way. */
static void
evict_oldest(struct conn_listener *l)
{
	/* npending counts the list, and max_pending is at least 1. */
	struct conn *oldest = l->pending;

	/*
	 * The oldest handshake gives way: an honest one takes a few
	 * milliseconds, so idle connections cannot keep every slot and lock
	 * out the cities that dial in (the newest would be the one dropped
	 * otherwise).
	 */
	while (oldest->lnext != NULL)
		oldest = oldest->lnext;
	fail(oldest, LCF_EFULL, "handshake not finished: %u handshakes pending, "
	    "the oldest gives way", l->npending);
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct conn_listener *l = server->data;
	struct conn *c;

	if (status < 0) {
		log_warnx("peer listener: accept: %s", uv_strerror(status));
		return;
	}
	if ((c = conn_new(l->loop, &l->p, 0)) == NULL) {
		log_warnx("peer listener: cannot set up a connection");
		return;
	}
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		teardown(c);
		return;
	}
	set_peer_addr(c);
	tune_socket(c);
	c->state = ST_HANDSHAKE;
	c->started = 1;
	/* One address may not push out the handshakes of the others. */
	if (refuse_crowd(l, c))
		return;
	if (l->npending >= l->max_pending)
		evict_oldest(l);
	listener_attach(l, c);
	/* Nothing is read before admit_now. */
	c->admit_due = 1;
	uv_timer_start(&c->timer, timer_cb, 0, 0);
}

static void
listener_closed(uv_handle_t *h)
{
	struct conn_listener *l = h->data;

	sodium_memzero(l, sizeof(*l));
	free(l);
}

int
conn_listen(uv_loop_t *loop, const char *host, uint16_t port,
    const struct conn_config *cfg, unsigned max_pending,
    struct conn_listener **out, char *err, size_t errlen)
{
	struct conn_listener *l = NULL;
	struct sockaddr_storage ss;
	char where[ADDR_MAX];
	int rc, ret = LCF_EINVAL;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (loop == NULL || host == NULL || out == NULL ||
	    strnlen(host, HOST_MAX + 1) > HOST_MAX)
		goto out;
	addr_format(where, sizeof(where), host, port);
	if (parse_ip(host, port, &ss) != 0) {
		if (err != NULL)
			snprintf(err, errlen, "cannot listen on %s: not an IP "
			    "address", where);
		goto out;
	}
	l = xcalloc(1, sizeof(*l));
	if ((ret = prepare(cfg, &l->p)) != 0) {
		if (err != NULL)
			snprintf(err, errlen, "cannot listen on %s: bad "
			    "configuration (identity, callbacks or Hello size)",
			    where);
		free(l);
		goto out;
	}
	l->loop = loop;
	l->max_pending = max_pending ? max_pending : PENDING_DEFAULT;
	ret = LCF_EIO;
	if ((rc = uv_tcp_init(loop, &l->tcp)) != 0) {
		if (err != NULL)
			snprintf(err, errlen, "cannot listen on %s: %s", where,
			    uv_strerror(rc));
		sodium_memzero(l, sizeof(*l));
		free(l);
		goto out;
	}
	l->tcp.data = l;
	rc = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&ss, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&l->tcp, LISTEN_BACKLOG,
		    on_connection);
	if (rc != 0) {
		if (err != NULL)
			snprintf(err, errlen, "cannot listen on %s: %s", where,
			    uv_strerror(rc));
		uv_close((uv_handle_t *)&l->tcp, listener_closed);
		goto out;
	}
	*out = l;
	ret = 0;
out:
	return ret;
}

int
conn_listener_update(struct conn_listener *l, const struct conn_config *cfg)
{
	struct prepared p;
	int ret;

	if (l == NULL || l->closing)
		return LCF_EINVAL;
	if ((ret = prepare(cfg, &p)) != 0)
		return ret;
	/* Connections accepted later take the new Hello; those in their
	 * handshake keep the copy they made. */
	memcpy(l->p.hello, p.hello, p.hello_len);
	l->p.hello_len = p.hello_len;
	sodium_memzero(&p, sizeof(p));
	return 0;
}

uint16_t
conn_listener_port(const struct conn_listener *l)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	uint16_t port = 0;

	if (l == NULL || uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss,
	    &len) != 0)
		goto out;
	if (ss.ss_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port);
out:
	return port;
}

void
conn_listener_close(struct conn_listener *l)
{
	if (l == NULL || l->closing)
		return;
	l->closing = 1;
	/* Conns in their handshake go on; they only stop counting here. */
	while (l->pending != NULL)
		listener_detach(l->pending);
	sodium_memzero(l->p.x_priv, sizeof(l->p.x_priv));
	uv_close((uv_handle_t *)&l->tcp, listener_closed);
}

/* ---- closing and accessors ---- */

static void
shut_down(uv_shutdown_t *req, int status)
{
	(void)status;
	teardown(req->data);
}

void
conn_close(struct conn *c, const char *reason)
{
	if (c == NULL || c->state == ST_FLUSHING || c->state == ST_CLOSED)
		return;
	c->code = 0;
	snprintf(c->reason, sizeof(c->reason), "%s",
	    reason != NULL ? reason : "closed locally");
	log_debug("peer %s: closing: %s", c->addr, c->reason);
	if (c->state != ST_READY || c->queued == 0) {
		teardown(c);
		return;
	}
	/* uv_shutdown completes once every queued write has been written. */
	c->state = ST_FLUSHING;
	stop_reading(c);
	uv_timer_start(&c->timer, timer_cb, c->linger_ms, 0);
	if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp,
	    shut_down) != 0)
		teardown(c);
}

void
conn_set_arg(struct conn *c, void *arg)
{
	if (c != NULL)
		c->arg = arg;
}

size_t
conn_write_queue_bytes(const struct conn *c)
{
	return c != NULL ? c->queued : 0;
}

int
conn_is_congested(struct conn *c)
{
	int ret = c != NULL && (c->queued >= c->high_water ||
	    (c->queued > 0 && budget_full(c->budget)));

	/* The producer waits for on_drain from now on. */
	if (ret)
		c->drain_armed = 1;
	return ret;
}

const char *
conn_remote_ip(const struct conn *c)
{
	return c != NULL ? c->ip : "";
}

uint64_t
conn_bytes_in(const struct conn *c)
{
	return c != NULL ? c->bytes_in : 0;
}

uint64_t
conn_bytes_out(const struct conn *c)
{
	return c != NULL ? c->bytes_out : 0;
}

const char *
conn_remote_addr(const struct conn *c)
{
	return c != NULL ? c->addr : "";
}

int
conn_is_initiator(const struct conn *c)
{
	return c != NULL && c->initiator;
}

int
conn_is_ready(const struct conn *c)
{
	return c != NULL && c->state == ST_READY;
}

const uint8_t *
conn_remote_identity(const struct conn *c)
{
	return c != NULL && c->has_remote ? c->remote_pk : NULL;
}
