// SPDX-License-Identifier: Apache-2.0
// Unit tests for ingest.c with only what it needs (a real store, uv loop,
// thread pool and event bus; no peers, no discovery): every committed batch
// is one EVENTS_STORED with its origin and each record's result; our own
// records coming back move the sequence counter; on a federation node records
// of a city not admitted are held and stored once EVENTS_ADMITTED comes;
// the bytes waiting count against receive_queue until their callback.
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
#include "core/seq.h"
#include "model/identity.h"
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
	/* STORED events seen */
	size_t events, last_count, last_new;
	enum events_origin last_origin;
	const void *last_from;
	int last_result;
	size_t rooms;		/* INGEST_ROOM events seen */
	int full_at_room;	/* ingest_receive_full when the last came */
	uint64_t bytes_at_room;	/* the bytes held then */
	/* ingest callbacks seen */
	size_t done;
	struct ingest_result res;
};

static void
on_stored(void *arg, const struct events_event *ev)
{
	struct fix *f = arg;
	size_t i;

	f->events++;
	f->last_origin = ev->u.stored.origin;
	f->last_from = ev->u.stored.from;
	f->last_count = ev->u.stored.count;
	f->last_new = 0;
	for (i = 0; i < ev->u.stored.count; i++) {
		f->last_new += !(ev->u.stored.recs[i].result & STORE_DUP);
		f->last_result = ev->u.stored.recs[i].result;
	}
}

static void
on_room(void *arg, const struct events_event *ev)
{
	struct fix *f = arg;
	uint64_t full;

	(void)ev;
	f->rooms++;
	f->full_at_room = ingest_receive_full(&f->u.n);
	ingest_receive_counts(&f->u.n, &f->bytes_at_room, &full);
}

static void
on_done(void *arg, const struct ingest_result *r)
{
	struct fix *f = arg;

	f->done++;
	f->res = *r;
}

static void
fix_open(struct fix *f, const uint8_t *federation)
{
	unit_node_open(&f->u, "ingest");
	f->u.n.cfg.hold_time = 60;
	if (federation != NULL) {
		f->u.n.cfg.has_federation = 1;
		memcpy(f->u.n.cfg.federation, federation, 32);
	}
	/* main.c's order, for the modules present. */
	assert_int_equal(events_subscribe(&f->u.n.events,
	    EVENTS_MASK(EVENTS_STORED), on_stored, f), 0);
	assert_int_equal(events_subscribe(&f->u.n.events,
	    EVENTS_MASK(EVENTS_MEMBERSHIP), ingest_on_event, &f->u.n), 0);
	assert_int_equal(events_subscribe(&f->u.n.events,
	    EVENTS_MASK(EVENTS_INGEST_ROOM), on_room, f), 0);
	unit_node_start(&f->u);
}

static int
setup_open(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fix_open(f, NULL);
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

/* Runs the loop until *counter reaches want, or the deadline. */
static void
run_until(struct fix *f, const size_t *counter, size_t want)
{
	f->deadline = mono_ms() + WAIT_MS;
	uv_timer_init(&f->u.loop, &f->poll);
	f->poll.data = f;
	uv_timer_start(&f->poll, poll_cb, 10, 10);
	while (*counter < want && mono_ms() < f->deadline)
		uv_run(&f->u.loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&f->poll, NULL);
	uv_run(&f->u.loop, UV_RUN_NOWAIT);
	assert_true(*counter >= want);
}

/* A city profile signed by id with seq, into out. */
static void
profile(const struct identity *id, uint64_t seq, uint8_t *out, size_t *len)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__CityProfile p = LCF__CITY_PROFILE__INIT;
	uint8_t rid[RECORD_ID_LEN];

	c.has_author = 1;
	c.author.data = (uint8_t *)id->pk;
	c.author.len = 32;
	c.has_seq = 1;
	c.seq = seq;
	c.has_kind = 1;
	c.kind = LCF__KIND__KIND_CITY;
	c.has_timestamp = 1;
	c.timestamp = now_ms() - 1000 + (int64_t)seq;
	c.key = "profile";
	p.name = "Testville";
	p.country = "RO";
	c.body_case = LCF__CONTENT__BODY_CITY;
	c.city = &p;
	assert_int_equal(record_seal_draft(&c, id, out, RAW_MAX, len, rid), 0);
}

