// SPDX-License-Identifier: Apache-2.0
// core/space.c: a full store's episode, its back-off and its checks for room, on a node with no store.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/util.h"
#include "core/node.h"
#include "core/space.h"

static void
node_init(struct node *n, char *dir)
{
	memset(n, 0, sizeof(*n));
	n->cfg.dir = dir;
	n->cfg.path = "lcnode.conf";
	n->cfg.map_size = 4 << 20;
	n->cfg.sync_interval = 2;
}

/* A full map: no pull, no probe while no room is made, one an hour all the
 * same; a refused probe doubles the back-off; a probe's records end it. */
static void
test_map(void **state)
{
	struct node n;
	char dir[] = "/tmp";
	char text[512];
	uint64_t first = 2 * 1000 * SPACE_BACKOFF_FIRST;

	(void)state;
	node_init(&n, dir);
	assert_int_equal(space_pull_allowed(&n), 1);
	space_refused(&n, LCF_EINVAL, SPACE_FROM_SYNC, 10);
	assert_int_equal(n.space.full, SPACE_OK);
	space_refused(&n, LCF_EMAPFULL, SPACE_FROM_SYNC, 10);
	assert_int_equal(n.space.full, SPACE_MAP);
	assert_int_equal(n.space.episodes, 1);
	assert_int_equal(n.space.refused_sync, 10);
	assert_int_equal(n.space.backoff_ms, first);
	space_describe(&n, text, sizeof(text));
	assert_non_null(strstr(text, "raise map_size"));
	assert_string_equal(space_full_name(n.space.full), "map_size");
	/* Within the back-off: no. More refusals of the same session: the
	 * same episode, the same back-off, counted. */
	assert_int_equal(space_pull_allowed(&n), 0);
	space_refused(&n, LCF_EMAPFULL, SPACE_FROM_SYNC, 5);
	space_refused(&n, LCF_EMAPFULL, SPACE_FROM_PUSH, 3);
	assert_int_equal(n.space.episodes, 1);
	assert_int_equal(n.space.backoff_ms, first);
	assert_int_equal(n.space.refused_sync, 15);
	assert_int_equal(n.space.refused_push, 3);
	/* Past it, no room made (no store: room 0): still no. */
	n.space.probe_at = 0;
	assert_int_equal(space_pull_allowed(&n), 0);
	assert_true(n.space.probe_at > mono_ms());
	/* An hour since the last probe: one probe. */
	n.space.probe_at = 0;
	n.space.last_probe = mono_ms() - SPACE_BACKOFF_MAX_MS - 1;
	assert_int_equal(space_pull_allowed(&n), 1);
	assert_int_equal(n.space.probing, 1);
	assert_int_equal(n.space.probes, 1);
	assert_int_equal(space_pull_allowed(&n), 0);     /* one per back-off */
	/* Refused: the back-off doubles, the episode goes on. */
	space_refused(&n, LCF_EMAPFULL, SPACE_FROM_SYNC, 1);
	assert_int_equal(n.space.probing, 0);
	assert_int_equal(n.space.backoff_ms, 2 * first);
	assert_int_equal(n.space.episodes, 1);
	/* A session that ends well without a probe ends nothing. */
	space_stored(&n);
	assert_int_equal(n.space.full, SPACE_MAP);
	/* A probe that stores: over, the back-off level kept. */
	n.space.probe_at = 0;
	/* Unsigned: right even when the clock is younger than an hour. */
	n.space.last_probe = mono_ms() - SPACE_BACKOFF_MAX_MS - 1;
	assert_int_equal(space_pull_allowed(&n), 1);
	space_stored(&n);
	assert_int_equal(n.space.full, SPACE_OK);
	assert_int_equal(n.space.backoff_ms, 2 * first);
	assert_int_equal(space_pull_allowed(&n), 1);
	/* Full again at once: the back-off goes on from there. */
	space_refused(&n, LCF_EMAPFULL, SPACE_FROM_NODE, 1);
	assert_int_equal(n.space.episodes, 2);
	assert_int_equal(n.space.backoff_ms, 4 * first);
	assert_int_equal(n.space.refused_node, 1);
}

/* A full disk: room made on it (statvfs) ends the episode at once. */
static void
test_disk(void **state)
{
	struct node n;
	char dir[] = "/tmp";
	char text[512];

	(void)state;
	node_init(&n, dir);
	space_refused(&n, LCF_ENOSPC, SPACE_FROM_SYNC, 7);
	assert_int_equal(n.space.full, SPACE_DISK);
	space_describe(&n, text, sizeof(text));
	assert_non_null(strstr(text, "free some space on that disk"));
	assert_true(n.space.room_at_refusal > 0);
	/* As much free as at the refusal: no. */
	assert_int_equal(space_pull_allowed(&n), 0);
	/* SPACE_RESUME_BYTES more than at the refusal: yes, and over. */
	n.space.room_at_refusal = 0;
	assert_int_equal(space_pull_allowed(&n), 1);
	assert_int_equal(n.space.full, SPACE_OK);
	space_describe(&n, text, sizeof(text));
	assert_string_equal(text, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_disk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
