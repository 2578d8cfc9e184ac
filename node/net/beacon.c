// SPDX-License-Identifier: Apache-2.0
// Status beacons: this node's own, and what others' beacons tell (docs/PROTOCOL.md 1.3.15).
//
// A node publishes a beacon (kind beacon, key "beacon") at start when it has a
// federation or a peer (else on its first link), once its first
// reconciliation has run (FIRST_WAIT_MS at most) and its seqs settle, then
// every beacon_interval, and sooner on a material change (peers connected
// went from 0 to more or back, or the records held changed by more than 1%),
// never two within BEACON_MIN_GAP_MS. Each carries a random instance id
// chosen at start. From the beacons it is given (EVENTS_STORED: stored, or
// dropped as older than the one held, since the store keeps only the newest:
// docs/PROTOCOL.md 1.2) it keeps, per author in memory, the instances seen
// since it started, and concludes that two nodes
// run with one key when two instances overlap in time, or when a record of
// its own key made after it started arrives from a peer.
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <uv.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "base/version.h"
#include "base/xmalloc.h"
#include "core/events.h"
#include "core/member.h"
#include "core/node.h"
#include "model/identity.h"
#include "model/kinds.h"
#include "model/record.h"
#include "model/validate.h"
#include "net/beacon.h"
#include "net/peer.h"
#include "store/store.h"
#include "write/publish.h"

#define INSTANCES	4		/* kept per author */
/* A link up since this long before an instance started was not made by it
 * (the margin covers the two clocks; a link whose far end died without a
 * word could still count, until the link times out). */
#define SKEW_MS		(5 * 1000)
/* The first beacon waits for a first good reconciliation, this long at most,
 * so that it tells what the node holds once it caught up. */
#define FIRST_WAIT_MS	(30 * 1000)
#define FIRST_POLL_MS	500

struct inst {
	uint8_t id[VALIDATE_BEACON_INSTANCE];
	int64_t started, newest;
};

struct track {
	uint8_t author[32];
	struct inst v[INSTANCES];
	size_t n;
	int64_t shared_ms;
	int64_t shared_started[2];
};

struct beacon {
	struct node *n;
	struct track *t;		/* sorted by author */
	size_t count, cap;
	uv_timer_t timer;
	int timer_init;
	uint8_t instance[VALIDATE_BEACON_INSTANCE];
	uint64_t sent;
	int busy;			/* a beacon waits in the publish queue */
	int64_t last_ms;		/* when the last was queued (wall), 0: never */
	int first;			/* the first beacon waits (FIRST_WAIT_MS) */
	uint64_t last_set;		/* the base set's count in the last */
	size_t last_peers;
	int64_t logged_mono;		/* the shared-key warning, mono ms */
};

/* A beacon's draft, alive until its publish ends. */
struct draft {
	struct beacon *b;
	Lcf__Content c;
	Lcf__Content *cp;
	Lcf__Beacon body;
	Lcf__BeaconKindCount kc[KINDS_LIMIT];
	Lcf__BeaconKindCount *kcp[KINDS_LIMIT];
	uint8_t digest[16];
};

static int
track_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static struct track *
track_get(struct beacon *b, const uint8_t author[32], int make)
{
	/* bsearch takes no NULL array, even empty. */
	struct track *t = b->count == 0 ? NULL :
	    bsearch(author, b->t, b->count, sizeof(*b->t), track_cmp);
	size_t i;

	if (t != NULL || !make)
		return t;
	if (b->count == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 64;
		b->t = xreallocarray(b->t, b->cap, sizeof(*b->t));
	}
	for (i = b->count; i > 0 && memcmp(b->t[i - 1].author, author, 32) > 0; i--)
		;
	memmove(&b->t[i + 1], &b->t[i], (b->count - i) * sizeof(*b->t));
	b->count++;
	t = &b->t[i];
	memset(t, 0, sizeof(*t));
	memcpy(t->author, author, 32);
	return t;
}

/* ---- two nodes, one key ---- */

