// SPDX-License-Identifier: Apache-2.0
// A streamed import: chunks of drafts checked and signed in the pool, written in one transaction.
//
// Each chunk goes through: (1) in the pool, decode its DraftBatch, fill the
// envelopes, validate, and mark drafts equal to their current version; (2) in
// the loop, in chunk order, give its changed drafts consecutive seqs; (3) in
// the pool, serialize and sign them into one buffer; (4) in the writer thread,
// in chunk order, write them into the import's one store transaction. Chunks
// overlap: while chunk k is written, k+1 is signed and k+2 checked, on both
// cores. At most IMPORT_INFLIGHT chunks are held at once and the control
// connection stops reading meanwhile, so the node's memory does not grow with
// the size of the import.
//
// The transaction commits after the last chunk. On any error, or when the
// client goes away, the writer aborts it, nothing is stored, and the seqs given
// out are taken back, so a refused import leaves no gap. LMDB binds a write
// transaction to the thread that began it: hence a thread of its own rather
// than pool jobs.
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "control.pb-c.h"
#include "model/catalog.h"
#include "core/lineage.h"
#include "base/error.h"
#include "model/identity.h"
#include "write/import.h"
#include "write/ingest.h"
#include "base/log.h"
#include "core/events.h"
#include "core/node.h"
#include "core/seq.h"
#include "model/kinds.h"
#include "model/record.h"
#include "store/store.h"
#include "base/util.h"
#include "base/xmalloc.h"

/* Chunks held at once: one being written, one signed, two checked. */
#define IMPORT_INFLIGHT 4
/* A session whose client sends nothing for this long is abandoned, so a
 * stalled client cannot hold the writer for ever. */
#define IMPORT_IDLE_MS (60 * 1000)
/* Signed records kept to tell the node once committed (EVENTS_STORED: push,
 * membership and discovery react). Past this many bytes a city's content is
 * not kept (the event says partial: reconciliation brings it to peers);
 * records of the other kinds always are (kept_past_cap). */
#define IMPORT_PUSH_MAX (1u << 20)
/* What is kept at all, records of the other kinds included: an import is a
 * stream of any length, and the node's memory must not follow it. */
#define IMPORT_KEEP_MAX (16u << 20)

enum chunk_state {
	CH_WAITING,         /* received before the session's turn */
	CH_CHECKING,        /* step 1 in the pool */
	CH_CHECKED,
	CH_SEALING,         /* step 3 in the pool */
	CH_SEALED,
	CH_WRITING,         /* handed to the writer thread */
};

struct chunk {
	uv_work_t work;
	struct import *imp;
	struct chunk *next;          /* held chunks, in arrival order */
	struct chunk *wnext;         /* writer queue and written list */
	enum chunk_state state;
	size_t base;                 /* import index of its first draft */
	size_t count;                /* drafts, as announced */
	int last;
	uint8_t *frame;              /* serialized DraftBatch, until decoded */
	size_t flen;
	Lcf__DraftBatch *batch;
	uint8_t *unchanged;          /* per draft */
	size_t nchanged;
	size_t sealed_max;           /* bytes the changed drafts can seal to */
	uint8_t *arena;              /* their SignedRecord bytes, back to back */
	struct record *recs;
	struct store_item *items;
	size_t stored;               /* by the writer: items that were new */
	uint64_t cpu_us;             /* CPU of its latest pool step */
	int err;                     /* step 1 or 3 failed: */
	size_t err_index;            /* import index of the draft */
	struct verr verr;
};

