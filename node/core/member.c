// SPDX-License-Identifier: Apache-2.0
// Federation membership: the state the federation's signed records describe,
// and the rules every record and every link must pass on a federation node.
//
// The state is rebuilt at start from the store (the federation key's records
// and every succession) and then follows the records as they are stored. A
// record of a city is accepted when the city holds a membership that covers
// the record's own timestamp: admitted (the membership is not withdrawn), the
// timestamp before the expiry, and before the revocation's effective time.
// Judging by the record's timestamp, not by the clock of the node that
// receives it, makes every node decide alike whenever a record arrives, so
// reconciliation settles. Records of a city with no membership yet get the
// verdict MEMBER_HOLD: the write layer keeps them (write/held.c) until an
// EVENTS_MEMBERSHIP admission this module emits.
//
// The module learns of stored records from the event bus (EVENTS_STORED) and
// tells what changed through it (EVENTS_MEMBERSHIP), from the loop soon after
// the record, never inside the delivery of the STORED event; it calls nothing
// above the core layer.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "model/catalog.h"
#include "base/error.h"
#include "model/identity.h"
#include "model/kinds.h"
#include "base/log.h"
#include "core/events.h"
#include "core/member.h"
#include "core/node.h"
#include "core/seq.h"
#include "model/record.h"
#include "store/store.h"
#include "base/util.h"
#include "model/validate.h"
#include "base/xmalloc.h"

struct entry {
	struct member_info info;
	uint64_t mseq, rseq, sseq;   /* seqs of the records applied */
	int admitted_new;            /* admitted since the last soon_cb */
	int revoked_new;             /* revoked since the last soon_cb */
};

struct members {
	struct node *n;
	int enabled;
	uint8_t fed[32];
	char fed_name[201];
	struct entry *v;             /* sorted by city */
	size_t count, cap;
	size_t revoked;
	uv_timer_t check_timer, soon_timer;
	int timers;
	int soon_armed;
	int catalog_dirty;           /* the federation's catalog changed */
	int own_changed;             /* our own membership changed */
};

static int
cmp_city(const void *key, const void *elem)
{
	return memcmp(key, ((const struct entry *)elem)->info.city, 32);
}

static struct entry *
find(struct members *ms, const uint8_t city[32])
{
	if (ms == NULL || ms->count == 0)
		return NULL;
	return bsearch(city, ms->v, ms->count, sizeof(*ms->v), cmp_city);
}

