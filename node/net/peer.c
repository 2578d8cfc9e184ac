// SPDX-License-Identifier: Apache-2.0
// The peer table: entries, links, dialing with backoff, the listener, one link per city.
//
// An entry (struct peer) is a city we know: one the operator added by address
// (dialed, optionally pinned to a key), one that connected to us (inbound,
// never dialed), or one discovered: dialed by discover.c at an address from
// the city's endpoint record, pinned to that city, redialed only by discovery.
// Entries and their counters persist in DIR/peers.json. A link (struct link)
// is one connection, made by dial() or accepted by the listener; once its
// handshake is done it is matched to an entry by the key it presented. Only
// one link per remote city is kept: when two exist (both sides dialed at
// once), both sides keep the one initiated by the city with the lower id.
// Push is in push.c, reconciliation scheduling in peersync.c; the structures
// they share are in peer_int.h. This file is the lowest of the three: it
// calls neither. It tells what happens to links through the event bus
// (EVENTS_LINK_UP, EVENTS_LINK_DOWN, EVENTS_LINK_REFUSED) and hands pushed
// records to the handler main.c gives peers_start (push.c).
//
// Every conn callback gets a struct link. Conns accepted by the listener start
// with the listener's stand-in link (peers.acceptor) as their arg; on_ready
// gives each its own link. A link is freed when its conn has closed and no
// ingest batch or sync request started from it is still running (refs).
#include <errno.h>
#include <stdarg.h>
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
#include "write/ingest.h"
#include "base/log.h"
#include "core/events.h"
#include "core/member.h"
#include "core/node.h"
#include "net/peer.h"
#include "net/peer_int.h"
#include "net/peerfile.h"
#include "net/sync.h"
#include "base/util.h"
#include "base/xmalloc.h"

static void dial(struct peer *p);

/* ---- small helpers ---- */

static int
code_is_violation(int code)
{
	return code == LCF_EPROTO || code == LCF_ECRYPTO || code == LCF_ETOOBIG ||
	    code == LCF_EVERSION || code == LCF_EPERM;
}

/* Broke the protocol's rules (an offence, peerbound.c): not another version
 * or identity, which honest peers may have. */
static int
code_is_offence(int code)
{
	return code == LCF_EPROTO || code == LCF_ECRYPTO || code == LCF_ETOOBIG;
}

/* Counts a handshake's outcome for /metrics (core/counters.h). */
static void
count_handshake(struct peers *ps, enum counters_handshake outcome)
{
	ps->n->counters.handshakes[outcome]++;
}

/* An inbound connection that will not become a link: counted in status
 * (refused_connections, and by reason) and logged, at most a few lines a
 * minute (a storm of them is summed up in the next line). */
static void
refuse_inbound(struct peers *ps, enum counters_handshake why)
{
	ps->refused_connections++;
	ps->refused_by[why]++;
}

static void
log_refused(struct peers *ps, int warn, const char *addr, const char *what,
    const char *reason)
{
	unsigned long held;
	char more[96] = "";

	if (!ratelimit_pass(&ps->refused_log, mono_ms(), &held))
		return;
	if (held > 0)
		snprintf(more, sizeof(more), " (and %lu more refused connections "
		    "not logged since the last line)", held);
	if (warn)
		log_warnx("peer %s: %s: %s%s", addr, what, reason, more);
	else
		log_info("peer %s: %s: %s%s", addr, what, reason, more);
}

/*
 * The outcome of a connection that closed before its handshake was done, by
 * conn.h's code; -1 for none (this node closed it: stopping, removed). A
 * connect or handshake timeout is LCF_ECONNECT either way: a conn that sent
 * or received bytes was connected, so its handshake timed out.
 */
static int
handshake_failure(const struct link *l, struct conn *c, int code)
{
	switch (code) {
	case 0:
		return -1;
	case LCF_ECRYPTO:
		return COUNTERS_HS_FAILED_CRYPTO;
	case LCF_EVERSION:
		return COUNTERS_HS_FAILED_VERSION;
	case LCF_EPERM:
		/* Accepted, only the listener's admit refuses (peerbound.c). */
		return l->acceptor ? COUNTERS_HS_REFUSED_BACKOFF :
		    COUNTERS_HS_FAILED_IDENTITY;
	case LCF_EBUSY:
		if (l->acceptor)
			return COUNTERS_HS_REFUSED_ADDRESS;
		return COUNTERS_HS_FAILED_CLOSED;
	case LCF_EPROTO:
	case LCF_ETOOBIG:
		return COUNTERS_HS_FAILED_PROTOCOL;
	case LCF_EFULL:
		return COUNTERS_HS_FAILED_EVICTED;
	case LCF_ECONNECT:
		return l->acceptor || conn_bytes_out(c) > 0 ||
		    conn_bytes_in(c) > 0 ? COUNTERS_HS_FAILED_TIMEOUT :
		    COUNTERS_HS_FAILED_CONNECT;
	default:
		return COUNTERS_HS_FAILED_CLOSED;
	}
}

/* "ADDRESS (CITY, 0123456789ab)" for log lines. */
const char *
peer__name(const struct peer *p, const struct link *l, char *buf, size_t size)
{
	char hex[LCF_ID_HEX];
	const char *addr = p != NULL && p->s.address[0] != '\0' ? p->s.address :
	    l != NULL && l->remote[0] != '\0' ? l->remote : "?";
	const uint8_t *id = l != NULL && (l->ready || l->identified) ? l->rid :
	    p != NULL && p->s.has_id ? p->s.id : NULL;

	if (id != NULL) {
		hex_encode(id, 32, hex);
		hex[SHORT_HEX] = '\0';
	} else {
		snprintf(hex, sizeof(hex), "id unknown");
	}
	if (p != NULL && p->s.city_name[0] != '\0')
		util_setf(buf, size, "%s (%s, %s)", addr, p->s.city_name, hex);
	else
		util_setf(buf, size, "%s (%s)", addr, hex);
	return buf;
}