static void
mark_shared(struct track *t, int64_t started_a, int64_t started_b, int64_t when)
{
	t->shared_ms = when > t->shared_ms ? when : t->shared_ms;
	t->shared_started[0] = started_a < started_b ? started_a : started_b;
	t->shared_started[1] = started_a < started_b ? started_b : started_a;
}

/* Two instances overlap when each made a beacon at or after the other began. */
static void
check_overlap(struct track *t)
{
	size_t i, j;

	for (i = 0; i < t->n; i++)
		for (j = i + 1; j < t->n; j++)
			if (t->v[i].newest >= t->v[j].started &&
			    t->v[j].newest >= t->v[i].started)
				mark_shared(t, t->v[i].started, t->v[j].started,
				    t->v[i].newest > t->v[j].newest ?
				    t->v[i].newest : t->v[j].newest);
}

/* A link to the author up since well before instance `started` began ends at
 * an older instance that is still running. */
static void
check_link(struct node *n, struct track *t, int64_t started, int64_t ts)
{
	struct peer_info *p = NULL;
	size_t i, np = 0;

	if (peers_list(n, &p, &np) != 0)
		return;
	for (i = 0; i < np; i++)
		if (p[i].has_id && memcmp(p[i].id, t->author, 32) == 0 &&
		    p[i].state == PEER_CONNECTED &&
		    p[i].since_ms + SKEW_MS < started)
			mark_shared(t, p[i].since_ms, started, ts);
	free(p);
}

static void
note_instance(struct beacon *b, const uint8_t author[32], const Lcf__Beacon *bc,
    int64_t ts)
{
	struct track *t = track_get(b, author, 1);
	size_t i, old = 0;

	for (i = 0; i < t->n; i++)
		if (memcmp(t->v[i].id, bc->instance.data, VALIDATE_BEACON_INSTANCE) == 0)
			break;
	if (i == t->n) {
		if (t->n < INSTANCES) {
			i = t->n++;
		} else {
			for (i = 1; i < t->n; i++)
				if (t->v[i].newest < t->v[old].newest)
					old = i;
			i = old;
		}
		memcpy(t->v[i].id, bc->instance.data, VALIDATE_BEACON_INSTANCE);
		t->v[i].started = bc->started;
		t->v[i].newest = ts;
	} else if (ts > t->v[i].newest) {
		t->v[i].newest = ts;
	}
	check_overlap(t);
}

/* A record of this node's key that it did not make (it was not stored
 * before, it came from outside, and it is dated after this node started). */
static void
other_self(struct beacon *b, const struct record *rec)
{
	struct node *n = b->n;
	struct track *t = track_get(b, n->id->pk, 1);
	const Lcf__Beacon *bc = rec->c->beacon;
	int64_t other = bc != NULL && rec->c->body_case == LCF__CONTENT__BODY_BEACON ?
	    bc->started : 0;
	uint64_t now = mono_ms();

	mark_shared(t, n->started_ms, other != 0 ? other : n->started_ms,
	    rec->c->timestamp);
	if (b->logged_mono != 0 && now - b->logged_mono < BEACON_SHARED_LOG_MS)
		return;
	b->logged_mono = now;
	if (other != 0)
		log_warnx("beacon: another node runs with this key: its beacon "
		    "(seq %llu) says it started at %lld ms, this node at %lld; "
		    "stop one of them, or the two make conflicting records "
		    "(forks)", (unsigned long long)rec->c->seq,
		    (long long)other, (long long)n->started_ms);
	else
		log_warnx("beacon: another node runs with this key: a %s record "
		    "(seq %llu) made after this node started arrived; stop one of them, or the two make conflicting records "
		    "(forks)", kinds_name((int)rec->c->kind),
		    (unsigned long long)rec->c->seq);
}

