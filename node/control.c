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
#include <unistd.h>

#include <uv.h>

#include "catalog.h"
#include "control.h"
#include "ctlwire.h"
#include "error.h"
#include "identity.h"
#include "import.h"
#include "log.h"
#include "ingest.h"
#include "lineage.h"
#include "member.h"
#include "node.h"
#include "peer.h"
#include "publish.h"
#include "record.h"
#include "store.h"
#include "sync.h"
#include "util.h"
#include "version.h"
#include "xmalloc.h"

#define EXPORT_CHUNK 1000
#define VERIFY_SLICES 2
#define VERIFY_MAX_IDS 1000
#define QUERY_DEFAULT_LIMIT 50
/* Most records one query answers: a query is served on the loop, so a larger
 * answer would stall every other client; `export` streams everything. */
#define QUERY_MAX_LIMIT 10000
#define CITY_SCAN_CHUNK 4096
#define NKINDS 9                    /* Lcf__Kind values 0..8 */

struct ctl_conn;

struct control {
	struct node *n;
	uv_pipe_t server;
	char *path;
	struct ctl_conn *conns;
};

struct verify_slice {
	uv_work_t work;
	struct ctl_conn *conn;
	uint8_t lo, hi;
	uint64_t checked, failed;
	uint8_t (*ids)[32];
	size_t nids;
};

struct ctl_conn {
	uv_pipe_t pipe;
	struct control *ctl;
	struct ctl_conn *next, **prevp;
	uint8_t *buf;
	size_t len, cap;
	Lcf__CtlRequest *req;       /* the request being served */
	int ops;                    /* callbacks still to come that use conn */
	int serving;                /* serve_next's loop is running */
	int reading;                /* uv_read_start is in force */
	int ending;                 /* the last answer is on its way: serve no
	                             * more requests */
	int closed;
	/* import: the session this connection feeds (it holds one of ops) */
	struct import *import;
	/* export */
	uint8_t cursor[STORE_CURSOR_MAX];
	size_t cursor_len;
	int export_deleted;
	/* verify */
	struct verify_slice vslices[VERIFY_SLICES];
	int vpending;
};

struct write_req {
	uv_write_t req;
	struct ctl_conn *conn;
	uint8_t *data;
	int then;                   /* SEND_THEN_*: what to do once written */
};

enum {
	SEND_THEN_NOTHING,
	SEND_THEN_EXPORT,           /* produce the next export chunk */
	SEND_THEN_CLOSE,            /* the answer ends the connection */
};

static void serve_next(struct ctl_conn *c);
static void export_chunk(struct ctl_conn *c);
static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b);

/* ---- connection life ---- */

static void
conn_free(struct ctl_conn *c)
{
	if (c->req != NULL)
		lcf__ctl_request__free_unpacked(c->req, NULL);
	free(c->buf);
	free(c);
}

static void
conn_closed(uv_handle_t *h)
{
	struct ctl_conn *c = h->data;

	c->closed = 2;
	if (c->ops == 0)
		conn_free(c);
}

