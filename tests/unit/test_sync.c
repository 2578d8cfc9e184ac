// SPDX-License-Identifier: Apache-2.0
// Unit tests for sync: two nodes' stores in one process, linked by an in-memory message pipe.
//
// Each test opens two real stores (temporary directories), fills them with
// signed practice records, and runs reconciliation through sync_begin and
// sync_on_message. The pipe delivers every serialized message on a later loop
// iteration, as a connection would, and counts its bytes. Received records go
// through the real ingest_submit (verify in the pool, store). The hostile tests
// feed hand-made messages to one node and check that it refuses them.
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <uv.h>

#include "base/error.h"
#include "model/iblt.h"
#include "model/identity.h"
#include "write/ingest.h"
#include "core/node.h"
#include "peer.pb-c.h"
#include "model/record.h"
#include "store/store.h"
#include "net/sync.h"
#include "base/util.h"
#include "unit_util.h"

#define TEST_MAP_SIZE (4ULL << 30)       /* sparse; the bench needs it */
#define MAX_AUTHORS 1024
#define PUT_CHUNK 2000

/* One signed record. */
struct rec {
	uint8_t *raw;
	size_t len;
	uint8_t id[RECORD_ID_LEN];
	int author;
	uint64_t seq;
};

struct recs {
	struct rec *r;
	size_t n, cap;
};

/* A message in the pipe. */
struct msg {
	struct msg *next;
	struct side *to;
	uint8_t *buf;
	size_t len;
};

struct world;

/* One node and its end of the pipe. With capture set, what it sends is kept
 * for the test to read instead of being delivered. */
struct side {
	struct node n;
	struct world *w;
	struct side *peer;
	struct sync_io io;
	char dir[64];
	uint64_t bytes_out;       /* serialized messages sent */
	uint64_t record_field_bytes;   /* records inside them, with field headers */
	uint64_t record_bytes;    /* records inside them, bare */
	int capture;
	struct msg *cap_head, *cap_tail;
	size_t ncaptured;
	int cut;                  /* the link is down: drop what it sends */
	/* A connection's write queue, when queue_max is set: what it sent and
	 * the peer has not yet been handed. Sends are refused with LCF_EBUSY
	 * once queue_max bytes wait (conn_send's rule); at high_water or more
	 * the link is congested, and going down to low_water calls
	 * sync_on_drain (conn's on_drain). */
	size_t queued, queue_max, high_water, low_water, queued_peak;
	int drain_armed;
	int refused_busy;         /* sends refused for a full queue */
};

struct outcome {
	int called;
	struct sync_stats st;
};

struct world {
	uv_loop_t loop;
	uv_timer_t deliver;
	struct side a, b;
	struct msg *head, *tail;
	int violations;
	int last_violation;
	struct identity *authors[MAX_AUTHORS];
	size_t nauthors;
	/* Cut the link once this many records reached b (0: never). */
	uint64_t cut_after;
};

/* ---- fixture ---- */

static void recs_free(struct recs *rs);
static int pipe_send(void *arg, const Lcf__PeerMsg *m, size_t *wire_bytes);

static void
side_open(struct world *w, struct side *s, struct side *peer)
{
	char err[256] = "", db[96];

	s->w = w;
	s->peer = peer;
	s->io.arg = s;
	s->io.send = pipe_send;
	s->n.loop = &w->loop;
	snprintf(s->dir, sizeof(s->dir), "/tmp/lcf-test-sync-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(db, sizeof(db), "%s/db", s->dir);
	if (store_open(db, TEST_MAP_SIZE, &s->n.store, err, sizeof(err)) != 0)
		fail_msg("store_open: %s", err);
	assert_non_null(s->n.id = identity_new());
	identity_generate(s->n.id);
}

static void
msgs_free(struct msg *m)
{
	struct msg *next;

	for (; m != NULL; m = next) {
		next = m->next;
		free(m->buf);
		free(m);
	}
}

static void
side_close(struct side *s)
{
	store_close(s->n.store);
	identity_free(s->n.id);
	msgs_free(s->cap_head);
	unit_rm_tree(s->dir);
}

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	if (w == NULL || sodium_init() < 0)
		return -1;
	if (uv_loop_init(&w->loop) != 0 || uv_timer_init(&w->loop, &w->deliver) != 0)
		return -1;
	w->deliver.data = w;
	side_open(w, &w->a, &w->b);
	side_open(w, &w->b, &w->a);
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;
	size_t i;

	sync_stop(&w->a.n);
	sync_stop(&w->b.n);
	uv_close((uv_handle_t *)&w->deliver, NULL);
	ingest_stop(&w->a.n);
	ingest_stop(&w->b.n);
	/* Lets pool work, handles being closed and their callbacks finish. */
	uv_run(&w->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&w->loop), 0);
	ingest_free(&w->a.n);
	ingest_free(&w->b.n);
	msgs_free(w->head);
	side_close(&w->a);
	side_close(&w->b);
	for (i = 0; i < w->nauthors; i++)
		identity_free(w->authors[i]);
	free(w);
	return 0;
}

/* ---- records ---- */

static void
add_authors(struct world *w, size_t n)
{
	size_t i;

	assert_true(w->nauthors + n <= MAX_AUTHORS);
	for (i = 0; i < n; i++) {
		assert_non_null(w->authors[w->nauthors] = identity_new());
		identity_generate(w->authors[w->nauthors]);
		w->nauthors++;
	}
}

/* A practice by author a with this seq; variant changes the content, so two
 * variants of one seq are a fork. */
static void
make_rec(struct world *w, struct recs *rs, int a, uint64_t seq, int variant)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__Practice p = LCF__PRACTICE__INIT;
	char key[64], title[96];
	char *areas[] = { "1.1" };
	uint8_t *content = NULL;
	size_t clen = 0;
	struct rec *r;

	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? 2 * rs->cap : 1024;
		rs->r = realloc(rs->r, rs->cap * sizeof(*rs->r));
		assert_non_null(rs->r);
	}
	r = &rs->r[rs->n++];
	memset(r, 0, sizeof(*r));
	snprintf(key, sizeof(key), "practice-%llu", (unsigned long long)seq);
	snprintf(title, sizeof(title), "Practice %llu of author %d, variant %d",
	    (unsigned long long)seq, a, variant);
	c.has_author = 1;
	c.author.data = w->authors[a]->pk;
	c.author.len = IDENTITY_PK_LEN;
	c.has_seq = 1;
	c.seq = seq;
	c.has_kind = 1;
	c.kind = LCF__KIND__KIND_PRACTICE;
	c.key = key;
	c.has_timestamp = 1;
	c.timestamp = now_ms() - 86400000 + (int64_t)seq;
	p.title = title;
	p.summary = "Grandparents read with children at the library every week, "
	    "and the children read back to them.";
	p.language = "en";
	p.kflc_areas = areas;
	p.n_kflc_areas = 1;
	c.body_case = LCF__CONTENT__BODY_PRACTICE;
	c.practice = &p;
	assert_int_equal(record_pack_content(&c, &content, &clen), 0);
	assert_int_equal(record_seal(content, clen, w->authors[a], &r->raw, &r->len,
	    r->id), 0);
	free(content);
	r->author = a;
	r->seq = seq;
}

/* A status beacon by author a with this seq; variant changes its instance,
 * so two variants of one seq are a fork. */
static void
make_beacon(struct world *w, struct recs *rs, int a, uint64_t seq, int variant)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__Beacon bc = LCF__BEACON__INIT;
	uint8_t inst[16], *content = NULL;
	size_t clen = 0;
	struct rec *r;

	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? 2 * rs->cap : 64;
		rs->r = realloc(rs->r, rs->cap * sizeof(*rs->r));
		assert_non_null(rs->r);
	}
	r = &rs->r[rs->n++];
	memset(r, 0, sizeof(*r));
	memset(inst, variant, sizeof(inst));
	c.has_author = c.has_seq = c.has_kind = c.has_timestamp = 1;
	c.author.data = w->authors[a]->pk;
	c.author.len = IDENTITY_PK_LEN;
	c.seq = seq;
	c.kind = LCF__KIND__KIND_BEACON;
	c.key = "beacon";
	c.timestamp = now_ms() - 86400000 + (int64_t)seq;
	bc.software = "0.1.0";
	bc.has_protocol = bc.has_started = bc.has_instance = 1;
	bc.protocol = 3;
	bc.started = 1000;
	bc.instance.data = inst;
	bc.instance.len = sizeof(inst);
	c.body_case = LCF__CONTENT__BODY_BEACON;
	c.beacon = &bc;
	assert_int_equal(record_pack_content(&c, &content, &clen), 0);
	assert_int_equal(record_seal(content, clen, w->authors[a], &r->raw,
	    &r->len, r->id), 0);
	free(content);
	r->author = a;
	r->seq = seq;
}