static void
on_stored(struct beacon *b, const struct events_stored *st)
{
	struct node *n = b->n;
	struct record rec;
	size_t i;
	int own;

	for (i = 0; i < st->count; i++) {
		const struct events_record *r = &st->recs[i];

		own = memcmp(r->author, n->id->pk, 32) == 0;
		/* A beacon older than the one held is not stored, but it is
		 * valid and tells of its instance all the same: two nodes on
		 * one key are seen even when one's beacons all lag. */
		if (((r->result & STORE_DUP) && !(r->result & STORE_SUPERSEDED)) ||
		    (r->kind != LCF__KIND__KIND_BEACON && !own))
			continue;
		/* Records of its own key that this node wrote come by publish
		 * or import; others (a peer, signed lines given to publish)
		 * were made elsewhere when dated after this node started. */
		if (own && (st->origin == EVENTS_FROM_PUBLISH ||
		    st->origin == EVENTS_FROM_IMPORT ||
		    r->timestamp < n->started_ms))
			continue;
		if (record_open(r->raw, r->len, 0, &rec) != 0)
			continue;
		if (own && !(rec.c->body_case == LCF__CONTENT__BODY_BEACON &&
		    rec.c->beacon != NULL && rec.c->beacon->instance.len ==
		    VALIDATE_BEACON_INSTANCE && memcmp(rec.c->beacon->instance.data,
		    b->instance, VALIDATE_BEACON_INSTANCE) == 0))
			other_self(b, &rec);
		else if (!own && rec.c->body_case == LCF__CONTENT__BODY_BEACON &&
		    rec.c->beacon != NULL) {
			note_instance(b, r->author, rec.c->beacon, r->timestamp);
			check_link(n, track_get(b, r->author, 1),
			    rec.c->beacon->started, r->timestamp);
		}
		record_release(&rec);
	}
}

/* ---- this node's beacon ---- */

int
beacon_own_set(struct node *n, uint64_t *records, uint64_t *set_count,
    uint8_t digest[16])
{
	struct store_stats st;
	struct iblt_digest d;
	int rc;

	if ((rc = store_stats(n->store, &st)) != 0 ||
	    (rc = store_sketch_view(n->store, 1, 0, NULL, &d)) != 0)
		return rc == LCF_EINVAL ? LCF_ESTORE : rc;
	*records = st.records;
	*set_count = d.count;
	iblt_digest_bytes(&d, digest);
	return 0;
}

static void
published(void *arg, const struct publish_result *res)
{
	struct draft *d = arg;

	d->b->busy = 0;
	if (res->error != 0)
		log_warnx("beacon: cannot publish this node's beacon: %s%s%s",
		    res->verr.field, res->verr.field[0] ? ": " : "",
		    res->verr.msg[0] ? res->verr.msg : res->message[0] ?
		    res->message : lcf_strerror(res->error));
	else
		log_info("beacon: published (%llu records, %u peers connected)",
		    (unsigned long long)d->body.records, d->body.peers);
	free(d);
}

static int64_t
last_good_sync(struct node *n, size_t *connected)
{
	struct peer_info *p = NULL;
	size_t i, np = 0;
	int64_t best = 0;

	*connected = 0;
	if (peers_list(n, &p, &np) != 0)
		return 0;
	for (i = 0; i < np; i++) {
		if (p[i].last_good_sync_ms > best)
			best = p[i].last_good_sync_ms;
		*connected += p[i].state == PEER_CONNECTED;
	}
	free(p);
	return best;
}

static void
fill_kinds(struct draft *d, const struct store_stats *st)
{
	const struct kinds_def *kd;
	size_t i;

	for (i = 0; (kd = kinds_at(i)) != NULL; i++) {
		if (st->kinds[kd->kind].current == 0)
			continue;
		lcf__beacon_kind_count__init(&d->kc[d->body.n_kinds]);
		d->kc[d->body.n_kinds].has_kind = d->kc[d->body.n_kinds].has_count = 1;
		d->kc[d->body.n_kinds].kind = (uint32_t)kd->kind;
		d->kc[d->body.n_kinds].count = st->kinds[kd->kind].current;
		d->kcp[d->body.n_kinds] = &d->kc[d->body.n_kinds];
		d->body.n_kinds++;
	}
	/* kcp is inside the draft: the body points at it, freed with it. */
	d->body.kinds = d->kcp;
}

