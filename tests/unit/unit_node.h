/* SPDX-License-Identifier: Apache-2.0 */
/* Fixtures of the unit tests (header only: each test is one program): a
 * store in a new temporary directory, and a node with what the write path
 * needs: a real store, a uv loop, an identity, the sequence counter and the
 * event bus with membership's handler first among those of EVENTS_STORED, as
 * main.c orders them. A test opens the node, sets what its config needs and
 * subscribes its own handlers, then starts it. */
#ifndef LCF_UNIT_NODE_H
#define LCF_UNIT_NODE_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "core/config.h"
#include "core/events.h"
#include "core/member.h"
#include "core/node.h"
#include "core/seq.h"
#include "model/identity.h"
#include "store/store.h"
#include "write/held.h"
#include "write/ingest.h"
#include "unit_util.h"

#define UNIT_NODE_MAP_SIZE (64u << 20)

struct unit_node {
	uv_loop_t loop;
	struct node n;
	char dir[64];
};

/* A new store at DIR/db, DIR a new directory /tmp/lcf-test-TAG-XXXXXX: dir
 * (64 bytes) gets DIR, db (96 bytes) the store's path. 0, or -1 with a
 * message. */
static inline int
unit_store_new(const char *tag, char dir[64], char db[96], struct store **s)
{
	char err[256] = "";

	snprintf(dir, 64, "/tmp/lcf-test-%s-XXXXXX", tag);
	if (mkdtemp(dir) == NULL) {
		print_error("mkdtemp %s: %s\n", dir, strerror(errno));
		return -1;
	}
	snprintf(db, 96, "%s/db", dir);
	if (store_open(db, UNIT_NODE_MAP_SIZE, s, err, sizeof(err)) != 0) {
		print_error("store_open: %s\n", err);
		return -1;
	}
	return 0;
}

/* Opens u in /tmp/lcf-test-TAG-XXXXXX. */
static inline void
unit_node_open(struct unit_node *u, const char *tag)
{
	char db[96];

	assert_int_equal(uv_loop_init(&u->loop), 0);
	assert_int_equal(unit_store_new(tag, u->dir, db, &u->n.store), 0);
	config_init(&u->n.cfg, u->dir);
	u->n.loop = &u->loop;
	assert_non_null(u->n.id = identity_new());
	identity_generate(u->n.id);
	seq_init(&u->n, 0);
	events_init(&u->n.events);
	assert_int_equal(events_subscribe(&u->n.events,
	    EVENTS_MASK(EVENTS_STORED), members_on_event, &u->n), 0);
}

/* Opens the membership tables and starts membership. */
static inline void
unit_node_start(struct unit_node *u)
{
	char err[256] = "";

	if (members_open(&u->n, err, sizeof(err)) != 0)
		fail_msg("members_open: %s", err);
	members_start(&u->n);
}

/* Stops what runs, lets the loop close it, frees everything and removes
 * the directory. */
static inline void
unit_node_close(struct unit_node *u)
{
	ingest_stop(&u->n);
	members_stop(&u->n);
	held_stop(&u->n);
	uv_run(&u->loop, UV_RUN_DEFAULT);
	ingest_free(&u->n);
	held_free(&u->n);
	members_free(&u->n);
	assert_int_equal(uv_loop_close(&u->loop), 0);
	store_close(u->n.store);
	identity_free(u->n.id);
	config_free(&u->n.cfg);
	unit_rm_tree(u->dir);
}

#endif
