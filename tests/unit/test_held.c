// SPDX-License-Identifier: Apache-2.0
// Unit tests for held.c: records of authors not admitted expire after
// hold_time, and the authors they made known are forgotten with them; an
// admission takes them out; the bounds say when records were refused.
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
#include "core/node.h"
#include "write/held.h"

#define WAIT_MS 6000

struct fix {
	uv_loop_t loop;
	struct node n;
	char dir[64];
	uv_timer_t poll;
	const uint8_t *watch;         /* the author awaited */
	uint64_t deadline;
};

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/lcf-test-held");
	config_init(&f->n.cfg, f->dir);
	f->n.cfg.hold_time = 1;
	f->n.loop = &f->loop;
	held_start(&f->n);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	held_stop(&f->n);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	held_free(&f->n);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	config_free(&f->n.cfg);
	free(f);
	return 0;
}

/* Stops the loop once the watched author has nothing held, or at the
 * deadline. */
static void
poll_cb(uv_timer_t *t)
{
	struct fix *f = t->data;

	if (held_of(&f->n, f->watch) == 0 || mono_ms() >= f->deadline) {
		uv_timer_stop(t);
		uv_stop(&f->loop);
	}
}

static void
run_until_gone(struct fix *f, const uint8_t *author)
{
	f->watch = author;
	f->deadline = mono_ms() + WAIT_MS;
	uv_timer_init(&f->loop, &f->poll);
	f->poll.data = f;
	uv_timer_start(&f->poll, poll_cb, 50, 50);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&f->poll, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
}

/* Records of fresh keys are held, expire after hold_time, and the authors go
 * with them: a stream of fresh keys leaves nothing behind. */
static void
test_held_expire_and_pruned(void **state)
{
	struct fix *f = *state;
	uint8_t authors[3][32], id[32], raw[100];
	uint64_t recs, auths, t0;
	size_t i;

	for (i = 0; i < 3; i++) {
		randombytes_buf(authors[i], 32);
		randombytes_buf(raw, sizeof(raw));
		randombytes_buf(id, sizeof(id));
		assert_int_equal(held_keep(&f->n, raw, sizeof(raw), id,
		    authors[i]), 0);
		/* The same record again is not held twice. */
		assert_int_equal(held_keep(&f->n, raw, sizeof(raw), id,
		    authors[i]), 0);
	}
	randombytes_buf(id, sizeof(id));
	assert_int_equal(held_keep(&f->n, raw, sizeof(raw), id, authors[0]), 0);
	held_counts(&f->n, &recs, &auths);
	assert_int_equal(recs, 4);
	assert_int_equal(auths, 3);
	assert_int_equal(held_of(&f->n, authors[0]), 2);
	assert_int_equal(held_take_overflow(&f->n), 0);

	t0 = mono_ms();
	run_until_gone(f, authors[2]);
	/* Not before hold_time (1 s; the records were held a moment before
	 * t0, in whole milliseconds), and well within the wait. */
	assert_true(mono_ms() - t0 >= 990);
	assert_true(mono_ms() - t0 < WAIT_MS);
	for (i = 0; i < 3; i++)
		assert_int_equal(held_of(&f->n, authors[i]), 0);
	held_counts(&f->n, &recs, &auths);
	assert_int_equal(recs, 0);
	assert_int_equal(auths, 0);
}

/* An admission takes the author's records out (newest first); a revocation
 * drops them; the per-author bound refuses and says so once. */
static void
test_take_drop_bounds(void **state)
{
	struct fix *f = *state;
	uint8_t a[32], b[32], id[32], raw[8];
	struct held_record *list, *h;
	uint64_t recs, auths;
	size_t i, n;

	randombytes_buf(a, 32);
	randombytes_buf(b, 32);
	for (i = 0; i < 3; i++) {
		memset(raw, (int)i, sizeof(raw));
		randombytes_buf(id, sizeof(id));
		assert_int_equal(held_keep(&f->n, raw, sizeof(raw), id, a), 0);
		assert_int_equal(held_keep(&f->n, raw, sizeof(raw), id, b), 0);
	}
	list = held_take(&f->n, a);
	for (n = 0, h = list; h != NULL; h = h->next, n++)
		assert_int_equal(h->raw[0], 2 - n);
	assert_int_equal(n, 3);
	held_list_free(list);
	assert_null(held_take(&f->n, a));
	held_drop(&f->n, b);
	held_counts(&f->n, &recs, &auths);
	assert_int_equal(recs, 0);
	assert_int_equal(auths, 0);

	for (i = 0; i < HELD_PER_AUTHOR; i++) {
		randombytes_buf(id, sizeof(id));
		assert_int_equal(held_keep(&f->n, raw, sizeof(raw), id, a), 0);
	}
	randombytes_buf(id, sizeof(id));
	assert_int_equal(held_keep(&f->n, raw, sizeof(raw), id, a), LCF_EFULL);
	assert_int_equal(held_of(&f->n, a), HELD_PER_AUTHOR);
	assert_int_equal(held_take_overflow(&f->n), 1);
	assert_int_equal(held_take_overflow(&f->n), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_held_expire_and_pruned, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_take_drop_bounds, setup,
		    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
