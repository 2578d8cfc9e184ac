// SPDX-License-Identifier: Apache-2.0
// lcctl peer: add, remove and list the node's peer cities, and reconcile with one now.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "lcctl.h"
#include "base/util.h"
#include "base/xmalloc.h"

static const char add_usage[] =
    "Usage: lcctl [-d DIR] peer add HOST:PORT [--id CITYID] [--json]\n"
    "\n"
    "Remembers a peer city (in DIR/peers.json) and dials it at once; the node\n"
    "redials it whenever the connection drops, waiting 1 s, then 2 s, 4 s ...\n"
    "up to 5 minutes between attempts. HOST is an IP address or a name\n"
    "([::1]:7400 for IPv6).\n"
    "\n"
    "Options:\n"
    "  --id CITYID  the city id (64 hex digits) the peer must present: a node\n"
    "               at that address with another key is dropped and the\n"
    "               refusal shown by `peer list`\n"
    "  --json       the new peer as a JSON object\n"
    "  -h, --help   show this help\n";

static const char rm_usage[] =
    "Usage: lcctl [-d DIR] peer rm ID|HOST:PORT\n"
    "\n"
    "Forgets a peer and closes its connection. ID is its city id or a unique\n"
    "prefix of at least 6 hex digits; HOST:PORT its address as added. A city\n"
    "that connects to this node again reappears as an inbound peer.\n"
    "\n"
    "Options:\n"
    "  -h, --help   show this help\n";

static const char list_usage[] =
    "Usage: lcctl [-d DIR] peer list [--json]\n"
    "\n"
    "Lists the peer cities: the ones added with `peer add` (outbound, DIR\n"
    "out), the ones that connected to this node (inbound, in), and the ones\n"
    "the node dialed at the addresses of their endpoint records (discovered,\n"
    "disc; --json: \"discovered\": true). For each: city id and name,\n"
    "address, state and since when, last handshake, round-trip time, bytes and\n"
    "records in and out, refused records and violations, the last error, and\n"
    "the last reconciliation and its result. Counters persist across restarts.\n"
    "\n"
    "Options:\n"
    "  --json       a JSON array (ids as hex, times in Unix ms, sizes in bytes)\n"
    "  -h, --help   show this help\n";

static const char sync_usage[] =
    "Usage: lcctl [-d DIR] peer sync ID|HOST:PORT [--json]\n"
    "\n"
    "Reconciles this node's records with one connected peer now and reports\n"
    "the round trips, bytes and records exchanged. If a reconciliation with\n"
    "that peer is running, a new one starts when it ends.\n"
    "\n"
    "Options:\n"
    "  --json       a JSON object\n"
    "  -h, --help   show this help\n";

static const char *
state_name(Lcf__PeerState s)
{
	switch (s) {
	case LCF__PEER_STATE__PEER_STATE_DISCONNECTED:
		return "disconnected";
	case LCF__PEER_STATE__PEER_STATE_CONNECTING:
		return "connecting";
	case LCF__PEER_STATE__PEER_STATE_CONNECTED:
		return "connected";
	case LCF__PEER_STATE__PEER_STATE_RETRYING:
		return "retrying";
	default:
		return "unknown";
	}
}

