// SPDX-License-Identifier: Apache-2.0
// GET /metrics: the node's figures in the Prometheus text exposition format
// 0.0.4, from its counters (core/counters.h), the store, the peer table and
// the HTTP server's own counts.
//
// One table (families[] below) describes every metric: its name, type and
// help, and the function that writes its samples. Names follow Prometheus:
// the prefix lcf_, base units (seconds, bytes), counters ending in _total.
// The text is written into a growing buffer (open_memstream): no size limit
// to cut it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "base/version.h"
#include "core/counters.h"
#include "core/node.h"
#include "model/kinds.h"
#include "net/peer.h"
#include "store/store.h"
#include "http/http_int.h"

#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* What one answer reads once, shared by the families' writers. */
struct snap {
	struct node *n;
	struct http *h;
	int store_ok;
	struct store_stats ss;
	struct peers_summary ps;
	struct peer_info *peers;
	size_t npeers;
	int64_t now_ms;
};

typedef void (*family_fn)(FILE *f, const char *name, const struct snap *s);

struct family {
	const char *name;
	const char *type;            /* counter, gauge, histogram */
	const char *help;
	family_fn write;
};

/* Writes v as a label value: backslash, quote and newline escaped. */
static void
label_value(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

/* name{label="value"} n */
static void
sample1(FILE *f, const char *name, const char *label, const char *value,
    uint64_t n)
{
	fprintf(f, "%s{%s=\"", name, label);
	label_value(f, value);
	fprintf(f, "\"} %llu\n", (unsigned long long)n);
}

static void
w_build_info(FILE *f, const char *name, const struct snap *s)
{
	(void)s;
	sample1(f, name, "version", LCF_VERSION, 1);
}

static void
w_start_time(FILE *f, const char *name, const struct snap *s)
{
	fprintf(f, "%s %.3f\n", name, (double)s->n->started_ms / 1000.0);
}

/* Current versions by kind, split into live records and tombstones. */
static void
w_records(FILE *f, const char *name, const struct snap *s)
{
	const struct kinds_def *k;
	const struct store_kind_count *c;
	size_t i;

	if (!s->store_ok)
		return;
	for (i = 0; (k = kinds_at(i)) != NULL; i++) {
		c = &s->ss.kinds[k->kind];
		fprintf(f, "%s{kind=\"%s\",state=\"live\"} %llu\n", name, k->name,
		    (unsigned long long)(c->current - c->deleted));
		fprintf(f, "%s{kind=\"%s\",state=\"deleted\"} %llu\n", name,
		    k->name, (unsigned long long)c->deleted);
	}
}

static void
w_versions(FILE *f, const char *name, const struct snap *s)
{
	if (s->store_ok)
		fprintf(f, "%s %llu\n", name, (unsigned long long)s->ss.records);
}

static void
w_store_used(FILE *f, const char *name, const struct snap *s)
{
	if (s->store_ok)
		fprintf(f, "%s %llu\n", name, (unsigned long long)s->ss.used_bytes);
}

static void
w_store_map(FILE *f, const char *name, const struct snap *s)
{
	if (s->store_ok)
		fprintf(f, "%s %llu\n", name, (unsigned long long)s->ss.map_size);
}

#define NAME_OF(name, label) label,
static const char *const source_names[] = { COUNTERS_SOURCES(NAME_OF) };
static const char *const refusal_names[] = { COUNTERS_REFUSALS(NAME_OF) };
static const char *const sync_names[] = { COUNTERS_SYNC_RESULTS(NAME_OF) };
static const char *const admin_close_names[] = { COUNTERS_ADMIN_CLOSES(NAME_OF) };
#undef NAME_OF
#define HS_NAMES(name, result, reason) { result, reason },
static const char *const hs_names[][2] = { COUNTERS_HANDSHAKES(HS_NAMES) };
#undef HS_NAMES

static void
w_stored(FILE *f, const char *name, const struct snap *s)
{
	size_t i;

	for (i = 0; i < COUNTERS_SRC_N; i++)
		sample1(f, name, "source", source_names[i],
		    s->n->counters.stored[i]);
}

static void
w_refused(FILE *f, const char *name, const struct snap *s)
{
	size_t i;

	for (i = 0; i < COUNTERS_REF_N; i++)
		sample1(f, name, "reason", refusal_names[i],
		    s->n->counters.refused[i]);
}

static void
w_verify(FILE *f, const char *name, const struct snap *s)
{
	fprintf(f, "%s %llu\n", name, (unsigned long long)
	    s->n->counters.refused[COUNTERS_REF_SIGNATURE]);
}

static void
w_handshakes(FILE *f, const char *name, const struct snap *s)
{
	size_t i;

	for (i = 0; i < COUNTERS_HS_N; i++)
		fprintf(f, "%s{result=\"%s\",reason=\"%s\"} %llu\n", name,
		    hs_names[i][0], hs_names[i][1],
		    (unsigned long long)s->n->counters.handshakes[i]);
}

static void
w_admin_closed(FILE *f, const char *name, const struct snap *s)
{
	size_t i;

	for (i = 0; i < COUNTERS_ADM_N; i++)
		sample1(f, name, "reason", admin_close_names[i],
		    s->n->counters.admin_closed[i]);
}

/* The families of one sample, a figure of the peers' summary. */
#define PEERS_FIGURE(fn, member)					\
static void								\
fn(FILE *f, const char *name, const struct snap *s)			\
{									\
	fprintf(f, "%s %llu\n", name, (unsigned long long)s->ps.member);	\
}
PEERS_FIGURE(w_peer_queued, queued_bytes)
PEERS_FIGURE(w_peer_queue_limit, queue_limit)
PEERS_FIGURE(w_receive_queued, receive_bytes)
PEERS_FIGURE(w_receive_limit, receive_limit)
PEERS_FIGURE(w_receive_full, receive_full)
PEERS_FIGURE(w_offences, offences)
PEERS_FIGURE(w_offenders, offenders)
PEERS_FIGURE(w_dead_links, dead_links)
PEERS_FIGURE(w_peers_connected, connected)
PEERS_FIGURE(w_peers_known, known)
#undef PEERS_FIGURE

static void
w_peer_queue_full(FILE *f, const char *name, const struct snap *s)
{
	sample1(f, name, "bound", "peer_queue", s->ps.peer_queue_full);
	sample1(f, name, "bound", "peers_queue", s->ps.peers_queue_full);
}

static void
w_peer_stalled(FILE *f, const char *name, const struct snap *s)
{
	sample1(f, name, "bound", "stall_timeout",
	    s->ps.stalled - s->ps.stalled_pressed);
	sample1(f, name, "bound", "peers_queue", s->ps.stalled_pressed);
}

/* One sample per city: a city with several entries (two addresses) shows
 * its latest good reconciliation once. */
static void
w_peer_sync_age(FILE *f, const char *name, const struct snap *s)
{
	const struct peer_info *p, *q;
	char hex[LCF_ID_HEX];
	int64_t last, age;
	size_t i, j;

	for (i = 0; i < s->npeers; i++) {
		p = &s->peers[i];
		if (!p->has_id || p->last_good_sync_ms <= 0)
			continue;
		last = p->last_good_sync_ms;
		for (j = 0; j < s->npeers; j++) {
			q = &s->peers[j];
			if (j == i || !q->has_id || memcmp(q->id, p->id, 32) != 0)
				continue;
			if (j < i || q->last_good_sync_ms > last)
				break;
		}
		/* A city seen before, or with a later entry, was or will be
		 * written from that entry. */
		if (j < s->npeers)
			continue;
		age = s->now_ms - last;
		hex_encode(p->id, 32, hex);
		fprintf(f, "%s{peer=\"%s\"} %.3f\n", name, hex,
		    (double)(age > 0 ? age : 0) / 1000.0);
	}
}

static void
w_sync_sessions(FILE *f, const char *name, const struct snap *s)
{
	static const char *const roles[] = { "responder", "initiator" };
	size_t r, i;

	for (r = 0; r < 2; r++)
		for (i = 0; i < COUNTERS_SYNC_N; i++)
			fprintf(f, "%s{role=\"%s\",result=\"%s\"} %llu\n", name,
			    roles[r], sync_names[i], (unsigned long long)
			    s->n->counters.sync_sessions[r][i]);
}

static void
w_sync_bytes(FILE *f, const char *name, const struct snap *s)
{
	sample1(f, name, "direction", "sent", s->n->counters.sync_bytes_sent);
	sample1(f, name, "direction", "received",
	    s->n->counters.sync_bytes_received);
}

/* A full store (core/space.h): 1 for what is full, 0 for the other. */
static void
w_quarantined(FILE *f, const char *name, const struct snap *s)
{
	uint64_t held;

	if (store_quarantine_list(s->n->store, 0, NULL, NULL, &held) == 0)
		fprintf(f, "%s %llu\n", name, (unsigned long long)held);
}

static void
w_store_full(FILE *f, const char *name, const struct snap *s)
{
	sample1(f, name, "what", "map_size", s->n->space.full == SPACE_MAP);
	sample1(f, name, "what", "disk", s->n->space.full == SPACE_DISK);
}

static void
w_space_refused(FILE *f, const char *name, const struct snap *s)
{
	sample1(f, name, "source", "reconcile", s->n->space.refused_sync);
	sample1(f, name, "source", "push", s->n->space.refused_push);
	sample1(f, name, "source", "local", s->n->space.refused_node);
}

static void
w_superseded(FILE *f, const char *name, const struct snap *s)
{
	fprintf(f, "%s %llu\n", name,
	    (unsigned long long)s->n->counters.superseded);
}

static void
w_sync_round_trips(FILE *f, const char *name, const struct snap *s)
{
	fprintf(f, "%s %llu\n", name,
	    (unsigned long long)s->n->counters.sync_round_trips);
}

/* Buckets are kept apart (counters.h); Prometheus's are cumulative. */
static void
w_push_delay(FILE *f, const char *name, const struct snap *s)
{
	const struct counters_histogram *h = &s->n->counters.push_delay;
	uint64_t cum = 0;
	size_t i;

	for (i = 0; i < COUNTERS_PUSH_DELAY_BUCKETS; i++) {
		cum += h->bucket[i];
		fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name,
		    (double)counters_push_delay_bounds_ms[i] / 1000.0,
		    (unsigned long long)cum);
	}
	cum += h->bucket[COUNTERS_PUSH_DELAY_BUCKETS];
	fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
	fprintf(f, "%s_sum %.3f\n", name, (double)h->sum_ms / 1000.0);
	fprintf(f, "%s_count %llu\n", name, (unsigned long long)h->count);
}

