// SPDX-License-Identifier: Apache-2.0
// Unit tests for member.c on its own (a real store, uv loop and event bus, no
// other module): it learns the federation's records from EVENTS_STORED and
// tells what they changed through EVENTS_MEMBERSHIP, from the loop, in the
// order member.h states; the clock's check is an EVENTS_EXPIRED.
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

#include "base/error.h"
#include "base/util.h"
#include "core/config.h"
#include "core/events.h"
#include "core/member.h"
#include "core/node.h"
#include "model/identity.h"
#include "model/record.h"
#include "store/store.h"
#include "unit_node.h"

#define WAIT_MS 6000
#define SEEN_MAX 16

struct seen {
	enum events_membership_change change;
	uint8_t city[32];
	int has_city;
};

struct fix {
	struct unit_node u;
	struct identity *fed;
	uv_timer_t poll;
	size_t want;                  /* events awaited */
	uint64_t deadline;
	struct seen seen[SEEN_MAX];
	size_t nseen;
	int stored_during;            /* MEMBERSHIP told inside a STORED call */
	int in_stored;
	int skip_expired;             /* the clock's checks are not counted */
};

static void
on_membership(void *arg, const struct events_event *ev)
{
	struct fix *f = arg;
	struct seen *s;

	if (f->in_stored)
		f->stored_during = 1;
	assert_int_equal(ev->kind, EVENTS_MEMBERSHIP);
	if (f->skip_expired && ev->u.membership.change == EVENTS_EXPIRED)
		return;
	assert_true(f->nseen < SEEN_MAX);
	s = &f->seen[f->nseen++];
	s->change = ev->u.membership.change;
	s->has_city = ev->u.membership.city != NULL;
	if (s->has_city)
		memcpy(s->city, ev->u.membership.city, 32);
}

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	unit_node_open(&f->u, "member");
	assert_non_null(f->fed = identity_new());
	identity_generate(f->fed);
	f->u.n.cfg.has_federation = 1;
	memcpy(f->u.n.cfg.federation, f->fed->pk, 32);
	f->u.n.cfg.hold_time = 1;
	assert_int_equal(events_subscribe(&f->u.n.events,
	    EVENTS_MASK(EVENTS_MEMBERSHIP), on_membership, f), 0);
	unit_node_start(&f->u);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	unit_node_close(&f->u);
	identity_free(f->fed);
	free(f);
	return 0;
}

static void
poll_cb(uv_timer_t *t)
{
	struct fix *f = t->data;

	if (f->nseen >= f->want || mono_ms() >= f->deadline) {
		uv_timer_stop(t);
		uv_stop(&f->u.loop);
	}
}

/* Runs the loop until want MEMBERSHIP events were seen, or ms passed. */
static void
run_until_ms(struct fix *f, size_t want, uint64_t ms)
{
	f->want = want;
	f->deadline = mono_ms() + ms;
	uv_timer_init(&f->u.loop, &f->poll);
	f->poll.data = f;
	uv_timer_start(&f->poll, poll_cb, 10, 10);
	uv_run(&f->u.loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&f->poll, NULL);
	uv_run(&f->u.loop, UV_RUN_NOWAIT);
}

static void
run_until(struct fix *f, size_t want)
{
	run_until_ms(f, want, WAIT_MS);
}

/* A federation record about city, signed by the federation key, sealed into
 * out; *len its bytes. */