struct import {
	struct publish_turn turn;    /* first: the session is found from it */
	struct node *n;
	import_done_cb done;         /* NULL once called or aborted */
	import_room_cb room;
	void *arg;
	uint8_t author[32];          /* the drafts' author bytes point here */
	int64_t timestamp;
	struct catalog *catalog;     /* in force when the import began (a ref) */
	struct lineage *lin;         /* this city's earlier keys, for deletions */
	int started;                 /* its turn came */
	int last_seen;               /* the last chunk was handed in */
	int failed;                  /* answered with an error, or aborted */
	int writer_gone;             /* the writer thread has ended (seen by
	                              * writer_event) */
	int ended;                   /* teardown has begun */
	struct chunk *head, *tail;
	size_t held;
	size_t received;             /* drafts handed in */
	int jobs;                    /* pool jobs running */
	int seqs_given;
	uint64_t first_seq, seq_end;
	size_t unchanged, stored;
	struct publish_result res;
	uint64_t t_start;
	/* Phase timings for the log: CPU of the pool steps and of the writer,
	 * the writer's waits for a chunk, and the time the session was full
	 * (the client held back). */
	uint64_t check_us, seal_us;
	uint64_t full_since, full_ms;
	/* records to tell once committed: bytes back to back, and each one's
	 * facts (raw set when told) */
	uint8_t *push;
	size_t push_len;
	struct events_record *push_recs;
	size_t npush, push_cap;
	int push_dropped;
	int keep_full;               /* IMPORT_KEEP_MAX reached: nothing more kept */
	/* writer thread; the fields after mu are shared with it */
	uv_thread_t thread;
	int thread_started;
	uv_async_t async;
	uv_timer_t idle;
	int handles;                 /* open libuv handles */
	uv_mutex_t mu;
	uv_cond_t cv;
	struct chunk *wq_head, *wq_tail;   /* to write, in order */
	struct chunk *written;       /* written, oldest first */
	struct chunk *written_tail;
	int w_stop;                  /* loop to writer: abort and exit */
	int w_error;                 /* writer to loop: 0 or an lcf code */
	int w_committed;
	int w_exited;
	uint64_t w_cpu_us, w_commit_us, w_commit_ms, w_wait_ms;
};

static void advance(struct import *imp);
static void teardown_maybe(struct import *imp);

/* ---- chunks ---- */

static void
chunk_free(struct chunk *ch)
{
	size_t i;

	if (ch == NULL)
		return;
	if (ch->batch != NULL) {
		/* The author bytes belong to the session, not to the batch. */
		for (i = 0; i < ch->batch->n_drafts; i++) {
			ch->batch->drafts[i]->has_author = 0;
			ch->batch->drafts[i]->author.data = NULL;
			ch->batch->drafts[i]->author.len = 0;
		}
		lcf__draft_batch__free_unpacked(ch->batch, NULL);
	}
	free(ch->frame);
	free(ch->unchanged);
	free(ch->arena);
	free(ch->recs);
	free(ch->items);
	free(ch);
}

/* Step 1, in the pool. */
static void
check_work(uv_work_t *w)
{
	struct chunk *ch = w->data;
	struct import *imp = ch->imp;
	Lcf__Content *c;
	uint8_t id[32];
	size_t i, size;
	int same, rc;
	uint64_t t0 = thread_cpu_us();

	ch->batch = lcf__draft_batch__unpack(NULL, ch->flen, ch->frame);
	free(ch->frame);
	ch->frame = NULL;
	if (ch->batch == NULL || ch->batch->n_drafts != ch->count) {
		ch->err = LCF_EPROTO;
		ch->err_index = SIZE_MAX;
		verr_set(&ch->verr, "", "%s", ch->batch == NULL ? "malformed import "
		    "chunk" : "an import chunk holds another number of drafts than "
		    "it announces");
		goto out;
	}
	ch->unchanged = xcalloc(ch->count ? ch->count : 1, 1);
	for (i = 0; i < ch->count; i++) {
		c = ch->batch->drafts[i];
		rc = publish_check_draft(imp->n, imp->catalog, imp->lin, c,
		    imp->author, imp->timestamp, &same, id, &size, &ch->verr);
		if (rc != 0) {
			ch->err = rc;
			ch->err_index = ch->base + i;
			goto out;
		}
		ch->unchanged[i] = (uint8_t)same;
		if (!same) {
			ch->nchanged++;
			ch->sealed_max += RECORD_SEALED_MAX(size);
		}
	}
out:
	ch->cpu_us = thread_cpu_us() - t0;
}

/* Step 3, in the pool: every changed draft packed and signed straight into one
 * buffer sized from step 1's widest-seq measure. */
