// SPDX-License-Identifier: Apache-2.0
// The node's admin socket: DIR/admin.sock, owner-only, framed protobuf.
//
// Every connection is checked with SO_PEERCRED before anything is read: only the
// node's own user may talk to it. Requests on one connection are served one at a
// time, in order; long work (publish, verify) runs in the thread pool and export
// streams chunk by chunk, each produced when the previous one has been written.
// An import streams the other way: its chunks are handed to an import session
// (import.c) without waiting for each to be answered, and reading stops while
// the session holds all the chunks it works on at once.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <uv.h>

#include "base/addr.h"
#include "model/catalog.h"
#include "model/kinds.h"
#include "base/codes.h"
#include "admin/control.h"
#include "admin/ctlint.h"
#include "wire/ctlwire.h"
#include "base/error.h"
#include "model/identity.h"
#include "write/import.h"
#include "base/log.h"
#include "write/ingest.h"
#include "core/lineage.h"
#include "core/member.h"
#include "core/node.h"
#include "http/http.h"
#include "view/city.h"
#include "view/records.h"
#include "view/view.h"
#include "core/seq.h"
#include "net/restwatch.h"
#include "write/held.h"
#include "net/peer.h"
#include "write/publish.h"
#include "model/record.h"
#include "store/store.h"
#include "store/walk.h"
#include "net/sync.h"
#include "base/util.h"
#include "base/version.h"
#include "base/xmalloc.h"

#define EXPORT_CHUNK 1000
#define VERIFY_MAX_IDS 1000
#define QUERY_DEFAULT_LIMIT 50
/* Most records one query answers: a query is served on the loop, so a larger
 * answer would stall every other client; `export` streams everything. */
#define QUERY_MAX_LIMIT 10000

static void serve_next(struct ctl_conn *c);
static void export_chunk(struct ctl_conn *c);
static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b);

/* ---- record items ---- */

struct city_cache {
	uint8_t author[32];
	char *name;
	char *country;
};

struct item_list {
	struct node *n;
	struct lineage *lin;         /* key successions, owned */
	Lcf__RecordItem **items;
	size_t count, cap;
	struct city_cache cities[64];
	size_t ncities;
	int skip_deleted;
	int skip_shadowed;           /* versions a later key of the city replaced */
};

static int
city_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct city_cache *cc = arg;
	struct record rec;

	(void)id;
	if (record_open(raw, len, 0, &rec) != 0)
		return 0;
	if (!rec.c->deleted && rec.c->city != NULL) {
		if (rec.c->city->name != NULL)
			cc->name = xstrdup(rec.c->city->name);
		if (rec.c->city->country != NULL)
			cc->country = xstrdup(rec.c->city->country);
	}
	record_release(&rec);
	return 0;
}

static struct city_cache *
city_of(struct item_list *l, const uint8_t author[32])
{
	struct city_cache *cc;
	size_t i;

	for (i = 0; i < l->ncities; i++)
		if (memcmp(l->cities[i].author, author, 32) == 0)
			return &l->cities[i];
	if (l->ncities == sizeof(l->cities) / sizeof(l->cities[0])) {
		free(l->cities[0].name);
		free(l->cities[0].country);
		memmove(&l->cities[0], &l->cities[1],
		    (l->ncities - 1) * sizeof(l->cities[0]));
		l->ncities--;
	}
	cc = &l->cities[l->ncities++];
	memset(cc, 0, sizeof(*cc));
	memcpy(cc->author, author, 32);
	store_get_current(l->n->store, author, LCF__KIND__KIND_CITY, "profile",
	    city_visit, cc);
	return cc;
}

/* Names the record's city: a key that handed over belongs to the city of
 * the newest key of its line, under that key's profile when it has one. */
static void
item_city(struct item_list *l, Lcf__RecordItem *it, const Lcf__Content *c)
{
	struct city_cache *cc;
	uint8_t head[32];
	const char *st;

	lineage_head(l->lin, c->author.data, head);
	st = view_city_state(l->n, head);
	if (strcmp(st, "revoked") == 0 || strcmp(st, "expired") == 0)
		it->membership = xstrdup(st);
	if (memcmp(head, c->author.data, 32) != 0) {
		it->has_city_id = 1;
		it->city_id.data = xmalloc(32);
		it->city_id.len = 32;
		memcpy(it->city_id.data, head, 32);
		cc = city_of(l, head);
		if (cc->name != NULL) {
			it->city_name = xstrdup(cc->name);
			if (cc->country != NULL)
				it->city_country = xstrdup(cc->country);
			return;
		}
	}
	cc = city_of(l, c->author.data);
	if (cc->name != NULL)
		it->city_name = xstrdup(cc->name);
	if (cc->country != NULL)
		it->city_country = xstrdup(cc->country);
}

static int
item_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct item_list *l = arg;
	Lcf__RecordItem *it;
	Lcf__SignedRecord *sr;
	Lcf__Content *c;

	if ((sr = lcf__signed_record__unpack(NULL, len, raw)) == NULL)
		return 0;
	if (!sr->has_content || (c = lcf__content__unpack(NULL, sr->content.len,
	    sr->content.data)) == NULL) {
		lcf__signed_record__free_unpacked(sr, NULL);
		return 0;
	}
	if ((l->skip_deleted && c->deleted) || (l->skip_shadowed &&
	    !lineage_empty(l->lin) && lineage_shadowed(l->lin, l->n->store, c))) {
		lcf__content__free_unpacked(c, NULL);
		lcf__signed_record__free_unpacked(sr, NULL);
		return 0;
	}
	it = xmalloc(sizeof(*it));
	lcf__record_item__init(it);
	it->has_id = 1;
	it->id.data = xmalloc(32);
	memcpy(it->id.data, id, 32);
	it->id.len = 32;
	it->record = sr;
	if (c->has_author && c->author.len == 32)
		item_city(l, it, c);
	/* Values against ids outside the catalog in force are kept (they came
	 * from another network, or an older catalog) and flagged. */
	if (c->body_case == LCF__CONTENT__BODY_INDICATOR &&
	    c->indicator->indicator != NULL &&
	    catalog_find(l->n->catalog, c->indicator->indicator) == NULL) {
		it->has_unknown_indicator = 1;
		it->unknown_indicator = 1;
	}
	lcf__content__free_unpacked(c, NULL);
	if (l->count == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->items = xreallocarray(l->items, l->cap, sizeof(*l->items));
	}
	l->items[l->count++] = it;
	return 0;
}

static void
item_list_init(struct item_list *l, struct node *n)
{
	memset(l, 0, sizeof(*l));
	l->n = n;
	l->lin = lineage_snapshot(n);
}

