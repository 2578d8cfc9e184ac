// SPDX-License-Identifier: Apache-2.0
// Records from the network: verify in the pool, validate, store, push onward.
//
// A batch runs in two steps. (1) In the thread pool, in parallel slices: decode
// each record within bounds, drop ids already stored, verify the signature,
// validate the content and check its clock. (2) On the node's writer thread,
// one at a time (writers would only queue on LMDB's lock): store the accepted
// records in one transaction, together with every other batch that finished
// checking while the previous write ran (group commit: records keyed by random
// ids dirty about one page each, so fewer, larger transactions write far less).
// Back in the loop the batch is told to the node (EVENTS_STORED: membership,
// discovery and push react) and each caller's callback runs.
//
// Records whose author is not admitted yet are kept aside (held.c) and taken
// again here when the author is admitted (EVENTS_ADMITTED).
//
// The writer has a thread of its own, not a slot in the pool: queued behind the
// verification of the batches that follow it, a write waited longer than it
// took, and verification then stalled behind the write. The loop hands it one
// group at a time under a mutex and learns of the commit by a uv_async.
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "base/error.h"
#include "model/identity.h"
#include "write/ingest.h"
#include "base/log.h"
#include "base/ratelimit.h"
#include "core/events.h"
#include "core/member.h"
#include "core/node.h"
#include "core/seq.h"
#include "write/held.h"
#include "model/record.h"
#include "store/store.h"
#include "base/util.h"
#include "model/validate.h"
#include "base/xmalloc.h"

#define SLICE_MIN 64		/* records worth a thread of their own */
#define SLICES_MAX 4

enum verdict {
	V_PENDING,
	V_KNOWN,
	V_BAD,			/* malformed */
	V_BADSIG,		/* bad signature */
	V_REFUSED,		/* invalid content or from the future */
	V_OK,
	V_HELD,			/* author not admitted yet: kept aside */
};

struct ingest_job;

struct facts {
	uint8_t author[32];
	uint8_t id[32];
	uint64_t seq;
	int64_t timestamp;
	int kind;
};

struct slice {
	uv_work_t work;
	struct ingest_job *job;
	size_t lo, hi;
	size_t first;		/* index of the first refusal, or SIZE_MAX */
	char reason[sizeof(((struct ingest_result *)0)->reason)];
	struct clockwatch ahead;	/* refused as dated ahead of the clock */
};

struct ingest_job {
	struct node *n;
	void *from;
	enum events_via via;
	ingest_cb cb;
	void *arg;
	size_t count;
	size_t bytes;			/* of the records' copies: receive_queue */
	uint8_t **raw;
	size_t *len;
	uint8_t *verdict;
	/* What the loop needs of each record checked OK, kept from the decode:
	 * author, seq, kind, timestamp and id (the membership rules, records of
	 * our own coming back, and the few kinds that change the federation's
	 * state, which alone are decoded again). Records are decoded to be
	 * checked and released: the writer decodes them again while it stores
	 * them, so a batch waiting for the writer holds only its bytes. */
	struct facts *facts;
	size_t *item_fact;		/* per item, its record's index */
	int64_t now;
	struct slice slices[SLICES_MAX];
	size_t nslices, pending;
	struct store_item *items;
	size_t nitems;
	struct ingest_result res;
	struct ingest_job *next;
};

/* Most records one group-commit transaction takes. */
#define GROUP_MAX 131072
/*
 * A bulk flow (a sync transfer: at least LINGER_FLOW records being checked)
 * is written in transactions of about LINGER_GROUP records: the writer waits
 * for them up to LINGER_MS after its previous write began. Ids are random:
 * each record dirties a page of the id index per transaction, and a commit
 * syncs every dirty page, so the same pages synced once for more records cost
 * less. A sync session keeps up to 32 batches of 4,096 records in ingest
 * (sync_int.h), so half of them are checked while the other half is written.
 * Bootstrapping 1,000,000 records: groups of 32,768 after 1 s took 76 CPU-s
 * and wrote 2.3 GB in 48 transactions; groups of 65,536 after up to 4 s, 66
 * CPU-s and 1.4 GB in 17 (up to 2 s: 70 CPU-s, 1.6 GB). A trickle of pushed
 * records is written at once; during a bulk flow a push waits for the
 * group, at most LINGER_MS.
 */
