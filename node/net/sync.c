// SPDX-License-Identifier: Apache-2.0
// Reconciliation of the record set with one peer: set digests, IBLTs, then per-author summaries.
// (A session's life and sending are in sync_session.c, author summaries and
// wants in sync_authors.c; what the three share in sync_int.h.)
//
// docs/PROTOCOL.md section 4 specifies the exchange. In short: the initiator
// sends its count and set digest; equal sets end there. Otherwise the side with
// more records decodes the difference of the two IBLTs (the other side sends its
// table), asking for a bigger table, sized from the failed one, while decoding
// fails; when the difference is
// too large for the largest table, or one side is empty, or the author summaries
// are cheaper, both sides exchange per-author summaries and ask for the seqs they
// lack. Records flow in batches under a credit window, and pause while the
// connection is congested (until sync_on_drain); received batches go to
// ingest (verify in the pool, then commit) at most SYNC_INGEST_MAX at a time and
// are acknowledged once committed. Nothing about the peer is remembered between
// sessions, so a peer that lost its database is repaired like any other.
//
// A session is one struct for both roles. Every entry point (a message, an ingest
// callback, the timer) holds a reference while it runs, so a session that ends in
// the middle of it is freed only when the entry point returns.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <uv.h>

#include "base/error.h"
#include "model/iblt.h"
#include "model/kinds.h"
#include "write/ingest.h"
#include "base/log.h"
#include "core/node.h"
#include "model/record.h"
#include "store/store.h"
#include "net/sync.h"
#include "net/sync_int.h"
#include "base/util.h"
#include "base/xmalloc.h"


/* ---- sessions ---- */

static void
timer_close_cb(uv_handle_t *h)
{
	sync__progress_free(h->data);
	free(h->data);
}

static void tick(uv_timer_t *t);
static void pump(struct session *s);

static struct sync_state *
state_get(struct node *n)
{
	struct sync_state *st = n->sync;

	if (st == NULL) {
		st = xcalloc(1, sizeof(*st));
		st->n = n;
		uv_timer_init(n->loop, &st->timer);
		st->timer.data = st;
		/* The timer only watches sessions: it must not keep a loop
		 * alive on its own. */
		uv_unref((uv_handle_t *)&st->timer);
		n->sync = st;
	}
	return st;
}

static struct session *
find(struct sync_state *st, const struct sync_io *io, uint64_t id)
{
	struct session *s;

	for (s = st != NULL ? st->head : NULL; s != NULL; s = s->next)
		if (s->io == io && s->id == id)
			return s;
	return NULL;
}

static struct session *
sess_new(struct sync_state *st, struct sync_io *io, uint64_t id, int initiator)
{
	struct session *s = xcalloc(1, sizeof(*s));

	s->st = st;
	s->n = st->n;
	s->io = io;
	s->id = id;
	s->initiator = initiator;
	s->legacy = sync__legacy(io);
	s->refs = 1;                 /* the list's */
	s->round = 1;
	s->mode = MODE_START;
	s->out_credit = SYNC_WINDOW;
	s->last_active = s->born = mono_ms();
	s->stats.started_ms = now_ms();
	sync__progress_begin(st);
	s->next = st->head;
	st->head = s;
	if (!st->timer_on) {
		uv_timer_start(&st->timer, tick, SYNC_TICK_MS, SYNC_TICK_MS);
		st->timer_on = 1;
	}
	return s;
}

/* ---- sending ---- */

static int
send_start(struct session *s)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__SyncStart ss = LCF__SYNC_START__INIT;
	struct iblt_digest dg;
	uint8_t d[IBLT_DIGEST_BYTES];

	sync__my_digest(s, &dg, d);
	ss.has_session = 1;
	ss.session = s->id;
	ss.has_count = 1;
	ss.count = dg.count;
	ss.has_digest = 1;
	ss.digest.data = d;
	ss.digest.len = sizeof(d);
	if (s->measure) {
		ss.has_measure = 1;
		ss.measure = 1;
	}
	if (s->round > 1) {
		ss.has_tables = 1;
		ss.tables = 1;
	}
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_START;
	m.sync_start = &ss;
	return sync__send(s, &m, 1);
}

/* Our table of class s->cls (cells set, iblt absent: the request for the peer's). */
static int
send_table(struct session *s, int request)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__SyncSketch sk = LCF__SYNC_SKETCH__INIT;
	struct iblt t;
	struct iblt_digest dg;
	uint8_t *buf = NULL;
	int rc;

	store_sketch_view(s->n->store, s->legacy, s->cls, request ? NULL : &t,
	    &dg);
	sk.has_session = 1;
	sk.session = s->id;
	sk.has_count = 1;
	sk.count = dg.count;
	sk.has_cells = 1;
	sk.cells = iblt_class_cells(s->cls);
	if (!request) {
		buf = xmalloc(iblt_size(&t));
		iblt_serialize(&t, buf);
		sk.has_iblt = 1;
		sk.iblt.data = buf;
		sk.iblt.len = iblt_size(&t);
		iblt_free(&t);
	}
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_SKETCH;
	m.sync_sketch = &sk;
	rc = sync__send(s, &m, 1);
	free(buf);
	return rc;
}

/* A SyncWant: ids (n 8-byte prefixes), the cells of a bigger table wanted,
 * credit, done; 0 for what is not asked. */
static int
send_want(struct session *s, const uint8_t *ids, size_t n, uint32_t cells,
    uint32_t credit, int done)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__SyncWant w = LCF__SYNC_WANT__INIT;
	ProtobufCBinaryData *bd = NULL;
	size_t i;
	int rc;

	w.has_session = 1;
	w.session = s->id;
	if (n > 0) {
		bd = xreallocarray(NULL, n, sizeof(*bd));
		for (i = 0; i < n; i++) {
			bd[i].data = (uint8_t *)ids + KEY_LEN * i;
			bd[i].len = KEY_LEN;
		}
		w.ids = bd;
		w.n_ids = n;
	}
	if (cells > 0) {
		w.has_cells = 1;
		w.cells = cells;
	}
	if (credit > 0) {
		w.has_credit = 1;
		w.credit = credit;
	}
	if (done) {
		w.has_done = 1;
		w.done = 1;
	}
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_WANT;
	m.sync_want = &w;
	rc = sync__send(s, &m, n > 0 || cells > 0 || done);
	free(bd);
	return rc;
}

