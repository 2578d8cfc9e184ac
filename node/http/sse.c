// SPDX-License-Identifier: Apache-2.0
// GET /api/v1/events: the bus's events as Server-Sent Events, kept in a ring
// so that a client resumes after a reconnect without a gap.
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "core/node.h"
#include "http/http_int.h"
#include "model/kinds.h"
#include "model/record.h"
#include "store/store.h"

/*
 * Every event gets the next number (1 upward, per node start) and is kept,
 * already written as its SSE frame, in a ring of the last SSE_RING events.
 * Its id is "STARTMS-N": the node's start time in milliseconds, then its
 * number, so that an id from an earlier start is never taken for one of this
 * start's.
 *
 * A stream is a position in the ring: the number of the next event it sends.
 * It hands h2o one batch at a time (at most SSE_BATCH bytes, copied out of
 * the ring) and the next once h2o calls proceed (the batch is written). A
 * client that does not read stops the proceeds, so its position stays while
 * the ring moves on; once the ring drops the event at its position the
 * stream is dropped too. What a stream holds is thus its batch, whatever
 * the client does.
 */

#define SSE_RING 16384                /* events kept (a power of two) */
#define SSE_FRAME_MAX 1024            /* bytes of one frame */
/* Bytes of every frame kept: as many as the ring's frames may hold, so that
 * the count, never the bytes, says when an event is dropped; a bound. */
#define SSE_RING_BYTES ((size_t)SSE_RING * SSE_FRAME_MAX)
#define SSE_BATCH 32768               /* bytes one stream hands h2o at once */
#define SSE_STREAMS_MAX 256           /* open streams */
#define SSE_KEEPALIVE_MS 15000        /* silence before a keepalive comment */
#define SSE_TICK_MS 5000              /* how often silences are looked at */
#define SSE_RETRY_MS 3000             /* an EventSource's reconnect delay */
#define SSE_REASON_MAX 120            /* bytes of a link's reason kept */
/* The kernel's send buffer of a stream's connection (it doubles it): without
 * a bound it grows to net.ipv4.tcp_wmem's largest (4 MiB), which a client
 * not reading fills and holds. 12,000 events a second to a client 100 ms
 * away. */
#define SSE_SNDBUF (128 * 1024)

static const char keepalive[] = ": keepalive\n\n";

/* One event kept: its frame (malloc'd) and who may see it. */
struct frame {
	char *text;
	size_t len;
	int operator;                 /* link events: operator clients only */
};

/* One client's stream; in its request's pool, so it goes with the request. */
struct stream {
	h2o_generator_t gen;          /* first: h2o hands it back */
	struct sse *s;                /* NULL once sse_free let the stream go */
	h2o_req_t *req;
	h2o_linklist_t link;          /* in s->streams */
	uint64_t pos;                 /* number of the next event to send */
	uint64_t last_ms;             /* mono_ms of the last batch handed over */
	int operator;
	int sending;                  /* h2o holds buf: wait for proceed */
	int ending;                   /* end at the next proceed: ERROR (dropped)
	                               * or FINAL (node stopping) */
	char *buf;                    /* SSE_BATCH bytes, malloc'd */
};

struct sse {
	struct http *h;
	struct frame *ring;           /* SSE_RING slots: number N in N % SSE_RING */
	uint64_t first;               /* oldest number kept */
	uint64_t next;                /* number the next event gets */
	size_t bytes;                 /* of every frame kept */
	char start[24];               /* the node's start, ms: ids' prefix */
	h2o_linklist_t streams;
	size_t nstreams;
	uint64_t dropped;             /* streams dropped for not reading */
	uv_timer_t tick;              /* keepalives */
};

static struct frame *
slot(const struct sse *s, uint64_t num)
{
	return &s->ring[num & (SSE_RING - 1)];
}

static void
drop_oldest(struct sse *s)
{
	struct frame *f = slot(s, s->first);

	s->bytes -= f->len;
	free(f->text);
	f->text = NULL;
	f->len = 0;
	s->first++;
}