static void
fed_record(struct fix *f, Lcf__Kind kind, const uint8_t city[32], uint64_t seq,
    uint8_t *out, size_t cap, size_t *len)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__Membership m = LCF__MEMBERSHIP__INIT;
	Lcf__Revocation r = LCF__REVOCATION__INIT;
	char hex[LCF_ID_HEX];
	uint8_t id[RECORD_ID_LEN];

	c.has_author = 1;
	c.author.data = f->fed->pk;
	c.author.len = 32;
	c.has_seq = 1;
	c.seq = seq;
	c.has_kind = 1;
	c.kind = kind;
	c.has_timestamp = 1;
	c.timestamp = now_ms() - 1000;
	if (kind == LCF__KIND__KIND_MEMBERSHIP) {
		c.key = hex_encode(city, 32, hex);
		m.has_city = 1;
		m.city.data = (uint8_t *)city;
		m.city.len = 32;
		m.name = "Testville";
		m.country = "TV";
		c.body_case = LCF__CONTENT__BODY_MEMBERSHIP;
		c.membership = &m;
	} else {
		c.key = hex_encode(city, 32, hex);
		r.has_city = 1;
		r.city.data = (uint8_t *)city;
		r.city.len = 32;
		r.reason = "test";
		c.body_case = LCF__CONTENT__BODY_REVOCATION;
		c.revocation = &r;
	}
	assert_int_equal(record_seal_draft(&c, f->fed, out, cap, len, id), 0);
}

/* Tells the bus a batch was stored, as a writer does. */
static void
emit_stored(struct fix *f, uint8_t (*raws)[512], const size_t *lens,
    const Lcf__Kind *kinds, size_t count)
{
	struct events_record recs[8];
	struct events_event ev;
	size_t i;

	assert_true(count <= 8);
	memset(recs, 0, sizeof(recs));
	for (i = 0; i < count; i++) {
		recs[i].raw = raws[i];
		recs[i].len = lens[i];
		recs[i].author = f->fed->pk;
		recs[i].kind = (int)kinds[i];
		recs[i].result = STORE_CURRENT;
	}
	memset(&ev, 0, sizeof(ev));
	ev.kind = EVENTS_STORED;
	ev.u.stored.origin = EVENTS_FROM_PEER;
	ev.u.stored.recs = recs;
	ev.u.stored.count = count;
	f->in_stored = 1;
	assert_int_equal(events_emit(&f->u.n.events, &ev), 0);
	f->in_stored = 0;
}

/* One batch admits two cities (this node among them) and revokes a third:
 * after the batch, from the loop, ADMITTED for each admitted city, then
 * OWN_CHANGED, then REVOKED; the state answers accordingly. */
static void
test_stored_membership_events(void **state)
{
	struct fix *f = *state;
	uint8_t other[32], gone[32], raws[4][512];
	size_t lens[4];
	Lcf__Kind kinds[4] = { LCF__KIND__KIND_MEMBERSHIP,
	    LCF__KIND__KIND_MEMBERSHIP, LCF__KIND__KIND_MEMBERSHIP,
	    LCF__KIND__KIND_REVOCATION };
	struct member_info mi;
	char why[256];

	f->skip_expired = 1;
	randombytes_buf(other, 32);
	randombytes_buf(gone, 32);
	fed_record(f, kinds[0], other, 1, raws[0], sizeof(raws[0]), &lens[0]);
	fed_record(f, kinds[1], f->u.n.id->pk, 2, raws[1], sizeof(raws[1]), &lens[1]);
	fed_record(f, kinds[2], gone, 3, raws[2], sizeof(raws[2]), &lens[2]);
	fed_record(f, kinds[3], gone, 4, raws[3], sizeof(raws[3]), &lens[3]);
	assert_int_not_equal(members_link_ok(&f->u.n, other, why, sizeof(why)), 0);
	emit_stored(f, raws, lens, kinds, 4);
	/* Applied at once, told later. */
	assert_int_equal(members_link_ok(&f->u.n, other, why, sizeof(why)), 0);
	assert_int_equal(f->nseen, 0);
	run_until(f, 4);
	assert_int_equal(f->stored_during, 0);
	assert_int_equal(f->nseen, 4);
	/* Admissions in the table's order (by city id); the revoked city is
	 * not told as admitted. */
	assert_int_equal(f->seen[0].change, EVENTS_ADMITTED);
	assert_int_equal(f->seen[1].change, EVENTS_ADMITTED);
	assert_true((memcmp(f->seen[0].city, other, 32) == 0 &&
	    memcmp(f->seen[1].city, f->u.n.id->pk, 32) == 0) ||
	    (memcmp(f->seen[1].city, other, 32) == 0 &&
	    memcmp(f->seen[0].city, f->u.n.id->pk, 32) == 0));
	assert_int_equal(f->seen[2].change, EVENTS_OWN_CHANGED);
	assert_memory_equal(f->seen[2].city, f->u.n.id->pk, 32);
	assert_int_equal(f->seen[3].change, EVENTS_REVOKED);
	assert_memory_equal(f->seen[3].city, gone, 32);
	assert_int_equal(members_get(&f->u.n, other, &mi), 0);
	assert_true(mi.admitted);
	assert_string_equal(mi.name, "Testville");
	assert_int_equal(members_get(&f->u.n, gone, &mi), 0);
	assert_true(mi.revoked);
	assert_int_not_equal(members_link_ok(&f->u.n, gone, why, sizeof(why)), 0);

	/* The same batch again (a duplicate) changes and tells nothing. */
	f->nseen = 0;
	emit_stored(f, raws, lens, kinds, 4);
	f->want = 1;
	uv_run(&f->u.loop, UV_RUN_NOWAIT);
	assert_int_equal(f->nseen, 0);
}