/* Queues this node's beacon with the figures of now. */
static void
publish_beacon(struct beacon *b, const char *why)
{
	struct node *n = b->n;
	struct draft *d;
	struct store_stats st;
	struct iblt_digest dg;
	size_t connected;
	char self[256];
	int rc;

	if (b->busy || members_self_check(n, self, sizeof(self)) != 0)
		return;
	if (store_stats(n->store, &st) != 0 ||
	    store_sketch_view(n->store, 1, 0, NULL, &dg) != 0) {
		log_warnx("beacon: cannot read the store's figures: no beacon now");
		return;
	}
	d = xcalloc(1, sizeof(*d));
	d->b = b;
	lcf__content__init(&d->c);
	lcf__beacon__init(&d->body);
	d->cp = &d->c;
	d->c.has_kind = 1;
	d->c.kind = LCF__KIND__KIND_BEACON;
	d->c.key = BEACON_KEY;
	d->body.software = LCF_VERSION;
	d->body.has_protocol = d->body.has_started = d->body.has_instance = 1;
	d->body.protocol = KINDS_PROTO_VERSION;
	d->body.started = n->started_ms;
	d->body.instance.data = b->instance;
	d->body.instance.len = sizeof(b->instance);
	fill_kinds(d, &st);
	d->body.has_records = d->body.has_set_count = d->body.has_set_digest = 1;
	d->body.records = st.records;
	d->body.set_count = dg.count;
	iblt_digest_bytes(&dg, d->digest);
	d->body.set_digest.data = d->digest;
	d->body.set_digest.len = sizeof(d->digest);
	d->body.last_sync = last_good_sync(n, &connected);
	d->body.has_last_sync = d->body.last_sync > 0;
	d->body.has_peers = d->body.has_sent = 1;
	d->body.peers = (uint32_t)connected;
	d->body.sent = ++b->sent;
	kinds_set_body(&d->c, kinds_by_kind(LCF__KIND__KIND_BEACON),
	    (ProtobufCMessage *)&d->body);
	if ((rc = publish_submit(n, &d->cp, 1, 0, published, d)) != 0) {
		log_warnx("beacon: cannot publish this node's beacon: %s",
		    lcf_strerror(rc));
		free(d->body.kinds);
		free(d);
		return;
	}
	log_debug("beacon: queued (%s)", why);
	b->busy = 1;
	b->last_ms = now_ms();
	b->last_set = dg.count;
	b->last_peers = connected;
	b->first = 0;
}

/* What makes a beacon due now, or NULL. */
static const char *
due(struct beacon *b)
{
	struct node *n = b->n;
	struct peers_summary ps;
	uint64_t records = 0, count = 0;
	uint8_t digest[16];
	int64_t since = now_ms() - b->last_ms;
	uint64_t diff;
	size_t connected;

	peers_summary(n, &ps);
	if (b->first) {
		if (last_good_sync(n, &connected) >= n->started_ms)
			return "start, after the first reconciliation";
		if (mono_ms() - n->started_mono >= FIRST_WAIT_MS || ps.known == 0)
			return "start";
		return NULL;
	}
	if (b->last_ms == 0)
		return ps.connected > 0 ? "first link" : NULL;
	if (since >= (int64_t)n->cfg.beacon_interval * 1000)
		return "interval";
	if (since < BEACON_MIN_GAP_MS)
		return NULL;
	if ((ps.connected > 0) != (b->last_peers > 0))
		return "peers connected";
	if (beacon_own_set(n, &records, &count, digest) != 0)
		return NULL;
	/* Beacons are left out: in a small federation they would make every
	 * beacon of another node a material change. */
	diff = count > b->last_set ? count - b->last_set : b->last_set - count;
	return diff * 100 > b->last_set ? "records held" : NULL;
}