static struct entry *
get(struct members *ms, const uint8_t city[32])
{
	struct entry *e = find(ms, city);
	size_t lo = 0, hi = ms->count, mid;

	if (e != NULL)
		return e;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (memcmp(ms->v[mid].info.city, city, 32) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (ms->count == ms->cap) {
		ms->cap = ms->cap ? ms->cap * 2 : 64;
		ms->v = xreallocarray(ms->v, ms->cap, sizeof(*ms->v));
	}
	memmove(ms->v + lo + 1, ms->v + lo, (ms->count - lo) * sizeof(*ms->v));
	memset(&ms->v[lo], 0, sizeof(ms->v[lo]));
	memcpy(ms->v[lo].info.city, city, 32);
	ms->count++;
	return &ms->v[lo];
}

static void soon_cb(uv_timer_t *t);

/* Runs soon_cb from the loop once the current callback has returned. */
static void
arm_soon(struct members *ms)
{
	if (!ms->timers || ms->soon_armed || ms->n->stopping)
		return;
	ms->soon_armed = 1;
	uv_timer_start(&ms->soon_timer, soon_cb, 0, 0);
}

static int
valid_at(const struct entry *e, int64_t t)
{
	return e != NULL && e->info.admitted &&
	    (e->info.expires_ms == 0 || t < e->info.expires_ms) &&
	    (!e->info.revoked || t < e->info.revoked_ms);
}

static void
copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

/* ---- applying records ---- */

static void
apply_membership(struct members *ms, const Lcf__Content *c)
{
	uint8_t city[32];
	struct entry *e;
	const Lcf__Membership *m = c->membership;

	if (c->key == NULL || strlen(c->key) != 64 ||
	    hex_decode(c->key, city, 32) != 0)
		return;
	e = get(ms, city);
	if (c->seq <= e->mseq)
		return;
	e->mseq = c->seq;
	if (memcmp(city, ms->n->id->pk, 32) == 0) {
		ms->own_changed = 1;
		arm_soon(ms);
	}
	if (c->deleted || m == NULL) {
		e->info.admitted = 0;
		e->info.observer = 0;
		return;
	}
	e->info.admitted = 1;
	e->admitted_new = 1;
	arm_soon(ms);
	e->info.admitted_ms = m->has_admitted && m->admitted > 0 ? m->admitted :
	    c->timestamp;
	e->info.expires_ms = m->has_expires ? m->expires : 0;
	e->info.observer = m->has_observer && m->observer;
	copy_str(e->info.name, sizeof(e->info.name), m->name);
	copy_str(e->info.country, sizeof(e->info.country), m->country);
	if (m->federation_name != NULL && *m->federation_name != '\0')
		copy_str(ms->fed_name, sizeof(ms->fed_name), m->federation_name);
}

static void
apply_revocation(struct members *ms, const Lcf__Content *c)
{
	uint8_t city[32];
	struct entry *e;
	const Lcf__Revocation *r = c->revocation;
	char hex[LCF_ID_HEX];

	/* Final: a withdrawn revocation changes nothing. */
	if (c->deleted || r == NULL || !r->has_city || r->city.len != 32)
		return;
	memcpy(city, r->city.data, 32);
	e = get(ms, city);
	if (c->seq <= e->rseq)
		return;
	e->rseq = c->seq;
	if (!e->info.revoked)
		ms->revoked++;
	e->info.revoked = 1;
	e->info.revoked_ms = r->has_effective && r->effective > 0 ?
	    r->effective : c->timestamp;
	copy_str(e->info.reason, sizeof(e->info.reason), r->reason);
	e->revoked_new = 1;
	arm_soon(ms);
	log_info("federation: city %s revoked: %s", hex_encode(city, 32, hex),
	    e->info.reason);
}

static void
apply_succession(struct members *ms, const Lcf__Content *c)
{
	struct entry *old, *succ;

	if (c->deleted || c->succession == NULL ||
	    !c->succession->has_successor || c->succession->successor.len != 32)
		return;
	old = get(ms, c->author.data);
	if (c->seq <= old->sseq)
		return;
	old->sseq = c->seq;
	old->info.has_successor = 1;
	memcpy(old->info.successor, c->succession->successor.data, 32);
	/* get() may move entries: look the old one up again afterwards. */
	succ = get(ms, c->succession->successor.data);
	succ->info.has_predecessor = 1;
	memcpy(succ->info.predecessor, c->author.data, 32);
}

static void
apply(struct members *ms, const Lcf__Content *c)
{
	int from_fed = ms->enabled && memcmp(c->author.data, ms->fed, 32) == 0;

	switch (c->kind) {
	case LCF__KIND__KIND_MEMBERSHIP:
		if (from_fed)
			apply_membership(ms, c);
		break;
	case LCF__KIND__KIND_REVOCATION:
		if (from_fed)
			apply_revocation(ms, c);
		break;
	case LCF__KIND__KIND_SUCCESSION:
		apply_succession(ms, c);
		break;
	case LCF__KIND__KIND_CATALOG:
		/* Rebuilt from the store once the record is committed. */
		if (from_fed) {
			ms->catalog_dirty = 1;
			arm_soon(ms);
		}
		break;
	default:
		break;
	}
}

/* The kinds apply() follows; the others are not decoded. */
static int
followed_kind(int kind)
{
	return kind == LCF__KIND__KIND_MEMBERSHIP ||
	    kind == LCF__KIND__KIND_REVOCATION ||
	    kind == LCF__KIND__KIND_SUCCESSION ||
	    kind == LCF__KIND__KIND_CATALOG;
}

void
members_on_event(void *arg, const struct events_event *ev)
{
	struct node *n = arg;
	struct members *ms = n->members;
	const struct events_stored *st = &ev->u.stored;
	struct record rec;
	size_t i;

	if (ms == NULL || ev->kind != EVENTS_STORED)
		return;
	for (i = 0; i < st->count; i++) {
		if ((st->recs[i].result & STORE_DUP) ||
		    !followed_kind(st->recs[i].kind) ||
		    record_open(st->recs[i].raw, st->recs[i].len, 0, &rec) != 0)
			continue;
		apply(ms, rec.c);
		record_release(&rec);
	}
}


/* ---- the federation's indicator catalog ---- */

struct cat_collect {
	struct record *v;
	size_t n, cap;
};

static int
cat_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct cat_collect *cc = arg;
	struct record rec;

	(void)id;
	if (record_open(raw, len, 0, &rec) != 0)
		return 0;
	if (rec.c->deleted || rec.c->body_case != LCF__CONTENT__BODY_CATALOG ||
	    rec.c->catalog->id == NULL) {
		record_release(&rec);
		return 0;
	}
	if (cc->n == cc->cap) {
		cc->cap = cc->cap ? 2 * cc->cap : 64;
		cc->v = xreallocarray(cc->v, cc->cap, sizeof(*cc->v));
	}
	cc->v[cc->n++] = rec;
	return 0;
}