#define LINGER_FLOW 1024
#define LINGER_GROUP 65536
#define LINGER_MS 4000

struct ingest_state {
	struct node *n;
	struct ingest_job *head, *tail;	/* waiting to write; head is writing */
	int writing;
	size_t group_jobs;		/* jobs from head in the running write */
	struct store_item *group;	/* the running write's items, or NULL */
	size_t ngroup;
	int group_error;
	int stopped;			/* ingest_stop ran: nothing more is written */

	/* The writer thread. Under lock: req (the loop asks for the write
	 * described above), wrote (the writer did it), quit. */
	uv_thread_t thread;
	uv_mutex_t lock;
	uv_cond_t cond;
	uv_async_t async;
	int req, wrote, quit;
	uint64_t write_ms;		/* the last write's duration, for the log */

	size_t checking;		/* records in the pool being checked */
	uint64_t last_start;		/* when the last write began (mono ms) */
	uv_timer_t linger;		/* a write waiting for a larger group */
	int flush;			/* stopping: write what waits at once */
	uint64_t written, transactions;	/* since start, for status */
	uint64_t own_warned;		/* mono ms of the last warning below */

	/* receive_queue: bytes of records held from submit to callback. */
	uint64_t held_bytes;
	int over;			/* reached; INGEST_ROOM not told yet */
	uint64_t full;			/* times it was reached */
	struct ratelimit full_log;
};

/*
 * A record signed with this city's key, new to the store and made since the
 * node started, was made by another node: the key runs twice (a copied
 * machine or key file), and the two make forks. Records made before the
 * start come back legitimately to a node restored from a backup.
 */
#define OWN_WARN_EVERY_MS 60000

static void
warn_own_key(struct node *n, uint64_t seq, int64_t ts)
{
	struct ingest_state *st = n->ingest;
	uint64_t now = mono_ms();

	if (ts < n->started_ms ||
	    (st->own_warned != 0 && now - st->own_warned < OWN_WARN_EVERY_MS))
		return;
	st->own_warned = now;
	log_warnx("a record signed with this city's key (seq %llu, made after "
	    "this node started) arrived that this node did not make: another "
	    "node runs with this key, a copied machine or key file; stop it, "
	    "or the two will make conflicting records (forks)",
	    (unsigned long long)seq);
}

static void write_next(struct node *n);

static void
on_linger(uv_timer_t *t)
{
	struct ingest_state *st = t->data;

	write_next(st->n);
}

/*
 * The bytes of a job are no longer held: below half of receive_queue after
 * it was reached, the peers' links may read again (EVENTS_INGEST_ROOM).
 */
static void
release_bytes(struct ingest_job *job)
{
	struct node *n = job->n;
	struct ingest_state *st = n->ingest;
	struct events_event ev;

	st->held_bytes -= job->bytes;
	job->bytes = 0;
	if (!st->over || st->stopped ||
	    st->held_bytes > n->cfg.receive_queue / 2)
		return;
	st->over = 0;
	memset(&ev, 0, sizeof(ev));
	ev.kind = EVENTS_INGEST_ROOM;
	events_emit(&n->events, &ev);
}

static void
job_free(struct ingest_job *job)
{
	size_t i;

	if (job->bytes > 0)
		release_bytes(job);
	for (i = 0; i < job->count; i++)
		free(job->raw[i]);
	free(job->raw);
	free(job->len);
	free(job->verdict);
	free(job->facts);
	free(job->item_fact);
	free(job->items);
	free(job);
}

