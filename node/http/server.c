// SPDX-License-Identifier: Apache-2.0
// The HTTP server: h2o on the node's loop, routes, access, validity tags, limits.
#include <arpa/inet.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/addr.h"
#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "base/version.h"
#include "base/xmalloc.h"
#include "core/node.h"
#include "http/http_int.h"
#include "store/store.h"

#define COOKIE_NAME "lcf_session"
#define COOKIE_TTL (12 * 3600)        /* seconds a session cookie is good for */
#define CACHE_SLOTS 512
#define CACHE_BYTES_MAX (32u << 20)   /* answers kept, all together */
#define CACHE_BODY_MAX (1u << 20)     /* one answer kept at most */
#define REQUEST_BODY_MAX 4096         /* only POST /api/v1/session has one */
#define LISTEN_BACKLOG 511
#define PATH_SEGS_MAX 16

/* A kept answer: valid while the store's and membership's generations are
 * those it was built under. Its body is an h2o shared buffer: each request
 * sending it holds a reference until its pool is cleared, so no request
 * copies it and dropping the entry meanwhile is safe. */
struct http_cache_entry {
	char *key;                    /* operator/personal flags, then the URL */
	uint64_t gen, mgen;
	const char *type;
	char *body;
	size_t len;
};

/* An accepted connection's handle; h2o's close callback gets its address. */
struct conn_handle {
	uv_tcp_t tcp;                 /* first */
	struct http *h;
	struct conn_handle *next, **prevp;   /* h->conns */
};

struct handler {
	h2o_handler_t super;          /* first */
	struct http *h;
};

enum {
	R_OPERATOR = 1 << 0,          /* operator data: token, cookie or loopback */
	R_CACHE = 1 << 1,             /* depends only on the store: ETag, kept */
	R_WRITE = 1 << 2,             /* POST and DELETE too (the session) */
	R_PUBLIC = 1 << 3,            /* federation data: any origin may read it */
};

struct route {
	const char *pattern;          /* '*' stands for one path segment */
	void (*fn)(struct http_call *c);
	unsigned flags;
};

static void session_answer(struct http_call *c);

static const struct route routes[] = {
	{ "/healthz", health_live, 0 },
	{ "/readyz", health_ready, 0 },
	{ "/metrics", metrics_answer, R_OPERATOR },
	{ "/api/v1/openapi.json", api_openapi, R_PUBLIC },
	{ "/api/v1/status", api_status, R_PUBLIC },
	{ "/api/v1/events", sse_answer, R_PUBLIC },
	{ "/api/v1/session", session_answer, R_WRITE },
	{ "/api/v1/catalog", api_catalog, R_CACHE | R_PUBLIC },
	{ "/api/v1/cities", api_cities, R_CACHE | R_PUBLIC },
	{ "/api/v1/cities/*", api_city, R_CACHE | R_PUBLIC },
	{ "/api/v1/cities/*/practices", api_city_practices, R_CACHE | R_PUBLIC },
	{ "/api/v1/cities/*/indicators", api_city_indicators, R_CACHE | R_PUBLIC },
	{ "/api/v1/practices", api_practices, R_CACHE | R_PUBLIC },
	{ "/api/v1/practices/*", api_practice, R_CACHE | R_PUBLIC },
	{ "/api/v1/practices/*/versions", api_practice_versions, R_CACHE | R_PUBLIC },
	{ "/api/v1/indicators", api_indicators, R_CACHE | R_PUBLIC },
	{ "/api/v1/indicators/summary", api_indicator_summary, R_CACHE | R_PUBLIC },
	{ "/api/v1/members", api_members, R_PUBLIC },
	{ "/api/v1/peers", api_peers, R_OPERATOR },
	{ "/api/v1/coverage", api_coverage, R_CACHE | R_PUBLIC },
	{ "/api/v1/cities/*/report", api_city_report, R_CACHE | R_PUBLIC },
	{ "/api/v1/partners", api_partners, R_CACHE | R_PUBLIC },
	{ "/api/v1/federation/status", api_federation_status, R_PUBLIC },
};

/* ---- access ---- */

static int
header(h2o_req_t *req, const h2o_token_t *token, h2o_iovec_t *out)
{
	ssize_t i = h2o_find_header(&req->headers, token, -1);

	if (i < 0)
		return 0;
	*out = req->headers.entries[i].value;
	return 1;
}

