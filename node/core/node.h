/* SPDX-License-Identifier: Apache-2.0 */
/* The running node: the state every lcnode module shares. */
#ifndef LCF_NODE_H
#define LCF_NODE_H

#include <stdint.h>

#include <uv.h>

#include "core/config.h"
#include "core/events.h"
#include "core/seq.h"

struct catalog;
struct control;
struct discover;
struct held;
struct identity;
struct ingest_state;
struct members;
struct peers;
struct publish_turn;
struct store;
struct sync_state;

struct node {
	uv_loop_t *loop;
	struct config cfg;
	struct identity *id;          /* city key, guarded memory */
	struct store *store;
	struct catalog *catalog;      /* in force: a reference (catalog.h) */
	struct catalog *catalog_file; /* the configured file's, a reference */
	struct control *control;
	struct seq_counter seq;       /* written by seq.c only (seq.h) */
	struct events_bus events;     /* subscribed in main.c (events.h) */
	int64_t started_ms;           /* wall clock at start */
	uint64_t started_mono;
	int stopping;
	int publish_busy;             /* the head turn holds the writer */
	int seq_settled;              /* own seqs may be given out (publish_settle) */
	struct publish_turn *publish_head, *publish_tail;   /* publish.c */
	int import_writing;           /* an import holds the store's write
	                               * transaction (import.c) */
	/* Federation (peer.c, ingest.c, sync.c); NULL until started. */
	struct peers *peers;
	struct ingest_state *ingest;
	struct sync_state *sync;
	struct members *members;      /* federation membership (member.c) */
	struct held *held;            /* records awaiting a membership (held.c) */
	struct discover *discover;    /* endpoints and discovered links (discover.c) */
};

#endif
