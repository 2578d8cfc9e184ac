// SPDX-License-Identifier: Apache-2.0
// Records from the network: verify in the pool, validate, store, push onward.
//
// A batch runs in two steps. (1) In the thread pool, in parallel slices: decode
// each record within bounds, drop ids already stored, verify the signature,
// validate the content and check its clock. (2) In the pool, one at a time for
// the whole node (writers would only queue on LMDB's lock): store the accepted
// records in one transaction, together with every other batch that finished
// checking while the previous write ran (group commit: records keyed by random
// ids dirty about one page each, so fewer, larger transactions write far less).
// Back in the loop the records that became current are pushed onward and each
// caller's callback runs.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "discover.h"
#include "error.h"
#include "identity.h"
#include "ingest.h"
#include "log.h"
#include "member.h"
#include "node.h"
#include "peer.h"
#include "record.h"
#include "store.h"
#include "util.h"
#include "validate.h"
#include "xmalloc.h"

#define SLICE_MIN 64		/* records worth a thread of their own */
#define SLICES_MAX 4

enum verdict {
	V_PENDING,
	V_KNOWN,
	V_BAD,			/* malformed or bad signature */
	V_REFUSED,		/* invalid content or from the future */
	V_OK,
	V_HELD,			/* author not admitted yet: kept aside */
};

struct ingest_job;

struct slice {
	uv_work_t work;
	struct ingest_job *job;
	size_t lo, hi;
	size_t first;		/* index of the first refusal, or SIZE_MAX */
	char reason[sizeof(((struct ingest_result *)0)->reason)];
};

struct ingest_job {
	struct node *n;
	void *from;
	ingest_cb cb;
	void *arg;
	size_t count;
	uint8_t **raw;
	size_t *len;
	struct record *recs;
	uint8_t *verdict;
	int64_t now;
	struct slice slices[SLICES_MAX];
	size_t nslices, pending;
	struct store_item *items;
	size_t nitems;
	struct ingest_result res;
	struct ingest_job *next;
};

/* Most records one group-commit transaction takes. */
#define GROUP_MAX 65536

struct ingest_state {
	struct ingest_job *head, *tail;	/* waiting to write; head is writing */
	int writing;
	size_t group_jobs;		/* jobs from head in the running write */
	struct store_item *group;	/* the running write's items, or NULL */
	size_t ngroup;
	int group_error;
	uv_work_t group_work;
};

static void write_next(struct node *n);

static void
job_free(struct ingest_job *job)
{
	size_t i;

	for (i = 0; i < job->count; i++) {
		free(job->raw[i]);
		record_release(&job->recs[i]);
	}
	free(job->raw);
	free(job->len);
	free(job->recs);
	free(job->verdict);
	free(job->items);
	free(job);
}

static void
setf(char *dst, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* snprintf for messages that may be cut short on purpose. */
static void
setf(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
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
		setf(sl->reason, sizeof(sl->reason), "record %zu (%s): %s", i + 1,
		    hex, why);
	} else {
		setf(sl->reason, sizeof(sl->reason), "record %zu: %s", i + 1, why);
	}
}

