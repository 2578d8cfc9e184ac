// SPDX-License-Identifier: Apache-2.0
// Admin requests about the federation: peers, the cities known, records made
// elsewhere (submit), the federation's members and the node's health.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "admin/ctlint.h"
#include "base/error.h"
#include "model/identity.h"
#include "model/kinds.h"
#include "write/ingest.h"
#include "core/lineage.h"
#include "base/log.h"
#include "core/member.h"
#include "core/node.h"
#include "http/health.h"
#include "http/http.h"
#include "write/held.h"
#include "net/peer.h"
#include "model/record.h"
#include "store/store.h"
#include "net/sync.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "view/city.h"

#define CITY_SCAN_CHUNK 4096

/* ---- peers ---- */

static const Lcf__PeerState peer_states[] = {
	[PEER_DISCONNECTED] = LCF__PEER_STATE__PEER_STATE_DISCONNECTED,
	[PEER_CONNECTING] = LCF__PEER_STATE__PEER_STATE_CONNECTING,
	[PEER_CONNECTED] = LCF__PEER_STATE__PEER_STATE_CONNECTED,
	[PEER_RETRYING] = LCF__PEER_STATE__PEER_STATE_RETRYING,
};

/* Points pb's fields into in, which must outlive pb. */
static void
peer_pb(struct peer_info *in, Lcf__PeerInfo *pb)
{
	lcf__peer_info__init(pb);
	if (in->has_id) {
		pb->has_id = 1;
		pb->id.data = in->id;
		pb->id.len = 32;
	}
	if (in->has_pin) {
		pb->has_pinned_id = 1;
		pb->pinned_id.data = in->pin;
		pb->pinned_id.len = 32;
	}
	pb->address = in->address[0] ? in->address : NULL;
	pb->remote = in->remote[0] ? in->remote : NULL;
	pb->city_name = in->city_name[0] ? in->city_name : NULL;
	pb->listen = in->listen[0] ? in->listen : NULL;
	pb->has_inbound = pb->has_outbound_link = 1;
	pb->inbound = in->inbound;
	pb->has_discovered = 1;
	pb->discovered = in->discovered;
	pb->outbound_link = in->link_outbound;
	pb->has_state = 1;
	pb->state = (size_t)in->state < sizeof(peer_states) / sizeof(peer_states[0]) ?
	    peer_states[in->state] : LCF__PEER_STATE__PEER_STATE_UNSPECIFIED;
	pb->has_since_ms = pb->has_last_handshake_ms = 1;
	pb->since_ms = in->since_ms;
	pb->last_handshake_ms = in->last_handshake_ms;
	pb->has_rtt_ms = in->rtt_ms >= 0;
	pb->rtt_ms = in->rtt_ms;
	pb->has_next_dial_ms = in->next_dial_ms > 0;
	pb->next_dial_ms = in->next_dial_ms;
	pb->has_bytes_in = pb->has_bytes_out = pb->has_records_in =
	    pb->has_records_out = pb->has_refused = 1;
	pb->bytes_in = in->bytes_in;
	pb->bytes_out = in->bytes_out;
	pb->records_in = in->records_in;
	pb->records_out = in->records_out;
	pb->refused = in->refused;
	pb->has_queued_bytes = 1;
	pb->queued_bytes = in->queued_bytes;
	pb->last_error = in->last_error[0] ? in->last_error : NULL;
	pb->has_last_error_ms = in->last_error_ms > 0;
	pb->last_error_ms = in->last_error_ms;
	pb->has_sync_running = 1;
	pb->sync_running = in->sync_running > 0;
	if (in->last_sync_ms > 0) {
		pb->has_last_sync_ms = pb->has_last_sync_result = 1;
		pb->last_sync_ms = in->last_sync_ms;
		pb->last_sync_result = in->last_sync_result;
		pb->last_sync_message = in->last_sync_message;
		pb->has_last_sync_records_in = pb->has_last_sync_records_out = 1;
		pb->last_sync_records_in = in->last_sync_records_in;
		pb->last_sync_records_out = in->last_sync_records_out;
	}
}