static void
item_list_free(struct item_list *l)
{
	size_t i;

	lineage_free(l->lin);

	for (i = 0; i < l->count; i++)
		lcf__record_item__free_unpacked(l->items[i], NULL);
	for (i = 0; i < l->ncities; i++) {
		free(l->cities[i].name);
		free(l->cities[i].country);
	}
	free(l->items);
}

static void
send_items(struct ctl_conn *c, struct item_list *l, int truncated, int more)
{
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__QueryReply qr = LCF__QUERY_REPLY__INIT;

	qr.items = l->items;
	qr.n_items = l->count;
	qr.has_truncated = 1;
	qr.truncated = truncated;
	resp.reply_case = LCF__CTL_RESPONSE__REPLY_QUERY;
	resp.query = &qr;
	resp.has_more = more;
	resp.more = more;
	ctlconn__send(c, &resp, more ? SEND_THEN_EXPORT : SEND_THEN_NOTHING);
}

/* ---- handlers ---- */

/* The reasons of core/counters.h's handshakes, by COUNTERS_HS_*. */
#define HS_REASON(name, result, reason) reason,
static const char *const hs_reasons[] = { COUNTERS_HANDSHAKES(HS_REASON) };

/* A full store's fields of the status (core/space.h); msg holds the
 * message the reply points to. */
static void
status_space(struct node *n, Lcf__StatusReply *st, char *msg, size_t len)
{
	const struct space_state *sp = &n->space;
	uint64_t now = mono_ms();

	st->has_space_refused_sync = st->has_space_refused_push = 1;
	st->has_space_refused_node = 1;
	st->space_refused_sync = sp->refused_sync;
	st->space_refused_push = sp->refused_push;
	st->space_refused_node = sp->refused_node;
	if (sp->full == SPACE_OK)
		return;
	space_describe(n, msg, len);
	st->store_full = (char *)space_full_name(sp->full);
	st->store_full_message = msg;
	st->has_store_full_since_ms = st->has_store_full_probe_in_ms = 1;
	st->store_full_since_ms = (uint64_t)sp->since_ms;
	st->store_full_probe_in_ms = sp->probe_at > now ? sp->probe_at - now : 0;
}

static void
do_status(struct ctl_conn *c)
{
	struct node *n = c->ctl->n;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__StatusReply st = LCF__STATUS_REPLY__INIT;
	Lcf__KindCount kc[KINDS_LIMIT], *kcp[KINDS_LIMIT];
	Lcf__ReasonCount why_n[COUNTERS_HS_N], *why_p[COUNTERS_HS_N];
	const struct kinds_def *kd;
	struct store_stats ss;
	struct peers_summary ps;
	struct item_list l;
	struct city_cache *cc;
	uint64_t running, synced;
	struct sync_progress_info prog;
	char listen[300], why[256], rmsg[700], clock[320], full_msg[512];
	Lcf__RestoreStatus rs = LCF__RESTORE_STATUS__INIT;
	struct restwatch_progress rpg;
	size_t i, nk = 0;
	int rc;

	if ((rc = store_stats(n->store, &ss)) != 0) {
		ctlconn__error(c, rc, "cannot read database statistics: %s",
		    lcf_strerror(rc));
		return;
	}
	item_list_init(&l, n);
	cc = city_of(&l, n->id->pk);
	st.has_city_id = 1;
	st.city_id.data = n->id->pk;
	st.city_id.len = 32;
	st.city_name = cc->name;
	st.version = LCF_VERSION;
	st.has_uptime_ms = 1;
	st.uptime_ms = mono_ms() - n->started_mono;
	st.has_started_ms = 1;
	st.started_ms = (uint64_t)n->started_ms;
	st.has_db_size = 1;
	st.db_size = ss.used_bytes;
	st.has_db_map_size = 1;
	st.db_map_size = ss.map_size;
	st.has_records_total = 1;
	st.records_total = ss.records;
	st.has_forks = 1;
	st.forks = ss.forks;
	st.has_records_quarantined = store_quarantine_list(n->store, 0, NULL,
	    NULL, &st.records_quarantined) == 0;
	st.has_authors = 1;
	st.authors = ss.authors;
	st.has_last_seq = 1;
	st.last_seq = seq_next(n) - 1;
	st.data_dir = n->cfg.dir;
	peers_summary(n, &ps);
	sync_progress(n, &running, &synced);
	st.has_peers_known = st.has_peers_connected = 1;
	st.peers_known = ps.known;
	st.peers_connected = ps.connected;
	st.has_sync_running = st.has_sync_records = 1;
	st.sync_running = running;
	st.sync_records = synced;
	sync_progress_get(n, &prog);
	if (prog.running > 0) {
		st.has_sync_expected = st.has_sync_stored = 1;
		st.has_sync_remaining = st.has_sync_started_ms = 1;
		st.sync_expected = prog.expected;
		st.sync_stored = prog.stored;
		st.sync_remaining = prog.remaining;
		st.sync_started_ms = (uint64_t)prog.started_ms;
		st.has_sync_eta_ms = prog.has_eta;
		st.sync_eta_ms = prog.eta_ms;
	}
	st.has_refused_connections = 1;
	st.refused_connections = ps.refused_connections;
	st.has_dead_links = 1;
	st.dead_links = ps.dead_links;
	for (i = 0; i < COUNTERS_HS_N; i++) {
		if (ps.refused_by[i] == 0)
			continue;
		lcf__reason_count__init(&why_n[st.n_refused_by_reason]);
		why_n[st.n_refused_by_reason].reason = (char *)hs_reasons[i];
		why_n[st.n_refused_by_reason].has_count = 1;
		why_n[st.n_refused_by_reason].count = ps.refused_by[i];
		why_p[st.n_refused_by_reason] = &why_n[st.n_refused_by_reason];
		st.n_refused_by_reason++;
	}
	st.refused_by_reason = why_p;
	st.has_peers_queued_bytes = st.has_peer_queue_full = 1;
	st.has_peers_queue_full = st.has_peers_stalled = st.has_offenders = 1;
	st.peers_queued_bytes = ps.queued_bytes;
	st.peer_queue_full = ps.peer_queue_full;
	st.peers_queue_full = ps.peers_queue_full;
	st.peers_stalled = ps.stalled;
	st.offenders = ps.offenders;
	st.has_receive_queued_bytes = st.has_receive_queue_full = 1;
	st.has_receive_waiting_links = 1;
	st.receive_queued_bytes = ps.receive_bytes;
	st.receive_queue_full = ps.receive_full;
	st.receive_waiting_links = ps.receive_waiting;
	if (clockwatch_say(&n->clock, now_ms(), clock, sizeof(clock)))
		st.clock_warning = clock;

	status_space(n, &st, full_msg, sizeof(full_msg));
	st.has_ingest_records = st.has_ingest_transactions = 1;
	ingest_counts(n, &st.ingest_records, &st.ingest_transactions);
	addr_format(listen, sizeof(listen), n->cfg.listen_host,
	    ps.listen_port ? ps.listen_port : n->cfg.listen_port);
	st.listen = listen;
	st.http = (char *)http_url(n->http);
	st.http_problem = (char *)http_problem(n->http);
	if (members_enabled(n)) {
		st.membership = members_link_ok(n, n->id->pk, why, sizeof(why)) == 0 ?
		    "member" : why;
		/* An admission dated ahead of a clock that is behind was
		 * refused with the rest: say where to look. */
		if (st.membership == why && st.clock_warning != NULL)
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
			    " (records were refused as dated ahead of this node's "
			    "clock: see Clock)");
		st.has_held_records = st.has_held_cities = 1;
		held_counts(n, &st.held_records, &st.held_cities);
	}
	/* A city's own kinds always, the others once there is one. */
	for (i = 0; (kd = kinds_at(i)) != NULL; i++) {
		if (!(kd->flags & KINDS_CONTENT) && ss.kinds[kd->kind].current == 0)
			continue;
		lcf__kind_count__init(&kc[nk]);
		kc[nk].has_kind = 1;
		kc[nk].kind = kd->kind;
		kc[nk].has_current = 1;
		kc[nk].current = ss.kinds[kd->kind].current - ss.kinds[kd->kind].deleted;
		kc[nk].has_deleted = 1;
		kc[nk].deleted = ss.kinds[kd->kind].deleted;
		kcp[nk] = &kc[nk];
		nk++;
	}
	st.kinds = kcp;
	st.n_kinds = nk;
	if (restore_active(n)) {
		ctlsafe__restore_status(n, &rs, rmsg, sizeof(rmsg), &rpg);
		st.restore = &rs;
	}
	resp.reply_case = LCF__CTL_RESPONSE__REPLY_STATUS;
	resp.status = &st;
	ctlconn__send(c, &resp, 0);
	item_list_free(&l);
	ctlconn__done(c);
}