static void
seal_work(uv_work_t *w)
{
	struct chunk *ch = w->data;
	struct import *imp = ch->imp;
	size_t i, m = 0, off = 0, len;
	int rc;
	uint64_t t0 = thread_cpu_us();

	ch->arena = xmalloc(ch->sealed_max ? ch->sealed_max : 1);
	ch->recs = xcalloc(ch->nchanged ? ch->nchanged : 1, sizeof(*ch->recs));
	ch->items = xcalloc(ch->nchanged ? ch->nchanged : 1, sizeof(*ch->items));
	for (i = 0; i < ch->count; i++) {
		if (ch->unchanged[i])
			continue;
		rc = record_seal_draft(ch->batch->drafts[i], imp->n->id,
		    ch->arena + off, ch->sealed_max - off, &len, ch->recs[m].id);
		if (rc != 0) {
			ch->err = rc;
			ch->err_index = ch->base + i;
			verr_set(&ch->verr, "", "record is larger than %d bytes",
			    RECORD_MAX_CONTENT);
			break;
		}
		ch->recs[m].c = ch->batch->drafts[i];
		ch->items[m].raw = ch->arena + off;
		ch->items[m].len = len;
		ch->items[m].rec = &ch->recs[m];
		off += len;
		m++;
	}
	ch->cpu_us = thread_cpu_us() - t0;
}

/* ---- the writer thread ---- */

static void
writer_main(void *arg)
{
	struct import *imp = arg;
	struct store_txn *txn = NULL;
	struct chunk *ch;
	size_t i;
	int rc, stop = 0;

	thread_name("lcf-import");	uint64_t t0, cpu0 = thread_cpu_us(), wait_ms = 0, commit_us = 0;
	uint64_t commit_ms = 0;

	rc = store_txn_begin(imp->n->store, &txn);
	while (rc == 0 && !stop) {
		uv_mutex_lock(&imp->mu);
		t0 = mono_ms();
		while (imp->wq_head == NULL && !imp->w_stop)
			uv_cond_wait(&imp->cv, &imp->mu);
		wait_ms += mono_ms() - t0;
		ch = imp->w_stop ? NULL : imp->wq_head;
		if (ch != NULL) {
			imp->wq_head = ch->wnext;
			if (imp->wq_head == NULL)
				imp->wq_tail = NULL;
		}
		uv_mutex_unlock(&imp->mu);
		if (ch == NULL)
			break;
		rc = store_txn_put(txn, ch->items, ch->nchanged);
		for (i = 0; rc == 0 && i < ch->nchanged; i++)
			if (!(ch->items[i].result & STORE_DUP))
				ch->stored++;
		if (rc == 0 && ch->last) {
			commit_us = thread_cpu_us();
			commit_ms = mono_ms();
			rc = store_txn_commit(txn);
			commit_us = thread_cpu_us() - commit_us;
			commit_ms = mono_ms() - commit_ms;
			txn = NULL;
			stop = 1;
		}
		uv_mutex_lock(&imp->mu);
		ch->wnext = NULL;
		if (imp->written_tail != NULL)
			imp->written_tail->wnext = ch;
		else
			imp->written = ch;
		imp->written_tail = ch;
		if (rc == 0 && stop)
			imp->w_committed = 1;
		uv_mutex_unlock(&imp->mu);
		uv_async_send(&imp->async);
	}
	store_txn_abort(txn);
	uv_mutex_lock(&imp->mu);
	if (rc != 0)
		imp->w_error = rc;
	imp->w_cpu_us = thread_cpu_us() - cpu0;
	imp->w_commit_us = commit_us;
	imp->w_commit_ms = commit_ms;
	imp->w_wait_ms = wait_ms;
	imp->w_exited = 1;
	uv_mutex_unlock(&imp->mu);
	uv_async_send(&imp->async);
}

static void
writer_stop(struct import *imp)
{
	if (!imp->thread_started)
		return;
	uv_mutex_lock(&imp->mu);
	imp->w_stop = 1;
	uv_cond_signal(&imp->cv);
	uv_mutex_unlock(&imp->mu);
}

/* ---- ending ---- */

static void
answer(struct import *imp)
{
	import_done_cb done = imp->done;

	imp->done = NULL;
	imp->room = NULL;
	if (done != NULL)
		done(imp->arg, &imp->res);
}

/* Ends the session without storing anything. index is the failing draft's
 * import index, or SIZE_MAX; verr (may be NULL) says what is wrong with it. */