static void
send_peers(struct ctl_conn *c, struct peer_info *infos, size_t count)
{
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__PeerListReply pl = LCF__PEER_LIST_REPLY__INIT;
	Lcf__PeerInfo *pbs = xcalloc(count ? count : 1, sizeof(*pbs));
	Lcf__PeerInfo **ptrs = xcalloc(count ? count : 1, sizeof(*ptrs));
	size_t i;

	for (i = 0; i < count; i++) {
		peer_pb(&infos[i], &pbs[i]);
		ptrs[i] = &pbs[i];
	}
	pl.peers = ptrs;
	pl.n_peers = count;
	resp.reply_case = LCF__CTL_RESPONSE__REPLY_PEERS;
	resp.peers = &pl;
	ctlconn__send(c, &resp, 0);
	free(ptrs);
	free(pbs);
}

void
ctlfed__peer_add(struct ctl_conn *c)
{
	Lcf__PeerAddRequest *r = c->req->peer_add;
	struct peer_info info;
	char err[700];
	int rc;

	if (r->has_pinned_id && r->pinned_id.len != 32) {
		ctlconn__error(c, LCF_EINVAL, "a pinned city id is 32 bytes (64 hex digits)");
	} else if ((rc = peers_add(c->ctl->n, r->address, r->has_pinned_id ?
	    r->pinned_id.data : NULL, &info, err, sizeof(err))) != 0) {
		ctlconn__error(c, rc, "%s", err);
	} else {
		send_peers(c, &info, 1);
	}
	ctlconn__done(c);
}

void
ctlfed__peer_remove(struct ctl_conn *c)
{
	Lcf__PeerRemoveRequest *r = c->req->peer_remove;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	char err[700];
	int rc;

	if (r->ref == NULL || r->ref[0] == '\0')
		ctlconn__error(c, LCF_EINVAL, "give a peer's city id or HOST:PORT");
	else if ((rc = peers_remove(c->ctl->n, r->ref, err, sizeof(err))) != 0)
		ctlconn__error(c, rc, "%s", err);
	else
		ctlconn__send(c, &resp, 0);
	ctlconn__done(c);
}

void
ctlfed__peer_list(struct ctl_conn *c)
{
	struct peer_info *infos = NULL;
	size_t count = 0;
	int rc;

	if ((rc = peers_list(c->ctl->n, &infos, &count)) != 0)
		ctlconn__error(c, rc, "cannot list the peers: %s", lcf_strerror(rc));
	else
		send_peers(c, infos, count);
	free(infos);
	ctlconn__done(c);
}

static void
peer_sync_done(void *arg, const struct sync_stats *st)
{
	struct ctl_conn *c = arg;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__SyncReply sr = LCF__SYNC_REPLY__INIT;

	if (ctlconn__op_end(c))
		return;
	if (st->result != 0) {
		ctlconn__error(c, st->result, "reconciliation with %s failed: %s",
		    c->req->peer_sync->ref, st->message[0] ? st->message :
		    lcf_strerror(st->result));
	} else {
		sr.has_round_trips = sr.has_bytes_sent = sr.has_bytes_received = 1;
		sr.round_trips = st->round_trips;
		sr.bytes_sent = st->bytes_sent;
		sr.bytes_received = st->bytes_received;
		sr.has_records_sent = sr.has_records_received = 1;
		sr.records_sent = st->records_sent;
		sr.records_received = st->records_received;
		sr.has_started_ms = sr.has_finished_ms = 1;
		sr.started_ms = st->started_ms;
		sr.finished_ms = st->finished_ms;
		sr.message = (char *)st->message;
		resp.reply_case = LCF__CTL_RESPONSE__REPLY_SYNC;
		resp.sync = &sr;
		ctlconn__send(c, &resp, 0);
	}
	ctlconn__done(c);
}

