// SPDX-License-Identifier: Apache-2.0
// Unit tests for sse.c's ring: the frames the bus's events become, ids,
// resuming after an id, link events for operators only, the ring's bound.
#include <setjmp.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/error.h"
#include "base/util.h"
#include "core/node.h"
#include "http/http_int.h"
#include "model/identity.h"
#include "model/record.h"
#include "store/store.h"

#define START 1700000000123LL
#define RING 16384                    /* sse.c's SSE_RING */
#define FRAME_MAX 1024                /* sse.c's SSE_FRAME_MAX */

struct fix {
	uv_loop_t loop;
	struct node n;
	struct http h;
	struct identity *city;
	uint8_t pk[32];
	char buf[1 << 20];
};

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (f == NULL || sodium_init() < 0 || uv_loop_init(&f->loop) != 0)
		return -1;
	f->n.loop = &f->loop;
	f->n.started_ms = START;
	f->h.n = &f->n;
	f->h.sse = sse_new(&f->h);
	if ((f->city = identity_new()) == NULL)
		return -1;
	identity_generate(f->city);
	memcpy(f->pk, f->city->pk, sizeof(f->pk));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	sse_free(f->h.sse);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	identity_free(f->city);
	free(f);
	return 0;
}

/* Emits a STORED batch of n records (content "record i"); dup_mask's bits
 * mark records already held. ids gets each record's id. */
static void
stored(struct fix *f, size_t n, unsigned dup_mask, int partial,
    enum events_origin origin, uint8_t ids[][RECORD_ID_LEN])
{
	struct events_record recs[8];
	uint8_t *raws[8];
	struct events_event ev;
	char content[32];
	size_t i;