/* Acknowledges one bulk message the peer sent. */
static void
send_ack(struct session *s)
{
	s->in_unacked--;
	send_want(s, NULL, 0, 0, 1, 0);
}

/* ---- the outgoing record stream ---- */

static void
outbatch_init(struct outbatch *b)
{
	memset(b, 0, sizeof(*b));
	b->recs = xreallocarray(NULL, SYNC_BATCH_RECORDS, sizeof(*b->recs));
	b->offs = xreallocarray(NULL, SYNC_BATCH_RECORDS, sizeof(*b->offs));
}

static void
outbatch_free(struct outbatch *b)
{
	free(b->recs);
	free(b->offs);
	free(b->buf);
}

/* Takes a record if the batch has room, else marks it full. */
static int
outbatch_add(struct outbatch *b, const uint8_t *raw, size_t len)
{
	if (b->n == SYNC_BATCH_RECORDS || b->used + len > SYNC_BATCH_BYTES) {
		b->full = 1;
		return BATCH_FULL;
	}
	if (b->used + len > b->cap) {
		size_t cap = b->cap ? b->cap : 64 * 1024;

		while (cap < b->used + len)
			cap *= 2;
		if (cap > SYNC_BATCH_BYTES)
			cap = SYNC_BATCH_BYTES;
		b->buf = xreallocarray(b->buf, cap, 1);
		b->cap = cap;
	}
	memcpy(b->buf + b->used, raw, len);
	/* Records leave in canonical form, whatever an older build stored
	 * (docs/PROTOCOL.md 1.1). */
	(void)record_normalize(b->buf + b->used, len);
	b->offs[b->n] = b->used;
	b->recs[b->n].len = len;
	b->used += len;
	b->n++;
	return 0;
}

/* 1 when the record may go to the session's peer: a peer before
 * KINDS_PROTO_OPEN is never sent a kind it does not know. */
static int
peer_takes(const struct session *s, const uint8_t *raw, size_t len)
{
	int kind;

	return !s->legacy || (record_peek_kind(raw, len, &kind) == 0 &&
	    !kinds_late(kind));
}

struct prefix_visit {
	struct session *s;
	struct outbatch *b;
};

static int
prefix_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct prefix_visit *pv = arg;

	(void)id;
	if (!peer_takes(pv->s, raw, len))
		return 0;
	return outbatch_add(pv->b, raw, len);
}

struct job_visit {
	struct session *s;
	struct outbatch *b;
	struct job *j;
};

static int
job_visit(void *arg, uint64_t seq, const uint8_t id[32], const uint8_t *raw,
    size_t len)
{
	struct job_visit *jv = arg;
	int rc;

	if (peer_takes(jv->s, raw, len) &&
	    (rc = outbatch_add(jv->b, raw, len)) != 0)
		return rc;
	jv->j->next_seq = seq;
	memcpy(jv->j->after, id, 32);
	jv->j->has_after = 1;
	return 0;
}

/* Adds the job's records to b: 1 when the job is finished, 0 when b is full,
 * or a negative store error. */
static int
job_fill(struct session *s, struct job *j, struct outbatch *b)
{
	struct job_visit jv = { s, b, j };
	uint64_t to;
	int rc;

	for (;;) {
		while (j->ri < j->nruns && j->runs[2 * j->ri + 1] < j->next_seq)
			j->ri++;
		if (j->ri < j->nruns && j->runs[2 * j->ri] <= j->next_seq) {
			/* next_seq is held by the peer: skip its run. */
			if (j->runs[2 * j->ri + 1] == UINT64_MAX)
				return 1;
			j->next_seq = j->runs[2 * j->ri + 1] + 1;
			j->has_after = 0;
			j->ri++;
			continue;
		}
		/* Runs start at 1 or later, so this never wraps. */
		to = j->ri < j->nruns ? j->runs[2 * j->ri] - 1 : UINT64_MAX;
		rc = store_scan_author(s->n->store, j->author, j->next_seq,
		    j->has_after ? j->after : NULL, to, job_visit, &jv);
		if (rc == BATCH_FULL)
			return 0;
		if (rc < 0)
			return rc;
		if (to == UINT64_MAX)
			return 1;
		j->next_seq = to + 1;
		j->has_after = 0;
	}
}

/* Fills b from the prefixes, then the author jobs. */
static int
fill_batch(struct session *s, struct outbatch *b)
{
	struct prefix_visit pv = { s, b };
	size_t chunk, consumed;
	int rc;

	while (!b->full && s->keys_pos < s->nkeys) {
		chunk = s->nkeys - s->keys_pos;
		if (chunk > SYNC_PREFIX_CHUNK)
			chunk = SYNC_PREFIX_CHUNK;
		rc = store_get_prefixes(s->n->store, s->keys + KEY_LEN * s->keys_pos,
		    chunk, &consumed, prefix_visit, &pv);
		s->keys_pos += consumed;
		if (rc < 0)
			return rc;
	}
	while (!b->full && s->jobs_pos < s->njobs) {
		struct job *j = &s->jobs[s->jobs_pos];

		rc = job_fill(s, j, b);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			free(j->runs);
			j->runs = NULL;
			s->jobs_pos++;
		}
	}
	/* Finished jobs are dropped from the front now and then. */
	if (s->jobs_pos > 1024 && 2 * s->jobs_pos > s->njobs) {
		memmove(s->jobs, s->jobs + s->jobs_pos,
		    (s->njobs - s->jobs_pos) * sizeof(*s->jobs));
		s->njobs -= s->jobs_pos;
		s->jobs_pos = 0;
	}
	return 0;
}

/* Sends one Records batch: 1 when sent, 0 when there is nothing to send yet,
 * -1 when the session ended. */
