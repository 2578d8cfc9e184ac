// SPDX-License-Identifier: Apache-2.0
// Federation status: one row per member and observer (on an open node, per city
// it knows) from its beacon, links and membership, with a summary line.
//
// Agreement compares the set digest (PROTOCOL 4.1) of the base set (4.10:
// every record but beacons and kinds this node does not know) that a node's
// newest beacon carries with this node's own, now. When they differ, the
// distance shown is the difference of the two counts: a lower bound of the
// records the two sets differ by, as of that beacon (README, "For
// secretariats"). Asked with measure=true, the view is run once
// view_fedstatus_prepare's round of measuring sessions (net/measure.c) is
// over, and a linked peer's row carries what its session counted instead.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/util.h"
#include "base/version.h"
#include "base/xmalloc.h"
#include "core/member.h"
#include "core/node.h"
#include "model/identity.h"
#include "model/kinds.h"
#include "model/record.h"
#include "net/beacon.h"
#include "net/measure.h"
#include "net/peer.h"
#include "store/store.h"
#include "view/view.h"

#define DAY_MS		(24LL * 3600 * 1000)
#define INACTIVE_MS	(7 * DAY_MS)	/* no beacon for this long: inactive */
#define EXPIRING_MS	(30 * DAY_MS)	/* admission ends within this: say so */

struct fs_row {
	uint8_t id[32];
	char name[201];
	char country[3];
	const char *role, *state;
	int64_t expires_ms;
	int has_coords;              /* the profile's latitude and longitude */
	double latitude, longitude;
};

struct fs {
	struct node *n;
	struct fs_row *rows;
	size_t count, cap;
	struct peer_info *peers;
	size_t npeers;
	uint64_t records, set_count;
	uint8_t digest[16];
	int64_t now;
	int measure;                 /* measure=true: rows carry measurements */
};

static struct fs_row *
add_row(struct fs *f, const uint8_t id[32])
{
	struct fs_row *r;
	size_t i;

	for (i = 0; i < f->count; i++)
		if (memcmp(f->rows[i].id, id, 32) == 0)
			return &f->rows[i];
	if (f->count == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 32;
		f->rows = xreallocarray(f->rows, f->cap, sizeof(*f->rows));
	}
	r = &f->rows[f->count++];
	memset(r, 0, sizeof(*r));
	memcpy(r->id, id, 32);
	r->role = "city";
	r->state = "open";
	return r;
}

static const char *
member_state(const struct member_info *m, int64_t now)
{
	if (m->revoked)
		return "revoked";
	if (m->has_successor)
		return "handed over";
	if (!m->admitted)
		return "withdrawn";
	if (m->expires_ms > 0 && m->expires_ms <= now)
		return "expired";
	return "member";
}

/* The profile's place, when it gives one, for the dashboard's map. */
static void
take_coords(struct fs_row *r, const Lcf__CityProfile *p)
{
	if (p->has_latitude && p->has_longitude) {
		r->has_coords = 1;
		r->latitude = p->latitude;
		r->longitude = p->longitude;
	}
}

static int
coords_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct record rec;

	(void)id;
	if (record_open(raw, len, 0, &rec) != 0)
		return 0;
	if (!rec.c->deleted && rec.c->city != NULL)
		take_coords(arg, rec.c->city);
	record_release(&rec);
	return 0;
}

static int
members_rows(struct fs *f)
{
	struct member_info *m = NULL;
	char fname[256];
	size_t i, nm = 0;
	struct fs_row *r;
	int rc;

	if ((rc = members_list(f->n, &m, &nm, fname, sizeof(fname))) != 0)
		return rc;
	for (i = 0; i < nm; i++) {
		r = add_row(f, m[i].city);
		snprintf(r->name, sizeof(r->name), "%s", m[i].name);
		snprintf(r->country, sizeof(r->country), "%s", m[i].country);
		r->role = m[i].observer ? "observer" : "city";
		r->state = member_state(&m[i], f->now);
		r->expires_ms = m[i].admitted ? m[i].expires_ms : 0;
		/* A profile not held yet leaves the place unknown. */
		(void)store_get_current(f->n->store, m[i].city,
		    LCF__KIND__KIND_CITY, "profile", coords_visit, r);
	}
	free(m);
	return 0;
}