static void
submit(struct fix *f, const void *from, uint8_t (*raws)[RAW_MAX],
    const size_t *lens, size_t count)
{
	const uint8_t *p[4];
	size_t i, before = f->done;

	assert_true(count <= 4);
	for (i = 0; i < count; i++)
		p[i] = raws[i];
	assert_int_equal(ingest_submit(&f->u.n, (void *)from, p, lens, count,
	    on_done, f), 0);
	run_until(f, &f->done, before + 1);
}

/* One batch, one STORED event, before the callback; the batch again is all
 * known: nothing written, no event. */
static void
test_one_event_per_batch(void **state)
{
	struct fix *f = *state;
	struct identity *a = identity_new(), *b = identity_new();
	uint8_t raws[2][RAW_MAX];
	size_t lens[2];
	int token;

	assert_non_null(a);
	assert_non_null(b);
	identity_generate(a);
	identity_generate(b);
	profile(a, 1, raws[0], &lens[0]);
	profile(b, 1, raws[1], &lens[1]);
	submit(f, NULL, raws, lens, 2);
	assert_int_equal(f->res.error, 0);
	assert_int_equal(f->res.stored, 2);
	assert_int_equal(f->res.current, 2);
	assert_int_equal(f->events, 1);
	assert_int_equal(f->last_origin, EVENTS_FROM_NODE);
	assert_null(f->last_from);
	assert_int_equal(f->last_count, 2);
	assert_int_equal(f->last_new, 2);
	assert_int_equal(f->last_result & (STORE_DUP | STORE_CURRENT),
	    STORE_CURRENT);

	submit(f, &token, raws, lens, 2);
	assert_int_equal(f->res.known, 2);
	assert_int_equal(f->events, 1);

	/* A newer version from a peer: the event names the link. */
	profile(a, 2, raws[0], &lens[0]);
	submit(f, &token, raws, lens, 1);
	assert_int_equal(f->events, 2);
	assert_int_equal(f->last_origin, EVENTS_FROM_PEER);
	assert_ptr_equal(f->last_from, &token);
	assert_int_equal(f->last_new, 1);
	identity_free(a);
	identity_free(b);
}

/*
 * receive_queue: the bytes of the batches handed in count until their
 * callback; reaching the bound is counted once per episode, and
 * INGEST_ROOM comes once they are down to half of it, not before.
 */
static void
test_receive_bound(void **state)
{
	struct fix *f = *state;
	struct identity *a = identity_new();
	uint8_t raws[4][RAW_MAX];
	const uint8_t *p[4];
	size_t lens[4], i, total = 0;
	uint64_t bytes, full;

	assert_non_null(a);
	identity_generate(a);
	for (i = 0; i < 4; i++) {
		profile(a, i + 1, raws[i], &lens[i]);
		p[i] = raws[i];
		total += lens[i];
	}
	/* The bound: three records' bytes. */
	f->u.n.cfg.receive_queue = lens[0] + lens[1] + lens[2];
	ingest_receive_counts(&f->u.n, &bytes, &full);
	assert_int_equal(bytes, 0);
	assert_int_equal(full, 0);
	assert_false(ingest_receive_full(&f->u.n));

	assert_int_equal(ingest_submit(&f->u.n, NULL, p, lens, 2, on_done, f), 0);
	ingest_receive_counts(&f->u.n, &bytes, &full);
	assert_int_equal(bytes, lens[0] + lens[1]);
	assert_int_equal(full, 0);
	assert_false(ingest_receive_full(&f->u.n));
	assert_int_equal(ingest_submit(&f->u.n, NULL, p + 2, lens + 2, 2, on_done,
	    f), 0);
	ingest_receive_counts(&f->u.n, &bytes, &full);
	assert_int_equal(bytes, total);
	assert_int_equal(full, 1);
	assert_true(ingest_receive_full(&f->u.n));
	assert_int_equal(f->rooms, 0);

	run_until(f, &f->done, 2);
	ingest_receive_counts(&f->u.n, &bytes, &full);
	assert_int_equal(bytes, 0);
	assert_int_equal(full, 1);
	assert_false(ingest_receive_full(&f->u.n));
	assert_int_equal(f->rooms, 1);
	/* Told once they were down to half, not before: the first batch's
	 * release left two records' bytes, above half of three. */
	assert_false(f->full_at_room);
	assert_true(f->bytes_at_room <= f->u.n.cfg.receive_queue / 2);

	/* Below the bound: no event, however many batches come and go. */
	assert_int_equal(ingest_submit(&f->u.n, NULL, p, lens, 1, on_done, f), 0);
	run_until(f, &f->done, 3);
	assert_int_equal(f->rooms, 1);
	ingest_receive_counts(&f->u.n, &bytes, &full);
	assert_int_equal(full, 1);
	identity_free(a);
}