static void
recs_free(struct recs *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		free(rs->r[i].raw);
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

/* Stores the records of rs for which keep(i) is true (all when keep is NULL). */
static void
put_recs(struct side *s, const struct recs *rs, int (*keep)(size_t i, void *arg),
    void *arg)
{
	struct store_item *items = calloc(PUT_CHUNK, sizeof(*items));
	struct record *decoded = calloc(PUT_CHUNK, sizeof(*decoded));
	size_t i, m = 0, k;

	assert_non_null(items);
	assert_non_null(decoded);
	for (i = 0; i <= rs->n; i++) {
		if (m == PUT_CHUNK || (i == rs->n && m > 0)) {
			assert_int_equal(store_put(s->n.store, items, m), 0);
			for (k = 0; k < m; k++)
				record_release(&decoded[k]);
			m = 0;
		}
		if (i == rs->n)
			break;
		if (keep != NULL && !keep(i, arg))
			continue;
		assert_int_equal(record_open(rs->r[i].raw, rs->r[i].len, 0,
		    &decoded[m]), 0);
		items[m].raw = rs->r[i].raw;
		items[m].len = rs->r[i].len;
		items[m].rec = &decoded[m];
		m++;
	}
	free(items);
	free(decoded);
}

/* n records: authors [a0, a0 + na) in turn, seqs from seq0 on. */
static void
make_many(struct world *w, struct recs *rs, int a0, int na, uint64_t seq0,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		make_rec(w, rs, a0 + (int)(i % (size_t)na), seq0 + i / (size_t)na, 0);
}

static void
digest_of(struct side *s, struct iblt_digest *d)
{
	iblt_set_snapshot(store_sketch(s->n.store), 0, NULL, d);
}

static void
assert_same_sets(struct world *w)
{
	struct iblt_digest da, db;
	struct store_stats sa, sb;

	digest_of(&w->a, &da);
	digest_of(&w->b, &db);
	assert_int_equal(store_stats(w->a.n.store, &sa), 0);
	assert_int_equal(store_stats(w->b.n.store, &sb), 0);
	if (da.count != db.count || memcmp(da.sum, db.sum, 32) != 0)
		fail_msg("sets differ: a holds %llu records, b %llu",
		    (unsigned long long)da.count, (unsigned long long)db.count);
	/* The sketch must describe what the store really holds. */
	assert_int_equal(sa.records, da.count);
	assert_int_equal(sb.records, db.count);
}

/* ---- the pipe ---- */

static size_t
varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static void deliver_cb(uv_timer_t *t);

static int
pipe_send(void *arg, const Lcf__PeerMsg *m, size_t *wire_bytes)
{
	struct side *s = arg;
	struct world *w = s->w;
	struct msg *q;
	size_t i;

	q = calloc(1, sizeof(*q));
	assert_non_null(q);
	q->len = lcf__peer_msg__get_packed_size(m);
	q->buf = malloc(q->len ? q->len : 1);
	assert_non_null(q->buf);
	lcf__peer_msg__pack(m, q->buf);
	*wire_bytes = q->len;
	s->bytes_out += q->len;
	if (m->msg_case == LCF__PEER_MSG__MSG_RECORDS) {
		for (i = 0; i < m->records->n_records; i++) {
			size_t l = m->records->records[i].len;

			s->record_bytes += l;
			s->record_field_bytes += 1 + varint_len(l) + l;
		}
	}
	if (s->capture) {
		if (s->cap_tail != NULL)
			s->cap_tail->next = q;
		else
			s->cap_head = q;
		s->cap_tail = q;
		s->ncaptured++;
		return 0;
	}
	if (s->cut) {
		free(q->buf);
		free(q);
		return LCF_ECLOSED;
	}
	if (s->queue_max > 0 && s->queued >= s->queue_max) {
		s->refused_busy++;
		free(q->buf);
		free(q);
		return LCF_EBUSY;
	}
	q->to = s->peer;
	s->queued += q->len;
	if (s->queued > s->queued_peak)
		s->queued_peak = s->queued;
	if (s->queue_max > 0 && s->queued >= s->high_water)
		s->drain_armed = 1;
	if (w->tail != NULL)
		w->tail->next = q;
	else
		w->head = q;
	w->tail = q;
	if (!uv_is_active((uv_handle_t *)&w->deliver))
		uv_timer_start(&w->deliver, deliver_cb, 0, 0);
	return 0;
}

/* Simulates a dropped connection: both sides learn that the peer is gone and
 * what was in flight is lost. */
static void
cut_link(struct world *w)
{
	msgs_free(w->head);
	w->head = w->tail = NULL;
	w->a.cut = w->b.cut = 1;
	sync_peer_gone(&w->a.n, &w->a.io);
	sync_peer_gone(&w->b.n, &w->b.io);
}

static int
pipe_congested(void *arg)
{
	const struct side *s = arg;

	return s->queued >= s->high_water;
}

/* The peer was handed len bytes that s sent: s's queue shrinks. */
static void
pipe_drained(struct side *s, size_t len)
{
	s->queued -= len;
	if (s->drain_armed && s->queued <= s->low_water) {
		s->drain_armed = 0;
		sync_on_drain(&s->n, &s->io);
	}
}

static void
deliver_cb(uv_timer_t *t)
{
	struct world *w = t->data;
	struct msg *q = w->head, *next;
	Lcf__PeerMsg *m;
	uint64_t running, got;
	int rc;

	/* Messages sent while these are delivered wait for the next turn. */
	w->head = w->tail = NULL;
	for (; q != NULL; q = next) {
		next = q->next;
		if (q->to->cut) {
			free(q->buf);
			free(q);
			continue;
		}
		if (q->to->peer->queue_max > 0)
			pipe_drained(q->to->peer, q->len);
		m = lcf__peer_msg__unpack(NULL, q->len, q->buf);
		assert_non_null(m);
		rc = sync_on_message(&q->to->n, &q->to->io, m, q->len);
		if (rc < 0) {
			w->violations++;
			w->last_violation = rc;
		}
		lcf__peer_msg__free_unpacked(m, NULL);
		free(q->buf);
		free(q);
		if (w->cut_after > 0) {
			sync_progress(&w->b.n, &running, &got);
			if (running > 0 && got >= w->cut_after) {
				w->cut_after = 0;
				msgs_free(next);
				next = NULL;
				cut_link(w);
			}
		}
	}
}

static void
on_done(void *arg, const struct sync_stats *st)
{
	struct outcome *o = arg;

	o->called++;
	o->st = *st;
}

static void
reset_counters(struct world *w)
{
	w->a.bytes_out = w->b.bytes_out = 0;
	w->a.record_bytes = w->b.record_bytes = 0;
	w->a.record_field_bytes = w->b.record_field_bytes = 0;
	w->violations = 0;
}

/* Runs one sync started by `from` to the end; returns its outcome. */
static struct outcome
run_sync(struct world *w, struct side *from, const char *label)
{
	struct outcome o;
	uint64_t total, recs;
	double secs;
	struct timespec t0, t1;

	memset(&o, 0, sizeof(o));
	reset_counters(w);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(sync_begin(&from->n, &from->io, on_done, &o), 0);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_int_equal(o.called, 1);
	total = w->a.bytes_out + w->b.bytes_out;
	recs = w->a.record_field_bytes + w->b.record_field_bytes;
	printf("# %s: %s; %llu round trips; bytes %llu out, %llu in; records "
	    "%llu out, %llu in; overhead %llu bytes beyond the records (%llu "
	    "counting their field headers); %.2f s\n", label, o.st.message,
	    (unsigned long long)o.st.round_trips,
	    (unsigned long long)o.st.bytes_sent,
	    (unsigned long long)o.st.bytes_received,
	    (unsigned long long)o.st.records_sent,
	    (unsigned long long)o.st.records_received,
	    (unsigned long long)(total - recs),
	    (unsigned long long)(total - w->a.record_bytes - w->b.record_bytes),
	    secs);
	assert_int_equal(w->violations, 0);
	/* The stats count exactly what crossed the pipe. */
	assert_int_equal(o.st.bytes_sent, from->bytes_out);
	assert_int_equal(o.st.bytes_received, from->peer->bytes_out);
	return o;
}

static uint64_t
overhead(struct world *w)
{
	return w->a.bytes_out + w->b.bytes_out - w->a.record_field_bytes -
	    w->b.record_field_bytes;
}

/* ---- store additions ---- */

static int
collect_id(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct recs *got = arg;

	(void)raw;
	(void)len;
	got->r = realloc(got->r, (got->n + 1) * sizeof(*got->r));
	assert_non_null(got->r);
	memset(&got->r[got->n], 0, sizeof(got->r[0]));
	memcpy(got->r[got->n].id, id, 32);
	got->n++;
	return 0;
}

static int
stop_after_one(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	size_t *seen = arg;

	(void)id;
	(void)raw;
	(void)len;
	return ++*seen > 1 ? 7 : 0;
}

struct seqs {
	uint64_t seq[64];
	uint8_t id[64][32];
	size_t n, stop_at;
};

static int
collect_seq(void *arg, uint64_t seq, const uint8_t id[32], const uint8_t *raw,
    size_t len)
{
	struct seqs *ss = arg;

	(void)raw;
	(void)len;
	if (ss->stop_at > 0 && ss->n == ss->stop_at)
		return 9;
	assert_true(ss->n < 64);
	ss->seq[ss->n] = seq;
	memcpy(ss->id[ss->n], id, 32);
	ss->n++;
	return 0;
}

struct sums {
	struct store_author_summary s[8];
	size_t n;
};

static int
collect_sum(void *arg, const struct store_author_summary *sum)
{
	struct sums *ss = arg;

	assert_true(ss->n < 8);
	ss->s[ss->n++] = *sum;
	return 0;
}

static void
test_store_additions(void **state)
{
	struct world *w = *state;
	struct recs rs = { 0 }, got = { 0 };
	struct iblt_digest d, d2, want;
	struct store_author_summary sum;
	struct sums sums = { 0 };
	struct seqs ss;
	uint64_t runs[8];
	uint8_t prefixes[3 * 8], dbytes[IBLT_DIGEST_BYTES];
	size_t i, nruns, consumed, seen = 0;
	int done, rc, first;
	char db[96], err[256];
	static const uint64_t seqs[] = { 1, 2, 3, 5, 7, 8 };

	add_authors(w, 2);
	for (i = 0; i < 6; i++)
		make_rec(w, &rs, 0, seqs[i], 0);
	make_rec(w, &rs, 0, 5, 1);          /* a fork of seq 5 */
	make_rec(w, &rs, 1, 4, 0);
	put_recs(&w->a, &rs, NULL, NULL);

	/* The sketch holds exactly the stored ids, and is rebuilt on open. */
	memset(&want, 0, sizeof(want));
	for (i = 0; i < rs.n; i++)
		iblt_digest_add(&want, rs.r[i].id);
	digest_of(&w->a, &d);
	assert_int_equal(d.count, 8);
	assert_memory_equal(d.sum, want.sum, 32);
	put_recs(&w->a, &rs, NULL, NULL);   /* duplicates change nothing */
	digest_of(&w->a, &d);
	assert_int_equal(d.count, 8);
	store_close(w->a.n.store);
	snprintf(db, sizeof(db), "%s/db", w->a.dir);
	assert_int_equal(store_open(db, TEST_MAP_SIZE, &w->a.n.store, err,
	    sizeof(err)), 0);
	digest_of(&w->a, &d2);
	assert_int_equal(d2.count, 8);
	assert_memory_equal(d2.sum, want.sum, 32);

	/* Prefix lookup, in the given order, resumable. */
	memcpy(prefixes, rs.r[3].id, 8);
	memset(prefixes + 8, 0xee, 8);      /* matches nothing (almost surely) */
	memcpy(prefixes + 16, rs.r[7].id, 8);
	assert_int_equal(store_get_prefixes(w->a.n.store, prefixes, 3, &consumed,
	    collect_id, &got), 0);
	assert_int_equal(consumed, 3);
	assert_int_equal(got.n, 2);
	assert_memory_equal(got.r[0].id, rs.r[3].id, 32);
	assert_memory_equal(got.r[1].id, rs.r[7].id, 32);
	memcpy(prefixes + 8, rs.r[4].id, 8);
	rc = store_get_prefixes(w->a.n.store, prefixes, 3, &consumed,
	    stop_after_one, &seen);
	assert_int_equal(rc, 7);
	assert_int_equal(consumed, 1);

	/* Summary and runs of author 0: seqs 1-3, 5 (forked), 7-8. */
	assert_int_equal(store_author_summary(w->a.n.store, 0, w->authors[0]->pk, &sum,
	    runs, 4, &nruns), 0);
	assert_int_equal(sum.count, 7);
	assert_int_equal(sum.max_seq, 8);
	assert_int_equal(nruns, 3);
	assert_int_equal(runs[0], 1);
	assert_int_equal(runs[1], 3);
	assert_int_equal(runs[2], 5);
	assert_int_equal(runs[3], 5);
	assert_int_equal(runs[4], 7);
	assert_int_equal(runs[5], 8);
	memset(&d, 0, sizeof(d));
	for (i = 0; i < 7; i++)
		iblt_digest_add(&d, rs.r[i].id);
	iblt_digest_bytes(&d, dbytes);
	assert_memory_equal(sum.digest, dbytes, IBLT_DIGEST_BYTES);
	/* A full run list leaves later seqs out rather than claim them. */
	assert_int_equal(store_author_summary(w->a.n.store, 0, w->authors[0]->pk, &sum,
	    runs, 2, &nruns), 0);
	assert_int_equal(nruns, 2);
	assert_int_equal(runs[3], 5);

	/* Paged summaries of every author, in author order. */
	assert_int_equal(store_author_summaries(w->a.n.store, 0, NULL, 1, 1000, &done,
	    collect_sum, &sums), 0);
	assert_int_equal(sums.n, 1);
	assert_false(done);
	assert_int_equal(store_author_summaries(w->a.n.store, 0, sums.s[0].author, 10,
	    1000, &done, collect_sum, &sums), 0);
	assert_int_equal(sums.n, 2);
	assert_true(done);
	assert_true(memcmp(sums.s[0].author, sums.s[1].author, 32) < 0);
	first = memcmp(sums.s[0].author, w->authors[0]->pk, 32) == 0 ? 0 : 1;
	assert_int_equal(sums.s[first].count, 7);
	assert_int_equal(sums.s[1 - first].count, 1);

	/* Scanning an author: bounds, then resuming after a fork's first id. */
	memset(&ss, 0, sizeof(ss));
	assert_int_equal(store_scan_author(w->a.n.store, w->authors[0]->pk, 2, NULL,
	    6, collect_seq, &ss), 0);
	assert_int_equal(ss.n, 4);             /* 2, 3 and both forks of 5 */
	assert_int_equal(ss.seq[0], 2);
	assert_int_equal(ss.seq[1], 3);
	assert_int_equal(ss.seq[2], 5);
	assert_int_equal(ss.seq[3], 5);
	memset(&ss, 0, sizeof(ss));
	ss.stop_at = 1;
	assert_int_equal(store_scan_author(w->a.n.store, w->authors[0]->pk, 5, NULL,
	    UINT64_MAX, collect_seq, &ss), 9);
	assert_int_equal(ss.n, 1);
	{
		uint8_t after[32];

		memcpy(after, ss.id[0], 32);
		memset(&ss, 0, sizeof(ss));
		assert_int_equal(store_scan_author(w->a.n.store, w->authors[0]->pk, 5,
		    after, UINT64_MAX, collect_seq, &ss), 0);
		/* The other fork of 5, then 7 and 8. */
		assert_int_equal(ss.n, 3);
		assert_int_equal(ss.seq[0], 5);
		assert_memory_not_equal(ss.id[0], after, 32);
		assert_int_equal(ss.seq[1], 7);
		assert_int_equal(ss.seq[2], 8);
	}
	free(got.r);
	recs_free(&rs);
}

/* ---- reconciliation ---- */

static void
test_identical(void **state)
{
	struct world *w = *state;
	struct recs rs = { 0 };
	struct outcome o;

	add_authors(w, 200);
	make_many(w, &rs, 0, 200, 1, 4000);
	put_recs(&w->a, &rs, NULL, NULL);
	put_recs(&w->b, &rs, NULL, NULL);
	o = run_sync(w, &w->a, "identical 4,000 records");
	assert_int_equal(o.st.result, 0);
	assert_int_equal(o.st.round_trips, 1);
	assert_true(o.st.bytes_sent <= 512);
	assert_true(o.st.bytes_received <= 512);
	assert_int_equal(o.st.records_received, 0);
	assert_same_sets(w);
	recs_free(&rs);
}

static int
keep_even(size_t i, void *arg)
{
	(void)arg;
	return i % 2 == 0;
}

static int
keep_odd(size_t i, void *arg)
{
	(void)arg;
	return i % 2 == 1;
}

/* The stored bytes of id are canonical (PROTOCOL 1.1). */
static int
canonical_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	int *ok = arg;

	(void)id;
	*ok = record_canonical(raw, len) == 0;
	return 0;
}