/* On an open node: every city whose profile it holds. */
static int
city_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct fs *f = arg;
	struct record rec;
	struct fs_row *r;

	(void)id;
	if (record_open(raw, len, 0, &rec) != 0)
		return 0;
	if (rec.c->author.len == 32) {
		r = add_row(f, rec.c->author.data);
		if (rec.c->city != NULL) {
			snprintf(r->name, sizeof(r->name), "%s",
			    rec.c->city->name ? rec.c->city->name : "");
			snprintf(r->country, sizeof(r->country), "%s",
			    rec.c->city->country ? rec.c->city->country : "");
			take_coords(r, rec.c->city);
		}
	}
	record_release(&rec);
	return 0;
}

/* This node's own row, when no record named it. */
static void
self_row(struct fs *f)
{
	size_t before = f->count;
	struct fs_row *r = add_row(f, f->n->id->pk);

	if (f->count == before)
		return;
	snprintf(r->name, sizeof(r->name), "%s", f->n->cfg.city ? f->n->cfg.city : "");
	snprintf(r->country, sizeof(r->country), "%s", f->n->cfg.country ?
	    f->n->cfg.country : "");
	(void)store_get_current(f->n->store, f->n->id->pk, LCF__KIND__KIND_CITY,
	    "profile", coords_visit, r);
	if (members_enabled(f->n))
		r->state = "not admitted";
}

static const struct peer_info *
linked(const struct fs *f, const uint8_t id[32])
{
	size_t i;

	for (i = 0; i < f->npeers; i++)
		if (f->peers[i].has_id && memcmp(f->peers[i].id, id, 32) == 0 &&
		    f->peers[i].state == PEER_CONNECTED)
			return &f->peers[i];
	return NULL;
}

static int64_t
last_handshake(const struct fs *f, const uint8_t id[32])
{
	int64_t best = 0;
	size_t i;

	for (i = 0; i < f->npeers; i++)
		if (f->peers[i].has_id && memcmp(f->peers[i].id, id, 32) == 0 &&
		    f->peers[i].last_handshake_ms > best)
			best = f->peers[i].last_handshake_ms;
	return best;
}

static void
warn(json_t *w, const char *fmt, const char *arg)
{
	char buf[256];

	snprintf(buf, sizeof(buf), fmt, arg);
	json_array_append_new(w, json_string(buf));
}

/* The columns that come from the beacon, and agreement. */
static void
beacon_cols(struct fs *f, json_t *o, const struct beacon_seen *b, int self,
    int *agrees)
{
	char hex[33];

	*agrees = -1;
	json_object_set_new(o, "beacon_ms", b->has ? json_integer(b->timestamp) :
	    json_null());
	json_object_set_new(o, "version", b->has ? json_string(b->software) :
	    json_null());
	json_object_set_new(o, "protocol", b->has ? json_integer(b->protocol) :
	    json_null());
	json_object_set_new(o, "started_ms", b->has ? json_integer(b->started) :
	    json_null());
	json_object_set_new(o, "peers", b->has ? json_integer(b->peers) :
	    json_null());
	json_object_set_new(o, "last_sync_ms", b->has && b->last_sync > 0 ?
	    json_integer(b->last_sync) : json_null());
	if (self) {
		json_object_set_new(o, "records", json_integer((json_int_t)f->records));
		json_object_set_new(o, "set_count", json_integer((json_int_t)f->set_count));
		json_object_set_new(o, "digest", json_string(hex_encode(f->digest,
		    16, hex)));
		*agrees = 1;
	} else if (b->has && b->has_digest) {
		json_object_set_new(o, "records", json_integer((json_int_t)b->records));
		json_object_set_new(o, "set_count", json_integer((json_int_t)b->set_count));
		json_object_set_new(o, "digest", json_string(hex_encode(b->digest,
		    16, hex)));
		*agrees = memcmp(b->digest, f->digest, 16) == 0;
	} else {
		/* No beacon, or one without a digest: agreement is unknown. */
		json_object_set_new(o, "records", b->has ?
		    json_integer((json_int_t)b->records) : json_null());
		json_object_set_new(o, "set_count", json_null());
		json_object_set_new(o, "digest", json_null());
	}
	json_object_set_new(o, "agrees", *agrees < 0 ? json_null() :
	    json_boolean(*agrees));
	/* Ours less theirs: > 0 when it lacks records we hold. */
	json_object_set_new(o, "difference", *agrees == 0 ?
	    json_integer((json_int_t)f->set_count - (json_int_t)b->set_count) :
	    *agrees == 1 ? json_integer(0) : json_null());
}