static int
header_str(h2o_req_t *req, const char *name, h2o_iovec_t *out)
{
	ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);

	if (i < 0)
		return 0;
	*out = req->headers.entries[i].value;
	return 1;
}

/* A proxy stands between: the peer address is not the client's. */
static int
forwarded(h2o_req_t *req)
{
	h2o_iovec_t v;

	return header(req, H2O_TOKEN_X_FORWARDED_FOR, &v) ||
	    header_str(req, "forwarded", &v) || header_str(req, "x-real-ip", &v);
}

static int
from_loopback(h2o_req_t *req)
{
	struct sockaddr_storage ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
	const uint8_t *b;

	memset(&ss, 0, sizeof(ss));
	if (req->conn->callbacks->get_peername == NULL ||
	    req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss) == 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss.ss_family != AF_INET6)
		return 0;
	b = s6->sin6_addr.s6_addr;
	if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
		return 1;
	return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && b[12] == 127;
}

/* 1 when v is "Bearer TOKEN" with the node's token; 0 otherwise. */
static int
bearer_ok(const struct http *h, h2o_iovec_t v)
{
	static const char pfx[] = "Bearer ";

	if (v.len != sizeof(pfx) - 1 + HTTP_TOKEN_HEX ||
	    strncasecmp(v.base, pfx, sizeof(pfx) - 1) != 0)
		return 0;
	return sodium_memcmp(v.base + sizeof(pfx) - 1, h->token, HTTP_TOKEN_HEX) == 0;
}

/* A session cookie's value: "EXPIRY.MAC", MAC = crypto_auth of "EXPIRY". */
static void
cookie_value(const struct http *h, int64_t expiry, char *out, size_t outlen)
{
	uint8_t mac[crypto_auth_BYTES];
	char num[24], hex[2 * crypto_auth_BYTES + 1];

	snprintf(num, sizeof(num), "%" PRId64, expiry);
	crypto_auth(mac, (const uint8_t *)num, strlen(num), h->cookie_key);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	snprintf(out, outlen, "%s.%s", num, hex);
}

static int
cookie_ok(const struct http *h, h2o_req_t *req)
{
	static const char name[] = COOKIE_NAME "=";
	char want[128], got[128];
	const char *p, *end, *dot;
	h2o_iovec_t v;
	ssize_t i = -1;
	size_t n;

	while ((i = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, i)) >= 0) {
		v = req->headers.entries[i].value;
		for (p = v.base, end = v.base + v.len; p < end; p++) {
			if ((p != v.base && p[-1] != ' ' && p[-1] != ';') ||
			    (size_t)(end - p) < sizeof(name) - 1 ||
			    memcmp(p, name, sizeof(name) - 1) != 0)
				continue;
			p += sizeof(name) - 1;
			for (n = 0; p + n < end && p[n] != ';' && n < sizeof(got) - 1; n++)
				got[n] = p[n];
			got[n] = '\0';
			if ((dot = strchr(got, '.')) == NULL ||
			    strtoll(got, NULL, 10) < now_ms() / 1000)
				break;
			cookie_value(h, strtoll(got, NULL, 10), want, sizeof(want));
			if (strlen(want) == n && sodium_memcmp(want, got, n) == 0)
				return 1;
			break;
		}
	}
	return 0;
}

/* Sets c->operator; 0, or LCF_EPERM when the request carries a token that is
 * not the node's (answered 401 here). */
static int
check_access(struct http_call *c)
{
	struct http *h = c->h;
	h2o_iovec_t v;

	if (header(c->req, H2O_TOKEN_AUTHORIZATION, &v)) {
		if (!bearer_ok(h, v)) {
			answer_problem(c, 401, NULL, "the Authorization header does not "
			    "carry this node's token: send `Authorization: Bearer "
			    "TOKEN` with the token `lcctl http token` prints");
			return LCF_EPERM;
		}
		c->operator = 1;
	} else if (cookie_ok(h, c->req)) {
		c->operator = 1;
	} else if (h->n->cfg.http_operator_loopback && !forwarded(c->req) &&
	    from_loopback(c->req)) {
		c->operator = 1;
	}
	c->personal = h->n->cfg.http_personal_data || c->operator;
	return 0;
}

/* POST /api/v1/session: the token for a cookie a browser's EventSource
 * sends; DELETE ends it. */
