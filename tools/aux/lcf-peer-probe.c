// SPDX-License-Identifier: Apache-2.0
// lcf-peer-probe: a scripted peer for tests; completes the handshake, then pushes good or bad traffic.
//
// Usage: lcf-peer-probe MODE HOST:PORT [TITLE]
//   hello    handshake only; prints the node's city id
//   push     pushes one valid practice (TITLE) signed by a fresh key, then closes
//   future   the same with a timestamp an hour ahead of this clock
//   padded   the same with 1,000 bytes of an unknown field after the signature
//            (the id, over the content only, stays the same)
//   garbage  sends a message that is not a PeerMsg
//   badsig   pushes a practice whose signature is wrong
//   padbadsig  the same, padded as in padded
//   toomany  pushes 4,097 records in one message
//   bigrec   pushes one record larger than a record may be
//   expand   pushes 3,000,000 empty records (6 MB that would take ~100 MB to
//            decode without the node's decode budget)
//   relay    like push, but the practice is signed by another fresh key than
//            the link's (a record relayed from a third city)
// LCF_PROBE_AUTHOR_KEY (a key file) signs the practices of push and relay.
//   file     pushes the signed records of the JSON-lines file named by TITLE
//            (the form of `lcctl federation` and `export --signed`), in one
//            message; a line that does not start with '{' is the exact
//            SignedRecord bytes in hex (docs/vectors/records.json's "record")
//   badfile  the same, then waits for the node to close the connection
//   pin      stops reading, then asks 200 times for a reconciliation with
//            tables (claiming 30,000 records) and abandons each at once, so
//            the node queues tables it cannot send; reads again after 10 s
//   hold     opens N reconciliation sessions (N = TITLE, default 2) as an
//            empty node and keeps each alive with an empty Records every
//            second; prints "accepted N" once the node has answered each,
//            and "ended N" whenever the node ends one; stops after 60 s
//   stall    opens one reconciliation session with tables as an empty node;
//            answers the node's request for its table with an empty one, so
//            that the node sends every record it holds, and reads nothing
//            from then on; prints "stalled"; stops after 60 s. A node that
//            answers busy (a SyncDone with an error: its queues to peers
//            are full, or our link was still sending) is asked again
//            after 100 ms, as a node would
//   listen   sends nothing; prints "received N records" (the records of
//            every Records message) once the node closes or 3 s have passed
// Environment, to take part as a member of a federation: LCF_PROBE_KEY (a key
// file: the link's identity instead of a fresh key), LCF_PROBE_FEDERATION
// (the federation id for the Hello), LCF_PROBE_MEMBERSHIP (a file holding the
// membership record, one signed JSON line or its bytes in hex, shown in the
// Hello).
// For push, future and padded, exit 0 once the message is flushed. For the others but
// hello, exit 0 when the node closes the connection (printing its reason),
// 1 if it is still open after 10 s.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <uv.h>

#include "base/addr.h"
#include "core/config.h"
#include "wire/conn.h"
#include "base/error.h"
#include "model/identity.h"
#include "model/recfile.h"
#include "model/record.h"
#include "base/util.h"
#include "base/xmalloc.h"

#define WAIT_MS 10000
#define LISTEN_MS 3000
#define PIN_STARTS 200
#define PIN_MS 10000
#define HOLD_MAX 8
#define HOLD_MS 60000
#define STALL_RETRY_MS 100

struct probe {
	const char *mode;
	const char *title;
	struct identity *id;        /* the link's identity */
	struct identity *author;    /* who signs pushed practices */
	uv_timer_t timer;
	uv_timer_t retry;	/* stall: asks again after a busy answer */
	int status;		/* exit status */
	int sent;
	size_t received;	/* records in Records messages */
	struct conn *c;		/* pin, hold: the connection */
	int nhold, accepted, ended;	/* hold: sessions */
	uint64_t hold_ids[HOLD_MAX];
	int hold_state[HOLD_MAX];	/* 0 asked, 1 answered, 2 ended */
	uint64_t hold_start;
};