static void
tick(uv_timer_t *h)
{
	struct beacon *b = h->data;
	const char *why;

	if (!b->n->stopping && (why = due(b)) != NULL) {
		/* Polled no more, even when this one cannot be published. */
		b->first = 0;
		publish_beacon(b, why);
	}
	if (!b->first && uv_timer_get_repeat(h) != BEACON_CHECK_MS)
		uv_timer_start(h, tick, BEACON_CHECK_MS, BEACON_CHECK_MS);
}

/* ---- reading ---- */

static int
seen_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct beacon_seen *o = arg;
	const Lcf__Beacon *bc;
	struct record rec;

	(void)id;
	if (record_open(raw, len, 0, &rec) != 0)
		return 0;
	bc = rec.c->body_case == LCF__CONTENT__BODY_BEACON ? rec.c->beacon : NULL;
	if (bc != NULL) {
		o->has = 1;
		o->timestamp = rec.c->timestamp;
		o->seq = rec.c->seq;
		snprintf(o->software, sizeof(o->software), "%s",
		    bc->software != NULL ? bc->software : "");
		o->protocol = bc->protocol;
		o->started = bc->started;
		o->records = bc->records;
		o->set_count = bc->set_count;
		o->has_digest = bc->has_set_digest && bc->set_digest.len == 16;
		if (o->has_digest)
			memcpy(o->digest, bc->set_digest.data, 16);
		o->peers = bc->peers;
		o->last_sync = bc->last_sync;
	}
	record_release(&rec);
	return 0;
}

int
beacon_get(struct node *n, const uint8_t author[32], struct beacon_seen *out)
{
	struct beacon *b = n->beacon;
	struct track *t;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = store_get_current(n->store, author, LCF__KIND__KIND_BEACON,
	    BEACON_KEY, seen_visit, out);
	if (rc != 0 && rc != LCF_ENOTFOUND)
		return LCF_ESTORE;
	if (b != NULL && (t = track_get(b, author, 0)) != NULL) {
		out->shared_ms = t->shared_ms;
		memcpy(out->shared_started, t->shared_started,
		    sizeof(out->shared_started));
	}
	return 0;
}

/* ---- life ---- */

int
beacon_open(struct node *n, char *err, size_t errlen)
{
	struct beacon *b = xcalloc(1, sizeof(*b));

	(void)err;
	(void)errlen;
	b->n = n;
	randombytes_buf(b->instance, sizeof(b->instance));
	n->beacon = b;
	return 0;
}

void
beacon_start(struct node *n)
{
	struct beacon *b = n->beacon;
	struct peers_summary ps;

	if (b == NULL || b->timer_init)
		return;
	peers_summary(n, &ps);
	/* Nobody to tell on a lone open node: its first link brings one. */
	b->first = members_enabled(n) || ps.known > 0;
	uv_timer_init(n->loop, &b->timer);
	b->timer.data = b;
	b->timer_init = 1;
	uv_timer_start(&b->timer, tick, b->first ? FIRST_POLL_MS : BEACON_CHECK_MS,
	    b->first ? FIRST_POLL_MS : BEACON_CHECK_MS);
}

static void
timer_closed(uv_handle_t *h)
{
	(void)h;
}

void
beacon_stop(struct node *n)
{
	struct beacon *b = n != NULL ? n->beacon : NULL;

	if (b == NULL || !b->timer_init)
		return;
	uv_close((uv_handle_t *)&b->timer, timer_closed);
	b->timer_init = 0;
}

void
beacon_free(struct node *n)
{
	struct beacon *b = n != NULL ? n->beacon : NULL;

	if (b == NULL)
		return;
	free(b->t);
	free(b);
	n->beacon = NULL;
}

void
beacon_on_event(void *arg, const struct events_event *ev)
{
	struct node *n = arg;
	struct beacon *b = n->beacon;
	const char *why;

	if (b == NULL || n->stopping)
		return;
	if (ev->kind == EVENTS_STORED)
		on_stored(b, &ev->u.stored);
	else if ((ev->kind == EVENTS_LINK_UP || ev->kind == EVENTS_LINK_DOWN) &&
	    b->timer_init && !b->first && (why = due(b)) != NULL)
		publish_beacon(b, why);
}