static json_t *
json_u64(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *
json_ms(int has, int64_t ms)
{
	return has && ms > 0 ? json_integer(ms) : json_null();
}

static json_t *
json_text(const char *s)
{
	json_t *j;
	char *c;

	if (s == NULL)
		return json_null();
	/* The node sends the peer's words already cleaned; be sure anyway. */
	c = render_clean(s);
	j = json_string(c);
	free(c);
	return j != NULL ? j : json_null();
}

static json_t *
peer_json(const Lcf__PeerInfo *p)
{
	json_t *o = json_object();
	char hex[LCF_ID_HEX];

	json_object_set_new(o, "id", p->has_id ? json_string(render_id(p->id.data,
	    p->id.len, hex)) : json_null());
	json_object_set_new(o, "pinned_id", p->has_pinned_id ?
	    json_string(render_id(p->pinned_id.data, p->pinned_id.len, hex)) :
	    json_null());
	json_object_set_new(o, "city_name", json_text(p->city_name));
	json_object_set_new(o, "address", json_text(p->address));
	json_object_set_new(o, "direction", json_string(p->inbound ? "inbound" :
	    "outbound"));
	json_object_set_new(o, "discovered", json_boolean(p->discovered));
	json_object_set_new(o, "state", json_string(state_name(p->state)));
	json_object_set_new(o, "since_ms", json_ms(p->has_since_ms, p->since_ms));
	json_object_set_new(o, "remote", json_text(p->remote));
	json_object_set_new(o, "listen", json_text(p->listen));
	json_object_set_new(o, "last_handshake_ms", json_ms(p->has_last_handshake_ms,
	    p->last_handshake_ms));
	json_object_set_new(o, "rtt_ms", p->has_rtt_ms ? json_integer(p->rtt_ms) :
	    json_null());
	json_object_set_new(o, "next_dial_ms", json_ms(p->has_next_dial_ms,
	    p->next_dial_ms));
	json_object_set_new(o, "bytes_in", json_u64(p->bytes_in));
	json_object_set_new(o, "bytes_out", json_u64(p->bytes_out));
	json_object_set_new(o, "records_in", json_u64(p->records_in));
	json_object_set_new(o, "records_out", json_u64(p->records_out));
	json_object_set_new(o, "refused", json_u64(p->refused));
	json_object_set_new(o, "queued_bytes", json_u64(p->queued_bytes));
	json_object_set_new(o, "last_error", json_text(p->last_error));
	json_object_set_new(o, "last_error_ms", json_ms(p->has_last_error_ms,
	    p->last_error_ms));
	json_object_set_new(o, "sync_running", json_boolean(p->sync_running));
	json_object_set_new(o, "last_sync_ms", json_ms(p->has_last_sync_ms,
	    p->last_sync_ms));
	json_object_set_new(o, "last_sync_ok", p->has_last_sync_ms ?
	    json_boolean(p->last_sync_result == 0) : json_null());
	json_object_set_new(o, "last_sync_result", p->has_last_sync_result ?
	    json_integer(p->last_sync_result) : json_null());
	json_object_set_new(o, "last_sync_message", json_text(p->last_sync_message));
	json_object_set_new(o, "last_sync_records_in",
	    json_u64(p->last_sync_records_in));
	json_object_set_new(o, "last_sync_records_out",
	    json_u64(p->last_sync_records_out));
	return o;
}

/* "812 B", "3.4 KiB", else as render_size: peers often move little. */
static char *
size_text(uint64_t bytes, char *out, size_t max)
{
	if (bytes < 1024)
		snprintf(out, max, "%" PRIu64 " B", bytes);
	else if (bytes < (1u << 20))
		snprintf(out, max, "%.1f KiB", (double)bytes / 1024);
	else
		render_size(bytes, out, max);
	return out;
}

/* "3m ago", or "-" for never. */
static char *
ago(int has, int64_t ms, char *out, size_t max)
{
	char d[32];
	int64_t now = now_ms();

	if (!has || ms <= 0)
		snprintf(out, max, "-");
	else
		snprintf(out, max, "%s ago", render_duration(now > ms ?
		    (uint64_t)(now - ms) : 0, d, sizeof(d)));
	return out;
}

static void
peer_row(struct table *t, const Lcf__PeerInfo *p)
{
	char id[16], since[48], hs[48], rtt[24], bytes[64], recs[48], refused[24],
	    sync[200], a[32], b[32];
	const char *cells[12];

	if (p->has_id)
		render_short_id(p->id.data, p->id.len, id);
	else if (p->has_pinned_id)
		render_short_id(p->pinned_id.data, p->pinned_id.len, id);
	else
		snprintf(id, sizeof(id), "?");
	ago(p->has_since_ms, p->since_ms, since, sizeof(since));
	ago(p->has_last_handshake_ms, p->last_handshake_ms, hs, sizeof(hs));
	if (p->has_rtt_ms)
		snprintf(rtt, sizeof(rtt), "%" PRId64 " ms", p->rtt_ms);
	else
		snprintf(rtt, sizeof(rtt), "-");
	snprintf(bytes, sizeof(bytes), "%s / %s", size_text(p->bytes_in, a,
	    sizeof(a)), size_text(p->bytes_out, b, sizeof(b)));
	snprintf(recs, sizeof(recs), "%" PRIu64 " / %" PRIu64, p->records_in,
	    p->records_out);
	snprintf(refused, sizeof(refused), "%" PRIu64, p->refused);
	if (p->sync_running)
		snprintf(sync, sizeof(sync), "running");
	else if (!p->has_last_sync_ms)
		snprintf(sync, sizeof(sync), "-");
	else
		snprintf(sync, sizeof(sync), "%s: %s", ago(1, p->last_sync_ms, a,
		    sizeof(a)), p->last_sync_result == 0 ? "ok" :
		    p->last_sync_message ? p->last_sync_message : "failed");
	cells[0] = id;
	cells[1] = p->city_name ? p->city_name : "";
	cells[2] = p->address ? p->address : p->remote ? p->remote : "";
	cells[3] = p->inbound ? "in" : p->discovered ? "disc" : "out";
	cells[4] = state_name(p->state);
	cells[5] = since;
	cells[6] = hs;
	cells[7] = rtt;
	cells[8] = bytes;
	cells[9] = recs;
	cells[10] = refused;
	cells[11] = sync;
	table_add(t, cells);
}

static int
peer_list(struct lcctl *ctx, int argc, char **argv)
{
	static const struct table_col cols[] = {
		{ "ID", 0 }, { "CITY", COL_FLEX }, { "ADDRESS", 0 }, { "DIR", 0 },
		{ "STATE", 0 }, { "SINCE", 0 }, { "HANDSHAKE", 0 },
		{ "RTT", COL_RIGHT }, { "BYTES IN/OUT", 0 },
		{ "RECORDS IN/OUT", 0 }, { "REFUSED", COL_RIGHT },
		{ "LAST SYNC", COL_FLEX },
	};
	Lcf__PeerListRequest pl = LCF__PEER_LIST_REQUEST__INIT;
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__CtlResponse *resp = NULL;
	struct table *t = NULL;
	json_t *arr = NULL;
	char *clean;
	size_t i;
	int ret;

	if ((ret = lcctl_simple_opts(ctx, argc, argv, list_usage, 1)) >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, NULL, NULL)) != LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	req.op_case = LCF__CTL_REQUEST__OP_PEER_LIST;
	req.peer_list = &pl;
	if (client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY_PEERS, NULL, 0,
	    &resp) < 0)
		goto out;
	if (ctx->json) {
		arr = json_array();
		for (i = 0; i < resp->peers->n_peers; i++)
			json_array_append_new(arr, peer_json(resp->peers->peers[i]));
		render_json(arr);
	} else if (resp->peers->n_peers == 0) {
		fprintf(stderr, "no peers: add one with `lcctl peer add HOST:PORT`\n");
	} else {
		t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
		for (i = 0; i < resp->peers->n_peers; i++)
			peer_row(t, resp->peers->peers[i]);
		table_print(t, stdout);
		/* Errors are long sentences: one line each under the table. */
		for (i = 0; i < resp->peers->n_peers; i++) {
			const Lcf__PeerInfo *p = resp->peers->peers[i];
			char id[16];

			if (p->last_error == NULL || p->state ==
			    LCF__PEER_STATE__PEER_STATE_CONNECTED)
				continue;
			if (p->has_id)
				render_short_id(p->id.data, p->id.len, id);
			else if (p->has_pinned_id)
				render_short_id(p->pinned_id.data,
				    p->pinned_id.len, id);
			else
				snprintf(id, sizeof(id), "%s", "?");
			clean = render_clean(p->last_error);
			printf("%s %s: last error: %s\n", id, p->address ?
			    p->address : "", clean);
			free(clean);
		}
	}
	ret = LCCTL_EXIT_OK;