static void
fail(struct import *imp, int code, size_t index, const struct verr *verr,
    const char *message)
{
	if (imp->failed)
		return;
	imp->failed = 1;
	imp->res.error = code;
	imp->res.error_index = index == SIZE_MAX || index > INT32_MAX ? -1 :
	    (int)index;
	if (verr != NULL)
		imp->res.verr = *verr;
	if (message != NULL)
		snprintf(imp->res.message, sizeof(imp->res.message), "%s", message);
	writer_stop(imp);
	answer(imp);
}

static void
store_failed(struct import *imp, int rc)
{
	char msg[256];

	space_refused(imp->n, rc, SPACE_FROM_NODE, 0);
	if (rc == LCF_EMAPFULL)
		snprintf(msg, sizeof(msg), "database map is full (map_size %llu MiB): "
		    "raise map_size in %s and restart lcnode",
		    (unsigned long long)(imp->n->cfg.map_size >> 20),
		    imp->n->cfg.path);
	else
		snprintf(msg, sizeof(msg), "cannot store the records: %s (see the "
		    "node's log)", lcf_strerror(rc));
	fail(imp, rc, SIZE_MAX, NULL, msg);
}

static void
handle_closed(uv_handle_t *h)
{
	struct import *imp = h->data;

	if (--imp->handles > 0)
		return;
	uv_mutex_destroy(&imp->mu);
	uv_cond_destroy(&imp->cv);
	catalog_free(imp->catalog);
	lineage_free(imp->lin);
	free(imp->push);
	free(imp->push_recs);
	free(imp);
	/* An import churns through much memory in the pool threads' arenas:
	 * give it back so the node returns to its steady size. */
	malloc_trim(0);
}

/* Tells the node what the import stored. */
static void
emit_stored(struct import *imp)
{
	struct events_event ev;
	size_t i, off = 0;

	if (imp->push_dropped)
		log_debug("import: %zu records left to reconciliation to reach peers",
		    imp->stored);
	for (i = 0; i < imp->npush; i++) {
		imp->push_recs[i].raw = imp->push + off;
		off += imp->push_recs[i].len;
	}
	memset(&ev, 0, sizeof(ev));
	ev.kind = EVENTS_STORED;
	ev.u.stored.origin = EVENTS_FROM_IMPORT;
	ev.u.stored.recs = imp->push_recs;
	ev.u.stored.count = imp->npush;
	ev.u.stored.partial = imp->push_dropped;
	events_emit(&imp->n->events, &ev);
}

/* Frees the session once nothing is running: no pool job, no writer. */
static void
teardown_maybe(struct import *imp)
{
	struct node *n = imp->n;
	struct chunk *ch;

	int committed = 0;

	if (imp->ended || imp->jobs > 0 || (imp->thread_started && !imp->writer_gone))
		return;
	/* Without a failure the session ends when the writer has committed. */
	if (!imp->failed && !imp->writer_gone)
		return;
	imp->ended = 1;
	if (imp->thread_started) {
		uv_thread_join(&imp->thread);
		committed = imp->w_committed;
	}
	while ((ch = imp->head) != NULL) {
		imp->head = ch->next;
		chunk_free(ch);
	}
	/* What the writer did decides, not what the client did: a client that
	 * goes away just after the commit does not undo it. */
	if (!committed && imp->seqs_given)
		seq_hand_back(n, imp->first_seq, imp->seq_end);
	if (committed) {
		log_info("imported %zu records (%zu unchanged) in %llu ms: CPU "
		    "checks %llu ms, signing %llu ms, writer %llu ms (commit %llu "
		    "ms, %llu ms of wall time); writer waited %llu ms for chunks, "
		    "client held back %llu ms",
		    imp->stored, imp->unchanged,
		    (unsigned long long)(mono_ms() - imp->t_start),
		    (unsigned long long)(imp->check_us / 1000),
		    (unsigned long long)(imp->seal_us / 1000),
		    (unsigned long long)(imp->w_cpu_us / 1000),
		    (unsigned long long)(imp->w_commit_us / 1000),
		    (unsigned long long)imp->w_commit_ms,
		    (unsigned long long)imp->w_wait_ms,
		    (unsigned long long)imp->full_ms);
		imp->res.first_seq = imp->first_seq;
		imp->res.stored = imp->stored;
		n->counters.stored[COUNTERS_SRC_LOCAL] += imp->stored;
		imp->res.unchanged = imp->unchanged;
		if (imp->stored > 0)
			emit_stored(imp);
		answer(imp);
	}
	if (imp->started) {
		n->import_writing = 0;
		ingest_resume(n);
	}
	publish_turn_end(n, &imp->turn);
	uv_close((uv_handle_t *)&imp->async, handle_closed);
	uv_close((uv_handle_t *)&imp->idle, handle_closed);
}