void
ctlfed__peer_sync(struct ctl_conn *c)
{
	Lcf__PeerSyncRequest *r = c->req->peer_sync;
	char err[700];
	int rc;

	if (r->ref == NULL || r->ref[0] == '\0') {
		ctlconn__error(c, LCF_EINVAL, "give a peer's city id or HOST:PORT");
		ctlconn__done(c);
		return;
	}
	c->ops++;
	rc = peersync_request(c->ctl->n, r->ref, peer_sync_done, c, err, sizeof(err));
	if (rc != 0) {
		c->ops--;
		ctlconn__error(c, rc, "%s", err);
		ctlconn__done(c);
	}
}

/* ---- cities ---- */

struct city_agg {
	uint8_t author[32];
	char *name;
	char *country;
	uint64_t current[KINDS_LIMIT], deleted[KINDS_LIMIT];
	int64_t newest;
	uint8_t head[32];            /* newest key of the author's line */
	size_t rank;                 /* the author's place in it, oldest 0 */
	uint8_t (*prev)[32];         /* earlier keys merged in, oldest first */
	size_t nprev;
};

struct city_job {
	uv_work_t work;
	struct ctl_conn *conn;
	struct lineage *lin;         /* owned; read in the pool */
	struct city_agg *v;
	size_t n, cap;
	int error;
};

static int
city_scan_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct city_job *job = arg;
	struct city_agg *a;
	struct record rec;
	const Lcf__Content *ct;
	unsigned kind;

	(void)id;
	if (record_open(raw, len, 0, &rec) != 0)
		return 0;
	ct = rec.c;
	/* A key a later key of the city replaced counts once, as the later's. */
	if (!lineage_empty(job->lin) &&
	    lineage_shadowed(job->lin, job->conn->ctl->n->store, ct)) {
		record_release(&rec);
		return 0;
	}
	/* Current versions come in author order: one entry per run. */
	if (job->n == 0 || memcmp(job->v[job->n - 1].author, ct->author.data,
	    32) != 0) {
		if (job->n == job->cap) {
			job->cap = job->cap ? 2 * job->cap : 64;
			job->v = xreallocarray(job->v, job->cap, sizeof(*job->v));
		}
		a = &job->v[job->n++];
		memset(a, 0, sizeof(*a));
		memcpy(a->author, ct->author.data, 32);
	}
	a = &job->v[job->n - 1];
	kind = (unsigned)ct->kind < KINDS_LIMIT ? (unsigned)ct->kind : 0;
	if (ct->deleted)
		a->deleted[kind]++;
	else
		a->current[kind]++;
	if (ct->timestamp > a->newest)
		a->newest = ct->timestamp;
	if (!ct->deleted && ct->body_case == LCF__CONTENT__BODY_CITY &&
	    a->name == NULL) {
		if (ct->city->name != NULL)
			a->name = xstrdup(ct->city->name);
		if (ct->city->country != NULL)
			a->country = xstrdup(ct->city->country);
	}
	record_release(&rec);
	return 0;
}

static int
agg_cmp(const void *x, const void *y)
{
	return memcmp(((const struct city_agg *)x)->author,
	    ((const struct city_agg *)y)->author, 32);
}

static int
head_cmp(const void *x, const void *y)
{
	const struct city_agg *a = x, *b = y;
	int c = memcmp(a->head, b->head, 32);

	return c != 0 ? c : (a->rank > b->rank) - (a->rank < b->rank);
}

/* Folds the entries of one city's keys into one, under its newest key that
 * has records here; the others become its previous ids. */
