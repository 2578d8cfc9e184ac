// SPDX-License-Identifier: Apache-2.0
// Unit tests for the node's counters and /metrics: the push delay buckets'
// edges; ingest counts records by how a peer sent them (push, reconcile) and
// refusals by reason, and times pushed records; metrics_answer renders them,
// the store's figures and the HTTP counts in the Prometheus text format.
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sodium.h>
#include <uv.h>

#include "base/util.h"
#include "base/version.h"
#include "core/config.h"
#include "core/counters.h"
#include "core/events.h"
#include "core/member.h"
#include "core/node.h"
#include "core/seq.h"
#include "http/http_int.h"
#include "model/identity.h"
#include "model/kinds.h"
#include "model/record.h"
#include "store/store.h"
#include "write/held.h"
#include "write/ingest.h"
#include "unit_node.h"

#define WAIT_MS 8000
#define RAW_MAX 1024

struct fix {
	struct unit_node u;
	uv_timer_t poll;
	uint64_t deadline;
	size_t done;
	struct ingest_result res;
	enum events_via last_via;
};

static void
on_stored(void *arg, const struct events_event *ev)
{
	struct fix *f = arg;

	f->last_via = ev->u.stored.via;
}

static void
on_done(void *arg, const struct ingest_result *r)
{
	struct fix *f = arg;

	f->done++;
	f->res = *r;
}

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	unit_node_open(&f->u, "metrics");
	assert_int_equal(events_subscribe(&f->u.n.events,
	    EVENTS_MASK(EVENTS_STORED), on_stored, f), 0);
	unit_node_start(&f->u);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	unit_node_close(&f->u);
	free(f);
	return 0;
}

static void
poll_cb(uv_timer_t *t)
{
	struct fix *f = t->data;

	if (mono_ms() >= f->deadline)
		uv_stop(&f->u.loop);
}

/* A city profile of a new city, made age_ms ago, into out. */
static void
profile(int64_t age_ms, uint8_t *out, size_t *len)
{
	struct identity *id = identity_new();
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__CityProfile p = LCF__CITY_PROFILE__INIT;
	uint8_t rid[RECORD_ID_LEN];

	assert_non_null(id);
	identity_generate(id);
	c.has_author = 1;
	c.author.data = (uint8_t *)id->pk;
	c.author.len = 32;
	c.has_seq = 1;
	c.seq = 1;
	c.has_kind = 1;
	c.kind = LCF__KIND__KIND_CITY;
	c.has_timestamp = 1;
	c.timestamp = now_ms() - age_ms;
	c.key = "profile";
	p.name = "Metricton";
	p.country = "PT";
	c.body_case = LCF__CONTENT__BODY_CITY;
	c.city = &p;
	assert_int_equal(record_seal_draft(&c, id, out, RAW_MAX, len, rid), 0);
	identity_free(id);
}

/* Hands count records to ingest as from a peer (token) by via, and waits. */
static void
submit(struct fix *f, enum events_via via, uint8_t (*raws)[RAW_MAX],
    const size_t *lens, size_t count)
{
	static int token;
	const uint8_t *p[4];
	size_t i, before = f->done;

	assert_true(count <= 4);
	for (i = 0; i < count; i++)
		p[i] = raws[i];
	assert_int_equal(ingest_submit_via(&f->u.n, &token, via, p, lens, count,
	    on_done, f), 0);
	f->deadline = mono_ms() + WAIT_MS;
	uv_timer_init(&f->u.loop, &f->poll);
	f->poll.data = f;
	uv_timer_start(&f->poll, poll_cb, 10, 10);
	while (f->done == before && mono_ms() < f->deadline)
		uv_run(&f->u.loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&f->poll, NULL);
	uv_run(&f->u.loop, UV_RUN_NOWAIT);
	assert_int_equal(f->done, before + 1);
}

/* Bounds are inclusive (Prometheus's le); below 0 counts as 0; past the last
 * bound is +Inf. */
static void
test_buckets(void **state)
{
	struct counters_histogram h;
	size_t last = COUNTERS_PUSH_DELAY_BUCKETS;

	(void)state;
	memset(&h, 0, sizeof(h));
	counters_observe(&h, -5000);
	counters_observe(&h, counters_push_delay_bounds_ms[0]);
	counters_observe(&h, counters_push_delay_bounds_ms[0] + 1);
	counters_observe(&h, counters_push_delay_bounds_ms[last - 1]);
	counters_observe(&h, counters_push_delay_bounds_ms[last - 1] + 1);
	assert_int_equal(h.bucket[0], 2);
	assert_int_equal(h.bucket[1], 1);
	assert_int_equal(h.bucket[last - 1], 1);
	assert_int_equal(h.bucket[last], 1);
	assert_int_equal(h.count, 5);
	assert_int_equal(h.sum_ms, 2 * counters_push_delay_bounds_ms[0] + 1 +
	    2 * counters_push_delay_bounds_ms[last - 1] + 1);
}

/* Pushed records count as push and are timed; reconciled ones count as
 * reconcile and are not; refusals count by reason. */