/* ---- the loop's side ---- */

/* Whether a record of this kind is kept for the event past IMPORT_PUSH_MAX:
 * a city's content may be left to reconciliation; the rare records that
 * change the node's state (memberships, successions, endpoints, catalogs)
 * are always told, for membership and discovery. */
static int
kept_past_cap(int kind)
{
	const struct kinds_def *kd = kinds_by_kind(kind);

	return kd == NULL || !(kd->flags & KINDS_CONTENT);
}

/* Once the cap is passed: keeps only what kept_past_cap keeps. */
static void
drop_content(struct import *imp)
{
	size_t i, n = 0, off = 0, to = 0;

	imp->push_dropped = 1;
	for (i = 0; i < imp->npush; i++) {
		struct events_record *er = &imp->push_recs[i];

		if (kept_past_cap(er->kind)) {
			memmove(imp->push + to, imp->push + off, er->len);
			imp->push_recs[n++] = *er;
			to += er->len;
		}
		off += er->len;
	}
	imp->npush = n;
	imp->push_len = to;
}

static void
keep_for_push(struct import *imp, const struct chunk *ch)
{
	size_t i, bytes = 0;

	for (i = 0; i < ch->nchanged; i++)
		bytes += ch->items[i].len;
	if (!imp->push_dropped && imp->push_len + bytes > IMPORT_PUSH_MAX)
		drop_content(imp);
	if (imp->push_len + bytes > IMPORT_KEEP_MAX) {
		if (!imp->keep_full)
			log_warnx("import: more than %u MiB of records that change "
			    "the node's state: those past it take effect at the "
			    "next start", IMPORT_KEEP_MAX >> 20);
		imp->keep_full = 1;
		return;
	}
	imp->push = xreallocarray(imp->push, imp->push_len + bytes + 1, 1);
	if (imp->npush + ch->nchanged > imp->push_cap) {
		imp->push_cap = imp->npush + ch->nchanged;
		imp->push_recs = xreallocarray(imp->push_recs, imp->push_cap,
		    sizeof(*imp->push_recs));
	}
	for (i = 0; i < ch->nchanged; i++) {
		struct events_record *er;

		if (imp->push_dropped && !kept_past_cap((int)ch->recs[i].c->kind))
			continue;
		er = &imp->push_recs[imp->npush++];
		memcpy(imp->push + imp->push_len, ch->items[i].raw,
		    ch->items[i].len);
		imp->push_len += ch->items[i].len;
		memset(er, 0, sizeof(*er));
		er->len = ch->items[i].len;
		er->author = imp->author;
		er->seq = ch->recs[i].c->seq;
		er->timestamp = ch->recs[i].c->timestamp;
		er->kind = (int)ch->recs[i].c->kind;
		er->result = ch->items[i].result;
	}
}

/* The writer thread reported: chunks written, a commit, an error or its end. */
static void
writer_event(uv_async_t *a)
{
	struct import *imp = a->data;
	struct chunk *written, *ch;
	int err, exited, had_room = !import_full(imp);

	uv_mutex_lock(&imp->mu);
	written = imp->written;
	imp->written = imp->written_tail = NULL;
	err = imp->w_error;
	exited = imp->w_exited;
	uv_mutex_unlock(&imp->mu);
	while ((ch = written) != NULL) {
		written = ch->wnext;
		/* Chunks are written in order: this one is the oldest held. */
		imp->head = ch->next;
		if (imp->tail == ch)
			imp->tail = NULL;
		imp->held--;
		imp->stored += ch->stored;
		/* Written: kept even when the session failed since, for the
		 * event that tells a commit that still happens (a client gone
		 * after its last chunk). */
		keep_for_push(imp, ch);
		chunk_free(ch);
	}
	if (err != 0)
		store_failed(imp, err);
	if (exited)
		imp->writer_gone = 1;
	if (!had_room && !import_full(imp)) {
		imp->full_ms += mono_ms() - imp->full_since;
		if (imp->room != NULL)
			imp->room(imp->arg);
	}
	teardown_maybe(imp);
}

