// SPDX-License-Identifier: Apache-2.0
// Unit tests for member.c's held records: expiry after hold_time, and the
// entries they made known forgotten with them (a real store and uv loop).
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

#include "core/config.h"
#include "base/error.h"
#include "model/identity.h"
#include "core/member.h"
#include "core/node.h"
#include "store/store.h"
#include "base/util.h"
#include "unit_util.h"

#define TEST_MAP_SIZE (64u << 20)
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
	char err[256] = "", db[96];

	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/lcf-test-member-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(db, sizeof(db), "%s/db", f->dir);
	if (store_open(db, TEST_MAP_SIZE, &f->n.store, err, sizeof(err)) != 0)
		fail_msg("store_open: %s", err);
	config_init(&f->n.cfg, f->dir);
	f->n.cfg.has_federation = 1;
	randombytes_buf(f->n.cfg.federation, 32);
	f->n.cfg.hold_time = 1;
	f->n.loop = &f->loop;
	assert_non_null(f->n.id = identity_new());
	identity_generate(f->n.id);
	if (members_open(&f->n, err, sizeof(err)) != 0)
		fail_msg("members_open: %s", err);
	members_start(&f->n);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	members_stop(&f->n);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	members_free(&f->n);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	store_close(f->n.store);
	identity_free(f->n.id);
	config_free(&f->n.cfg);
	unit_rm_tree(f->dir);
	free(f);
	return 0;
}

/* Stops the loop once the watched author has no entry, or at the deadline. */
static void
poll_cb(uv_timer_t *t)
{
	struct fix *f = t->data;
	struct member_info mi;

	if (members_get(&f->n, f->watch, &mi) == LCF_ENOTFOUND ||
	    mono_ms() >= f->deadline) {
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

/* Records of fresh keys are held, expire after hold_time, and the authors'
 * entries go with them: a stream of fresh keys leaves nothing behind. */
static void
test_held_expire_and_pruned(void **state)
{
	struct fix *f = *state;
	uint8_t authors[3][32], id[32], raw[100];
	struct member_info mi;
	uint64_t recs, auths, t0;
	size_t i;

	for (i = 0; i < 3; i++) {
		randombytes_buf(authors[i], 32);
		randombytes_buf(raw, sizeof(raw));
		randombytes_buf(id, sizeof(id));
		assert_int_equal(members_hold(&f->n, raw, sizeof(raw), id,
		    authors[i]), 0);
		/* The same record again is not held twice. */
		assert_int_equal(members_hold(&f->n, raw, sizeof(raw), id,
		    authors[i]), 0);
	}
	randombytes_buf(id, sizeof(id));
	assert_int_equal(members_hold(&f->n, raw, sizeof(raw), id, authors[0]), 0);
	members_held(&f->n, &recs, &auths);
	assert_int_equal(recs, 4);
	assert_int_equal(auths, 3);
	assert_int_equal(members_get(&f->n, authors[0], &mi), 0);
	assert_int_equal(mi.held, 2);
	assert_false(mi.admitted);

	t0 = mono_ms();
	run_until_gone(f, authors[2]);
	/* Not before hold_time (1 s; the records were held a moment before
	 * t0, in whole milliseconds), and well within the wait. */
	assert_true(mono_ms() - t0 >= 990);
	assert_true(mono_ms() - t0 < WAIT_MS);
	for (i = 0; i < 3; i++)
		assert_int_equal(members_get(&f->n, authors[i], &mi), LCF_ENOTFOUND);
	members_held(&f->n, &recs, &auths);
	assert_int_equal(recs, 0);
	assert_int_equal(auths, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_held_expire_and_pruned, setup,
		    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