static void
usage(void)
{
	fprintf(stderr, "usage: lcf-peer-probe hello|push|future|padded|garbage|badsig|padbadsig|"
	    "toomany|bigrec|expand|relay|file|badfile|listen|pin|hold|stall HOST:PORT [TITLE|FILE]\n");
	exit(2);
}

/* A signed practice by the probe's key. */
static void
make_record(struct probe *pr, int64_t ts, uint8_t **raw, size_t *len)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__Practice p = LCF__PRACTICE__INIT;
	char *areas[] = { "2.2" }, key[64];
	uint8_t *content, rid[RECORD_ID_LEN];
	size_t clen;

	slugify(pr->title, key, sizeof(key));
	p.title = (char *)pr->title;
	p.summary = "A practice pushed by the test probe.";
	p.language = "en";
	p.kflc_areas = areas;
	p.n_kflc_areas = 1;
	c.has_author = 1;
	c.author.data = pr->author->pk;
	c.author.len = IDENTITY_PK_LEN;
	c.has_seq = 1;
	c.seq = 1;
	c.has_kind = 1;
	c.kind = LCF__KIND__KIND_PRACTICE;
	c.key = key;
	c.has_timestamp = 1;
	c.timestamp = ts;
	c.body_case = LCF__CONTENT__BODY_PRACTICE;
	c.practice = &p;
	if (record_pack_content(&c, &content, &clen) != 0 ||
	    record_seal(content, clen, pr->author, raw, len, rid) != 0) {
		fprintf(stderr, "lcf-peer-probe: cannot build a record\n");
		exit(1);
	}
	free(content);
}

/* Appends field 15 (bytes; tag 0x7a, length 1,000 as a varint) of 1,000 bytes. */
static void
pad_record(uint8_t **raw, size_t *len)
{
	*raw = xreallocarray(*raw, *len + 3 + 1000, 1);
	(*raw)[*len] = 0x7a;
	(*raw)[*len + 1] = 0xe8;
	(*raw)[*len + 2] = 0x07;
	memset(*raw + *len + 3, 'x', 1000);
	*len += 3 + 1000;
}

static void
send_records(struct conn *c, uint8_t **raws, size_t *lens, size_t n)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__Records r = LCF__RECORDS__INIT;
	ProtobufCBinaryData *bins = xcalloc(n, sizeof(*bins));
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		bins[i].data = raws[i];
		bins[i].len = lens[i];
	}
	r.records = bins;
	r.n_records = n;
	r.has_push = 1;
	r.push = 1;
	m.msg_case = LCF__PEER_MSG__MSG_RECORDS;
	m.records = &r;
	if ((rc = conn_send(c, &m.base)) != 0) {
		fprintf(stderr, "lcf-peer-probe: cannot send: %s\n", lcf_strerror(rc));
		exit(1);
	}
	free(bins);
}

/* One record given as a line: a signed JSON line, or (a line that does not
 * start with '{') the exact SignedRecord bytes in hex. 0 or -1 (err says). */
static int
record_line(const char *line, size_t len, uint8_t **raw, size_t *rawlen,
    char *err, size_t errlen)
{
	if (len > 0 && line[0] == '{')
		return recfile_parse(line, len, raw, rawlen, err, errlen) == 0 ?
		    0 : -1;
	*raw = xmalloc(len / 2 + 1);
	if (sodium_hex2bin(*raw, len / 2 + 1, line, len, NULL, rawlen,
	    NULL) != 0 || 2 * *rawlen != len) {
		free(*raw);
		*raw = NULL;
		snprintf(err, errlen, "a line is neither JSON nor hex");
		return -1;
	}
	return 0;
}