/* Keeps the next event: name and data (taken). */
static void
push(struct sse *s, const char *name, json_t *data, int operator)
{
	char head[96], *js;
	struct frame *f;
	size_t hl, jl;

	js = json_dumps(data, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(data);
	if (js == NULL)
		fatalx("out of memory");
	hl = (size_t)snprintf(head, sizeof(head), "id: %s-%" PRIu64 "\nevent: "
	    "%s\ndata: ", s->start, s->next, name);
	jl = strlen(js);
	if (hl >= sizeof(head) || hl + jl + 2 > SSE_FRAME_MAX) {
		/* The fields are bounded so that this cannot be: a bug. */
		log_warnx("http: %s event of %zu bytes not kept (the most is %d)",
		    name, hl + jl + 2, SSE_FRAME_MAX);
		free(js);
		return;
	}
	while (s->next - s->first >= SSE_RING ||
	    s->bytes + hl + jl + 2 > SSE_RING_BYTES)
		drop_oldest(s);
	f = slot(s, s->next);
	f->len = hl + jl + 2;
	f->text = xmalloc(f->len);
	memcpy(f->text, head, hl);
	memcpy(f->text + hl, js, jl);
	memcpy(f->text + hl + jl, "\n\n", 2);
	f->operator = operator;
	s->bytes += f->len;
	s->next++;
	free(js);
}

static json_t *
hex_json(const uint8_t *b)
{
	char hex[LCF_ID_HEX];

	if (b == NULL)
		return json_null();
	return json_string(hex_encode(b, LCF_ID_LEN, hex));
}

static const char *
origin_name(enum events_origin o)
{
	switch (o) {
	case EVENTS_FROM_PEER:
		return "peer";
	case EVENTS_FROM_PUBLISH:
		return "publish";
	case EVENTS_FROM_IMPORT:
		return "import";
	case EVENTS_FROM_NODE:
		return "node";
	}
	return "unknown";
}

static void
push_stored(struct sse *s, const struct events_stored *st)
{
	uint8_t id[RECORD_ID_LEN];
	const struct events_record *r;
	json_t *j;
	size_t i;

	for (i = 0; i < st->count; i++) {
		r = &st->recs[i];
		if (r->result & STORE_DUP)
			continue;
		j = json_object();
		json_object_set_new(j, "kind", json_string(kinds_name(r->kind)));
		/* The writer stored it, so its bytes decode. */
		if (record_peek_id(r->raw, r->len, id) == 0)
			json_object_set_new(j, "id", hex_json(id));
		else
			json_object_set_new(j, "id", json_null());
		json_object_set_new(j, "city", hex_json(r->author));
		json_object_set_new(j, "seq", json_integer((json_int_t)r->seq));
		json_object_set_new(j, "from", json_string(origin_name(st->origin)));
		push(s, "stored", j, 0);
	}
	if (st->partial) {
		/* Some records of this batch are not in it: a client reading
		 * the node's state from the events alone should read it again. */
		j = json_object();
		json_object_set_new(j, "partial", json_true());
		push(s, "resync", j, 0);
	}
}

static const char *
change_name(enum events_membership_change c)
{
	switch (c) {
	case EVENTS_ADMITTED:
		return "admitted";
	case EVENTS_REVOKED:
		return "revoked";
	case EVENTS_EXPIRED:
		return "expired";
	case EVENTS_OWN_CHANGED:
		return "own_changed";
	}
	return "unknown";
}

/* The reason as a JSON string: cut to SSE_REASON_MAX bytes (at a character
 * boundary), and "" when it is not UTF-8. */
static json_t *
reason_json(const char *reason)
{
	size_t n = reason != NULL ? strlen(reason) : 0;
	json_t *v;

	if (n > SSE_REASON_MAX) {
		n = SSE_REASON_MAX;
		while (n > 0 && (reason[n] & 0xc0) == 0x80)
			n--;
	}
	if ((v = json_stringn(n > 0 ? reason : "", n)) == NULL)
		v = json_string("");
	return v;
}

static void
push_link(struct sse *s, const struct events_event *ev)
{
	const struct events_link *l = &ev->u.link;
	const char *state = ev->kind == EVENTS_LINK_UP ? "up" :
	    ev->kind == EVENTS_LINK_DOWN ? "down" : "refused";
	json_t *j = json_object();

	json_object_set_new(j, "state", json_string(state));
	json_object_set_new(j, "city", hex_json(l->city));
	json_object_set_new(j, "outbound", json_boolean(l->outbound));
	if (ev->kind == EVENTS_LINK_UP)
		json_object_set_new(j, "reason", json_null());
	else
		json_object_set_new(j, "reason", reason_json(l->reason));
	if (ev->kind == EVENTS_LINK_REFUSED)
		json_object_set_new(j, "refusal", json_string(l->refusal ==
		    EVENTS_REFUSED_ROOM ? "room" : "membership"));
	push(s, "link", j, 1);
}

/* ---- streams ---- */

size_t
sse_fill(const struct sse *s, uint64_t *pos, int operator, char *buf,
    size_t cap)
{
	const struct frame *f;
	size_t len = 0;

	if (*pos < s->first)
		return 0;
	for (; *pos < s->next; (*pos)++) {
		f = slot(s, *pos);
		if (f->operator && !operator)
			continue;
		if (len + f->len > cap)
			break;
		memcpy(buf + len, f->text, f->len);
		len += f->len;
	}
	return len;
}

static void
hand_over(struct stream *st, size_t len, h2o_send_state_t state)
{
	h2o_iovec_t iov = h2o_iovec_init(st->buf, len);

	st->sending = 1;
	st->last_ms = mono_ms();
	/* A final state may dispose of the request, and st with it, before
	 * h2o_send returns: st is not touched after. */
	h2o_send(st->req, &iov, len > 0 ? 1 : 0, state);
}

/* The connection's socket descriptor when it carries st alone (HTTP/1), or
 * -1. */
static int
stream_fd(const struct stream *st)
{
	h2o_socket_t *sock;

	if (st->req->version >= 0x200 ||
	    st->req->conn->callbacks->get_socket == NULL ||
	    (sock = st->req->conn->callbacks->get_socket(st->req->conn)) == NULL)
		return -1;
	return h2o_socket_get_fd(sock);
}

/* Ends st: a client too slow (ERROR: it sees the stream cut short) or the
 * node stopping (FINAL). st may be gone on return. */
static void
end_stream(struct stream *st, h2o_send_state_t state)
{
	int fd;

	if (!st->sending) {
		hand_over(st, 0, state);
		return;
	}
	st->ending = state;
	/* h2o holds a write that a client not reading never lets finish: shut
	 * the socket down so that the write fails now and h2o closes the
	 * connection. HTTP/1 only: an HTTP/2 connection carries other streams,
	 * so that stream ends at its next proceed, and until then holds its
	 * batch (and its slot among SSE_STREAMS_MAX), no more. */
	if (state == H2O_SEND_STATE_ERROR && (fd = stream_fd(st)) >= 0)
		shutdown(fd, SHUT_RDWR);
}

/* Hands st its next batch, or a keepalive after a silence; drops it when the
 * ring has let its position go. st may be gone on return. */
static void
pump(struct stream *st)
{
	struct sse *s = st->s;
	size_t len;

	if (st->ending)
		return;
	/* Checked with a batch in flight too: a client not reading never
	 * finishes it. */
	if (st->pos < s->first) {
		s->dropped++;
		log_info("http: an event stream is dropped: its client did not "
		    "read %" PRIu64 " events and the node keeps %d (it may "
		    "reconnect with Last-Event-ID)", s->next - st->pos, SSE_RING);
		end_stream(st, H2O_SEND_STATE_ERROR);
		return;
	}
	if (st->sending)
		return;
	len = sse_fill(s, &st->pos, st->operator, st->buf, SSE_BATCH);
	if (len == 0) {
		if (mono_ms() - st->last_ms < SSE_KEEPALIVE_MS)
			return;
		memcpy(st->buf, keepalive, sizeof(keepalive) - 1);
		len = sizeof(keepalive) - 1;
	}
	hand_over(st, len, H2O_SEND_STATE_IN_PROGRESS);
}

/* Runs fn on every stream; fn may end the one it is given. */
static void
each_stream(struct sse *s, void (*fn)(struct stream *))
{
	h2o_linklist_t *l, *next;

	for (l = s->streams.next; l != &s->streams; l = next) {
		next = l->next;
		fn(H2O_STRUCT_FROM_MEMBER(struct stream, link, l));
	}
}

static void
on_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
	struct stream *st = (struct stream *)gen;

	(void)req;
	st->sending = 0;
	if (st->ending || st->s == NULL) {
		end_stream(st, st->ending ? (h2o_send_state_t)st->ending :
		    H2O_SEND_STATE_FINAL);
		return;
	}
	pump(st);
}