static void
group_lines(struct city_job *job)
{
	uint8_t line[LINEAGE_MAX][32];
	size_t i, j, k, o = 0, nline, start;

	for (i = 0; i < job->n; i++) {
		struct city_agg *a = &job->v[i];

		nline = lineage_line(job->lin, a->author, line);
		memcpy(a->head, line[nline - 1], 32);
		for (k = 0; k < nline; k++)
			if (memcmp(line[k], a->author, 32) == 0)
				a->rank = k;
	}
	qsort(job->v, job->n, sizeof(*job->v), head_cmp);
	for (start = 0; start < job->n; start = i) {
		struct city_agg g;

		for (i = start + 1; i < job->n &&
		    memcmp(job->v[i].head, job->v[start].head, 32) == 0; i++)
			;
		g = job->v[i - 1];
		if (i - start > 1)
			g.prev = xcalloc(i - start - 1, sizeof(*g.prev));
		for (j = i - 1; j-- > start;) {
			struct city_agg *a = &job->v[j];

			memcpy(g.prev[j - start], a->author, 32);
			for (k = 0; k < KINDS_LIMIT; k++) {
				g.current[k] += a->current[k];
				g.deleted[k] += a->deleted[k];
			}
			if (a->newest > g.newest)
				g.newest = a->newest;
			if (g.name == NULL) {
				g.name = a->name;
				g.country = a->country;
			} else {
				free(a->name);
				free(a->country);
			}
		}
		g.nprev = i - start - 1;
		job->v[o++] = g;
	}
	job->n = o;
}

/* Whether every record of the author is of a kind only a federation writes. */
static int
federation_only(const struct city_agg *a)
{
	const struct kinds_def *kd;
	size_t k;

	for (k = 0; k < KINDS_LIMIT; k++) {
		kd = kinds_by_kind((int)k);
		if (kd != NULL && kd->signer == KINDS_SIGNER_FEDERATION)
			continue;
		if (a->current[k] != 0 || a->deleted[k] != 0)
			return 0;
	}
	return 1;
}

static void
city_work(uv_work_t *w)
{
	struct city_job *job = w->data;
	uint8_t cursor[STORE_CURSOR_MAX];
	size_t cursor_len = 0, i, o;
	int done = 0;

	while (!done && job->error == 0)
		job->error = store_scan_current(job->conn->ctl->n->store, NULL, cursor,
		    &cursor_len, CITY_SCAN_CHUNK, &done, city_scan_visit, job);
	/* Chunks may split an author's run: merge what the order left apart. */
	qsort(job->v, job->n, sizeof(*job->v), agg_cmp);
	for (i = 0, o = 0; i < job->n; i++) {
		struct city_agg *a = &job->v[i], *b;
		size_t k;

		if (o > 0 && memcmp(job->v[o - 1].author, a->author, 32) == 0) {
			b = &job->v[o - 1];
			for (k = 0; k < KINDS_LIMIT; k++) {
				b->current[k] += a->current[k];
				b->deleted[k] += a->deleted[k];
			}
			if (a->newest > b->newest)
				b->newest = a->newest;
			if (b->name == NULL) {
				b->name = a->name;
				b->country = a->country;
			} else {
				free(a->name);
				free(a->country);
			}
			continue;
		}
		job->v[o++] = *a;
	}
	job->n = o;
	/* A federation's key writes memberships, revocations and catalogs,
	 * nothing a city writes: it is no city. */
	for (i = 0, o = 0; i < job->n; i++) {
		if (federation_only(&job->v[i])) {
			free(job->v[i].name);
			free(job->v[i].country);
			continue;
		}
		job->v[o++] = job->v[i];
	}
	job->n = o;
	if (!lineage_empty(job->lin))
		group_lines(job);
}

static void
city_job_free(struct city_job *job)
{
	size_t i;

	for (i = 0; i < job->n; i++) {
		free(job->v[i].name);
		free(job->v[i].country);
		free(job->v[i].prev);
	}
	free(job->v);
	lineage_free(job->lin);
	free(job);
}

