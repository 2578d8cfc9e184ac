// SPDX-License-Identifier: Apache-2.0
// Unit tests for the event bus (core/events.c): delivery order, masks, several
// subscribers, emission from inside a handler and its depth limit, the table's
// bounds, and no allocation while events are delivered.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "core/events.h"

/*
 * Allocation counter: this program's malloc family wraps glibc's, so that a
 * test can see whether anything allocates while it counts. AddressSanitizer
 * (make SANITIZE=1) has malloc of its own: the counter is left out there.
 */
static int counting;
static size_t allocations;

#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCATIONS 0
#else
#define COUNT_ALLOCATIONS 1
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);

void *
malloc(size_t size)
{
	allocations += counting;
	return __libc_malloc(size);
}

void *
calloc(size_t n, size_t size)
{
	allocations += counting;
	return __libc_calloc(n, size);
}

void *
realloc(void *p, size_t size)
{
	allocations += counting;
	return __libc_realloc(p, size);
}

void
free(void *p)
{
	__libc_free(p);
}
#endif

/* What the subscribers saw, in order: "name:kind" entries. */
#define LOG_MAX 64
static char seen[LOG_MAX][32];
static size_t nseen;

struct sub {
	const char *name;
	struct events_bus *bus;
	int emit_kind;                /* emitted from inside on STORED, or -1 */
	int rc;                       /* what that inner emit returned */
};

static void
record(void *arg, const struct events_event *ev)
{
	struct sub *s = arg;
	struct events_event inner;

	assert_true(nseen < LOG_MAX);
	snprintf(seen[nseen++], sizeof(seen[0]), "%s:%s", s->name,
	    events_kind_name(ev->kind));
	if (s->emit_kind >= 0 && ev->kind == EVENTS_STORED) {
		memset(&inner, 0, sizeof(inner));
		inner.kind = (enum events_kind)s->emit_kind;
		s->rc = events_emit(s->bus, &inner);
	}
}

static void
expect_seen(const char *const *want, size_t n)
{
	size_t i;

	assert_int_equal(nseen, n);
	for (i = 0; i < n; i++)
		assert_string_equal(seen[i], want[i]);
}

static int
reset(void **state)
{
	(void)state;
	nseen = 0;
	return 0;
}

static void
emit_kind(struct events_bus *b, enum events_kind kind)
{
	struct events_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	assert_int_equal(events_emit(b, &ev), 0);
}

/* Every subscriber whose mask holds the kind gets it, in the order they
 * subscribed; the others do not. */
static void
test_order_and_masks(void **state)
{
	struct events_bus b;
	struct sub a = { "a", &b, -1, 0 }, c = { "c", &b, -1, 0 },
	    d = { "d", &b, -1, 0 };
	static const char *const want[] = {
		"a:stored", "c:stored", "d:stored",
		"c:link-up", "d:link-up",
		"a:membership", "d:membership",
	};

	(void)state;
	events_init(&b);
	assert_int_equal(events_subscribe(&b, EVENTS_MASK(EVENTS_STORED) |
	    EVENTS_MASK(EVENTS_MEMBERSHIP), record, &a), 0);
	assert_int_equal(events_subscribe(&b, EVENTS_MASK(EVENTS_STORED) |
	    EVENTS_MASK(EVENTS_LINK_UP), record, &c), 0);
	assert_int_equal(events_subscribe(&b, EVENTS_MASK_ALL, record, &d), 0);
	emit_kind(&b, EVENTS_STORED);
	emit_kind(&b, EVENTS_LINK_UP);
	emit_kind(&b, EVENTS_MEMBERSHIP);
	expect_seen(want, sizeof(want) / sizeof(want[0]));
}

/* An event emitted by a handler reaches every subscriber before the outer
 * event goes on to the later ones. */
static void
test_nested_emit(void **state)
{
	struct events_bus b;
	struct sub s1 = { "s1", &b, -1, 0 }, s2 = { "s2", &b, EVENTS_RESYNC, -99 },
	    s3 = { "s3", &b, -1, 0 };
	static const char *const want[] = {
		"s1:stored", "s2:stored", "s1:resync", "s3:resync", "s3:stored",
	};
	unsigned both = EVENTS_MASK(EVENTS_STORED) | EVENTS_MASK(EVENTS_RESYNC);

	(void)state;
	events_init(&b);
	assert_int_equal(events_subscribe(&b, both, record, &s1), 0);
	assert_int_equal(events_subscribe(&b, EVENTS_MASK(EVENTS_STORED), record,
	    &s2), 0);
	assert_int_equal(events_subscribe(&b, both, record, &s3), 0);
	emit_kind(&b, EVENTS_STORED);
	assert_int_equal(s2.rc, 0);
	expect_seen(want, sizeof(want) / sizeof(want[0]));
}

/* A handler that emits what it handles stops at EVENTS_DEPTH_MAX: the
 * emission beyond gets LCF_EBUSY and reaches nobody. */
static void
test_depth_limit(void **state)
{
	struct events_bus b;
	struct sub loop = { "loop", &b, EVENTS_STORED, -99 };

	(void)state;
	events_init(&b);
	assert_int_equal(events_subscribe(&b, EVENTS_MASK(EVENTS_STORED), record,
	    &loop), 0);
	emit_kind(&b, EVENTS_STORED);
	assert_int_equal(nseen, EVENTS_DEPTH_MAX);
	/* The bus is usable after the refusal. */
	assert_int_equal(b.depth, 0);
	loop.emit_kind = -1;
	nseen = 0;
	emit_kind(&b, EVENTS_STORED);
	assert_int_equal(nseen, 1);
}

