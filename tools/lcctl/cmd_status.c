// SPDX-License-Identifier: Apache-2.0
// lcctl status: the node's city, version, uptime, database size and record counters.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcctl.h"
#include "model/kinds.h"
#include "base/util.h"
#include "base/xmalloc.h"

static const char usage[] =
    "Usage: lcctl [-d DIR] status [--json]\n"
    "\n"
    "Shows the node's city, version, uptime, database size and map size, current\n"
    "records by kind, stored versions, forks, known authors and its last seq;\n"
    "then its peer listener, this city's membership of its federation, peers\n"
    "connected and known, reconciliations running and refused peer connections.\n"
    "\n"
    "Options:\n"
    "  --json       one JSON object (ids as hex, sizes in bytes, times in ms)\n"
    "  -h, --help   show this help\n";

static json_t *
status_json(const Lcf__StatusReply *st)
{
	json_t *o = json_object(), *kinds = json_array(), *k, *why;
	char hex[LCF_ID_HEX];
	size_t i;

	json_object_set_new(o, "city_id", json_string(render_id(st->city_id.data,
	    st->city_id.len, hex)));
	json_object_set_new(o, "city_name", st->city_name ?
	    json_string(st->city_name) : json_null());
	json_object_set_new(o, "version", st->version ? json_string(st->version) :
	    json_null());
	json_object_set_new(o, "uptime_ms", json_integer((json_int_t)st->uptime_ms));
	json_object_set_new(o, "started_ms", json_integer((json_int_t)st->started_ms));
	json_object_set_new(o, "db_size", json_integer((json_int_t)st->db_size));
	json_object_set_new(o, "db_map_size", json_integer((json_int_t)st->db_map_size));
	for (i = 0; i < st->n_kinds; i++) {
		k = json_object();
		json_object_set_new(k, "kind",
		    json_string(kinds_name(st->kinds[i]->kind)));
		json_object_set_new(k, "current",
		    json_integer((json_int_t)st->kinds[i]->current));
		json_object_set_new(k, "deleted",
		    json_integer((json_int_t)st->kinds[i]->deleted));
		json_array_append_new(kinds, k);
	}
	json_object_set_new(o, "kinds", kinds);
	json_object_set_new(o, "records_total",
	    json_integer((json_int_t)st->records_total));
	json_object_set_new(o, "forks", json_integer((json_int_t)st->forks));
	json_object_set_new(o, "authors", json_integer((json_int_t)st->authors));
	json_object_set_new(o, "last_seq", json_integer((json_int_t)st->last_seq));
	json_object_set_new(o, "data_dir", st->data_dir ? json_string(st->data_dir) :
	    json_null());
	json_object_set_new(o, "listen", st->listen ? json_string(st->listen) :
	    json_null());
	json_object_set_new(o, "peers_known", json_integer((json_int_t)st->peers_known));
	json_object_set_new(o, "peers_connected",
	    json_integer((json_int_t)st->peers_connected));
	json_object_set_new(o, "sync_running",
	    json_integer((json_int_t)st->sync_running));
	json_object_set_new(o, "sync_records",
	    json_integer((json_int_t)st->sync_records));
	if (st->has_sync_expected) {
		json_object_set_new(o, "sync_expected",
		    json_integer((json_int_t)st->sync_expected));
		json_object_set_new(o, "sync_stored",
		    json_integer((json_int_t)st->sync_stored));
		json_object_set_new(o, "sync_remaining",
		    json_integer((json_int_t)st->sync_remaining));
		json_object_set_new(o, "sync_eta_ms", st->has_sync_eta_ms ?
		    json_integer((json_int_t)st->sync_eta_ms) : json_null());
	}
	json_object_set_new(o, "refused_connections",
	    json_integer((json_int_t)st->refused_connections));
	why = json_object();
	for (i = 0; i < st->n_refused_by_reason; i++)
		if (st->refused_by_reason[i]->reason != NULL)
			json_object_set_new(why, st->refused_by_reason[i]->reason,
			    json_integer((json_int_t)st->refused_by_reason[i]->count));
	json_object_set_new(o, "refused_by_reason", why);
	json_object_set_new(o, "dead_links",
	    json_integer((json_int_t)st->dead_links));
	json_object_set_new(o, "records_quarantined",
	    json_integer((json_int_t)st->records_quarantined));
	json_object_set_new(o, "peers_queued_bytes",
	    json_integer((json_int_t)st->peers_queued_bytes));
	json_object_set_new(o, "peer_queue_full",
	    json_integer((json_int_t)st->peer_queue_full));
	json_object_set_new(o, "peers_queue_full",
	    json_integer((json_int_t)st->peers_queue_full));
	json_object_set_new(o, "peers_stalled",
	    json_integer((json_int_t)st->peers_stalled));
	json_object_set_new(o, "offenders",
	    json_integer((json_int_t)st->offenders));
	json_object_set_new(o, "receive_queued_bytes",
	    json_integer((json_int_t)st->receive_queued_bytes));
	json_object_set_new(o, "receive_queue_full",
	    json_integer((json_int_t)st->receive_queue_full));
	json_object_set_new(o, "receive_waiting_links",
	    json_integer((json_int_t)st->receive_waiting_links));
	json_object_set_new(o, "clock_warning", st->clock_warning ?
	    json_string(st->clock_warning) : json_null());
	json_object_set_new(o, "ingest_records",
	    json_integer((json_int_t)st->ingest_records));
	json_object_set_new(o, "ingest_transactions",
	    json_integer((json_int_t)st->ingest_transactions));
	json_object_set_new(o, "http", st->http ? json_string(st->http) : json_null());
	json_object_set_new(o, "http_problem", st->http_problem ?
	    json_string(st->http_problem) : json_null());
	json_object_set_new(o, "membership", st->membership ?
	    json_string(st->membership) : json_null());
	json_object_set_new(o, "held_records", st->has_held_records ?
	    json_integer((json_int_t)st->held_records) : json_null());
	json_object_set_new(o, "held_cities", st->has_held_cities ?
	    json_integer((json_int_t)st->held_cities) : json_null());
	json_object_set_new(o, "restore", restore_json(st->restore));
	json_object_set_new(o, "store_full", st->store_full ?
	    json_string(st->store_full) : json_null());
	json_object_set_new(o, "store_full_message", st->store_full_message ?
	    json_string(st->store_full_message) : json_null());
	json_object_set_new(o, "store_full_since_ms", st->has_store_full_since_ms ?
	    json_integer((json_int_t)st->store_full_since_ms) : json_null());
	json_object_set_new(o, "store_full_probe_in_ms",
	    st->has_store_full_probe_in_ms ?
	    json_integer((json_int_t)st->store_full_probe_in_ms) : json_null());
	json_object_set_new(o, "space_refused", json_pack("{s:I,s:I,s:I}",
	    "sync", (json_int_t)st->space_refused_sync,
	    "push", (json_int_t)st->space_refused_push,
	    "node", (json_int_t)st->space_refused_node));
	return o;
}