/*
 * Records an older build stored as they came, signature field first: the
 * node sends them in canonical form (which the receiver requires), both
 * ways, so the sets still converge. Half are reversed on each side.
 */
static void
test_legacy_order_sent_canonical(void **state)
{
	struct world *w = *state;
	struct recs rs = { 0 };
	struct outcome o;
	uint8_t sig[66];
	size_t i;
	int ok;

	add_authors(w, 4);
	make_many(w, &rs, 0, 4, 1, 40);
	for (i = 0; i < rs.n; i++) {
		uint8_t *r = rs.r[i].raw;
		size_t len = rs.r[i].len;

		assert_int_equal(record_canonical(r, len), 0);
		memcpy(sig, r + len - sizeof(sig), sizeof(sig));
		memmove(r + sizeof(sig), r, len - sizeof(sig));
		memcpy(r, sig, sizeof(sig));
		assert_int_equal(record_canonical(r, len), RECORD_REVERSED);
	}
	put_recs(&w->a, &rs, keep_even, NULL);
	put_recs(&w->b, &rs, keep_odd, NULL);
	o = run_sync(w, &w->a, "legacy field order");
	assert_int_equal(o.st.result, 0);
	assert_int_equal(o.st.records_received, 20);
	assert_int_equal(o.st.records_sent, 20);
	assert_same_sets(w);
	/* What each side received was canonical, and is stored so. */
	for (i = 0; i < rs.n; i++) {
		ok = 0;
		assert_int_equal(store_get(i % 2 ? w->a.n.store : w->b.n.store,
		    rs.r[i].id, canonical_visit, &ok), 0);
		assert_true(ok);
	}
	recs_free(&rs);
}

/* 4,000 shared records of 200 authors, and 1,000 newer ones on `more` only. */
static void
one_side_more(struct world *w, int initiator_has_more)
{
	struct recs base = { 0 }, extra = { 0 };
	struct side *more = initiator_has_more ? &w->a : &w->b;
	struct outcome o;
	uint64_t oh;

	add_authors(w, 200);
	make_many(w, &base, 0, 200, 1, 4000);
	make_many(w, &extra, 0, 200, 21, 1000);
	put_recs(&w->a, &base, NULL, NULL);
	put_recs(&w->b, &base, NULL, NULL);
	put_recs(more, &extra, NULL, NULL);
	o = run_sync(w, &w->a, initiator_has_more ?
	    "1,000 new on the initiator" : "1,000 new on the responder");
	assert_int_equal(o.st.result, 0);
	assert_non_null(strstr(o.st.message, "in sync"));
	assert_true(o.st.round_trips <= 3);
	oh = overhead(w);
	if (oh > 50 * 1024)
		fail_msg("overhead %llu bytes > 50 KiB", (unsigned long long)oh);
	assert_int_equal(initiator_has_more ? o.st.records_sent :
	    o.st.records_received, 1000);
	assert_same_sets(w);
	recs_free(&base);
	recs_free(&extra);
}

static void
test_more_on_initiator(void **state)
{
	one_side_more(*state, 1);
}

static void
test_more_on_responder(void **state)
{
	one_side_more(*state, 0);
}

/* Few authors: summaries are cheaper than a table. */
static void
test_more_few_authors(void **state)
{
	struct world *w = *state;
	struct recs base = { 0 }, extra = { 0 };
	struct outcome o;

	add_authors(w, 10);
	make_many(w, &base, 0, 10, 1, 2000);
	make_many(w, &extra, 0, 10, 201, 1000);
	put_recs(&w->a, &base, NULL, NULL);
	put_recs(&w->b, &base, NULL, NULL);
	put_recs(&w->b, &extra, NULL, NULL);
	o = run_sync(w, &w->a, "1,000 new on the responder, 10 authors");
	assert_int_equal(o.st.result, 0);
	assert_true(o.st.round_trips <= 3);
	assert_true(overhead(w) <= 50 * 1024);
	assert_int_equal(o.st.records_received, 1000);
	assert_same_sets(w);
	recs_free(&base);
	recs_free(&extra);
}

static int
keep_a(size_t i, void *arg)
{
	(void)arg;
	return i % 10 != 3;         /* a lacks 1 in 10 ... */
}

static int
keep_b(size_t i, void *arg)
{
	(void)arg;
	return i % 10 != 7;         /* ... and b another 1 in 10 */
}

