// SPDX-License-Identifier: Apache-2.0
// Reconciliation's internals, shared by its three files, lowest first:
// sync_session.c (a session's life and its sending), sync_authors.c (per-author
// summaries and the wants that answer them) and sync.c (the exchange: IBLT
// mode, the record streams, the end of a round, the public entry points).
#ifndef LCF_SYNC_INT_H
#define LCF_SYNC_INT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "model/iblt.h"
#include "core/node.h"
#include "store/store.h"
#include "net/sync.h"

/* Ingest's writer commits every batch that is checked when it becomes free,
 * in one transaction, and lingers for larger groups in a bulk flow (ingest.c).
 * The pool must have batches to verify while the writer commits, so a session
 * keeps as many batches in ingest as the window lets it; its queue of received
 * batches then only hands them over. With 16 of 4,096 records in ingest, the
 * writer's groups of 32,768 left the pool idle during the late, longer
 * commits of a million-record bootstrap (22,800 records/s; with 32 in ingest
 * and groups of 65,536: 25,400/s, 12% less CPU, 40% fewer bytes written). A
 * batch in ingest holds only its bytes while it waits for the writer; at most
 * SYNC_WINDOW batches of SYNC_BATCH_BYTES are held per session, in ingest or
 * queued for it. */
#define SYNC_INGEST_MAX SYNC_WINDOW      /* ingest_submit calls in flight */
#define SYNC_TIMEOUT_MS 60000            /* silence that ends a session */
/* Longest life of a session, progress or not: a peer cannot hold one of the
 * few session slots for good (an interrupted transfer resumes next time). */
#define SYNC_LIFETIME_MS (10 * 60 * 1000)
#define SYNC_TICK_MS 1000
#define SYNC_PAGE_RECORDS (256u * 1024)  /* records walked per summary page */
#define SYNC_WANT_VALS (64u * 1024)      /* run values in one SyncWant */
#define SYNC_MAX_AUTHOR_JOBS (256u * 1024)   /* authors wanted per session */
#define SYNC_MAX_JOB_RUNS (1024u * 1024)     /* runs kept per session */
#define SYNC_PREFIX_CHUNK 1024           /* prefixes per store call */
#define SYNC_MAX_RESPONDERS 4
#define SYNC_MAX_RESPONDERS_PER_PEER 2
/* With every responder slot taken, a peer holding none gets one from a peer
 * holding two, else from a session quiet for this long. */
#define SYNC_YIELD_MS 10000
#define SYNC_MAX_ROUNDS 2
#define SUMMARY_WIRE_BYTES 72            /* one AuthorSummary, serialized, about */
#define KEY_LEN 8                        /* an id prefix: the IBLT key */

/* A visitor's answer when the batch has no room: the record was not taken. */
#define BATCH_FULL 1

enum mode {
	MODE_START,          /* initiator: SyncStart sent, nothing chosen yet */
	MODE_IBLT,
	MODE_AUTHORS,
};

struct session;

/* Records received in one message, waiting for or inside ingest. */
struct inbatch {
	struct inbatch *next;
	struct session *s;
	uint8_t *buf;
	const uint8_t **raws;
	size_t *lens;
	size_t n;
	int last;
};

/* Records of one author to send: every seq outside the peer's runs. */
struct job {
	uint8_t author[32];
	uint64_t *runs;      /* start, end pairs, ascending; NULL: none held */
	size_t nruns;
	size_t ri;           /* first run not yet behind next_seq */
	uint64_t next_seq;   /* resume here ... */
	uint8_t after[32];   /* ... after this id of next_seq, if has_after */
	int has_after;
};

/* A Records message being filled. */
struct outbatch {
	ProtobufCBinaryData *recs;
	size_t *offs;
	size_t n;
	uint8_t *buf;
	size_t used, cap;
	int full;
};

struct session {
	struct session *next;
	struct sync_state *st;
	struct node *n;
	struct sync_io *io;          /* NULL once ended */
	uint64_t id;
	int initiator;
	/* The peer speaks a protocol version before KINDS_PROTO_OPEN: the set
	 * compared and sent leaves out records of kinds it does not know
	 * (kinds_late; PROTOCOL 4.10). */
	int legacy;
	/* A measuring session (PROTOCOL 4.11): tables only, no records. */
	int measure;
	/* The store is full (core/space.h): this side serves the peer but asks
	 * for no record, and takes author summaries, where nothing comes
	 * unasked (a decoding peer would send every record it lacks). */
	int no_pull;
	int refs;
	int ended;
	int round;
	enum mode mode;
	int used_authors;            /* this round went through author summaries */
	uint64_t last_active;        /* monotonic ms of the last progress */
	uint64_t born;               /* monotonic ms at creation */
	uint8_t want_last[32];       /* last author the peer wanted ... */
	int want_any;                /* ... if any: wants must ascend */