/* Step 1 for records [lo, hi): runs in the pool. */
static void
check_slice(uv_work_t *w)
{
	struct slice *sl = w->data;
	struct ingest_job *job = sl->job;
	struct record *rec;
	struct verr verr;
	size_t i;
	int rc;

	for (i = sl->lo; i < sl->hi; i++) {
		uint8_t id[RECORD_ID_LEN];

		rec = &job->recs[i];
		/* Most pushed records are already held (every link carries each
		 * new record): those cost a hash and a lookup, not a decode. */
		if (record_peek_id(job->raw[i], job->len[i], id) == 0 &&
		    store_has(job->n->store, id)) {
			job->verdict[i] = V_KNOWN;
			continue;
		}
		rc = record_open(job->raw[i], job->len[i], 0, rec);
		if (rc != 0) {
			job->verdict[i] = V_BAD;
			refuse(sl, i, NULL, "%s", rc == LCF_ETOOBIG ?
			    "larger than a record may be" : "malformed record");
			continue;
		}
		if (identity_verify(rec->c->author.data, rec->sr->content.data,
		    rec->sr->content.len, rec->sr->signature.data) != 0) {
			job->verdict[i] = V_BAD;
			refuse(sl, i, rec->id, "bad signature");
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
			job->verdict[i] = V_REFUSED;
			refuse(sl, i, rec->id, "timestamp %lld ms ahead of this "
			    "node's clock (at most %d)",
			    (long long)(rec->c->timestamp - job->now),
			    INGEST_MAX_FUTURE_MS);
			record_release(rec);
			continue;
		}
		job->verdict[i] = V_OK;
	}
}

/* Step 2: runs in the pool. */
static void
write_work(uv_work_t *w)
{
	struct ingest_state *st = w->data;
	struct ingest_job *job = st->head;

	if (st->group == NULL)
		st->group_error = store_put(job->n->store, job->items, job->nitems);
	else
		st->group_error = store_put(job->n->store, st->group, st->ngroup);
}

static void
finish(struct ingest_job *job)
{
	struct node *n = job->n;
	const uint8_t **raws = NULL;
	size_t *lens = NULL, i, npush = 0;
	const Lcf__Content *c;

	if (job->res.error == 0 && job->nitems > 0) {
		raws = xcalloc(job->nitems, sizeof(*raws));
		lens = xcalloc(job->nitems, sizeof(*lens));
		for (i = 0; i < job->nitems; i++) {
			struct store_item *it = &job->items[i];

			if (it->result & STORE_DUP)
				continue;
			job->res.stored++;
			members_stored(n, it->rec);
			/* A record of our own coming back (a node restored from
			 * an old copy): never reuse its seq. */
			c = it->rec->c;
			if (memcmp(c->author.data, n->id->pk, 32) == 0 &&
			    c->seq >= n->next_seq)
				n->next_seq = c->seq + 1;
			if (!(it->result & STORE_CURRENT))
				continue;
			discover_stored(n, it->rec);
			job->res.current++;
			raws[npush] = it->raw;
			lens[npush++] = it->len;
		}
		peers_push(n, job->from, raws, lens, npush);
	}
	if (job->res.error != 0)
		snprintf(job->res.reason, sizeof(job->res.reason),
		    "cannot store %zu records: %s%s", job->nitems,
		    lcf_strerror(job->res.error), job->res.error == LCF_EMAPFULL ?
		    " (raise map_size in lcnode.conf)" : "");
	job->cb(job->arg, &job->res);
	free(raws);
	free(lens);
	job_free(job);
}

static void
write_done(uv_work_t *w, int status)
{
	struct ingest_state *st = w->data;
	struct ingest_job *job;
	struct node *n = st->head->n;
	size_t off = 0, left = st->group_jobs;

	(void)status;
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
		job->res.error = st->group_error;
		finish(job);
	}
	free(st->group);
	st->group = NULL;
	st->writing = 0;
	write_next(n);
}

static void
write_next(struct node *n)
{
	struct ingest_state *st = n->ingest;
	struct ingest_job *job, *end;
	size_t total = 0, off = 0;

	/* An import holds the store's write transaction: wait for its end
	 * (ingest_resume) rather than block a pool thread on it. */
	if (st->writing || st->head == NULL || n->import_writing)
		return;
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
	st->group_work.data = st;
	uv_queue_work(n->loop, &st->group_work, write_work, write_done);
}