/* A chunk's pool step (check or seal) is back in the loop: its CPU time adds
 * to *cpu_us, and on success the chunk moves to state next. */
static void
stage_done(struct chunk *ch, uint64_t *cpu_us, enum chunk_state next)
{
	struct import *imp = ch->imp;

	imp->jobs--;
	*cpu_us += ch->cpu_us;
	if (imp->failed) {
		teardown_maybe(imp);
		return;
	}
	if (ch->err != 0) {
		fail(imp, ch->err, ch->err_index, &ch->verr, NULL);
		teardown_maybe(imp);
		return;
	}
	ch->state = next;
	advance(imp);
}

static void
check_done(uv_work_t *w, int status)
{
	struct chunk *ch = w->data;

	(void)status;
	stage_done(ch, &ch->imp->check_us, CH_CHECKED);
}

static void
seal_done(uv_work_t *w, int status)
{
	struct chunk *ch = w->data;

	(void)status;
	stage_done(ch, &ch->imp->seal_us, CH_SEALED);
}

static void
assign_seqs(struct import *imp, struct chunk *ch)
{
	struct node *n = imp->n;
	size_t i;
	uint64_t seq;

	for (i = 0; i < ch->count; i++)
		imp->unchanged += ch->unchanged[i] != 0;
	seq = seq_reserve(n, ch->nchanged);
	if (!imp->seqs_given) {
		imp->seqs_given = 1;
		imp->first_seq = seq;
	}
	for (i = 0; i < ch->count; i++)
		if (!ch->unchanged[i])
			ch->batch->drafts[i]->seq = seq++;
	imp->seq_end = seq;
}

/* Moves chunks on: seqs and sealing strictly in chunk order once checked, then
 * the writer, also in order. */
static void
advance(struct import *imp)
{
	struct chunk *ch;
	int in_order = 1;

	if (imp->failed || !imp->started)
		return;
	for (ch = imp->head; ch != NULL; ch = ch->next) {
		if (ch->state == CH_WAITING) {
			ch->state = CH_CHECKING;
			imp->jobs++;
			uv_queue_work(imp->n->loop, &ch->work, check_work, check_done);
		} else if (ch->state == CH_CHECKED && in_order) {
			assign_seqs(imp, ch);
			ch->state = CH_SEALING;
			imp->jobs++;
			uv_queue_work(imp->n->loop, &ch->work, seal_work, seal_done);
		}
		if (ch->state == CH_CHECKING || ch->state == CH_WAITING)
			in_order = 0;
	}
	uv_mutex_lock(&imp->mu);
	for (ch = imp->head; ch != NULL; ch = ch->next) {
		if (ch->state == CH_WRITING)
			continue;
		if (ch->state != CH_SEALED)
			break;
		ch->state = CH_WRITING;
		ch->wnext = NULL;
		if (imp->wq_tail != NULL)
			imp->wq_tail->wnext = ch;
		else
			imp->wq_head = ch;
		imp->wq_tail = ch;
		uv_cond_signal(&imp->cv);
	}
	uv_mutex_unlock(&imp->mu);
}

static void
idle_fired(uv_timer_t *t)
{
	struct import *imp = t->data;

	if (imp->last_seen || imp->failed)
		return;
	log_warnx("import: no chunk for %d s: abandoned", IMPORT_IDLE_MS / 1000);
	fail(imp, LCF_ETIMEDOUT, SIZE_MAX, NULL, "the import sent nothing for a "
	    "minute: abandoned, nothing stored");
	teardown_maybe(imp);
}