/* A failed publish or import as an error response; msg holds its text. */
static void
publish_error(Lcf__CtlResponse *resp, const struct publish_result *res,
    char *msg, size_t msglen)
{
	resp->has_error = 1;
	resp->error = res->error;
	resp->has_error_index = 1;
	resp->error_index = res->error_index;
	if (res->error_index >= 0) {
		resp->error_field = (char *)res->verr.field;
		snprintf(msg, msglen, "%s", res->verr.msg);
	} else {
		snprintf(msg, msglen, "%s", res->message[0] ? res->message :
		    lcf_strerror(res->error));
	}
	resp->message = msg;
}

/* The counts of a publish or import that succeeded, into pr. */
static void
publish_counts(Lcf__PublishReply *pr, const struct publish_result *res)
{
	pr->has_first_seq = 1;
	pr->first_seq = res->first_seq;
	pr->has_stored = 1;
	pr->stored = res->stored;
	pr->has_unchanged = 1;
	pr->unchanged = res->unchanged;
}

static void
publish_done(void *arg, const struct publish_result *res)
{
	struct ctl_conn *c = arg;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__PublishReply pr = LCF__PUBLISH_REPLY__INIT;
	ProtobufCBinaryData *ids = NULL;
	size_t i, count;
	char msg[700];

	if (ctlconn__op_end(c))
		return;
	count = c->req->publish->n_drafts;
	if (res->error != 0) {
		publish_error(&resp, res, msg, sizeof(msg));
	} else {
		ids = xcalloc(count, sizeof(*ids));
		for (i = 0; i < count; i++) {
			ids[i].data = res->ids[i];
			ids[i].len = 32;
		}
		pr.ids = ids;
		pr.n_ids = count;
		publish_counts(&pr, res);
		resp.reply_case = LCF__CTL_RESPONSE__REPLY_PUBLISH;
		resp.publish = &pr;
	}
	ctlconn__send(c, &resp, 0);
	free(ids);
	ctlconn__done(c);
}

static void
do_publish(struct ctl_conn *c)
{
	Lcf__PublishRequest *p = c->req->publish;
	char why[256], msg[800];
	int rc;

	if (p->n_drafts == 0) {
		ctlconn__error(c, LCF_EINVAL, "nothing to publish");
		ctlconn__done(c);
		return;
	}
	/* A dry run too: it would wait for a turn that the restore holds. */
	if (ctlsafe__publish_refused(c->ctl->n, msg, sizeof(msg))) {
		ctlconn__error(c, LCF_EBUSY, "%s", msg);
		ctlconn__done(c);
		return;
	}
	if (!p->dry_run && members_self_check(c->ctl->n, why, sizeof(why)) != 0) {
		ctlconn__error(c, LCF_EPERM, "cannot publish: %s", why);
		ctlconn__done(c);
		return;
	}
	c->ops++;
	rc = publish_submit(c->ctl->n, p->drafts, p->n_drafts, p->dry_run,
	    publish_done, c);
	if (rc != 0) {
		c->ops--;
		ctlconn__error(c, rc, "cannot publish: %s", lcf_strerror(rc));
		ctlconn__done(c);
	}
}

/* The import's one answer. On an error the connection ends with it: chunks the
 * client sent meanwhile are not read. */
static void
import_done(void *arg, const struct publish_result *res)
{
	struct ctl_conn *c = arg;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__PublishReply pr = LCF__PUBLISH_REPLY__INIT;
	char msg[700];

	c->import = NULL;
	c->ops--;
	if (res->error != 0) {
		publish_error(&resp, res, msg, sizeof(msg));
		if (c->reading)
			uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = 0;
		c->ending = 1;
		ctlconn__send(c, &resp, SEND_THEN_CLOSE);
		return;
	}
	publish_counts(&pr, res);
	resp.reply_case = LCF__CTL_RESPONSE__REPLY_PUBLISH;
	resp.publish = &pr;
	ctlconn__send(c, &resp, 0);
	/* The request held is the last chunk's. */
	ctlconn__done(c);
}

/* The session can take another chunk: read again. */
static void
import_room(void *arg)
{
	struct ctl_conn *c = arg;

	if (c->closed)
		return;
	/* Unless it waits for room among the others' (ctlbound.c). */
	if (!c->reading && c->held_since == 0 &&
	    uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb) == 0)
		c->reading = 1;
	serve_next(c);
}

