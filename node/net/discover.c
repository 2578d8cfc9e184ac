// SPDX-License-Identifier: Apache-2.0
// Discovery: this city's endpoint record, and links to other cities found by theirs.
//
// Each node publishes an endpoint record (kind endpoint, key "endpoint") with
// the addresses it announces, and keeps in memory the current endpoint of
// every other city, read from the store at start and followed as records are
// stored. A timer runs rounds: every DISCOVER_FAST_MS (jittered) while the
// node holds fewer links than its target, every DISCOVER_SLOW_MS once it does.
// A round dials cities chosen at random among those whose endpoint is known,
// that may link (members_link_ok: never a revoked or expired city) and that the peer table does not already
// serve (connected, dialing, in backoff, or added by the operator), each at
// one of its addresses chosen at random and pinned to the endpoint's author.
// Choosing at random keeps the graph well mixed; aiming below max_peers
// leaves every node room for cities that dial it (docs/PROTOCOL.md 3.8).
// Endpoint records come from the event bus (EVENTS_STORED, whichever writer
// stored them); a city refused for want of room is given endpoints on
// EVENTS_LINK_REFUSED.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <uv.h>

#include "base/addr.h"
#include "core/config.h"
#include "wire/conn.h"
#include "net/discover.h"
#include "base/error.h"
#include "model/identity.h"
#include "lcf.pb-c.h"
#include "base/log.h"
#include "core/events.h"
#include "core/member.h"
#include "core/node.h"
#include "net/peer.h"
#include "peer.pb-c.h"
#include "write/publish.h"
#include "model/record.h"
#include "store/store.h"
#include "base/util.h"
#include "base/xmalloc.h"

#define ENDPOINT_KEY		"endpoint"
#define GIFT_MAX_BYTES		(2u << 20)	/* well inside one push message */

/* One city's current endpoint. */
struct endpoint {
	uint8_t city[32];
	size_t naddr;
	char **addrs;
	int barred;			/* not dialed: revoked or expired (logged) */
};

struct discover {
	struct node *n;
	struct endpoint *v;		/* sorted by city */
	size_t count, cap;
	uv_timer_t timer;
	int timer_init;
};

/* The draft of this city's endpoint record, alive until its publish ends. */
struct announce {
	struct node *n;
	Lcf__Content c;
	Lcf__Content *cp;
	Lcf__Endpoint e;
	char *addrs[CONFIG_MAX_ANNOUNCE];
	char *own;			/* the listen address, when announced */
};

static void tick(uv_timer_t *t);

/* ---- the endpoints known ---- */

static void
clear_addrs(struct endpoint *e)
{
	while (e->naddr > 0)
		free(e->addrs[--e->naddr]);
	free(e->addrs);
	e->addrs = NULL;
}

/* Follows one current endpoint record: a tombstone forgets the city. */
static void
set_endpoint(struct discover *ds, const Lcf__Content *c)
{
	struct endpoint *e;
	size_t lo = 0, hi = ds->count, mid, i;

	if (memcmp(c->author.data, ds->n->id->pk, 32) == 0)
		return;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (memcmp(ds->v[mid].city, c->author.data, 32) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	e = lo < ds->count && memcmp(ds->v[lo].city, c->author.data, 32) == 0 ?
	    &ds->v[lo] : NULL;
	if ((c->has_deleted && c->deleted) || c->endpoint == NULL ||
	    c->endpoint->n_addresses == 0) {
		if (e != NULL) {
			clear_addrs(e);
			memmove(e, e + 1, (ds->count - lo - 1) * sizeof(*e));
			ds->count--;
		}
		return;
	}
	if (e == NULL) {
		if (ds->count == ds->cap) {
			ds->cap = ds->cap ? 2 * ds->cap : 64;
			ds->v = xreallocarray(ds->v, ds->cap, sizeof(*ds->v));
		}
		memmove(ds->v + lo + 1, ds->v + lo, (ds->count - lo) * sizeof(*e));
		ds->count++;
		e = &ds->v[lo];
		memset(e, 0, sizeof(*e));
		memcpy(e->city, c->author.data, 32);
	}
	clear_addrs(e);
	e->addrs = xcalloc(c->endpoint->n_addresses, sizeof(*e->addrs));
	for (i = 0; i < c->endpoint->n_addresses; i++)
		e->addrs[e->naddr++] = xstrdup(c->endpoint->addresses[i]);
}

static int
load_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct discover *ds = arg;
	struct record rec;

	(void)id;
	if (record_open(raw, len, 0, &rec) == 0) {
		set_endpoint(ds, rec.c);
		record_release(&rec);
	}
	return 0;
}