/*
 * The catalog in force on a federation node: the federation's current,
 * non-deleted catalog records once there is one, else the file catalog.
 * Runs in the loop, between jobs' steps: publish jobs hold a reference to
 * the catalog they started with (catalog.h), so swapping is safe.
 */
static void
refresh_catalog(struct members *ms)
{
	struct node *n = ms->n;
	struct cat_collect cc;
	struct store_query q;
	const Lcf__CatalogIndicator **items = NULL;
	struct catalog *cat = NULL;
	int truncated = 0, rc;
	size_t i;

	memset(&cc, 0, sizeof(cc));
	memset(&q, 0, sizeof(q));
	ms->catalog_dirty = 0;
	if (!ms->enabled || n->catalog_file == NULL)
		return;
	q.kind = LCF__KIND__KIND_CATALOG;
	q.author = ms->fed;
	if ((rc = store_query(n->store, &q, cat_visit, &cc, &truncated)) != 0) {
		log_warnx("federation: cannot read the catalog records: %s",
		    lcf_strerror(rc));
		goto out;
	}
	if (cc.n > 0) {
		items = xcalloc(cc.n, sizeof(*items));
		for (i = 0; i < cc.n; i++)
			items[i] = cc.v[i].c->catalog;
		cat = catalog_from_entries(items, cc.n, ms->fed);
	} else {
		cat = catalog_ref(n->catalog_file);
	}
	if (cat->federation || (n->catalog != NULL && n->catalog->federation))
		log_info("catalog in force: %s (%zu indicators)", cat->federation ?
		    "the federation's records" : cat->source, cat->n);
	catalog_free(n->catalog);
	n->catalog = cat;
out:
	for (i = 0; i < cc.n; i++)
		record_release(&cc.v[i]);
	free(cc.v);
	free(items);
}

/* ---- start ---- */

static int
scan_visit(void *arg, uint64_t seq, const uint8_t id[32], const uint8_t *raw,
    size_t len)
{
	struct members *ms = arg;
	struct record rec;

	(void)seq;
	(void)id;
	if (record_open(raw, len, 0, &rec) == 0) {
		apply(ms, rec.c);
		record_release(&rec);
	}
	return 0;
}

static int
succession_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	return scan_visit(arg, 0, id, raw, len);
}

/* The state read at start is no news: only what changes after it is told
 * (MEMBERSHIP events). */
static void
clear_news(struct members *ms)
{
	size_t i;

	for (i = 0; i < ms->count; i++)
		ms->v[i].admitted_new = ms->v[i].revoked_new = 0;
	ms->own_changed = 0;
}