/* Our own record coming back from a peer moves the counter past it. */
static void
test_own_record_observed(void **state)
{
	struct fix *f = *state;
	uint8_t raws[1][RAW_MAX];
	size_t lens[1];
	int token;

	assert_int_equal(seq_next(&f->u.n), 1);
	profile(f->u.n.id, 41, raws[0], &lens[0]);
	submit(f, &token, raws, lens, 1);
	assert_int_equal(f->res.stored, 1);
	assert_int_equal(seq_next(&f->u.n), 42);
	/* A reservation made before it came is not handed back over it. */
	assert_int_equal(seq_reserve(&f->u.n, 3), 42);
	seq_observe(&f->u.n, 50);
	seq_hand_back(&f->u.n, 42, 45);
	assert_int_equal(seq_next(&f->u.n), 51);
}

/* On a federation node a record of a city not admitted is held (not
 * stored, no event); the federation's admission, stored, releases it:
 * member tells EVENTS_ADMITTED, ingest takes the record again, and it is
 * stored with its own STORED event. */
static void
test_held_until_admitted(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct identity *fed = identity_new(), *city = identity_new();
	uint8_t raws[1][RAW_MAX], rid[RECORD_ID_LEN];
	size_t lens[1];
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__Membership m = LCF__MEMBERSHIP__INIT;
	char hex[LCF_ID_HEX];
	uint64_t recs, auths;

	assert_non_null(f);
	assert_non_null(fed);
	assert_non_null(city);
	identity_generate(fed);
	identity_generate(city);
	fix_open(f, fed->pk);
	*state = f;

	profile(city, 1, raws[0], &lens[0]);
	submit(f, NULL, raws, lens, 1);
	assert_int_equal(f->res.held, 1);
	assert_int_equal(f->res.stored, 0);
	assert_int_equal(f->events, 0);
	assert_int_equal(held_of(&f->u.n, city->pk), 1);

	c.has_author = 1;
	c.author.data = fed->pk;
	c.author.len = 32;
	c.has_seq = 1;
	c.seq = 1;
	c.has_kind = 1;
	c.kind = LCF__KIND__KIND_MEMBERSHIP;
	c.has_timestamp = 1;
	c.timestamp = now_ms() - 5000;
	c.key = hex_encode(city->pk, 32, hex);
	m.has_city = 1;
	m.city.data = city->pk;
	m.city.len = 32;
	m.name = "Testville";
	m.country = "RO";
	c.body_case = LCF__CONTENT__BODY_MEMBERSHIP;
	c.membership = &m;
	assert_int_equal(record_seal_draft(&c, fed, raws[0], RAW_MAX, &lens[0],
	    rid), 0);
	submit(f, NULL, raws, lens, 1);
	assert_int_equal(f->res.stored, 1);
	/* The membership's event, then the released record's. */
	run_until(f, &f->events, 2);
	assert_int_equal(f->events, 2);
	assert_int_equal(f->last_origin, EVENTS_FROM_NODE);
	assert_int_equal(f->last_new, 1);
	held_counts(&f->u.n, &recs, &auths);
	assert_int_equal(recs, 0);
	assert_int_equal(auths, 0);
	identity_free(fed);
	identity_free(city);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_event_per_batch,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_receive_bound,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_own_record_observed,
		    setup_open, teardown),
		cmocka_unit_test_teardown(test_held_until_admitted, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
