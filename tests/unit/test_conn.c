// SPDX-License-Identifier: Apache-2.0
// Unit tests for node/conn.c: real TCP on 127.0.0.1, one libuv loop, raw Noise peers.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <sodium.h>
#include <uv.h>

#include "wire/conn.h"
#include "base/error.h"
#include "model/identity.h"
#include "wire/noise.h"
#include "peer.pb-c.h"
#include "base/util.h"

#define MAX_MSGS	64
#define DEADLINE_MS	60000	/* generous: valgrind is slow */
#define FLAG_MORE	0x01

/* What one end saw, possibly over several conns (a listener's). */
struct side {
	struct conn	*c;
	int		 ready, closed, drains, nmsgs;
	int		 code;
	char		 reason[256];
	uint8_t		 remote[IDENTITY_PK_LEN];
	char		 city[64];
	char		 listen[64];
	int		 initiator;
	char		 addr[300];
	size_t		 lens[MAX_MSGS];
	uint8_t		 sums[MAX_MSGS][32];
	uint8_t		 small[256];	/* the last message, if it fits */
	size_t		 small_len;
	uint64_t	 in, out;	/* counters seen in on_close */
	int		 pause_at;	/* pause reading after this many messages */
	int		 close_in_ready;	/* call conn_close from on_ready */
};

struct raw {
	int			fd;
	struct noise_handshake	hs;
	struct noise_cipher	tx, rx;
};

static uv_loop_t loop;
static uv_timer_t tick;
static struct identity *id_a, *id_b, *id_c;
static struct side srv, cli;
static struct conn_listener *listener;

/* ---- checks that print both values ---- */

static void
check_mem(const char *what, const uint8_t *got, const uint8_t *want, size_t len,
    const char *file, int line)
{
	char g[2 * 64 + 1], w[2 * 64 + 1];
	size_t n = len > 64 ? 64 : len;

	if (memcmp(got, want, len) == 0)
		return;
	print_error("%s differs\n  got  %s\n  want %s\n", what,
	    hex_encode(got, n, g), hex_encode(want, n, w));
	_fail(file, line);
}
#define CHECK_MEM(what, g, w, l) check_mem((what), (g), (w), (l), __FILE__, __LINE__)

static void
check_contains(const char *what, const char *s, const char *needle,
    const char *file, int line)
{
	if (strstr(s, needle) != NULL)
		return;
	print_error("%s: \"%s\" does not contain \"%s\"\n", what, s, needle);
	_fail(file, line);
}
#define CHECK_CONTAINS(what, s, n) check_contains((what), (s), (n), __FILE__, __LINE__)

/* ---- the loop ---- */

static void
tick_cb(uv_timer_t *t)
{
	(void)t;
}

#define PUMP_UNTIL(cond) do {						\
	uint64_t dl_ = mono_ms() + DEADLINE_MS;				\
	while (!(cond)) {						\
		if (mono_ms() > dl_)					\
			fail_msg("timed out waiting for %s", #cond);	\
		uv_run(&loop, UV_RUN_ONCE);				\
	}								\
} while (0)

/* Runs the loop for about ms milliseconds. */
static void
pump_for(unsigned ms)
{
	uint64_t end = mono_ms() + ms;

	while (mono_ms() < end)
		uv_run(&loop, UV_RUN_ONCE);
}

static int
setup(void **state)
{
	(void)state;
	memset(&srv, 0, sizeof(srv));
	memset(&cli, 0, sizeof(cli));
	listener = NULL;
	if (uv_loop_init(&loop) != 0)
		return -1;
	uv_timer_init(&loop, &tick);
	uv_timer_start(&tick, tick_cb, 5, 5);
	return 0;
}

/* Every conn must be closed by the test: the loop has to wind down alone. */
static int
teardown(void **state)
{
	uint64_t dl = mono_ms() + DEADLINE_MS;
	int rc;

	(void)state;
	conn_listener_close(listener);
	uv_close((uv_handle_t *)&tick, NULL);
	while (uv_loop_alive(&loop) && mono_ms() < dl)
		uv_run(&loop, UV_RUN_NOWAIT);
	rc = uv_loop_close(&loop);
	if (rc != 0) {
		print_error("handles left open at the end of the test: %s\n",
		    uv_strerror(rc));
		return -1;
	}
	return 0;
}

/* ---- callbacks ---- */

static void
on_ready(void *arg, struct conn *c, const Lcf__Hello *h)
{
	struct side *s = arg;

	s->ready++;
	s->c = c;
	s->initiator = conn_is_initiator(c);
	snprintf(s->addr, sizeof(s->addr), "%s", conn_remote_addr(c));
	if (h->identity.len == IDENTITY_PK_LEN)
		memcpy(s->remote, h->identity.data, IDENTITY_PK_LEN);
	snprintf(s->city, sizeof(s->city), "%s",
	    h->city_name != NULL ? h->city_name : "");
	snprintf(s->listen, sizeof(s->listen), "%s",
	    h->listen != NULL ? h->listen : "");
	if (s->close_in_ready)
		conn_close(c, "closed in on_ready");
}

static void
on_message(void *arg, struct conn *c, const uint8_t *msg, size_t len)
{
	struct side *s = arg;

	if (s->nmsgs < MAX_MSGS) {
		s->lens[s->nmsgs] = len;
		crypto_generichash(s->sums[s->nmsgs], 32, msg, len, NULL, 0);
	}
	s->nmsgs++;
	s->small_len = len <= sizeof(s->small) ? len : 0;
	if (s->small_len > 0)
		memcpy(s->small, msg, len);
	if (s->pause_at != 0 && s->nmsgs == s->pause_at)
		conn_pause_reading(c);
}

static void
on_drain(void *arg, struct conn *c)
{
	struct side *s = arg;

	(void)c;
	s->drains++;
}

static void
on_close(void *arg, struct conn *c, int code, const char *reason)
{
	struct side *s = arg;

	s->closed++;
	s->code = code;
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	s->in = conn_bytes_in(c);
	s->out = conn_bytes_out(c);
	/* Harmless here, per the contract. */
	conn_close(c, "again");
	if (s->c == c)
		s->c = NULL;
}

static struct conn_config
config(const struct identity *id, struct side *s, const char *city)
{
	struct conn_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.identity = id;
	cfg.listen = "127.0.0.1:7700";
	cfg.city_name = city;
	cfg.cbs.on_ready = on_ready;
	cfg.cbs.on_message = on_message;
	cfg.cbs.on_drain = on_drain;
	cfg.cbs.on_close = on_close;
	cfg.arg = s;
	return cfg;
}