static void
do_import_chunk(struct ctl_conn *c)
{
	Lcf__ImportChunk *ic = c->req->import_chunk;
	uint8_t *data = NULL;
	size_t len = 0;
	int last = ic->has_last && ic->last;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	char why[256], msg[800];
	int restoring = c->import == NULL &&
	    ctlsafe__publish_refused(c->ctl->n, msg, sizeof(msg));

	if (c->import == NULL && (restoring || members_self_check(c->ctl->n,
	    why, sizeof(why)) != 0)) {
		/* Like any refused import: one answer, then the connection ends. */
		if (!restoring)
			snprintf(msg, sizeof(msg), "cannot publish: %s", why);
		resp.has_error = 1;
		resp.error = restoring ? LCF_EBUSY : LCF_EPERM;
		resp.message = msg;
		if (c->reading)
			uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = 0;
		c->ending = 1;
		ctlconn__send(c, &resp, SEND_THEN_CLOSE);
		return;
	}
	if (c->import == NULL) {
		c->ops++;
		c->import = import_begin(c->ctl->n, import_done, import_room, c);
	}
	/* The chunk's bytes go to the session as they are. */
	if (ic->has_drafts && ic->drafts.len > 0) {
		data = ic->drafts.data;
		len = ic->drafts.len;
	}
	ic->has_drafts = 0;
	ic->drafts.data = NULL;
	ic->drafts.len = 0;
	if (import_chunk(c->import, data, len, ic->has_count ? ic->count : 0,
	    last) != 0)
		return;       /* import_done has answered */
	/* Chunks are not answered: the last one is, when the import ends. */
	if (!last)
		ctlconn__done(c);
}

/* The search fields of a query (lang, sdgs, since, sort) into sq: 0, or an
 * error answered. */
static int
query_search(struct ctl_conn *c, const Lcf__QueryRequest *q, struct store_query *sq)
{
	size_t i;

	if (q->lang != NULL && !code_bcp47_valid(q->lang)) {
		ctlconn__error(c, LCF_EINVAL, "lang '%s' is not a BCP 47 language "
		    "tag, such as sv or pt-BR", q->lang);
		return LCF_EINVAL;
	}
	sq->lang = q->lang;
	if (q->n_sdgs > STORE_MAX_TERMS) {
		ctlconn__error(c, LCF_EINVAL, "at most %d sdgs in one query",
		    STORE_MAX_TERMS);
		return LCF_EINVAL;
	}
	for (i = 0; i < q->n_sdgs; i++) {
		if (q->sdgs[i] < 1 || q->sdgs[i] > 17) {
			ctlconn__error(c, LCF_EINVAL, "sdg %u is not a Sustainable "
			    "Development Goal: 1 to 17", q->sdgs[i]);
			return LCF_EINVAL;
		}
		sq->sdgs[sq->nsdgs++] = q->sdgs[i];
	}
	if (q->since != NULL && !store_since_valid(q->since)) {
		ctlconn__error(c, LCF_EINVAL, "since '%s' is not a date "
		    "YYYY-MM-DD", q->since);
		return LCF_EINVAL;
	}
	sq->since = q->since;
	if ((sq->sort = store_sort_parse(q->sort, q->text)) < 0) {
		ctlconn__error(c, LCF_EINVAL, "sort '%s' is not an order: "
		    "relevance or newest", q->sort);
		return LCF_EINVAL;
	}
	return 0;
}

static void
do_query(struct ctl_conn *c)
{
	Lcf__QueryRequest *q = c->req->query;
	struct store_query sq;
	struct item_list l;
	struct view_keep kc;
	uint8_t author[32], line[LINEAGE_MAX][32];
	char err[STORE_ERROR_MAX] = "";
	int truncated = 0, rc;
	size_t i, nline;

	memset(&sq, 0, sizeof(sq));
	item_list_init(&l, c->ctl->n);
	sq.kind = q->has_kind ? q->kind : LCF__KIND__KIND_PRACTICE;
	if (q->n_areas > STORE_MAX_TERMS || q->n_clusters > STORE_MAX_TERMS) {
		ctlconn__error(c, LCF_EINVAL, "at most %d areas and %d clusters in one query",
		    STORE_MAX_TERMS, STORE_MAX_TERMS);
		goto out;
	}
	/* A filter that cannot match is the client's mistake: say so. */
	for (i = 0; i < q->n_areas; i++) {
		if (!code_subarea_valid(q->areas[i])) {
			ctlconn__error(c, LCF_EINVAL, "area '%s' is not a KFLC sub-area: "
			    "one of %s", q->areas[i], code_subarea_list());
			goto out;
		}
	}
	for (i = 0; i < q->n_clusters; i++) {
		if (!code_cluster_valid(q->clusters[i])) {
			ctlconn__error(c, LCF_EINVAL, "cluster '%s' is not a cluster: one "
			    "of %s", q->clusters[i], code_cluster_list());
			goto out;
		}
	}
	if (q->country != NULL && !code_country_valid(q->country)) {
		ctlconn__error(c, LCF_EINVAL, "country '%s' is not an ISO 3166-1 "
		    "alpha-2 code in capitals, such as SE", q->country);
		goto out;
	}
	for (i = 0; i < q->n_areas; i++)
		sq.areas[i] = q->areas[i];
	sq.nareas = q->n_areas;
	for (i = 0; i < q->n_clusters; i++)
		sq.clusters[i] = q->clusters[i];
	sq.nclusters = q->n_clusters;
	sq.country = q->country;
	if (query_search(c, q, &sq) != 0)
		goto out;
	sq.text = q->text;
	sq.indicator = q->indicator;
	sq.period = q->period;
	sq.include_deleted = q->include_deleted;
	l.skip_deleted = !q->include_deleted;
	sq.limit = q->has_limit ? q->limit : QUERY_DEFAULT_LIMIT;
	if (sq.limit == 0 || sq.limit > QUERY_MAX_LIMIT)
		sq.limit = QUERY_MAX_LIMIT;
	if (q->city != NULL) {
		if (ctlconn__resolve_city(c, q->city, author) != 0)
			goto out;
		/* Any key of a city stands for every key of its line. */
		nline = lineage_line(l.lin, author, line);
		sq.author = line[0];
		sq.authors = (const uint8_t (*)[32])line + 1;
		sq.nauthors = nline - 1;
	}
	/* Records of revoked cities stay stored but out of sight; records a
	 * later key of their city replaced are shown once, as that key's. */
	memset(&kc, 0, sizeof(kc));
	kc.n = c->ctl->n;
	kc.lin = l.lin;
	kc.revoked = !q->include_revoked && members_any_revoked(c->ctl->n);
	/* An observer is no city (PROTOCOL 5.8): what it signs is listed
	 * only when asked for by its id. */
	kc.observers = q->city == NULL && members_any_observer(c->ctl->n);
	if (kc.revoked || kc.observers || !lineage_empty(l.lin)) {
		sq.keep = view_records_keep;
		sq.keep_arg = &kc;
	}
	sq.error = err;
	rc = store_query(c->ctl->n->store, &sq, item_visit, &l, &truncated);
	view_keep_drop(&kc);
	if (rc == LCF_EINVAL) {
		ctlconn__error(c, rc, "text: %s", err);
		goto out;
	}
	if (rc != 0) {
		ctlconn__error(c, rc, "query failed: %s", lcf_strerror(rc));
		goto out;
	}
	send_items(c, &l, truncated, 0);
out:
	item_list_free(&l);
	ctlconn__done(c);
}