static int
send_batch(struct session *s)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__Records r = LCF__RECORDS__INIT;
	struct outbatch b;
	size_t i;
	int rc, complete, ret = -1;

	outbatch_init(&b);
	if ((rc = fill_batch(s, &b)) < 0) {
		sync__abort(s, rc, "reading records to send: %s", lcf_strerror(rc));
		goto out;
	}
	complete = s->peer_wants_done && s->keys_pos == s->nkeys &&
	    s->jobs_pos == s->njobs;
	if (b.n == 0 && !complete) {
		ret = 0;
		goto out;
	}
	for (i = 0; i < b.n; i++)
		b.recs[i].data = b.buf + b.offs[i];
	r.n_records = b.n;
	r.records = b.recs;
	r.has_session = 1;
	r.session = s->id;
	if (complete) {
		r.has_last = 1;
		r.last = 1;
	}
	m.msg_case = LCF__PEER_MSG__MSG_RECORDS;
	m.records = &r;
	if (sync__send(s, &m, complete) != 0)
		goto out;
	s->out_credit--;
	s->stats.records_sent += b.n;
	if (complete)
		s->out_last_sent = 1;
	ret = 1;
out:
	outbatch_free(&b);
	return ret;
}

/* ---- decoding ---- */

struct decoded {
	uint8_t *mine, *theirs;      /* 8-byte prefixes */
	size_t nmine, ntheirs;
};

static int
decoded_add(void *arg, uint64_t key, int side)
{
	struct decoded *d = arg;

	/* The table is ours minus theirs: +1 is a key only we hold. */
	if (side > 0)
		iblt_key_prefix(key, d->mine + KEY_LEN * d->nmine++);
	else
		iblt_key_prefix(key, d->theirs + KEY_LEN * d->ntheirs++);
	return 0;
}

/*
 * The class to ask for after a table of class cls failed to decode, est being
 * iblt_estimate of that table and known the difference in counts (a lower bound
 * of the difference): the smallest class with cells >= 1.3 d + 30 for d the
 * larger of the two; two classes up when the table was too full to estimate
 * from. Always above cls and at most the largest class. The margin is smaller
 * than iblt_class_for's 1.5 because an estimate within a few per cent is known
 * here (1,000 differences, estimated at 1,010, take 1,536 cells, not 3,072);
 * peeling needs about 1.22 cells per key.
 */
static int
next_class(int cls, uint64_t est, uint64_t known)
{
	uint64_t d = est > known ? est : known;
	int next;

	if (est == UINT64_MAX) {
		next = cls + 2;
	} else {
		if (d > UINT32_MAX)
			d = UINT32_MAX;
		for (next = 0; next < IBLT_NCLASSES - 1; next++)
			if (10 * (uint64_t)iblt_class_cells(next) >= 13 * d + 300)
				break;
	}
	if (next <= cls)
		next = cls + 1;
	if (next >= IBLT_NCLASSES)
		next = IBLT_NCLASSES - 1;
	return next;
}

/*
 * A measuring session's end (PROTOCOL 4.11): the initiator keeps the counts
 * and tells the peer with SyncDone{error = LCF_EMEASURED}. Not a control
 * message: nothing is awaited, so no round trip starts.
 */
static void
measured(struct session *s, enum sync_measure_kind kind, uint64_t here,
    uint64_t there)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__SyncDone d = LCF__SYNC_DONE__INIT;
	static const char *const how[] = { "", "exactly", "about", "at least" };

	s->stats.measure_kind = kind;
	s->stats.only_here = here;
	s->stats.only_there = there;
	d.has_session = 1;
	d.session = s->id;
	d.has_error = 1;
	d.error = LCF_EMEASURED;
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_DONE;
	m.sync_done = &d;
	if (sync__send(s, &m, 0) == 0)
		sync__end(s, 0, "measured: %s %llu only here, %llu only at the peer",
		    how[kind], (unsigned long long)here, (unsigned long long)there);
}

/*
 * The largest table failed in a measuring session: with est its d' and
 * mine, theirs the two counts, the ids only here and only there are about
 * (d' + (mine - theirs)) / 2 and the rest; a table too full to estimate
 * from leaves the counts' difference, a lower bound.
 */
static void
measured_roughly(struct session *s, uint64_t est, uint64_t mine,
    uint64_t theirs)
{
	uint64_t diff = mine > theirs ? mine - theirs : theirs - mine;
	uint64_t here, there;

	if (est == UINT64_MAX) {
		measured(s, SYNC_MEASURE_LOWER, mine > theirs ? diff : 0,
		    mine > theirs ? 0 : diff);
		return;
	}
	if (est < diff)
		est = diff;
	/* The larger side holds exactly diff more than the other (the counts
	 * are exact); the estimate shares out the rest. */
	there = (est - diff) / 2;
	here = there + diff;
	if (mine < theirs) {
		uint64_t t = here;

		here = there;
		there = t;
	}
	measured(s, SYNC_MEASURE_ESTIMATE, here, there);
}