/* Starts a listener on 127.0.0.1 for id_a reporting to srv; returns its port. */
static uint16_t
start_listener(unsigned handshake_ms, unsigned max_pending)
{
	struct conn_config cfg = config(id_a, &srv, "Alpha");
	char err[256];
	uint16_t port;

	cfg.handshake_timeout_ms = handshake_ms;
	assert_int_equal(conn_listen(&loop, "127.0.0.1", 0, &cfg, max_pending,
	    &listener, err, sizeof(err)), 0);
	port = conn_listener_port(listener);
	assert_int_not_equal(port, 0);
	return port;
}

static struct conn *
dial(uint16_t port, const uint8_t *expect, unsigned handshake_ms)
{
	struct conn_config cfg = config(id_b, &cli, "Beta");
	struct conn *c = NULL;

	cfg.handshake_timeout_ms = handshake_ms;
	assert_int_equal(conn_connect(&loop, "127.0.0.1", port, expect, &cfg,
	    &c), 0);
	assert_non_null(c);
	return c;
}

static void
fill(uint8_t *buf, size_t len, int dir, int idx)
{
	uint8_t seed[randombytes_SEEDBYTES] = { 0 };

	seed[0] = (uint8_t)dir;
	seed[1] = (uint8_t)idx;
	randombytes_buf_deterministic(buf, len, seed);
}

/* ---- raw sockets, driven while the loop keeps running ---- */

static void
raw_wait(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	uv_run(&loop, UV_RUN_NOWAIT);
	poll(&p, 1, 2);
}

static int
raw_connect(uint16_t port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* The kernel completes the connect from the listen backlog. */
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* A listening socket on 127.0.0.1 that the loop knows nothing about. */
static int
raw_listen(uint16_t *port)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	*port = ntohs(a.sin_port);
	return fd;
}

static int
raw_accept(int lfd)
{
	uint64_t dl = mono_ms() + DEADLINE_MS;
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) < 0) {
		if (mono_ms() > dl)
			fail_msg("raw accept timed out");
		raw_wait(lfd, POLLIN);
	}
	return fd;
}

/* Writes everything; -1 if the peer closed first. */
static int
raw_send(int fd, const uint8_t *buf, size_t len)
{
	uint64_t dl = mono_ms() + DEADLINE_MS;
	ssize_t n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (mono_ms() > dl)
			fail_msg("raw send timed out");
		raw_wait(fd, POLLOUT);
	}
	return 0;
}

/* Reads exactly len bytes; -1 on end of stream or reset. */
static int
raw_recv(int fd, uint8_t *buf, size_t len)
{
	uint64_t dl = mono_ms() + DEADLINE_MS;
	ssize_t n;

	while (len > 0) {
		n = recv(fd, buf, len, 0);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return -1;
		if (mono_ms() > dl)
			fail_msg("raw recv timed out");
		raw_wait(fd, POLLIN);
	}
	return 0;
}

/* Waits for the other end to close; returns the bytes read meanwhile. */
static size_t
raw_wait_closed(int fd)
{
	uint64_t dl = mono_ms() + DEADLINE_MS;
	uint8_t buf[4096];
	size_t total = 0;
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0) {
			total += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			break;
		if (mono_ms() > dl)
			fail_msg("the peer did not close the raw connection");
		raw_wait(fd, POLLIN);
	}
	return total;
}

static int
raw_send_frame(int fd, const uint8_t *msg, size_t len)
{
	uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };

	if (raw_send(fd, hdr, 2) != 0)
		return -1;
	return raw_send(fd, msg, len);
}

static int
raw_recv_frame(int fd, uint8_t *buf, size_t *len)
{
	uint8_t hdr[2];

	if (raw_recv(fd, hdr, 2) != 0)
		return -1;
	*len = ((size_t)hdr[0] << 8) | hdr[1];
	return raw_recv(fd, buf, *len);
}

/* Hello.keepalive of the raw peers' Hellos (0: none). */
static uint32_t raw_keepalive;

static size_t
pack_hello(const uint8_t *pk, uint32_t version, uint8_t *out)
{
	Lcf__Hello h = LCF__HELLO__INIT;

	if (raw_keepalive > 0) {
		h.has_keepalive = 1;
		h.keepalive = raw_keepalive;
	}

	h.has_identity = 1;
	h.identity.data = (uint8_t *)pk;
	h.identity.len = IDENTITY_PK_LEN;
	h.has_version = 1;
	h.version = version;
	h.city_name = "Raw";
	return lcf__hello__pack(&h, out);
}

static void
raw_hs_init(struct raw *r, int initiator, const struct identity *noise_id)
{
	uint8_t x[NOISE_KEY];

	assert_int_equal(noise_static_from_ed25519(noise_id->sk, x), 0);
	assert_int_equal(noise_hs_init(&r->hs, NOISE_XX, initiator,
	    (const uint8_t *)CONN_PROLOGUE, strlen(CONN_PROLOGUE), x, NULL), 0);
	sodium_memzero(x, sizeof(x));
}

/*
 * The initiator's side by hand: the Noise static key is noise_id's, the Hello
 * claims hello_pk and version. Checks the listener's Hello. Returns 0 once
 * message 3 is sent and the ciphers split.
 */
static int
raw_initiate(struct raw *r, uint16_t port, const struct identity *noise_id,
    const uint8_t *hello_pk, uint32_t version)
{
	uint8_t msg[NOISE_MAX_MSG], payload[NOISE_MAX_MSG], hello[256];
	size_t len, plen, hlen;
	Lcf__Hello *h;

	memset(r, 0, sizeof(*r));
	r->fd = raw_connect(port);
	raw_hs_init(r, 1, noise_id);
	assert_int_equal(noise_hs_write_message(&r->hs, NULL, 0, msg,
	    sizeof(msg), &len), 0);
	if (raw_send_frame(r->fd, msg, len) != 0)
		return -1;
	if (raw_recv_frame(r->fd, msg, &len) != 0)
		return -1;
	assert_int_equal(noise_hs_read_message(&r->hs, msg, len, payload,
	    sizeof(payload), &plen), 0);
	h = lcf__hello__unpack(NULL, plen, payload);
	assert_non_null(h);
	assert_int_equal(h->identity.len, IDENTITY_PK_LEN);
	CHECK_MEM("listener's Hello identity", h->identity.data, id_a->pk,
	    IDENTITY_PK_LEN);
	lcf__hello__free_unpacked(h, NULL);
	hlen = pack_hello(hello_pk, version, hello);
	assert_int_equal(noise_hs_write_message(&r->hs, hello, hlen, msg,
	    sizeof(msg), &len), 0);
	if (raw_send_frame(r->fd, msg, len) != 0)
		return -1;
	assert_int_equal(noise_hs_split(&r->hs, &r->tx, &r->rx), 0);
	return 0;
}