static void
turn_start(struct publish_turn *turn)
{
	struct import *imp = (struct import *)turn;
	struct node *n = imp->n;
	int rc;

	imp->started = 1;
	imp->t_start = mono_ms();
	imp->timestamp = now_ms();
	n->import_writing = 1;
	rc = uv_thread_create(&imp->thread, writer_main, imp);
	if (rc != 0) {
		log_warnx("import: cannot start the writer thread: %s",
		    uv_strerror(rc));
		fail(imp, LCF_ENOMEM, SIZE_MAX, NULL, "cannot start the import's "
		    "writer thread (see the node's log)");
		teardown_maybe(imp);
		return;
	}
	imp->thread_started = 1;
	uv_timer_start(&imp->idle, idle_fired, IMPORT_IDLE_MS, 0);
	advance(imp);
}

struct import *
import_begin(struct node *n, import_done_cb done, import_room_cb room, void *arg)
{
	struct import *imp = xcalloc(1, sizeof(*imp));

	imp->n = n;
	imp->done = done;
	imp->room = room;
	imp->arg = arg;
	imp->res.error_index = -1;
	memcpy(imp->author, n->id->pk, sizeof(imp->author));
	imp->catalog = catalog_ref(n->catalog);
	imp->lin = lineage_snapshot(n);
	if (uv_mutex_init(&imp->mu) != 0 || uv_cond_init(&imp->cv) != 0)
		fatalx("import: cannot create a lock");
	uv_async_init(n->loop, &imp->async, writer_event);
	imp->async.data = imp;
	uv_timer_init(n->loop, &imp->idle);
	imp->idle.data = imp;
	imp->handles = 2;
	imp->turn.start = turn_start;
	publish_turn_take(n, &imp->turn);
	return imp;
}

int
import_chunk(struct import *imp, uint8_t *drafts, size_t len, size_t count,
    int last)
{
	struct chunk *ch;
	char msg[200];
	int ret = LCF_EINVAL;

	msg[0] = '\0';
	if (imp->failed || imp->last_seen || import_full(imp)) {
		snprintf(msg, sizeof(msg), "import chunk out of turn");
	} else if (len > IMPORT_CHUNK_MAX_BYTES || count > IMPORT_CHUNK_MAX_DRAFTS) {
		snprintf(msg, sizeof(msg), "an import chunk holds at most %d drafts "
		    "in %u MiB", IMPORT_CHUNK_MAX_DRAFTS, IMPORT_CHUNK_MAX_BYTES >> 20);
		ret = LCF_ETOOBIG;
	} else if (count > IMPORT_MAX_DRAFTS - imp->received) {
		snprintf(msg, sizeof(msg), "an import holds at most %d drafts: split "
		    "the file", IMPORT_MAX_DRAFTS);
		ret = LCF_ETOOBIG;
	} else if (count == 0 && (!last || imp->received == 0)) {
		snprintf(msg, sizeof(msg), "%s", imp->received == 0 ?
		    "nothing to import" : "an import chunk without drafts");
	}
	if (msg[0] != '\0') {
		free(drafts);
		fail(imp, ret, SIZE_MAX, NULL, msg);
		teardown_maybe(imp);
		return ret;
	}
	ch = xcalloc(1, sizeof(*ch));
	ch->imp = imp;
	ch->work.data = ch;
	ch->frame = drafts;
	ch->flen = len;
	ch->count = count;
	ch->base = imp->received;
	ch->last = last;
	imp->received += count;
	imp->last_seen = last;
	if (imp->tail != NULL)
		imp->tail->next = ch;
	else
		imp->head = ch;
	imp->tail = ch;
	imp->held++;
	if (import_full(imp))
		imp->full_since = mono_ms();
	if (last)
		uv_timer_stop(&imp->idle);
	else if (imp->started)
		uv_timer_start(&imp->idle, idle_fired, IMPORT_IDLE_MS, 0);
	advance(imp);
	return 0;
}

int
import_full(const struct import *imp)
{
	return imp->held >= IMPORT_INFLIGHT;
}

void
import_abort(struct import *imp)
{
	imp->done = NULL;
	imp->room = NULL;
	if (!imp->failed && !imp->last_seen)
		log_warnx("import: the client went away after %zu drafts: nothing "
		    "stored", imp->received);
	fail(imp, LCF_ECLOSED, SIZE_MAX, NULL, NULL);
	teardown_maybe(imp);
}