static void
on_stop(h2o_generator_t *gen, h2o_req_t *req)
{
	/* The client went away: the pool's end (on_dispose) lets st go. */
	(void)gen;
	(void)req;
}

static void
on_dispose(void *p)
{
	struct stream *st = p;

	if (st->s != NULL) {
		h2o_linklist_unlink(&st->link);
		st->s->nstreams--;
	}
	free(st->buf);
}

static void
on_tick(uv_timer_t *t)
{
	each_stream(t->data, pump);
}

/* ---- the ring's reader side ---- */

int
sse_resume(const struct sse *s, const char *last_id, uint64_t *pos)
{
	const char *dash = strchr(last_id, '-');
	char *end;
	uint64_t num;

	if (dash == NULL || dash == last_id || dash[1] < '0' || dash[1] > '9')
		return LCF_EINVAL;
	errno = 0;
	num = strtoull(dash + 1, &end, 10);
	if (*end != '\0' || errno != 0 || strspn(last_id, "0123456789") !=
	    (size_t)(dash - last_id))
		return LCF_EINVAL;
	/* After the event num of this start, still kept (num + 1 == first: the
	 * stream begins with the oldest, nothing was missed). */
	if ((size_t)(dash - last_id) == strlen(s->start) &&
	    memcmp(last_id, s->start, strlen(s->start)) == 0 &&
	    num + 1 >= s->first && num < s->next) {
		*pos = num + 1;
		return 0;
	}
	/* An event no longer kept, of another start, or not given yet. */
	*pos = s->first;
	return 1;
}