/*
 * How far apart this node and the row's are: what a measuring session
 * counted, when asked and the peer was measured; else, from its beacon, 0
 * and 0 when the digests agree and the counts' difference, a lower bound,
 * when they do not (both as of the beacon). May settle agrees.
 */
static void
apart_cols(struct fs *f, json_t *o, const struct fs_row *r,
    const struct beacon_seen *b, int self, int *agrees)
{
	static const char *const kinds[] = { NULL, "exact", "estimate",
		"lower_bound" };
	struct measure_result mr;
	int measured = f->measure && !self && measure_get(f->n, r->id, &mr) == 0;
	const char *kind = NULL;
	int64_t here = 0, there = 0, at = 0, d;
	json_t *err = json_null();

	if (measured && mr.kind != SYNC_MEASURE_NONE) {
		kind = kinds[mr.kind];
		here = (int64_t)mr.only_here;
		there = (int64_t)mr.only_there;
		at = mr.measured_ms;
		if (mr.kind == SYNC_MEASURE_EXACT) {
			*agrees = here == 0 && there == 0;
			json_object_set_new(o, "agrees", json_boolean(*agrees));
		}
	} else {
		measured = measured ? -1 : 0;
		if (measured < 0)
			err = json_string(mr.message[0] != '\0' ? mr.message :
			    lcf_strerror(mr.error));
		if (!self && *agrees == 1) {
			kind = "exact";
			at = b->timestamp;
		} else if (*agrees == 0) {
			d = (int64_t)f->set_count - (int64_t)b->set_count;
			kind = "lower_bound";
			here = d > 0 ? d : 0;
			there = d < 0 ? -d : 0;
			at = b->timestamp;
		}
	}
	json_object_set_new(o, "apart", kind != NULL ? json_string(kind) :
	    json_null());
	json_object_set_new(o, "only_here", kind != NULL ? json_integer(here) :
	    json_null());
	json_object_set_new(o, "only_there", kind != NULL ? json_integer(there) :
	    json_null());
	json_object_set_new(o, "apart_ms", kind != NULL ? json_integer(at) :
	    json_null());
	json_object_set_new(o, "measured", json_boolean(measured > 0));
	json_object_set_new(o, "measure_error", err);
}

struct tally {
	size_t cities, observers, reachable, agreeing, inactive, warnings;
	json_t *versions;
};