static void
city_done(uv_work_t *w, int status)
{
	struct city_job *job = w->data;
	struct ctl_conn *c = job->conn;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__CityListReply cl = LCF__CITY_LIST_REPLY__INIT;
	Lcf__CityInfo *infos = NULL, **ptrs = NULL;
	Lcf__KindCount *kcs = NULL, **kptrs = NULL;
	ProtobufCBinaryData *prev = NULL;
	size_t i, k, nk = 0, np = 0;

	(void)status;
	if (ctlconn__op_end(c))
		goto out;
	if (job->error != 0) {
		ctlconn__error(c, job->error, "cannot read the database: %s",
		    lcf_strerror(job->error));
		ctlconn__done(c);
		goto out;
	}
	/* An observer is no city (PROTOCOL 5.8): it is left out. */
	for (i = k = 0; i < job->n; i++) {
		if (members_is_observer(c->ctl->n, job->v[i].author))
			continue;
		if (k != i) {
			struct city_agg t = job->v[k];

			job->v[k] = job->v[i];
			job->v[i] = t;
		}
		k++;
	}
	for (i = k; i < job->n; i++) {
		free(job->v[i].name);
		free(job->v[i].country);
		free(job->v[i].prev);
	}
	job->n = k;
	infos = xcalloc(job->n ? job->n : 1, sizeof(*infos));
	ptrs = xcalloc(job->n ? job->n : 1, sizeof(*ptrs));
	kcs = xcalloc(job->n * KINDS_LIMIT + 1, sizeof(*kcs));
	kptrs = xcalloc(job->n * KINDS_LIMIT + 1, sizeof(*kptrs));
	for (i = 0; i < job->n; i++)
		np += job->v[i].nprev;
	prev = xcalloc(np + 1, sizeof(*prev));
	np = 0;
	for (i = 0; i < job->n; i++) {
		struct city_agg *a = &job->v[i];
		Lcf__CityInfo *ci = &infos[i];

		lcf__city_info__init(ci);
		ci->has_id = 1;
		ci->id.data = a->author;
		ci->id.len = 32;
		ci->name = a->name;
		ci->country = a->country;
		ci->has_newest_ms = 1;
		ci->newest_ms = a->newest;
		ci->has_self = 1;
		ci->self = memcmp(a->author, c->ctl->n->id->pk, 32) == 0;
		ci->membership = (char *)view_city_state(c->ctl->n, a->author);
		ci->previous_ids = &prev[np];
		for (k = 0; k < a->nprev; k++) {
			prev[np].data = a->prev[k];
			prev[np++].len = 32;
			ci->n_previous_ids++;
			if (memcmp(a->prev[k], c->ctl->n->id->pk, 32) == 0)
				ci->self = 1;
		}
		ci->kinds = &kptrs[nk];
		for (k = 1; k < KINDS_LIMIT; k++) {
			if (a->current[k] == 0 && a->deleted[k] == 0)
				continue;
			lcf__kind_count__init(&kcs[nk]);
			kcs[nk].has_kind = kcs[nk].has_current = kcs[nk].has_deleted = 1;
			kcs[nk].kind = (Lcf__Kind)k;
			kcs[nk].current = a->current[k];
			kcs[nk].deleted = a->deleted[k];
			kptrs[nk] = &kcs[nk];
			nk++;
			ci->n_kinds++;
		}
		ptrs[i] = ci;
	}
	cl.cities = ptrs;
	cl.n_cities = job->n;
	resp.reply_case = LCF__CTL_RESPONSE__REPLY_CITIES;
	resp.cities = &cl;
	ctlconn__send(c, &resp, 0);
	ctlconn__done(c);
out:
	free(prev);
	free(kptrs);
	free(kcs);
	free(ptrs);
	free(infos);
	city_job_free(job);
}

void
ctlfed__city_list(struct ctl_conn *c)
{
	struct city_job *job = xcalloc(1, sizeof(*job));

	job->conn = c;
	job->lin = lineage_snapshot(c->ctl->n);
	job->work.data = job;
	c->ops++;
	uv_queue_work(c->ctl->n->loop, &job->work, city_work, city_done);
}

/* ---- federation: records made elsewhere, members ---- */