/* Subtracts the peer's table from ours and acts on the result. */
static int
decode(struct session *s, const Lcf__SyncSketch *m)
{
	struct iblt peer, mine;
	struct iblt_digest dg;
	struct decoded d;
	uint64_t est, known;
	int rc, ret = LCF_EPROTO;

	memset(&mine, 0, sizeof(mine));
	memset(&d, 0, sizeof(d));
	if (iblt_parse(&peer, m->cells, m->iblt.data, m->iblt.len) != 0)
		goto out;
	store_sketch_view(s->n->store, s->legacy, peer.cls, &mine, &dg);
	iblt_subtract(&mine, &peer);
	/* Decoding consumes the table: estimate the difference first, for
	 * the size of the next table should this one fail. */
	est = iblt_estimate(&mine);
	known = !m->has_count ? 0 : dg.count > m->count ? dg.count - m->count :
	    m->count - dg.count;
	d.mine = xreallocarray(NULL, mine.ncells, KEY_LEN);
	d.theirs = xreallocarray(NULL, mine.ncells, KEY_LEN);
	rc = iblt_decode(&mine, decoded_add, &d);
	if (rc == LCF_EPROTO)
		goto out;
	ret = 0;
	if (rc == LCF_ETOOBIG) {
		if (s->measure && s->cls + 1 >= IBLT_NCLASSES) {
			measured_roughly(s, est, dg.count, m->has_count ? m->count :
			    dg.count);
		} else if (s->cls + 1 < IBLT_NCLASSES) {
			s->cls = next_class(s->cls, est, known);
			s->await_table = 1;
			send_want(s, NULL, 0, iblt_class_cells(s->cls), 0, 0);
		} else {
			/* Too many differences for any table. */
			sync__enter_authors(s);
		}
		goto out;
	}
	if (s->measure) {
		measured(s, SYNC_MEASURE_EXACT, d.nmine, d.ntheirs);
		goto out;
	}
	s->keys = d.mine;
	s->nkeys = d.nmine;
	d.mine = NULL;
	s->stream_open = 1;
	s->peer_wants_done = 1;      /* the peer sends tables, never wants */
	if (s->no_pull)
		d.ntheirs = 0;       /* the store is full: ask for nothing */
	sync__progress_ids(s->st, d.theirs, d.ntheirs, KEY_LEN);
	send_want(s, d.theirs, d.ntheirs, 0, 0, 1);
out:
	iblt_free(&peer);
	iblt_free(&mine);
	free(d.mine);
	free(d.theirs);
	return ret;
}

/* ---- receiving ---- */

static int
on_sketch(struct session *s, const Lcf__SyncSketch *m)
{
	int cls;

	if (m->has_equal && m->equal) {
		if (!s->initiator || s->mode != MODE_START)
			return LCF_EPROTO;
		if (s->measure) {
			/* The responder found the sets equal: it forgot the
			 * session, so no SyncDone goes back. */
			s->stats.measure_kind = SYNC_MEASURE_EXACT;
			sync__end(s, 0, "measured: in sync (%llu records)",
			    (unsigned long long)m->count);
			return 0;
		}
		sync__end(s, 0, "in sync (%llu records)",
		    (unsigned long long)m->count);
		return 0;
	}
	if (m->has_iblt) {
		if (!m->has_cells || (cls = iblt_class_of_cells(m->cells)) < 0)
			return LCF_EPROTO;
		if (s->mode == MODE_START && s->initiator) {
			s->mode = MODE_IBLT;
			s->decoder = 1;
			s->cls = cls;
		} else if (!(s->mode == MODE_IBLT && s->decoder && s->await_table &&
		    cls == s->cls)) {
			return LCF_EPROTO;
		}
		s->await_table = 0;
		return decode(s, m);
	}
	/* In a measuring session the responder only sends its tables. */
	if (s->measure)
		return LCF_EPROTO;
	if (m->has_cells) {
		/* The responder decodes: it asks for our table. */
		if (!s->initiator || s->mode != MODE_START ||
		    (cls = iblt_class_of_cells(m->cells)) < 0)
			return LCF_EPROTO;
		s->mode = MODE_IBLT;
		s->decoder = 0;
		s->cls = cls;
		send_table(s, 0);
		return 0;
	}
	return sync__on_summaries(s, m);
}

static int
on_want(struct session *s, const Lcf__SyncWant *m)
{
	size_t i, limit;
	int cls, done = m->has_done && m->done;

	/* A measuring session asks for bigger tables, never for records. */
	if (s->measure && (m->n_ids > 0 || m->n_authors > 0 || done ||
	    m->has_credit))
		return LCF_EPROTO;
	if (m->has_credit) {
		if (m->credit > SYNC_WINDOW - s->out_credit)
			return LCF_EPROTO;
		s->out_credit += m->credit;
	}
	if (m->has_cells) {
		/* The decoder's table failed: it asks for a bigger one. */
		if (s->mode != MODE_IBLT || s->decoder || s->stream_open ||
		    (cls = iblt_class_of_cells(m->cells)) < 0 || cls <= s->cls)
			return LCF_EPROTO;
		s->cls = cls;
		send_table(s, 0);
		if (s->ended)
			return 0;
	}
	if (m->n_ids > 0 || (done && s->mode == MODE_IBLT)) {
		/* Prefixes the decoder wants: never more than a table of the
		 * class we sent can hold. */
		if (s->mode != MODE_IBLT || s->decoder || s->peer_wants_done)
			return LCF_EPROTO;
		limit = iblt_class_cells(s->cls);
		if (m->n_ids > limit - s->nkeys)
			return LCF_EPROTO;
		for (i = 0; i < m->n_ids; i++)
			if (m->ids[i].len != KEY_LEN)
				return LCF_EPROTO;
		if (m->n_ids > 0) {
			s->keys = xreallocarray(s->keys, s->nkeys + m->n_ids, KEY_LEN);
			for (i = 0; i < m->n_ids; i++)
				memcpy(s->keys + KEY_LEN * s->nkeys++, m->ids[i].data,
				    KEY_LEN);
		}
	}
	if (m->n_authors > 0) {
		if (s->mode != MODE_AUTHORS || s->peer_wants_done ||
		    m->n_authors > SYNC_PAGE_AUTHORS ||
		    s->jobs_total + m->n_authors > SYNC_MAX_AUTHOR_JOBS)
			return LCF_EPROTO;
		/* Authors strictly ascending over the whole session: the same
		 * author's history cannot be asked for twice. */
		for (i = 0; i < m->n_authors; i++) {
			if (sync__check_author_want(m->authors[i]) != 0 || (s->want_any &&
			    memcmp(m->authors[i]->author.data, s->want_last, 32) <= 0))
				return LCF_EPROTO;
			memcpy(s->want_last, m->authors[i]->author.data, 32);
			s->want_any = 1;
		}
		for (i = 0; i < m->n_authors; i++)
			sync__add_job(s, m->authors[i]);
	}
	if (done) {
		if (s->peer_wants_done || s->mode == MODE_START ||
		    (s->mode == MODE_IBLT && s->decoder))
			return LCF_EPROTO;
		s->peer_wants_done = 1;
		s->stream_open = 1;
	}
	return 0;
}

