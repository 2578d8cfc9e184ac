// SPDX-License-Identifier: Apache-2.0
// The node's health: ok, degraded or down with reasons, for /healthz, /readyz and `lcctl health`.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "base/util.h"
#include "core/member.h"
#include "core/node.h"
#include "core/restore.h"
#include "net/restwatch.h"
#include "http/health.h"
#include "http/http_int.h"
#include "model/identity.h"
#include "net/peer.h"
#include "net/sync.h"

/* Addresses named in the "no peer reachable" reason, at most. */
#define NAMED_PEERS 3

void
health_add(struct health *h, enum health_state state, const char *fmt, ...)
{
	va_list ap;

	if (state > h->state)
		h->state = state;
	if (h->nreasons == HEALTH_REASONS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(h->reasons[h->nreasons++], HEALTH_REASON_LEN, fmt, ap);
	va_end(ap);
}

const char *
health_state_name(enum health_state state)
{
	switch (state) {
	case HEALTH_OK: return "ok";
	case HEALTH_DEGRADED: return "degraded";
	default: return "down";
	}
}

/* The first configured peers and their last errors, "; " between, into out. */
static void
name_peers(const struct peer_info *v, size_t count, char *out, size_t len)
{
	size_t i, named = 0, used = 0;
	int w;

	out[0] = '\0';
	for (i = 0; i < count && named < NAMED_PEERS && used < len; i++) {
		if (v[i].address[0] == '\0' || v[i].discovered)
			continue;
		/* The last error names the address already, as a rule. */
		if (v[i].last_error[0] == '\0')
			w = snprintf(out + used, len - used, "%s%s",
			    named > 0 ? "; " : "", v[i].address);
		else if (strstr(v[i].last_error, v[i].address) != NULL)
			w = snprintf(out + used, len - used, "%s%s",
			    named > 0 ? "; " : "", v[i].last_error);
		else
			w = snprintf(out + used, len - used, "%s%s: %s",
			    named > 0 ? "; " : "", v[i].address, v[i].last_error);
		if (w < 0)
			break;
		used += (size_t)w;
		named++;
	}
}

/* The peers' checks: reachability, and whether the node is catching up. */
static void
check_peers(struct node *n, struct health *h)
{
	struct peers_summary ps;
	struct peer_info *v = NULL;
	size_t count = 0, i;
	int synced = 0, running = 0;
	char names[HEALTH_REASON_LEN];

	peers_summary(n, &ps);
	peers_list(n, &v, &count);
	sync_progress(n, &h->sync_running, &h->sync_records);
	h->peers_connected = ps.connected;
	for (i = 0; i < count; i++) {
		/* The operator's entries; not cities known from their own
		 * connections, nor those discovery found. */
		if (v[i].address[0] != '\0' && !v[i].discovered)
			h->peers_configured++;
		if (v[i].last_sync_ms >= n->started_ms && v[i].last_sync_result == 0)
			synced = 1;
		if (v[i].sync_running)
			running = 1;
	}
	if (h->peers_configured > 0 && h->peers_connected == 0) {
		name_peers(v, count, names, sizeof(names));
		health_add(h, HEALTH_DEGRADED, "no peer reachable: %llu configured, "
		    "none connected (%s); check `lcctl peer list`",
		    (unsigned long long)h->peers_configured, names);
	}
	h->catching_up = h->peers_configured > 0 && running && !synced;
	if (h->catching_up)
		health_add(h, HEALTH_DEGRADED, "catching up: the first "
		    "reconciliation since the start is running (%llu records "
		    "received so far); wait for it, or follow it with `lcctl "
		    "status`", (unsigned long long)h->sync_records);
	free(v);
}

void
health_check(struct node *n, const char *http_problem, struct health *out)
{
	char why[512];

	memset(out, 0, sizeof(*out));
	out->state = HEALTH_OK;
	out->store_open = n->store != NULL;
	out->http_enabled = n->cfg.http_enabled;
	if (n->cfg.http_enabled)
		addr_format(out->http_listen, sizeof(out->http_listen),
		    n->cfg.http_host, n->cfg.http_port);
	else
		snprintf(out->http_listen, sizeof(out->http_listen), "off");
	if (!out->store_open)
		health_add(out, HEALTH_DOWN, "the store is not open: see lcnode's "
		    "log");
	if (n->stopping)
		health_add(out, HEALTH_DOWN, "the node is stopping");
	out->store_full = n->space.full;
	if (out->store_full != SPACE_OK) {
		space_describe(n, why, sizeof(why));
		health_add(out, HEALTH_DEGRADED, "%s", why);
	}
	if (http_problem != NULL) {
		snprintf(out->http_problem, sizeof(out->http_problem), "%s",
		    http_problem);
		/* The problem says what to change; the change needs a
		 * restart. */
		health_add(out, HEALTH_DEGRADED, "the HTTP port is not served: %s; "
		    "restart lcnode after the change", http_problem);
	}
	check_peers(n, out);
	if (restore_active(n)) {
		char msg[HEALTH_REASON_LEN - 16];

		restwatch_describe(n, msg, sizeof(msg));
		health_add(out, HEALTH_DEGRADED, "restoring: %s", msg);
	}
	out->federation = members_enabled(n);
	if (out->federation) {
		out->member = members_link_ok(n, n->id->pk, why, sizeof(why)) == 0;
		if (!out->member)
			health_add(out, HEALTH_DEGRADED, "this city's membership "
			    "is not in force: %s; ask the secretariat for a "
			    "membership record and publish it with `lcctl "
			    "publish FILE`", why);
	}
	out->ready = out->state == HEALTH_OK;
}

json_t *
health_json(const struct health *h)
{
	json_t *j = json_object(), *reasons = json_array(), *checks = json_object();
	json_t *o, *v;
	size_t i;

	json_object_set_new(j, "status", json_string(health_state_name(h->state)));
	json_object_set_new(j, "ready", json_boolean(h->ready));
	for (i = 0; i < h->nreasons; i++)
		/* A reason may quote a peer's words: keep the JSON valid. */
		if ((v = json_string(h->reasons[i])) != NULL ||
		    (v = json_string("(a reason that is not UTF-8)")) != NULL)
			json_array_append_new(reasons, v);
	json_object_set_new(j, "reasons", reasons);
	o = json_pack("{s:b}", "open", h->store_open);
	json_object_set_new(o, "full", space_full_name(h->store_full) != NULL ?
	    json_string(space_full_name(h->store_full)) : json_null());
	json_object_set_new(checks, "store", o);
	json_object_set_new(checks, "peers", json_pack("{s:I,s:I}", "configured",
	    (json_int_t)h->peers_configured, "connected",
	    (json_int_t)h->peers_connected));
	json_object_set_new(checks, "sync", json_pack("{s:I,s:I,s:b}", "running",
	    (json_int_t)h->sync_running, "records", (json_int_t)h->sync_records,
	    "catching_up", h->catching_up));
	o = json_object();
	json_object_set_new(o, "listen", json_string(h->http_listen));
	json_object_set_new(o, "served", json_boolean(h->http_enabled &&
	    h->http_problem[0] == '\0'));
	v = h->http_problem[0] != '\0' ? json_string(h->http_problem) : NULL;
	json_object_set_new(o, "problem", v != NULL ? v : json_null());
	json_object_set_new(checks, "http", o);
	json_object_set_new(checks, "membership", json_pack("{s:b,s:b}",
	    "federation", h->federation, "in_force", !h->federation || h->member));
	json_object_set_new(j, "checks", checks);
	return j;
}

void
health_live(struct http_call *c)
{
	/* Being answered at all is the check: the loop turns. */
	answer_json(c, 200, json_pack("{s:s}", "status", "ok"));
}

void
health_ready(struct http_call *c)
{
	struct health h;

	/* Read from the struct, not through http_problem(): server.c
	 * calls this file, and files of a layer call each other in one
	 * direction only. Served, as this request is, it is empty. */
	health_check(c->n, c->h->problem[0] != '\0' ? c->h->problem : NULL, &h);
	c->cacheable = 0;
	answer_json(c, h.ready ? 200 : 503, health_json(&h));
}