/* Every record of the JSON-lines file pr->title, in one message. */
static void
push_file(struct probe *pr, struct conn *c)
{
	char *buf, *line, *save = NULL, err[512];
	uint8_t **raws = NULL;
	size_t len, *lens = NULL, n = 0;

	if (read_file(pr->title, 64u << 20, &buf, &len) != 0) {
		fprintf(stderr, "lcf-peer-probe: cannot read %s\n", pr->title);
		exit(1);
	}
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		raws = xreallocarray(raws, n + 1, sizeof(*raws));
		lens = xreallocarray(lens, n + 1, sizeof(*lens));
		if (record_line(line, strlen(line), &raws[n], &lens[n], err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "lcf-peer-probe: %s: %s\n", pr->title, err);
			exit(1);
		}
		n++;
	}
	send_records(c, raws, lens, n);
	while (n > 0)
		free(raws[--n]);
	free(raws);
	free(lens);
	free(buf);
}

static void
listen_done(uv_timer_t *t)
{
	struct probe *pr = t->data;

	printf("received %zu records\n", pr->received);
	pr->status = 0;
	uv_stop(t->loop);
}

/* A SyncStart asking for tables, then a SyncDone abandoning it. */
static void
send_pin_pair(struct conn *c, uint64_t session)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__SyncStart st = LCF__SYNC_START__INIT;
	Lcf__SyncDone d = LCF__SYNC_DONE__INIT;
	uint8_t digest[16];

	randombytes_buf(digest, sizeof(digest));
	st.has_session = st.has_count = st.has_digest = st.has_tables = 1;
	st.session = session;
	st.count = 30000;
	st.digest.data = digest;
	st.digest.len = sizeof(digest);
	st.tables = 1;
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_START;
	m.sync_start = &st;
	if (conn_send(c, &m.base) != 0)
		exit(1);
	d.has_session = d.has_error = 1;
	d.session = session;
	d.error = LCF_ECLOSED;
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_DONE;
	m.sync_done = &d;
	if (conn_send(c, &m.base) != 0)
		exit(1);
}

static void on_timeout(uv_timer_t *t);

static void
hold_tick(uv_timer_t *t)
{
	struct probe *pr = t->data;
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__Records r = LCF__RECORDS__INIT;
	int i;

	if (mono_ms() - pr->hold_start >= HOLD_MS) {
		pr->status = 0;
		conn_close(pr->c, "done");
		return;
	}
	m.msg_case = LCF__PEER_MSG__MSG_RECORDS;
	m.records = &r;
	r.has_session = 1;
	for (i = 0; i < pr->nhold; i++) {
		if (pr->hold_state[i] != 1)
			continue;
		r.session = pr->hold_ids[i];
		conn_send(pr->c, &m.base);
	}
}

/* hold: SyncStarts as a node that holds nothing (count 0). */
static void
hold_start(struct probe *pr, struct conn *c)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__SyncStart st = LCF__SYNC_START__INIT;
	uint8_t digest[16];
	int i;

	memset(digest, 0, sizeof(digest));
	pr->c = c;
	pr->nhold = atoi(pr->title);
	if (pr->nhold < 1 || pr->nhold > HOLD_MAX)
		pr->nhold = 2;
	pr->hold_start = mono_ms();
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_START;
	m.sync_start = &st;
	st.has_session = st.has_count = st.has_digest = 1;
	st.digest.data = digest;
	st.digest.len = sizeof(digest);
	for (i = 0; i < pr->nhold; i++) {
		randombytes_buf(&pr->hold_ids[i], sizeof(pr->hold_ids[i]));
		pr->hold_ids[i] |= 1;
		st.session = pr->hold_ids[i];
		if (conn_send(c, &m.base) != 0)
			exit(1);
	}
	uv_timer_start(&pr->timer, hold_tick, 1000, 1000);
}

/* hold: the node's answers. */
static void
hold_message(struct probe *pr, const Lcf__PeerMsg *m)
{
	uint64_t id;
	int i, done;

	if (m->msg_case == LCF__PEER_MSG__MSG_SYNC_SKETCH)
		id = m->sync_sketch->session;
	else if (m->msg_case == LCF__PEER_MSG__MSG_SYNC_DONE)
		id = m->sync_done->session;
	else
		return;
	done = m->msg_case == LCF__PEER_MSG__MSG_SYNC_DONE;
	for (i = 0; i < pr->nhold && pr->hold_ids[i] != id; i++)
		;
	if (i == pr->nhold || pr->hold_state[i] == 2)
		return;
	if (done) {
		pr->hold_state[i] = 2;
		printf("ended %d\n", ++pr->ended);
	} else if (pr->hold_state[i] == 0) {
		pr->hold_state[i] = 1;
		if (++pr->accepted == pr->nhold)
			printf("accepted %d\n", pr->accepted);
	}
	fflush(stdout);
}