static int
on_records(struct session *s, const Lcf__Records *m)
{
	struct inbatch *b;
	size_t i, total = 0, off = 0;

	if (s->measure || s->peer_last || s->mode == MODE_START ||
	    m->n_records > SYNC_BATCH_RECORDS || s->in_unacked >= SYNC_WINDOW)
		return LCF_EPROTO;
	for (i = 0; i < m->n_records; i++) {
		if (m->records[i].len == 0 || m->records[i].len > RECORD_MAX_SIGNED)
			return LCF_EPROTO;
		total += m->records[i].len;
	}
	if (total > SYNC_BATCH_BYTES)
		return LCF_EPROTO;
	b = xcalloc(1, sizeof(*b));
	b->s = s;
	b->n = m->n_records;
	b->last = m->has_last && m->last;
	if (b->n > 0) {
		b->buf = xmalloc(total);
		b->raws = xreallocarray(NULL, b->n, sizeof(*b->raws));
		b->lens = xreallocarray(NULL, b->n, sizeof(*b->lens));
		for (i = 0; i < b->n; i++) {
			memcpy(b->buf + off, m->records[i].data, m->records[i].len);
			b->raws[i] = b->buf + off;
			b->lens[i] = m->records[i].len;
			off += m->records[i].len;
		}
	}
	if (s->qtail != NULL)
		s->qtail->next = b;
	else
		s->qhead = b;
	s->qtail = b;
	s->in_unacked++;
	s->stats.records_received += b->n;
	if (b->last)
		s->peer_last = 1;
	return 0;
}

static int
on_done(struct session *s, const Lcf__SyncDone *m)
{
	if (m->has_error && m->error == LCF_EMEASURED && s->measure &&
	    !s->initiator) {
		/* The initiator measured: the session ends well. */
		sync__end(s, 0, "measured by the peer: no records sent");
		return 0;
	}
	if (m->has_error && m->error != 0) {
		sync__end(s, m->error < 0 ? m->error : LCF_EPROTO,
		    "the peer ended the session: %s", lcf_strerror(m->error));
		return 0;
	}
	if (!s->initiator || s->peer_done || !m->has_count || !m->has_digest ||
	    m->digest.len != IBLT_DIGEST_BYTES)
		return LCF_EPROTO;
	s->peer_done = 1;
	s->peer_count = m->count;
	memcpy(s->peer_digest, m->digest.data, IBLT_DIGEST_BYTES);
	return 0;
}

/* ---- ingest ---- */

static void
on_ingested(void *arg, const struct ingest_result *r)
{
	struct inbatch *b = arg;
	struct session *s = b->s;

	s->inflight--;
	if (!s->ended && r->bad > 0) {
		/* As for pushed records: a sender of malformed or badly signed
		 * records is cut off, not merely ignored. */
		struct sync_io *io = s->io;

		sync__abort(s, LCF_EPROTO, "%zu malformed or badly signed "
		    "records: %s", r->bad, r->reason);
		if (io != NULL && io->violation != NULL)
			io->violation(io->arg, r->reason);
	} else if (!s->ended) {
		s->last_active = mono_ms();
		s->stored += r->stored;
		/* A superseded beacon was announced as lacking, and is done
		 * with though not stored. */
		sync__progress_stored(s->st, r->stored + r->superseded);
		s->refused += r->refused;
		/* Logged like refused pushes: a refusal is news for the
		 * operator (a retired or revoked key still writing). */
		if (r->refused > 0)
			log_info("sync %016llx: %zu records refused: %s",
			    (unsigned long long)s->id, r->refused, r->reason);
		if (r->error != 0) {
			sync__abort(s, r->error, "storing received records: %s",
			    r->reason[0] ? r->reason : lcf_strerror(r->error));
		} else {
			if (!b->last)
				send_ack(s);
			pump(s);
		}
	}
	sync__inbatch_free(b);
	sync__drop(s);
}

/* Hands queued batches to ingest, at most SYNC_INGEST_MAX at a time. */
static void
ingest_pump(struct session *s)
{
	struct inbatch *b;
	int rc;

	while (!s->ended && s->inflight < SYNC_INGEST_MAX && s->qhead != NULL) {
		b = s->qhead;
		s->qhead = b->next;
		if (s->qhead == NULL)
			s->qtail = NULL;
		b->next = NULL;
		if (b->n == 0) {
			if (!b->last)
				send_ack(s);
			sync__inbatch_free(b);
			continue;
		}
		rc = ingest_submit_via(s->n, s->io->arg, EVENTS_VIA_SYNC, b->raws,
		    b->lens, b->n, on_ingested, b);
		/* ingest copied the records: only the batch's place in the
		 * session is kept for the callback. */
		free(b->buf);
		free(b->raws);
		free(b->lens);
		b->buf = NULL;
		b->raws = NULL;
		b->lens = NULL;
		if (rc != 0) {
			sync__inbatch_free(b);
			sync__abort(s, rc, "ingest: %s", lcf_strerror(rc));
			return;
		}
		s->inflight++;
		sync__hold(s);
	}
}

/* ---- the end of a round ---- */

static void
restart(struct session *s)
{
	struct sync_state *st = s->st;
	uint64_t id;

	sync__release(s);
	do {
		randombytes_buf(&id, sizeof(id));
	} while (id == 0 || find(st, s->io, id) != NULL);
	/* A new id: late messages of the first round cannot be mistaken for
	 * the second's. */
	s->id = id;
	s->round++;
	s->mode = MODE_START;
	s->decoder = 0;
	s->cls = 0;
	s->await_table = 0;
	s->sum_sent_done = s->sum_have_after = 0;
	s->peer_sum_done = s->peer_sum_have_last = 0;
	s->stream_open = s->peer_wants_done = 0;
	s->jobs_total = 0;
	s->job_runs = 0;
	s->out_credit = SYNC_WINDOW;
	s->out_last_sent = 0;
	s->in_unacked = 0;
	s->peer_last = 0;
	s->peer_done = 0;
	send_start(s);
}

