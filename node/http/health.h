/* SPDX-License-Identifier: Apache-2.0 */
/* The node's health, as /readyz and `lcctl health` tell it. */
#ifndef LCF_HTTP_HEALTH_H
#define LCF_HTTP_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/space.h"

struct node;

enum health_state {
	HEALTH_OK = 0,               /* ready */
	HEALTH_DEGRADED = 1,         /* serving, with something to see to */
	HEALTH_DOWN = 2,             /* not serving (lcctl: not reachable) */
};

#define HEALTH_REASONS_MAX 8
#define HEALTH_REASON_LEN 640
#define HEALTH_HTTP_LEN 400

/* What health_check found. The checks are copies: the struct owns nothing. */
struct health {
	enum health_state state;
	int ready;                   /* /readyz answers 200 */
	/* What is wrong, one sentence each a person can act on. */
	char reasons[HEALTH_REASONS_MAX][HEALTH_REASON_LEN];
	size_t nreasons;
	/* The checks behind them. */
	int store_open;
	enum space_full store_full;  /* core/space.h: SPACE_OK when not full */
	uint64_t peers_configured;   /* peers the operator added (peer add) */
	uint64_t peers_connected;    /* links up now, to any city */
	uint64_t sync_running;       /* reconciliations running */
	uint64_t sync_records;       /* records received in them so far */
	int catching_up;
	int http_enabled;            /* [http] listen is not off */
	char http_listen[300];       /* HOST:PORT, or "off" */
	char http_problem[HEALTH_HTTP_LEN];   /* why not served; "" when served */
	int federation;              /* the node belongs to a federation */
	int member;                  /* ... and its membership is in force */
};

/*
 * The node's health now; http_problem is http_problem(n->http) (NULL when
 * the HTTP port is served or off). Call from the loop.
 *
 * DOWN: the store is not open, or the node is stopping.
 * DEGRADED, with a reason each:
 *  - the store is full (map_size reached, or its disk full: core/space.h):
 *    reads are served, writes refused, reconciliation fetches nothing;
 *  - the HTTP address could not be bound (http_problem);
 *  - peers are configured (`lcctl peer add`) and no link to any city is up;
 *  - catching up: peers are configured, a reconciliation this node started
 *    is running, and none has ended well since the node started (its
 *    records may still be far behind the federation's);
 *  - in a federation, this city's own membership is not in force (not yet
 *    admitted, revoked, expired: status's `membership`);
 *  - restoring: after `lcnode --restore` or `--new-store`, publishing waits
 *    for the peers (restwatch.h says for which).
 * OK otherwise. ready is state OK: /readyz answers 200 only when the store is
 * open and not full, the node is not stopping, restoring or catching up, at least one
 * peer is reachable if peers are configured, the HTTP port is served (or
 * off) and the city's membership is in force; else 503.
 */
void health_check(struct node *n, const char *http_problem, struct health *out);

/* Adds a reason (printf format; cut to HEALTH_REASON_LEN) and lowers the
 * state to at least state. Reasons past HEALTH_REASONS_MAX are dropped. */
void health_add(struct health *h, enum health_state state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "ok", "degraded" or "down". */
const char *health_state_name(enum health_state state);

/* {"status": "ok"|"degraded"|"down", "ready": bool, "reasons": [...],
 *  "checks": {"store": {"open": bool, "full": "map_size"|"disk"|null},
 *             "peers": {"configured": N, "connected": N},
 *             "sync": {"running": N, "records": N, "catching_up": bool},
 *             "http": {"listen": "HOST:PORT"|"off", "served": bool,
 *                      "problem": string|null},
 *             "membership": {"federation": bool, "in_force": bool}}}.
 * A new reference. */
json_t *health_json(const struct health *h);

#endif