int
members_open(struct node *n, char *err, size_t errlen)
{
	struct members *ms = xcalloc(1, sizeof(*ms));
	struct store_query q;
	int truncated, rc, ret = LCF_ESTORE;

	ms->n = n;
	n->members = ms;
	if (n->cfg.has_federation) {
		ms->enabled = 1;
		memcpy(ms->fed, n->cfg.federation, 32);
		rc = store_scan_author(n->store, ms->fed, 1, NULL, UINT64_MAX,
		    scan_visit, ms);
		if (rc != 0) {
			snprintf(err, errlen, "cannot read the federation's records: "
			    "%s", lcf_strerror(rc));
			goto out;
		}
	}
	memset(&q, 0, sizeof(q));
	q.kind = LCF__KIND__KIND_SUCCESSION;
	if ((rc = store_query(n->store, &q, succession_visit, ms, &truncated)) != 0) {
		snprintf(err, errlen, "cannot read key successions: %s",
		    lcf_strerror(rc));
		goto out;
	}
	refresh_catalog(ms);
	clear_news(ms);
	ret = 0;
out:
	return ret;
}

/* ---- timers: telling what changed ---- */

static void
emit_membership(struct members *ms, enum events_membership_change change,
    const uint8_t *city)
{
	struct events_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = EVENTS_MEMBERSHIP;
	ev.u.membership.change = change;
	ev.u.membership.city = city;
	events_emit(&ms->n->events, &ev);
}

/*
 * Tells what the records applied since the last call changed, in this
 * order: the catalog in force, admissions (held records are released),
 * this node's own membership (handshakes to come), revocations (links
 * close). Subscribers may call back into this module, and admissions
 * released may store records that arm the timer again: the entries' flags
 * are cleared before each is told, and the table is walked by index since
 * a subscriber never adds entries from inside the call.
 */
static void
soon_cb(uv_timer_t *t)
{
	struct members *ms = t->data;
	uint8_t city[32];
	size_t i;

	ms->soon_armed = 0;
	if (ms->catalog_dirty)
		refresh_catalog(ms);
	for (i = 0; i < ms->count; i++) {
		if (!ms->v[i].admitted_new)
			continue;
		ms->v[i].admitted_new = 0;
		/* Expired or revoked already: its held records wait out
		 * their time. */
		if (!valid_at(&ms->v[i], now_ms()))
			continue;
		memcpy(city, ms->v[i].info.city, 32);
		emit_membership(ms, EVENTS_ADMITTED, city);
	}
	if (ms->own_changed) {
		ms->own_changed = 0;
		emit_membership(ms, EVENTS_OWN_CHANGED, ms->n->id->pk);
	}
	for (i = 0; i < ms->count; i++) {
		if (!ms->v[i].revoked_new)
			continue;
		ms->v[i].revoked_new = 0;
		memcpy(city, ms->v[i].info.city, 32);
		emit_membership(ms, EVENTS_REVOKED, city);
	}
}

/* Memberships expire, and revocations take effect, while links are up. */
static void
check_cb(uv_timer_t *t)
{
	struct members *ms = t->data;

	emit_membership(ms, EVENTS_EXPIRED, NULL);
}

void
members_start(struct node *n)
{
	struct members *ms = n->members;
	char why[256], hex[LCF_ID_HEX];
	uint64_t every;

	if (ms == NULL || ms->timers)
		return;
	uv_timer_init(n->loop, &ms->check_timer);
	uv_timer_init(n->loop, &ms->soon_timer);
	ms->check_timer.data = ms->soon_timer.data = ms;
	ms->timers = 1;
	if (!ms->enabled)
		return;
	/* As often as held records are checked (held.c), which kept the
	 * links' check this frequent when both shared this timer. */
	every = n->cfg.hold_time * 500ull;
	if (every > MEMBERS_CHECK_MS)
		every = MEMBERS_CHECK_MS;
	uv_timer_start(&ms->check_timer, check_cb, every, every);
	if (members_link_ok(n, n->id->pk, why, sizeof(why)) != 0)
		log_warnx("federation: this city cannot take part yet: %s; ask "
		    "the secretariat to admit %s and publish the record here "
		    "with `lcctl publish FILE`", why, hex_encode(n->id->pk, 32, hex));
}