static void
do_get(struct ctl_conn *c)
{
	Lcf__GetRequest *g = c->req->get;
	struct node *n = c->ctl->n;
	struct item_list l;
	uint8_t author[32], id[32], line[LINEAGE_MAX][32];
	size_t nline;
	int rc = LCF_ENOTFOUND;

	item_list_init(&l, n);
	if (g->ref == NULL || g->ref[0] == '\0') {
		ctlconn__error(c, LCF_EINVAL, "no record id or key given");
		goto out;
	}
	memcpy(author, n->id->pk, 32);
	if (g->city != NULL && ctlconn__resolve_city(c, g->city, author) != 0)
		goto out;
	/* By key: the newest key of the city's line that holds it wins. */
	if (g->has_kind) {
		nline = lineage_line(l.lin, author, line);
		while (rc == LCF_ENOTFOUND && nline-- > 0)
			rc = store_get_current(n->store, line[nline], g->kind,
			    g->ref, item_visit, &l);
	}
	if (rc == LCF_ENOTFOUND && hex_is_prefix(g->ref)) {
		if (strlen(g->ref) < 6) {
			ctlconn__error(c, LCF_EINVAL, "record id prefix '%s' is too short: give "
			    "at least 6 hex digits", g->ref);
			goto out;
		}
		rc = store_resolve_id(n->store, g->ref, id);
		if (rc == 0)
			rc = store_get(n->store, id, item_visit, &l);
	}
	if (rc == 0 && g->has_kind && l.count == 1) {
		Lcf__Content *ct = lcf__content__unpack(NULL,
		    l.items[0]->record->content.len, l.items[0]->record->content.data);

		if (ct != NULL && ct->kind != g->kind)
			rc = LCF_ENOTFOUND;
		lcf__content__free_unpacked(ct, NULL);
	}
	if (rc == LCF_EAMBIGUOUS)
		ctlconn__error(c, rc, "'%s' matches several records: give more digits",
		    g->ref);
	else if (rc == LCF_ENOTFOUND)
		ctlconn__error(c, rc, "no record '%s' here (give a record id, a unique prefix "
		    "of at least 6 hex digits, or this city's key)", g->ref);
	else if (rc != 0)
		ctlconn__error(c, rc, "cannot read '%s': %s", g->ref, lcf_strerror(rc));
	else
		send_items(c, &l, 0, 0);
out:
	item_list_free(&l);
	ctlconn__done(c);
}

static void
export_chunk(struct ctl_conn *c)
{
	struct store_scan_filter f = { NULL, c->export_kinds };
	struct item_list l;
	int done = 0, rc;

	if (c->export_nline > 0)
		f.author = c->export_line[c->export_at];
	item_list_init(&l, c->ctl->n);
	l.skip_deleted = !c->export_deleted;
	l.skip_shadowed = 1;
	rc = store_scan_current(c->ctl->n->store, &f, c->cursor, &c->cursor_len,
	    EXPORT_CHUNK, &done, item_visit, &l);
	/* One key of the city's line walked: on to the next. */
	if (rc == 0 && done && c->export_at + 1 < c->export_nline) {
		c->export_at++;
		c->cursor_len = 0;
		done = 0;
	}
	if (rc != 0) {
		ctlconn__error(c, rc, "export failed: %s", lcf_strerror(rc));
		done = 1;
	} else {
		send_items(c, &l, 0, !done);
	}
	item_list_free(&l);
	if (done)
		ctlconn__done(c);
}

static void
do_export(struct ctl_conn *c)
{
	const Lcf__ExportRequest *er = c->req->export;
	struct lineage *lin;
	uint8_t author[32];
	size_t i;

	c->cursor_len = 0;
	c->export_deleted = er->include_deleted;
	c->export_kinds = 0;
	c->export_nline = c->export_at = 0;
	for (i = 0; i < er->n_kinds; i++) {
		if (kinds_by_kind(er->kinds[i]) == NULL) {
			ctlconn__error(c, LCF_EINVAL, "kind %d is not a record kind",
			    (int)er->kinds[i]);
			ctlconn__done(c);
			return;
		}
		c->export_kinds |= 1u << er->kinds[i];
	}
	if (er->city != NULL) {
		if (ctlconn__resolve_city(c, er->city, author) != 0) {
			ctlconn__done(c);
			return;
		}
		/* Any key of a city stands for every key of its line. */
		lin = lineage_snapshot(c->ctl->n);
		c->export_nline = lineage_line(lin, author, c->export_line);
		lineage_free(lin);
	}
	export_chunk(c);
}

static int
verify_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct verify_slice *vs = arg;
	struct record rec;
	int ok;

	vs->checked++;
	ok = record_open(raw, len, 1, &rec) == 0 &&
	    memcmp(rec.id, id, 32) == 0;
	record_release(&rec);
	if (!ok) {
		/* Never served again: moved aside, fetched from a peer. */
		store_quarantine_note(vs->conn->ctl->n->store, id,
		    record_check_id(raw, len, id) == 0 ? STORE_QUAR_SIGNATURE :
		    STORE_QUAR_ID);
		vs->failed++;
		if (vs->nids < VERIFY_MAX_IDS) {
			vs->ids = xreallocarray(vs->ids, vs->nids + 1, 32);
			memcpy(vs->ids[vs->nids++], id, 32);
		}
	}
	return 0;
}

static void
verify_work(uv_work_t *w)
{
	struct verify_slice *vs = w->data;

	if (store_scan_all(vs->conn->ctl->n->store, vs->lo, vs->hi, verify_visit,
	    vs) != 0)
		vs->failed = UINT64_MAX;
}

/* The walk of every page and record in a child process (store/walk.h)
 * that every verify starts with: a damaged page that would make LMDB abort
 * in the slices' reads is found there, and the slices do not run. */
struct verify_walk {
	uv_work_t work;
	struct ctl_conn *conn;
	char *dbpath;
	struct store_walk_result r;
	int started;                 /* 0: could not start (r.what says why) */
	int deep;                    /* --deep: the walk's figures are told */
};

static void
verify_walk_free(struct verify_walk *vw)
{
	if (vw == NULL)
		return;
	store_walk_result_free(&vw->r);
	free(vw->dbpath);
	free(vw);
}

/* The quarantined records: failed, listed after the slices' (up to
 * VERIFY_MAX_IDS in all). */
struct quar_list {
	ProtobufCBinaryData *ids;
	size_t n;
	uint8_t (*buf)[32];
};

static int
quar_visit(void *arg, const uint8_t id[32], uint64_t when_ms, int why,
    size_t len)
{
	struct quar_list *ql = arg;

	(void)when_ms;
	(void)why;
	(void)len;
	memcpy(ql->buf[ql->n], id, 32);
	ql->ids[ql->n].data = ql->buf[ql->n];
	ql->ids[ql->n].len = 32;
	ql->n++;
	return 0;
}