out:
	table_free(t);
	json_decref(arr);
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret;
}

static int
peer_add(struct lcctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Lcf__PeerAddRequest pa = LCF__PEER_ADD_REQUEST__INIT;
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__CtlResponse *resp = NULL;
	const char *idhex = NULL;
	uint8_t pin[32];
	json_t *j;
	int c, ret = -1;

	while (ret < 0 && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'i')
			idhex = optarg;
		else if (c == 'j')
			ctx->json = 1;
		else
			ret = lcctl_common_opt(c, add_usage);
	}
	if (ret >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, "HOST:PORT", add_usage)) !=
	    LCCTL_EXIT_OK)
		goto out;
	if (idhex != NULL && (strlen(idhex) != 64 || hex_decode(idhex, pin,
	    sizeof(pin)) != 0)) {
		ret = lcctl_bad_usage(ctx, "--id '%s' is not a city id: expected 64 "
		    "hex digits", idhex);
		goto out;
	}
	ret = LCCTL_EXIT_ERR;
	pa.address = argv[optind];
	if (idhex != NULL) {
		pa.has_pinned_id = 1;
		pa.pinned_id.data = pin;
		pa.pinned_id.len = sizeof(pin);
	}
	req.op_case = LCF__CTL_REQUEST__OP_PEER_ADD;
	req.peer_add = &pa;
	if (client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY_PEERS, NULL, 0,
	    &resp) < 0)
		goto out;
	if (resp->peers->n_peers != 1) {
		lcctl_err("lcnode sent an unexpected answer");
		goto out;
	}
	if (ctx->json) {
		j = peer_json(resp->peers->peers[0]);
		render_json(j);
		json_decref(j);
	} else {
		printf("added peer %s%s%s: dialing it now (see `lcctl peer list`)\n",
		    resp->peers->peers[0]->address, idhex ? ", pinned to " : "",
		    idhex ? idhex : "");
	}
	ret = LCCTL_EXIT_OK;
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret;
}