static void
check_end(struct session *s)
{
	struct iblt_digest dg;
	uint8_t d[IBLT_DIGEST_BYTES];

	if (!s->out_last_sent || !s->peer_last || s->qhead != NULL ||
	    s->inflight > 0)
		return;
	if (!s->initiator) {
		sync__send_done(s, 0);
		if (!s->ended)
			sync__end(s, 0, "round done: received %llu records, sent %llu",
			    (unsigned long long)s->stats.records_received,
			    (unsigned long long)s->stats.records_sent);
		return;
	}
	if (!s->peer_done)
		return;
	sync__my_digest(s, &dg, d);
	if (dg.count == s->peer_count &&
	    memcmp(d, s->peer_digest, IBLT_DIGEST_BYTES) == 0) {
		sync__end(s, 0, "in sync: received %llu records (%llu new), "
		    "sent %llu", (unsigned long long)s->stats.records_received,
		    (unsigned long long)s->stored,
		    (unsigned long long)s->stats.records_sent);
	} else if (s->used_authors && s->round < SYNC_MAX_ROUNDS) {
		/* Summaries cannot see forks whose seq both sides hold: a
		 * round of tables settles what remains. */
		s->used_authors = 0;
		restart(s);
	} else {
		sync__end(s, 0, "sets still differ after %d round(s): %llu "
		    "records here, %llu at the peer (%llu refused here)", s->round,
		    (unsigned long long)dg.count,
		    (unsigned long long)s->peer_count,
		    (unsigned long long)s->refused);
	}
}

/*
 * 1 while the connection's write queue is congested: no bulk message may be
 * added until the peer manager calls sync_on_drain. Credit alone does not
 * bound what waits in our own queue: a full window is 32 batches of 2 MiB,
 * as much as the connection accepts at all (64 MiB), so a window sent in one
 * go left no room for the next message, and the session died on it.
 */
static int
congested(const struct session *s)
{
	return s->io != NULL && s->io->congested != NULL &&
	    s->io->congested(s->io->arg);
}

/* Moves a session as far as credit, congestion, sources and ingest allow. */
static void
pump(struct session *s)
{
	sync__hold(s);
	while (!s->ended && s->mode == MODE_AUTHORS && !s->sum_sent_done &&
	    s->out_credit > 0 && !congested(s))
		sync__send_summary_page(s);
	/* In author mode our summaries go first: the peer asks from them. */
	while (!s->ended && s->stream_open && !s->out_last_sent &&
	    s->out_credit > 0 && (s->mode != MODE_AUTHORS || s->sum_sent_done) &&
	    !congested(s)) {
		if (send_batch(s) <= 0)
			break;
	}
	if (!s->ended)
		ingest_pump(s);
	if (!s->ended)
		check_end(s);
	sync__drop(s);
}

/* ---- the responder's choice ---- */

static int
count_responders(const struct sync_state *st, const struct sync_io *io)
{
	const struct session *s;
	int n = 0;

	for (s = st->head; s != NULL; s = s->next)
		if (!s->initiator && (io == NULL || s->io == io))
			n++;
	return n;
}

/*
 * The responder session that gives way to a peer holding none, or NULL: the
 * quietest of a peer holding two slots (lcnode runs one session per peer at a
 * time; a second is at most a brief overlap), else the quietest of those
 * without progress for SYNC_YIELD_MS. Two peers could otherwise hold all four
 * slots for good, and every other city would be told busy.
 */
static struct session *
yielding_session(const struct sync_state *st)
{
	struct session *s, *best = NULL;
	uint64_t now = mono_ms();
	int doubled, best_doubled = 0;

	for (s = st->head; s != NULL; s = s->next) {
		if (s->initiator || s->ended)
			continue;
		doubled = count_responders(st, s->io) >= 2;
		if (!doubled && now - s->last_active < SYNC_YIELD_MS)
			continue;
		if (best == NULL || doubled > best_doubled ||
		    (doubled == best_doubled && s->last_active < best->last_active)) {
			best = s;
			best_doubled = doubled;
		}
	}
	return best;
}

/* Answers without a session (equal sets, busy). */
static int
reply_bare(struct sync_io *io, uint64_t session, int equal, uint64_t count,
    int error)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__SyncSketch sk = LCF__SYNC_SKETCH__INIT;
	Lcf__SyncDone d = LCF__SYNC_DONE__INIT;
	size_t wire = 0;

	if (equal) {
		sk.has_session = 1;
		sk.session = session;
		sk.has_equal = 1;
		sk.equal = 1;
		sk.has_count = 1;
		sk.count = count;
		m.msg_case = LCF__PEER_MSG__MSG_SYNC_SKETCH;
		m.sync_sketch = &sk;
	} else {
		d.has_session = 1;
		d.session = session;
		d.has_error = 1;
		d.error = error;
		m.msg_case = LCF__PEER_MSG__MSG_SYNC_DONE;
		m.sync_done = &d;
	}
	return io->send(io->arg, &m, &wire);
}

/* Picks the path for a peer holding theirs records when we hold mine; with
 * tables, summaries only when no table could hold the difference. */
static void
choose(struct session *s, uint64_t mine, uint64_t theirs, int tables)
{
	uint64_t d = mine > theirs ? mine - theirs : theirs - mine;
	uint64_t table_bytes, authors;
	int cls = iblt_class_for(d);
	/* A store that cannot count its authors: tables, which need no count. */
	int counted = store_authors(s->n->store, &authors) == 0;

	table_bytes = (uint64_t)iblt_class_cells(cls) * IBLT_CELL_BYTES;
	/*
	 * Summaries when a table would only list one side's whole set, when the
	 * difference is known to exceed the largest table, or when both sides'
	 * summaries cost less than half the table they replace.
	 */
	/* A side that may not pull (a full store) takes summaries: a few
	 * bytes per author, where a table grows with the difference (2 MiB
	 * a round for 7,000 records measured), and it asks for nothing. */
	if (s->no_pull || 2 * (uint64_t)iblt_class_cells(cls) < 3 * d + 60 ||
	    (!tables && (mine == 0 || theirs == 0 ||
	    (counted && 2 * authors * SUMMARY_WIRE_BYTES <=
	    table_bytes / 2)))) {
		sync__enter_authors(s);
		return;
	}
	s->mode = MODE_IBLT;
	s->cls = cls;
	if (mine > theirs) {
		/* The side with more records decodes: the records only it
		 * holds then go out without a list of ids first. */
		s->decoder = 1;
		s->await_table = 1;
		send_table(s, 1);
	} else {
		s->decoder = 0;
		send_table(s, 0);
	}
}