/* The Last-Event-ID the client sent (header, else query), or NULL. */
static const char *
last_event_id(struct http_call *c)
{
	ssize_t i = h2o_find_header_by_str(&c->req->headers,
	    H2O_STRLIT("last-event-id"), -1);
	const char *v;

	if (i >= 0 && c->req->headers.entries[i].value.len > 0)
		return h2o_strdup(&c->req->pool, c->req->headers.entries[i].value.base,
		    c->req->headers.entries[i].value.len).base;
	v = answer_param(c, "last_event_id");
	return v != NULL && v[0] != '\0' ? v : NULL;
}

static void
add_header(h2o_req_t *req, const char *name, const char *v)
{
	h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name),
	    0, NULL, v, strlen(v));
}

/* The first batch: the reconnect delay, a reset when events were missed,
 * then what the ring holds from st->pos. */
static size_t
first_batch(struct stream *st, int reset)
{
	struct sse *s = st->s;
	size_t len;

	len = (size_t)snprintf(st->buf, SSE_BATCH, "retry: %d\n\n", SSE_RETRY_MS);
	if (reset)
		/* Its id says "before the oldest kept": a client reconnecting
		 * right after it resumes from there. */
		len += (size_t)snprintf(st->buf + len, SSE_BATCH - len,
		    "id: %s-%" PRIu64 "\nevent: reset\ndata: {\"missed\":true}"
		    "\n\n", s->start, s->first - 1);
	return len + sse_fill(s, &st->pos, st->operator, st->buf + len,
	    SSE_BATCH - len);
}