static void
test_scattered(void **state)
{
	struct world *w = *state;
	struct recs rs = { 0 };
	struct outcome o;

	add_authors(w, 200);
	make_many(w, &rs, 0, 200, 1, 5000);
	put_recs(&w->a, &rs, keep_a, NULL);
	put_recs(&w->b, &rs, keep_b, NULL);
	o = run_sync(w, &w->a, "1,000 scattered differences, both ways");
	assert_int_equal(o.st.result, 0);
	assert_int_equal(o.st.records_sent, 500);
	assert_int_equal(o.st.records_received, 500);
	assert_true(overhead(w) <= 200 * 1024);
	assert_same_sets(w);
	recs_free(&rs);
}

static void
test_wiped(void **state)
{
	struct world *w = *state;
	struct recs rs = { 0 };
	struct outcome o;

	add_authors(w, 50);
	make_many(w, &rs, 0, 50, 1, 20000);
	put_recs(&w->a, &rs, NULL, NULL);
	o = run_sync(w, &w->b, "wiped node pulls 20,000 records of 50 authors");
	assert_int_equal(o.st.result, 0);
	assert_int_equal(o.st.records_received, 20000);
	assert_same_sets(w);
	printf("# throughput: %.0f records/s\n", 20000.0 /
	    ((double)(o.st.finished_ms - o.st.started_ms + 1) / 1000.0));
	recs_free(&rs);
}

static void
test_push_to_wiped(void **state)
{
	struct world *w = *state;
	struct recs rs = { 0 };
	struct outcome o;

	add_authors(w, 20);
	make_many(w, &rs, 0, 20, 1, 5000);
	put_recs(&w->a, &rs, NULL, NULL);
	o = run_sync(w, &w->a, "full node repairs a wiped responder");
	assert_int_equal(o.st.result, 0);
	assert_int_equal(o.st.records_sent, 5000);
	assert_same_sets(w);
	recs_free(&rs);
}

/*
 * One author's records pulled through a connection whose queue is smaller
 * than a window of batches (as 64 MiB is for 32 batches of 2 MiB with their
 * framing): the sender must stop at congestion and go on when the queue
 * drains. Before, it sent as far as credit went, its next send was refused
 * (LCF_EBUSY) and its session died silently: the puller waited for 60 s.
 */
static void
test_congested_sender(void **state)
{
	struct world *w = *state;
	struct recs rs = { 0 };
	struct outcome o;
	size_t i, bytes = 0;

	add_authors(w, 1);
	make_many(w, &rs, 0, 1, 1, 24000);
	for (i = 0; i < rs.n; i++)
		bytes += rs.r[i].len;
	put_recs(&w->b, &rs, NULL, NULL);
	w->b.io.congested = pipe_congested;
	/* conn's proportions: a batch (here 4,096 records, about 1 MiB) fits
	 * between high water and the limit. */
	w->b.queue_max = 2u << 20;
	w->b.high_water = 512u << 10;
	w->b.low_water = 128u << 10;
	/* The records are more than a queue, and fill most of a window. */
	assert_true(bytes > 2 * w->b.queue_max);
	o = run_sync(w, &w->a, "one author through a congested link");
	printf("# the responder's queue peaked at %zu bytes (refused at %zu)\n",
	    w->b.queued_peak, w->b.queue_max);
	assert_int_equal(w->b.refused_busy, 0);
	assert_int_equal(o.st.result, 0);
	assert_non_null(strstr(o.st.message, "in sync"));
	assert_int_equal(o.st.records_received, rs.n);
	assert_true(w->b.queued_peak < w->b.queue_max);
	assert_same_sets(w);
	recs_free(&rs);
}

/* A dropped link mid-transfer; the next sync sends only what is missing. */
static void
test_resume(void **state)
{
	struct world *w = *state;
	struct recs rs = { 0 };
	struct outcome o;
	struct iblt_digest d;
	uint64_t held;

	add_authors(w, 50);
	make_many(w, &rs, 0, 50, 1, 20000);
	put_recs(&w->a, &rs, NULL, NULL);
	w->cut_after = 8000;
	memset(&o, 0, sizeof(o));
	reset_counters(w);
	assert_int_equal(sync_begin(&w->b.n, &w->b.io, on_done, &o), 0);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	assert_int_equal(o.called, 1);
	assert_int_equal(o.st.result, LCF_ECLOSED);
	digest_of(&w->b, &d);
	held = d.count;
	printf("# interrupted after %llu records received, %llu committed\n",
	    (unsigned long long)o.st.records_received, (unsigned long long)held);
	assert_true(held >= 4096 && held < 20000);
	w->a.cut = w->b.cut = 0;
	o = run_sync(w, &w->b, "resumed");
	assert_int_equal(o.st.result, 0);
	/* Nothing committed is sent again. */
	assert_int_equal(o.st.records_received, 20000 - held);
	assert_same_sets(w);
	recs_free(&rs);
}

static void
test_forks(void **state)
{
	struct world *w = *state;
	struct recs base = { 0 }, fa = { 0 }, fb = { 0 };
	struct outcome o;
	struct store_stats st;

	/* Many authors: the table path. Each side holds one branch of a fork. */
	add_authors(w, 200);
	make_many(w, &base, 0, 200, 1, 2000);
	make_rec(w, &fa, 7, 11, 1);
	make_rec(w, &fb, 7, 11, 2);
	put_recs(&w->a, &base, NULL, NULL);
	put_recs(&w->b, &base, NULL, NULL);
	put_recs(&w->a, &fa, NULL, NULL);
	put_recs(&w->b, &fb, NULL, NULL);
	o = run_sync(w, &w->a, "a fork, one branch on each side");
	assert_int_equal(o.st.result, 0);
	assert_non_null(strstr(o.st.message, "in sync"));
	assert_same_sets(w);
	assert_int_equal(store_stats(w->a.n.store, &st), 0);
	assert_int_equal(st.forks, 1);
	recs_free(&base);
	recs_free(&fa);
	recs_free(&fb);
}

/* Few authors (the summary path) cannot see a fork whose seq both sides
 * hold: the second round, with tables, settles it. */
static void
test_forks_summaries(void **state)
{
	struct world *w = *state;
	struct recs base = { 0 }, extra = { 0 }, fa = { 0 }, fb = { 0 };
	struct outcome o;

	add_authors(w, 5);
	make_many(w, &base, 0, 5, 1, 500);
	make_many(w, &extra, 0, 5, 101, 600);
	make_rec(w, &fa, 2, 50, 1);
	make_rec(w, &fb, 2, 50, 2);
	put_recs(&w->a, &base, NULL, NULL);
	put_recs(&w->b, &base, NULL, NULL);
	put_recs(&w->a, &extra, NULL, NULL);
	put_recs(&w->a, &fa, NULL, NULL);
	put_recs(&w->b, &fb, NULL, NULL);
	o = run_sync(w, &w->b, "summaries, then a fork settled by a table");
	assert_int_equal(o.st.result, 0);
	assert_non_null(strstr(o.st.message, "in sync"));
	assert_int_equal(o.st.records_received, 601);
	assert_int_equal(o.st.records_sent, 1);
	assert_same_sets(w);
	recs_free(&base);
	recs_free(&extra);
	recs_free(&fa);
	recs_free(&fb);
}

/* Status beacons keep only the newest per author (PROTOCOL 1.2): two nodes
 * holding different beacons of one author converge in one session (the
 * older side takes the newer; the newer side drops the older it is sent,
 * without a refusal), a fork of two beacons at one seq is kept on both, and
 * the next session is equal in one round trip. nauthors picks the path:
 * many authors use tables, few use summaries (whose runs claim only the
 * seqs held, so the newer side is sent the older beacon once). */
static void
beacons_converge(struct world *w, int nauthors, const char *label)
{
	struct recs base = { 0 }, ra = { 0 }, rb = { 0 };
	struct store_stats sa, sb;
	struct outcome o;
	int i;

	add_authors(w, (size_t)nauthors);
	make_many(w, &base, 0, nauthors, 1, (size_t)nauthors * 10);
	/* Author 0: a is behind; author 1: b is behind; author 2: one branch
	 * of a fork on each side; author 3: a has seq 30 then 40 (it keeps
	 * 40), b has 35. */
	make_beacon(w, &ra, 0, 20, 1);
	make_beacon(w, &rb, 0, 25, 1);
	make_beacon(w, &ra, 1, 26, 1);
	make_beacon(w, &rb, 1, 21, 1);
	make_beacon(w, &ra, 2, 22, 1);
	make_beacon(w, &rb, 2, 22, 2);
	make_beacon(w, &ra, 3, 30, 1);
	make_beacon(w, &ra, 3, 40, 1);
	make_beacon(w, &rb, 3, 35, 1);
	put_recs(&w->a, &base, NULL, NULL);
	put_recs(&w->b, &base, NULL, NULL);
	put_recs(&w->a, &ra, NULL, NULL);
	put_recs(&w->b, &rb, NULL, NULL);
	o = run_sync(w, &w->a, label);
	assert_int_equal(o.st.result, 0);
	assert_non_null(strstr(o.st.message, "in sync"));
	assert_same_sets(w);
	assert_int_equal(store_stats(w->a.n.store, &sa), 0);
	assert_int_equal(store_stats(w->b.n.store, &sb), 0);
	/* One beacon per author, two for the fork. */
	assert_int_equal(sa.records, (uint64_t)nauthors * 10 + 5);
	assert_int_equal(sb.records, sa.records);
	assert_int_equal(sa.kinds[LCF__KIND__KIND_BEACON].current, 4);
	for (i = 0; i < (int)rb.n; i++) {
		int newer = (rb.r[i].author == 0 || rb.r[i].author == 2);

		assert_int_equal(store_has(w->a.n.store, rb.r[i].id), newer);
		assert_int_equal(store_has(w->b.n.store, rb.r[i].id), newer);
	}
	/* ra: 0#20 (older), 1#26 (newer), 2#22 (a fork's branch), 3#30
	 * (gone on a already), 3#40 (newer). */
	for (i = 0; i < (int)ra.n; i++) {
		int newer = i == 1 || i == 2 || i == 4;

		assert_int_equal(store_has(w->a.n.store, ra.r[i].id), newer);
		assert_int_equal(store_has(w->b.n.store, ra.r[i].id), newer);
	}
	/* Nothing was refused: the older beacons were dropped quietly. */
	assert_int_equal(w->a.n.counters.refused[COUNTERS_REF_INVALID] +
	    w->b.n.counters.refused[COUNTERS_REF_INVALID], 0);
	assert_true(w->a.n.counters.superseded + w->b.n.counters.superseded >= 1);
	o = run_sync(w, &w->a, "beacons: the next session");
	assert_int_equal(o.st.result, 0);
	assert_int_equal(o.st.round_trips, 1);
	assert_int_equal(o.st.records_received + o.st.records_sent, 0);
	o = run_sync(w, &w->b, "beacons: the next session, from b");
	assert_int_equal(o.st.round_trips, 1);
	recs_free(&base);
	recs_free(&ra);
	recs_free(&rb);
}