static void
session_answer(struct http_call *c)
{
	h2o_req_t *req = c->req;
	char val[128], hdr[256];
	h2o_iovec_t v;
	int64_t expiry;
	int secure;

	if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("DELETE"))) {
		snprintf(hdr, sizeof(hdr), COOKIE_NAME "=; Path=/; Max-Age=0; "
		    "HttpOnly; SameSite=Strict");
	} else if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
		if (!header(req, H2O_TOKEN_AUTHORIZATION, &v) || !bearer_ok(c->h, v)) {
			answer_problem(c, 401, NULL, "a session needs the node's token: "
			    "send `Authorization: Bearer TOKEN` (`lcctl http token`)");
			return;
		}
		expiry = now_ms() / 1000 + COOKIE_TTL;
		cookie_value(c->h, expiry, val, sizeof(val));
		/* Behind a TLS proxy the browser must send it over TLS only. */
		secure = (header_str(req, "x-forwarded-proto", &v) &&
		    h2o_memis(v.base, v.len, H2O_STRLIT("https"))) ||
		    (header_str(req, "forwarded", &v) &&
		    memmem(v.base, v.len, "proto=https", 11) != NULL);
		snprintf(hdr, sizeof(hdr), COOKIE_NAME "=%s; Path=/; Max-Age=%d; "
		    "HttpOnly; SameSite=Strict%s", val, COOKIE_TTL,
		    secure ? "; Secure" : "");
	} else {
		answer_problem(c, 405, NULL, "a session is made with POST and ended "
		    "with DELETE");
		c->allow = "POST, DELETE";
		return;
	}
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, NULL,
	    h2o_strdup(&req->pool, hdr, SIZE_MAX).base, strlen(hdr));
	answer_text(c, 204, NULL, "", 0);
}

/* ---- the answers kept ---- */

static uint64_t
key_hash(const char *k)
{
	uint64_t x = 1469598103934665603ULL;

	for (; *k != '\0'; k++)
		x = (x ^ (uint8_t)*k) * 1099511628211ULL;
	return x;
}

static size_t cache_bytes;

static void
cache_drop(struct http_cache_entry *e)
{
	cache_bytes -= e->len;
	free(e->key);
	h2o_mem_release_shared(e->body);
	memset(e, 0, sizeof(*e));
}

static struct http_cache_entry *
cache_slot(struct http *h, const char *key)
{
	return &h->cache[key_hash(key) % CACHE_SLOTS];
}

/* Keeps c's answer; the entry, or NULL when it is not kept. */
static struct http_cache_entry *
cache_put(struct http *h, const char *key, const struct http_call *c,
    uint64_t gen, uint64_t mgen)
{
	struct http_cache_entry *e = cache_slot(h, key);

	if (c->len > CACHE_BODY_MAX)
		return NULL;
	if (e->key != NULL)
		cache_drop(e);
	if (cache_bytes + c->len > CACHE_BYTES_MAX)
		return NULL;
	e->key = xstrdup(key);
	e->gen = gen;
	e->mgen = mgen;
	e->type = c->type;
	e->body = h2o_mem_alloc_shared(NULL, c->len + 1, NULL);
	memcpy(e->body, c->body, c->len);
	e->len = c->len;
	cache_bytes += c->len;
	return e;
}

/* ---- requests ---- */

static const struct route *
find_route(struct http_call *c, char **segs, size_t nsegs)
{
	const struct route *r;
	const char *p, *q;
	size_t i, j, k;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		r = &routes[i];
		c->nsegs = 0;
		p = r->pattern + 1;
		for (j = 0; j < nsegs; j++) {
			if (*p == '\0')
				break;
			q = strchr(p, '/');
			k = q != NULL ? (size_t)(q - p) : strlen(p);
			if (k == 1 && *p == '*') {
				if (c->nsegs < HTTP_SEGS_MAX)
					c->segs[c->nsegs++] = segs[j];
			} else if (strlen(segs[j]) != k || memcmp(segs[j], p, k) != 0) {
				break;
			}
			p += k + (q != NULL);
			if (q == NULL && j + 1 < nsegs)
				break;
		}
		if (j == nsegs && *p == '\0')
			return r;
	}
	c->nsegs = 0;
	return NULL;
}

/* Splits and decodes path (NUL-terminated, no query) into segs. 0, or a
 * problem answered and LCF_EINVAL. */