/* Sends one transport frame: flags + data, optionally with a bit flipped. */
static int
raw_send_transport(struct raw *r, uint8_t flags, const uint8_t *data,
    size_t len, int flip)
{
	static uint8_t buf[NOISE_MAX_MSG];

	assert_true(len + 1 + NOISE_TAG <= NOISE_MAX_MSG);
	buf[0] = flags;
	if (len > 0)
		memcpy(buf + 1, data, len);
	assert_int_equal(noise_encrypt(&r->tx, buf, len + 1, buf), 0);
	if (flip)
		buf[len / 2] ^= 0x04;
	return raw_send_frame(r->fd, buf, len + 1 + NOISE_TAG);
}

static void
raw_done(struct raw *r)
{
	close(r->fd);
	noise_hs_wipe(&r->hs);
	noise_cipher_wipe(&r->tx);
	noise_cipher_wipe(&r->rx);
}

/* ---- tests ---- */

static const size_t sizes[] = {
	0, 1, CONN_MAX_FRAGMENT, CONN_MAX_FRAGMENT + 1, 70000, 5u << 20,
	CONN_MAX_MSG,
};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static void
send_all(struct conn *c, int dir)
{
	uint8_t *buf = malloc(CONN_MAX_MSG);
	size_t i;

	assert_non_null(buf);
	for (i = 0; i < NSIZES; i++) {
		fill(buf, sizes[i], dir, (int)i);
		assert_int_equal(conn_send_bytes(c, buf, sizes[i]), 0);
	}
	free(buf);
}

static void
check_all(const struct side *s, int dir, const char *who)
{
	uint8_t *buf = malloc(CONN_MAX_MSG), sum[32];
	char what[64];
	size_t i;

	assert_non_null(buf);
	assert_int_equal(s->nmsgs, NSIZES);
	for (i = 0; i < NSIZES; i++) {
		assert_int_equal(s->lens[i], sizes[i]);
		fill(buf, sizes[i], dir, (int)i);
		crypto_generichash(sum, 32, buf, sizes[i], NULL, 0);
		snprintf(what, sizeof(what), "%s message %zu (%zu bytes)", who,
		    i, sizes[i]);
		CHECK_MEM(what, s->sums[i], sum, 32);
	}
	free(buf);
}

static void
test_handshake_and_messages(void **state)
{
	uint16_t port;
	struct conn *c;
	Lcf__PeerMsg pm = LCF__PEER_MSG__INIT;
	Lcf__SyncDone done = LCF__SYNC_DONE__INIT;
	Lcf__PeerMsg *got;
	uint8_t *big;

	(void)state;
	port = start_listener(0, 0);
	c = dial(port, id_a->pk, 0);
	/* Nothing can be sent before the handshake. */
	assert_int_equal(conn_send_bytes(c, (const uint8_t *)"x", 1),
	    LCF_EINVAL);
	assert_null(conn_remote_identity(c));
	assert_int_equal(conn_is_ready(c), 0);
	PUMP_UNTIL(srv.ready == 1 && cli.ready == 1);
	assert_ptr_equal(cli.c, c);
	CHECK_MEM("client sees the listener's id", cli.remote, id_a->pk, 32);
	CHECK_MEM("listener sees the client's id", srv.remote, id_b->pk, 32);
	CHECK_MEM("conn_remote_identity (client)", conn_remote_identity(cli.c),
	    id_a->pk, 32);
	CHECK_MEM("conn_remote_identity (listener)",
	    conn_remote_identity(srv.c), id_b->pk, 32);
	assert_string_equal(cli.city, "Alpha");
	assert_string_equal(srv.city, "Beta");
	assert_string_equal(srv.listen, "127.0.0.1:7700");
	assert_int_equal(cli.initiator, 1);
	assert_int_equal(srv.initiator, 0);
	assert_int_equal(conn_is_ready(cli.c), 1);
	CHECK_CONTAINS("client's remote address", cli.addr, "127.0.0.1:");
	CHECK_CONTAINS("listener's remote address", srv.addr, "127.0.0.1:");

	/* Over the limit is refused at the sender, and nothing is queued. */
	big = calloc(1, CONN_MAX_MSG + 1);
	assert_non_null(big);
	assert_int_equal(conn_send_bytes(cli.c, big, CONN_MAX_MSG + 1),
	    LCF_ETOOBIG);
	free(big);
	assert_int_equal(conn_write_queue_bytes(cli.c), 0);

	send_all(cli.c, 1);
	send_all(srv.c, 2);
	assert_true(conn_write_queue_bytes(cli.c) > CONN_MAX_MSG);
	PUMP_UNTIL(srv.nmsgs == (int)NSIZES && cli.nmsgs == (int)NSIZES);
	check_all(&srv, 1, "listener received");
	check_all(&cli, 2, "client received");

	/* A protobuf message through conn_send. */
	done.has_session = 1;
	done.session = 42;
	done.has_records_sent = 1;
	done.records_sent = 7;
	pm.msg_case = LCF__PEER_MSG__MSG_SYNC_DONE;
	pm.sync_done = &done;
	assert_int_equal(conn_send(cli.c, &pm.base), 0);
	PUMP_UNTIL(srv.nmsgs == (int)NSIZES + 1);
	got = lcf__peer_msg__unpack(NULL, srv.small_len, srv.small);
	assert_non_null(got);
	assert_int_equal(got->msg_case, LCF__PEER_MSG__MSG_SYNC_DONE);
	assert_int_equal(got->sync_done->session, 42);
	assert_int_equal(got->sync_done->records_sent, 7);
	lcf__peer_msg__free_unpacked(got, NULL);

	PUMP_UNTIL(conn_write_queue_bytes(cli.c) == 0 &&
	    conn_write_queue_bytes(srv.c) == 0);
	conn_close(cli.c, "test over");
	PUMP_UNTIL(cli.closed == 1 && srv.closed == 1);
	assert_int_equal(cli.code, 0);
	assert_string_equal(cli.reason, "test over");
	assert_int_equal(srv.code, LCF_ECLOSED);
	/* Every wire byte one side wrote, the other read. */
	assert_int_equal(cli.out, srv.in);
	assert_int_equal(srv.out, cli.in);
	assert_true(cli.out > CONN_MAX_MSG + (5u << 20));
}