static void
test_beacons_tables(void **state)
{
	beacons_converge(*state, 200, "beacons differ, 200 authors (tables)");
}

static void
test_beacons_summaries(void **state)
{
	beacons_converge(*state, 5, "beacons differ, 5 authors (summaries)");
}

/* Each side starts a session with the other at once. */
static void
test_both_roles(void **state)
{
	struct world *w = *state;
	struct recs rs = { 0 };
	struct outcome oa, ob;
	uint64_t running, got;

	add_authors(w, 100);
	make_many(w, &rs, 0, 100, 1, 3000);
	put_recs(&w->a, &rs, keep_a, NULL);
	put_recs(&w->b, &rs, keep_b, NULL);
	memset(&oa, 0, sizeof(oa));
	memset(&ob, 0, sizeof(ob));
	assert_int_equal(sync_begin(&w->a.n, &w->a.io, on_done, &oa), 0);
	assert_int_equal(sync_begin(&w->b.n, &w->b.io, on_done, &ob), 0);
	/* One initiator session per peer. */
	assert_int_equal(sync_begin(&w->a.n, &w->a.io, on_done, &oa), LCF_EBUSY);
	sync_progress(&w->a.n, &running, &got);
	assert_int_equal(running, 1);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	assert_int_equal(oa.called, 1);
	assert_int_equal(ob.called, 1);
	assert_int_equal(oa.st.result, 0);
	assert_int_equal(ob.st.result, 0);
	assert_int_equal(w->violations, 0);
	printf("# both roles at once: a: %s; b: %s\n", oa.st.message,
	    ob.st.message);
	assert_same_sets(w);
	sync_progress(&w->a.n, &running, &got);
	assert_int_equal(running, 0);
	recs_free(&rs);
}

/* ---- opt-in benchmark: LCF_SYNC_BENCH=N records ---- */

struct gen_arg {
	struct world *w;
	struct rec *r;
	size_t lo, hi;
	int na;
	int err;
};

/* Signs records [lo, hi) of a bench set: authors in turn, like make_many. */
static void *
gen_thread(void *p)
{
	struct gen_arg *g = p;
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__Practice pr = LCF__PRACTICE__INIT;
	char key[64], title[96];
	char *areas[] = { "2.1" };
	uint8_t *content;
	size_t clen, i;
	int a;

	for (i = g->lo; i < g->hi && g->err == 0; i++) {
		a = (int)(i % (size_t)g->na);
		g->r[i].author = a;
		g->r[i].seq = 1 + i / (size_t)g->na;
		snprintf(key, sizeof(key), "practice-%llu",
		    (unsigned long long)g->r[i].seq);
		snprintf(title, sizeof(title), "Bench practice %zu", i);
		c.has_author = 1;
		c.author.data = g->w->authors[a]->pk;
		c.author.len = IDENTITY_PK_LEN;
		c.has_seq = 1;
		c.seq = g->r[i].seq;
		c.has_kind = 1;
		c.kind = LCF__KIND__KIND_PRACTICE;
		c.key = key;
		c.has_timestamp = 1;
		c.timestamp = now_ms() - 86400000;
		pr.title = title;
		pr.summary = "Families and schools run a weekly reading club in the "
		    "neighbourhood library; volunteers keep it going in summer.";
		pr.language = "en";
		pr.kflc_areas = areas;
		pr.n_kflc_areas = 1;
		c.body_case = LCF__CONTENT__BODY_PRACTICE;
		c.practice = &pr;
		content = NULL;
		if (record_pack_content(&c, &content, &clen) != 0 ||
		    record_seal(content, clen, g->w->authors[a], &g->r[i].raw,
		    &g->r[i].len, g->r[i].id) != 0)
			g->err = 1;
		free(content);
	}
	return NULL;
}

struct verify_arg {
	const struct rec *r;
	size_t lo, hi;
	int bad;
};

static void *
verify_thread(void *p)
{
	struct verify_arg *v = p;
	struct record rec;
	size_t i;

	for (i = v->lo; i < v->hi; i++) {
		if (record_open(v->r[i].raw, v->r[i].len, 1, &rec) != 0) {
			v->bad++;
			continue;
		}
		record_release(&rec);
	}
	return NULL;
}

static double
since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static double
tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

/* Bootstrap of an empty node from one peer, compared with the ceiling of
 * record_open with signature checks on two threads, in the same run. */
static void
test_bench_bootstrap(void **state)
{
	struct world *w = *state;
	const char *env = getenv("LCF_SYNC_BENCH");
	struct recs rs = { 0 };
	struct gen_arg g[2];
	struct verify_arg v[2];
	pthread_t th[2];
	struct timespec t0;
	struct outcome o;
	struct iblt_digest d;
	struct rusage ru0, ru1;
	size_t n, i, vn;
	double ceiling, rate, secs;
	char db[96], err[256];

	/* main() registers this test only when LCF_SYNC_BENCH is set. */
	n = strtoull(env, NULL, 10);
	assert_true(n >= 1000);
	add_authors(w, n >= 1000000 ? 1000 : 100);
	rs.r = calloc(n, sizeof(*rs.r));
	assert_non_null(rs.r);
	rs.n = rs.cap = n;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 2; i++) {
		g[i] = (struct gen_arg){ w, rs.r, i * n / 2, (i + 1) * n / 2,
		    (int)w->nauthors, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, gen_thread, &g[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(g[i].err, 0);
	}
	printf("# bench: signed %zu records of %zu authors in %.1f s\n", n,
	    w->nauthors, since(&t0));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	put_recs(&w->a, &rs, NULL, NULL);
	printf("# bench: stored them in %.1f s\n", since(&t0));

	/* The sketch is rebuilt from the store at open. */
	store_close(w->a.n.store);
	snprintf(db, sizeof(db), "%s/db", w->a.dir);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(store_open(db, TEST_MAP_SIZE, &w->a.n.store, err,
	    sizeof(err)), 0);
	secs = since(&t0);
	digest_of(&w->a, &d);
	assert_int_equal(d.count, n);
	printf("# bench: store_open rebuilt the sketch of %zu ids in %.3f s\n", n,
	    secs);

	/* The ceiling: decode and verify on both cores. */
	vn = n < 200000 ? n : 200000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 2; i++) {
		v[i] = (struct verify_arg){ rs.r, i * vn / 2, (i + 1) * vn / 2, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, verify_thread, &v[i]),
		    0);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(v[i].bad, 0);
	}
	ceiling = (double)vn / since(&t0);

	getrusage(RUSAGE_SELF, &ru0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	o = run_sync(w, &w->b, "bench: bootstrap of an empty node");
	secs = since(&t0);
	getrusage(RUSAGE_SELF, &ru1);
	printf("# bench: both nodes used %.0f%% of one core during the sync\n",
	    100.0 * (tv_s(&ru1.ru_utime) + tv_s(&ru1.ru_stime) -
	    tv_s(&ru0.ru_utime) - tv_s(&ru0.ru_stime)) / secs);
	assert_int_equal(o.st.result, 0);
	assert_int_equal(o.st.records_received, n);
	assert_same_sets(w);
	rate = (double)n / ((double)(o.st.finished_ms - o.st.started_ms) / 1000.0);
	printf("# bench: %.0f records/s; verify ceiling %.0f records/s on 2 "
	    "threads; %.0f%% of it\n", rate, ceiling, 100.0 * rate / ceiling);
	recs_free(&rs);
}

/* ---- hostile peers ---- */

/* Feeds m to s as if its peer had sent it. */
static int
feed(struct side *s, const Lcf__PeerMsg *m)
{
	size_t len = lcf__peer_msg__get_packed_size(m);

	return sync_on_message(&s->n, &s->io, m, len);
}

/* The next message s sent, decoded (free with free_unpacked), or NULL. */
static Lcf__PeerMsg *
captured(struct side *s)
{
	struct msg *q = s->cap_head;
	Lcf__PeerMsg *m;

	if (q == NULL)
		return NULL;
	s->cap_head = q->next;
	if (s->cap_head == NULL)
		s->cap_tail = NULL;
	m = lcf__peer_msg__unpack(NULL, q->len, q->buf);
	free(q->buf);
	free(q);
	assert_non_null(m);
	return m;
}

static void
drain(struct side *s)
{
	Lcf__PeerMsg *m;

	while ((m = captured(s)) != NULL)
		lcf__peer_msg__free_unpacked(m, NULL);
}

/* Starts a session from a (captured), returns its id. */
static uint64_t
begin_captured(struct world *w, struct outcome *o)
{
	Lcf__PeerMsg *m;
	uint64_t id;

	memset(o, 0, sizeof(*o));
	drain(&w->a);
	assert_int_equal(sync_begin(&w->a.n, &w->a.io, on_done, o), 0);
	m = captured(&w->a);
	assert_non_null(m);
	assert_int_equal(m->msg_case, LCF__PEER_MSG__MSG_SYNC_START);
	id = m->sync_start->session;
	lcf__peer_msg__free_unpacked(m, NULL);
	return id;
}