/* A measuring session's responder (PROTOCOL 4.11): its own table, of the
 * class the counts suggest (the largest when none is enough), whoever holds
 * more; the initiator decodes and asks for larger ones. */
static void
measure_answer(struct session *s, uint64_t mine, uint64_t theirs)
{
	s->measure = 1;
	s->mode = MODE_IBLT;
	s->decoder = 0;
	s->cls = iblt_class_for(mine > theirs ? mine - theirs : theirs - mine);
	send_table(s, 0);
}

/*
 * Counts a SyncStart against the peer's allowance: 0, or LCF_EBUSY beyond it.
 * start_due moves one interval ahead per start, and never stays behind now:
 * a start is allowed while it is less than a burst of intervals ahead.
 */
static int
take_start_token(struct sync_io *io)
{
	uint64_t now = mono_ms();
	uint64_t due = io->start_due > now ? io->start_due : now;

	if (due - now > (uint64_t)(SYNC_START_BURST - 1) * SYNC_START_EVERY_MS)
		return LCF_EBUSY;
	io->start_due = due + SYNC_START_EVERY_MS;
	return 0;
}

static int
on_start(struct node *n, struct sync_io *io, const Lcf__SyncStart *m,
    size_t wire_bytes)
{
	struct sync_state *st = state_get(n);
	struct session *s;
	struct iblt_digest dg;
	uint8_t d[IBLT_DIGEST_BYTES];

	if (!m->has_session || m->session == 0 || !m->has_count ||
	    !m->has_digest || m->digest.len != IBLT_DIGEST_BYTES)
		return LCF_EPROTO;
	/* Session ids are unique per peer across both roles: every later
	 * message is found by id alone. */
	if (find(st, io, m->session) != NULL)
		return LCF_EPROTO;
	if (st->stopping ||
	    (io->congested != NULL && io->congested(io->arg)) ||
	    count_responders(st, io) >= SYNC_MAX_RESPONDERS_PER_PEER ||
	    take_start_token(io) != 0) {
		reply_bare(io, m->session, 0, 0, LCF_EBUSY);
		return 0;
	}
	if (count_responders(st, NULL) >= SYNC_MAX_RESPONDERS) {
		if (count_responders(st, io) > 0 ||
		    (s = yielding_session(st)) == NULL) {
			reply_bare(io, m->session, 0, 0, LCF_EBUSY);
			return 0;
		}
		log_info("sync %016llx: gives way to another city's reconciliation "
		    "(every slot was taken)", (unsigned long long)s->id);
		sync__abort(s, LCF_EBUSY, "gave way to another city's "
		    "reconciliation");
	}
	store_sketch_view(n->store, sync__legacy(io), 0, NULL, &dg);
	iblt_digest_bytes(&dg, d);
	if (dg.count == m->count && memcmp(d, m->digest.data, sizeof(d)) == 0) {
		reply_bare(io, m->session, 1, dg.count, 0);
		return 0;
	}
	s = sess_new(st, io, m->session, 0);
	s->stats.bytes_received += wire_bytes;
	s->no_pull = !(m->has_measure && m->measure) && !space_pull_allowed(n);
	sync__hold(s);
	if (m->has_measure && m->measure)
		measure_answer(s, dg.count, m->count);
	else
		choose(s, dg.count, m->count, m->has_tables && m->tables);
	pump(s);
	sync__drop(s);
	return 0;
}

/* ---- public ---- */

int
sync_responding(struct node *n, const struct sync_io *io)
{
	struct sync_state *st = n != NULL ? n->sync : NULL;

	return st != NULL && io != NULL && count_responders(st, io) > 0;
}

int
sync_begin(struct node *n, struct sync_io *io, sync_done_cb cb, void *arg)
{
	struct sync_state *st = state_get(n);
	struct session *s;
	uint64_t id;
	int ret = LCF_EBUSY;

	if (st->stopping)
		goto out;
	for (s = st->head; s != NULL; s = s->next)
		if (s->io == io && s->initiator && !s->measure)
			goto out;
	do {
		randombytes_buf(&id, sizeof(id));
	} while (id == 0 || find(st, io, id) != NULL);
	s = sess_new(st, io, id, 1);
	sync__hold(s);
	/* A failed send ends the session before the callback is set: it never
	 * runs when the starter fails. */
	if ((ret = send_start(s)) == 0) {
		s->cb = cb;
		s->cb_arg = arg;
	}
	sync__drop(s);
out:
	return ret;
}

int
sync_measure(struct node *n, struct sync_io *io, sync_done_cb cb, void *arg)
{
	struct sync_state *st = state_get(n);
	struct session *s;
	uint64_t id;
	int ret = LCF_EVERSION;

	/* An older peer would ignore `measure` and transfer records. */
	if (io->version != 0 && io->version < SYNC_PROTO_MEASURE)
		goto out;
	ret = LCF_EBUSY;
	if (st->stopping)
		goto out;
	for (s = st->head; s != NULL; s = s->next)
		if (s->io == io && s->initiator && s->measure)
			goto out;
	do {
		randombytes_buf(&id, sizeof(id));
	} while (id == 0 || find(st, io, id) != NULL);
	s = sess_new(st, io, id, 1);
	s->measure = 1;
	sync__hold(s);
	if ((ret = send_start(s)) == 0) {
		s->cb = cb;
		s->cb_arg = arg;
	}
	sync__drop(s);
out:
	return ret;
}