static void
timer_closed(uv_handle_t *h)
{
	(void)h;
}

void
members_stop(struct node *n)
{
	struct members *ms = n->members;

	if (ms == NULL)
		return;
	if (ms->timers) {
		uv_close((uv_handle_t *)&ms->check_timer, timer_closed);
		uv_close((uv_handle_t *)&ms->soon_timer, timer_closed);
		ms->timers = 0;
	}
}

void
members_free(struct node *n)
{
	struct members *ms;

	if (n == NULL || (ms = n->members) == NULL)
		return;
	free(ms->v);
	free(ms);
	n->members = NULL;
}

/* ---- judging ---- */

int
members_enabled(const struct node *n)
{
	return n->members != NULL && n->members->enabled;
}

static void
when(int64_t ms, char *out, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, size,
	    "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, size, "%lld ms", (long long)ms);
}

/* "membership, revocation and catalog": the kinds only the federation key
 * signs, from the kind table. */
static const char *
federation_kinds(char *out, size_t size)
{
	const struct kinds_def *k, *fed[KINDS_LIMIT];
	size_t i, n = 0, used = 0;

	for (i = 0; (k = kinds_at(i)) != NULL; i++)
		if (k->signer == KINDS_SIGNER_FEDERATION && n < KINDS_LIMIT)
			fed[n++] = k;
	out[0] = '\0';
	for (i = 0; i < n && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%s",
		    i == 0 ? "" : i + 1 == n ? " and " : ", ", fed[i]->name);
	return out;
}

enum member_verdict
members_judge(struct node *n, const Lcf__Content *c, char *why, size_t whylen)
{
	struct members *ms = n->members;
	struct entry *e;
	char t[64], names[128];
	int fed_kind;

	if (ms == NULL)
		return MEMBER_ACCEPT;
	e = find(ms, c->author.data);
	/* A key that handed over keeps what it wrote before, nothing after. */
	if (e != NULL && e->info.has_successor && c->seq > e->sseq) {
		snprintf(why, whylen, "the author's key was retired: it handed "
		    "over to a successor at seq %llu", (unsigned long long)e->sseq);
		return MEMBER_REFUSE;
	}
	if (!ms->enabled)
		return MEMBER_ACCEPT;
	fed_kind = kinds_by_kind((int)c->kind) != NULL &&
	    kinds_by_kind((int)c->kind)->signer == KINDS_SIGNER_FEDERATION;
	if (memcmp(c->author.data, ms->fed, 32) == 0) {
		/* A kind this node does not know may be a later version's
		 * federation record: kept (PROTOCOL 5.3, rule 2). */
		if (fed_kind || kinds_by_kind((int)c->kind) == NULL)
			return MEMBER_ACCEPT;
		snprintf(why, whylen, "the federation key signs only %s records, "
		    "not %s records", federation_kinds(names, sizeof(names)),
		    kinds_name((int)c->kind));
		return MEMBER_REFUSE;
	}
	if (fed_kind) {
		snprintf(why, whylen, "only the federation key may sign %s "
		    "records", federation_kinds(names, sizeof(names)));
		return MEMBER_REFUSE;
	}
	if (e != NULL && e->info.revoked && c->timestamp >= e->info.revoked_ms) {
		when(e->info.revoked_ms, t, sizeof(t));
		snprintf(why, whylen, "the city was revoked from %s: %s", t,
		    e->info.reason);
		return MEMBER_REFUSE;
	}
	if (e == NULL || !e->info.admitted) {
		snprintf(why, whylen, "the city is not an admitted member (yet)");
		return MEMBER_HOLD;
	}
	if (e->info.expires_ms != 0 && c->timestamp >= e->info.expires_ms) {
		when(e->info.expires_ms, t, sizeof(t));
		snprintf(why, whylen, "the city's membership expired at %s", t);
		return MEMBER_REFUSE;
	}
	return MEMBER_ACCEPT;
}

/* ---- links ---- */