static void
submit_done(void *arg, const struct ingest_result *r)
{
	struct ctl_conn *c = arg;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__SubmitReply sr = LCF__SUBMIT_REPLY__INIT;

	if (ctlconn__op_end(c))
		return;
	if (r->error != 0) {
		ctlconn__error(c, r->error, "%s", r->reason);
		ctlconn__done(c);
		return;
	}
	sr.has_received = sr.has_known = sr.has_stored = sr.has_held = 1;
	sr.has_refused = 1;
	sr.received = r->received;
	sr.known = r->known;
	sr.stored = r->stored;
	sr.held = r->held;
	sr.refused = r->refused;
	sr.reason = r->reason[0] ? (char *)r->reason : NULL;
	resp.reply_case = LCF__CTL_RESPONSE__REPLY_SUBMIT;
	resp.submit = &sr;
	ctlconn__send(c, &resp, 0);
	ctlconn__done(c);
}

void
ctlfed__submit(struct ctl_conn *c)
{
	Lcf__SubmitRequest *q = c->req->submit;
	const uint8_t **raws = NULL;
	size_t *lens = NULL, i;
	int rc;

	if (q->n_records == 0 || q->n_records > INGEST_MAX_BATCH) {
		ctlconn__error(c, LCF_EINVAL, "give 1 to %d records in one request",
		    INGEST_MAX_BATCH);
		ctlconn__done(c);
		return;
	}
	raws = xcalloc(q->n_records, sizeof(*raws));
	lens = xcalloc(q->n_records, sizeof(*lens));
	for (i = 0; i < q->n_records; i++) {
		raws[i] = q->records[i].data;
		lens[i] = q->records[i].len;
	}
	c->ops++;
	if ((rc = ingest_submit(c->ctl->n, NULL, raws, lens, q->n_records,
	    submit_done, c)) != 0) {
		c->ops--;
		ctlconn__error(c, rc, "cannot take the records: %s", lcf_strerror(rc));
		ctlconn__done(c);
	}
	free(raws);
	free(lens);
}

struct newest {
	int64_t ms;
};

static int
newest_visit(void *arg, uint64_t seq, const uint8_t id[32], const uint8_t *raw,
    size_t len)
{
	struct newest *nw = arg;
	struct record rec;

	(void)seq;
	(void)id;
	if (record_open(raw, len, 0, &rec) == 0) {
		if (rec.c->timestamp > nw->ms)
			nw->ms = rec.c->timestamp;
		record_release(&rec);
	}
	return 0;
}