static uint64_t
message_session(const Lcf__PeerMsg *m)
{
	switch (m->msg_case) {
	case LCF__PEER_MSG__MSG_RECORDS:
		return m->records->has_session ? m->records->session : 0;
	case LCF__PEER_MSG__MSG_SYNC_SKETCH:
		return m->sync_sketch->has_session ? m->sync_sketch->session : 0;
	case LCF__PEER_MSG__MSG_SYNC_WANT:
		return m->sync_want->has_session ? m->sync_want->session : 0;
	case LCF__PEER_MSG__MSG_SYNC_DONE:
		return m->sync_done->has_session ? m->sync_done->session : 0;
	default:
		return 0;
	}
}

/* A message the initiator waited for (not a record batch or a bare credit). */
static int
is_answer(const Lcf__PeerMsg *m)
{
	const Lcf__SyncWant *w;

	switch (m->msg_case) {
	case LCF__PEER_MSG__MSG_RECORDS:
		return m->records->has_last && m->records->last;
	case LCF__PEER_MSG__MSG_SYNC_WANT:
		w = m->sync_want;
		return w->n_ids > 0 || w->n_authors > 0 ||
		    w->has_cells || (w->has_done && w->done);
	default:
		return 1;
	}
}

/* An empty acknowledgement or batch is not progress: it must not keep a
 * session (and its slot) alive. */
static int
is_progress(const Lcf__PeerMsg *m)
{
	if (m->msg_case == LCF__PEER_MSG__MSG_SYNC_WANT)
		return m->sync_want->n_ids > 0 || m->sync_want->n_authors > 0 ||
		    m->sync_want->has_cells || m->sync_want->done ||
		    (m->sync_want->has_credit && m->sync_want->credit > 0);
	if (m->msg_case == LCF__PEER_MSG__MSG_RECORDS)
		return m->records->n_records > 0 || m->records->last;
	return 1;
}

int
sync_on_message(struct node *n, struct sync_io *io, const Lcf__PeerMsg *m,
    size_t wire_bytes)
{
	struct session *s;
	uint64_t id;
	int ret = 0;

	if (m->msg_case == LCF__PEER_MSG__MSG_SYNC_START)
		return on_start(n, io, m->sync_start, wire_bytes);
	if ((id = message_session(m)) == 0)
		return m->msg_case == LCF__PEER_MSG__MSG_RECORDS ? 0 : LCF_EPROTO;
	/* A session that ended (timeout, abort) may still get late messages. */
	if ((s = find(n->sync, io, id)) == NULL)
		return 0;
	sync__hold(s);
	s->stats.bytes_received += wire_bytes;
	if (is_progress(m))
		s->last_active = mono_ms();
	if (is_answer(m))
		s->in_flight = 0;
	switch (m->msg_case) {
	case LCF__PEER_MSG__MSG_RECORDS:
		ret = on_records(s, m->records);
		break;
	case LCF__PEER_MSG__MSG_SYNC_SKETCH:
		ret = on_sketch(s, m->sync_sketch);
		break;
	case LCF__PEER_MSG__MSG_SYNC_WANT:
		ret = on_want(s, m->sync_want);
		break;
	case LCF__PEER_MSG__MSG_SYNC_DONE:
		ret = on_done(s, m->sync_done);
		break;
	default:
		ret = LCF_EPROTO;
		break;
	}
	if (ret < 0)
		sync__end(s, ret, "the peer broke the sync protocol");
	else
		pump(s);
	sync__drop(s);
	return ret;
}

void
sync_peer_gone(struct node *n, struct sync_io *io)
{
	struct sync_state *st = n->sync;
	struct session *s;

	if (st == NULL)
		return;
	/* Each end may run callbacks that change the list: start over. */
	for (;;) {
		for (s = st->head; s != NULL && s->io != io; s = s->next)
			;
		if (s == NULL)
			break;
		sync__end(s, LCF_ECLOSED, "the peer disconnected");
	}
}

void
sync_on_drain(struct node *n, struct sync_io *io)
{
	struct sync_state *st = n->sync;
	struct session *s;

	if (st == NULL)
		return;
	for (s = st->head; s != NULL; s = s->next)
		s->drain_due = s->io == io;
	/* A pump may end sessions and run callbacks that change the list:
	 * each round starts over and takes the first session still due. */
	for (;;) {
		for (s = st->head; s != NULL && !s->drain_due; s = s->next)
			;
		if (s == NULL)
			break;
		s->drain_due = 0;
		pump(s);
	}
}

void
sync_progress(struct node *n, uint64_t *running, uint64_t *records)
{
	const struct session *s;

	*running = 0;
	*records = 0;
	if (n->sync == NULL)
		return;
	for (s = n->sync->head; s != NULL; s = s->next) {
		(*running)++;
		*records += s->stats.records_received;
	}
}

static void
tick(uv_timer_t *t)
{
	struct sync_state *st = t->data;
	struct session *s;
	uint64_t now = mono_ms();

	for (;;) {
		for (s = st->head; s != NULL; s = s->next)
			if (now - s->last_active > SYNC_TIMEOUT_MS ||
			    now - s->born > SYNC_LIFETIME_MS || (s->measure &&
			    s->initiator && now - s->born >= SYNC_MEASURE_TIMEOUT_MS))
				break;
		if (s == NULL)
			break;
		if (s->measure && s->initiator &&
		    now - s->born >= SYNC_MEASURE_TIMEOUT_MS)
			sync__abort(s, LCF_ETIMEDOUT, "no measure within %d s",
			    SYNC_MEASURE_TIMEOUT_MS / 1000);
		else if (now - s->last_active > SYNC_TIMEOUT_MS)
			sync__abort(s, LCF_ECLOSED, "no progress for %d s",
			    SYNC_TIMEOUT_MS / 1000);
		else
			sync__abort(s, LCF_ECLOSED, "ran for %d minutes: it resumes "
			    "with the next reconciliation", SYNC_LIFETIME_MS / 60000);
	}
}

void
sync_stop(struct node *n)
{
	struct sync_state *st = n->sync;

	if (st == NULL)
		return;
	st->stopping = 1;
	while (st->head != NULL)
		sync__abort(st->head, LCF_ECLOSED, "the node is stopping");
	n->sync = NULL;
	uv_close((uv_handle_t *)&st->timer, timer_close_cb);
}