int
discover_open(struct node *n, char *err, size_t errlen)
{
	struct discover *ds = xcalloc(1, sizeof(*ds));
	struct store_query q;
	int truncated, rc, ret = 0;

	ds->n = n;
	n->discover = ds;
	memset(&q, 0, sizeof(q));
	q.kind = LCF__KIND__KIND_ENDPOINT;
	if ((rc = store_query(n->store, &q, load_visit, ds, &truncated)) != 0) {
		snprintf(err, errlen, "cannot read the endpoint records: %s",
		    lcf_strerror(rc));
		ret = LCF_ESTORE;
	}
	return ret;
}

/* A record that just became the current version of its key: only endpoint
 * records of other cities matter. A new endpoint brings the next round
 * forward while the node is below its target. */
static void
discover_stored(struct node *n, const struct record *rec)
{
	struct discover *ds = n != NULL ? n->discover : NULL;
	struct peers_summary s;

	if (ds == NULL || rec == NULL || rec->c == NULL ||
	    rec->c->kind != LCF__KIND__KIND_ENDPOINT)
		return;
	set_endpoint(ds, rec->c);
	if (!ds->timer_init || n->stopping)
		return;
	peers_summary(n, &s);
	if (s.connected + s.discovering < discover_target(n) &&
	    uv_timer_get_due_in(&ds->timer) > DISCOVER_KICK_MS)
		uv_timer_start(&ds->timer, tick, DISCOVER_KICK_MS, 0);
}

/* ---- rounds ---- */

size_t
discover_target(const struct node *n)
{
	size_t m = n->cfg.max_peers, room = m / 4 > 1 ? m / 4 : 1;

	return m > room ? m - room : 1;
}

/* The dialing rule: a city the federation revoked, or whose membership
 * expired (members_link_ok), keeps its endpoint record here but is not
 * dialed; the first round that passes it over says so in the log, and a
 * renewed membership makes it a candidate again. */
static int
may_dial(struct node *n, struct endpoint *e)
{
	char why[256], hex[LCF_ID_HEX];

	if (members_link_ok(n, e->city, why, sizeof(why)) == 0) {
		e->barred = 0;
		return 1;
	}
	if (!e->barred)
		log_info("discover: not dialing %s: %s", hex_encode(e->city, 32,
		    hex), why);
	e->barred = 1;
	return 0;
}

static void
tick(uv_timer_t *t)
{
	struct discover *ds = t->data;
	struct node *n = ds->n;
	struct peers_summary s;
	struct endpoint *e;
	size_t *cand = NULL, ncand = 0, want, target, i;
	char hex[LCF_ID_HEX];
	int rc;

	if (n->stopping)
		goto out;
	peers_summary(n, &s);
	/* Links the operator's peers brought beyond max_peers push out
	 * discovered ones: configured peers come first. */
	if (s.connected > n->cfg.max_peers)
		peers_discover_trim(n, s.connected - n->cfg.max_peers);
	target = discover_target(n);
	if (s.connected + s.discovering >= target)
		goto out;
	want = target - s.connected - s.discovering;
	cand = xcalloc(ds->count ? ds->count : 1, sizeof(*cand));
	for (i = 0; i < ds->count; i++)
		if (may_dial(n, &ds->v[i]) && peers_discover_ok(n, ds->v[i].city))
			cand[ncand++] = i;
	/* The first few of a partial Fisher-Yates shuffle. */
	for (i = 0; i < ncand && i < want && i < DISCOVER_DIALS_MAX; i++) {
		util_shuffle_step(cand, ncand, sizeof(*cand), i);
		e = &ds->v[cand[i]];
		rc = peers_discover_dial(n, e->city,
		    e->addrs[randombytes_uniform((uint32_t)e->naddr)]);
		if (rc != 0)
			log_debug("discover: cannot dial %s: %s",
			    hex_encode(e->city, 32, hex), lcf_strerror(rc));
		else
			log_debug("discover: dialing %s",
			    hex_encode(e->city, 32, hex));
	}
out:
	free(cand);
	if (!n->stopping) {
		peers_summary(n, &s);
		uv_timer_start(t, tick, util_jitter(s.connected + s.discovering <
		    discover_target(n) ? DISCOVER_FAST_MS : DISCOVER_SLOW_MS), 0);
	}
}

/* ---- this city's endpoint ---- */

static int
is_wildcard(const char *host)
{
	return host == NULL || host[0] == '\0' || strcmp(host, "*") == 0 ||
	    strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
}

static void
announce_free(struct announce *a)
{
	if (a == NULL)
		return;
	free(a->own);
	free(a);
}