static int
peer_rm(struct lcctl *ctx, int argc, char **argv)
{
	Lcf__PeerRemoveRequest pr = LCF__PEER_REMOVE_REQUEST__INIT;
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__CtlResponse *resp = NULL;
	int ret;

	if ((ret = lcctl_simple_opts(ctx, argc, argv, rm_usage, 0)) >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, "peer (ID or HOST:PORT)", rm_usage)) !=
	    LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	pr.ref = argv[optind];
	req.op_case = LCF__CTL_REQUEST__OP_PEER_REMOVE;
	req.peer_remove = &pr;
	if (client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY__NOT_SET, NULL, 0,
	    &resp) < 0)
		goto out;
	printf("removed peer %s\n", argv[optind]);
	ret = LCCTL_EXIT_OK;
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret;
}

static int
peer_sync(struct lcctl *ctx, int argc, char **argv)
{
	Lcf__PeerSyncRequest ps = LCF__PEER_SYNC_REQUEST__INIT;
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__CtlResponse *resp = NULL;
	const Lcf__SyncReply *s;
	char v[64], *clean;
	json_t *o;
	int ret;

	if ((ret = lcctl_simple_opts(ctx, argc, argv, sync_usage, 1)) >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, "peer (ID or HOST:PORT)", sync_usage)) !=
	    LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	ps.ref = argv[optind];
	req.op_case = LCF__CTL_REQUEST__OP_PEER_SYNC;
	req.peer_sync = &ps;
	if (client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY_SYNC, NULL, 0,
	    &resp) < 0)
		goto out;
	s = resp->sync;
	if (ctx->json) {
		o = json_object();
		json_object_set_new(o, "round_trips", json_u64(s->round_trips));
		json_object_set_new(o, "bytes_sent", json_u64(s->bytes_sent));
		json_object_set_new(o, "bytes_received", json_u64(s->bytes_received));
		json_object_set_new(o, "records_sent", json_u64(s->records_sent));
		json_object_set_new(o, "records_received",
		    json_u64(s->records_received));
		json_object_set_new(o, "started_ms", json_integer(s->started_ms));
		json_object_set_new(o, "finished_ms", json_integer(s->finished_ms));
		json_object_set_new(o, "duration_ms", json_integer(
		    s->finished_ms > s->started_ms ? s->finished_ms - s->started_ms : 0));
		json_object_set_new(o, "message", json_text(s->message));
		render_json(o);
		json_decref(o);
	} else {
		clean = render_clean(s->message ? s->message : "done");
		render_field(stdout, "Result", clean);
		free(clean);
		snprintf(v, sizeof(v), "%" PRIu64, s->round_trips);
		render_field(stdout, "Round trips", v);
		snprintf(v, sizeof(v), "%" PRIu64, s->bytes_sent);
		render_field(stdout, "Bytes sent", v);
		snprintf(v, sizeof(v), "%" PRIu64, s->bytes_received);
		render_field(stdout, "Bytes received", v);
		snprintf(v, sizeof(v), "%" PRIu64, s->records_sent);
		render_field(stdout, "Records sent", v);
		snprintf(v, sizeof(v), "%" PRIu64, s->records_received);
		render_field(stdout, "Records received", v);
		snprintf(v, sizeof(v), "%" PRId64 " ms", s->finished_ms > s->started_ms ?
		    s->finished_ms - s->started_ms : 0);
		render_field(stdout, "Duration", v);
	}
	ret = LCCTL_EXIT_OK;
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret;
}

static const struct lcctl_cmd peer_cmds[] = {
	{ "add", peer_add, "remember a peer city and dial it" },
	{ "rm", peer_rm, "forget a peer" },
	{ "list", peer_list, "peers, their state and counters" },
	{ "sync", peer_sync, "reconcile with one connected peer now" },
};

int
cmd_peer(struct lcctl *ctx, int argc, char **argv)
{
	return lcctl_dispatch(ctx, peer_cmds, sizeof(peer_cmds) / sizeof(peer_cmds[0]),
	    argc, argv);
}