static void
test_oversize_refused(void **state)
{
	static uint8_t frag[CONN_MAX_FRAGMENT];
	struct raw r;
	int i, sent = 0;

	(void)state;
	raw_initiate(&r, start_listener(0, 0), id_b, id_b->pk, CONN_VERSION);
	PUMP_UNTIL(srv.ready == 1);
	/* 129 full fragments with "more" set: 8,451,822 bytes > 8 MiB. */
	for (i = 0; i < 129; i++) {
		if (raw_send_transport(&r, FLAG_MORE, frag, sizeof(frag), 0)
		    != 0)
			break;
		sent++;
	}
	PUMP_UNTIL(srv.closed == 1);
	assert_int_equal(srv.code, LCF_ETOOBIG);
	CHECK_CONTAINS("close reason", srv.reason, "exceeds");
	assert_int_equal(srv.nmsgs, 0);
	assert_true(sent >= 128);
	raw_wait_closed(r.fd);
	raw_done(&r);
}

static void
test_garbage_then_good(void **state)
{
	uint8_t seed[randombytes_SEEDBYTES] = { 0 };
	uint8_t *junk = malloc(70000), msg1[48];
	uint16_t port;
	int i, fd;

	(void)state;
	assert_non_null(junk);
	port = start_listener(0, 0);
	for (i = 0; i < 4; i++) {
		seed[0] = (uint8_t)i;
		randombytes_buf_deterministic(junk, 70000, seed);
		/* One that gets past message 1 as a random ephemeral key. */
		if (i == 3) {
			junk[0] = 0;
			junk[1] = NOISE_KEY;
		}
		fd = raw_connect(port);
		raw_send(fd, junk, 70000);
		raw_wait_closed(fd);
		close(fd);
		PUMP_UNTIL(srv.closed == i + 1);
		assert_true(srv.code < 0);
		assert_true(srv.reason[0] != '\0');
	}
	/* Message 1 with a payload is refused. */
	fd = raw_connect(port);
	randombytes_buf(msg1, sizeof(msg1));
	raw_send_frame(fd, msg1, sizeof(msg1));
	raw_wait_closed(fd);
	close(fd);
	PUMP_UNTIL(srv.closed == 5);
	assert_int_equal(srv.code, LCF_EPROTO);
	CHECK_CONTAINS("close reason", srv.reason, "payload");
	/* An empty frame as message 1. */
	fd = raw_connect(port);
	raw_send_frame(fd, msg1, 0);
	raw_wait_closed(fd);
	close(fd);
	PUMP_UNTIL(srv.closed == 6);
	assert_int_equal(srv.code, LCF_EPROTO);
	assert_int_equal(srv.ready, 0);
	free(junk);

	/* The listener still takes good connections. */
	dial(port, NULL, 0);
	PUMP_UNTIL(srv.ready == 1 && cli.ready == 1);
	CHECK_MEM("listener sees the client's id", srv.remote, id_b->pk, 32);
	conn_close(srv.c, "done");
	PUMP_UNTIL(cli.closed == 1 && srv.closed == 7);
	assert_int_equal(srv.code, 0);
	assert_int_equal(cli.code, LCF_ECLOSED);
}

/* The responder refuses a Hello whose identity is not the Noise key's. */
static void
test_identity_mismatch_responder(void **state)
{
	struct raw r;
	uint16_t port;

	(void)state;
	port = start_listener(0, 0);
	/* Noise key of B, Hello claiming C. */
	raw_initiate(&r, port, id_b, id_c->pk, CONN_VERSION);
	raw_wait_closed(r.fd);
	raw_done(&r);
	PUMP_UNTIL(srv.closed == 1);
	assert_int_equal(srv.ready, 0);
	assert_int_equal(srv.code, LCF_ECRYPTO);
	CHECK_CONTAINS("close reason", srv.reason, "does not match");

	/* A Hello for another protocol version: version 1, whose IBLT classes
	 * differ from version 2's. */
	raw_initiate(&r, port, id_b, id_b->pk, 1);
	raw_wait_closed(r.fd);
	raw_done(&r);
	PUMP_UNTIL(srv.closed == 2);
	assert_int_equal(srv.ready, 0);
	assert_int_equal(srv.code, LCF_EVERSION);
	CHECK_CONTAINS("close reason", srv.reason, "version 1, we speak 2");
}

/*
 * The initiator refuses a responder whose Hello is not bound to its Noise key
 * or who is not the peer it dialed, and sends nothing more (message 3 would
 * reveal its identity).
 */
static void
test_identity_mismatch_initiator(void **state)
{
	uint8_t msg[NOISE_MAX_MSG], payload[64], hello[256];
	size_t len, plen, hlen;
	struct raw r;
	uint16_t port;
	int lfd, round;

	(void)state;
	lfd = raw_listen(&port);
	for (round = 0; round < 2; round++) {
		dial(port, round == 0 ? NULL : id_a->pk, 0);
		memset(&r, 0, sizeof(r));
		r.fd = raw_accept(lfd);
		raw_hs_init(&r, 0, id_b);
		assert_int_equal(raw_recv_frame(r.fd, msg, &len), 0);
		assert_int_equal(len, NOISE_KEY);
		assert_int_equal(noise_hs_read_message(&r.hs, msg, len, payload,
		    sizeof(payload), &plen), 0);
		assert_int_equal(plen, 0);
		/* Round 0: key B, Hello C. Round 1: a true B, not the A dialed. */
		hlen = pack_hello(round == 0 ? id_c->pk : id_b->pk,
		    CONN_VERSION, hello);
		assert_int_equal(noise_hs_write_message(&r.hs, hello, hlen, msg,
		    sizeof(msg), &len), 0);
		assert_int_equal(raw_send_frame(r.fd, msg, len), 0);
		assert_int_equal(raw_wait_closed(r.fd), 0);
		raw_done(&r);
		PUMP_UNTIL(cli.closed == round + 1);
		assert_int_equal(cli.ready, 0);
		if (round == 0) {
			assert_int_equal(cli.code, LCF_ECRYPTO);
			CHECK_CONTAINS("close reason", cli.reason,
			    "does not match");
		} else {
			assert_int_equal(cli.code, LCF_EPERM);
			CHECK_CONTAINS("close reason", cli.reason, "expected");
		}
	}
	close(lfd);
}