/* stall: a SyncStart with tables as a node that holds nothing. */
static void
stall_start(struct probe *pr, struct conn *c)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__SyncStart st = LCF__SYNC_START__INIT;
	uint8_t digest[16];

	memset(digest, 0, sizeof(digest));
	pr->c = c;
	pr->nhold = 1;
	randombytes_buf(&pr->hold_ids[0], sizeof(pr->hold_ids[0]));
	pr->hold_ids[0] |= 1;
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_START;
	m.sync_start = &st;
	st.has_session = st.has_count = st.has_digest = st.has_tables = 1;
	st.session = pr->hold_ids[0];
	st.tables = 1;
	st.digest.data = digest;
	st.digest.len = sizeof(digest);
	if (conn_send(c, &m.base) != 0)
		exit(1);
	if (!uv_is_active((uv_handle_t *)&pr->timer))
		uv_timer_start(&pr->timer, on_timeout, HOLD_MS, 0);
}

static void
stall_retry(uv_timer_t *t)
{
	struct probe *pr = t->data;

	stall_start(pr, pr->c);
}

/* stall: the node asks for our table; an empty one makes it send all. */
static void
stall_message(struct probe *pr, const Lcf__PeerMsg *m)
{
	Lcf__PeerMsg r = LCF__PEER_MSG__INIT;
	Lcf__SyncSketch sk = LCF__SYNC_SKETCH__INIT;
	const Lcf__SyncSketch *q = m->sync_sketch;

	if (m->msg_case == LCF__PEER_MSG__MSG_SYNC_DONE && !pr->sent &&
	    m->sync_done->session == pr->hold_ids[0] && m->sync_done->error != 0) {
		printf("busy (%s), asking again\n",
		    lcf_strerror((int)m->sync_done->error));
		fflush(stdout);
		uv_timer_start(&pr->retry, stall_retry, STALL_RETRY_MS, 0);
		return;
	}
	if (m->msg_case != LCF__PEER_MSG__MSG_SYNC_SKETCH || pr->sent ||
	    q->session != pr->hold_ids[0] || !q->has_cells || q->has_iblt ||
	    q->cells > (1u << 20))
		return;
	r.msg_case = LCF__PEER_MSG__MSG_SYNC_SKETCH;
	r.sync_sketch = &sk;
	sk.has_session = sk.has_count = sk.has_cells = sk.has_iblt = 1;
	sk.session = q->session;
	sk.cells = q->cells;
	sk.iblt.len = (size_t)q->cells * 16;
	sk.iblt.data = xcalloc(1, sk.iblt.len);
	if (conn_send(pr->c, &r.base) != 0)
		exit(1);
	free(sk.iblt.data);
	conn_pause_reading(pr->c);
	pr->sent = 1;
	printf("stalled\n");
	fflush(stdout);
}

static void
pin_release(uv_timer_t *t)
{
	struct probe *pr = t->data;

	printf("reading again after %d ms\n", PIN_MS);
	fflush(stdout);
	conn_resume_reading(pr->c);
	uv_timer_start(&pr->timer, on_timeout, WAIT_MS, 0);
}

static void
on_timeout(uv_timer_t *t)
{
	struct probe *pr = t->data;

	printf("still open after %d ms\n", WAIT_MS);
	pr->status = 1;
	uv_stop(t->loop);
}