void
ctlfed__members(struct ctl_conn *c)
{
	struct node *n = c->ctl->n;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__MembersReply mr = LCF__MEMBERS_REPLY__INIT;
	Lcf__MemberInfo *mi = NULL, **ptrs = NULL;
	struct member_info *v = NULL;
	struct peer_info *pi = NULL;
	size_t count = 0, npeers = 0, i, k;
	char name[201], why[256];
	int64_t now = now_ms();
	int rc;

	if ((rc = members_list(n, &v, &count, name, sizeof(name))) != 0 ||
	    (rc = peers_list(n, &pi, &npeers)) != 0) {
		ctlconn__error(c, rc, "cannot list the members: %s", lcf_strerror(rc));
		goto out;
	}
	mi = xcalloc(count ? count : 1, sizeof(*mi));
	ptrs = xcalloc(count ? count : 1, sizeof(*ptrs));
	for (i = 0; i < count; i++) {
		struct member_info *m = &v[i];
		Lcf__MemberInfo *o = &mi[i];
		struct newest nw = { 0 };
		uint64_t last;

		if ((rc = store_last_seq(n->store, m->city, &last)) != 0) {
			ctlconn__error(c, rc, "cannot read the records of a member: "
			    "%s (see the node's log)", lcf_strerror(rc));
			goto out;
		}
		lcf__member_info__init(o);
		o->has_id = 1;
		o->id.data = m->city;
		o->id.len = 32;
		o->name = m->name[0] ? m->name : NULL;
		o->country = m->country[0] ? m->country : NULL;
		if (m->admitted) {
			o->has_admitted_ms = 1;
			o->admitted_ms = m->admitted_ms;
			o->has_expires_ms = 1;
			o->expires_ms = m->expires_ms;
		}
		o->has_revoked = 1;
		o->revoked = m->revoked;
		if (m->revoked) {
			o->has_revoked_ms = 1;
			o->revoked_ms = m->revoked_ms;
			o->reason = m->reason;
		}
		o->has_self = 1;
		o->self = memcmp(m->city, n->id->pk, 32) == 0;
		o->has_observer = 1;
		o->observer = m->observer;
		o->has_valid = 1;
		o->valid = members_link_ok(n, m->city, why, sizeof(why)) == 0;
		o->has_forks = 1;
		o->forks = store_author_forks(n->store, m->city);
		o->has_held = 1;
		o->held = held_of(n, m->city);
		if (m->has_successor) {
			o->has_successor = 1;
			o->successor.data = m->successor;
			o->successor.len = 32;
		}
		if (m->has_predecessor) {
			o->has_predecessor = 1;
			o->predecessor.data = m->predecessor;
			o->predecessor.len = 32;
		}
		if (last > 0)
			store_scan_author(n->store, m->city, last, NULL, last,
			    newest_visit, &nw);
		o->has_reachable = 1;
		o->reachable = o->self;
		if (o->self)
			nw.ms = now;
		for (k = 0; k < npeers; k++) {
			if (!pi[k].has_id || memcmp(pi[k].id, m->city, 32) != 0)
				continue;
			if (pi[k].state == PEER_CONNECTED) {
				o->reachable = 1;
				nw.ms = now;
			} else if (pi[k].last_handshake_ms > nw.ms) {
				nw.ms = pi[k].last_handshake_ms;
			}
		}
		if (nw.ms > 0) {
			o->has_last_seen_ms = 1;
			o->last_seen_ms = nw.ms;
		}
		ptrs[i] = o;
	}
	if (n->cfg.has_federation) {
		mr.has_federation = 1;
		mr.federation.data = n->cfg.federation;
		mr.federation.len = 32;
		mr.federation_name = name[0] ? name : NULL;
	}
	mr.members = ptrs;
	mr.n_members = count;
	resp.reply_case = LCF__CTL_RESPONSE__REPLY_MEMBERS;
	resp.members = &mr;
	ctlconn__send(c, &resp, 0);
out:
	ctlconn__done(c);
	free(ptrs);
	free(mi);
	free(pi);
	free(v);
}

/* ---- health ---- */

void
ctlfed__health(struct ctl_conn *c)
{
	struct node *n = c->ctl->n;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__HealthReply hr = LCF__HEALTH_REPLY__INIT;
	struct health h;
	char *reasons[HEALTH_REASONS_MAX];
	size_t i;

	health_check(n, http_problem(n->http), &h);
	for (i = 0; i < h.nreasons; i++)
		reasons[i] = h.reasons[i];
	hr.has_state = hr.has_ready = hr.has_store_open = 1;
	hr.state = h.state;
	hr.ready = h.ready;
	hr.reasons = reasons;
	hr.n_reasons = h.nreasons;
	hr.store_open = h.store_open;
	hr.has_peers_configured = hr.has_peers_connected = 1;
	hr.peers_configured = h.peers_configured;
	hr.peers_connected = h.peers_connected;
	hr.has_sync_running = hr.has_sync_records = hr.has_catching_up = 1;
	hr.sync_running = h.sync_running;
	hr.sync_records = h.sync_records;
	hr.catching_up = h.catching_up;
	hr.http_listen = h.http_listen;
	hr.http_problem = h.http_problem[0] != '\0' ? h.http_problem : NULL;
	hr.has_federation = hr.has_member = 1;
	hr.federation = h.federation;
	hr.member = h.member;
	hr.store_full = (char *)space_full_name(h.store_full);
	resp.reply_case = LCF__CTL_RESPONSE__REPLY_HEALTH;
	resp.health = &hr;
	ctlconn__send(c, &resp, 0);
	ctlconn__done(c);
}