/* The walk's part of the reply; vw may be NULL (not --deep). */
static void
verify_deep_reply(Lcf__VerifyReply *vr, const struct verify_walk *vw,
    char *report, size_t size)
{
	if (vw == NULL || (!vw->deep && (!vw->started || vw->r.sound)))
		return;
	vr->has_deep_ok = vr->has_deep_pages = vr->has_deep_records = 1;
	vr->deep_ok = vw->started && vw->r.sound;
	vr->deep_pages = vw->r.pages;
	vr->deep_records = vw->r.records;
	if (!vw->started)
		snprintf(report, size, "the walk could not run: %s", vw->r.what);
	else if (!vw->r.sound)
		snprintf(report, size, "the database is damaged: %s. Stop the node, "
		    "then restore a backup (lcnode -d DIR --restore FILE) or move "
		    "%s aside and rebuild from peers (lcnode -d DIR --new-store)",
		    vw->r.what, vw->dbpath);
	else
		snprintf(report, size, "every page and entry read: %llu pages, "
		    "%llu entries, %llu records hashed, %llu damaged",
		    (unsigned long long)vw->r.pages,
		    (unsigned long long)vw->r.entries,
		    (unsigned long long)vw->r.records,
		    (unsigned long long)vw->r.bad);
	vr->deep_report = report;
	if (!vr->deep_ok)
		log_warnx("verify --deep: %s", report);
}

/* One part (a slice or the walk) is done; the last one answers. */
static void
verify_part_done(struct ctl_conn *c)
{
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__VerifyReply vr = LCF__VERIFY_REPLY__INIT;
	ProtobufCBinaryData *ids = NULL;
	uint8_t (*owned[VERIFY_SLICES])[32];
	struct quar_list ql = { NULL, 0, NULL };
	struct verify_walk *vw;
	char report[900];
	uint64_t held = 0;
	size_t i, j, nids = 0, nlive;
	int broken = 0;

	if (--c->vpending > 0) {
		ctlconn__op_end(c);
		return;
	}
	/* Take the failed-id lists and the walk out of the connection: it
	 * may be freed by conn_op_end, and request_done may start another
	 * verify that reuses the slices. */
	vw = c->vwalk;
	c->vwalk = NULL;
	for (i = 0; i < VERIFY_SLICES; i++) {
		struct verify_slice *s = &c->vslices[i];

		owned[i] = s->ids;
		s->ids = NULL;

		if (s->failed == UINT64_MAX)
			broken = 1;
		vr.checked += s->checked;
		vr.failed += s->failed;
		for (j = 0; j < s->nids && nids < VERIFY_MAX_IDS; j++) {
			ids = xreallocarray(ids, nids + 1, sizeof(*ids));
			ids[nids].data = owned[i][j];
			ids[nids].len = 32;
			nids++;
		}
	}
	if (ctlconn__op_end(c))
		goto out;
	ql.ids = xreallocarray(NULL, VERIFY_MAX_IDS, sizeof(*ql.ids));
	ql.buf = xreallocarray(NULL, VERIFY_MAX_IDS, 32);
	if (broken || store_quarantine_list(c->ctl->n->store, VERIFY_MAX_IDS,
	    quar_visit, &ql, &held) != 0) {
		ctlconn__error(c, LCF_ESTORE, "could not read the whole database (see the "
		    "node's log)");
	} else {
		/* A quarantined record failed too: it counts among them,
		 * once (one the slices found may have been moved aside while
		 * they ran). */
		vr.checked += held;
		vr.failed += held;
		nlive = nids;
		for (i = 0; i < ql.n; i++) {
			for (j = 0; j < nlive; j++)
				if (memcmp(ids[j].data, ql.ids[i].data, 32) == 0)
					break;
			if (j < nlive) {
				vr.checked--;
				vr.failed--;
			} else if (nids < VERIFY_MAX_IDS) {
				ids = xreallocarray(ids, nids + 1, sizeof(*ids));
				ids[nids++] = ql.ids[i];
			}
		}
		vr.has_checked = vr.has_failed = vr.has_quarantined = 1;
		vr.failed_ids = ids;
		vr.n_failed_ids = nids;
		vr.quarantined = held;
		vr.quarantined_ids = ql.ids;
		vr.n_quarantined_ids = ql.n;
		verify_deep_reply(&vr, vw, report, sizeof(report));
		resp.reply_case = LCF__CTL_RESPONSE__REPLY_VERIFY;
		resp.verify = &vr;
		ctlconn__send(c, &resp, 0);
		if (vr.failed)
			log_warnx("verify: %llu of %llu records failed (%llu in "
			    "quarantine)", (unsigned long long)vr.failed,
			    (unsigned long long)vr.checked,
			    (unsigned long long)held);
	}
	ctlconn__done(c);
out:
	free(ids);
	free(ql.ids);
	free(ql.buf);
	verify_walk_free(vw);
	for (i = 0; i < VERIFY_SLICES; i++)
		free(owned[i]);
}

static void
verify_done(uv_work_t *w, int status)
{
	struct verify_slice *vs = w->data;

	(void)status;
	verify_part_done(vs->conn);
}

static void
walk_work(uv_work_t *w)
{
	struct verify_walk *vw = w->data;

	vw->started = store_walk_child(vw->dbpath, &vw->r) == 0;
}

/* The slices check every record's signature and id in the pool. */
static void
verify_slices(struct ctl_conn *c)
{
	size_t i;

	c->vpending += VERIFY_SLICES;
	for (i = 0; i < VERIFY_SLICES; i++) {
		struct verify_slice *vs = &c->vslices[i];

		vs->conn = c;
		vs->lo = (uint8_t)(i * 256 / VERIFY_SLICES);
		vs->hi = (uint8_t)((i + 1) * 256 / VERIFY_SLICES - 1);
		vs->work.data = vs;
		c->ops++;
		uv_queue_work(c->ctl->n->loop, &vs->work, verify_work, verify_done);
	}
}

static void
walk_done(uv_work_t *w, int status)
{
	struct verify_walk *vw = w->data;
	struct ctl_conn *c = vw->conn;

	(void)status;
	/* A walk that could not run leaves the slices to do what they did
	 * before there was one; a damaged store is not read here. */
	if (!c->closed && (!vw->started || vw->r.sound))
		verify_slices(c);
	verify_part_done(c);
}