static void
on_ready(void *arg, struct conn *c, const Lcf__Hello *hello)
{
	struct probe *pr = arg;
	char hex[LCF_ID_HEX];
	uint8_t *raw, **raws;
	size_t len, *lens, i, n;
	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x42 };

	printf("connected to %s\n", hex_encode(hello->identity.data, 32, hex));
	fflush(stdout);
	if (strcmp(pr->mode, "hello") == 0) {
		pr->status = 0;
		conn_close(c, "done");
		return;
	}
	if (strcmp(pr->mode, "pin") == 0) {
		conn_pause_reading(c);
		for (i = 0; i < PIN_STARTS; i++)
			send_pin_pair(c, i + 1);
		pr->c = c;
		pr->sent = 1;
		uv_timer_start(&pr->timer, pin_release, PIN_MS, 0);
		return;
	}
	if (strcmp(pr->mode, "hold") == 0) {
		hold_start(pr, c);
		return;
	}
	if (strcmp(pr->mode, "stall") == 0) {
		stall_start(pr, c);
		return;
	}
	if (strcmp(pr->mode, "listen") == 0) {
		uv_timer_start(&pr->timer, listen_done, LISTEN_MS, 0);
		return;
	}
	if (strcmp(pr->mode, "file") == 0) {
		push_file(pr, c);
		pr->status = 0;
		conn_close(c, "done");
		return;
	}
	if (strcmp(pr->mode, "push") == 0 || strcmp(pr->mode, "future") == 0 ||
	    strcmp(pr->mode, "relay") == 0 || strcmp(pr->mode, "padded") == 0) {
		make_record(pr, now_ms() + (pr->mode[0] == 'f' ? 3600 * 1000 : 0),
		    &raw, &len);
		if (strcmp(pr->mode, "padded") == 0)
			pad_record(&raw, &len);
		send_records(c, &raw, &len, 1);
		free(raw);
		pr->status = 0;
		conn_close(c, "done");
		return;
	}
	if (strcmp(pr->mode, "garbage") == 0) {
		conn_send_bytes(c, junk, sizeof(junk));
	} else if (strcmp(pr->mode, "badsig") == 0 ||
	    strcmp(pr->mode, "padbadsig") == 0) {
		make_record(pr, now_ms(), &raw, &len);
		/* The signature is the last field: its last byte changes. */
		raw[len - 1] ^= 0x01;
		if (pr->mode[0] == 'p')
			pad_record(&raw, &len);
		send_records(c, &raw, &len, 1);
		free(raw);
	} else if (strcmp(pr->mode, "toomany") == 0) {
		n = 4097;
		raws = xcalloc(n, sizeof(*raws));
		lens = xcalloc(n, sizeof(*lens));
		for (i = 0; i < n; i++) {
			raws[i] = (uint8_t *)"x";
			lens[i] = 1;
		}
		send_records(c, raws, lens, n);
		free(raws);
		free(lens);
	} else if (strcmp(pr->mode, "expand") == 0) {
		n = 3000000;
		raws = xcalloc(n, sizeof(*raws));
		lens = xcalloc(n, sizeof(*lens));
		for (i = 0; i < n; i++)
			raws[i] = (uint8_t *)"";
		send_records(c, raws, lens, n);
		free(raws);
		free(lens);
	} else if (strcmp(pr->mode, "badfile") == 0) {
		push_file(pr, c);
	} else if (strcmp(pr->mode, "bigrec") == 0) {
		len = RECORD_MAX_SIGNED + 1000;
		raw = xcalloc(1, len);
		send_records(c, &raw, &len, 1);
		free(raw);
	}
	pr->sent = 1;
	uv_timer_start(&pr->timer, on_timeout, WAIT_MS, 0);
}

static void
on_message(void *arg, struct conn *c, const uint8_t *msg, size_t len)
{
	struct probe *pr = arg;
	Lcf__PeerMsg *m;

	(void)c;
	if ((m = lcf__peer_msg__unpack(NULL, len, msg)) == NULL)
		return;
	if (m->msg_case == LCF__PEER_MSG__MSG_RECORDS)
		pr->received += m->records->n_records;
	if (strcmp(pr->mode, "hold") == 0)
		hold_message(pr, m);
	else if (strcmp(pr->mode, "stall") == 0)
		stall_message(pr, m);
	lcf__peer_msg__free_unpacked(m, NULL);
}