/* Bad transport frames after a good handshake: each closes the conn. */
static void
test_bad_transport_frames(void **state)
{
	static const char *const want[] = {
		"refused", "unknown flags", "too short",
	};
	uint8_t junk[10] = { 0 };
	struct raw r;
	uint16_t port;
	int kind;

	(void)state;
	port = start_listener(0, 0);
	for (kind = 0; kind < 3; kind++) {
		assert_int_equal(raw_initiate(&r, port, id_b, id_b->pk,
		    CONN_VERSION), 0);
		PUMP_UNTIL(srv.ready == kind + 1);
		/* A good message first: the session works. */
		assert_int_equal(raw_send_transport(&r, 0,
		    (const uint8_t *)"hello", 5, 0), 0);
		PUMP_UNTIL(srv.nmsgs == kind + 1);
		assert_int_equal(srv.small_len, 5);
		assert_memory_equal(srv.small, "hello", 5);
		if (kind == 0)
			raw_send_transport(&r, 0, (const uint8_t *)"tampered",
			    8, 1);
		else if (kind == 1)
			raw_send_transport(&r, 0x02, (const uint8_t *)"x", 1, 0);
		else
			raw_send_frame(r.fd, junk, sizeof(junk));
		PUMP_UNTIL(srv.closed == kind + 1);
		assert_int_equal(srv.code, kind == 0 ? LCF_ECRYPTO : LCF_EPROTO);
		CHECK_CONTAINS("close reason", srv.reason, want[kind]);
		assert_int_equal(srv.nmsgs, kind + 1);
		raw_wait_closed(r.fd);
		raw_done(&r);
	}
}

static void
test_handshake_timeout(void **state)
{
	uint64_t t0, dt;
	uint16_t port;
	int fd, lfd;

	(void)state;
	/* A client that connects and says nothing. */
	port = start_listener(200, 0);
	fd = raw_connect(port);
	t0 = mono_ms();
	PUMP_UNTIL(srv.closed == 1);
	dt = mono_ms() - t0;
	assert_int_equal(srv.code, LCF_ECONNECT);
	CHECK_CONTAINS("close reason", srv.reason, "handshake");
	assert_true(dt >= 150);
	raw_wait_closed(fd);
	close(fd);

	/* A listener that never answers, seen from the initiator. */
	lfd = raw_listen(&port);
	dial(port, NULL, 200);
	PUMP_UNTIL(cli.closed == 1);
	assert_int_equal(cli.code, LCF_ECONNECT);
	CHECK_CONTAINS("close reason", cli.reason, "handshake");
	close(lfd);
}