static int
feed_sketch(struct side *s, uint64_t id, uint32_t cells, const uint8_t *buf,
    size_t len)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__SyncSketch sk = LCF__SYNC_SKETCH__INIT;

	sk.has_session = 1;
	sk.session = id;
	sk.has_cells = 1;
	sk.cells = cells;
	sk.has_iblt = 1;
	sk.iblt.data = (uint8_t *)buf;
	sk.iblt.len = len;
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_SKETCH;
	m.sync_sketch = &sk;
	return feed(s, &m);
}

/* A SyncStart, as the peer's next message; the peer's start rate is left as
 * it is (feed_start refills it first: the rate has a test of its own). */
static int
feed_start_rated(struct side *s, uint64_t id, uint64_t count, size_t digest_len)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__SyncStart ss = LCF__SYNC_START__INIT;
	uint8_t dig[32];

	memset(dig, 0x5a, sizeof(dig));
	ss.has_session = 1;
	ss.session = id;
	ss.has_count = 1;
	ss.count = count;
	ss.has_digest = 1;
	ss.digest.data = dig;
	ss.digest.len = digest_len;
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_START;
	m.sync_start = &ss;
	return feed(s, &m);
}

static int
feed_start(struct side *s, uint64_t id, uint64_t count, size_t digest_len)
{
	s->io.start_due = 0;
	return feed_start_rated(s, id, count, digest_len);
}

/* The answer to a SyncStart: 1 accepted (a sketch), 0 busy. */
static int
start_answer(struct side *s)
{
	Lcf__PeerMsg *got = captured(s);
	int ret;

	assert_non_null(got);
	if (got->msg_case == LCF__PEER_MSG__MSG_SYNC_SKETCH) {
		ret = 1;
	} else {
		assert_int_equal(got->msg_case, LCF__PEER_MSG__MSG_SYNC_DONE);
		assert_int_equal(got->sync_done->error, LCF_EBUSY);
		ret = 0;
	}
	lcf__peer_msg__free_unpacked(got, NULL);
	drain(s);
	return ret;
}

static void
feed_abort(struct side *s, uint64_t id)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__SyncDone d = LCF__SYNC_DONE__INIT;

	d.has_session = d.has_error = 1;
	d.session = id;
	d.error = LCF_ECLOSED;
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_DONE;
	m.sync_done = &d;
	assert_int_equal(feed(s, &m), 0);
}

/* A peer may start SYNC_START_BURST sessions at once, then one per
 * SYNC_START_EVERY_MS: each start reads the store on the loop. */
static void
test_start_rate(void **state)
{
	struct world *w = *state;
	struct recs rs = { 0 };
	struct iblt_digest d;
	uint64_t id = 300;
	int i;

	add_authors(w, 20);
	make_many(w, &rs, 0, 20, 1, 100);
	put_recs(&w->a, &rs, NULL, NULL);
	digest_of(&w->a, &d);
	w->a.capture = 1;
	for (i = 0; i < SYNC_START_BURST; i++) {
		assert_int_equal(feed_start_rated(&w->a, ++id, 0, 16), 0);
		assert_int_equal(start_answer(&w->a), 1);
		feed_abort(&w->a, id);
	}
	assert_int_equal(feed_start_rated(&w->a, ++id, 0, 16), 0);
	assert_int_equal(start_answer(&w->a), 0);
	/* One interval later, one more. */
	w->a.io.start_due -= SYNC_START_EVERY_MS;
	assert_int_equal(feed_start_rated(&w->a, ++id, 0, 16), 0);
	assert_int_equal(start_answer(&w->a), 1);
	feed_abort(&w->a, id);
	assert_int_equal(feed_start_rated(&w->a, ++id, 0, 16), 0);
	assert_int_equal(start_answer(&w->a), 0);
	/* After a long pause, a whole burst again, and no more. */
	w->a.io.start_due = 0;
	for (i = 0; i < SYNC_START_BURST; i++) {
		assert_int_equal(feed_start_rated(&w->a, ++id, d.count + 5, 16), 0);
		assert_int_equal(start_answer(&w->a), 1);
		feed_abort(&w->a, id);
	}
	assert_int_equal(feed_start_rated(&w->a, ++id, 0, 16), 0);
	assert_int_equal(start_answer(&w->a), 0);
	recs_free(&rs);
}

static int
feed_want_ids(struct side *s, uint64_t id, size_t n, size_t idlen, int done)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__SyncWant sw = LCF__SYNC_WANT__INIT;
	ProtobufCBinaryData *ids = calloc(n ? n : 1, sizeof(*ids));
	uint8_t buf[8];
	size_t i;
	int rc;

	assert_non_null(ids);
	memset(buf, 0x33, sizeof(buf));
	for (i = 0; i < n; i++) {
		ids[i].data = buf;
		ids[i].len = idlen;
	}
	sw.has_session = 1;
	sw.session = id;
	sw.n_ids = n;
	sw.ids = ids;
	if (done) {
		sw.has_done = 1;
		sw.done = 1;
	}
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_WANT;
	m.sync_want = &sw;
	rc = feed(s, &m);
	free(ids);
	return rc;
}

static int
feed_records(struct side *s, uint64_t id, size_t n, size_t len, int last)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__Records r = LCF__RECORDS__INIT;
	ProtobufCBinaryData *rec = calloc(n ? n : 1, sizeof(*rec));
	uint8_t *buf = calloc(1, len ? len : 1);
	size_t i;
	int rc;

	assert_non_null(rec);
	assert_non_null(buf);
	for (i = 0; i < n; i++) {
		rec[i].data = buf;
		rec[i].len = len;
	}
	r.n_records = n;
	r.records = rec;
	r.has_session = 1;
	r.session = id;
	if (last) {
		r.has_last = 1;
		r.last = 1;
	}
	m.msg_case = LCF__PEER_MSG__MSG_RECORDS;
	m.records = &r;
	rc = feed(s, &m);
	free(rec);
	free(buf);
	return rc;
}

static int
feed_author_want(struct side *s, uint64_t id, size_t author_len,
    const uint64_t *have, size_t nhave)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__SyncWant sw = LCF__SYNC_WANT__INIT;
	Lcf__AuthorWant aw = LCF__AUTHOR_WANT__INIT, *awp = &aw;
	uint8_t author[32];

	memset(author, 0x44, sizeof(author));
	aw.has_author = 1;
	aw.author.data = author;
	aw.author.len = author_len;
	aw.have = (uint64_t *)have;
	aw.n_have = nhave;
	sw.has_session = 1;
	sw.session = id;
	sw.n_authors = 1;
	sw.authors = &awp;
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_WANT;
	m.sync_want = &sw;
	return feed(s, &m);
}

static int
feed_credit(struct side *s, uint64_t id, uint32_t credit)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__SyncWant sw = LCF__SYNC_WANT__INIT;

	sw.has_session = 1;
	sw.session = id;
	sw.has_credit = 1;
	sw.credit = credit;
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_WANT;
	m.sync_want = &sw;
	return feed(s, &m);
}

/* a as initiator, facing a peer that answers with garbage. */
static void
test_hostile_responder(void **state)
{
	struct world *w = *state;
	struct recs rs = { 0 };
	struct outcome o;
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT, *got;
	Lcf__SyncSketch sk = LCF__SYNC_SKETCH__INIT;
	Lcf__AuthorSummary *as[SYNC_PAGE_AUTHORS + 1], one = LCF__AUTHOR_SUMMARY__INIT;
	uint8_t *table = calloc(IBLT_CELL_BYTES, 49152);
	uint8_t author[32], dig[16];
	uint64_t id;
	size_t i;

	assert_non_null(table);
	add_authors(w, 20);
	make_many(w, &rs, 0, 20, 1, 400);
	put_recs(&w->a, &rs, NULL, NULL);
	w->a.capture = 1;

	/* A table whose size is not a class, or whose bytes do not match. */
	id = begin_captured(w, &o);
	assert_int_equal(feed_sketch(&w->a, id, 100, table, 100 * 16), LCF_EPROTO);
	assert_int_equal(o.called, 1);
	assert_int_equal(o.st.result, LCF_EPROTO);
	id = begin_captured(w, &o);
	assert_int_equal(feed_sketch(&w->a, id, 192, table, 100), LCF_EPROTO);

	/* Random cells of a real class do not decode, and leave no cell empty
	 * to estimate from: a asks for the class two up; a table of another
	 * class is then refused. */
	id = begin_captured(w, &o);
	randombytes_buf(table, 192 * 16);
	assert_int_equal(feed_sketch(&w->a, id, 192, table, 192 * 16), 0);
	got = captured(&w->a);
	assert_non_null(got);
	assert_int_equal(got->msg_case, LCF__PEER_MSG__MSG_SYNC_WANT);
	assert_true(got->sync_want->has_cells);
	assert_int_equal(got->sync_want->cells, 768);
	lcf__peer_msg__free_unpacked(got, NULL);
	assert_int_equal(feed_sketch(&w->a, id, 192, table, 192 * 16), LCF_EPROTO);

	/* A table forged so that one key peels back and forth forever: a's own
	 * table with one key removed from a single one of its cells. */
	{
		struct iblt t;
		uint64_t key = 0x0123456789abcdefULL;
		uint32_t pos[3];

		id = begin_captured(w, &o);
		assert_int_equal(iblt_set_snapshot(store_sketch(w->a.n.store), 0,
		    &t, NULL), 0);
		iblt_positions(0, key, pos);
		t.cells[pos[0]].count -= 1;
		t.cells[pos[0]].keysum ^= key;
		t.cells[pos[0]].hashsum ^= iblt_check(key);
		iblt_serialize(&t, table);
		assert_int_equal(feed_sketch(&w->a, id, t.ncells, table,
		    iblt_size(&t)), LCF_EPROTO);
		assert_int_equal(o.st.result, LCF_EPROTO);
		iblt_free(&t);
	}

	/* Records before any answer; credit never granted. */
	id = begin_captured(w, &o);
	assert_int_equal(feed_records(&w->a, id, 1, 100, 0), LCF_EPROTO);
	id = begin_captured(w, &o);
	assert_int_equal(feed_credit(&w->a, id, 1), LCF_EPROTO);

	/* Too many summaries in one page; summaries out of order. */
	memset(author, 0x11, sizeof(author));
	memset(dig, 0, sizeof(dig));
	one.has_author = 1;
	one.author.data = author;
	one.author.len = 32;
	one.has_count = 1;
	one.count = 1;
	one.has_digest = 1;
	one.digest.data = dig;
	one.digest.len = 16;
	for (i = 0; i <= SYNC_PAGE_AUTHORS; i++)
		as[i] = &one;
	id = begin_captured(w, &o);
	sk.has_session = 1;
	sk.session = id;
	sk.n_authors = SYNC_PAGE_AUTHORS + 1;
	sk.authors = as;
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_SKETCH;
	m.sync_sketch = &sk;
	assert_int_equal(feed(&w->a, &m), LCF_EPROTO);
	id = begin_captured(w, &o);
	sk.session = id;
	sk.n_authors = 2;           /* the same author twice */
	assert_int_equal(feed(&w->a, &m), LCF_EPROTO);

	/* A digest of the wrong length in SyncDone. */
	id = begin_captured(w, &o);
	{
		Lcf__SyncDone d = LCF__SYNC_DONE__INIT;

		d.has_session = 1;
		d.session = id;
		d.has_count = 1;
		d.has_digest = 1;
		d.digest.data = dig;
		d.digest.len = 3;
		m.msg_case = LCF__PEER_MSG__MSG_SYNC_DONE;
		m.sync_done = &d;
		assert_int_equal(feed(&w->a, &m), LCF_EPROTO);
	}
	/* Messages of a session that ended are ignored, not violations. */
	assert_int_equal(feed_credit(&w->a, id, 1), 0);
	drain(&w->a);
	free(table);
	recs_free(&rs);
}