static json_t *
row_json(struct fs *f, const struct fs_row *r, struct tally *t)
{
	struct beacon_seen b;
	const struct peer_info *p = linked(f, r->id);
	int self = memcmp(r->id, f->n->id->pk, 32) == 0, agrees, inactive, soon;
	json_t *o = json_object(), *w = json_array();
	int64_t seen;
	uint64_t forks;
	char hex[65];

	if (beacon_get(f->n, r->id, &b) != 0)
		memset(&b, 0, sizeof(b));
	seen = self ? f->now : b.has ? b.timestamp : 0;
	if (p != NULL)
		seen = f->now;
	else if (!self && last_handshake(f, r->id) > seen)
		seen = last_handshake(f, r->id);
	inactive = !self && (b.has ? f->now - b.timestamp > INACTIVE_MS :
	    seen == 0 || f->now - seen > INACTIVE_MS);
	soon = r->expires_ms > f->now && r->expires_ms - f->now <= EXPIRING_MS;
	forks = store_author_forks(f->n->store, r->id);
	json_object_set_new(o, "id", json_string(hex_encode(r->id, 32, hex)));
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "country", json_string(r->country));
	json_object_set_new(o, "latitude", r->has_coords ?
	    json_real(r->latitude) : json_null());
	json_object_set_new(o, "longitude", r->has_coords ?
	    json_real(r->longitude) : json_null());
	json_object_set_new(o, "role", json_string(r->role));
	json_object_set_new(o, "state", json_string(r->state));
	json_object_set_new(o, "self", json_boolean(self));
	json_object_set_new(o, "last_seen_ms", seen > 0 ? json_integer(seen) :
	    json_null());
	beacon_cols(f, o, &b, self, &agrees);
	apart_cols(f, o, r, &b, self, &agrees);
	json_object_set_new(o, "reachable", json_boolean(self || p != NULL));
	json_object_set_new(o, "inactive", json_boolean(inactive));
	json_object_set_new(o, "expires_ms", r->expires_ms > 0 ?
	    json_integer(r->expires_ms) : json_null());
	json_object_set_new(o, "expiring", json_boolean(soon));
	json_object_set_new(o, "forks", json_integer((json_int_t)forks));
	json_object_set_new(o, "shared_key", json_boolean(b.shared_ms > 0));
	json_object_set_new(o, "shared_key_ms", b.shared_ms > 0 ?
	    json_integer(b.shared_ms) : json_null());
	if (b.shared_ms > 0)
		warn(w, "%stwo nodes run with this key (two beacon streams, or "
		    "records of it made elsewhere): stop one of them", self ?
		    "this node's key is used by another node: " : "");
	if (inactive)
		warn(w, "%sinactive: no beacon for more than 7 days", "");
	if (soon)
		warn(w, "%sadmission expires within 30 days: renew it with "
		    "`lcctl federation admit`", "");
	if (forks > 0)
		warn(w, "%sforks: the key wrote two records with one seq", "");
	if (agrees == 0)
		warn(w, "%sits set differs from this node's", "");
	json_object_set_new(o, "warnings", w);
	if (strcmp(r->role, "observer") == 0)
		t->observers++;
	else
		t->cities++;
	t->reachable += self || p != NULL;
	t->agreeing += agrees == 1;
	t->inactive += inactive;
	t->warnings += json_array_size(w) > 0;
	if (b.has || self) {
		const char *v = self ? LCF_VERSION : b.software;
		json_t *c = json_object_get(t->versions, v);

		json_object_set_new(t->versions, v, json_integer(c != NULL ?
		    json_integer_value(c) + 1 : 1));
	}
	return o;
}

int
view_fedstatus(struct node *n, const json_t *args, unsigned flags,
    json_t **out, struct view_error *e)
{
	struct fs f;
	struct tally t;
	struct store_query q;
	json_t *items, *j;
	size_t i;
	int truncated, rc;

	(void)flags;
	memset(&f, 0, sizeof(f));
	memset(&t, 0, sizeof(t));
	if ((rc = view_arg_bool(args, "measure", &f.measure, e)) != 0)
		return rc;
	f.n = n;
	f.now = now_ms();
	if (beacon_own_set(n, &f.records, &f.set_count, f.digest) != 0 ||
	    peers_list(n, &f.peers, &f.npeers) != 0) {
		rc = view_fail(e, LCF_ESTORE, 500, NULL, "the database cannot be read");
		goto done;
	}
	if (members_enabled(n)) {
		rc = members_rows(&f);
	} else {
		memset(&q, 0, sizeof(q));
		q.kind = LCF__KIND__KIND_CITY;
		rc = store_query(n->store, &q, city_visit, &f, &truncated);
	}
	if (rc == 0)
		self_row(&f);
	if (rc != 0) {
		rc = view_fail(e, rc, 500, NULL, "the database cannot be read");
		goto done;
	}
	t.versions = json_object();
	items = json_array();
	for (i = 0; i < f.count; i++)
		json_array_append_new(items, row_json(&f, &f.rows[i], &t));
	j = json_object();
	json_object_set_new(j, "federation", json_boolean(members_enabled(n)));
	json_object_set_new(j, "summary", json_pack("{s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:o}", "nodes", (json_int_t)f.count,
	    "cities", (json_int_t)t.cities, "observers", (json_int_t)t.observers,
	    "reachable", (json_int_t)t.reachable, "agreeing", (json_int_t)t.agreeing,
	    "inactive", (json_int_t)t.inactive, "warnings", (json_int_t)t.warnings,
	    "versions", t.versions));
	json_object_set_new(j, "items", items);
	json_object_set_new(j, "next", json_null());
	*out = j;
	rc = 0;
done:
	free(f.rows);
	free(f.peers);
	return rc;
}

int
view_fedstatus_prepare(struct node *n, const json_t *args,
    view_ready_cb ready, void *arg, struct view_error *e)
{
	int measure, rc;

	if ((rc = view_arg_bool(args, "measure", &measure, e)) != 0)
		return rc;
	return measure ? measure_start(n, ready, arg) : 1;
}