static void
w_http_requests(FILE *f, const char *name, const struct snap *s)
{
	char code[8];
	size_t i;

	for (i = 0; i < HTTP_STATUS_MAX; i++) {
		if (s->h->stats.requests[i] == 0)
			continue;
		snprintf(code, sizeof(code), "%zu", i);
		sample1(f, name, "code", code, s->h->stats.requests[i]);
	}
}

static void
w_http_open(FILE *f, const char *name, const struct snap *s)
{
	fprintf(f, "%s %llu\n", name,
	    (unsigned long long)s->h->stats.connections);
}

static void
w_http_accepted(FILE *f, const char *name, const struct snap *s)
{
	fprintf(f, "%s %llu\n", name, (unsigned long long)s->h->stats.accepted);
}

static void
w_http_refused(FILE *f, const char *name, const struct snap *s)
{
	fprintf(f, "%s %llu\n", name, (unsigned long long)s->h->stats.refused);
}

static const struct family families[] = {
	{ "lcf_build_info", "gauge",
	  "The lcnode release: always 1, the version as a label.",
	  w_build_info },
	{ "lcf_start_time_seconds", "gauge",
	  "When lcnode started, Unix time in seconds.", w_start_time },
	{ "lcf_records", "gauge",
	  "Current records held by kind: live, and deleted (tombstones).",
	  w_records },
	{ "lcf_record_versions", "gauge",
	  "Every stored version of every record (current or not).",
	  w_versions },
	{ "lcf_records_quarantined", "gauge",
	  "Records held in quarantine: their stored bytes no longer hash to "
	  "their id (damaged on disk); not served, fetched again from peers.",
	  w_quarantined },
	{ "lcf_store_used_bytes", "gauge",
	  "Bytes of the store's map in use (LMDB pages up to the last).",
	  w_store_used },
	{ "lcf_store_map_size_bytes", "gauge",
	  "The store's map size (map_size in lcnode.conf): its limit.",
	  w_store_map },
	{ "lcf_store_full", "gauge",
	  "1 while the store is full: its map at map_size, or its disk.",
	  w_store_full },
	{ "lcf_records_refused_space_total", "counter",
	  "Records not stored because the store was full, by source.",
	  w_space_refused },
	{ "lcf_records_stored_total", "counter",
	  "Records newly stored, by source: local (publish, import), push, "
	  "reconcile, node (held records released, memberships from handshakes).",
	  w_stored },
	{ "lcf_records_refused_total", "counter",
	  "Records from the network refused, by reason.", w_refused },
	{ "lcf_records_superseded_total", "counter",
	  "Status beacons from the network older than the one held: dropped "
	  "unstored, not refused.", w_superseded },
	{ "lcf_verify_failures_total", "counter",
	  "Records from the network refused for a bad signature.", w_verify },
	{ "lcf_handshakes_total", "counter",
	  "Peer handshakes ended, by result (ok, refused, failed) and reason.",
	  w_handshakes },
	{ "lcf_admin_closed_total", "counter",
	  "Admin socket clients closed by a bound, by reason: part_frame (part "
	  "of a request, then 10 s of silence), no_room (waited 30 s for room "
	  "among the others' requests), unread_answer (took none of an answer "
	  "for 30 s), idle (asked nothing for 5 minutes), too_many (256 "
	  "clients already).", w_admin_closed },
	{ "lcf_peers_connected", "gauge",
	  "Peers with a link up.", w_peers_connected },
	{ "lcf_peers_known", "gauge",
	  "Entries in the peer table.", w_peers_known },
	{ "lcf_dead_links_total", "counter",
	  "Peer links closed as dead since start: silent though the peer sends "
	  "keepalives (keepalive_timeout), or taking none of the bytes sent "
	  "(stall_timeout).", w_dead_links },
	{ "lcf_peer_queued_bytes", "gauge",
	  "Bytes queued to all peers, not yet taken by their sockets.",
	  w_peer_queued },
	{ "lcf_peer_queue_limit_bytes", "gauge",
	  "Their bound (peers_queue in lcnode.conf).", w_peer_queue_limit },
	{ "lcf_peer_queue_full_total", "counter",
	  "Times sending waited for a bound: one peer's queue (peer_queue), or "
	  "all peers' together (peers_queue).", w_peer_queue_full },
	{ "lcf_receive_queued_bytes", "gauge",
	  "Bytes of records received from peers waiting to be verified and "
	  "stored.", w_receive_queued },
	{ "lcf_receive_queue_limit_bytes", "gauge",
	  "Their bound (receive_queue in lcnode.conf).", w_receive_limit },
	{ "lcf_receive_queue_full_total", "counter",
	  "Times they reached it: links stopped reading until half of it was "
	  "stored.", w_receive_full },
	{ "lcf_peer_stalled_total", "counter",
	  "Peers dropped for taking none of the bytes queued to them: after "
	  "stall_timeout, or a quarter of it while peers_queue was reached.",
	  w_peer_stalled },
	{ "lcf_peer_offences_total", "counter",
	  "Protocol offences by peers (garbage, failed handshakes, bad records "
	  "or messages) since start.", w_offences },
	{ "lcf_peer_offenders", "gauge",
	  "Addresses and keys refused now for their offences "
	  "(offender_backoff).", w_offenders },
	{ "lcf_peer_last_good_sync_age_seconds", "gauge",
	  "Seconds since the last reconciliation this node started with the "
	  "peer (city id) ended well (or, before its first since start, one "
	  "the peer started that caught it up).", w_peer_sync_age },
	{ "lcf_reconciliations_total", "counter",
	  "Reconciliation sessions ended, by role and result.",
	  w_sync_sessions },
	{ "lcf_reconciliation_bytes_total", "counter",
	  "Bytes of reconciliation messages, by direction.", w_sync_bytes },
	{ "lcf_reconciliation_round_trips_total", "counter",
	  "Round trips of the reconciliations this node started.",
	  w_sync_round_trips },
	{ "lcf_push_delay_seconds", "histogram",
	  "Seconds from a record's timestamp to its arrival here by push, for "
	  "each pushed record stored new.", w_push_delay },
	{ "lcf_http_requests_total", "counter",
	  "HTTP requests answered, by status code.", w_http_requests },
	{ "lcf_http_connections", "gauge",
	  "HTTP connections open.", w_http_open },
	{ "lcf_http_connections_accepted_total", "counter",
	  "HTTP connections accepted.", w_http_accepted },
	{ "lcf_http_connections_refused_total", "counter",
	  "HTTP connections refused over max_connections.", w_http_refused },
};

void
metrics_answer(struct http_call *c)
{
	struct snap s;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;
	int rc;

	memset(&s, 0, sizeof(s));
	s.n = c->n;
	s.h = c->h;
	s.now_ms = now_ms();
	if ((rc = store_stats(s.n->store, &s.ss)) == 0)
		s.store_ok = 1;
	else
		log_warnx("metrics: cannot read the store's figures: %s",
		    lcf_strerror(rc));
	peers_summary(s.n, &s.ps);
	if (s.n->peers != NULL)
		peers_list(s.n, &s.peers, &s.npeers);
	if ((f = open_memstream(&text, &len)) == NULL)
		fatal("metrics: open_memstream");
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", families[i].name,
		    families[i].help, families[i].name, families[i].type);
		families[i].write(f, families[i].name, &s);
	}
	if (fclose(f) != 0)
		fatal("metrics: writing the answer");
	answer_text(c, 200, METRICS_TYPE, text, len);
	free(text);
	free(s.peers);
}