static void
announced(void *arg, const struct publish_result *res)
{
	struct announce *a = arg;
	const char *what = a->c.deleted ? "withdrew the endpoint record" :
	    "published the endpoint record";

	if (res->error != 0)
		log_warnx("discover: cannot publish the endpoint record: %s%s%s",
		    res->verr.field, res->verr.field[0] ? ": " : "",
		    res->verr.msg[0] ? res->verr.msg : res->message[0] ?
		    res->message : lcf_strerror(res->error));
	else if (res->stored > 0)
		log_info("discover: %s (%zu addresses)", what, a->e.n_addresses);
	else
		log_debug("discover: the endpoint record is up to date");
	announce_free(a);
}

static int
endpoint_live(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	int *live = arg;
	struct record rec;

	(void)id;
	if (record_open(raw, len, 0, &rec) == 0) {
		*live = !(rec.c->has_deleted && rec.c->deleted);
		record_release(&rec);
	}
	return 0;
}

/* Queues this city's endpoint record: the announced addresses, or the listen
 * address unless it is a wildcard. With none, a record published before is
 * withdrawn. An unchanged record is not published again (publish.c). */
static void
announce(struct node *n)
{
	struct announce *a = xcalloc(1, sizeof(*a));
	char why[256];
	size_t i;
	int live = 0, rc;

	a->n = n;
	lcf__content__init(&a->c);
	lcf__endpoint__init(&a->e);
	a->cp = &a->c;
	a->c.has_kind = 1;
	a->c.kind = LCF__KIND__KIND_ENDPOINT;
	a->c.key = ENDPOINT_KEY;
	for (i = 0; i < n->cfg.nannounce; i++)
		a->addrs[a->e.n_addresses++] = n->cfg.announce[i];
	if (a->e.n_addresses == 0 && !is_wildcard(n->cfg.listen_host)) {
		a->own = addr_format_dup(n->cfg.listen_host, n->cfg.listen_port);
		a->addrs[a->e.n_addresses++] = a->own;
	}
	if (members_self_check(n, why, sizeof(why)) != 0) {
		log_info("discover: no endpoint record: %s", why);
		goto out;
	}
	if (a->e.n_addresses > 0) {
		a->e.addresses = a->addrs;
		a->c.body_case = LCF__CONTENT__BODY_ENDPOINT;
		a->c.endpoint = &a->e;
	} else {
		rc = store_get_current(n->store, n->id->pk, LCF__KIND__KIND_ENDPOINT,
		    ENDPOINT_KEY, endpoint_live, &live);
		if (rc != 0 || !live) {
			log_info("discover: no address to announce (listen is a "
			    "wildcard): set announce = HOST:PORT in %s for other "
			    "cities to find this one", n->cfg.path);
			goto out;
		}
		a->c.has_deleted = 1;
		a->c.deleted = 1;
	}
	if ((rc = publish_submit(n, &a->cp, 1, 0, announced, a)) != 0) {
		log_warnx("discover: cannot publish the endpoint record: %s",
		    lcf_strerror(rc));
		goto out;
	}
	a = NULL;
out:
	announce_free(a);
}

/* ---- life ---- */

void
discover_start(struct node *n)
{
	struct discover *ds = n->discover;

	if (ds == NULL || ds->timer_init)
		return;
	announce(n);
	uv_timer_init(n->loop, &ds->timer);
	ds->timer.data = ds;
	ds->timer_init = 1;
	uv_timer_start(&ds->timer, tick, util_jitter(DISCOVER_KICK_MS), 0);
	log_info("discover: %zu cities' endpoints known; aiming for %zu links "
	    "(max_peers %u)", ds->count, discover_target(n), n->cfg.max_peers);
}

static void
timer_closed(uv_handle_t *h)
{
	(void)h;
}

void
discover_stop(struct node *n)
{
	struct discover *ds = n != NULL ? n->discover : NULL;

	if (ds == NULL || !ds->timer_init)
		return;
	uv_close((uv_handle_t *)&ds->timer, timer_closed);
	ds->timer_init = 0;
}

void
discover_free(struct node *n)
{
	struct discover *ds = n != NULL ? n->discover : NULL;
	size_t i;

	if (ds == NULL)
		return;
	for (i = 0; i < ds->count; i++)
		clear_addrs(&ds->v[i]);
	free(ds->v);
	free(ds);
	n->discover = NULL;
}

/* ---- for a refused city ---- */

struct gift {
	uint8_t **raws;
	size_t *lens;
	size_t count;
};

struct copy {
	uint8_t *raw;
	size_t len;
};

static int
copy_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct copy *c = arg;

	(void)id;
	free(c->raw);
	c->raw = xmalloc(len);
	memcpy(c->raw, raw, len);
	c->len = len;
	/* Sent to a peer: in canonical form, whatever an older build stored. */
	(void)record_normalize(c->raw, len);
	return 0;
}