/* "12 (timeout 9, protocol 3)": the count, then by reason. */
static const char *
refused_text(const Lcf__StatusReply *st, char *buf, size_t size)
{
	size_t i, len;

	len = (size_t)snprintf(buf, size, "%" PRIu64, st->refused_connections);
	for (i = 0; i < st->n_refused_by_reason && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s %" PRIu64,
		    i == 0 ? " (" : ", ", st->refused_by_reason[i]->reason ?
		    st->refused_by_reason[i]->reason : "?",
		    st->refused_by_reason[i]->count);
	if (i > 0 && len < size)
		snprintf(buf + len, size - len, ")");
	return buf;
}

static void
status_text(const Lcf__StatusReply *st)
{
	char hex[LCF_ID_HEX], a[256], b[32], *line = NULL, *item, *next;
	size_t i;

	render_field(stdout, "City", st->city_name ? st->city_name : "(no profile yet)");
	render_field(stdout, "City id", render_id(st->city_id.data, st->city_id.len,
	    hex));
	render_field(stdout, "Version", st->version ? st->version : "?");
	render_field(stdout, "Uptime", render_duration(st->uptime_ms, a, sizeof(a)));
	render_size(st->db_size, a, sizeof(a));
	render_size(st->db_map_size, b, sizeof(b));
	item = xasprintf("%s used, map size %s", a, b);
	render_field(stdout, "Database", item);
	free(item);
	if (st->store_full != NULL) {
		item = xasprintf("FULL (%s): %s; refused since start: %" PRIu64
		    " pulled, %" PRIu64 " pushed, %" PRIu64 " own records",
		    st->store_full, st->store_full_message ?
		    st->store_full_message : "", st->space_refused_sync,
		    st->space_refused_push, st->space_refused_node);
		render_field(stdout, "Store", item);
		free(item);
	}
	for (i = 0; i < st->n_kinds; i++) {
		if (st->kinds[i]->deleted > 0)
			item = xasprintf("%s %" PRIu64 " (%" PRIu64 " deleted)",
			    kinds_name(st->kinds[i]->kind),
			    st->kinds[i]->current, st->kinds[i]->deleted);
		else
			item = xasprintf("%s %" PRIu64,
			    kinds_name(st->kinds[i]->kind), st->kinds[i]->current);
		next = line ? xasprintf("%s, %s", line, item) : xstrdup(item);
		free(line);
		free(item);
		line = next;
	}
	render_field(stdout, "Records", line ? line : "none");
	free(line);
	snprintf(a, sizeof(a), "%" PRIu64, st->records_total);
	render_field(stdout, "Stored versions", a);
	snprintf(a, sizeof(a), "%" PRIu64, st->forks);
	render_field(stdout, "Forks", a);
	if (st->records_quarantined > 0) {
		snprintf(a, sizeof(a), "%" PRIu64 " damaged on disk: not served, "
		    "fetched again from peers (lcctl verify lists them)",
		    st->records_quarantined);
		render_field(stdout, "Quarantined", a);
	}
	snprintf(a, sizeof(a), "%" PRIu64, st->authors);
	render_field(stdout, "Authors", a);
	snprintf(a, sizeof(a), "%" PRIu64, st->last_seq);
	render_field(stdout, "Last seq", a);
	if (st->data_dir != NULL)
		render_field(stdout, "Data directory", st->data_dir);
	if (st->listen != NULL)
		render_field(stdout, "Peer listener", st->listen);
	if (st->http_problem != NULL) {
		item = xasprintf("degraded: %s", st->http_problem);
		render_field(stdout, "HTTP", item);
		free(item);
	} else if (st->http != NULL) {
		render_field(stdout, "HTTP", st->http);
	}
	render_field(stdout, "Membership", st->membership != NULL ?
	    st->membership : "open node (no federation)");
	if (st->has_held_records && st->held_records > 0) {
		item = xasprintf("%" PRIu64 " records of %" PRIu64 " cities not "
		    "admitted (yet), waiting for their admission", st->held_records,
		    st->held_cities);
		render_field(stdout, "Held", item);
		free(item);
	}
	item = xasprintf("%" PRIu64 " connected of %" PRIu64 " known",
	    st->peers_connected, st->peers_known);
	render_field(stdout, "Peers", item);
	free(item);
	if (st->dead_links > 0) {
		item = xasprintf("%" PRIu64 " links closed since start: the peer "
		    "or the path went silent", st->dead_links);
		render_field(stdout, "Dead links", item);
		free(item);
	}
	if (st->sync_running > 0 && st->has_sync_expected &&
	    st->sync_expected > 0) {
		char eta[32];

		if (st->has_sync_eta_ms)
			render_duration(st->sync_eta_ms, eta, sizeof(eta));
		item = xasprintf("%" PRIu64 " of %" PRIu64 " records stored (%.0f%%), "
		    "%" PRIu64 " to go%s%s; %" PRIu64 " session%s",
		    st->sync_stored, st->sync_expected,
		    100.0 * (double)st->sync_stored / (double)st->sync_expected,
		    st->sync_remaining, st->has_sync_eta_ms ? ", about " : "",
		    st->has_sync_eta_ms ? eta : "", st->sync_running,
		    st->sync_running == 1 ? "" : "s");
	} else if (st->sync_running > 0)
		item = xasprintf("%" PRIu64 " running, %" PRIu64 " records received "
		    "so far", st->sync_running, st->sync_records);
	else
		item = xstrdup("idle");
	render_field(stdout, "Reconciliation", item);
	free(item);
	render_field(stdout, "Peers refused", refused_text(st, a, sizeof(a)));
	render_size(st->peers_queued_bytes, b, sizeof(b));
	item = xasprintf("%s queued now; a peer's bound reached %" PRIu64
	    " times, all peers' %" PRIu64 "; %" PRIu64 " dropped for not "
	    "reading; %" PRIu64 " offenders refused now", b, st->peer_queue_full,
	    st->peers_queue_full, st->peers_stalled, st->offenders);
	render_field(stdout, "Peer bounds", item);
	free(item);
	render_size(st->receive_queued_bytes, b, sizeof(b));
	item = xasprintf("%s waiting to be verified and stored; its bound "
	    "reached %" PRIu64 " times; %" PRIu64 " link%s waiting for room",
	    b, st->receive_queue_full, st->receive_waiting_links,
	    st->receive_waiting_links == 1 ? "" : "s");
	render_field(stdout, "Received", item);
	free(item);
	if (st->clock_warning != NULL)
		render_field(stdout, "Clock", st->clock_warning);
	item = xasprintf("%" PRIu64 " records from peers and publish in %" PRIu64
	    " transactions", st->ingest_records, st->ingest_transactions);
	render_field(stdout, "Written", item);
	free(item);
	restore_text(st->restore);
}

int
cmd_status(struct lcctl *ctx, int argc, char **argv)
{
	Lcf__CtlResponse *resp = NULL;
	json_t *j;
	int ret;

	ret = lcctl_simple_opts(ctx, argc, argv, usage, 1);
	if (ret >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, NULL, NULL)) != LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	if (client_status(ctx, &resp) < 0)
		goto out;
	if (ctx->json) {
		j = status_json(resp->status);
		render_json(j);
		json_decref(j);
	} else {
		status_text(resp->status);
	}
	ret = LCCTL_EXIT_OK;
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret;
}