void
peer__set_error(struct peer *p, const char *fmt, ...)
{
	char buf[PEER_TEXT_MAX * 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	peerfile_copy_text(p->s.last_error, sizeof(p->s.last_error), buf);
	p->s.last_error_ms = now_ms();
}

static void
set_state(struct peer *p, enum peer_state s)
{
	if (p->state != s)
		p->since_ms = now_ms();
	p->state = s;
}

/* An entry the operator added: dialed, and served beyond max_peers. */
static int
configured(const struct peer *p)
{
	return p->s.address[0] != '\0' && !p->discovered;
}

/* Tells the node about l (its city, connection, direction). */
static void
emit_link(struct link *l, enum events_kind kind, enum events_refusal refusal,
    const char *reason)
{
	struct events_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.u.link.city = l->rid;
	ev.u.link.link = l;
	ev.u.link.conn = l->c;
	ev.u.link.outbound = l->outbound;
	ev.u.link.refusal = refusal;
	ev.u.link.reason = reason != NULL ? reason : "";
	events_emit(&l->ps->n->events, &ev);
}

/* ---- the table and its file ---- */

static void
save_cb(uv_timer_t *t);

/* Counters changed: write them out within SAVE_DELAY_MS. */
void
peer__mark_dirty(struct peers *ps)
{
	if (ps->stopping || !ps->timers_init ||
	    uv_is_active((uv_handle_t *)&ps->save_timer))
		return;
	uv_timer_start(&ps->save_timer, save_cb, SAVE_DELAY_MS, 0);
}

/* Wire bytes of p: closed links plus the ones still open. */
static void
peer_bytes(const struct peer *p, uint64_t *in, uint64_t *out)
{
	const struct link *l;

	*in = p->s.bytes_in;
	*out = p->s.bytes_out;
	for (l = p->ps->links; l != NULL; l = l->next) {
		if (l->p != p || l->c == NULL)
			continue;
		*in += conn_bytes_in(l->c);
		*out += conn_bytes_out(l->c);
	}
}

static int
save_table(struct peers *ps, char *err, size_t errlen)
{
	struct peer_saved *v = xcalloc(ps->count + 1, sizeof(*v));
	const struct peer *p;
	size_t i = 0;
	int ret;

	for (p = ps->list; p != NULL; p = p->next) {
		/* A discovered entry is kept as a city known by id; its address
		 * is in its endpoint record. One never reached is not kept. */
		if (p->discovered && !p->s.has_id)
			continue;
		v[i] = p->s;
		if (p->discovered) {
			v[i].address[0] = '\0';
			v[i].has_pin = 0;
		}
		peer_bytes(p, &v[i].bytes_in, &v[i].bytes_out);
		i++;
	}
	ret = peerfile_save(ps->path, v, i, err, errlen);
	free(v);
	return ret;
}

static void
save_cb(uv_timer_t *t)
{
	struct peers *ps = t->data;
	char err[512];

	if (save_table(ps, err, sizeof(err)) != 0)
		log_warnx("peers: %s", err);
}

static struct peer *
peer_alloc(struct peers *ps)
{
	struct peer *p = xcalloc(1, sizeof(*p));

	p->ps = ps;
	p->s.rtt_ms = -1;
	p->backoff_ms = PEER_BACKOFF_MIN_MS;
	p->since_ms = now_ms();
	return p;
}

/* Appends p to the table (order is kept in the file and in `peer list`). */
static void
peer_insert(struct peers *ps, struct peer *p)
{
	struct peer **pp = &ps->list;

	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = p;
	p->prevp = pp;
	p->next = NULL;
	ps->count++;
}

static void
peer_unlist(struct peer *p)
{
	if (p->prevp == NULL)
		return;
	*p->prevp = p->next;
	if (p->next != NULL)
		p->next->prevp = p->prevp;
	p->prevp = NULL;
	p->next = NULL;
	p->ps->count--;
}

static void
peer_init_timer(struct peer *p)
{
	if (p->timer_init)
		return;
	uv_timer_init(p->ps->n->loop, &p->timer);
	p->timer.data = p;
	p->timer_init = 1;
}

static int
load_table(struct peers *ps, char *err, size_t errlen)
{
	struct peer_saved *v = NULL;
	struct peer *p;
	size_t n, i;
	int ret;

	if ((ret = peerfile_load(ps->path, &v, &n, err, errlen)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		p = peer_alloc(ps);
		p->s = v[i];
		if (p->s.last_sync_result == 0)
			p->good_sync_ms = p->s.last_sync_ms;
		if (p->s.address[0] != '\0')
			peerfile_parse_address(p->s.address, p->s.address, p->host,
			    &p->port);
		p->state = p->s.address[0] != '\0' ? PEER_RETRYING :
		    PEER_DISCONNECTED;
		peer_insert(ps, p);
	}
out:
	free(v);
	return ret;
}

/* ---- links ---- */

static int link_sync_send(void *arg, const Lcf__PeerMsg *m, size_t *wire_bytes);
static void link_sync_violation(void *arg, const char *reason);
static int link_congested(void *arg);

static struct link *
link_new(struct peers *ps, struct peer *p, int outbound)
{
	struct link *l = xcalloc(1, sizeof(*l));

	l->ps = ps;
	l->p = p;
	l->outbound = outbound;
	l->refs = 1;	/* the conn's, dropped in on_close */
	l->io.arg = l;
	l->io.send = link_sync_send;
	l->io.violation = link_sync_violation;
	l->io.congested = link_congested;
	l->next = ps->links;
	if (l->next != NULL)
		l->next->prevp = &l->next;
	l->prevp = &ps->links;
	ps->links = l;
	return l;
}

static void
link_free(struct link *l)
{
	struct waiter *w, *next;

	/* Only left when a session never ended: nobody can be told any more. */
	for (w = l->queued; w != NULL; w = next) {
		next = w->next;
		free(w);
	}
	if (l->prevp != NULL) {
		*l->prevp = l->next;
		if (l->next != NULL)
			l->next->prevp = l->prevp;
	}
	free(l);
}

void
peer__link_unref(struct link *l)
{
	if (--l->refs == 0)
		link_free(l);
}

static void
link_close(struct link *l, const char *reason)
{
	if (l->c == NULL || l->closing)
		return;
	l->closing = 1;
	conn_close(l->c, reason);
}

/* The peer broke a rule: count it, say why, drop it. */
void
peer__misbehave(struct link *l, const char *fmt, ...)
{
	char reason[PEER_TEXT_MAX], name[PEER_ADDR_MAX + PEER_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (l->p != NULL) {
		l->p->s.refused++;
		peer__set_error(l->p, "%s", reason);
		peer__mark_dirty(l->ps);
	}
	log_warnx("peer %s: %s: disconnecting", peer__name(l->p, l, name,
	    sizeof(name)), reason);
	if (l->identified && !l->closing)
		peer__offence_key(l->ps, l->rid, reason);
	link_close(l, reason);
}

static void
link_sync_violation(void *arg, const char *reason)
{
	struct link *l = arg;

	if (!l->closing)
		peer__misbehave(l, "reconciliation sent bad records: %s", reason);
}

static int
link_sync_send(void *arg, const Lcf__PeerMsg *m, size_t *wire_bytes)
{
	struct link *l = arg;
	int ret = LCF_EINVAL;

	if (m == NULL)
		goto out;
	if (wire_bytes != NULL)
		*wire_bytes = lcf__peer_msg__get_packed_size(m);
	ret = LCF_ECLOSED;
	if (l->c == NULL || l->closing)
		goto out;
	ret = conn_send(l->c, &m->base);
	if (ret == 0 && m->msg_case == LCF__PEER_MSG__MSG_RECORDS && l->p != NULL) {
		l->p->s.records_out += m->records->n_records;
		peer__mark_dirty(l->ps);
	}
out:
	return ret;
}

static int
link_congested(void *arg)
{
	const struct link *l = arg;

	return l->c != NULL && conn_is_congested(l->c);
}

static size_t
connected_count(const struct peers *ps)
{
	const struct peer *p;
	size_t n = 0;

	for (p = ps->list; p != NULL; p = p->next)
		if (p->active != NULL)
			n++;
	return n;
}

/* Frees a table slot for a new city: forgets the inbound-only or discovered
 * entry seen longest ago that is neither connected nor dialing. 0, or
 * LCF_ETOOBIG. */
static void remove_entry(struct peer *p, const char *reason);

static int
make_room(struct peers *ps)
{
	struct peer *p, *victim = NULL;
	int ret = 0;

	if (ps->count < CONFIG_MAX_PEERS)
		goto out;
	for (p = ps->list; p != NULL; p = p->next) {
		if (configured(p) || p->active != NULL || p->dialing != NULL)
			continue;
		if (victim == NULL ||
		    p->s.last_handshake_ms < victim->s.last_handshake_ms)
			victim = p;
	}
	ret = LCF_ETOOBIG;
	if (victim == NULL)
		goto out;
	remove_entry(victim, "forgotten to make room");
	ret = 0;
out:
	return ret;
}

/* The entry of a city that connected to us: a pinned or learned match,
 * preferring one the operator added. */
static struct peer *
find_by_id(struct peers *ps, const uint8_t id[32], const struct peer *except)
{
	struct peer *p, *found = NULL;

	for (p = ps->list; p != NULL; p = p->next) {
		if (p == except)
			continue;
		if ((p->s.has_id && memcmp(p->s.id, id, 32) == 0) ||
		    (p->s.has_pin && memcmp(p->s.pin, id, 32) == 0)) {
			if (configured(p))
				return p;
			if (found == NULL)
				found = p;
		}
	}
	return found;
}

/* Folds inbound-only or discovered entry q, the same city as p, into p. */
static void
merge_into(struct peer *p, struct peer *q)
{
	struct link *l;

	p->s.bytes_in += q->s.bytes_in;
	p->s.bytes_out += q->s.bytes_out;
	p->s.records_in += q->s.records_in;
	p->s.records_out += q->s.records_out;
	p->s.refused += q->s.refused;
	if (p->s.city_name[0] == '\0')
		memcpy(p->s.city_name, q->s.city_name, sizeof(p->s.city_name));
	if (p->s.listen[0] == '\0')
		memcpy(p->s.listen, q->s.listen, sizeof(p->s.listen));
	if (q->good_sync_ms > p->good_sync_ms)
		p->good_sync_ms = q->good_sync_ms;
	if (q->s.last_sync_ms > p->s.last_sync_ms) {
		p->s.last_sync_ms = q->s.last_sync_ms;
		p->s.last_sync_result = q->s.last_sync_result;
		memcpy(p->s.last_sync_message, q->s.last_sync_message,
		    sizeof(p->s.last_sync_message));
		p->s.last_sync_records_in = q->s.last_sync_records_in;
		p->s.last_sync_records_out = q->s.last_sync_records_out;
	}
	for (l = p->ps->links; l != NULL; l = l->next)
		if (l->p == q)
			l->p = p;
	if (q->active != NULL && p->active == NULL) {
		p->active = q->active;
		set_state(p, PEER_CONNECTED);
	}
	q->active = NULL;
	q->dialing = NULL;
	q->s.bytes_in = q->s.bytes_out = 0;
	remove_entry(q, NULL);
}

/* We dialed p and it presented id. */
static void
adopt_id(struct peer *p, const uint8_t id[32])
{
	char was[LCF_ID_HEX], now[LCF_ID_HEX];
	struct peer *q, *next;

	if (p->s.has_id && memcmp(p->s.id, id, 32) != 0)
		log_warnx("peer %s now presents city id %s (was %s)", p->s.address,
		    hex_encode(id, 32, now), hex_encode(p->s.id, 32, was));
	p->s.has_id = 1;
	memcpy(p->s.id, id, 32);
	for (q = p->ps->list; q != NULL; q = next) {
		next = q->next;
		if (q != p && (q->s.address[0] == '\0' || (q->discovered &&
		    !p->discovered)) && q->s.has_id && memcmp(q->s.id, id, 32) == 0)
			merge_into(p, q);
	}
}

/*
 * Keeps one link per city. With two links of one city, the one initiated by
 * the city with the lower id wins on both sides; two links initiated by the
 * same side keep the older. Returns 1 when l is kept.
 */
static int
resolve_duplicate(struct link *l)
{
	struct peers *ps = l->ps;
	struct link *o, *other = NULL, *loser;
	char name[PEER_ADDR_MAX + PEER_TEXT_MAX];
	int keep_new, we_are_lower;

	for (o = ps->links; o != NULL && other == NULL; o = o->next)
		if (o != l && o->ready && !o->closing && o->c != NULL &&
		    memcmp(o->rid, l->rid, 32) == 0)
			other = o;
	if (other == NULL)
		return 1;
	if (other->outbound == l->outbound) {
		keep_new = 0;
	} else {
		we_are_lower = memcmp(ps->n->id->pk, l->rid, 32) < 0;
		keep_new = l->outbound == we_are_lower;
	}
	loser = keep_new ? other : l;
	log_info("peer %s: two connections, keeping the one %s dialed",
	    peer__name(l->p, l, name, sizeof(name)),
	    (keep_new ? l : other)->outbound ? "we" : "it");
	if (loser->p != NULL && loser->p->active == loser)
		loser->p->active = NULL;
	loser->ready = 0;
	link_close(loser, "duplicate");
	return keep_new;
}

/*
 * The entry of a city that connected to us, made if it is new; NULL when the
 * connection is refused (closed here): max_peers cities are connected and this
 * one is not a configured peer, or the table is full.
 */
static struct peer *
inbound_entry(struct link *l)
{
	struct peers *ps = l->ps;
	struct peer *p = find_by_id(ps, l->rid, NULL);
	const char *refusal = NULL;

	if ((p == NULL || !configured(p)) && (p == NULL || p->active == NULL) &&
	    connected_count(ps) >= ps->n->cfg.max_peers)
		refusal = "too many peers";
	else if (p == NULL && make_room(ps) != 0)
		refusal = "peer table full";
	if (refusal != NULL) {
		refuse_inbound(ps, COUNTERS_HS_REFUSED_ROOM);
		count_handshake(ps, COUNTERS_HS_REFUSED_ROOM);
		log_warnx("peer %s: refused: %s (%zu connected, max_peers %u)",
		    l->remote, refusal, connected_count(ps), ps->n->cfg.max_peers);
		/* It still learns where the others listen (discover.c). */
		emit_link(l, EVENTS_LINK_REFUSED, EVENTS_REFUSED_ROOM, refusal);
		link_close(l, refusal);
		p = NULL;
		goto out;
	}
	if (p == NULL) {
		p = peer_alloc(ps);
		p->s.has_id = 1;
		memcpy(p->s.id, l->rid, 32);
		p->state = PEER_DISCONNECTED;
		peer_insert(ps, p);
		peer_init_timer(p);
	}
	l->p = p;
out:
	return p;
}

static void
learned(void *arg, const struct ingest_result *r)
{
	(void)arg;
	if (r->refused > 0)
		log_info("federation: a membership shown in a handshake was "
		    "refused: %s", r->reason);
}

static void
on_ready(void *arg, struct conn *c, const Lcf__Hello *hello)
{
	struct link *l = arg;
	struct peers *ps = l->ps;
	struct peer *p;
	char name[PEER_ADDR_MAX + PEER_TEXT_MAX], why[PEER_TEXT_MAX];
	char city[PEER_TEXT_MAX];
	const uint8_t *learn;
	size_t learn_len;
	int rc, member_rc;

	if (l->acceptor) {
		l = link_new(ps, NULL, 0);
		l->c = c;
		conn_set_arg(c, l);
	}
	if (ps->stopping) {
		link_close(l, "shutting down");
		return;
	}
	memcpy(l->rid, hello->identity.data, 32);
	util_setf(l->remote, sizeof(l->remote), "%s", conn_remote_addr(c));
	/* What it is sent, pushed or reconciled, follows its version. */
	l->io.version = conn_hello_protocol(hello);
	l->identified = 1;
	l->ready_mono = mono_ms();
	if (memcmp(l->rid, ps->n->id->pk, 32) == 0) {
		/* Not dialed again until the node restarts (an address may
		 * come to mean another node; the operator may remove it). */
		if (l->p != NULL) {
			peer__set_error(l->p, "%s is this node itself: not dialed again "
			    "(remove it with `lcctl peer rm %s`)", l->p->s.address,
			    l->p->s.address);
			l->p->self = 1;
		}
		count_handshake(ps, COUNTERS_HS_REFUSED_SELF);
		link_close(l, "connected to itself");
		return;
	}
	/* A key in its back-off for breaking the protocol: nothing more. */
	if (!l->outbound && peer__key_barred(ps, l->rid, why, sizeof(why))) {
		refuse_inbound(ps, COUNTERS_HS_REFUSED_BACKOFF);
		count_handshake(ps, COUNTERS_HS_REFUSED_BACKOFF);
		log_refused(ps, 1, l->remote, "connection refused", why);
		link_close(l, why);
		return;
	}
	/*
	 * Membership first: a city outside the federation gets nothing from
	 * us, neither the endpoints given to those refused for max_peers nor
	 * a place in the peer table (fresh keys cost nothing: a stream of
	 * them would push out the entries of real cities). Only an entry
	 * already held, such as one the operator added, records the refusal.
	 */
	member_rc = members_check_hello(ps->n, hello, &learn, &learn_len, why,
	    sizeof(why));
	/* A membership we did not know: taken like any record. */
	if (learn != NULL && (rc = ingest_submit(ps->n, NULL, &learn, &learn_len,
	    1, learned, NULL)) != 0)
		log_warnx("federation: cannot take the membership shown in a "
		    "handshake: %s", lcf_strerror(rc));
	if (l->outbound) {
		p = l->p;
		if (p == NULL) {
			link_close(l, "removed by the operator");
			return;
		}
		if (p->dialing == l)
			p->dialing = NULL;
		adopt_id(p, l->rid);
		p->s.rtt_ms = (int64_t)(l->ready_mono - l->dial_mono) / 2;
	} else if (member_rc != 0) {
		p = find_by_id(ps, l->rid, NULL);
	} else if ((p = inbound_entry(l)) == NULL) {
		return;
	}
	if (p != NULL) {
		if (hello->city_name != NULL)
			peerfile_copy_text(p->s.city_name, sizeof(p->s.city_name),
			    hello->city_name);
		if (hello->listen != NULL)
			peerfile_copy_text(p->s.listen, sizeof(p->s.listen),
			    hello->listen);
		p->s.last_handshake_ms = now_ms();
	}
	if (member_rc != 0) {
		count_handshake(ps, COUNTERS_HS_REFUSED_MEMBERSHIP);
		if (!l->outbound)
			refuse_inbound(ps, COUNTERS_HS_REFUSED_MEMBERSHIP);
		if (p != NULL) {
			p->s.refused++;
			peer__set_error(p, "refused: %s", why);
			peer__mark_dirty(ps);
		}
		city[0] = '\0';
		if (p == NULL && hello->city_name != NULL)
			peerfile_copy_text(city, sizeof(city), hello->city_name);
		log_warnx("peer %s%s%s: refused: %s", peer__name(p, l, name,
		    sizeof(name)), city[0] != '\0' ? ", calling itself " : "",
		    city, why);
		emit_link(l, EVENTS_LINK_REFUSED, EVENTS_REFUSED_MEMBERSHIP, why);
		link_close(l, why);
		return;
	}
	/* Accepted: a duplicate link or one over max_peers closed below is
	 * this node's choice, not the handshake's outcome. */
	count_handshake(ps, COUNTERS_HS_OK);
	if (!resolve_duplicate(l)) {
		/* The city's other link serves this entry (or, for a second
		 * address of one city, a retry will). */
		if (p->active != NULL)
			set_state(p, PEER_CONNECTED);
		return;
	}
	/* Dials complete in any order and inbound links arrive meanwhile: a
	 * discovered link that would take the node beyond max_peers goes again
	 * before it counts as connected. */
	if (l->outbound && p->discovered && p->active == NULL &&
	    connected_count(ps) >= ps->n->cfg.max_peers) {
		log_info("peer %s: closing a discovered link at once: max_peers "
		    "(%u) reached meanwhile", peer__name(p, l, name, sizeof(name)),
		    ps->n->cfg.max_peers);
		link_close(l, "over max_peers");
		return;
	}
	l->ready = 1;
	p->active = l;
	if (p->timer_init)
		uv_timer_stop(&p->timer);
	p->next_dial_ms = 0;
	set_state(p, PEER_CONNECTED);
	peer__mark_dirty(ps);
	log_info("peer %s: connected (%s)", peer__name(p, l, name, sizeof(name)),
	    l->outbound ? "outbound" : "inbound");
	/* Reconciliation starts here (peersync.c), on the side that dialed. */
	l->up = 1;
	emit_link(l, EVENTS_LINK_UP, EVENTS_REFUSED_ROOM, NULL);
}

/*
 * protobuf-c allocates for every element it decodes before any of our caps is
 * checked: 8 MiB of two-byte empty submessages would cost half a GiB. Peer
 * messages are decoded through this allocator, which refuses to hand out more
 * than a fixed multiple of the message's own size.
 */
#define DECODE_BUDGET_FACTOR 8
#define DECODE_BUDGET_MIN (1u << 20)
#define DECODE_OVERHEAD 16	/* what each allocation costs beyond its size */

struct decode_budget {
	size_t left;
};

static void *
budget_alloc(void *data, size_t size)
{
	struct decode_budget *b = data;

	if (size + DECODE_OVERHEAD > b->left)
		return NULL;
	b->left -= size + DECODE_OVERHEAD;
	return malloc(size);
}

static void
budget_free(void *data, void *ptr)
{
	(void)data;
	free(ptr);
}

static void
on_message(void *arg, struct conn *c, const uint8_t *msg, size_t len)
{
	struct link *l = arg;
	struct decode_budget budget;
	ProtobufCAllocator alloc = { budget_alloc, budget_free, &budget };
	Lcf__PeerMsg *m;
	int rc, to_sync = 0;

	(void)c;
	if (l->acceptor || !l->ready || l->closing || l->p == NULL)
		return;
	budget.left = len * DECODE_BUDGET_FACTOR > DECODE_BUDGET_MIN ?
	    len * DECODE_BUDGET_FACTOR : DECODE_BUDGET_MIN;
	if ((m = lcf__peer_msg__unpack(&alloc, len, msg)) == NULL) {
		peer__misbehave(l, "malformed message of %zu bytes", len);
		return;
	}
	switch (m->msg_case) {
	case LCF__PEER_MSG__MSG_RECORDS:
		if (m->records->has_session && m->records->session != 0) {
			l->p->s.records_in += m->records->n_records;
			peer__mark_dirty(l->ps);
			to_sync = 1;
		} else if (l->ps->pushed != NULL) {
			l->ps->pushed(l, m->records);
		}
		break;
	case LCF__PEER_MSG__MSG_SYNC_START:
	case LCF__PEER_MSG__MSG_SYNC_SKETCH:
	case LCF__PEER_MSG__MSG_SYNC_WANT:
	case LCF__PEER_MSG__MSG_SYNC_DONE:
		to_sync = 1;
		break;
	case LCF__PEER_MSG__MSG_KEEPALIVE:
		/* Its bytes told the conn the peer lives: nothing more. */
		break;
	default:
		/* A later protocol revision's message: not ours to judge. */
		log_debug("peers: message of an unknown type ignored");
		break;
	}
	if (to_sync && (rc = sync_on_message(l->ps->n, &l->io, m, len)) < 0)
		peer__misbehave(l, "reconciliation protocol error: %s", lcf_strerror(rc));
	/* Records wait for verification: past receive_queue in all, this link
	 * reads nothing more until half of them are stored (TCP then slows
	 * the peer; the stall check and keepalives allow for a paused link). */
	if (m->msg_case == LCF__PEER_MSG__MSG_RECORDS && !l->closing &&
	    l->c != NULL && !l->room_wait && ingest_receive_full(l->ps->n)) {
		l->room_wait = 1;
		conn_pause_reading(l->c);
	}
	lcf__peer_msg__free_unpacked(m, &alloc);
}

void
peer__link_read_again(struct link *l)
{
	if (l->c != NULL && !l->closing && !l->room_wait &&
	    l->inflight < LINK_MAX_INFLIGHT)
		conn_resume_reading(l->c);
}

/* EVENTS_INGEST_ROOM: the links that stopped for receive_queue read again. */
static void
room_again(struct peers *ps)
{
	struct link *l;

	for (l = ps->links; l != NULL; l = l->next) {
		if (!l->room_wait)
			continue;
		l->room_wait = 0;
		peer__link_read_again(l);
	}
}

/* Reconciliation stops sending bulk while the connection is congested. */
static void
on_drain(void *arg, struct conn *c)
{
	struct link *l = arg;

	(void)c;
	if (!l->acceptor && l->ready && !l->closing && l->p != NULL)
		sync_on_drain(l->ps->n, &l->io);
}

static void retry_cb(uv_timer_t *t);

/* Dials p again after its backoff, jittered, and doubles the backoff (up to
 * QUICK_MAX_MS while quick redials last). */
static void
schedule_retry(struct peer *p)
{
	uint64_t delay = util_jitter(p->backoff_ms);
	unsigned cap = mono_ms() < p->quick_until ? QUICK_MAX_MS :
	    PEER_BACKOFF_MAX_MS;

	p->next_dial_ms = now_ms() + (int64_t)delay;
	p->backoff_ms = p->backoff_ms >= cap / 2 ? cap : 2 * p->backoff_ms;
	/* Discovery decides whether, and when, to dial one of its own again. */
	if (p->discovered) {
		set_state(p, PEER_DISCONNECTED);
		return;
	}
	set_state(p, PEER_RETRYING);
	if (p->timer_init)
		uv_timer_start(&p->timer, retry_cb, delay, 0);
}

/* The link was up STABLE_MS, or a reconciliation we started on it
 * succeeded: the peer was healthy, not a crash loop. */
static int
link_was_healthy(const struct link *l)
{
	uint64_t age = mono_ms() - l->ready_mono;

	return age >= STABLE_MS || (l->p != NULL && l->p->good_sync_ms > 0 &&
	    l->p->good_sync_ms >= now_ms() - (int64_t)age);
}

static void
on_close(void *arg, struct conn *c, int code, const char *reason)
{
	struct link *l = arg;
	struct peers *ps = l->ps;
	struct peer *p = l->p;
	char name[PEER_ADDR_MAX + PEER_TEXT_MAX];
	int was_active, outcome;

	/* A handshake that never finished (on_ready counted the others). */
	outcome = l->acceptor || !l->identified ?
	    handshake_failure(l, c, code) : -1;
	if (outcome >= 0)
		count_handshake(ps, (enum counters_handshake)outcome);
	if (l->acceptor) {
		/* An inbound conn that never became a link, whatever ended it
		 * (broken rules, a timeout, an eviction, a hang-up); not when
		 * this node closed it (stopping). */
		if (outcome >= 0) {
			refuse_inbound(ps, (enum counters_handshake)outcome);
			log_refused(ps, code_is_violation(code) ||
			    code == LCF_EBUSY, conn_remote_addr(c),
			    code_is_violation(code) || code == LCF_EBUSY ?
			    "connection refused" :
			    "connection ended before the handshake finished", reason);
		}
		if (code_is_offence(code))
			peer__offence_address(ps, conn_remote_ip(c), reason);
		return;
	}
	if (l->identified)
		sync_peer_gone(ps->n, &l->io);
	if (l->identified && code_is_offence(code))
		peer__offence_key(ps, l->rid, reason);
	if (l->up) {
		l->up = 0;
		emit_link(l, EVENTS_LINK_DOWN, EVENTS_REFUSED_ROOM, reason);
	}
	if (p != NULL) {
		peer__name(p, l, name, sizeof(name));
		p->s.bytes_in += conn_bytes_in(c);
		p->s.bytes_out += conn_bytes_out(c);
		was_active = p->active == l;
		if (code_is_violation(code)) {
			p->s.refused++;
			peer__set_error(p, "%s", reason);
			log_warnx("peer %s: refused: %s", name, reason);
		} else if (code != 0) {
			if (was_active)
				log_info("peer %s: disconnected: %s", name, reason);
			else if (strcmp(p->s.last_error, reason) != 0)
				log_info("peer %s: %s (retrying)", name, reason);
			else
				log_debug("peer %s: %s", name, reason);
			/* A peer that hangs up is no error; failing to reach it is. */
			if (!(code == LCF_ECLOSED && was_active))
				peer__set_error(p, "%s", reason);
		} else if (was_active) {
			log_info("peer %s: disconnected: %s", name, reason);
		}
		if (was_active) {
			p->active = NULL;
			if (code == LCF_ETIMEDOUT)
				ps->dead_links++;
			if (mono_ms() - l->ready_mono >= STABLE_MS)
				p->backoff_ms = PEER_BACKOFF_MIN_MS;
			/* A healthy link died (we did not close it): the peer
			 * is likely back soon, and the records meanwhile wait
			 * for the next link's reconciliation. */
			if (link_was_healthy(l) && code != 0 &&
			    !code_is_violation(code)) {
				p->quick_until = mono_ms() + QUICK_WINDOW_MS;
				p->backoff_ms = QUICK_MIN_MS;
			}
		}
		if (p->dialing == l)
			p->dialing = NULL;
		if (!ps->stopping && !p->removed && p->active == NULL &&
		    p->dialing == NULL) {
			if (p->s.address[0] != '\0' && !p->self)
				schedule_retry(p);
			else
				set_state(p, PEER_DISCONNECTED);
		}
		peer__mark_dirty(ps);
	}
	l->ready = 0;
	l->c = NULL;
	peer__link_unref(l);
}

static void
conn_cfg(struct peers *ps, struct link *arg, struct conn_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->identity = ps->n->id;
	cfg->listen = ps->listen;
	cfg->city_name = ps->n->cfg.city;
	if (ps->n->cfg.has_federation)
		cfg->federation = ps->n->cfg.federation;
	cfg->membership = ps->membership;
	cfg->membership_len = ps->membership_len;
	cfg->cbs.on_ready = on_ready;
	cfg->cbs.on_message = on_message;
	cfg->cbs.on_drain = on_drain;
	cfg->cbs.on_close = on_close;
	cfg->arg = arg;
	cfg->stall_timeout_ms = ps->n->cfg.stall_timeout * 1000u;
	cfg->keepalive_ms = ps->n->cfg.keepalive * 1000u;
	if (cfg->keepalive_ms > 0)
		cfg->dead_ms = ps->n->cfg.keepalive_timeout * 1000u;
	cfg->high_water = (size_t)ps->n->cfg.peer_queue;
	cfg->low_water = cfg->high_water / 4;
	cfg->budget = &ps->budget;
	cfg->pending_per_addr = ps->n->cfg.handshakes_per_address;
	cfg->cbs.admit = peer__admit;
}

/* ---- dialing ---- */

static void
dial(struct peer *p)
{
	struct peers *ps = p->ps;
	struct conn_config cfg;
	struct link *l;
	int rc;

	if (ps->stopping || p->removed || p->s.address[0] == '\0' ||
	    p->active != NULL || p->dialing != NULL)
		return;
	l = link_new(ps, p, 1);
	conn_cfg(ps, l, &cfg);
	l->dial_mono = mono_ms();
	if (l->dial_mono < p->quick_until)
		cfg.connect_timeout_ms = QUICK_CONNECT_MS;
	rc = conn_connect(ps->n->loop, p->host, p->port,
	    p->s.has_pin ? p->s.pin : NULL, &cfg, &l->c);
	if (rc != 0) {
		link_free(l);
		peer__set_error(p, "cannot dial %s: %s", p->s.address, lcf_strerror(rc));
		schedule_retry(p);
		return;
	}
	p->dialing = l;
	p->next_dial_ms = 0;
	set_state(p, PEER_CONNECTING);
}

static void
retry_cb(uv_timer_t *t)
{
	dial(t->data);
}

static void
entry_timer_closed(uv_handle_t *h)
{
	struct peer *p = h->data;

	if (p->removed)
		free(p);
}

/* Forgets p: closes its links (reason, or none for a merge) and frees it once
 * its timer has closed. */
static void
remove_entry(struct peer *p, const char *reason)
{
	struct link *l;

	for (l = p->ps->links; l != NULL; l = l->next) {
		if (l->p != p)
			continue;
		if (reason != NULL)
			link_close(l, reason);
		l->p = NULL;
	}
	p->active = NULL;
	p->dialing = NULL;
	peer_unlist(p);
	p->removed = 1;
	if (p->timer_init)
		uv_close((uv_handle_t *)&p->timer, entry_timer_closed);
	else
		free(p);
}

/* ---- lookups for the operator ---- */

/* The city id of p that starts with the lower-case hex prefix, or NULL. */
static const uint8_t *
match_city(const struct peer *p, const char *prefix, size_t len)
{
	char hex[LCF_ID_HEX];

	if (p->s.has_id && strncmp(hex_encode(p->s.id, 32, hex), prefix, len) == 0)
		return p->s.id;
	if (p->s.has_pin && strncmp(hex_encode(p->s.pin, 32, hex), prefix, len) == 0)
		return p->s.pin;
	return NULL;
}

/* Which of a city's entries an id stands for: the connected one first, then
 * one the operator added. */
static int
ref_rank(const struct peer *p)
{
	return 2 * (p->active != NULL) + configured(p);
}

/* The entry named by ref: an address, or an id prefix of >= 6 hex digits;
 * for a prefix, city_out (32 bytes, may be NULL) gets the id it names. */
int
peer__find_ref(struct peers *ps, const char *ref, struct peer **out, uint8_t *city_out,
    char *err, size_t errlen)
{
	char host[HOST_MAX], addr[PEER_ADDR_MAX], lower[LCF_ID_HEX];
	struct peer *p, *found = NULL;
	const uint8_t *city, *first_city = NULL;
	size_t len = strlen(ref), i, matches = 0;
	uint16_t port;
	int ret = LCF_ENOTFOUND, several = 0;

	*out = NULL;
	if (peerfile_parse_address(ref, addr, host, &port) == 0) {
		for (p = ps->list; p != NULL && found == NULL; p = p->next)
			if (strcmp(p->s.address, addr) == 0)
				found = p;
		if (found == NULL)
			snprintf(err, errlen, "no peer with address %s", addr);
		goto out;
	}
	if (!hex_is_prefix(ref) || len < REF_MIN_HEX) {
		snprintf(err, errlen, "'%s' names no peer: give its city id (at least "
		    "%d hex digits) or its HOST:PORT", ref, REF_MIN_HEX);
		ret = LCF_EINVAL;
		goto out;
	}
	for (i = 0; i <= len; i++)
		lower[i] = (char)(ref[i] >= 'A' && ref[i] <= 'F' ? ref[i] + 32 :
		    ref[i]);
	/*
	 * One city may have several entries (added under two addresses, or
	 * known inbound as well): a prefix of its id names the city, and the
	 * entry with the live link stands for it, else one the operator added.
	 */
	for (p = ps->list; p != NULL; p = p->next) {
		if ((city = match_city(p, lower, len)) == NULL)
			continue;
		matches++;
		if (first_city == NULL)
			first_city = city;
		else if (memcmp(first_city, city, 32) != 0)
			several = 1;
		if (found == NULL || ref_rank(p) > ref_rank(found))
			found = p;
	}
	if (matches == 0) {
		snprintf(err, errlen, "no peer with id '%s' (see `lcctl peer list`)",
		    ref);
	} else if (several) {
		snprintf(err, errlen, "peer id prefix '%s' matches %zu peers: give "
		    "more digits", ref, matches);
		ret = LCF_EAMBIGUOUS;
		found = NULL;
	}
	if (found != NULL && city_out != NULL)
		memcpy(city_out, first_city, 32);
out:
	if (found != NULL) {
		*out = found;
		ret = 0;
	}
	return ret;
}

static void
fill_info(const struct peer *p, struct peer_info *in)
{
	memset(in, 0, sizeof(*in));
	in->has_id = p->s.has_id;
	memcpy(in->id, p->s.id, 32);
	in->has_pin = p->s.has_pin;
	memcpy(in->pin, p->s.pin, 32);
	memcpy(in->address, p->s.address, sizeof(in->address));
	if (p->active != NULL && p->active->c != NULL) {
		snprintf(in->remote, sizeof(in->remote), "%s",
		    conn_remote_addr(p->active->c));
		in->link_outbound = p->active->outbound;
		in->sync_running = (int)p->active->syncing;
		in->queued_bytes = conn_write_queue_bytes(p->active->c);
	}
	memcpy(in->city_name, p->s.city_name, sizeof(in->city_name));
	memcpy(in->listen, p->s.listen, sizeof(in->listen));
	in->inbound = p->s.address[0] == '\0';
	in->discovered = p->discovered;
	in->state = p->state;
	in->since_ms = p->since_ms;
	in->last_handshake_ms = p->s.last_handshake_ms;
	in->rtt_ms = p->s.rtt_ms;
	in->next_dial_ms = p->state == PEER_RETRYING ? p->next_dial_ms : 0;
	peer_bytes(p, &in->bytes_in, &in->bytes_out);
	in->records_in = p->s.records_in;
	in->records_out = p->s.records_out;
	in->refused = p->s.refused;
	memcpy(in->last_error, p->s.last_error, sizeof(in->last_error));
	in->last_error_ms = p->s.last_error_ms;
	in->last_good_sync_ms = p->good_sync_ms;
	in->last_sync_ms = p->s.last_sync_ms;
	in->last_sync_result = p->s.last_sync_result;
	memcpy(in->last_sync_message, p->s.last_sync_message,
	    sizeof(in->last_sync_message));
	in->last_sync_records_in = p->s.last_sync_records_in;
	in->last_sync_records_out = p->s.last_sync_records_out;
}

/* ---- the module's life ---- */

static void
free_table(struct peers *ps)
{
	struct peer *p;
	struct link *l;

	while ((p = ps->list) != NULL) {
		peer_unlist(p);
		free(p);
	}
	while ((l = ps->links) != NULL)
		link_free(l);
	free(ps->path);
	free(ps->membership);
	peer__bounds_free(ps);
	free(ps);
}

int
peers_start(struct node *n, peers_pushed_fn pushed, char *err, size_t errlen)
{
	struct peers *ps = xcalloc(1, sizeof(*ps));
	struct conn_config cfg;
	struct peer *p;
	char lerr[512];
	int ret;

	ps->n = n;
	ps->pushed = pushed;
	ps->path = xasprintf("%s/%s", n->cfg.dir, PEERS_FILE_NAME);
	ps->acceptor.ps = ps;
	ps->acceptor.acceptor = 1;
	ps->acceptor.refs = 1;
	addr_format(ps->listen, sizeof(ps->listen), n->cfg.listen_host,
	    n->cfg.listen_port);
	peer__bounds_init(ps);
	if ((ret = load_table(ps, err, errlen)) != 0)
		goto out;
	if (members_own_record(n, &ps->membership, &ps->membership_len) != 0)
		ps->membership_len = 0;
	conn_cfg(ps, &ps->acceptor, &cfg);
	ret = conn_listen(n->loop, n->cfg.listen_host, n->cfg.listen_port, &cfg, 0,
	    &ps->listener, lerr, sizeof(lerr));
	if (ret != 0) {
		snprintf(err, errlen, "%s (the peer listener: set listen = HOST:PORT "
		    "in %s)", lerr[0] ? lerr : lcf_strerror(ret), n->cfg.path);
		goto out;
	}
	uv_timer_init(n->loop, &ps->save_timer);
	ps->save_timer.data = ps;
	ps->timers_init = 1;
	n->peers = ps;
	for (p = ps->list; p != NULL; p = p->next) {
		peer_init_timer(p);
		dial(p);
	}
	log_info("peers: listening on %s; %zu peers known", ps->listen, ps->count);
	ret = 0;
out:
	if (ret != 0)
		free_table(ps);
	return ret;
}

void
peers_stop(struct node *n)
{
	struct peers *ps = n != NULL ? n->peers : NULL;
	struct peer *p;
	struct link *l;

	if (ps == NULL || ps->stopping)
		return;
	ps->stopping = 1;
	conn_listener_close(ps->listener);
	ps->listener = NULL;
	for (l = ps->links; l != NULL; l = l->next)
		link_close(l, "shutting down");
	for (p = ps->list; p != NULL; p = p->next)
		if (p->timer_init)
			uv_close((uv_handle_t *)&p->timer, entry_timer_closed);
	if (ps->timers_init)
		uv_close((uv_handle_t *)&ps->save_timer, NULL);
}

void
peers_free(struct node *n)
{
	struct peers *ps = n != NULL ? n->peers : NULL;
	char err[512];

	if (ps == NULL)
		return;
	/* The links have closed: their bytes are in the entries now. */
	if (save_table(ps, err, sizeof(err)) != 0)
		log_warnx("peers: %s", err);
	free_table(ps);
	n->peers = NULL;
}

int
peers_add(struct node *n, const char *address, const uint8_t *pin,
    struct peer_info *out, char *err, size_t errlen)
{
	struct peers *ps = n->peers;
	struct peer *p = NULL, *q, *upgrade = NULL;
	struct peer_saved was;
	char hex[LCF_ID_HEX], serr[512];
	int ret = LCF_EINVAL, was_discovered = 0;

	if (ps == NULL || ps->stopping) {
		snprintf(err, errlen, "the node is stopping");
		ret = LCF_EBUSY;
		goto out;
	}
	p = peer_alloc(ps);
	if (peerfile_parse_address(address, p->s.address, p->host, &p->port) != 0) {
		snprintf(err, errlen, "'%s' is not HOST:PORT (port 1-65535; "
		    "[::1]:7400 for IPv6)", address != NULL ? address : "");
		goto out;
	}
	if (pin != NULL && memcmp(pin, n->id->pk, 32) == 0) {
		snprintf(err, errlen, "%s is this node's own city id",
		    hex_encode(pin, 32, hex));
		goto out;
	}
	ret = LCF_EEXIST;
	for (q = ps->list; q != NULL; q = q->next) {
		if (strcmp(q->s.address, p->s.address) == 0) {
			if (q->discovered) {
				upgrade = q;
				continue;
			}
			snprintf(err, errlen, "%s is already a peer", p->s.address);
			goto out;
		}
		if (pin == NULL || !((q->s.has_id && memcmp(q->s.id, pin, 32) == 0) ||
		    (q->s.has_pin && memcmp(q->s.pin, pin, 32) == 0)))
			continue;
		if (configured(q)) {
			snprintf(err, errlen, "city %s is already a peer at %s",
			    hex_encode(pin, 32, hex), q->s.address);
			goto out;
		}
		upgrade = q;
	}
	if (pin != NULL) {
		p->s.has_pin = 1;
		memcpy(p->s.pin, pin, 32);
	}
	if (upgrade != NULL) {
		/* A city that connected to us or that discovery found: it keeps
		 * its counters, and is the operator's from now on. */
		was = upgrade->s;
		was_discovered = upgrade->discovered;
		memcpy(upgrade->s.address, p->s.address, sizeof(p->s.address));
		memcpy(upgrade->host, p->host, sizeof(p->host));
		upgrade->port = p->port;
		upgrade->s.has_pin = pin != NULL;
		if (pin != NULL)
			memcpy(upgrade->s.pin, pin, 32);
		upgrade->discovered = 0;
		free(p);
		p = upgrade;
	} else {
		if (make_room(ps) != 0) {
			snprintf(err, errlen, "the peer table is full (%d peers): "
			    "remove one first", CONFIG_MAX_PEERS);
			ret = LCF_ETOOBIG;
			goto out;
		}
		p->state = PEER_RETRYING;
		peer_insert(ps, p);
	}
	if (save_table(ps, serr, sizeof(serr)) != 0) {
		snprintf(err, errlen, "%s", serr);
		if (upgrade != NULL) {
			upgrade->s = was;
			upgrade->discovered = was_discovered;
			if (was.address[0] != '\0')
				peerfile_parse_address(was.address,
				    upgrade->s.address, upgrade->host,
				    &upgrade->port);
			p = NULL;
		} else {
			peer_unlist(p);
		}
		ret = LCF_EIO;
		goto out;
	}
	peer_init_timer(p);
	dial(p);
	log_info("peers: added %s%s%s", p->s.address, pin != NULL ? " pinned to " :
	    "", pin != NULL ? hex_encode(pin, 32, hex) : "");
	if (out != NULL)
		fill_info(p, out);
	p = NULL;
	ret = 0;
out:
	if (p != NULL && p != upgrade)
		free(p);
	return ret;
}

int
peers_remove(struct node *n, const char *ref, char *err, size_t errlen)
{
	struct peers *ps = n->peers;
	struct peer *p, *q;
	char name[PEER_ADDR_MAX + PEER_TEXT_MAX], serr[512];
	uint8_t city[32];
	int ret = LCF_EBUSY, by_id;

	if (ps == NULL || ps->stopping) {
		snprintf(err, errlen, "the node is stopping");
		goto out;
	}
	memset(city, 0, sizeof(city));
	if ((ret = peer__find_ref(ps, ref, &p, city, err, errlen)) != 0)
		goto out;
	by_id = !sodium_is_zero(city, sizeof(city));
	/* Named by its id, the city goes with every entry it has. */
	while (by_id && (q = find_by_id(ps, city, p)) != NULL) {
		log_info("peers: removed %s", peer__name(q, q->active, name,
		    sizeof(name)));
		remove_entry(q, "removed by the operator");
	}
	log_info("peers: removed %s", peer__name(p, p->active, name, sizeof(name)));
	remove_entry(p, "removed by the operator");
	if ((ret = save_table(ps, serr, sizeof(serr))) != 0)
		snprintf(err, errlen, "removed, but %s", serr);
out:
	return ret;
}

int
peers_list(struct node *n, struct peer_info **out, size_t *count)
{
	struct peers *ps = n->peers;
	const struct peer *p;
	size_t i = 0;

	*out = NULL;
	*count = 0;
	if (ps == NULL || ps->count == 0)
		return 0;
	*out = xcalloc(ps->count, sizeof(**out));
	for (p = ps->list; p != NULL; p = p->next)
		fill_info(p, &(*out)[i++]);
	*count = i;
	return 0;
}

/* Closes the links of cities that may no longer be linked (members_link_ok):
 * revoked, expired. The reason shows in peer list. */
static void
enforce(struct node *n)
{
	struct peers *ps = n != NULL ? n->peers : NULL;
	char name[PEER_ADDR_MAX + PEER_TEXT_MAX], why[PEER_TEXT_MAX];
	struct link *l;

	if (ps == NULL || ps->stopping)
		return;
	for (l = ps->links; l != NULL; l = l->next) {
		if (!l->identified || l->closing || l->c == NULL ||
		    members_link_ok(n, l->rid, why, sizeof(why)) == 0)
			continue;
		if (l->p != NULL) {
			peer__set_error(l->p, "closed: %s", why);
			log_warnx("peer %s: closing the link: %s",
			    peer__name(l->p, l, name, sizeof(name)), why);
		}
		link_close(l, why);
	}
}

/* Re-reads this city's membership record for the handshakes to come. */
static void
refresh_hello(struct node *n)
{
	struct peers *ps = n != NULL ? n->peers : NULL;
	struct conn_config cfg;

	if (ps == NULL || ps->stopping)
		return;
	free(ps->membership);
	ps->membership = NULL;
	ps->membership_len = 0;
	if (members_own_record(n, &ps->membership, &ps->membership_len) != 0)
		ps->membership_len = 0;
	conn_cfg(ps, &ps->acceptor, &cfg);
	if (ps->listener != NULL && conn_listener_update(ps->listener, &cfg) != 0)
		log_warnx("peers: cannot update the handshake's membership");
}

void
peers_on_event(void *arg, const struct events_event *ev)
{
	struct node *n = arg;

	if (ev->kind == EVENTS_INGEST_ROOM && n->peers != NULL)
		room_again(n->peers);
	if (ev->kind != EVENTS_MEMBERSHIP)
		return;
	switch (ev->u.membership.change) {
	case EVENTS_OWN_CHANGED:
		refresh_hello(n);
		break;
	case EVENTS_REVOKED:
	case EVENTS_EXPIRED:
		enforce(n);
		break;
	default:
		break;
	}
}

void
peers_summary(struct node *n, struct peers_summary *s)
{
	struct peers *ps = n != NULL ? n->peers : NULL;
	const struct peer *p;
	const struct link *l;

	memset(s, 0, sizeof(*s));
	if (ps == NULL)
		return;
	s->known = ps->count;
	s->connected = connected_count(ps);
	for (p = ps->list; p != NULL; p = p->next)
		if (p->discovered && p->dialing != NULL)
			s->discovering++;
	s->refused_connections = ps->refused_connections;
	s->dead_links = ps->dead_links;
	memcpy(s->refused_by, ps->refused_by, sizeof(s->refused_by));
	s->listen_port = conn_listener_port(ps->listener);
	s->queued_bytes = ps->budget.queued;
	s->queue_limit = ps->budget.limit;
	s->peer_queue_full = ps->budget.own_full;
	s->peers_queue_full = ps->budget.all_full;
	s->stalled = ps->budget.stalls;
	s->stalled_pressed = ps->budget.stalls_pressed;
	s->offences = ps->penalty.offences;
	s->offenders = penalty_active(&ps->penalty, mono_ms());
	ingest_receive_counts(n, &s->receive_bytes, &s->receive_full);
	s->receive_limit = n->cfg.receive_queue;
	for (l = ps->links; l != NULL; l = l->next)
		s->receive_waiting += (size_t)l->room_wait;
}

/* ---- discovery's view ---- */

int
peers_discover_ok(struct node *n, const uint8_t city[32])
{
	struct peers *ps = n != NULL ? n->peers : NULL;
	struct peer *p;

	if (ps == NULL || ps->stopping || memcmp(city, n->id->pk, 32) == 0)
		return 0;
	if ((p = find_by_id(ps, city, NULL)) == NULL)
		return 1;
	if (configured(p) || p->active != NULL || p->dialing != NULL)
		return 0;
	return !p->discovered || now_ms() >= p->next_dial_ms;
}

int
peers_discover_dial(struct node *n, const uint8_t city[32], const char *address)
{
	struct peers *ps = n != NULL ? n->peers : NULL;
	char addr[PEER_ADDR_MAX], host[HOST_MAX];
	struct peer *p;
	uint16_t port;
	int ret = LCF_EBUSY;

	if (ps == NULL || ps->stopping)
		goto out;
	ret = LCF_EINVAL;
	if (peerfile_parse_address(address, addr, host, &port) != 0)
		goto out;
	ret = LCF_EEXIST;
	if (!peers_discover_ok(n, city))
		goto out;
	if ((p = find_by_id(ps, city, NULL)) == NULL) {
		ret = LCF_ETOOBIG;
		if (make_room(ps) != 0)
			goto out;
		p = peer_alloc(ps);
		p->state = PEER_DISCONNECTED;
		peer_insert(ps, p);
		peer_init_timer(p);
	}
	/* A city known by id (inbound, or discovered before) gets the
	 * address its endpoint gives now. */
	p->discovered = 1;
	p->s.has_pin = 1;
	memcpy(p->s.pin, city, 32);
	memcpy(p->s.address, addr, sizeof(p->s.address));
	memcpy(p->host, host, sizeof(p->host));
	p->port = port;
	dial(p);
	ret = 0;
out:
	return ret;
}

void
peers_discover_trim(struct node *n, size_t count)
{
	struct peers *ps = n != NULL ? n->peers : NULL;
	struct link *l, **cand = NULL;
	char name[PEER_ADDR_MAX + PEER_TEXT_MAX];
	size_t k = 0, i;

	if (ps == NULL || ps->stopping || count == 0)
		goto out;
	for (l = ps->links; l != NULL; l = l->next)
		k++;
	cand = xcalloc(k ? k : 1, sizeof(*cand));
	k = 0;
	for (l = ps->links; l != NULL; l = l->next)
		if (l->ready && !l->closing && l->p != NULL && l->p->discovered &&
		    l->p->active == l)
			cand[k++] = l;
	for (i = 0; i < count && i < k; i++) {
		util_shuffle_step(cand, k, sizeof(*cand), i);
		log_info("peer %s: closing a discovered link: over max_peers",
		    peer__name(cand[i]->p, cand[i], name, sizeof(name)));
		/* It stops counting now, not when the close has flushed. */
		cand[i]->p->active = NULL;
		cand[i]->ready = 0;
		set_state(cand[i]->p, PEER_DISCONNECTED);
		link_close(cand[i], "making room for configured peers");
	}
out:
	free(cand);
}