/* Appends the current (author, kind, key) record to g; 0 or LCF_ENOTFOUND. */
static int
gift_add(struct node *n, struct gift *g, size_t *bytes,
    const uint8_t author[32], Lcf__Kind kind, const char *key)
{
	struct copy c = { NULL, 0 };
	int ret = LCF_ENOTFOUND;

	if (store_get_current(n->store, author, kind, key, copy_visit, &c) != 0 ||
	    c.raw == NULL)
		goto out;
	g->raws[g->count] = c.raw;
	g->lens[g->count++] = c.len;
	*bytes += c.len;
	c.raw = NULL;
	ret = 0;
out:
	free(c.raw);
	return ret;
}

static void
gift_fill(struct node *n, struct gift *g)
{
	struct discover *ds = n != NULL ? n->discover : NULL;
	size_t *order = NULL, i, bytes = 0, before;
	char why[256], hex[LCF_ID_HEX];
	const uint8_t *fed = n != NULL && n->cfg.has_federation ?
	    n->cfg.federation : NULL;

	memset(g, 0, sizeof(*g));
	if (ds == NULL || ds->count == 0)
		return;
	g->raws = xcalloc(2 * DISCOVER_GIFT_MAX, sizeof(*g->raws));
	g->lens = xcalloc(2 * DISCOVER_GIFT_MAX, sizeof(*g->lens));
	order = xcalloc(ds->count, sizeof(*order));
	for (i = 0; i < ds->count; i++)
		order[i] = i;
	for (i = 0; i < ds->count && g->count + 2 <= 2 * DISCOVER_GIFT_MAX &&
	    bytes < GIFT_MAX_BYTES; i++) {
		util_shuffle_step(order, ds->count, sizeof(*order), i);
		if (members_link_ok(n, ds->v[order[i]].city, why, sizeof(why)) != 0)
			continue;
		before = g->count;
		/* The membership first, so the endpoint is not held. */
		if (fed != NULL && gift_add(n, g, &bytes, fed,
		    LCF__KIND__KIND_MEMBERSHIP, hex_encode(ds->v[order[i]].city,
		    32, hex)) != 0)
			continue;
		if (gift_add(n, g, &bytes, ds->v[order[i]].city,
		    LCF__KIND__KIND_ENDPOINT, ENDPOINT_KEY) != 0) {
			while (g->count > before)
				free(g->raws[--g->count]);
		}
	}
	free(order);
}

/* For a city refused for want of room, so that a new city whose only peer
 * is full is not left alone: pushes on c, a connection whose handshake is
 * done, up to DISCOVER_GIFT_MAX current endpoint records of cities that may
 * link, chosen at random, each after its author's membership record on a
 * federation node. Best effort; the caller closes c afterwards. */
static void
send_endpoints(struct node *n, struct conn *c)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__Records rec = LCF__RECORDS__INIT;
	ProtobufCBinaryData *bins = NULL;
	struct gift g;
	size_t i;
	int rc;

	if (c == NULL)
		return;
	gift_fill(n, &g);
	if (g.count == 0)
		goto out;
	bins = xcalloc(g.count, sizeof(*bins));
	for (i = 0; i < g.count; i++) {
		bins[i].data = g.raws[i];
		bins[i].len = g.lens[i];
	}
	m.msg_case = LCF__PEER_MSG__MSG_RECORDS;
	m.records = &rec;
	rec.has_push = 1;
	rec.push = 1;
	rec.records = bins;
	rec.n_records = g.count;
	if ((rc = conn_send(c, &m.base)) != 0)
		log_debug("discover: cannot send endpoints to %s: %s",
		    conn_remote_addr(c), lcf_strerror(rc));
	else
		log_debug("discover: sent %zu records to %s", g.count,
		    conn_remote_addr(c));
out:
	free(bins);
	while (g.count > 0)
		free(g.raws[--g.count]);
	free(g.raws);
	free(g.lens);
}

/* ---- the bus ---- */

void
discover_on_event(void *arg, const struct events_event *ev)
{
	struct node *n = arg;
	const struct events_stored *st = &ev->u.stored;
	struct record rec;
	size_t i;

	switch (ev->kind) {
	case EVENTS_STORED:
		for (i = 0; i < st->count; i++) {
			if ((st->recs[i].result & (STORE_DUP | STORE_CURRENT)) !=
			    STORE_CURRENT ||
			    st->recs[i].kind != LCF__KIND__KIND_ENDPOINT ||
			    record_open(st->recs[i].raw, st->recs[i].len, 0,
			    &rec) != 0)
				continue;
			discover_stored(n, &rec);
			record_release(&rec);
		}
		break;
	case EVENTS_LINK_REFUSED:
		if (ev->u.link.refusal == EVENTS_REFUSED_ROOM)
			send_endpoints(n, ev->u.link.conn);
		break;
	default:
		break;
	}
}