static int
split_path(struct http_call *c, char *path, char **segs, size_t *nsegs)
{
	char *s, *save = NULL;

	*nsegs = 0;
	if (*path != '/') {
		answer_problem(c, 400, NULL, "the request target must be a path");
		return LCF_EINVAL;
	}
	for (s = strtok_r(path, "/", &save); s != NULL; s = strtok_r(NULL, "/", &save)) {
		if (*nsegs == PATH_SEGS_MAX || answer_unescape(s, 0) != 0) {
			answer_problem(c, 404, NULL, "no such resource");
			return LCF_EINVAL;
		}
		segs[(*nsegs)++] = s;
	}
	return 0;
}

static void
add_header(h2o_req_t *req, const h2o_token_t *t, const char *v)
{
	h2o_add_header(&req->pool, &req->res.headers, t, NULL, v, strlen(v));
}

static void
add_header_str(h2o_req_t *req, const char *name, const char *v)
{
	h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 0,
	    NULL, v, strlen(v));
}

/* Sends c's answer; its body is kept (a kept answer's shared buffer, sent
 * without a copy) when not NULL, else c->body. */
static void
send_answer(struct http_call *c, const struct route *r, const char *etag,
    char *kept)
{
	static h2o_generator_t gen = { NULL, NULL };
	h2o_req_t *req = c->req;
	int st = c->status;

	req->res.status = st;
	req->res.reason = answer_reason(st);
	if (c->type != NULL && st != 304)
		add_header(req, H2O_TOKEN_CONTENT_TYPE, c->type);
	add_header_str(req, "x-content-type-options", "nosniff");
	if (etag != NULL) {
		add_header(req, H2O_TOKEN_ETAG, h2o_strdup(&req->pool, etag, SIZE_MAX).base);
		add_header(req, H2O_TOKEN_CACHE_CONTROL, "no-cache");
	} else {
		add_header(req, H2O_TOKEN_CACHE_CONTROL, "no-store");
	}
	if (r != NULL && (r->flags & R_PUBLIC))
		add_header_str(req, "access-control-allow-origin", "*");
	if (st == 401)
		add_header(req, H2O_TOKEN_WWW_AUTHENTICATE, "Bearer realm=\"lcnode\"");
	if (c->allow != NULL)
		add_header(req, H2O_TOKEN_ALLOW, c->allow);
	if (st >= 0 && st < HTTP_STATUS_MAX)
		c->h->stats.requests[st]++;
	if (c->head || st == 304 || st == 204) {
		req->res.content_length = c->head && st != 304 && st != 204 ? c->len : 0;
		h2o_start_response(req, &gen);
		h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
	} else if (kept != NULL) {
		h2o_iovec_t buf = h2o_iovec_init(kept, c->len);

		h2o_mem_link_shared(&req->pool, kept);
		req->res.content_length = c->len;
		h2o_start_response(req, &gen);
		h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
	} else {
		req->res.content_length = c->len;
		h2o_send_inline(req, c->body, c->len);
	}
}

static void
send_later(struct http_call *c)
{
	struct route r = { NULL, NULL, c->route_flags };

	if (c->status == 0)
		answer_problem(c, 500, NULL, "the node built no answer");
	send_answer(c, &r, NULL, NULL);
}

/* 1 when the If-None-Match header names etag (or is "*"). */
static int
not_modified(h2o_req_t *req, const char *etag)
{
	h2o_iovec_t v;
	size_t n = strlen(etag);
	const char *p, *end;

	if (!header(req, H2O_TOKEN_IF_NONE_MATCH, &v))
		return 0;
	for (p = v.base, end = v.base + v.len; p < end; p++) {
		if (*p == '*')
			return 1;
		if ((size_t)(end - p) >= n && memcmp(p, etag, n) == 0)
			return 1;
	}
	return 0;
}

static int
method_ok(struct http_call *c, const struct route *r)
{
	h2o_iovec_t m = c->req->method;

	if (h2o_memis(m.base, m.len, H2O_STRLIT("GET")))
		return 1;
	if (h2o_memis(m.base, m.len, H2O_STRLIT("HEAD"))) {
		c->head = 1;
		return 1;
	}
	if ((r->flags & R_WRITE) &&
	    (h2o_memis(m.base, m.len, H2O_STRLIT("POST")) ||
	    h2o_memis(m.base, m.len, H2O_STRLIT("DELETE"))))
		return 1;
	c->allow = (r->flags & R_WRITE) ? "GET, HEAD, POST, DELETE" : "GET, HEAD";
	answer_problem(c, 405, NULL, "%.*s is not allowed here: this API is "
	    "read-only (%s)", (int)(m.len > 16 ? 16 : m.len), m.base, c->allow);
	return 0;
}