	assert_true(n <= 8);
	memset(recs, 0, sizeof(recs));
	for (i = 0; i < n; i++) {
		snprintf(content, sizeof(content), "record %zu", i);
		assert_int_equal(record_seal((const uint8_t *)content,
		    strlen(content), f->city, &raws[i], &recs[i].len, ids[i]), 0);
		recs[i].raw = raws[i];
		recs[i].author = f->pk;
		recs[i].seq = 10 + i;
		recs[i].kind = LCF__KIND__KIND_PRACTICE;
		recs[i].result = (dup_mask >> i) & 1 ? STORE_DUP : 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.kind = EVENTS_STORED;
	ev.u.stored.origin = origin;
	ev.u.stored.recs = recs;
	ev.u.stored.count = n;
	ev.u.stored.partial = partial;
	sse_on_event(&f->h, &ev);
	for (i = 0; i < n; i++)
		free(raws[i]);
}

static void
link_event(struct fix *f, enum events_kind kind, const char *reason)
{
	struct events_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.u.link.city = f->pk;
	ev.u.link.outbound = 1;
	ev.u.link.reason = reason;
	sse_on_event(&f->h, &ev);
}

static void
membership(struct fix *f, enum events_membership_change change,
    const uint8_t *city)
{
	struct events_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = EVENTS_MEMBERSHIP;
	ev.u.membership.change = change;
	ev.u.membership.city = city;
	sse_on_event(&f->h, &ev);
}

/* Splits the frames of buf (len bytes) in place: id, event and data of each,
 * at most max. Returns how many. */
static size_t
frames(char *buf, size_t len, char **id, char **event, json_t **data,
    size_t max)
{
	char *p = buf, *end = buf + len, *next;
	size_t n = 0;

	buf[len] = '\0';
	while (p < end && n < max) {
		next = strstr(p, "\n\n");
		assert_non_null(next);
		*next = '\0';
		assert_true(strncmp(p, "id: ", 4) == 0);
		id[n] = p + 4;
		p = strchr(p, '\n');
		*p++ = '\0';
		assert_true(strncmp(p, "event: ", 7) == 0);
		event[n] = p + 7;
		p = strchr(p, '\n');
		*p++ = '\0';
		assert_true(strncmp(p, "data: ", 6) == 0);
		data[n] = json_loads(p + 6, 0, NULL);
		assert_non_null(data[n]);
		n++;
		p = next + 2;
	}
	return n;
}

static const char *
str(json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Each stored record (not the ones already held) is one "stored" event with
 * its kind, id, city, seq and origin, numbered from 1; a partial batch adds
 * a "resync". */
static void
test_stored(void **state)
{
	struct fix *f = *state;
	uint8_t ids[3][RECORD_ID_LEN];
	char *id[8], *event[8], hex[LCF_ID_HEX], pkhex[LCF_ID_HEX];
	json_t *data[8];
	uint64_t pos = 1;
	size_t len, n, i;

	stored(f, 3, 1u << 1, 1, EVENTS_FROM_IMPORT, ids);
	len = sse_fill(f->h.sse, &pos, 0, f->buf, sizeof(f->buf) - 1);
	assert_int_equal(pos, 4);
	n = frames(f->buf, len, id, event, data, 8);
	assert_int_equal(n, 3);
	assert_string_equal(id[0], "1700000000123-1");
	assert_string_equal(id[1], "1700000000123-2");
	assert_string_equal(id[2], "1700000000123-3");
	assert_string_equal(event[0], "stored");
	assert_string_equal(event[1], "stored");
	assert_string_equal(event[2], "resync");
	hex_encode(f->pk, 32, pkhex);
	assert_string_equal(str(data[0], "id"), hex_encode(ids[0], 32, hex));
	assert_string_equal(str(data[1], "id"), hex_encode(ids[2], 32, hex));
	assert_string_equal(str(data[0], "kind"), "practice");
	assert_string_equal(str(data[0], "city"), pkhex);
	assert_string_equal(str(data[0], "from"), "import");
	assert_int_equal(json_integer_value(json_object_get(data[0], "seq")), 10);
	assert_int_equal(json_integer_value(json_object_get(data[1], "seq")), 12);
	assert_true(json_is_true(json_object_get(data[2], "partial")));
	for (i = 0; i < n; i++)
		json_decref(data[i]);
}

/* Link events reach operator clients only; membership events everyone. */
static void
test_link_operator_only(void **state)
{
	struct fix *f = *state;
	char *id[8], *event[8], pkhex[LCF_ID_HEX], longreason[4000];
	json_t *data[8];
	uint64_t pos = 1;
	size_t len, n, i;

	memset(longreason, 0xe2, sizeof(longreason) - 1);
	for (i = 0; i + 3 < sizeof(longreason); i += 3)
		memcpy(longreason + i, "\xe2\x82\xac", 3);   /* euro signs */
	longreason[i] = '\0';
	link_event(f, EVENTS_LINK_UP, "");
	membership(f, EVENTS_ADMITTED, f->pk);
	link_event(f, EVENTS_LINK_DOWN, longreason);
	membership(f, EVENTS_EXPIRED, NULL);
	link_event(f, EVENTS_LINK_REFUSED, "not a member");

	len = sse_fill(f->h.sse, &pos, 0, f->buf, sizeof(f->buf) - 1);
	assert_int_equal(pos, 6);
	n = frames(f->buf, len, id, event, data, 8);
	assert_int_equal(n, 2);
	assert_string_equal(id[0], "1700000000123-2");
	assert_string_equal(event[0], "membership");
	assert_string_equal(str(data[0], "change"), "admitted");
	assert_string_equal(str(data[0], "city"), hex_encode(f->pk, 32, pkhex));
	assert_string_equal(id[1], "1700000000123-4");
	assert_string_equal(str(data[1], "change"), "expired");
	assert_true(json_is_null(json_object_get(data[1], "city")));
	for (i = 0; i < n; i++)
		json_decref(data[i]);

	pos = 1;
	len = sse_fill(f->h.sse, &pos, 1, f->buf, sizeof(f->buf) - 1);
	n = frames(f->buf, len, id, event, data, 8);
	assert_int_equal(n, 5);
	assert_string_equal(event[0], "link");
	assert_string_equal(str(data[0], "state"), "up");
	assert_true(json_is_true(json_object_get(data[0], "outbound")));
	assert_string_equal(str(data[0], "city"), pkhex);
	assert_string_equal(str(data[2], "state"), "down");
	/* A long reason is cut at a character boundary: the frame stays within
	 * its bound and valid UTF-8. */
	assert_true(strlen(str(data[2], "reason")) <= 120);
	assert_true(strlen(str(data[2], "reason")) >= 117);
	assert_string_equal(str(data[4], "state"), "refused");
	assert_string_equal(str(data[4], "reason"), "not a member");
	for (i = 0; i < n; i++)
		json_decref(data[i]);
}

/* Last-Event-ID: right after a kept event; else from the oldest kept, told
 * as a reset; malformed ids refused. */
static void
test_resume(void **state)
{
	struct fix *f = *state;
	uint8_t ids[8][RECORD_ID_LEN];
	uint64_t pos = 0;

	stored(f, 5, 0, 0, EVENTS_FROM_PUBLISH, ids);
	assert_int_equal(sse_resume(f->h.sse, "1700000000123-2", &pos), 0);
	assert_int_equal(pos, 3);
	assert_int_equal(sse_resume(f->h.sse, "1700000000123-0", &pos), 0);
	assert_int_equal(pos, 1);
	assert_int_equal(sse_resume(f->h.sse, "1700000000123-5", &pos), 0);
	assert_int_equal(pos, 6);
	/* Not given yet, or of another start: from the oldest kept. */
	assert_int_equal(sse_resume(f->h.sse, "1700000000123-6", &pos), 1);
	assert_int_equal(pos, 1);
	assert_int_equal(sse_resume(f->h.sse, "1700000000124-2", &pos), 1);
	assert_int_equal(pos, 1);
	assert_int_equal(sse_resume(f->h.sse, "170000000012-2", &pos), 1);
	assert_int_equal(sse_resume(f->h.sse,
	    "1700000000123-99999999999999999999999", &pos), LCF_EINVAL);
	assert_int_equal(sse_resume(f->h.sse, "abc", &pos), LCF_EINVAL);
	assert_int_equal(sse_resume(f->h.sse, "12", &pos), LCF_EINVAL);
	assert_int_equal(sse_resume(f->h.sse, "-12", &pos), LCF_EINVAL);
	assert_int_equal(sse_resume(f->h.sse, "12-", &pos), LCF_EINVAL);
	assert_int_equal(sse_resume(f->h.sse, "12-3x", &pos), LCF_EINVAL);
	assert_int_equal(sse_resume(f->h.sse, "1a-3", &pos), LCF_EINVAL);
	assert_int_equal(sse_resume(f->h.sse, "12--3", &pos), LCF_EINVAL);
}

/* The ring keeps the last RING events; a position it let go gives nothing,
 * resuming there is a reset from the oldest kept; batches hold whole
 * frames. */
static void
test_ring_bound(void **state)
{
	struct fix *f = *state;
	uint64_t pos = 0, total = 20000, i, got = 0, start, n;
	char *id[1], *event[1], want[40], *p;
	json_t *data[1];
	size_t len;

	for (i = 0; i < total; i++)
		membership(f, EVENTS_ADMITTED, f->pk);
	assert_int_equal(sse_resume(f->h.sse, "1700000000123-10", &pos), 1);
	assert_int_equal(pos, total - RING + 1);
	assert_int_equal(sse_resume(f->h.sse, "1700000000123-3616", &pos), 0);
	assert_int_equal(pos, 3617);
	pos = 3616;
	assert_int_equal(sse_fill(f->h.sse, &pos, 1, f->buf, 4096), 0);
	assert_int_equal(pos, 3616);

	/* Batches of at most 1,000 bytes: whole frames, in order, no gap. */
	pos = total - RING + 1;
	while ((start = pos, len = sse_fill(f->h.sse, &pos, 0, f->buf,
	    1000)) > 0) {
		assert_true(len <= 1000);
		assert_true(len >= 2 && memcmp(f->buf + len - 2, "\n\n", 2) == 0);
		for (p = f->buf, n = 0; (p = strstr(p, "\n\n")) != NULL &&
		    p < f->buf + len; p += 2)
			n++;
		assert_int_equal(n, pos - start);
		got += n;
		f->buf[len] = '\0';
		snprintf(want, sizeof(want), "1700000000123-%" PRIu64, start);
		assert_int_equal(frames(f->buf, len, id, event, data, 1), 1);
		assert_string_equal(id[0], want);
		json_decref(data[0]);
	}
	assert_int_equal(got, RING);
	assert_int_equal(pos, total + 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_operator_only, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_bound, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
