/* SPDX-License-Identifier: Apache-2.0 */
/* The running node: the state every lcnode module shares. */
#ifndef LCF_NODE_H
#define LCF_NODE_H

#include <stdint.h>

#include <uv.h>

#include "core/clockwatch.h"
#include "core/config.h"
#include "core/counters.h"
#include "core/events.h"
#include "core/restore.h"
#include "core/seq.h"
#include "core/space.h"

struct beacon;
struct catalog;
struct control;
struct discover;
struct held;
struct http;
struct identity;
struct ingest_state;
struct measure;
struct members;
struct peers;
struct publish_turn;
struct restwatch;
struct quarantine;
struct store;
struct sync_state;

/*
 * Each field has one owner, the module named beside it: only that module
 * writes it (main.c sets the handles at start-up and clears them at the end);
 * the others read it or ask the owner.
 */
struct node {
	uv_loop_t *loop;              /* main.c */
	struct config cfg;            /* main.c (config.c parses it) */
	struct identity *id;          /* main.c: city key, guarded memory */
	struct store *store;          /* main.c */
	struct catalog *catalog;      /* member.c: in force, a reference
	                               * (catalog.h); main.c sets the first */
	struct catalog *catalog_file; /* main.c: the configured file's */
	struct control *control;      /* main.c (control.c makes it) */
	struct http *http;            /* main.c (server.c makes it); NULL
	                               * when [http] is off */
	struct seq_counter seq;       /* seq.c (seq.h) */
	struct events_bus events;     /* events.c; subscribed in main.c */
	struct clockwatch clock;      /* ingest.c notes, status reads */
	struct space_state space;     /* space.c: a full store's episode */
	struct node_counters counters;    /* for /metrics: each counter's owner
	                               * is named in counters.h */
	int64_t started_ms;           /* main.c: wall clock at start */
	uint64_t started_mono;        /* main.c */
	int stopping;                 /* main.c */
	int publish_busy;             /* publish.c: the head turn holds the writer */
	int seq_settled;              /* publish.c: own seqs may be given out
	                               * (publish_settle) */
	struct publish_turn *publish_head, *publish_tail;   /* publish.c */
	int import_writing;           /* import.c: an import holds the store's
	                               * write transaction */
	/* Each module's own state, made by its start function; NULL before. */
	struct peers *peers;          /* peer.c */
	struct ingest_state *ingest;  /* ingest.c */
	struct sync_state *sync;      /* sync.c */
	struct measure *measure;      /* measure.c: the last measuring round */
	struct members *members;      /* member.c: federation membership */
	struct held *held;            /* held.c: records awaiting a membership */
	struct discover *discover;    /* discover.c: endpoints, discovered links */
	struct beacon *beacon;        /* beacon.c: status beacons */
	struct restore_state restore; /* restore.c: publishing waits for peers */
	struct restwatch *restwatch;  /* restwatch.c: when the wait ends */
	struct quarantine *quarantine;    /* quarantine.c: damaged records */
	int key_published;            /* custody.c: the published marker is
	                               * written (DIR/identity.published) */
};

#endif
