/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP layer's internals, shared by its files (not the node's API).
 * Files, lowest first: token.c (the operator token), answer.c (a call's
 * parameters and answers), csv.c (CSV answers), health.c, metrics.c, sse.c
 * (the event stream),
 * api.c (the JSON API), static.c (the dashboard's files), server.c (h2o, routing, access, limits). */
#ifndef LCF_HTTP_INT_H
#define LCF_HTTP_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#define H2O_USE_LIBUV 1
#include <h2o.h>

#include "http/http.h"
#include "http/token.h"

#define HTTP_PARAMS_MAX 32       /* query parameters in one request */
#define HTTP_SEGS_MAX 8          /* path segments */
#define HTTP_URL_MAX 4096        /* path and query, bytes */
#define HTTP_STATUS_MAX 600      /* status codes counted: 0..599 */

struct sse;
struct web;

/* Counters the server keeps for /metrics. */
struct http_stats {
	uint64_t requests[HTTP_STATUS_MAX];   /* answers by status code */
	uint64_t connections;                 /* open now */
	uint64_t accepted;                    /* since start */
	uint64_t refused;                     /* over max_connections */
};

struct http_cache_entry;
struct http_call;
struct conn_handle;

struct http {
	struct node *n;
	h2o_globalconf_t conf;
	h2o_context_t ctx;
	h2o_accept_ctx_t accept;
	uv_tcp_t listener;
	int listening;
	int ctx_ready;
	char problem[400];            /* why not served; "" when served */
	char url[300];                /* http://HOST:PORT */
	char token[HTTP_TOKEN_HEX + 1];
	uint8_t cookie_key[32];       /* signs session cookies; per start */
	uint64_t member_gen;          /* membership changes seen */
	int cap_logged;               /* the connection cap was logged */
	struct http_stats stats;
	struct conn_handle *conns;    /* open connections (server.c) */
	struct http_cache_entry *cache;
	struct sse *sse;
	struct web *web;               /* the dashboard, or NULL (static.c) */
	int stopping;
	/* server.c's, for a handler that took its request (c->taken) and
	 * answers later, from the loop: sends the answer left in c. c->req
	 * must still be alive (its pool not disposed), c->route_flags as
	 * serve set them; c->body stays the caller's. */
	void (*send_later)(struct http_call *c);
};

struct http_param {
	char *name;                   /* decoded, NUL-terminated */
	char *value;
};

/* One request as a handler sees it, and the answer it leaves. */
struct http_call {
	struct http *h;
	struct node *n;
	h2o_req_t *req;
	int head;                     /* HEAD: the answer without its body */
	int operator;                 /* may read operator data */
	int personal;                 /* contact names and addresses shown */
	char *segs[HTTP_SEGS_MAX];    /* decoded path segments after the route */
	size_t nsegs;
	struct http_param params[HTTP_PARAMS_MAX];
	size_t nparams;
	/* the answer */
	int status;
	const char *type;             /* Content-Type */
	char *body;                   /* malloc'd */
	size_t len;
	int cacheable;                /* depends only on the store's state */
	int taken;                    /* the handler answers itself (sse.c), or
	                               * later (http.send_later) */
	unsigned route_flags;         /* the route's (server.c's R_ flags) */
	const char *allow;            /* 405: the methods allowed */
};

/* answer.c: parameters and answers. */
/* The first value of parameter name, or NULL. */
const char *answer_param(const struct http_call *c, const char *name);
/* Every parameter name must be one of names (NULL-terminated); else a 400
 * problem naming it, and LCF_EINVAL. */
int answer_known_params(struct http_call *c, const char *const *names);
/* A JSON answer (takes the reference). */
void answer_json(struct http_call *c, int status, json_t *j);
/* The same for JSON text already written (view_run_text's): takes text
 * (malloc'd, len bytes). */
void answer_json_text(struct http_call *c, int status, char *text, size_t len);
/* An RFC 9457 problem: type is a short slug (about:blank when NULL), detail a
 * sentence; param names the parameter at fault (or NULL). */
void answer_problem(struct http_call *c, int status, const char *param,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Text answer (copied). */
void answer_text(struct http_call *c, int status, const char *type,
    const char *body, size_t len);
/* Decodes %XX and, in a query, '+'; in place. 0 or LCF_EINVAL (bad escape,
 * NUL, or not UTF-8). */
int answer_unescape(char *s, int query);
/* Splits the query string (without '?') into c->params. 0, or a 400 problem
 * answered and LCF_EINVAL. */
int answer_parse_query(struct http_call *c, char *q);
/* The standard reason phrase of status. */
const char *answer_reason(int status);

/* csv.c: CSV answers, the bytes of lcctl's --csv (model/csvout.h).
 * csv_param reads the format parameter (json, the default, or csv) into
 * *csv: 0, or a 400 problem answered and LCF_EINVAL. csv_answer_records
 * answers the records items (the API's JSON form, borrowed) of kind as `lcctl
 * KIND list --csv` writes them; csv_answer_rows answers flat objects as
 * csvout_json_rows writes them. */
int csv_param(struct http_call *c, int *csv);
void csv_answer_records(struct http_call *c, int kind, const json_t *items);
void csv_answer_rows(struct http_call *c, const json_t *rows);

/* api.c: the JSON API's resources (server.c routes them; segs hold the
 * path's '*' segments). */
void api_status(struct http_call *c);
void api_catalog(struct http_call *c);
void api_cities(struct http_call *c);
void api_city(struct http_call *c);
void api_city_practices(struct http_call *c);
void api_city_indicators(struct http_call *c);
void api_practices(struct http_call *c);
void api_practice(struct http_call *c);
void api_practice_versions(struct http_call *c);
void api_indicators(struct http_call *c);
void api_members(struct http_call *c);
void api_peers(struct http_call *c);
void api_openapi(struct http_call *c);
/* Views (view/view.h): the query's parameters are the view's arguments (a
 * repeated one a list), the path's '*' segment its "id". */
void api_coverage(struct http_call *c);
void api_city_report(struct http_call *c);
void api_partners(struct http_call *c);
void api_federation_status(struct http_call *c);
void api_indicator_summary(struct http_call *c);

/* health.c: GET /healthz (the loop turns) and /readyz (health.h). */
void health_live(struct http_call *c);
void health_ready(struct http_call *c);

/* metrics.c: GET /metrics, the Prometheus text format (operator). */
void metrics_answer(struct http_call *c);

/* sse.c: GET /api/v1/events, Server-Sent Events fed by the bus. sse_new and
 * sse_free at the server's start and end; sse_on_event from http_on_event;
 * sse_answer takes the request over (c->taken). */
struct sse *sse_new(struct http *h);
void sse_free(struct sse *s);
void sse_on_event(struct http *h, const struct events_event *ev);
void sse_answer(struct http_call *c);
/* The ring's reader side (for sse.c's streams and its unit test). Where a
 * client resuming after the event last_id starts: 0 and *pos right after it
 * while it is kept; 1 and *pos the oldest event kept when it is not (events
 * were missed, or it is of another start of the node); LCF_EINVAL when
 * last_id is not of the form STARTMS-N. */
int sse_resume(const struct sse *s, const char *last_id, uint64_t *pos);
/* Copies whole frames from *pos on (link events only when operator) into
 * buf, at most cap bytes, and moves *pos past them. Returns the bytes
 * copied; 0 as well when *pos is no longer kept. */
size_t sse_fill(const struct sse *s, uint64_t *pos, int operator, char *buf,
    size_t cap);

/* static.c: the dashboard's files under [http] web_root, read at start.
 * web_load reads every file of root (symbolic links are not followed; NAME.gz
 * beside NAME is its gzip form) into *out, NULL when root is NULL or holds no
 * index.html; 0, or a negative code with err set (unreadable, too many or too
 * large files). web_free accepts NULL. */
int web_load(const char *root, struct web **out, char *err, size_t errlen);
void web_free(struct web *w);
/* Answers a GET or HEAD of the path segs (decoded) from w: the file, or
 * index.html for the dashboard's pages (/, /practices/..., /city/...: the
 * table in static.c); with no dashboard (w NULL), a page saying how to build it. 0 when
 * answered, LCF_ENOTFOUND when no file matches (nothing sent). */
int web_answer(struct http_call *c, const struct web *w, char **segs, size_t nsegs);

#endif