void
sse_answer(struct http_call *c)
{
	static const char *const known[] = { "last_event_id", NULL };
	struct sse *s = c->h->sse;
	struct stream *st;
	const char *last;
	uint64_t pos;
	int reset = 0, fd, sndbuf = SSE_SNDBUF;

	if (answer_known_params(c, known) != 0)
		return;
	if (s == NULL) {
		answer_problem(c, 503, NULL, "the node is stopping");
		return;
	}
	pos = s->next;
	if ((last = last_event_id(c)) != NULL &&
	    (reset = sse_resume(s, last, &pos)) < 0) {
		answer_problem(c, 400, "last_event_id", "'%.40s' is not an event "
		    "id of this API (they look like 1700000000000-42)", last);
		return;
	}
	if (c->head) {
		answer_text(c, 200, "text/event-stream", "", 0);
		return;
	}
	if (s->nstreams >= SSE_STREAMS_MAX) {
		answer_problem(c, 503, NULL, "%d event streams are open, the most "
		    "this node serves: try again later", SSE_STREAMS_MAX);
		return;
	}
	st = h2o_mem_alloc_shared(&c->req->pool, sizeof(*st), on_dispose);
	memset(st, 0, sizeof(*st));
	st->gen.proceed = on_proceed;
	st->gen.stop = on_stop;
	st->s = s;
	st->req = c->req;
	st->pos = pos;
	st->operator = c->operator;
	st->buf = xmalloc(SSE_BATCH);
	if ((fd = stream_fd(st)) >= 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF,
	    &sndbuf, sizeof(sndbuf)) != 0)
		log_debug("http: event stream: SO_SNDBUF: %s", strerror(errno));
	h2o_linklist_insert(&s->streams, &st->link);
	s->nstreams++;
	c->taken = 1;
	c->h->stats.requests[200]++;
	c->req->res.status = 200;
	c->req->res.reason = "OK";
	add_header(c->req, "content-type", "text/event-stream");
	add_header(c->req, "cache-control", "no-cache");
	add_header(c->req, "x-content-type-options", "nosniff");
	add_header(c->req, "access-control-allow-origin", "*");
	/* nginx and its kin would otherwise hold the events back. */
	add_header(c->req, "x-accel-buffering", "no");
	h2o_start_response(c->req, &st->gen);
	hand_over(st, first_batch(st, reset), H2O_SEND_STATE_IN_PROGRESS);
}

/* ---- the server's side ---- */

struct sse *
sse_new(struct http *h)
{
	struct sse *s = xcalloc(1, sizeof(*s));

	s->h = h;
	s->ring = xcalloc(SSE_RING, sizeof(*s->ring));
	s->first = s->next = 1;
	snprintf(s->start, sizeof(s->start), "%" PRId64, h->n->started_ms);
	h2o_linklist_init_anchor(&s->streams);
	uv_timer_init(h->n->loop, &s->tick);
	s->tick.data = s;
	uv_timer_start(&s->tick, on_tick, SSE_TICK_MS, SSE_TICK_MS);
	uv_unref((uv_handle_t *)&s->tick);
	return s;
}

static void
tick_closed(uv_handle_t *hd)
{
	struct sse *s = hd->data;

	while (s->first < s->next)
		drop_oldest(s);
	free(s->ring);
	free(s);
}

static void
let_go(struct stream *st)
{
	h2o_linklist_unlink(&st->link);
	st->s->nstreams--;
	st->s = NULL;
	end_stream(st, H2O_SEND_STATE_FINAL);
}

void
sse_free(struct sse *s)
{
	if (s == NULL)
		return;
	/* Each stream ends cleanly now, or at its next proceed when h2o holds
	 * its batch (or when the server closes its connection first). */
	each_stream(s, let_go);
	uv_close((uv_handle_t *)&s->tick, tick_closed);
}

void
sse_on_event(struct http *h, const struct events_event *ev)
{
	struct sse *s = h->sse;

	if (s == NULL)
		return;
	switch (ev->kind) {
	case EVENTS_STORED:
		push_stored(s, &ev->u.stored);
		break;
	case EVENTS_MEMBERSHIP: {
		json_t *j = json_object();

		json_object_set_new(j, "change",
		    json_string(change_name(ev->u.membership.change)));
		json_object_set_new(j, "city", hex_json(ev->u.membership.city));
		push(s, "membership", j, 0);
		break;
	}
	case EVENTS_LINK_UP:
	case EVENTS_LINK_DOWN:
	case EVENTS_LINK_REFUSED:
		push_link(s, ev);
		break;
	default:
		return;
	}
	each_stream(s, pump);
}