int
members_link_ok(struct node *n, const uint8_t city[32], char *why, size_t whylen)
{
	struct members *ms = n->members;
	struct entry *e;
	int64_t now = now_ms();
	char t[64];

	if (ms == NULL || !ms->enabled)
		return 0;
	e = find(ms, city);
	if (e != NULL && e->info.revoked && now >= e->info.revoked_ms) {
		snprintf(why, whylen, "revoked by the federation: %s", e->info.reason);
		return LCF_EPERM;
	}
	if (e == NULL || !e->info.admitted) {
		snprintf(why, whylen, "not a member of this federation: no "
		    "membership record for this city");
		return LCF_EPERM;
	}
	if (e->info.expires_ms != 0 && now >= e->info.expires_ms) {
		when(e->info.expires_ms, t, sizeof(t));
		snprintf(why, whylen, "its membership expired at %s", t);
		return LCF_EPERM;
	}
	return 0;
}

int
members_check_hello(struct node *n, const Lcf__Hello *h, const uint8_t **learn,
    size_t *learn_len, char *why, size_t whylen)
{
	struct members *ms = n->members;
	struct record rec;
	struct verr verr;
	char hex[LCF_ID_HEX];
	const Lcf__Membership *m;
	const uint8_t *raw;
	size_t len;
	int ret = LCF_EPERM, have = 0;

	*learn = NULL;
	*learn_len = 0;
	if (ms == NULL || !ms->enabled)
		return 0;
	memset(&rec, 0, sizeof(rec));
	if (!h->has_federation || h->federation.len != 32) {
		snprintf(why, whylen, "not a member of federation %.12s...: it "
		    "belongs to no federation", hex_encode(ms->fed, 32, hex));
		goto out;
	}
	if (memcmp(h->federation.data, ms->fed, 32) != 0) {
		snprintf(why, whylen, "belongs to federation %.12s..., not to ours",
		    hex_encode(h->federation.data, 32, hex));
		goto out;
	}
	/* What we hold decides first: a revocation here beats any record. */
	if (members_link_ok(n, h->identity.data, why, whylen) == 0) {
		ret = 0;
		goto out;
	}
	if (find(ms, h->identity.data) != NULL &&
	    find(ms, h->identity.data)->info.revoked)
		goto out;
	if (!h->has_membership || h->membership.len == 0)
		goto out;
	raw = h->membership.data;
	len = h->membership.len;
	if (record_open(raw, len, 1, &rec) != 0 ||
	    record_canonical(raw, len) != 0 ||
	    memcmp(rec.c->author.data, ms->fed, 32) != 0 ||
	    rec.c->kind != LCF__KIND__KIND_MEMBERSHIP || rec.c->deleted ||
	    validate_content(rec.c, NULL, 0, &verr) != 0) {
		snprintf(why, whylen, "its handshake shows no valid membership "
		    "record signed by this federation");
		goto out;
	}
	m = rec.c->membership;
	if (memcmp(m->city.data, h->identity.data, 32) != 0) {
		snprintf(why, whylen, "its handshake shows another city's membership");
		goto out;
	}
	if (m->has_expires && m->expires != 0 && now_ms() >= m->expires) {
		snprintf(why, whylen, "its membership has expired");
		goto out;
	}
	have = find(ms, h->identity.data) != NULL &&
	    find(ms, h->identity.data)->mseq >= rec.c->seq;
	if (have)
		goto out;        /* ours is newer and says no: why is set */
	/* A membership we did not know: the caller stores it like any
	 * record. */
	*learn = raw;
	*learn_len = len;
	ret = 0;
out:
	record_release(&rec);
	return ret;
}

struct own {
	uint8_t *raw;
	size_t len;
};

static int
own_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct own *o = arg;

	(void)id;
	o->raw = xmalloc(len);
	memcpy(o->raw, raw, len);
	o->len = len;
	/* Shown in handshakes: in canonical form, whatever an older build
	 * stored. */
	(void)record_normalize(o->raw, len);
	return 0;
}