/* Runs the route for c: access, parameters, the answer kept or built. */
static void
serve(struct http_call *c, const struct route *r, char *query, const char *url)
{
	struct http *h = c->h;
	struct http_cache_entry *e;
	char etag[96], *key = NULL, *kept = NULL;
	uint64_t gen = 0;
	int cacheable = 0;

	if (check_access(c) != 0)
		goto send;
	if ((r->flags & R_OPERATOR) && !c->operator) {
		answer_problem(c, 401, NULL, "operator data: send `Authorization: "
		    "Bearer TOKEN` (the token `lcctl http token` prints), or a "
		    "session cookie from POST /api/v1/session");
		goto send;
	}
	if (!method_ok(c, r))
		goto send;
	if (query != NULL && answer_parse_query(c, query) != 0)
		goto send;
	cacheable = (r->flags & R_CACHE) && !h2o_memis(c->req->method.base,
	    c->req->method.len, H2O_STRLIT("POST"));
	if (cacheable) {
		gen = store_generation(h->n->store);
		snprintf(etag, sizeof(etag), "\"%" PRIx64 ".%" PRIx64 ".%" PRIx64
		    ".%c%c\"", gen, h->member_gen, (uint64_t)h->n->started_ms,
		    c->operator ? 'o' : 'p', c->personal ? 'c' : 'n');
		if (not_modified(c->req, etag)) {
			answer_text(c, 304, NULL, "", 0);
			goto send;
		}
		key = xasprintf("%c%c%s", c->operator ? 'o' : 'p',
		    c->personal ? 'c' : 'n', url);
		e = cache_slot(h, key);
		if (e->key != NULL && e->gen == gen && e->mgen == h->member_gen &&
		    strcmp(e->key, key) == 0) {
			c->status = 200;
			c->type = e->type;
			c->len = e->len;
			kept = e->body;
			goto send;
		}
	}
	c->status = 0;
	c->route_flags = r->flags;
	r->fn(c);
	if (c->taken)
		goto out;
	if (c->status == 0)
		answer_problem(c, 500, NULL, "the node built no answer");
	if (cacheable && c->status == 200 &&
	    (e = cache_put(h, key, c, gen, h->member_gen)) != NULL)
		kept = e->body;
send:
	send_answer(c, r, cacheable && (c->status == 200 || c->status == 304) ?
	    etag : NULL, kept);
out:
	free(key);
}

/* 1 when a path the routes do not take may be the dashboard's: not under the
 * API's prefix nor one of the node's own resources. */
static int
dashboard_path(char **segs, size_t nsegs)
{
	static const char *const reserved[] = { "api", "metrics", "healthz",
	    "readyz", NULL };
	size_t i;

	for (i = 0; nsegs > 0 && reserved[i] != NULL; i++)
		if (strcmp(segs[0], reserved[i]) == 0)
			return 0;
	return 1;
}

/* The dashboard's files are read with GET and HEAD only (else a 405). */
static int
static_method_ok(struct http_call *c)
{
	h2o_iovec_t m = c->req->method;

	if (h2o_memis(m.base, m.len, H2O_STRLIT("HEAD")))
		c->head = 1;
	else if (!h2o_memis(m.base, m.len, H2O_STRLIT("GET"))) {
		c->allow = "GET, HEAD";
		answer_problem(c, 405, NULL, "the dashboard is read with GET or HEAD");
		return 0;
	}
	return 1;
}