/* a as responder, facing an initiator that sends garbage. */
static void
test_hostile_initiator(void **state)
{
	struct world *w = *state;
	struct recs rs = { 0 };
	Lcf__PeerMsg *got;
	uint64_t runs_bad[] = { 5, 9, 3, 4 }, runs_zero[] = { 0, 4 };
	uint64_t *runs_many = calloc(2 * (SYNC_MAX_RUNS + 1), sizeof(uint64_t));
	size_t i;
	struct iblt_digest d;

	assert_non_null(runs_many);
	for (i = 0; i < SYNC_MAX_RUNS + 1; i++) {
		runs_many[2 * i] = 2 * i + 1;
		runs_many[2 * i + 1] = 2 * i + 1;
	}
	add_authors(w, 200);
	make_many(w, &rs, 0, 200, 1, 4000);
	put_recs(&w->a, &rs, NULL, NULL);
	digest_of(&w->a, &d);
	w->a.capture = 1;

	/* Malformed starts. */
	assert_int_equal(feed_start(&w->a, 1, 10, 3), LCF_EPROTO);
	assert_int_equal(feed_start(&w->a, 0, 10, 16), LCF_EPROTO);

	/* A peer with 10 more records: a sends its smallest table. */
	assert_int_equal(feed_start(&w->a, 101, d.count + 10, 16), 0);
	got = captured(&w->a);
	assert_non_null(got);
	assert_int_equal(got->msg_case, LCF__PEER_MSG__MSG_SYNC_SKETCH);
	assert_int_equal(got->sync_sketch->cells, 192);
	assert_int_equal(got->sync_sketch->iblt.len, 192 * 16);
	lcf__peer_msg__free_unpacked(got, NULL);
	/* The same session id again while it runs. */
	assert_int_equal(feed_start(&w->a, 101, d.count + 10, 16), LCF_EPROTO);
	/* Ids that are not 8 bytes. */
	assert_int_equal(feed_start(&w->a, 102, d.count + 10, 16), 0);
	assert_int_equal(feed_want_ids(&w->a, 102, 1, 5, 1), LCF_EPROTO);
	/* More ids than a 192-cell table can yield. */
	assert_int_equal(feed_start(&w->a, 103, d.count + 10, 16), 0);
	assert_int_equal(feed_want_ids(&w->a, 103, 193, 8, 1), LCF_EPROTO);
	/* Bigger tables: any larger class, skipping some, up to the largest;
	 * then the same class again, a smaller one, or a size that is not a
	 * class, each in a session of its own, is refused. */
	assert_int_equal(feed_start(&w->a, 104, d.count + 10, 16), 0);
	drain(&w->a);
	{
		static const int up[] = { 1, 3, 4, IBLT_NCLASSES - 1 };
		static const uint32_t bad[] = { 2 * 49152, 768, 100, 0 };
		Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
		Lcf__SyncWant sw = LCF__SYNC_WANT__INIT;

		sw.has_session = 1;
		sw.session = 104;
		sw.has_cells = 1;
		m.msg_case = LCF__PEER_MSG__MSG_SYNC_WANT;
		m.sync_want = &sw;
		for (i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
			sw.cells = iblt_class_cells(up[i]);
			assert_int_equal(feed(&w->a, &m), 0);
			got = captured(&w->a);
			assert_non_null(got);
			assert_int_equal(got->sync_sketch->cells, sw.cells);
			assert_int_equal(got->sync_sketch->iblt.len,
			    (size_t)sw.cells * 16);
			lcf__peer_msg__free_unpacked(got, NULL);
		}
		assert_int_equal(feed(&w->a, &m), LCF_EPROTO);
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			assert_int_equal(feed_start(&w->a, 110 + i, d.count + 10,
			    16), 0);
			drain(&w->a);
			sw.session = 110 + i;
			sw.cells = bad[i];
			if (i == 1) {
				/* First a legal step to 768, then 768 again. */
				assert_int_equal(feed(&w->a, &m), 0);
				drain(&w->a);
			}
			assert_int_equal(feed(&w->a, &m), LCF_EPROTO);
		}
	}
	/* Author wants in table mode. */
	assert_int_equal(feed_start(&w->a, 105, d.count + 10, 16), 0);
	assert_int_equal(feed_author_want(&w->a, 105, 32, NULL, 0), LCF_EPROTO);
	/* Well-formed wants of unknown ids: an empty last batch answers. */
	assert_int_equal(feed_start(&w->a, 106, d.count + 10, 16), 0);
	drain(&w->a);
	assert_int_equal(feed_want_ids(&w->a, 106, 3, 8, 1), 0);
	got = captured(&w->a);
	assert_non_null(got);
	assert_int_equal(got->msg_case, LCF__PEER_MSG__MSG_RECORDS);
	assert_true(got->records->last);
	assert_int_equal(got->records->n_records, 0);
	lcf__peer_msg__free_unpacked(got, NULL);
	/* Oversized batches and records; records after the last batch. */
	assert_int_equal(feed_records(&w->a, 106, SYNC_BATCH_RECORDS + 1, 10, 0),
	    LCF_EPROTO);
	assert_int_equal(feed_start(&w->a, 107, d.count + 10, 16), 0);
	assert_int_equal(feed_records(&w->a, 107, 1, RECORD_MAX_SIGNED + 1, 0),
	    LCF_EPROTO);
	assert_int_equal(feed_start(&w->a, 117, d.count + 10, 16), 0);
	assert_int_equal(feed_records(&w->a, 117, 40, 60000, 0), LCF_EPROTO);
	assert_int_equal(feed_start(&w->a, 108, d.count + 10, 16), 0);
	assert_int_equal(feed_records(&w->a, 108, 0, 0, 1), 0);
	assert_int_equal(feed_records(&w->a, 108, 0, 0, 1), LCF_EPROTO);
	/* Batches beyond the credit window: garbage records wait in ingest,
	 * so none is acknowledged yet. */
	assert_int_equal(feed_start(&w->a, 109, d.count + 10, 16), 0);
	for (i = 0; i < SYNC_WINDOW; i++)
		assert_int_equal(feed_records(&w->a, 109, 1, 100, 0), 0);
	assert_int_equal(feed_records(&w->a, 109, 1, 100, 0), LCF_EPROTO);

	/* An empty peer: a sends summaries; then bad author wants. */
	drain(&w->a);
	assert_int_equal(feed_start(&w->a, 110, 0, 16), 0);
	got = captured(&w->a);
	assert_non_null(got);
	assert_int_equal(got->msg_case, LCF__PEER_MSG__MSG_SYNC_SKETCH);
	assert_int_equal(got->sync_sketch->n_authors, 200);
	assert_false(got->sync_sketch->more);
	lcf__peer_msg__free_unpacked(got, NULL);
	assert_int_equal(feed_author_want(&w->a, 110, 31, NULL, 0), LCF_EPROTO);
	assert_int_equal(feed_start(&w->a, 111, 0, 16), 0);
	assert_int_equal(feed_author_want(&w->a, 111, 32, runs_bad, 4), LCF_EPROTO);
	/* The runs limit (seq 0 is never held). */
	assert_int_equal(feed_start(&w->a, 112, 0, 16), 0);
	assert_int_equal(feed_author_want(&w->a, 112, 32, runs_zero, 2),
	    LCF_EPROTO);
	assert_int_equal(feed_start(&w->a, 113, 0, 16), 0);
	assert_int_equal(feed_author_want(&w->a, 113, 32, runs_many,
	    2 * (SYNC_MAX_RUNS + 1)), LCF_EPROTO);
	assert_int_equal(feed_author_want(&w->a, 113, 32, runs_many,
	    2 * SYNC_MAX_RUNS), 0);
	assert_int_equal(feed_start(&w->a, 114, 0, 16), 0);
	assert_int_equal(feed_author_want(&w->a, 114, 32, runs_many,
	    2 * SYNC_MAX_RUNS), 0);
	/* 101 and 114 still run: a third session with one peer is turned
	 * away, politely. */
	drain(&w->a);
	assert_int_equal(feed_start(&w->a, 116, 0, 16), 0);
	got = captured(&w->a);
	assert_non_null(got);
	assert_int_equal(got->msg_case, LCF__PEER_MSG__MSG_SYNC_DONE);
	assert_int_equal(got->sync_done->error, LCF_EBUSY);
	lcf__peer_msg__free_unpacked(got, NULL);
	drain(&w->a);
	free(runs_many);
	recs_free(&rs);
}