int
members_own_record(struct node *n, uint8_t **raw, size_t *len)
{
	struct members *ms = n->members;
	struct own o = { NULL, 0 };
	char hex[LCF_ID_HEX];
	int rc;

	*raw = NULL;
	*len = 0;
	if (ms == NULL || !ms->enabled)
		return LCF_ENOTFOUND;
	rc = store_get_current(n->store, ms->fed, LCF__KIND__KIND_MEMBERSHIP,
	    hex_encode(n->id->pk, 32, hex), own_visit, &o);
	if (rc != 0 || o.raw == NULL) {
		free(o.raw);
		return LCF_ENOTFOUND;
	}
	*raw = o.raw;
	*len = o.len;
	return 0;
}

/* ---- views ---- */

int
members_any_revoked(const struct node *n)
{
	return n->members != NULL && n->members->revoked > 0;
}

int
members_is_observer(const struct node *n, const uint8_t city[32])
{
	const struct entry *e;

	if (n->members == NULL || !n->members->enabled)
		return 0;
	e = find(n->members, city);
	return e != NULL && e->info.admitted && e->info.observer;
}

int
members_any_observer(const struct node *n)
{
	const struct members *ms = n->members;
	size_t i;

	if (ms == NULL || !ms->enabled)
		return 0;
	for (i = 0; i < ms->count; i++)
		if (ms->v[i].info.admitted && ms->v[i].info.observer)
			return 1;
	return 0;
}

int
members_visible(void *arg, const uint8_t *raw, size_t len)
{
	struct node *n = arg;
	struct record rec;
	struct entry *e;
	int visible = 1;

	if (!members_any_revoked(n) || record_open(raw, len, 0, &rec) != 0)
		return 1;
	e = find(n->members, rec.c->author.data);
	if (e != NULL && e->info.revoked)
		visible = 0;
	record_release(&rec);
	return visible;
}

int
members_list(struct node *n, struct member_info **out, size_t *count,
    char *name, size_t namelen)
{
	struct members *ms = n->members;
	size_t i, k = 0;

	*out = NULL;
	*count = 0;
	if (name != NULL && namelen > 0)
		copy_str(name, namelen, ms != NULL ? ms->fed_name : "");
	if (ms == NULL)
		return 0;
	*out = xcalloc(ms->count ? ms->count : 1, sizeof(**out));
	for (i = 0; i < ms->count; i++) {
		/* Authors known only from successions are not members. */
		if (!ms->v[i].mseq && !ms->v[i].rseq)
			continue;
		(*out)[k++] = ms->v[i].info;
	}
	*count = k;
	return 0;
}

int
members_get(struct node *n, const uint8_t city[32], struct member_info *out)
{
	struct entry *e = find(n->members, city);

	if (e == NULL)
		return LCF_ENOTFOUND;
	*out = e->info;
	return 0;
}

void
members_successions(struct node *n, uint8_t (**pairs)[2][32], size_t *count)
{
	struct members *ms = n->members;
	size_t i, k = 0;

	*pairs = NULL;
	*count = 0;
	for (i = 0; ms != NULL && i < ms->count; i++)
		k += ms->v[i].info.has_successor;
	if (k == 0)
		return;
	*pairs = xcalloc(k, sizeof(**pairs));
	for (i = 0, k = 0; i < ms->count; i++) {
		if (!ms->v[i].info.has_successor)
			continue;
		memcpy((*pairs)[k][0], ms->v[i].info.city, 32);
		memcpy((*pairs)[k][1], ms->v[i].info.successor, 32);
		k++;
	}
	*count = k;
}

int
members_self_check(struct node *n, char *why, size_t whylen)
{
	Lcf__Content c = LCF__CONTENT__INIT;

	c.has_author = 1;
	c.author.data = n->id->pk;
	c.author.len = 32;
	c.has_seq = 1;
	c.seq = seq_next(n);
	c.has_kind = 1;
	c.kind = LCF__KIND__KIND_PRACTICE;
	c.has_timestamp = 1;
	c.timestamp = now_ms();
	return members_judge(n, &c, why, whylen) == MEMBER_REFUSE ? LCF_EPERM : 0;
}