static void
conn_close(struct ctl_conn *c)
{
	if (c->closed)
		return;
	c->closed = 1;
	/* A client that leaves mid-import stores nothing. */
	if (c->import != NULL) {
		import_abort(c->import);
		c->import = NULL;
		c->ops--;
	}
	if (c->prevp != NULL) {
		*c->prevp = c->next;
		if (c->next != NULL)
			c->next->prevp = c->prevp;
		c->prevp = NULL;
	}
	uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

/* Called when an asynchronous step that holds conn ends; returns 1 if the
 * connection is gone (and now freed), so the caller must not touch it. */
static int
conn_op_end(struct ctl_conn *c)
{
	c->ops--;
	if (c->closed) {
		if (c->ops == 0 && c->closed == 2)
			conn_free(c);
		return 1;
	}
	return 0;
}

/* ---- responses ---- */

static void
write_done(uv_write_t *w, int status)
{
	struct write_req *wr = (struct write_req *)w;
	struct ctl_conn *c = wr->conn;
	int then = wr->then;

	free(wr->data);
	free(wr);
	if (conn_op_end(c))
		return;
	if (status < 0 || then == SEND_THEN_CLOSE) {
		conn_close(c);
		return;
	}
	if (then == SEND_THEN_EXPORT)
		export_chunk(c);
}

static void
send_resp(struct ctl_conn *c, Lcf__CtlResponse *resp, int then)
{
	struct write_req *wr;
	uv_buf_t b;
	size_t len;
	uint8_t *data;

	resp->has_version = 1;
	resp->version = CTL_VERSION;
	if (ctlwire_pack(&resp->base, &data, &len) != 0) {
		Lcf__CtlResponse small = LCF__CTL_RESPONSE__INIT;

		small.has_error = 1;
		small.error = LCF_ETOOBIG;
		small.message = "the answer is too large for one message: narrow the query";
		small.has_version = 1;
		small.version = CTL_VERSION;
		if (then == SEND_THEN_EXPORT)
			then = SEND_THEN_NOTHING;
		if (ctlwire_pack(&small.base, &data, &len) != 0)
			return;
	}
	wr = xcalloc(1, sizeof(*wr));
	wr->conn = c;
	wr->data = data;
	wr->then = then;
	b = uv_buf_init((char *)data, (unsigned)len);
	c->ops++;
	if (uv_write(&wr->req, (uv_stream_t *)&c->pipe, &b, 1, write_done) != 0) {
		c->ops--;
		free(data);
		free(wr);
		conn_close(c);
	}
}

static void
send_error(struct ctl_conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
send_error(struct ctl_conn *c, int code, const char *fmt, ...)
{
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	resp.has_error = 1;
	resp.error = code;
	resp.message = msg;
	send_resp(c, &resp, 0);
}

/* The request is answered: release it and serve the next one, if buffered. */
static void
request_done(struct ctl_conn *c)
{
	if (c->req != NULL)
		lcf__ctl_request__free_unpacked(c->req, NULL);
	c->req = NULL;
	serve_next(c);
}

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

	lineage_head(l->lin, c->author.data, head);
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
	if (l->skip_deleted && c->deleted) {
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
	send_resp(c, &resp, more ? SEND_THEN_EXPORT : SEND_THEN_NOTHING);
}

/* ---- handlers ---- */

static void
do_status(struct ctl_conn *c)
{
	struct node *n = c->ctl->n;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__StatusReply st = LCF__STATUS_REPLY__INIT;
	Lcf__KindCount kc[8], *kcp[8];
	struct store_stats ss;
	struct peers_summary ps;
	struct item_list l;
	struct city_cache *cc;
	uint64_t running, synced;
	char listen[300];
	size_t k, nk = 0;
	int rc;

	if ((rc = store_stats(n->store, &ss)) != 0) {
		send_error(c, rc, "cannot read database statistics: %s",
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
	st.has_authors = 1;
	st.authors = ss.authors;
	st.has_last_seq = 1;
	st.last_seq = n->next_seq - 1;
	st.data_dir = n->cfg.dir;
	peers_summary(n, &ps);
	sync_progress(n, &running, &synced);
	st.has_peers_known = st.has_peers_connected = 1;
	st.peers_known = ps.known;
	st.peers_connected = ps.connected;
	st.has_sync_running = st.has_sync_records = 1;
	st.sync_running = running;
	st.sync_records = synced;
	st.has_refused_connections = 1;
	st.refused_connections = ps.refused_connections;
	snprintf(listen, sizeof(listen), strchr(n->cfg.listen_host, ':') != NULL ?
	    "[%s]:%u" : "%s:%u", n->cfg.listen_host,
	    (unsigned)(ps.listen_port ? ps.listen_port : n->cfg.listen_port));
	st.listen = listen;
	for (k = 1; k < 8 && k < sizeof(ss.kinds) / sizeof(ss.kinds[0]); k++) {
		if (k != LCF__KIND__KIND_CITY && k != LCF__KIND__KIND_PRACTICE &&
		    k != LCF__KIND__KIND_INDICATOR && ss.kinds[k].current == 0)
			continue;
		lcf__kind_count__init(&kc[nk]);
		kc[nk].has_kind = 1;
		kc[nk].kind = (Lcf__Kind)k;
		kc[nk].has_current = 1;
		kc[nk].current = ss.kinds[k].current - ss.kinds[k].deleted;
		kc[nk].has_deleted = 1;
		kc[nk].deleted = ss.kinds[k].deleted;
		kcp[nk] = &kc[nk];
		nk++;
	}
	st.kinds = kcp;
	st.n_kinds = nk;
	resp.reply_case = LCF__CTL_RESPONSE__REPLY_STATUS;
	resp.status = &st;
	send_resp(c, &resp, 0);
	item_list_free(&l);
	request_done(c);
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

static void
publish_done(void *arg, const struct publish_result *res)
{
	struct ctl_conn *c = arg;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__PublishReply pr = LCF__PUBLISH_REPLY__INIT;
	ProtobufCBinaryData *ids = NULL;
	size_t i, count;
	char msg[700];

	if (conn_op_end(c))
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
		pr.has_first_seq = 1;
		pr.first_seq = res->first_seq;
		pr.has_stored = 1;
		pr.stored = res->stored;
		pr.has_unchanged = 1;
		pr.unchanged = res->unchanged;
		resp.reply_case = LCF__CTL_RESPONSE__REPLY_PUBLISH;
		resp.publish = &pr;
	}
	send_resp(c, &resp, 0);
	free(ids);
	request_done(c);
}

static void
do_publish(struct ctl_conn *c)
{
	Lcf__PublishRequest *p = c->req->publish;
	char why[256];
	int rc;

	if (p->n_drafts == 0) {
		send_error(c, LCF_EINVAL, "nothing to publish");
		request_done(c);
		return;
	}
	if (!p->dry_run && members_self_check(c->ctl->n, why, sizeof(why)) != 0) {
		send_error(c, LCF_EPERM, "cannot publish: %s", why);
		request_done(c);
		return;
	}
	c->ops++;
	rc = publish_submit(c->ctl->n, p->drafts, p->n_drafts, p->dry_run,
	    publish_done, c);
	if (rc != 0) {
		c->ops--;
		send_error(c, rc, "cannot publish: %s", lcf_strerror(rc));
		request_done(c);
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
		send_resp(c, &resp, SEND_THEN_CLOSE);
		return;
	}
	pr.has_first_seq = 1;
	pr.first_seq = res->first_seq;
	pr.has_stored = 1;
	pr.stored = res->stored;
	pr.has_unchanged = 1;
	pr.unchanged = res->unchanged;
	resp.reply_case = LCF__CTL_RESPONSE__REPLY_PUBLISH;
	resp.publish = &pr;
	send_resp(c, &resp, 0);
	/* The request held is the last chunk's. */
	request_done(c);
}

/* The session can take another chunk: read again. */
static void
import_room(void *arg)
{
	struct ctl_conn *c = arg;

	if (c->closed)
		return;
	if (!c->reading && uv_read_start((uv_stream_t *)&c->pipe, alloc_cb,
	    read_cb) == 0)
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
	char why[256], msg[300];

	if (c->import == NULL && members_self_check(c->ctl->n, why,
	    sizeof(why)) != 0) {
		/* Like any refused import: one answer, then the connection ends. */
		snprintf(msg, sizeof(msg), "cannot publish: %s", why);
		resp.has_error = 1;
		resp.error = LCF_EPERM;
		resp.message = msg;
		if (c->reading)
			uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = 0;
		c->ending = 1;
		send_resp(c, &resp, SEND_THEN_CLOSE);
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
		request_done(c);
}

/* Resolves a city id or prefix given by a person. */
static int
resolve_city(struct ctl_conn *c, const char *hex, uint8_t author[32])
{
	int rc;

	if (!hex_is_prefix(hex)) {
		send_error(c, LCF_EINVAL, "'%s' is not a city id: expected hex digits",
		    hex);
		return -1;
	}
	rc = store_resolve_author(c->ctl->n->store, hex, author);
	if (rc == LCF_ENOTFOUND)
		send_error(c, rc, "no city with id '%s' is known here", hex);
	else if (rc == LCF_EAMBIGUOUS)
		send_error(c, rc, "city id prefix '%s' matches several cities: give more "
		    "digits", hex);
	else if (rc != 0)
		send_error(c, rc, "cannot look up city '%s': %s", hex, lcf_strerror(rc));
	return rc == 0 ? 0 : -1;
}

struct query_keep {
	struct node *n;
	struct lineage *lin;
	int revoked;                /* hide revoked cities */
};

/* A store_query keep function for lists: see do_query. */
static int
query_keep(void *arg, const uint8_t *raw, size_t len)
{
	struct query_keep *kc = arg;
	struct record rec;
	int keep = 1;

	if (kc->revoked && !members_visible(kc->n, raw, len))
		return 0;
	if (lineage_empty(kc->lin) || record_open(raw, len, 0, &rec) != 0)
		return 1;
	if (lineage_shadowed(kc->lin, kc->n->store, rec.c))
		keep = 0;
	record_release(&rec);
	return keep;
}

static void
do_query(struct ctl_conn *c)
{
	Lcf__QueryRequest *q = c->req->query;
	struct store_query sq;
	struct item_list l;
	struct query_keep kc;
	uint8_t author[32], line[LINEAGE_MAX][32];
	int truncated = 0, rc;
	size_t i, nline;

	memset(&sq, 0, sizeof(sq));
	item_list_init(&l, c->ctl->n);
	sq.kind = q->has_kind ? q->kind : LCF__KIND__KIND_PRACTICE;
	if (q->n_areas > STORE_MAX_TERMS || q->n_clusters > STORE_MAX_TERMS) {
		send_error(c, LCF_EINVAL, "at most %d areas and %d clusters in one query",
		    STORE_MAX_TERMS, STORE_MAX_TERMS);
		goto out;
	}
	for (i = 0; i < q->n_areas; i++)
		sq.areas[i] = q->areas[i];
	sq.nareas = q->n_areas;
	for (i = 0; i < q->n_clusters; i++)
		sq.clusters[i] = q->clusters[i];
	sq.nclusters = q->n_clusters;
	sq.country = q->country;
	sq.text = q->text;
	sq.indicator = q->indicator;
	sq.period = q->period;
	sq.include_deleted = q->include_deleted;
	l.skip_deleted = !q->include_deleted;
	sq.limit = q->has_limit ? q->limit : QUERY_DEFAULT_LIMIT;
	if (sq.limit == 0 || sq.limit > QUERY_MAX_LIMIT)
		sq.limit = QUERY_MAX_LIMIT;
	if (q->city != NULL) {
		if (resolve_city(c, q->city, author) != 0)
			goto out;
		/* Any key of a city stands for every key of its line. */
		nline = lineage_line(l.lin, author, line);
		sq.author = line[0];
		sq.authors = (const uint8_t (*)[32])line + 1;
		sq.nauthors = nline - 1;
	}
	/* Records of revoked cities stay stored but out of sight; records a
	 * later key of their city replaced are shown once, as that key's. */
	kc.n = c->ctl->n;
	kc.lin = l.lin;
	kc.revoked = !q->include_revoked && members_any_revoked(c->ctl->n);
	if (kc.revoked || !lineage_empty(l.lin)) {
		sq.keep = query_keep;
		sq.keep_arg = &kc;
	}
	rc = store_query(c->ctl->n->store, &sq, item_visit, &l, &truncated);
	if (rc == LCF_EINVAL) {
		send_error(c, rc, "--text needs 1 to %d words of at least 2 letters",
		    STORE_MAX_TERMS);
		goto out;
	}
	if (rc != 0) {
		send_error(c, rc, "query failed: %s", lcf_strerror(rc));
		goto out;
	}
	send_items(c, &l, truncated, 0);
out:
	item_list_free(&l);
	request_done(c);
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
		send_error(c, LCF_EINVAL, "no record id or key given");
		goto out;
	}
	memcpy(author, n->id->pk, 32);
	if (g->city != NULL && resolve_city(c, g->city, author) != 0)
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
			send_error(c, LCF_EINVAL, "record id prefix '%s' is too short: give "
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
		send_error(c, rc, "'%s' matches several records: give more digits",
		    g->ref);
	else if (rc == LCF_ENOTFOUND)
		send_error(c, rc, "no record '%s' here (give a record id, a unique prefix "
		    "of at least 6 hex digits, or this city's key)", g->ref);
	else if (rc != 0)
		send_error(c, rc, "cannot read '%s': %s", g->ref, lcf_strerror(rc));
	else
		send_items(c, &l, 0, 0);
out:
	item_list_free(&l);
	request_done(c);
}

static void
export_chunk(struct ctl_conn *c)
{
	struct item_list l;
	int done = 0, rc;

	item_list_init(&l, c->ctl->n);
	l.skip_deleted = !c->export_deleted;
	rc = store_scan_current(c->ctl->n->store, c->cursor, &c->cursor_len,
	    EXPORT_CHUNK, &done, item_visit, &l);
	if (rc != 0) {
		send_error(c, rc, "export failed: %s", lcf_strerror(rc));
		done = 1;
	} else {
		send_items(c, &l, 0, !done);
	}
	item_list_free(&l);
	if (done)
		request_done(c);
}

static void
do_export(struct ctl_conn *c)
{
	c->cursor_len = 0;
	c->export_deleted = c->req->export->include_deleted;
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

static void
verify_done(uv_work_t *w, int status)
{
	struct verify_slice *vs = w->data;
	struct ctl_conn *c = vs->conn;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__VerifyReply vr = LCF__VERIFY_REPLY__INIT;
	ProtobufCBinaryData *ids = NULL;
	uint8_t (*owned[VERIFY_SLICES])[32];
	size_t i, j, nids = 0;
	int broken = 0;

	(void)status;
	if (--c->vpending > 0) {
		conn_op_end(c);
		return;
	}
	/* Take the failed-id lists out of the connection: it may be freed by
	 * conn_op_end, and request_done may start another verify that reuses
	 * the slices. */
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
	if (conn_op_end(c))
		goto out;
	if (broken) {
		send_error(c, LCF_ESTORE, "could not read the whole database (see the "
		    "node's log)");
	} else {
		vr.has_checked = vr.has_failed = 1;
		vr.failed_ids = ids;
		vr.n_failed_ids = nids;
		resp.reply_case = LCF__CTL_RESPONSE__REPLY_VERIFY;
		resp.verify = &vr;
		send_resp(c, &resp, 0);
		if (vr.failed)
			log_warnx("verify: %llu of %llu records failed",
			    (unsigned long long)vr.failed,
			    (unsigned long long)vr.checked);
	}
	request_done(c);
out:
	free(ids);
	for (i = 0; i < VERIFY_SLICES; i++)
		free(owned[i]);
}

static void
do_verify(struct ctl_conn *c)
{
	size_t i;

	memset(c->vslices, 0, sizeof(c->vslices));
	c->vpending = VERIFY_SLICES;
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
	send_resp(c, &resp, 0);
	request_done(c);
}

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
	send_resp(c, &resp, 0);
	free(ptrs);
	free(pbs);
}

static void
do_peer_add(struct ctl_conn *c)
{
	Lcf__PeerAddRequest *r = c->req->peer_add;
	struct peer_info info;
	char err[700];
	int rc;

	if (r->has_pinned_id && r->pinned_id.len != 32) {
		send_error(c, LCF_EINVAL, "a pinned city id is 32 bytes (64 hex digits)");
	} else if ((rc = peers_add(c->ctl->n, r->address, r->has_pinned_id ?
	    r->pinned_id.data : NULL, &info, err, sizeof(err))) != 0) {
		send_error(c, rc, "%s", err);
	} else {
		send_peers(c, &info, 1);
	}
	request_done(c);
}

static void
do_peer_remove(struct ctl_conn *c)
{
	Lcf__PeerRemoveRequest *r = c->req->peer_remove;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	char err[700];
	int rc;

	if (r->ref == NULL || r->ref[0] == '\0')
		send_error(c, LCF_EINVAL, "give a peer's city id or HOST:PORT");
	else if ((rc = peers_remove(c->ctl->n, r->ref, err, sizeof(err))) != 0)
		send_error(c, rc, "%s", err);
	else
		send_resp(c, &resp, 0);
	request_done(c);
}

static void
do_peer_list(struct ctl_conn *c)
{
	struct peer_info *infos = NULL;
	size_t count = 0;

	peers_list(c->ctl->n, &infos, &count);
	send_peers(c, infos, count);
	free(infos);
	request_done(c);
}

static void
peer_sync_done(void *arg, const struct sync_stats *st)
{
	struct ctl_conn *c = arg;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__SyncReply sr = LCF__SYNC_REPLY__INIT;

	if (conn_op_end(c))
		return;
	if (st->result != 0) {
		send_error(c, st->result, "reconciliation with %s failed: %s",
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
		send_resp(c, &resp, 0);
	}
	request_done(c);
}

static void
do_peer_sync(struct ctl_conn *c)
{
	Lcf__PeerSyncRequest *r = c->req->peer_sync;
	char err[700];
	int rc;

	if (r->ref == NULL || r->ref[0] == '\0') {
		send_error(c, LCF_EINVAL, "give a peer's city id or HOST:PORT");
		request_done(c);
		return;
	}
	c->ops++;
	rc = peers_sync(c->ctl->n, r->ref, peer_sync_done, c, err, sizeof(err));
	if (rc != 0) {
		c->ops--;
		send_error(c, rc, "%s", err);
		request_done(c);
	}
}

/* ---- cities ---- */

struct city_agg {
	uint8_t author[32];
	char *name;
	char *country;
	uint64_t current[NKINDS], deleted[NKINDS];
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
	kind = (unsigned)ct->kind < NKINDS ? (unsigned)ct->kind : 0;
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
			for (k = 0; k < NKINDS; k++) {
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

static void
city_work(uv_work_t *w)
{
	struct city_job *job = w->data;
	uint8_t cursor[STORE_CURSOR_MAX];
	size_t cursor_len = 0, i, o;
	int done = 0;

	while (!done && job->error == 0)
		job->error = store_scan_current(job->conn->ctl->n->store, cursor,
		    &cursor_len, CITY_SCAN_CHUNK, &done, city_scan_visit, job);
	/* Chunks may split an author's run: merge what the order left apart. */
	qsort(job->v, job->n, sizeof(*job->v), agg_cmp);
	for (i = 0, o = 0; i < job->n; i++) {
		struct city_agg *a = &job->v[i], *b;
		size_t k;

		if (o > 0 && memcmp(job->v[o - 1].author, a->author, 32) == 0) {
			b = &job->v[o - 1];
			for (k = 0; k < NKINDS; k++) {
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
	if (conn_op_end(c))
		goto out;
	if (job->error != 0) {
		send_error(c, job->error, "cannot read the database: %s",
		    lcf_strerror(job->error));
		request_done(c);
		goto out;
	}
	infos = xcalloc(job->n ? job->n : 1, sizeof(*infos));
	ptrs = xcalloc(job->n ? job->n : 1, sizeof(*ptrs));
	kcs = xcalloc(job->n * NKINDS + 1, sizeof(*kcs));
	kptrs = xcalloc(job->n * NKINDS + 1, sizeof(*kptrs));
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
		ci->previous_ids = &prev[np];
		for (k = 0; k < a->nprev; k++) {
			prev[np].data = a->prev[k];
			prev[np++].len = 32;
			ci->n_previous_ids++;
			if (memcmp(a->prev[k], c->ctl->n->id->pk, 32) == 0)
				ci->self = 1;
		}
		ci->kinds = &kptrs[nk];
		for (k = 1; k < NKINDS; k++) {
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
	send_resp(c, &resp, 0);
	request_done(c);
out:
	free(prev);
	free(kptrs);
	free(kcs);
	free(ptrs);
	free(infos);
	city_job_free(job);
}

static void
do_city_list(struct ctl_conn *c)
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

	if (conn_op_end(c))
		return;
	if (r->error != 0) {
		send_error(c, r->error, "%s", r->reason);
		request_done(c);
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
	send_resp(c, &resp, 0);
	request_done(c);
}

static void
do_submit(struct ctl_conn *c)
{
	Lcf__SubmitRequest *q = c->req->submit;
	const uint8_t **raws = NULL;
	size_t *lens = NULL, i;
	int rc;

	if (q->n_records == 0 || q->n_records > INGEST_MAX_BATCH) {
		send_error(c, LCF_EINVAL, "give 1 to %d records in one request",
		    INGEST_MAX_BATCH);
		request_done(c);
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
		send_error(c, rc, "cannot take the records: %s", lcf_strerror(rc));
		request_done(c);
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

static void
do_members(struct ctl_conn *c)
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

	members_list(n, &v, &count, name, sizeof(name));
	peers_list(n, &pi, &npeers);
	mi = xcalloc(count ? count : 1, sizeof(*mi));
	ptrs = xcalloc(count ? count : 1, sizeof(*ptrs));
	for (i = 0; i < count; i++) {
		struct member_info *m = &v[i];
		Lcf__MemberInfo *o = &mi[i];
		struct newest nw = { 0 };
		uint64_t last = store_last_seq(n->store, m->city);

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
		o->has_valid = 1;
		o->valid = members_link_ok(n, m->city, why, sizeof(why)) == 0;
		o->has_forks = 1;
		o->forks = store_author_forks(n->store, m->city);
		o->has_held = 1;
		o->held = m->held;
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
	send_resp(c, &resp, 0);
	request_done(c);
	free(ptrs);
	free(mi);
	free(pi);
	free(v);
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
		send_resp(c, &resp, SEND_THEN_CLOSE);
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
		do_peer_add(c);
		break;
	case LCF__CTL_REQUEST__OP_PEER_REMOVE:
		do_peer_remove(c);
		break;
	case LCF__CTL_REQUEST__OP_PEER_LIST:
		do_peer_list(c);
		break;
	case LCF__CTL_REQUEST__OP_PEER_SYNC:
		do_peer_sync(c);
		break;
	case LCF__CTL_REQUEST__OP_SUBMIT:
		do_submit(c);
		break;
	case LCF__CTL_REQUEST__OP_MEMBERS:
		do_members(c);
		break;
	case LCF__CTL_REQUEST__OP_CITY_LIST:
		do_city_list(c);
		break;
	default:
		send_error(c, LCF_EPROTO, "unknown request: this lcnode (%s) may be older "
		    "than lcctl", LCF_VERSION);
		request_done(c);
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
	/* The import holds all the chunks it works on: this one waits. */
	if (c->import != NULL && import_full(c->import))
		return 0;
	flen = get_be32(c->buf);
	if (flen > CTL_MAX_FRAME) {
		log_warnx("control: frame of %u bytes refused", flen);
		conn_close(c);
		return 0;
	}
	if (c->len < 4 + (size_t)flen)
		return 0;
	req = lcf__ctl_request__unpack(NULL, flen, c->buf + 4);
	memmove(c->buf, c->buf + 4 + flen, c->len - 4 - flen);
	c->len -= 4 + (size_t)flen;
	/* A large request's frame is decoded now: give its buffer back rather
	 * than hold it for the connection's life (an import's chunk frames, a
	 * few MiB, keep theirs for the next). */
	if (c->cap > (16u << 20) && c->len < (1u << 16)) {
		c->cap = 1u << 16;
		c->buf = xreallocarray(c->buf, c->cap, 1);
	}
	if (req == NULL) {
		send_error(c, LCF_EPROTO, "malformed request");
		conn_close(c);
		return 0;
	}
	if (!req->has_version || req->version != CTL_VERSION) {
		send_error(c, LCF_EVERSION, "admin protocol version %u is not supported "
		    "(this lcnode speaks %d): use the lcctl of the same release",
		    req->has_version ? req->version : 0, CTL_VERSION);
		lcf__ctl_request__free_unpacked(req, NULL);
		conn_close(c);
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
		conn_close(c);
		return;
	}
	c->len += (size_t)nread;
	/* Bound what one client can make the node hold. */
	if (c->len > 4 + (size_t)CTL_MAX_FRAME + 65536) {
		log_warnx("control: client sent more than one frame's worth ahead");
		conn_close(c);
		return;
	}
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
	    !peer_is_owner(&c->pipe)) {
		c->closed = 1;
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
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

int
control_start(struct node *n, struct control **out, char *err, size_t errlen)
{
	struct control *ctl = xcalloc(1, sizeof(*ctl));
	mode_t old;
	int rc;

	ctl->n = n;
	ctl->path = xasprintf("%s/%s", n->cfg.dir, CTL_SOCKET_NAME);
	uv_pipe_init(n->loop, &ctl->server, 0);
	ctl->server.data = ctl;
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
		uv_close((uv_handle_t *)&ctl->server, NULL);
		free(ctl->path);
		free(ctl);
		*out = NULL;
		return LCF_EIO;
	}
	*out = ctl;
	return 0;
}

static void
server_closed(uv_handle_t *h)
{
	struct control *ctl = h->data;

	free(ctl->path);
	free(ctl);
}

void
control_stop(struct control *ctl)
{
	if (ctl == NULL)
		return;
	while (ctl->conns != NULL)
		conn_close(ctl->conns);
	unlink(ctl->path);
	uv_close((uv_handle_t *)&ctl->server, server_closed);
}