static void
test_connect_failures(void **state)
{
	struct conn_config cfg = config(id_b, &cli, "Beta");
	struct conn *c = NULL;
	uint16_t port;
	int lfd;

	(void)state;
	/* A port nobody listens on. */
	lfd = raw_listen(&port);
	close(lfd);
	dial(port, NULL, 0);
	PUMP_UNTIL(cli.closed == 1);
	assert_int_equal(cli.code, LCF_ECONNECT);
	CHECK_CONTAINS("close reason", cli.reason, "cannot connect");

	/* Argument errors: no conn, no callback. */
	assert_int_equal(conn_connect(&loop, "127.0.0.1", 0, NULL, &cfg, &c),
	    LCF_EINVAL);
	assert_int_equal(conn_connect(&loop, "", 1, NULL, &cfg, &c),
	    LCF_EINVAL);
	cfg.cbs.on_close = NULL;
	assert_int_equal(conn_connect(&loop, "127.0.0.1", 1, NULL, &cfg, &c),
	    LCF_EINVAL);
	cfg = config(id_b, &cli, NULL);
	{
		char longname[CONN_HELLO_MAX + 1];

		memset(longname, 'a', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		cfg.city_name = longname;
		assert_int_equal(conn_connect(&loop, "127.0.0.1", 1, NULL, &cfg,
		    &c), LCF_EINVAL);
	}
	assert_null(c);
	pump_for(20);
	assert_int_equal(cli.closed, 1);
}

/* Closing before the handshake: on_close comes once, from the loop. */
static void
test_close_early(void **state)
{
	struct conn *c;
	uint16_t port;

	(void)state;
	port = start_listener(0, 0);
	c = dial(port, NULL, 0);
	conn_close(c, "changed my mind");
	assert_int_equal(cli.closed, 0);
	conn_close(c, "twice");
	PUMP_UNTIL(cli.closed == 1);
	assert_int_equal(cli.code, 0);
	assert_string_equal(cli.reason, "changed my mind");
	assert_int_equal(cli.ready, 0);

	/* Closing from inside on_ready. */
	cli.close_in_ready = 1;
	dial(port, NULL, 0);
	PUMP_UNTIL(cli.closed == 2 && srv.closed == 1);
	assert_int_equal(cli.ready, 1);
	assert_int_equal(cli.code, 0);
	assert_string_equal(cli.reason, "closed in on_ready");
	pump_for(20);
	assert_int_equal(cli.closed, 2);
}

/* conn_close flushes what was queued before closing. */
static void
test_graceful_close(void **state)
{
	uint8_t *buf = malloc(5u << 20), sum[32];
	struct conn *c;

	(void)state;
	assert_non_null(buf);
	dial(start_listener(0, 0), NULL, 0);
	PUMP_UNTIL(srv.ready == 1 && cli.ready == 1);
	c = cli.c;
	fill(buf, 5u << 20, 9, 0);
	assert_int_equal(conn_send_bytes(c, buf, 5u << 20), 0);
	conn_close(c, "done");
	assert_int_equal(conn_send_bytes(c, buf, 1), LCF_ECLOSED);
	assert_int_equal(conn_is_ready(c), 0);
	PUMP_UNTIL(cli.closed == 1 && srv.closed == 1);
	assert_int_equal(srv.nmsgs, 1);
	assert_int_equal(srv.lens[0], 5u << 20);
	crypto_generichash(sum, 32, buf, 5u << 20, NULL, 0);
	CHECK_MEM("message flushed before the close", srv.sums[0], sum, 32);
	assert_int_equal(cli.code, 0);
	assert_int_equal(srv.code, LCF_ECLOSED);
	free(buf);
}

/* Pausing reading, congestion, the queue limit and on_drain. */
static void
test_backpressure(void **state)
{
	uint8_t *buf = calloc(1, CONN_MAX_MSG);
	int i, n = 0, rc = 0;

	(void)state;
	assert_non_null(buf);
	dial(start_listener(0, 0), NULL, 0);
	PUMP_UNTIL(srv.ready == 1 && cli.ready == 1);

	/* The listener pauses after the first of five small messages. */
	srv.pause_at = 1;
	for (i = 0; i < 5; i++) {
		fill(buf, 100, 3, i);
		assert_int_equal(conn_send_bytes(cli.c, buf, 100), 0);
	}
	PUMP_UNTIL(srv.nmsgs == 1);
	pump_for(100);
	assert_int_equal(srv.nmsgs, 1);

	/* While it is paused, fill the client's queue up to the limit. */
	assert_int_equal(conn_is_congested(cli.c), 0);
	while (n < 16 && (rc = conn_send_bytes(cli.c, buf, CONN_MAX_MSG)) == 0)
		n++;
	assert_int_equal(rc, LCF_EBUSY);
	assert_true(n >= (int)(CONN_QUEUE_MAX / CONN_MAX_MSG));
	assert_int_equal(conn_is_congested(cli.c), 1);
	assert_true(conn_write_queue_bytes(cli.c) >= CONN_QUEUE_MAX);
	pump_for(100);
	assert_int_equal(cli.drains, 0);
	assert_int_equal(srv.nmsgs, 1);

	conn_resume_reading(srv.c);
	PUMP_UNTIL(srv.nmsgs == 5 + n);
	PUMP_UNTIL(conn_write_queue_bytes(cli.c) == 0);
	assert_int_equal(cli.drains, 1);
	assert_int_equal(conn_is_congested(cli.c), 0);
	for (i = 0; i < 5; i++) {
		uint8_t want[100], sum[32];

		fill(want, 100, 3, i);
		crypto_generichash(sum, 32, want, 100, NULL, 0);
		assert_int_equal(srv.lens[i], 100);
		CHECK_MEM("small message after the resume", srv.sums[i], sum,
		    32);
	}
	for (i = 5; i < 5 + n; i++)
		assert_int_equal(srv.lens[i], CONN_MAX_MSG);
	/* on_drain comes once per congestion, not on every later write. */
	for (i = 0; i < 3; i++)
		assert_int_equal(conn_send_bytes(cli.c, buf, 10), 0);
	PUMP_UNTIL(srv.nmsgs == 8 + n && conn_write_queue_bytes(cli.c) == 0);
	pump_for(20);
	assert_int_equal(cli.drains, 1);
	conn_close(cli.c, "done");
	PUMP_UNTIL(cli.closed == 1 && srv.closed == 1);
	free(buf);
}

/* cli dials a listener with a write-stall timeout of ms; the listener
 * reads one message and then stops reading. */
static void
connect_stalling(unsigned ms, uint8_t *buf)
{
	struct conn_config cfg = config(id_b, &cli, "Beta");
	struct conn *c = NULL;

	cfg.stall_timeout_ms = ms;
	assert_int_equal(conn_connect(&loop, "127.0.0.1", start_listener(0, 0),
	    NULL, &cfg, &c), 0);
	PUMP_UNTIL(srv.ready == 1 && cli.ready == 1);
	srv.pause_at = 1;
	assert_int_equal(conn_send_bytes(cli.c, buf, 100), 0);
	PUMP_UNTIL(srv.nmsgs == 1);
}

/* Queues until libuv holds bytes the kernel did not take (the peer paused). */
static void
fill_backlog(struct conn *c, uint8_t *buf)
{
	int i;

	for (i = 0; i < 6; i++)
		assert_int_equal(conn_send_bytes(c, buf, CONN_MAX_MSG), 0);
}

/* ---- keepalives (PROTOCOL 4.12) ---- */

/* A listener for id_a with keepalive ka_ms and dead-link timeout dead_ms. */
static uint16_t
start_ka_listener(unsigned ka_ms, unsigned dead_ms)
{
	struct conn_config cfg = config(id_a, &srv, "Alpha");
	char err[256];

	cfg.keepalive_ms = ka_ms;
	cfg.dead_ms = dead_ms;
	assert_int_equal(conn_listen(&loop, "127.0.0.1", 0, &cfg, 0, &listener,
	    err, sizeof(err)), 0);
	return conn_listener_port(listener);
}

/* Both announce keepalive: an idle link lives on well past the timeout, and the timeout in force is 3
 * of the peer's periods when that is more than the configured one. */
static void
test_keepalive_idle_link(void **state)
{
	struct conn_config cfg = config(id_b, &cli, "Beta");
	struct conn *c = NULL;

	(void)state;
	cfg.keepalive_ms = 100;
	cfg.dead_ms = 300;
	assert_int_equal(conn_connect(&loop, "127.0.0.1",
	    start_ka_listener(200, 300), NULL, &cfg, &c), 0);
	PUMP_UNTIL(srv.ready == 1 && cli.ready == 1);
	assert_int_equal(conn_keepalive_ms(cli.c), 100);
	assert_int_equal(conn_dead_ms(cli.c), 600);	/* 3 x 200 > 300 */
	assert_int_equal(conn_keepalive_ms(srv.c), 200);
	assert_int_equal(conn_dead_ms(srv.c), 300);	/* 3 x 100 = 300 */
	pump_for(1500);
	assert_int_equal(cli.closed + srv.closed, 0);
	/* Keepalives, delivered like any PeerMsg (peer.c ignores them). */
	assert_true(cli.nmsgs >= 3 && srv.nmsgs >= 3);
	assert_int_equal(cli.small_len, 2);
	assert_int_equal(cli.small[0], 0x32);
	assert_int_equal(cli.small[1], 0x00);
	conn_close(cli.c, "done");
	PUMP_UNTIL(cli.closed == 1 && srv.closed == 1);
}

/* One side announces none: no Keepalive either way, no timeout. */
static void
test_keepalive_one_sided(void **state)
{
	struct conn_config cfg = config(id_b, &cli, "Beta");
	struct conn *c = NULL;
	uint64_t in;

	(void)state;
	assert_int_equal(conn_connect(&loop, "127.0.0.1",
	    start_ka_listener(50, 200), NULL, &cfg, &c), 0);
	PUMP_UNTIL(srv.ready == 1 && cli.ready == 1);
	assert_int_equal(conn_keepalive_ms(srv.c), 0);
	assert_int_equal(conn_dead_ms(srv.c), 0);
	in = conn_bytes_in(cli.c);
	pump_for(600);
	assert_int_equal(srv.closed, 0);
	assert_int_equal(conn_bytes_in(cli.c), in);
	conn_close(cli.c, "done");
	PUMP_UNTIL(cli.closed == 1 && srv.closed == 1);
}

/* A peer that announced keepalive and then says nothing is declared dead
 * after the timeout; meanwhile it is sent Keepalives (PeerMsg 32 00). */
static void
test_keepalive_dead_peer(void **state)
{
	uint8_t frame[NOISE_MAX_MSG];
	size_t len = 0;
	struct raw r;
	uint64_t t0;

	(void)state;
	raw_keepalive = 100;
	assert_int_equal(raw_initiate(&r, start_ka_listener(100, 400), id_b,
	    id_b->pk, CONN_VERSION), 0);
	raw_keepalive = 0;
	t0 = mono_ms();
	PUMP_UNTIL(srv.ready == 1);
	assert_int_equal(raw_recv_frame(r.fd, frame, &len), 0);
	assert_int_equal(noise_decrypt(&r.rx, frame, len, frame), 0);
	assert_int_equal(len, 1 + 2 + NOISE_TAG);
	assert_int_equal(frame[0], 0);
	assert_int_equal(frame[1], 0x32);
	assert_int_equal(frame[2], 0x00);
	PUMP_UNTIL(srv.closed == 1);
	assert_true(mono_ms() - t0 >= 400);
	assert_int_equal(srv.code, LCF_ETIMEDOUT);
	CHECK_CONTAINS("dead reason", srv.reason, "nothing received from the peer");
	raw_wait_closed(r.fd);
	raw_done(&r);
}

/* Our own loop stood still (a stopped process): the peer's silence meanwhile
 * proves nothing, so it gets a whole timeout from the loop's return. */
static void
test_keepalive_frozen_loop(void **state)
{
	struct raw r;
	uint64_t t0;

	(void)state;
	raw_keepalive = 100;
	assert_int_equal(raw_initiate(&r, start_ka_listener(100, 400), id_b,
	    id_b->pk, CONN_VERSION), 0);
	raw_keepalive = 0;
	PUMP_UNTIL(srv.ready == 1);
	usleep(1000 * 1000);	/* the loop does not run */
	t0 = mono_ms();
	pump_for(200);
	assert_int_equal(srv.closed, 0);
	PUMP_UNTIL(srv.closed == 1);
	assert_true(mono_ms() - t0 >= 400);
	assert_int_equal(srv.code, LCF_ETIMEDOUT);
	raw_wait_closed(r.fd);
	raw_done(&r);
}

/* A peer that stops reading is cut off once nothing moves for the timeout. */
static void
test_write_stall(void **state)
{
	uint8_t *buf = calloc(1, CONN_MAX_MSG);
	uint64_t t0;

	(void)state;
	assert_non_null(buf);
	connect_stalling(400, buf);
	t0 = mono_ms();
	fill_backlog(cli.c, buf);
	PUMP_UNTIL(cli.closed == 1);
	assert_true(mono_ms() - t0 >= 400);
	assert_int_equal(cli.code, LCF_ETIMEDOUT);
	CHECK_CONTAINS("stall reason", cli.reason, "stopped reading");
	/* The server reads again and finds the connection gone. */
	conn_resume_reading(srv.c);
	PUMP_UNTIL(srv.closed == 1);
	free(buf);
}

/* A backlog that drains, late but before the timeout, and then an idle link
 * with nothing queued for longer than the timeout: neither is cut off. */
static void
test_write_stall_progress(void **state)
{
	uint8_t *buf = calloc(1, CONN_MAX_MSG);

	(void)state;
	assert_non_null(buf);
	connect_stalling(1000, buf);
	fill_backlog(cli.c, buf);
	pump_for(500);
	assert_int_equal(cli.closed, 0);
	conn_resume_reading(srv.c);
	PUMP_UNTIL(srv.nmsgs == 7 && conn_write_queue_bytes(cli.c) == 0);
	pump_for(1500);
	assert_int_equal(cli.closed, 0);
	assert_int_equal(srv.closed, 0);
	/* Stalled again after the idle spell: the timeout counts afresh. */
	srv.pause_at = 8;
	assert_int_equal(conn_send_bytes(cli.c, buf, 100), 0);
	PUMP_UNTIL(srv.nmsgs == 8);
	fill_backlog(cli.c, buf);
	PUMP_UNTIL(cli.closed == 1);
	assert_int_equal(cli.code, LCF_ETIMEDOUT);
	conn_resume_reading(srv.c);
	PUMP_UNTIL(srv.closed == 1);
	free(buf);
}

/* Beyond max_pending, the oldest handshake gives way to the new connection
 * (LCF_EFULL: counted as "evicted", not as a timeout). */
static void
test_pending_limit(void **state)
{
	uint16_t port;
	int fd1, fd2;

	(void)state;
	port = start_listener(0, 1);
	fd1 = raw_connect(port);
	pump_for(50);
	assert_int_equal(srv.closed, 0);
	fd2 = raw_connect(port);
	PUMP_UNTIL(srv.closed == 1);
	assert_int_equal(srv.code, LCF_EFULL);
	raw_wait_closed(fd1);
	close(fd1);
	/* Closing the listener leaves the conn in its handshake alive. */
	conn_listener_close(listener);
	listener = NULL;
	pump_for(20);
	assert_int_equal(srv.closed, 1);
	close(fd2);
	PUMP_UNTIL(srv.closed == 2);
	assert_int_equal(srv.code, LCF_ECLOSED);
}

/* admit for test_per_address: refuses 127.0.0.1 while admit_no is set. */
static int admit_no, admit_asked;

static int
admit_cb(void *arg, const char *ip, char *why, size_t whylen)
{
	(void)arg;
	admit_asked++;
	if (admit_no && strcmp(ip, "127.0.0.1") == 0) {
		if (why != NULL)
			snprintf(why, whylen, "in its back-off");
		return CONN_REFUSE;
	}
	return CONN_ADMIT;
}

/* pending_per_addr handshakes from one address at most (LCF_EBUSY for the
 * next, no eviction); admit refuses with LCF_EPERM and its reason. */
static void
test_per_address(void **state)
{
	struct conn_config cfg = config(id_a, &srv, "Alpha");
	char err[256];
	uint16_t port;
	int fd1, fd2, fd3;

	(void)state;
	cfg.pending_per_addr = 2;
	cfg.cbs.admit = admit_cb;
	admit_no = 0;
	admit_asked = 0;
	assert_int_equal(conn_listen(&loop, "127.0.0.1", 0, &cfg, 8, &listener,
	    err, sizeof(err)), 0);
	port = conn_listener_port(listener);
	fd1 = raw_connect(port);
	fd2 = raw_connect(port);
	PUMP_UNTIL(admit_asked == 2);
	assert_int_equal(srv.closed, 0);
	fd3 = raw_connect(port);
	PUMP_UNTIL(srv.closed == 1);
	assert_int_equal(srv.code, LCF_EBUSY);
	CHECK_CONTAINS("per address reason", srv.reason, "2 handshakes from "
	    "127.0.0.1 under way already");
	raw_wait_closed(fd3);
	close(fd3);
	/* Refused by admit, before anything is read. */
	admit_no = 1;
	close(fd1);
	PUMP_UNTIL(srv.closed == 2);
	fd3 = raw_connect(port);
	PUMP_UNTIL(srv.closed == 3);
	assert_int_equal(srv.code, LCF_EPERM);
	CHECK_CONTAINS("admit reason", srv.reason, "in its back-off");
	raw_wait_closed(fd3);
	close(fd3);
	close(fd2);
	PUMP_UNTIL(srv.closed == 4);
	admit_no = 0;
}

/* Conns sharing a budget: at its limit, one with bytes queued is congested
 * until its queue is empty; one with none may still send. */
static void
test_budget(void **state)
{
	struct conn_config cfg = config(id_b, &cli, "Beta");
	struct conn_budget budget;
	uint8_t *buf = calloc(1, CONN_MAX_MSG);
	struct conn *c = NULL;

	(void)state;
	assert_non_null(buf);
	memset(&budget, 0, sizeof(budget));
	budget.limit = 1u << 20;
	cfg.budget = &budget;
	cfg.high_water = 64u << 20;
	assert_int_equal(conn_connect(&loop, "127.0.0.1", start_listener(0, 0),
	    NULL, &cfg, &c), 0);
	PUMP_UNTIL(srv.ready == 1 && cli.ready == 1);
	srv.pause_at = 1;
	assert_int_equal(conn_send_bytes(cli.c, buf, 100), 0);
	PUMP_UNTIL(srv.nmsgs == 1);
	assert_int_equal(conn_is_congested(cli.c), 0);
	/* 8 MiB more than the peer's socket takes: over the budget. */
	assert_int_equal(conn_send_bytes(cli.c, buf, CONN_MAX_MSG), 0);
	assert_int_equal(conn_send_bytes(cli.c, buf, CONN_MAX_MSG), 0);
	pump_for(50);
	assert_true(budget.queued >= budget.limit);
	assert_int_equal(budget.queued, conn_write_queue_bytes(cli.c));
	assert_int_equal(conn_is_congested(cli.c), 1);
	assert_int_equal(budget.all_full, 1);
	/* Reading again empties the queue: on_drain, and the total is 0. */
	conn_resume_reading(srv.c);
	PUMP_UNTIL(cli.drains >= 1 && budget.queued == 0);
	assert_int_equal(conn_is_congested(cli.c), 0);
	conn_close(cli.c, "done");
	PUMP_UNTIL(cli.closed == 1 && srv.closed == 1);
	assert_int_equal(budget.queued, 0);
	free(buf);
}

/* A peer that reads nothing: conn_close gives up flushing after linger_ms. */
static void
test_linger_timeout(void **state)
{
	struct conn_config cfg = config(id_a, &srv, "Alpha");
	uint8_t *buf = calloc(1, CONN_MAX_MSG);
	char err[256];
	struct raw r;
	uint64_t queued, t0, dt;
	int n = 0;

	(void)state;
	assert_non_null(buf);
	cfg.linger_ms = 300;
	assert_int_equal(conn_listen(&loop, "127.0.0.1", 0, &cfg, 0, &listener,
	    err, sizeof(err)), 0);
	assert_int_equal(raw_initiate(&r, conn_listener_port(listener), id_b,
	    id_b->pk, CONN_VERSION), 0);
	PUMP_UNTIL(srv.ready == 1);
	while (conn_send_bytes(srv.c, buf, CONN_MAX_MSG) == 0)
		n++;
	queued = conn_write_queue_bytes(srv.c);
	pump_for(50);
	conn_close(srv.c, "bye");
	t0 = mono_ms();
	PUMP_UNTIL(srv.closed == 1);
	dt = mono_ms() - t0;
	assert_int_equal(srv.code, 0);
	assert_string_equal(srv.reason, "bye");
	assert_true(dt >= 250);
	/* Not everything could be written to a peer that does not read. */
	assert_true(srv.out < queued);
	raw_wait_closed(r.fd);
	raw_done(&r);
	free(buf);
}

/* A host name goes through uv_getaddrinfo. */
static void
test_resolve_name(void **state)
{
	struct conn_config cfg = config(id_a, &srv, "Alpha");
	struct conn_config ccfg = config(id_b, &cli, "Beta");
	struct conn *c = NULL;
	char err[256];
	uint16_t port;

	(void)state;
	/* Dual-stack, so "localhost" works whether it means ::1 or 127.0.0.1. */
	if (conn_listen(&loop, "::", 0, &cfg, 0, &listener, err,
	    sizeof(err)) != 0) {
		print_message("skipped: %s\n", err);
		skip();
	}
	port = conn_listener_port(listener);
	assert_int_equal(conn_connect(&loop, "localhost", port, id_a->pk, &ccfg,
	    &c), 0);
	CHECK_CONTAINS("address before connecting", conn_remote_addr(c),
	    "localhost:");
	PUMP_UNTIL(srv.ready == 1 && cli.ready == 1);
	conn_close(c, "done");
	PUMP_UNTIL(cli.closed == 1 && srv.closed == 1);
}

static void
test_listen_errors(void **state)
{
	struct conn_config cfg = config(id_a, &srv, "Alpha");
	struct conn_listener *l2 = NULL;
	char err[256];
	uint16_t port;

	(void)state;
	port = start_listener(0, 0);
	assert_int_equal(conn_listen(&loop, "127.0.0.1", port, &cfg, 0, &l2,
	    err, sizeof(err)), LCF_EIO);
	CHECK_CONTAINS("listen error", err, "cannot listen");
	assert_int_equal(conn_listen(&loop, "not-an-ip", 0, &cfg, 0, &l2, err,
	    sizeof(err)), LCF_EINVAL);
	CHECK_CONTAINS("listen error", err, "not an IP address");
	assert_null(l2);
}

static int
group_setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	id_a = identity_new();
	id_b = identity_new();
	id_c = identity_new();
	if (id_a == NULL || id_b == NULL || id_c == NULL)
		return -1;
	identity_generate(id_a);
	identity_generate(id_b);
	identity_generate(id_c);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	identity_free(id_a);
	identity_free(id_b);
	identity_free(id_c);
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_handshake_and_messages),
		T(test_oversize_refused),
		T(test_garbage_then_good),
		T(test_identity_mismatch_responder),
		T(test_identity_mismatch_initiator),
		T(test_bad_transport_frames),
		T(test_handshake_timeout),
		T(test_connect_failures),
		T(test_close_early),
		T(test_graceful_close),
		T(test_backpressure),
		T(test_keepalive_idle_link),
		T(test_keepalive_one_sided),
		T(test_keepalive_dead_peer),
		T(test_keepalive_frozen_loop),
		T(test_write_stall),
		T(test_write_stall_progress),
		T(test_pending_limit),
		T(test_per_address),
		T(test_budget),
		T(test_linger_timeout),
		T(test_resolve_name),
		T(test_listen_errors),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