static void
do_verify(struct ctl_conn *c)
{
	const Lcf__VerifyRequest *rq = c->req->verify;
	struct verify_walk *vw = xcalloc(1, sizeof(*vw));

	memset(c->vslices, 0, sizeof(c->vslices));
	vw->conn = c;
	vw->dbpath = xasprintf("%s/db", c->ctl->n->cfg.dir);
	vw->deep = rq != NULL && rq->deep;
	vw->work.data = vw;
	c->vwalk = vw;
	c->vpending = 1;
	c->ops++;
	uv_queue_work(c->ctl->n->loop, &vw->work, walk_work, walk_done);
}

static void
do_catalog(struct ctl_conn *c)
{
	struct catalog *cat = c->ctl->n->catalog;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__CatalogReply cr = LCF__CATALOG_REPLY__INIT;

	cr.indicators = cat->items;
	cr.n_indicators = cat->n;
	cr.source = cat->source;
	if (cat->federation) {
		cr.has_federation = 1;
		cr.federation.data = cat->fed;
		cr.federation.len = 32;
	}
	resp.reply_case = LCF__CTL_RESPONSE__REPLY_CATALOG;
	resp.catalog = &cr;
	ctlconn__send(c, &resp, 0);
	ctlconn__done(c);
}

static void view_ready(void *arg);

/* A view (view/view.h): the same JSON the HTTP API answers. prepared: the
 * view's first step is done (or it has none). */
static void
view_answer(struct ctl_conn *c, int prepared)
{
	Lcf__ViewRequest *vr = c->req->view;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__ViewReply rep = LCF__VIEW_REPLY__INIT;
	struct view_error e;
	json_error_t je;
	json_t *args;
	char *text = NULL;
	size_t len;
	int rc = 1;

	args = vr->args != NULL ? json_loads(vr->args, 0, &je) : json_object();
	if (vr->name == NULL || args == NULL) {
		ctlconn__error(c, LCF_EINVAL, "a view request needs a name and its "
		    "arguments as a JSON object");
		goto out;
	}
	/* A view that must first wait (a measurement) answers from
	 * view_ready; the connection stays open meanwhile (ops). */
	if (!prepared) {
		c->ops++;
		rc = view_prepare(c->ctl->n, vr->name, args, view_ready, c, &e);
		if (rc == 0) {
			json_decref(args);
			return;
		}
		c->ops--;
	}
	/* Indented as lcctl's render_json prints it: lcctl writes it out as
	 * it comes (its --json). */
	if (rc < 0 || (rc = view_run_text(c->ctl->n, vr->name, args,
	    VIEW_OPERATOR | VIEW_PERSONAL, vr->indent, &text, &len, &e)) != 0) {
		resp.has_error = 1;
		resp.error = rc;
		resp.message = e.msg;
		resp.error_field = e.param[0] != '\0' ? e.param : NULL;
		ctlconn__send(c, &resp, 0);
		goto out;
	}
	rep.json = text;
	rep.has_indented = vr->indent;
	rep.indented = vr->indent;
	resp.reply_case = LCF__CTL_RESPONSE__REPLY_VIEW;
	resp.view = &rep;
	ctlconn__send(c, &resp, 0);
out:
	free(text);
	json_decref(args);
	ctlconn__done(c);
}

static void
view_ready(void *arg)
{
	struct ctl_conn *c = arg;

	if (ctlconn__op_end(c))
		return;
	view_answer(c, 1);
}

static void
do_view(struct ctl_conn *c)
{
	view_answer(c, 0);
}

static void
dispatch(struct ctl_conn *c)
{
	if (c->import != NULL &&
	    c->req->op_case != LCF__CTL_REQUEST__OP_IMPORT_CHUNK) {
		Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;

		import_abort(c->import);
		c->import = NULL;
		c->ops--;
		resp.has_error = 1;
		resp.error = LCF_EPROTO;
		resp.message = "a request in the middle of an import: the import "
		    "is abandoned, nothing stored";
		c->ending = 1;
		ctlconn__send(c, &resp, SEND_THEN_CLOSE);
		return;
	}
	switch (c->req->op_case) {
	case LCF__CTL_REQUEST__OP_IMPORT_CHUNK:
		do_import_chunk(c);
		break;
	case LCF__CTL_REQUEST__OP_STATUS:
		do_status(c);
		break;
	case LCF__CTL_REQUEST__OP_PUBLISH:
		do_publish(c);
		break;
	case LCF__CTL_REQUEST__OP_QUERY:
		do_query(c);
		break;
	case LCF__CTL_REQUEST__OP_GET:
		do_get(c);
		break;
	case LCF__CTL_REQUEST__OP_EXPORT:
		do_export(c);
		break;
	case LCF__CTL_REQUEST__OP_VERIFY:
		do_verify(c);
		break;
	case LCF__CTL_REQUEST__OP_CATALOG:
		do_catalog(c);
		break;
	case LCF__CTL_REQUEST__OP_PEER_ADD:
		ctlfed__peer_add(c);
		break;
	case LCF__CTL_REQUEST__OP_PEER_REMOVE:
		ctlfed__peer_remove(c);
		break;
	case LCF__CTL_REQUEST__OP_PEER_LIST:
		ctlfed__peer_list(c);
		break;
	case LCF__CTL_REQUEST__OP_PEER_SYNC:
		ctlfed__peer_sync(c);
		break;
	case LCF__CTL_REQUEST__OP_SUBMIT:
		ctlfed__submit(c);
		break;
	case LCF__CTL_REQUEST__OP_MEMBERS:
		ctlfed__members(c);
		break;
	case LCF__CTL_REQUEST__OP_VIEW:
		do_view(c);
		break;
	case LCF__CTL_REQUEST__OP_CITY_LIST:
		ctlfed__city_list(c);
		break;
	case LCF__CTL_REQUEST__OP_HEALTH:
		ctlfed__health(c);
		break;
	case LCF__CTL_REQUEST__OP_BACKUP:
		ctlsafe__backup(c);
		break;
	case LCF__CTL_REQUEST__OP_RESTORE_DONE:
		ctlsafe__restore_done(c);
		break;
	default:
		ctlconn__error(c, LCF_EPROTO, "unknown request: this lcnode (%s) may be older "
		    "than lcctl", LCF_VERSION);
		ctlconn__done(c);
		break;
	}
}

/* ---- reading ---- */

/* Takes the next whole frame from the buffer, if any, and serves it. */
/* Takes the next whole frame from the buffer into c->req. Returns 1 when a
 * request is ready to serve, 0 when more bytes are needed or the connection
 * was closed for a bad frame. */