static void
on_close(void *arg, struct conn *c, int code, const char *reason)
{
	struct probe *pr = arg;

	(void)c;
	printf("closed (%s): %s\n", code == 0 ? "by us" : lcf_strerror(code), reason);
	if (strcmp(pr->mode, "listen") == 0) {
		printf("received %zu records\n", pr->received);
		pr->status = 0;
	}
	/* After bad traffic, only the node closing counts as success. */
	if (pr->sent)
		pr->status = code == LCF_ECLOSED || code == LCF_EIO ? 0 : 1;
	uv_timer_stop(&pr->timer);
	uv_close((uv_handle_t *)&pr->timer, NULL);
	uv_timer_stop(&pr->retry);
	uv_close((uv_handle_t *)&pr->retry, NULL);
}

int
main(int argc, char **argv)
{
	struct probe pr;
	struct conn_config cfg;
	struct conn *c;
	char host[256];
	const char *env;
	uint8_t fed[32], *membership = NULL;
	uint16_t port;
	int rc;

	if (argc < 3 || argc > 4)
		usage();
	memset(&pr, 0, sizeof(pr));
	pr.mode = argv[1];
	pr.title = argc == 4 ? argv[3] : "Probe practice";
	pr.status = 1;
	if (addr_parse_hostport(argv[2], host, sizeof(host), &port) != 0)
		usage();
	if (sodium_init() < 0 || (pr.id = identity_new()) == NULL)
		return 1;
	identity_generate(pr.id);
	pr.author = pr.id;
	if ((env = getenv("LCF_PROBE_KEY")) != NULL &&
	    identity_load(pr.id, env) != 0) {
		fprintf(stderr, "lcf-peer-probe: cannot load the key %s\n", env);
		return 1;
	}
	if (strcmp(pr.mode, "relay") == 0 ||
	    getenv("LCF_PROBE_AUTHOR_KEY") != NULL) {
		if ((pr.author = identity_new()) == NULL)
			return 1;
		identity_generate(pr.author);
		if ((env = getenv("LCF_PROBE_AUTHOR_KEY")) != NULL &&
		    identity_load(pr.author, env) != 0) {
			fprintf(stderr, "lcf-peer-probe: cannot load %s\n", env);
			return 1;
		}
	}
	uv_timer_init(uv_default_loop(), &pr.timer);
	pr.timer.data = &pr;
	uv_timer_init(uv_default_loop(), &pr.retry);
	pr.retry.data = &pr;
	memset(&cfg, 0, sizeof(cfg));
	cfg.identity = pr.id;
	cfg.city_name = "Probe";
	if ((env = getenv("LCF_PROBE_FEDERATION")) != NULL &&
	    hex_decode(env, fed, sizeof(fed)) == 0)
		cfg.federation = fed;
	if ((env = getenv("LCF_PROBE_MEMBERSHIP")) != NULL) {
		char *line, err[512];
		size_t llen;

		if (read_file(env, 1 << 20, &line, &llen) != 0 ||
		    record_line(line, strcspn(line, "\n"), &membership,
		    &cfg.membership_len, err, sizeof(err)) != 0) {
			fprintf(stderr, "lcf-peer-probe: cannot read a membership "
			    "record from %s\n", env);
			return 1;
		}
		cfg.membership = membership;
		free(line);
	}
	cfg.cbs.on_ready = on_ready;
	cfg.cbs.on_message = on_message;
	cfg.cbs.on_close = on_close;
	cfg.arg = &pr;
	if ((rc = conn_connect(uv_default_loop(), host, port, NULL, &cfg, &c)) != 0) {
		fprintf(stderr, "lcf-peer-probe: cannot connect: %s\n",
		    lcf_strerror(rc));
		return 1;
	}
	/* Ends when the conn and the timer have closed, or at the timeout. */
	uv_run(uv_default_loop(), UV_RUN_DEFAULT);
	if (pr.author != pr.id)
		identity_free(pr.author);
	identity_free(pr.id);
	free(membership);
	return pr.status;
}