static int
on_req(h2o_handler_t *self, h2o_req_t *req)
{
	struct http *h = ((struct handler *)self)->h;
	struct http_call c;
	const struct route *r = NULL;
	char *url = NULL, *path = NULL, *query = NULL, *segs[PATH_SEGS_MAX];
	size_t nsegs = 0;

	memset(&c, 0, sizeof(c));
	c.h = h;
	c.n = h->n;
	c.req = req;
	if (req->path.len > HTTP_URL_MAX) {
		answer_problem(&c, 414, NULL, "the request target is longer than "
		    "%d bytes", HTTP_URL_MAX);
		goto send;
	}
	url = xstrndup(req->path.base, req->path.len);
	path = xstrdup(url);
	if (req->query_at != SIZE_MAX && req->query_at < req->path.len) {
		path[req->query_at] = '\0';
		query = path + req->query_at + 1;
	}
	if (split_path(&c, path, segs, &nsegs) != 0)
		goto send;
	if ((r = find_route(&c, segs, nsegs)) == NULL) {
		if (dashboard_path(segs, nsegs) && static_method_ok(&c) &&
		    web_answer(&c, h->web, segs, nsegs) == 0)
			goto out;
		if (c.status == 0)
			answer_problem(&c, 404, NULL, "no such resource: see "
			    "/api/v1/openapi.json for what this node serves");
		goto send;
	}
	serve(&c, r, query, url);
	goto out;
send:
	send_answer(&c, r, NULL, NULL);
out:
	free(c.body);
	free(path);
	free(url);
	return 0;
}

/* ---- connections ---- */

/* h2o's timers end with its context, once no connection uses it. */
static void
dispose_context(struct http *h)
{
	if (!h->ctx_ready)
		return;
	h->ctx_ready = 0;
	h2o_context_dispose(&h->ctx);
}

static void
conn_closed(uv_handle_t *hd)
{
	struct conn_handle *ch = (struct conn_handle *)hd;
	struct http *h = ch->h;

	if (h != NULL && ch->prevp != NULL) {
		if (ch->next != NULL)
			ch->next->prevp = ch->prevp;
		*ch->prevp = ch->next;
	}
	free(ch);
	if (h == NULL)
		return;
	h->stats.connections--;
	if (h->stopping && h->stats.connections == 0)
		dispose_context(h);
}

static void
refused_closed(uv_handle_t *hd)
{
	free(hd);
}

static void
on_accept(uv_stream_t *listener, int status)
{
	struct http *h = listener->data;
	struct conn_handle *ch;
	h2o_socket_t *sock;

	if (status != 0)
		return;
	ch = xcalloc(1, sizeof(*ch));
	uv_tcp_init(listener->loop, &ch->tcp);
	if (uv_accept(listener, (uv_stream_t *)&ch->tcp) != 0) {
		uv_close((uv_handle_t *)&ch->tcp, refused_closed);
		return;
	}
	if (h->stats.connections >= h->n->cfg.http_max_connections) {
		h->stats.refused++;
		if (!h->cap_logged)
			log_warnx("http: %" PRIu64 " connections open, the most [http] "
			    "max_connections allows: new ones are closed until some "
			    "end (raise max_connections, or find who holds them)",
			    h->stats.connections);
		h->cap_logged = 1;
		uv_close((uv_handle_t *)&ch->tcp, refused_closed);
		return;
	}
	if (h->stats.connections + 1 < h->n->cfg.http_max_connections * 9 / 10)
		h->cap_logged = 0;
	ch->h = h;
	ch->next = h->conns;
	if (h->conns != NULL)
		h->conns->prevp = &ch->next;
	h->conns = ch;
	ch->prevp = &h->conns;
	h->stats.connections++;
	h->stats.accepted++;
	sock = h2o_uv_socket_create((uv_stream_t *)&ch->tcp, conn_closed);
	h2o_accept(&h->accept, sock);
}

static int
listen_on(struct http *h)
{
	struct node *n = h->n;
	struct sockaddr_storage ss;
	int rc;

	memset(&ss, 0, sizeof(ss));
	if (strchr(n->cfg.http_host, ':') != NULL)
		rc = uv_ip6_addr(n->cfg.http_host, n->cfg.http_port,
		    (struct sockaddr_in6 *)&ss);
	else
		rc = uv_ip4_addr(n->cfg.http_host, n->cfg.http_port,
		    (struct sockaddr_in *)&ss);
	if (rc != 0)
		goto fail;
	uv_tcp_init(n->loop, &h->listener);
	h->listener.data = h;
	h->listening = 1;
	if ((rc = uv_tcp_bind(&h->listener, (struct sockaddr *)&ss, 0)) != 0 ||
	    (rc = uv_listen((uv_stream_t *)&h->listener, LISTEN_BACKLOG,
	    on_accept)) != 0)
		goto fail;
	return 0;
fail:
	snprintf(h->problem, sizeof(h->problem), "cannot serve HTTP on %s: %s "
	    "(another program, or another node, may hold that port: set [http] "
	    "listen to a free HOST:PORT, or off)", h->url + 7, uv_strerror(rc));
	log_warnx("http: %s; the peer side runs on", h->problem);
	return rc;
}