static size_t emits_ok, emits_busy;

static void
refuse_deeper(void *arg, const struct events_event *ev)
{
	struct events_bus *b = arg;
	struct events_event inner = *ev;
	int rc;

	nseen++;
	rc = events_emit(b, &inner);
	if (rc == 0)
		emits_ok++;
	else if (rc == LCF_EBUSY)
		emits_busy++;
}

/* The emit beyond the limit itself returns LCF_EBUSY. */
static void
test_depth_limit_code(void **state)
{
	struct events_bus b;

	(void)state;
	events_init(&b);
	emits_ok = emits_busy = 0;
	assert_int_equal(events_subscribe(&b, EVENTS_MASK(EVENTS_RESYNC),
	    refuse_deeper, &b), 0);
	emit_kind(&b, EVENTS_RESYNC);
	/* The outer emit and DEPTH_MAX - 1 nested ones delivered; the one
	 * beyond was refused, once. */
	assert_int_equal(nseen, EVENTS_DEPTH_MAX);
	assert_int_equal(emits_ok, EVENTS_DEPTH_MAX - 1);
	assert_int_equal(emits_busy, 1);
	assert_int_equal(b.depth, 0);
}

static struct events_bus *late_bus;
static struct sub late = { "late", NULL, -1, 0 };

static void
subscribe_late(void *arg, const struct events_event *ev)
{
	(void)arg;
	(void)ev;
	assert_int_equal(events_subscribe(late_bus, EVENTS_MASK_ALL, record,
	    &late), 0);
}

/* A subscription made during a delivery sees the next events, not that one. */
static void
test_subscribe_during_delivery(void **state)
{
	struct events_bus b;

	(void)state;
	events_init(&b);
	late_bus = &b;
	assert_int_equal(events_subscribe(&b, EVENTS_MASK(EVENTS_LINK_DOWN),
	    subscribe_late, NULL), 0);
	emit_kind(&b, EVENTS_LINK_DOWN);
	assert_int_equal(nseen, 0);
	emit_kind(&b, EVENTS_LINK_REFUSED);
	assert_int_equal(nseen, 1);
	assert_string_equal(seen[0], "late:link-refused");
}

/* The table is fixed: its bounds and bad arguments are refused. */
static void
test_bounds(void **state)
{
	struct events_bus b;
	struct sub s = { "s", NULL, -1, 0 };
	struct events_event ev;
	size_t i;

	(void)state;
	events_init(&b);
	assert_int_equal(events_subscribe(&b, 0, record, &s), LCF_EINVAL);
	assert_int_equal(events_subscribe(&b, EVENTS_MASK(EVENTS_KINDS), record,
	    &s), LCF_EINVAL);
	assert_int_equal(events_subscribe(&b, EVENTS_MASK_ALL, NULL, &s),
	    LCF_EINVAL);
	for (i = 0; i < EVENTS_SUBSCRIBERS_MAX; i++)
		assert_int_equal(events_subscribe(&b, EVENTS_MASK_ALL, record, &s), 0);
	assert_int_equal(events_subscribe(&b, EVENTS_MASK_ALL, record, &s),
	    LCF_EFULL);
	memset(&ev, 0, sizeof(ev));
	ev.kind = EVENTS_KINDS;
	assert_int_equal(events_emit(&b, &ev), LCF_EINVAL);
	assert_int_equal(nseen, 0);
	assert_string_equal(events_kind_name(EVENTS_KINDS), "?");
	for (i = 0; i < EVENTS_KINDS; i++)
		assert_string_not_equal(events_kind_name((enum events_kind)i), "?");
}

static size_t stored_records;

static void
count_records(void *arg, const struct events_event *ev)
{
	(void)arg;
	stored_records += ev->u.stored.count;
}

/* Delivering events allocates nothing, with several subscribers and events
 * that carry records. */
static void
test_no_allocation(void **state)
{
	struct events_bus b;
	struct events_record recs[3];
	struct events_event ev;
	size_t i, subs;

	(void)state;
	if (!COUNT_ALLOCATIONS)
		skip();
	events_init(&b);
	for (subs = 0; subs < 4; subs++)
		assert_int_equal(events_subscribe(&b, EVENTS_MASK(EVENTS_STORED),
		    count_records, NULL), 0);
	memset(recs, 0, sizeof(recs));
	memset(&ev, 0, sizeof(ev));
	ev.kind = EVENTS_STORED;
	ev.u.stored.origin = EVENTS_FROM_PUBLISH;
	ev.u.stored.recs = recs;
	ev.u.stored.count = 3;
	stored_records = 0;
	/* The counter works: an allocation while counting is seen. */
	counting = 1;
	allocations = 0;
	free(malloc(16));
	counting = 0;
	assert_int_equal(allocations, 1);
	counting = 1;
	allocations = 0;
	for (i = 0; i < 1000; i++)
		events_emit(&b, &ev);
	counting = 0;
	assert_int_equal(allocations, 0);
	assert_int_equal(stored_records, 1000 * 3 * subs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_order_and_masks, reset),
		cmocka_unit_test_setup(test_nested_emit, reset),
		cmocka_unit_test_setup(test_depth_limit, reset),
		cmocka_unit_test_setup(test_depth_limit_code, reset),
		cmocka_unit_test_setup(test_subscribe_during_delivery, reset),
		cmocka_unit_test_setup(test_bounds, reset),
		cmocka_unit_test_setup(test_no_allocation, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