	/* IBLT mode. */
	int decoder;                 /* this side decodes (else it sends tables) */
	int cls;                     /* class of the table sent or awaited */
	int await_table;

	/* Author mode: our pages, then the peer's. */
	int sum_sent_done;
	int sum_have_after;
	uint8_t sum_after[32];
	int peer_sum_done;
	int peer_sum_have_last;
	uint8_t peer_sum_last[32];

	/* What we send: prefixes first, then author jobs. */
	int stream_open;             /* the sources are known (or will come as wants) */
	int peer_wants_done;
	uint8_t *keys;
	size_t nkeys, keys_pos;
	struct job *jobs;
	size_t njobs, jobs_cap, jobs_pos, jobs_total;
	uint64_t job_runs;
	uint32_t out_credit;
	int out_last_sent;
	int drain_due;               /* sync_on_drain has yet to pump it */

	/* What we receive. */
	uint32_t in_unacked;
	int peer_last;
	struct inbatch *qhead, *qtail;
	size_t inflight;
	uint64_t stored, refused;

	/* The end. */
	int peer_done;
	uint64_t peer_count;
	uint8_t peer_digest[IBLT_DIGEST_BYTES];
	int in_flight;               /* initiator: waiting for the peer's answer */
	struct sync_stats stats;
	sync_done_cb cb;
	void *cb_arg;
};

struct sync_state {
	struct node *n;
	struct session *head;
	uv_timer_t timer;
	int timer_on;
	int stopping;
	struct sync_progress_state *progress;  /* sync_progress.c's */
};

/* sync_progress.c: what the peers announced that this node lacks, counted once
 * per author (or IBLT id prefix) however many peers announce it, and what is
 * stored since. An episode runs from a session starting while none ran until
 * the next such start. */
struct sync_progress_state;
/* Called as a session is made, before it joins the list. */
void sync__progress_begin(struct sync_state *st);
/* A peer holds theirs records of author, this node mine. */
void sync__progress_author(struct sync_state *st, const uint8_t author[32],
    uint64_t theirs, uint64_t mine);
/* The n id prefixes (len bytes each, back to back) this node asks for. */
void sync__progress_ids(struct sync_state *st, const uint8_t *prefixes,
    size_t n, size_t len);
/* n received records were stored (new). */
void sync__progress_stored(struct sync_state *st, uint64_t n);
/* Frees the progress state (at sync_stop). Accepts a state without one. */
void sync__progress_free(struct sync_state *st);

/* sync_session.c: below sync_authors.c and sync.c, calling neither. */
/* Frees a received batch and what it holds. Accepts NULL. */
void sync__inbatch_free(struct inbatch *b);
/* Releases what a session holds for sending and receiving (not the struct). */
void sync__release(struct session *s);
/* References: every entry point holds one while it runs; the last drop frees
 * the session. */
void sync__hold(struct session *s);
void sync__drop(struct session *s);
/* Ends a session once: it leaves the list (the state's timer stops with the
 * last one), the initiator's callback runs with result and the message, and
 * the list's reference is dropped. Later calls do nothing. */
void sync__end(struct session *s, int result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sends m; a control message starts a round trip for the initiator unless one
 * is already waiting. On failure the session ends. */
int sync__send(struct session *s, Lcf__PeerMsg *m, int control);
/* 1 when the peer behind io speaks a version before KINDS_PROTO_OPEN (see
 * session.legacy); a version of 0 is this node's own. */
int sync__legacy(const struct sync_io *io);
/* This node's set digest (count and bytes) as the session sees it. */
void sync__my_digest(struct session *s, struct iblt_digest *dg,
    uint8_t out[IBLT_DIGEST_BYTES]);
/* Sends SyncDone: with error, or (error 0) our count and digest. */
void sync__send_done(struct session *s, int error);
/* Ends a session for a local reason, telling the peer first. */
void sync__abort(struct session *s, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* sync_authors.c: below sync.c, calling only sync_session.c. */
/* Sends the next page of our author summaries, under credit. */
void sync__send_summary_page(struct session *s);
/* This side goes over to author summaries; the records it sends then follow
 * the peer's AuthorWants. */
void sync__enter_authors(struct session *s);
/* A page of the peer's summaries: ask for every author that differs. */
int sync__on_summaries(struct session *s, const Lcf__SyncSketch *m);
/* Checks one AuthorWant: 32-byte author, runs ascending, disjoint, from 1. */
int sync__check_author_want(const Lcf__AuthorWant *aw);
/* Queues the records of one wanted author to send. */
void sync__add_job(struct session *s, const Lcf__AuthorWant *aw);

#endif