/* What the store holds at start is no news: after a restart, the next
 * federation record tells only what it changed (before, every city admitted
 * or revoked at start was told again with it). */
static void
test_restart_is_no_news(void **state)
{
	struct fix *f = *state;
	uint8_t other[32], gone[32], third[32], raws[4][512];
	size_t lens[4], i;
	Lcf__Kind kinds[4] = { LCF__KIND__KIND_MEMBERSHIP,
	    LCF__KIND__KIND_MEMBERSHIP, LCF__KIND__KIND_REVOCATION,
	    LCF__KIND__KIND_MEMBERSHIP };
	struct store_item items[3];
	char err[256] = "";

	f->skip_expired = 1;
	randombytes_buf(other, 32);
	randombytes_buf(gone, 32);
	randombytes_buf(third, 32);
	fed_record(f, kinds[0], other, 1, raws[0], sizeof(raws[0]), &lens[0]);
	fed_record(f, kinds[1], f->u.n.id->pk, 2, raws[1], sizeof(raws[1]), &lens[1]);
	fed_record(f, kinds[2], gone, 3, raws[2], sizeof(raws[2]), &lens[2]);
	fed_record(f, kinds[3], third, 4, raws[3], sizeof(raws[3]), &lens[3]);
	memset(items, 0, sizeof(items));
	for (i = 0; i < 3; i++) {
		items[i].raw = raws[i];
		items[i].len = lens[i];
	}
	assert_int_equal(store_put(f->u.n.store, items, 3), 0);
	/* A restart: the state is read from the store. */
	members_stop(&f->u.n);
	uv_run(&f->u.loop, UV_RUN_NOWAIT);
	members_free(&f->u.n);
	if (members_open(&f->u.n, err, sizeof(err)) != 0)
		fail_msg("members_open: %s", err);
	members_start(&f->u.n);
	emit_stored(f, &raws[3], &lens[3], &kinds[3], 1);
	run_until(f, 1);
	/* Give the loop the chance to tell more than it should. */
	run_until_ms(f, SEEN_MAX, 300);
	assert_int_equal(f->nseen, 1);
	assert_int_equal(f->seen[0].change, EVENTS_ADMITTED);
	assert_memory_equal(f->seen[0].city, third, 32);
}

/* The clock's check: EVENTS_EXPIRED with no city, every half hold_time
 * (hold_time is 1 s here). */
static void
test_expiry_check(void **state)
{
	struct fix *f = *state;
	uint64_t t0 = mono_ms();

	run_until(f, 1);
	assert_int_equal(f->nseen, 1);
	assert_int_equal(f->seen[0].change, EVENTS_EXPIRED);
	assert_false(f->seen[0].has_city);
	assert_true(mono_ms() - t0 < 2000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stored_membership_events,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_is_no_news, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_expiry_check, setup,
		    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