static int
take_request(struct ctl_conn *c)
{
	uint32_t flen;
	Lcf__CtlRequest *req;

	if (c->closed || c->ending || c->req != NULL || c->len < 4)
		return 0;
	/* Room among the answers queued (ctlbound.c), which may close the
	 * clients that leave theirs unread, this one among them. */
	if (!ctlbound__may_serve(c->ctl) || c->closed)
		return 0;
	/* The import holds all the chunks it works on: this one waits. */
	if (c->import != NULL && import_full(c->import))
		return 0;
	flen = get_be32(c->buf);
	if (flen > CTL_MAX_FRAME) {
		log_warnx("control: frame of %u bytes refused", flen);
		ctlconn__close(c);
		return 0;
	}
	if (c->len < 4 + (size_t)flen)
		return 0;
	req = lcf__ctl_request__unpack(NULL, flen, c->buf + 4);
	memmove(c->buf, c->buf + 4 + flen, c->len - 4 - flen);
	c->len -= 4 + (size_t)flen;
	/* A large request's frame is decoded now: give its buffer back rather
	 * than hold it for the connection's life, which would also keep the
	 * large frame's slot from the others (ctlbound.c). */
	if (c->len == 0 && c->cap > (1u << 16)) {
		free(c->buf);
		c->buf = NULL;
		c->cap = 0;
	} else if (c->cap > (16u << 20) && c->len < (1u << 16)) {
		c->cap = 1u << 16;
		c->buf = xreallocarray(c->buf, c->cap, 1);
	}
	ctlbound__took(c);
	if (req == NULL) {
		ctlconn__error(c, LCF_EPROTO, "malformed request");
		ctlconn__close(c);
		return 0;
	}
	if (!req->has_version || req->version != CTL_VERSION) {
		ctlconn__error(c, LCF_EVERSION, "admin protocol version %u is not supported "
		    "(this lcnode speaks %d): use the lcctl of the same release",
		    req->has_version ? req->version : 0, CTL_VERSION);
		lcf__ctl_request__free_unpacked(req, NULL);
		ctlconn__close(c);
		return 0;
	}
	c->req = req;
	return 1;
}

/* Serves buffered requests in order. A loop, not recursion: a handler that
 * answers at once calls request_done, which comes back here; the inner call
 * returns and this loop takes the next request, so a client pipelining many
 * requests cannot grow the stack. */
static void
serve_next(struct ctl_conn *c)
{
	if (c->serving)
		return;
	c->serving = 1;
	while (take_request(c))
		dispatch(c);
	c->serving = 0;
	/* Hold the client back while the import is full: its bytes wait in
	 * the socket, not in the node's memory. */
	if (!c->closed && c->reading && c->import != NULL &&
	    import_full(c->import)) {
		uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = 0;
	}
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct ctl_conn *c = h->data;
	size_t want = suggested < 65536 ? 65536 : suggested;

	if (c->cap - c->len < want) {
		c->cap = c->len + want;
		c->buf = xreallocarray(c->buf, c->cap, 1);
	}
	*b = uv_buf_init((char *)c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void
read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct ctl_conn *c = s->data;

	(void)b;
	if (nread < 0) {
		ctlconn__close(c);
		return;
	}
	c->len += (size_t)nread;
	/* Bound what one client can make the node hold. */
	if (c->len > 4 + (size_t)CTL_MAX_FRAME + 65536) {
		log_warnx("control: client sent more than one frame's worth ahead");
		ctlconn__close(c);
		return;
	}
	/* And what all of them can (ctlbound.c): this one may have to wait
	 * for room; what it sent whole is served all the same. */
	(void)ctlbound__read(c);
	serve_next(c);
}

static int
peer_is_owner(uv_pipe_t *p)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)p, &fd) != 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return 0;
	if (cred.uid != geteuid()) {
		log_warnx("control: refused a connection from uid %u (pid %d): only uid "
		    "%u may manage this node", cred.uid, cred.pid, geteuid());
		return 0;
	}
	return 1;
}

static void
connection_cb(uv_stream_t *server, int status)
{
	struct control *ctl = server->data;
	struct ctl_conn *c;

	if (status < 0) {
		log_warnx("control: accept: %s", uv_strerror(status));
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->ctl = ctl;
	uv_pipe_init(ctl->n->loop, &c->pipe, 0);
	c->pipe.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0 ||
	    !peer_is_owner(&c->pipe) || ctlbound__accept(c) != 0) {
		ctlconn__close(c);
		return;
	}
	c->next = ctl->conns;
	if (c->next != NULL)
		c->next->prevp = &c->next;
	c->prevp = &ctl->conns;
	ctl->conns = c;
	if (uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb) == 0)
		c->reading = 1;
}

/* The server's handles (the socket, ctlbound's timer): the struct goes
 * with the last. */
static void
server_closed(uv_handle_t *h)
{
	struct control *ctl = h->data;

	if (--ctl->handles > 0)
		return;
	free(ctl->path);
	free(ctl);
}

int
control_start(struct node *n, struct control **out, char *err, size_t errlen)
{
	struct control *ctl = xcalloc(1, sizeof(*ctl));
	struct sockaddr_un addr;
	mode_t old;
	int rc, ret = LCF_EIO;

	*out = NULL;
	ctl->n = n;
	ctl->serve = serve_next;
	ctl->export_next = export_chunk;
	ctl->gone = ctlbound__gone;
	ctl->resume = ctlbound__resume;
	ctl->alloc = alloc_cb;
	ctl->read = read_cb;
	ctl->handles = 1;
	ctl->path = xasprintf("%s/%s", n->cfg.dir, CTL_SOCKET_NAME);
	uv_pipe_init(n->loop, &ctl->server, 0);
	ctl->server.data = ctl;
	/* libuv would cut a longer path short and bind the socket somewhere
	 * else (or nowhere): say so instead. */
	if (strlen(ctl->path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "cannot listen on %s: the path is %zu bytes, "
		    "longer than a Unix socket path may be (%zu): use a data "
		    "directory with a shorter path", ctl->path, strlen(ctl->path),
		    sizeof(addr.sun_path) - 1);
		goto out;
	}
	/* The caller holds the directory lock, so a socket file here is stale. */
	unlink(ctl->path);
	/* Create the socket owner-only from the start: no window where others
	 * could connect. */
	old = umask(0077);
	rc = uv_pipe_bind(&ctl->server, ctl->path);
	umask(old);
	if (rc == 0)
		rc = chmod(ctl->path, 0600) == 0 ? 0 : uv_translate_sys_error(errno);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&ctl->server, 16, connection_cb);
	if (rc != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", ctl->path,
		    uv_strerror(rc));
		goto out;
	}
	ctlbound__start(ctl);
	*out = ctl;
	ctl = NULL;
	ret = 0;
out:
	/* The handle is in the loop: its memory goes only in the close
	 * callback, which the caller's shutdown runs. */
	if (ctl != NULL)
		uv_close((uv_handle_t *)&ctl->server, server_closed);
	return ret;
}

void
control_stop(struct control *ctl)
{
	if (ctl == NULL)
		return;
	while (ctl->conns != NULL)
		ctlconn__close(ctl->conns);
	unlink(ctl->path);
	ctlbound__stop(ctl, server_closed);
	uv_close((uv_handle_t *)&ctl->server, server_closed);
}