/* All slices are done: gather verdicts, then queue the write or finish. */
static void
checked(struct ingest_job *job)
{
	struct ingest_state *st = job->n->ingest;
	size_t i, first = SIZE_MAX;
	char why[sizeof(job->res.reason)], hex[LCF_ID_HEX];

	for (i = 0; i < job->nslices; i++) {
		if (job->slices[i].first < first) {
			first = job->slices[i].first;
			memcpy(job->res.reason, job->slices[i].reason,
			    sizeof(job->res.reason));
		}
	}
	job->items = xcalloc(job->count ? job->count : 1, sizeof(*job->items));
	for (i = 0; i < job->count; i++) {
		switch (job->verdict[i]) {
		case V_KNOWN:
			job->res.known++;
			break;
		case V_BAD:
			job->res.bad++;
			job->res.refused++;
			break;
		case V_REFUSED:
			job->res.refused++;
			break;
		case V_OK:
			/* Membership is judged here, in the loop, against the
			 * state of every record stored so far. */
			switch (members_judge(job->n, job->recs[i].c, why,
			    sizeof(why))) {
			case MEMBER_HOLD:
				if (members_hold(job->n, job->raw[i], job->len[i],
				    &job->recs[i]) == 0) {
					job->res.held++;
					continue;
				}
				snprintf(why, sizeof(why), "the city is not an "
				    "admitted member, and the records waiting for "
				    "memberships are at their limit");
				/* FALLTHROUGH */
			case MEMBER_REFUSE:
				job->res.refused++;
				if (first == SIZE_MAX || i < first) {
					first = i;
					hex_encode(job->recs[i].id, RECORD_ID_LEN, hex);
					hex[12] = '\0';
					setf(job->res.reason, sizeof(job->res.reason),
					    "record %zu (%s): %s", i + 1, hex, why);
				}
				continue;
			case MEMBER_ACCEPT:
				break;
			}
			job->items[job->nitems].raw = job->raw[i];
			job->items[job->nitems].len = job->len[i];
			job->items[job->nitems].rec = &job->recs[i];
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
	if (--job->pending == 0)
		checked(job);
}

int
ingest_submit(struct node *n, void *from, const uint8_t *const *raws,
    const size_t *lens, size_t count, ingest_cb cb, void *arg)
{
	struct ingest_job *job;
	size_t i, per;

	if (n == NULL || cb == NULL || count > INGEST_MAX_BATCH ||
	    (count > 0 && (raws == NULL || lens == NULL)))
		return LCF_EINVAL;
	if (n->ingest == NULL)
		n->ingest = xcalloc(1, sizeof(*n->ingest));
	job = xcalloc(1, sizeof(*job));
	job->n = n;
	job->from = from;
	job->cb = cb;
	job->arg = arg;
	job->count = count;
	job->now = now_ms();
	job->raw = xcalloc(count ? count : 1, sizeof(*job->raw));
	job->len = xcalloc(count ? count : 1, sizeof(*job->len));
	job->recs = xcalloc(count ? count : 1, sizeof(*job->recs));
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
	}
	job->nslices = (count + SLICE_MIN - 1) / SLICE_MIN;
	if (job->nslices > SLICES_MAX)
		job->nslices = SLICES_MAX;
	if (job->nslices == 0)
		job->nslices = 1;
	per = (count + job->nslices - 1) / job->nslices;
	job->pending = job->nslices;
	for (i = 0; i < job->nslices; i++) {
		struct slice *sl = &job->slices[i];

		sl->job = job;
		sl->lo = i * per < count ? i * per : count;
		sl->hi = (i + 1) * per < count ? (i + 1) * per : count;
		sl->first = SIZE_MAX;
		sl->work.data = sl;
		uv_queue_work(n->loop, &sl->work, check_slice, slice_done);
	}
	return 0;
}

void
ingest_push_local(struct node *n, const uint8_t *const *raws,
    const size_t *lens, size_t count)
{
	peers_push(n, NULL, raws, lens, count);
}

void
ingest_resume(struct node *n)
{
	if (n->ingest != NULL)
		write_next(n);
}

void
ingest_free(struct node *n)
{
	if (n == NULL)
		return;
	free(n->ingest);
	n->ingest = NULL;
}