static void
refuse(struct slice *sl, size_t i, const uint8_t *id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Keeps the first refusal of the slice as "record N (ID): why". */
static void
refuse(struct slice *sl, size_t i, const uint8_t *id, const char *fmt, ...)
{
	char why[sizeof(sl->reason)], hex[LCF_ID_HEX];
	va_list ap;

	if (sl->first != SIZE_MAX)
		return;
	sl->first = i;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (id != NULL) {
		hex_encode(id, RECORD_ID_LEN, hex);
		hex[12] = '\0';
		util_setf(sl->reason, sizeof(sl->reason), "record %zu (%s): %s", i + 1,
		    hex, why);
	} else {
		util_setf(sl->reason, sizeof(sl->reason), "record %zu: %s", i + 1, why);
	}
}

/* Step 1 for records [lo, hi): runs in the pool. */
static void
check_slice(uv_work_t *w)
{
	static __thread int named;
	struct slice *sl = w->data;
	struct ingest_job *job = sl->job;
	size_t i, n = sl->hi - sl->lo;
	uint8_t *ids = xreallocarray(NULL, n ? n : 1, RECORD_ID_LEN);
	uint8_t *noid = xcalloc(n ? n : 1, 1), *held = xmalloc(n ? n : 1);
	struct record r, *rec = &r;
	struct verr verr;
	int rc;

	/* libuv's pool threads have no name of their own: the first check a
	 * thread runs names it. */
	if (!named) {
		thread_name("lcf-pool");
		named = 1;
	}
	/*
	 * Most pushed records are already held (every link carries each new
	 * record): those cost a hash and a lookup, not a decode. The lookups of
	 * the slice share one read transaction.
	 */
	for (i = 0; i < n; i++)
		noid[i] = record_peek_id(job->raw[sl->lo + i], job->len[sl->lo + i],
		    ids + i * RECORD_ID_LEN) != 0;
	if (store_has_many(job->n->store, ids, noid, n, held) != 0)
		memset(held, 0, n);
	for (i = sl->lo; i < sl->hi; i++) {
		if (held[i - sl->lo]) {
			job->verdict[i] = V_KNOWN;
			continue;
		}
		rc = record_open(job->raw[i], job->len[i], 0, rec);
		if (rc != 0) {
			job->verdict[i] = V_BAD;
			/* Named by its id when its content could be hashed. */
			refuse(sl, i, noid[i - sl->lo] ? NULL :
			    ids + (i - sl->lo) * RECORD_ID_LEN, "%s",
			    rc == LCF_ETOOBIG ?
			    "larger than a record may be" : "malformed record");
			continue;
		}
		if (identity_verify(rec->c->author.data, rec->sr->content.data,
		    rec->sr->content.len, rec->sr->signature.data) != 0) {
			job->verdict[i] = V_BADSIG;
			refuse(sl, i, rec->id, "bad signature");
			record_release(rec);
			continue;
		}
		/* The id covers the content only: extra bytes around it (unknown
		 * fields, a repeated field, the fields in the other order) would
		 * travel with every copy. After the signature, so that a forged
		 * record still ends the link. */
		if ((rc = record_canonical(job->raw[i], job->len[i])) != 0) {
			job->verdict[i] = V_REFUSED;
			if (rc == RECORD_REVERSED)
				refuse(sl, i, rec->id, "not in canonical form: "
				    "its signature (field 2) comes before its "
				    "content (field 1)");
			else
				refuse(sl, i, rec->id, "not in canonical form: "
				    "%zu bytes, not just its content and "
				    "signature (%zu bytes)", job->len[i],
				    lcf__signed_record__get_packed_size(rec->sr));
			record_release(rec);
			continue;
		}
		if (validate_content(rec->c, NULL, 0, &verr) != 0) {
			job->verdict[i] = V_REFUSED;
			refuse(sl, i, rec->id, "invalid: %s%s%s", verr.field,
			    verr.field[0] ? ": " : "", verr.msg);
			record_release(rec);
			continue;
		}
		if (rec->c->timestamp > job->now + INGEST_MAX_FUTURE_MS) {
			char span[48], most[48];

			job->verdict[i] = V_REFUSED;
			clockwatch_note(&sl->ahead, job->now, rec->c->author.data,
			    rec->c->timestamp - job->now, 1);
			clockwatch_span(rec->c->timestamp - job->now, span,
			    sizeof(span));
			clockwatch_span(INGEST_MAX_FUTURE_MS, most, sizeof(most));
			refuse(sl, i, rec->id, "dated %s ahead of this node's clock "
			    "(at most %s): is this node's clock right?", span, most);
			record_release(rec);
			continue;
		}
		job->verdict[i] = V_OK;
		memcpy(job->facts[i].author, rec->c->author.data, 32);
		memcpy(job->facts[i].id, rec->id, RECORD_ID_LEN);
		job->facts[i].seq = rec->c->seq;
		job->facts[i].timestamp = rec->c->timestamp;
		job->facts[i].kind = (int)rec->c->kind;
		record_release(rec);
	}
	free(ids);
	free(noid);
	free(held);
}

/* Step 2: the writer thread. The loop does not touch the group's fields
 * between setting req and seeing wrote. */
static void
writer_main(void *arg)
{
	struct ingest_state *st = arg;
	struct ingest_job *job;
	uint64_t t0;
	int rc;

	thread_name("lcf-writer");
	for (;;) {
		uv_mutex_lock(&st->lock);
		while (!st->req && !st->quit)
			uv_cond_wait(&st->cond, &st->lock);
		if (!st->req) {
			uv_mutex_unlock(&st->lock);
			break;
		}
		st->req = 0;
		uv_mutex_unlock(&st->lock);
		job = st->head;
		t0 = mono_ms();
		if (st->group == NULL)
			rc = store_put(st->n->store, job->items, job->nitems);
		else
			rc = store_put(st->n->store, st->group, st->ngroup);
		uv_mutex_lock(&st->lock);
		st->write_ms = mono_ms() - t0;
		st->group_error = rc;
		st->wrote = 1;
		uv_mutex_unlock(&st->lock);
		uv_async_send(&st->async);
	}
}

static void
finish(struct ingest_job *job)
{
	struct node *n = job->n;
	struct events_record *recs = NULL;
	struct events_event ev;
	enum events_via via = job->from != NULL ? job->via : EVENTS_VIA_NONE;
	uint64_t *stored = &n->counters.stored[via == EVENTS_VIA_PUSH ?
	    COUNTERS_SRC_PUSH : via == EVENTS_VIA_SYNC ? COUNTERS_SRC_RECONCILE :
	    COUNTERS_SRC_NODE];
	size_t i;

	if (job->res.error == 0 && job->nitems > 0) {
		/* Every field is set below: no need to zero it. */
		recs = xreallocarray(NULL, job->nitems, sizeof(*recs));
		for (i = 0; i < job->nitems; i++) {
			const struct store_item *it = &job->items[i];
			const struct facts *f = &job->facts[job->item_fact[i]];

			recs[i].raw = it->raw;
			recs[i].len = it->len;
			recs[i].author = f->author;
			recs[i].seq = f->seq;
			recs[i].timestamp = f->timestamp;
			recs[i].kind = f->kind;
			recs[i].result = it->result;
			if (it->result & STORE_SUPERSEDED) {
				job->res.superseded++;
				n->counters.superseded++;
			}
			if (it->result & STORE_DUP)
				continue;
			job->res.stored++;
			(*stored)++;
			/* Arrival is when the peer's message was handed in. */
			if (via == EVENTS_VIA_PUSH)
				counters_observe(&n->counters.push_delay,
				    job->now - f->timestamp);
			if (it->result & STORE_CURRENT)
				job->res.current++;
			/* A record of our own coming back (a node restored from
			 * an old copy): never reuse its seq. */
			if (memcmp(f->author, n->id->pk, 32) == 0) {
				seq_observe(n, f->seq);
				warn_own_key(n, f->seq, f->timestamp);
			}
		}
		memset(&ev, 0, sizeof(ev));
		ev.kind = EVENTS_STORED;
		ev.u.stored.origin = job->from != NULL ? EVENTS_FROM_PEER :
		    EVENTS_FROM_NODE;
		ev.u.stored.from = job->from;
		ev.u.stored.via = via;
		ev.u.stored.recs = recs;
		ev.u.stored.count = job->nitems;
		events_emit(&n->events, &ev);
	}
	if (job->res.error != 0) {
		space_refused(n, job->res.error, via == EVENTS_VIA_PUSH ?
		    SPACE_FROM_PUSH : via == EVENTS_VIA_SYNC ? SPACE_FROM_SYNC :
		    SPACE_FROM_NODE, job->nitems);
		snprintf(job->res.reason, sizeof(job->res.reason),
		    "cannot store %zu records: %s%s", job->nitems,
		    lcf_strerror(job->res.error), job->res.error == LCF_EMAPFULL ?
		    " (raise map_size in lcnode.conf)" : "");
	}
	job->cb(job->arg, &job->res);
	free(recs);
	job_free(job);
}

/* The write is committed (or failed): hand each job its results. */
static void
write_done(struct ingest_state *st)
{
	struct ingest_job *job;
	struct node *n = st->n;
	size_t off = 0, left = st->group_jobs, i;
	int big = st->ngroup >= LINGER_FLOW;

	log_debug("ingest: stored %zu records of %zu batches in one transaction "
	    "in %llu ms", st->ngroup, st->group_jobs,
	    (unsigned long long)st->write_ms);
	if (st->group_error == 0)
		st->transactions++;
	/* Count, not a stop pointer: callbacks may queue new jobs at the tail. */
	while (left-- > 0) {
		job = st->head;
		st->head = job->next;
		if (st->head == NULL)
			st->tail = NULL;
		if (st->group != NULL && job->nitems > 0) {
			memcpy(job->items, st->group + off,
			    job->nitems * sizeof(*job->items));
			off += job->nitems;
		}
		for (i = 0; st->group_error == 0 && i < job->nitems; i++)
			if (!(job->items[i].result & STORE_DUP))
				st->written++;
		job->res.error = st->group_error;
		finish(job);
	}
	free(st->group);
	st->group = NULL;
	st->writing = 0;
	write_next(n);
#ifdef __GLIBC__
	/* A bulk flow has ended: the batches it held were freed in the pool's
	 * and the writer's malloc arenas, which keep the pages otherwise (a
	 * million-record bootstrap left 65 MiB resident). The trim took 6 ms
	 * of the loop's time after one. */
	if (big && !st->writing && st->head == NULL && st->checking == 0)
		malloc_trim(0);
#endif
}

static void
on_written(uv_async_t *h)
{
	struct ingest_state *st = h->data;
	int wrote;

	uv_mutex_lock(&st->lock);
	wrote = st->wrote;
	st->wrote = 0;
	uv_mutex_unlock(&st->lock);
	if (!wrote)
		return;
	/* Idle, the handle must not keep the loop alive. */
	uv_unref((uv_handle_t *)&st->async);
	write_done(st);
}

static void
write_next(struct node *n)
{
	struct ingest_state *st = n->ingest;
	struct ingest_job *job, *end;
	size_t total = 0, off = 0;
	uint64_t now;

	/* An import holds the store's write transaction: wait for its end
	 * (ingest_resume) rather than block a pool thread on it. */
	if (st->writing || st->head == NULL || n->import_writing)
		return;
	if (st->stopped) {
		/* ingest_stop ran: the writer is gone, nothing is stored. */
		while ((job = st->head) != NULL) {
			st->head = job->next;
			if (st->head == NULL)
				st->tail = NULL;
			job->res.error = LCF_ECLOSED;
			finish(job);
		}
		return;
	}
	for (job = st->head; job != NULL; job = job->next)
		total += job->nitems;
	now = mono_ms();
	if (!st->flush && st->checking >= LINGER_FLOW && total < LINGER_GROUP &&
	    now < st->last_start + LINGER_MS) {
		uv_timer_start(&st->linger, on_linger,
		    st->last_start + LINGER_MS - now, 0);
		return;
	}
	uv_timer_stop(&st->linger);
	st->last_start = now;
	total = 0;
	st->writing = 1;
	/* Every batch already checked joins this transaction, up to GROUP_MAX
	 * records; the first always does. */
	st->group_jobs = 0;
	for (job = st->head; job != NULL; job = job->next) {
		if (job != st->head && total + job->nitems > GROUP_MAX)
			break;
		total += job->nitems;
		st->group_jobs++;
	}
	end = job;
	st->group = NULL;
	st->ngroup = total;
	if (st->group_jobs > 1) {
		st->group = xcalloc(total ? total : 1, sizeof(*st->group));
		for (job = st->head; job != end; job = job->next) {
			if (job->nitems == 0)
				continue;
			memcpy(st->group + off, job->items,
			    job->nitems * sizeof(*job->items));
			off += job->nitems;
		}
	}
	/* A write under way keeps the loop running until it is committed. */
	uv_ref((uv_handle_t *)&st->async);
	uv_mutex_lock(&st->lock);
	st->req = 1;
	uv_cond_signal(&st->cond);
	uv_mutex_unlock(&st->lock);
}

/* All slices are done: gather verdicts, then queue the write or finish. */
static void
checked(struct ingest_job *job)
{
	struct ingest_state *st = job->n->ingest;
	size_t i, first = SIZE_MAX;
	char why[sizeof(job->res.reason)], hex[LCF_ID_HEX];
	Lcf__Content fc = LCF__CONTENT__INIT;

	st->checking -= job->count;
	for (i = 0; i < job->nslices; i++) {
		if (job->slices[i].first < first) {
			first = job->slices[i].first;
			memcpy(job->res.reason, job->slices[i].reason,
			    sizeof(job->res.reason));
		}
	}
	job->items = xcalloc(job->count ? job->count : 1, sizeof(*job->items));
	job->item_fact = xcalloc(job->count ? job->count : 1,
	    sizeof(*job->item_fact));
	for (i = 0; i < job->count; i++) {
		switch (job->verdict[i]) {
		case V_KNOWN:
			job->res.known++;
			break;
		case V_BAD:
		case V_BADSIG:
			job->n->counters.refused[job->verdict[i] == V_BAD ?
			    COUNTERS_REF_MALFORMED : COUNTERS_REF_SIGNATURE]++;
			job->res.bad++;
			job->res.refused++;
			break;
		case V_REFUSED:
			job->n->counters.refused[COUNTERS_REF_INVALID]++;
			job->res.refused++;
			break;
		case V_OK:
			/* Membership is judged here, in the loop, against the
			 * state of every record stored so far. */
			fc.author.data = job->facts[i].author;
			fc.seq = job->facts[i].seq;
			fc.kind = (Lcf__Kind)job->facts[i].kind;
			fc.timestamp = job->facts[i].timestamp;
			switch (members_judge(job->n, &fc, why, sizeof(why))) {
			case MEMBER_HOLD:
				if (held_keep(job->n, job->raw[i], job->len[i],
				    job->facts[i].id, job->facts[i].author) == 0) {
					job->res.held++;
					continue;
				}
				snprintf(why, sizeof(why), "the city is not an "
				    "admitted member, and the records waiting for "
				    "memberships are at their limit");
				/* FALLTHROUGH */
			case MEMBER_REFUSE:
				job->n->counters.refused[COUNTERS_REF_MEMBERSHIP]++;
				job->res.refused++;
				if (first == SIZE_MAX || i < first) {
					first = i;
					hex_encode(job->facts[i].id, RECORD_ID_LEN, hex);
					hex[12] = '\0';
					util_setf(job->res.reason, sizeof(job->res.reason),
					    "record %zu (%s): %s", i + 1, hex, why);
				}
				continue;
			case MEMBER_ACCEPT:
				break;
			}
			job->items[job->nitems].raw = job->raw[i];
			job->items[job->nitems].len = job->len[i];
			job->items[job->nitems].rec = NULL;
			job->item_fact[job->nitems] = i;
			job->nitems++;
			break;
		default:
			break;
		}
	}
	if (job->nitems == 0) {
		finish(job);
		return;
	}
	if (st->tail != NULL)
		st->tail->next = job;
	else
		st->head = job;
	st->tail = job;
	write_next(job->n);
}

static void
slice_done(uv_work_t *w, int status)
{
	struct slice *sl = w->data;
	struct ingest_job *job = sl->job;

	(void)status;
	clockwatch_merge(&job->n->clock, &sl->ahead, now_ms());
	if (--job->pending == 0)
		checked(job);
}

/* The module's state and its writer thread. */
static void
ingest_start(struct node *n)
{
	struct ingest_state *st = xcalloc(1, sizeof(*st));
	int rc;

	st->n = n;
	if ((rc = uv_mutex_init(&st->lock)) != 0 ||
	    (rc = uv_cond_init(&st->cond)) != 0 ||
	    (rc = uv_async_init(n->loop, &st->async, on_written)) != 0 ||
	    (rc = uv_thread_create(&st->thread, writer_main, st)) != 0)
		fatalx("ingest: cannot start the writer: %s", uv_strerror(rc));
	st->async.data = st;
	uv_unref((uv_handle_t *)&st->async);
	if ((rc = uv_timer_init(n->loop, &st->linger)) != 0)
		fatalx("ingest: cannot start the writer: %s", uv_strerror(rc));
	st->linger.data = st;
	uv_unref((uv_handle_t *)&st->linger);
	n->ingest = st;
}

int
ingest_submit(struct node *n, void *from, const uint8_t *const *raws,
    const size_t *lens, size_t count, ingest_cb cb, void *arg)
{
	return ingest_submit_via(n, from, EVENTS_VIA_NONE, raws, lens, count,
	    cb, arg);
}

/* Counts bytes more held for receive_queue, and says when it is reached. */
static void
hold_bytes(struct node *n, size_t bytes)
{
	struct ingest_state *st = n->ingest;
	uint64_t was = st->held_bytes;
	unsigned long held;

	st->held_bytes += bytes;
	if (n->cfg.receive_queue == 0 || was >= n->cfg.receive_queue ||
	    st->held_bytes < n->cfg.receive_queue)
		return;
	st->full++;
	st->over = 1;
	if (ratelimit_pass(&st->full_log, mono_ms(), &held))
		log_warnx("peers: %llu bytes received and waiting to be verified "
		    "and stored, the bound is %llu (receive_queue): reading from "
		    "peers waits until half of it is stored%s",
		    (unsigned long long)st->held_bytes,
		    (unsigned long long)n->cfg.receive_queue, held > 0 ?
		    " (more such lines were not logged since the last one)" : "");
}

int
ingest_submit_via(struct node *n, void *from, enum events_via via,
    const uint8_t *const *raws, const size_t *lens, size_t count,
    ingest_cb cb, void *arg)
{
	struct ingest_job *job;
	size_t i, per;

	if (n == NULL || cb == NULL || count > INGEST_MAX_BATCH ||
	    (count > 0 && (raws == NULL || lens == NULL)))
		return LCF_EINVAL;
	if (n->ingest == NULL)
		ingest_start(n);
	else if (n->ingest->stopped)
		return LCF_ECLOSED;
	job = xcalloc(1, sizeof(*job));
	job->n = n;
	job->from = from;
	job->via = via;
	job->cb = cb;
	job->arg = arg;
	job->count = count;
	job->now = now_ms();
	job->raw = xcalloc(count ? count : 1, sizeof(*job->raw));
	job->len = xcalloc(count ? count : 1, sizeof(*job->len));
	job->facts = xcalloc(count ? count : 1, sizeof(*job->facts));
	job->verdict = xcalloc(count ? count : 1, 1);
	job->res.received = count;
	for (i = 0; i < count; i++) {
		/* Oversized ones are kept short: record_open refuses them by
		 * length without reading the bytes. */
		job->len[i] = lens[i];
		if (lens[i] > RECORD_MAX_SIGNED) {
			job->raw[i] = xmalloc(1);
			continue;
		}
		job->raw[i] = xmalloc(lens[i] ? lens[i] : 1);
		if (lens[i] > 0)
			memcpy(job->raw[i], raws[i], lens[i]);
		job->bytes += lens[i];
	}
	hold_bytes(n, job->bytes);
	job->nslices = (count + SLICE_MIN - 1) / SLICE_MIN;
	if (job->nslices > SLICES_MAX)
		job->nslices = SLICES_MAX;
	if (job->nslices == 0)
		job->nslices = 1;
	per = (count + job->nslices - 1) / job->nslices;
	job->pending = job->nslices;
	n->ingest->checking += count;
	for (i = 0; i < job->nslices; i++) {
		struct slice *sl = &job->slices[i];

		sl->job = job;
		sl->lo = i * per < count ? i * per : count;
		sl->hi = (i + 1) * per < count ? (i + 1) * per : count;
		sl->first = SIZE_MAX;
		memset(&sl->ahead, 0, sizeof(sl->ahead));
		sl->work.data = sl;
		uv_queue_work(n->loop, &sl->work, check_slice, slice_done);
	}
	return 0;
}

/* ---- held records: released on admission ---- */

static void
release_done(void *arg, const struct ingest_result *r)
{
	(void)arg;
	if (r->stored > 0 || r->refused > 0)
		log_info("federation: %zu held records stored on admission, %zu "
		    "refused%s%s", r->stored, r->refused, r->reason[0] ? ": " : "",
		    r->reason);
}

/* Takes the records held for city again, in batches. */
static void
release(struct node *n, const uint8_t city[32])
{
	struct held_record *list = held_take(n, city), *h, *batch;
	const uint8_t **raws = NULL;
	size_t *lens = NULL, k;

	if (list != NULL) {
		raws = xcalloc(INGEST_MAX_BATCH, sizeof(*raws));
		lens = xcalloc(INGEST_MAX_BATCH, sizeof(*lens));
	}
	for (batch = list; batch != NULL; batch = h) {
		k = 0;
		for (h = batch; h != NULL && k < INGEST_MAX_BATCH; h = h->next) {
			raws[k] = h->raw;
			lens[k++] = h->len;
		}
		/* ingest_submit copies the bytes: the list can go after. */
		if (ingest_submit(n, NULL, raws, lens, k, release_done, NULL) != 0)
			log_warnx("federation: cannot resubmit %zu held records", k);
	}
	held_list_free(list);
	free(raws);
	free(lens);
}

void
ingest_on_event(void *arg, const struct events_event *ev)
{
	struct node *n = arg;
	struct events_event resync;

	if (ev->kind != EVENTS_MEMBERSHIP || ev->u.membership.city == NULL)
		return;
	switch (ev->u.membership.change) {
	case EVENTS_ADMITTED:
		release(n, ev->u.membership.city);
		/* Records refused for want of room while memberships were
		 * missing are still at the peers: a reconciliation now brings
		 * them. */
		if (held_take_overflow(n)) {
			memset(&resync, 0, sizeof(resync));
			resync.kind = EVENTS_RESYNC;
			events_emit(&n->events, &resync);
		}
		break;
	case EVENTS_REVOKED:
		held_drop(n, ev->u.membership.city);
		break;
	default:
		break;
	}
}

void
ingest_resume(struct node *n)
{
	if (n->ingest != NULL)
		write_next(n);
}

void
ingest_counts(const struct node *n, uint64_t *records, uint64_t *transactions)
{
	const struct ingest_state *st = n->ingest;

	*records = st != NULL ? st->written : 0;
	*transactions = st != NULL ? st->transactions : 0;
}

int
ingest_receive_full(const struct node *n)
{
	const struct ingest_state *st = n != NULL ? n->ingest : NULL;

	return st != NULL && n->cfg.receive_queue > 0 &&
	    st->held_bytes >= n->cfg.receive_queue;
}

void
ingest_receive_counts(const struct node *n, uint64_t *bytes, uint64_t *full)
{
	const struct ingest_state *st = n != NULL ? n->ingest : NULL;

	*bytes = st != NULL ? st->held_bytes : 0;
	*full = st != NULL ? st->full : 0;
}

void
ingest_stop(struct node *n)
{
	struct ingest_state *st = n != NULL ? n->ingest : NULL;
	int wrote;

	if (st == NULL || st->stopped)
		return;
	/* What waits for a larger group is written now; the writer finishes
	 * the write under way, if any, then exits. */
	st->flush = 1;
	write_next(n);
	uv_mutex_lock(&st->lock);
	st->quit = 1;
	uv_cond_signal(&st->cond);
	uv_mutex_unlock(&st->lock);
	uv_thread_join(&st->thread);
	st->stopped = 1;
	uv_mutex_lock(&st->lock);
	wrote = st->wrote;
	st->wrote = 0;
	uv_mutex_unlock(&st->lock);
	/* Its callbacks run here, since the handle closes before its pending
	 * signal would be delivered; write_next then refuses what is left. */
	if (wrote)
		write_done(st);
	else
		write_next(n);
	uv_close((uv_handle_t *)&st->async, NULL);
	uv_close((uv_handle_t *)&st->linger, NULL);
}

void
ingest_free(struct node *n)
{
	struct ingest_state *st = n != NULL ? n->ingest : NULL;

	if (st == NULL)
		return;
	uv_mutex_destroy(&st->lock);
	uv_cond_destroy(&st->cond);
	free(st);
	n->ingest = NULL;
}