static void
test_ingest_counts(void **state)
{
	struct fix *f = *state;
	struct node_counters *k = &f->u.n.counters;
	uint8_t raws[3][RAW_MAX];
	size_t lens[3];

	profile(2000, raws[0], &lens[0]);
	profile(2000, raws[1], &lens[1]);
	submit(f, EVENTS_VIA_PUSH, raws, lens, 2);
	assert_int_equal(f->res.stored, 2);
	assert_int_equal(f->last_via, EVENTS_VIA_PUSH);
	assert_int_equal(k->stored[COUNTERS_SRC_PUSH], 2);
	assert_int_equal(k->push_delay.count, 2);
	/* 2 s old when handed in: the (1, 2.5] bucket, both. */
	assert_int_equal(k->push_delay.bucket[5], 2);
	assert_in_range(k->push_delay.sum_ms, 4000, 4000 + 2 * 1000);

	/* The same again: known, nothing counted. */
	submit(f, EVENTS_VIA_PUSH, raws, lens, 2);
	assert_int_equal(f->res.known, 2);
	assert_int_equal(k->stored[COUNTERS_SRC_PUSH], 2);
	assert_int_equal(k->push_delay.count, 2);

	profile(100000, raws[0], &lens[0]);
	submit(f, EVENTS_VIA_SYNC, raws, lens, 1);
	assert_int_equal(f->last_via, EVENTS_VIA_SYNC);
	assert_int_equal(k->stored[COUNTERS_SRC_RECONCILE], 1);
	assert_int_equal(k->push_delay.count, 2);

	/* A bad signature (its last byte), a malformed record, a good one. */
	profile(0, raws[0], &lens[0]);
	raws[0][lens[0] - 1] ^= 0x01;
	memset(raws[1], 0xff, 16);
	lens[1] = 16;
	profile(0, raws[2], &lens[2]);
	submit(f, EVENTS_VIA_PUSH, raws, lens, 3);
	assert_int_equal(f->res.stored, 1);
	assert_int_equal(f->res.bad, 2);
	assert_int_equal(k->refused[COUNTERS_REF_SIGNATURE], 1);
	assert_int_equal(k->refused[COUNTERS_REF_MALFORMED], 1);
	assert_int_equal(k->refused[COUNTERS_REF_INVALID], 0);
	assert_int_equal(k->stored[COUNTERS_SRC_PUSH], 3);
	assert_int_equal(k->push_delay.count, 3);
	assert_int_equal(k->stored[COUNTERS_SRC_NODE], 0);
	assert_int_equal(k->stored[COUNTERS_SRC_LOCAL], 0);
}

/* Every line is a comment or NAME{LABELS} VALUE. */
static void
check_syntax(const char *body)
{
	regex_t re;
	char *copy = strdup(body), *line, *save = NULL;
	size_t n = 0;

	assert_non_null(copy);
	assert_int_equal(regcomp(&re, "^(# (HELP|TYPE) lcf_[a-z_]+ .+|"
	    "lcf_[a-z_]+(\\{[a-z_]+=\"[^\"]*\"(,[a-z_]+=\"[^\"]*\")*\\})? "
	    "[0-9.e+]+)$", REG_EXTENDED | REG_NOSUB), 0);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), n++)
		if (regexec(&re, line, 0, NULL, 0) != 0)
			fail_msg("line %zu is not in the text format: %s", n + 1,
			    line);
	regfree(&re);
	free(copy);
	assert_true(n > 0);
}

static void
expect_line(const char *body, const char *line)
{
	char want[256];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (strstr(body, want) == NULL)
		fail_msg("no line \"%s\" in:\n%s", line, body);
}

static void
test_render(void **state)
{
	struct fix *f = *state;
	struct http h;
	struct http_call c;
	const struct kinds_def *kd;
	uint8_t raws[1][RAW_MAX];
	size_t lens[1], i;
	char line[200];

	profile(300, raws[0], &lens[0]);
	submit(f, EVENTS_VIA_PUSH, raws, lens, 1);
	memset(&h, 0, sizeof(h));
	h.n = &f->u.n;
	h.stats.requests[404] = 3;
	h.stats.requests[200] = 7;
	h.stats.connections = 2;
	h.stats.refused = 1;
	memset(&c, 0, sizeof(c));
	c.h = &h;
	c.n = &f->u.n;
	metrics_answer(&c);
	assert_int_equal(c.status, 200);
	assert_string_equal(c.type, "text/plain; version=0.0.4; charset=utf-8");
	assert_non_null(c.body);
	assert_int_equal(strlen(c.body), c.len);
	check_syntax(c.body);
	assert_memory_equal(c.body, "# HELP lcf_build_info ", 22);
	expect_line(c.body, "lcf_build_info{version=\"" LCF_VERSION "\"} 1");
	expect_line(c.body, "lcf_records{kind=\"city\",state=\"live\"} 1");
	expect_line(c.body, "lcf_records_stored_total{source=\"push\"} 1");
	expect_line(c.body, "lcf_records_stored_total{source=\"local\"} 0");
	expect_line(c.body, "lcf_push_delay_seconds_bucket{le=\"0.25\"} 0");
	expect_line(c.body, "lcf_push_delay_seconds_bucket{le=\"0.5\"} 1");
	expect_line(c.body, "lcf_push_delay_seconds_bucket{le=\"+Inf\"} 1");
	expect_line(c.body, "lcf_push_delay_seconds_count 1");
	expect_line(c.body, "# TYPE lcf_push_delay_seconds histogram");
	expect_line(c.body, "lcf_http_requests_total{code=\"404\"} 3");
	expect_line(c.body, "lcf_http_requests_total{code=\"200\"} 7");
	expect_line(c.body, "lcf_http_connections 2");
	expect_line(c.body, "lcf_http_connections_refused_total 1");
	expect_line(c.body, "lcf_peers_connected 0");
	expect_line(c.body, "lcf_handshakes_total{result=\"refused\","
	    "reason=\"membership\"} 0");
	/* Every kind of the table, both states. */
	for (i = 0; (kd = kinds_at(i)) != NULL; i++) {
		snprintf(line, sizeof(line), "lcf_records{kind=\"%s\","
		    "state=\"deleted\"} 0", kd->name);
		expect_line(c.body, line);
	}
	assert_null(strstr(c.body, "code=\"500\""));
	free(c.body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test_setup_teardown(test_ingest_counts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_render, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