int
http_start(struct node *n, struct http **out, char *err, size_t errlen)
{
	struct http *h;
	h2o_hostconf_t *host;
	h2o_pathconf_t *path;
	struct handler *hd;
	char hp[ADDR_STR_MAX];
	int rc;

	*out = NULL;
	if (!n->cfg.http_enabled) {
		log_info("http: off ([http] listen = off)");
		return 0;
	}
	h = xcalloc(1, sizeof(*h));
	h->n = n;
	h->send_later = send_later;
	if ((rc = http_token_load(n->cfg.dir, 1, h->token, err, errlen)) != 0) {
		free(h);
		return rc;
	}
	if ((rc = web_load(n->cfg.http_web_root, &h->web, err, errlen)) != 0) {
		sodium_memzero(h->token, sizeof(h->token));
		free(h);
		return rc;
	}
	crypto_auth_keygen(h->cookie_key);
	h->cache = xcalloc(CACHE_SLOTS, sizeof(*h->cache));
	addr_format(hp, sizeof(hp), n->cfg.http_host, n->cfg.http_port);
	snprintf(h->url, sizeof(h->url), "http://%s", hp);
	h2o_config_init(&h->conf);
	h->conf.server_name = h2o_iovec_init(H2O_STRLIT("lcnode/" LCF_VERSION));
	h->conf.max_request_entity_size = REQUEST_BODY_MAX;
	h->conf.http1.req_timeout = (uint64_t)n->cfg.http_idle_timeout * 1000;
	h->conf.http2.idle_timeout = (uint64_t)n->cfg.http_idle_timeout * 1000;
	h->conf.http2.graceful_shutdown_timeout = 1000;
	host = h2o_config_register_host(&h->conf, h2o_iovec_init(H2O_STRLIT("default")),
	    65535);
	path = h2o_config_register_path(host, "/", 0);
	hd = (struct handler *)h2o_create_handler(path, sizeof(*hd));
	hd->super.on_req = on_req;
	hd->h = h;
	h2o_context_init(&h->ctx, n->loop, &h->conf);
	h->ctx_ready = 1;
	h->accept.ctx = &h->ctx;
	h->accept.hosts = h->conf.hosts;
	h->sse = sse_new(h);
	if (listen_on(h) == 0)
		log_info("http: serving %s/api/v1/ (metrics %s/metrics)", h->url,
		    h->url);
	*out = h;
	return 0;
}

const char *
http_problem(const struct http *h)
{
	return h != NULL && h->problem[0] != '\0' ? h->problem : NULL;
}

const char *
http_url(const struct http *h)
{
	return h != NULL ? h->url : "off";
}

void
http_on_event(void *arg, const struct events_event *ev)
{
	struct node *n = arg;
	struct http *h = n->http;

	if (h == NULL)
		return;
	if (ev->kind == EVENTS_MEMBERSHIP)
		h->member_gen++;
	sse_on_event(h, ev);
}

static void
listener_closed(uv_handle_t *hd)
{
	(void)hd;
}

void
http_stop(struct http *h)
{
	struct conn_handle *ch;
	uv_os_fd_t fd;

	if (h == NULL || h->stopping)
		return;
	h->stopping = 1;
	sse_free(h->sse);
	h->sse = NULL;
	if (h->listening && !uv_is_closing((uv_handle_t *)&h->listener))
		uv_close((uv_handle_t *)&h->listener, listener_closed);
	/* h2o closes a connection whose reading side ends: idle ones now,
	 * busy ones once answered; the last one disposes of its context. */
	for (ch = h->conns; ch != NULL; ch = ch->next)
		if (uv_fileno((uv_handle_t *)&ch->tcp, &fd) == 0)
			shutdown(fd, SHUT_RD);
	if (h->stats.connections == 0)
		dispose_context(h);
}

void
http_free(struct http *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < CACHE_SLOTS; i++)
		if (h->cache[i].key != NULL)
			cache_drop(&h->cache[i]);
	free(h->cache);
	web_free(h->web);
	h2o_config_dispose(&h->conf);
	sodium_memzero(h->token, sizeof(h->token));
	sodium_memzero(h->cookie_key, sizeof(h->cookie_key));
	free(h);
}