/* ---- measuring sessions (PROTOCOL 4.11) ---- */

/* Runs one measuring session from a to the end: its outcome, with nothing
 * moved either way and neither side counting a failure or a violation. */
static struct outcome
run_measure(struct world *w, const char *label)
{
	struct outcome o;
	struct iblt_digest a0, b0, a1, b1;
	struct node_counters *kb = &w->b.n.counters;
	uint64_t ok_before = kb->sync_sessions[0][COUNTERS_SYNC_OK];

	memset(&o, 0, sizeof(o));
	reset_counters(w);
	digest_of(&w->a, &a0);
	digest_of(&w->b, &b0);
	assert_int_equal(sync_measure(&w->a.n, &w->a.io, on_done, &o), 0);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	assert_int_equal(o.called, 1);
	printf("# measure, %s: %s; %llu round trips; bytes %llu out, %llu in "
	    "(%llu in all)\n", label, o.st.message,
	    (unsigned long long)o.st.round_trips,
	    (unsigned long long)o.st.bytes_sent,
	    (unsigned long long)o.st.bytes_received,
	    (unsigned long long)(w->a.bytes_out + w->b.bytes_out));
	assert_int_equal(o.st.result, 0);
	assert_int_equal(w->violations, 0);
	assert_int_equal(o.st.bytes_sent, w->a.bytes_out);
	assert_int_equal(o.st.bytes_received, w->b.bytes_out);
	/* No record moved, and no set changed. */
	assert_int_equal(w->a.record_bytes + w->b.record_bytes, 0);
	assert_int_equal(o.st.records_sent + o.st.records_received, 0);
	digest_of(&w->a, &a1);
	digest_of(&w->b, &b1);
	assert_int_equal(a0.count, a1.count);
	assert_int_equal(b0.count, b1.count);
	assert_memory_equal(a0.sum, a1.sum, 32);
	assert_memory_equal(b0.sum, b1.sum, 32);
	/* The responder's session ended well (equal sets keep no session). */
	if (o.st.round_trips > 1 || o.st.only_here + o.st.only_there > 0)
		assert_int_equal(kb->sync_sessions[0][COUNTERS_SYNC_OK],
		    ok_before + 1);
	return o;
}

static void
test_measure(void **state)
{
	struct world *w = *state;
	struct recs base = { 0 }, extra = { 0 }, few = { 0 };
	struct outcome o;

	add_authors(w, 200);
	make_many(w, &base, 0, 200, 1, 4000);
	put_recs(&w->a, &base, NULL, NULL);
	put_recs(&w->b, &base, NULL, NULL);

	/* 0 differences: one round trip, `equal`. */
	o = run_measure(w, "0 differences");
	assert_int_equal(o.st.measure_kind, SYNC_MEASURE_EXACT);
	assert_int_equal(o.st.only_here, 0);
	assert_int_equal(o.st.only_there, 0);
	assert_int_equal(o.st.round_trips, 1);
	assert_true(w->a.bytes_out + w->b.bytes_out <= 64);

	/* 10 differences: 7 only on a, 3 only on b. */
	make_many(w, &few, 0, 7, 21, 7);
	put_recs(&w->a, &few, NULL, NULL);
	recs_free(&few);
	make_many(w, &few, 0, 10, 22, 3);
	put_recs(&w->b, &few, NULL, NULL);
	o = run_measure(w, "10 differences, 7 here and 3 there");
	assert_int_equal(o.st.measure_kind, SYNC_MEASURE_EXACT);
	assert_int_equal(o.st.only_here, 7);
	assert_int_equal(o.st.only_there, 3);
	assert_int_equal(o.st.round_trips, 1);

	/* 1,000 more on the responder: it still sends its table, a decodes. */
	make_many(w, &extra, 0, 200, 31, 1000);
	put_recs(&w->b, &extra, NULL, NULL);
	o = run_measure(w, "1,010 differences, 1,000 more on the responder");
	assert_int_equal(o.st.measure_kind, SYNC_MEASURE_EXACT);
	assert_int_equal(o.st.only_here, 7);
	assert_int_equal(o.st.only_there, 1003);
	assert_true(o.st.round_trips <= 2);
	assert_true(w->a.bytes_out + w->b.bytes_out <= 2 * 24576 + 1024);
	recs_free(&few);
	recs_free(&base);
	recs_free(&extra);
}

/* 1,000 differences, 500 each way: the counts say nothing, the tables grow. */
static void
test_measure_scattered(void **state)
{
	struct world *w = *state;
	struct recs rs = { 0 };
	struct outcome o;

	add_authors(w, 200);
	make_many(w, &rs, 0, 200, 1, 5000);
	put_recs(&w->a, &rs, keep_a, NULL);
	put_recs(&w->b, &rs, keep_b, NULL);
	o = run_measure(w, "1,000 scattered differences, 500 each way");
	assert_int_equal(o.st.measure_kind, SYNC_MEASURE_EXACT);
	assert_int_equal(o.st.only_here, 500);
	assert_int_equal(o.st.only_there, 500);
	assert_true(o.st.round_trips <= 3);
	recs_free(&rs);
}

/* Beyond the largest table: an estimate, never a transfer. */
static void
test_measure_estimate(void **state)
{
	struct world *w = *state;
	struct recs rs = { 0 };
	struct outcome o;
	uint64_t here;

	add_authors(w, 50);
	make_many(w, &rs, 0, 50, 1, 45000);
	put_recs(&w->b, &rs, NULL, NULL);
	recs_free(&rs);
	make_many(w, &rs, 0, 50, 100000, 100);
	put_recs(&w->a, &rs, NULL, NULL);
	o = run_measure(w, "45,100 differences: the largest table fails");
	assert_int_equal(o.st.measure_kind, SYNC_MEASURE_ESTIMATE);
	here = o.st.only_here;
	/* The counts' difference is exact; the total within a few per cent. */
	assert_int_equal(o.st.only_there - here, 44900);
	if (o.st.only_here + o.st.only_there < 43000 ||
	    o.st.only_here + o.st.only_there > 47500)
		fail_msg("estimated %llu + %llu, not about 45,100",
		    (unsigned long long)o.st.only_here,
		    (unsigned long long)o.st.only_there);
	recs_free(&rs);
}

/* A peer of version 2 is never measured; a measuring responder refuses
 * every request for records. */
static void
test_measure_rules(void **state)
{
	struct world *w = *state;
	struct recs rs = { 0 };
	struct outcome o;
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT, *got;
	Lcf__SyncStart ss = LCF__SYNC_START__INIT;
	struct iblt_digest d;
	uint8_t dig[16];

	memset(&o, 0, sizeof(o));
	w->a.io.version = 2;
	assert_int_equal(sync_measure(&w->a.n, &w->a.io, on_done, &o),
	    LCF_EVERSION);
	w->a.io.version = 0;
	assert_int_equal(o.called, 0);

	add_authors(w, 20);
	make_many(w, &rs, 0, 20, 1, 200);
	put_recs(&w->a, &rs, NULL, NULL);
	digest_of(&w->a, &d);
	w->a.capture = 1;
	/* Fewer records on the asking side: a still sends its table. */
	memset(dig, 0x5a, sizeof(dig));
	ss.has_session = ss.has_count = ss.has_digest = ss.has_measure = 1;
	ss.session = 500;
	ss.count = d.count - 20;
	ss.digest.data = dig;
	ss.digest.len = sizeof(dig);
	ss.measure = 1;
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_START;
	m.sync_start = &ss;
	drain(&w->a);
	w->a.io.start_due = 0;
	assert_int_equal(feed(&w->a, &m), 0);
	got = captured(&w->a);
	assert_non_null(got);
	assert_int_equal(got->msg_case, LCF__PEER_MSG__MSG_SYNC_SKETCH);
	assert_true(got->sync_sketch->has_iblt);
	assert_int_equal(got->sync_sketch->iblt.len, 16 * got->sync_sketch->cells);
	lcf__peer_msg__free_unpacked(got, NULL);
	/* Asking for ids, or sending records, breaks the protocol. */
	assert_int_equal(feed_want_ids(&w->a, 500, 1, 8, 1), LCF_EPROTO);
	ss.session = 501;
	w->a.io.start_due = 0;
	assert_int_equal(feed(&w->a, &m), 0);
	drain(&w->a);
	assert_int_equal(feed_records(&w->a, 501, 1, 100, 1), LCF_EPROTO);
	/* A bigger table is fine, and the initiator's end is no failure. */
	ss.session = 502;
	w->a.io.start_due = 0;
	assert_int_equal(feed(&w->a, &m), 0);
	drain(&w->a);
	{
		Lcf__PeerMsg dm = LCF__PEER_MSG__INIT;
		Lcf__SyncDone dd = LCF__SYNC_DONE__INIT;
		uint64_t ok = w->a.n.counters.sync_sessions[0][COUNTERS_SYNC_OK];

		dd.has_session = dd.has_error = 1;
		dd.session = 502;
		dd.error = LCF_EMEASURED;
		dm.msg_case = LCF__PEER_MSG__MSG_SYNC_DONE;
		dm.sync_done = &dd;
		assert_int_equal(feed(&w->a, &dm), 0);
		assert_int_equal(w->a.n.counters.sync_sessions[0][COUNTERS_SYNC_OK],
		    ok + 1);
	}
	drain(&w->a);
	recs_free(&rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_additions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_beacons_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_beacons_summaries, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_identical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_legacy_order_sent_canonical,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_more_on_initiator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_more_on_responder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_more_few_authors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scattered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wiped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_to_wiped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_congested_sender, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forks_summaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_responder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_initiator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_measure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_measure_scattered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_measure_estimate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_measure_rules, setup, teardown),
	};
	/* The bootstrap benchmark is not a test: it runs alone, on request
	 * (LCF_SYNC_BENCH=N records, N >= 1000), and is not counted as skipped. */
	const struct CMUnitTest bench[] = {
		cmocka_unit_test_setup_teardown(test_bench_bootstrap, setup, teardown),
	};

	if (getenv("LCF_SYNC_BENCH") != NULL)
		return cmocka_run_group_tests(bench, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
