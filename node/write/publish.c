// SPDX-License-Identifier: Apache-2.0
// Publishing this city's records: validate, number, sign in the pool, store.
//
// A job runs in four steps. (1) In the thread pool, in parallel slices: fill the
// envelope, validate, and mark drafts equal to the current version. (2) In the
// loop: give the changed drafts consecutive seqs. (3) In the pool, in parallel
// slices: serialize and sign. (4) In the pool: one store transaction; back in
// the loop the batch is told to the node (EVENTS_STORED). Seqs are reserved
// (seq.c) only after validation so a refused import leaves no gap.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/catalog.h"
#include "base/error.h"
#include "model/identity.h"
#include "core/lineage.h"
#include "base/log.h"
#include "core/custody.h"
#include "core/events.h"
#include "core/node.h"
#include "core/seq.h"
#include "write/publish.h"
#include "model/record.h"
#include "store/store.h"
#include "base/util.h"
#include "base/xmalloc.h"

#define SLICE_MIN 256
#define SLICES_MAX 4

struct slice {
	uv_work_t work;
	struct publish_job *job;
	size_t lo, hi;
	int err;
	int err_index;
	struct verr verr;
};

struct publish_job {
	struct publish_turn turn;     /* first: a job is found from its turn */
	struct node *n;
	Lcf__Content **drafts;
	size_t count;
	int dry_run;
	publish_cb cb;
	void *arg;

	uint8_t author[32];
	int64_t timestamp;
	/* The catalog in force when the job was queued: a reference, so the
	 * loop may install another while the job's slices run in the pool. */
	struct catalog *catalog;
	struct lineage *lin;          /* this city's earlier keys, for deletions */
	uint8_t *unchanged;
	uint8_t **raw;
	size_t *rawlen;
	int *result;                  /* STORE_* flags per draft once written */
	uint8_t (*ids)[32];
	struct slice slices[SLICES_MAX];
	size_t nslices, pending;
	uv_work_t write_work;
	int step;
	uint64_t t_start, t_checked, t_sealed;   /* monotonic ms, for the log */
	uint64_t seq_end;             /* the end of the seqs reserved, or 0 */
	struct publish_result res;
};

static void job_start(struct publish_turn *turn);

static ProtobufCMessage *
body_of(const Lcf__Content *c)
{
	return (ProtobufCMessage *)record_body(c, NULL);
}

static int
same_body(const Lcf__Content *a, const Lcf__Content *b)
{
	const ProtobufCMessage *ma = body_of(a), *mb = body_of(b);
	size_t la, lb;
	uint8_t *ba, *bb;
	int same;

	if (a->deleted != b->deleted || a->body_case != b->body_case)
		return 0;
	if (ma == NULL || mb == NULL)
		return ma == mb;
	la = protobuf_c_message_get_packed_size(ma);
	lb = protobuf_c_message_get_packed_size(mb);
	if (la != lb)
		return 0;
	ba = xmalloc(la);
	bb = xmalloc(lb);
	protobuf_c_message_pack(ma, ba);
	protobuf_c_message_pack(mb, bb);
	same = memcmp(ba, bb, la) == 0;
	free(ba);
	free(bb);
	return same;
}

struct current_check {
	const Lcf__Content *draft;
	int same;
	uint8_t id[32];               /* the current version's id */
};

static int
check_current(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct current_check *cc = arg;
	struct record rec;

	memcpy(cc->id, id, sizeof(cc->id));
	if (record_open(raw, len, 0, &rec) == 0) {
		cc->same = same_body(cc->draft, rec.c);
		record_release(&rec);
	}
	return 0;
}

static int
live_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct record rec;
	int live = 0;

	(void)arg;
	(void)id;
	if (record_open(raw, len, 0, &rec) == 0) {
		live = !rec.c->deleted;
		record_release(&rec);
	}
	return live;
}

/* 1 when an earlier key of this city holds a live current version of c's
 * (kind, key). */
static int
earlier_holds(struct node *node, const struct lineage *lin,
    const uint8_t author[32], const Lcf__Content *c)
{
	uint8_t line[LINEAGE_MAX][32];
	size_t n, i;

	if (lineage_empty(lin))
		return 0;
	n = lineage_line(lin, author, line);
	for (i = 0; i < n; i++)
		if (memcmp(line[i], author, 32) != 0 &&
		    store_get_current(node->store, line[i], c->kind, c->key,
		    live_visit, NULL) == 1)
			return 1;
	return 0;
}

int
publish_check_draft(struct node *n, const struct catalog *cat,
    const struct lineage *lin, Lcf__Content *c, const uint8_t author[32],
    int64_t timestamp, int *unchanged, uint8_t id[32], size_t *size,
    struct verr *verr)
{
	struct current_check cc;
	int rc;

	*unchanged = 0;
	c->has_author = 1;
	c->author.data = (uint8_t *)author;
	c->author.len = 32;
	c->has_seq = 1;
	c->seq = 1;
	c->has_timestamp = 1;
	c->timestamp = timestamp;
	if (validate_content(c, cat, VALIDATE_CATALOG, verr) != 0)
		return LCF_EVALIDATE;
	/* Measured with the widest seq, so signing cannot fail on size after
	 * seqs are given out. */
	c->seq = UINT64_MAX;
	*size = lcf__content__get_packed_size(c);
	c->seq = 1;
	if (*size > RECORD_MAX_CONTENT) {
		verr_set(verr, "", "the record is larger than %d bytes: shorten its "
		    "longest texts", RECORD_MAX_CONTENT);
		return LCF_ETOOBIG;
	}
	cc.draft = c;
	cc.same = 0;
	rc = store_get_current(n->store, author, c->kind, c->key, check_current,
	    &cc);
	/* A record an earlier key of this city wrote is the city's too: a
	 * tombstone under this key removes it from lists. */
	if (rc == LCF_ENOTFOUND && c->deleted && earlier_holds(n, lin, author, c))
		rc = 0;
	if (rc == LCF_ENOTFOUND && c->deleted) {
		verr_set(verr, "key", "no record '%s' to delete", c->key);
		return LCF_ENOTFOUND;
	}
	*unchanged = cc.same;
	/* An unchanged draft is answered with the version it matches. */
	if (cc.same)
		memcpy(id, cc.id, sizeof(cc.id));
	return 0;
}

/* Step 1 for drafts [lo, hi). */
static void
check_slice(struct publish_job *job, struct slice *sl)
{
	size_t i, size;
	int rc, same;

	for (i = sl->lo; i < sl->hi; i++) {
		rc = publish_check_draft(job->n, job->catalog, job->lin,
		    job->drafts[i], job->author, job->timestamp, &same,
		    job->ids[i], &size, &sl->verr);
		if (rc != 0) {
			sl->err = rc;
			sl->err_index = (int)i;
			return;
		}
		job->unchanged[i] = (uint8_t)same;
	}
}

/* Step 3 for drafts [lo, hi). */
static void
seal_slice(struct publish_job *job, struct slice *sl)
{
	uint8_t *content;
	size_t i, len;
	int rc;

	for (i = sl->lo; i < sl->hi; i++) {
		if (job->unchanged[i])
			continue;
		if ((rc = record_pack_content(job->drafts[i], &content, &len)) != 0) {
			verr_set(&sl->verr, "", "record is larger than %d bytes",
			    RECORD_MAX_CONTENT);
			sl->err = rc;
			sl->err_index = (int)i;
			return;
		}
		rc = record_seal(content, len, job->n->id, &job->raw[i],
		    &job->rawlen[i], job->ids[i]);
		free(content);
		if (rc != 0) {
			sl->err = rc;
			sl->err_index = (int)i;
			return;
		}
	}
}

static int
write_all(struct publish_job *job)
{
	struct store_item *items = xcalloc(job->count, sizeof(*items));
	struct record *recs = xcalloc(job->count, sizeof(*recs));
	size_t i, m = 0;
	int rc;

	for (i = 0; i < job->count; i++) {
		if (job->unchanged[i])
			continue;
		memcpy(recs[m].id, job->ids[i], 32);
		recs[m].c = job->drafts[i];
		items[m].raw = job->raw[i];
		items[m].len = job->rawlen[i];
		items[m].rec = &recs[m];
		m++;
	}
	rc = store_put(job->n->store, items, m);
	for (i = 0, m = 0; rc == 0 && i < job->count; i++) {
		if (job->unchanged[i])
			continue;
		job->result[i] = items[m].result;
		if (!(items[m++].result & STORE_DUP))
			job->res.stored++;
	}
	free(items);
	free(recs);
	return rc;
}

static void
assign_seqs(struct publish_job *job)
{
	size_t i;
	uint64_t seq;

	for (i = 0; i < job->count; i++)
		job->res.unchanged += job->unchanged[i] != 0;
	seq = seq_reserve(job->n, job->count - job->res.unchanged);
	job->res.first_seq = seq;
	for (i = 0; i < job->count; i++)
		if (!job->unchanged[i])
			job->drafts[i]->seq = seq++;
	job->seq_end = seq;
}

/* Nothing was written: give the seqs back, unless the counter moved on since
 * (ingest stored records of our own from a peer), which must never be undone. */
static void
return_seqs(struct publish_job *job)
{
	seq_hand_back(job->n, job->res.first_seq, job->seq_end);
}

static void
collect_slices(struct publish_job *job)
{
	size_t i;

	for (i = 0; i < job->nslices; i++) {
		struct slice *sl = &job->slices[i];

		if (sl->err != 0 && (job->res.error == 0 ||
		    sl->err_index < job->res.error_index)) {
			job->res.error = sl->err;
			job->res.error_index = sl->err_index;
			job->res.verr = sl->verr;
		}
	}
}

/* The author bytes belong to the job: detach them from the caller's drafts
 * before the caller can free those (in its callback, or after publish_now).
 * Called exactly once: afterwards the drafts may be gone. */
static void
job_detach(struct publish_job *job)
{
	size_t i;

	for (i = 0; i < job->count; i++) {
		job->drafts[i]->has_author = 0;
		job->drafts[i]->author.data = NULL;
		job->drafts[i]->author.len = 0;
	}
}

static void
job_free(struct publish_job *job)
{
	size_t i;

	for (i = 0; i < job->count; i++)
		free(job->raw[i]);
	free(job->unchanged);
	free(job->raw);
	free(job->rawlen);
	free(job->result);
	free(job->ids);
	catalog_free(job->catalog);
	lineage_free(job->lin);
	free(job);
}

static struct publish_job *
job_new(struct node *n, Lcf__Content **drafts, size_t count, int dry_run)
{
	struct publish_job *job = xcalloc(1, sizeof(*job));
	size_t per, i;

	job->n = n;
	job->drafts = drafts;
	job->count = count;
	job->dry_run = dry_run;
	memcpy(job->author, n->id->pk, 32);
	job->timestamp = now_ms();
	job->catalog = catalog_ref(n->catalog);
	job->lin = lineage_snapshot(n);
	job->unchanged = xcalloc(count, 1);
	job->raw = xcalloc(count, sizeof(*job->raw));
	job->rawlen = xcalloc(count, sizeof(*job->rawlen));
	job->result = xcalloc(count, sizeof(*job->result));
	job->ids = xcalloc(count, sizeof(*job->ids));
	job->res.error_index = -1;
	job->res.ids = job->ids;
	job->nslices = (count + SLICE_MIN - 1) / SLICE_MIN;
	if (job->nslices > SLICES_MAX)
		job->nslices = SLICES_MAX;
	if (job->nslices == 0)
		job->nslices = 1;
	per = (count + job->nslices - 1) / job->nslices;
	for (i = 0; i < job->nslices; i++) {
		job->slices[i].job = job;
		job->slices[i].lo = i * per < count ? i * per : count;
		job->slices[i].hi = (i + 1) * per < count ? (i + 1) * per : count;
		job->slices[i].err_index = -1;
	}
	return job;
}

/* ---- asynchronous driving ---- */

/* Tells the node what was written (push, membership and discovery react),
 * and counts it for /metrics. */
static void
emit_stored(struct publish_job *job)
{
	struct events_record *recs = xcalloc(job->count, sizeof(*recs));
	struct events_event ev;
	size_t i, m = 0;

	job->n->counters.stored[COUNTERS_SRC_LOCAL] += job->res.stored;

	for (i = 0; i < job->count; i++) {
		if (job->unchanged[i] || job->raw[i] == NULL)
			continue;
		recs[m].raw = job->raw[i];
		recs[m].len = job->rawlen[i];
		recs[m].author = job->author;
		recs[m].seq = job->drafts[i]->seq;
		recs[m].timestamp = job->drafts[i]->timestamp;
		recs[m].kind = (int)job->drafts[i]->kind;
		recs[m++].result = job->result[i];
	}
	memset(&ev, 0, sizeof(ev));
	ev.kind = EVENTS_STORED;
	ev.u.stored.origin = EVENTS_FROM_PUBLISH;
	ev.u.stored.recs = recs;
	ev.u.stored.count = m;
	events_emit(&job->n->events, &ev);
	free(recs);
}

static void
job_finish(struct publish_job *job)
{
	struct node *n = job->n;

	job_detach(job);
	if (job->res.error == 0 && job->res.stored > 0)
		log_info("published %zu records (%zu unchanged) in %llu ms: checks "
		    "%llu ms, signing %llu ms, writing %llu ms", job->res.stored,
		    job->res.unchanged,
		    (unsigned long long)(mono_ms() - job->t_start),
		    (unsigned long long)(job->t_checked - job->t_start),
		    (unsigned long long)(job->t_sealed - job->t_checked),
		    (unsigned long long)(mono_ms() - job->t_sealed));
	if (job->res.error == 0 && !job->dry_run && job->res.stored > 0)
		emit_stored(job);
	job->cb(job->arg, &job->res);
	publish_turn_end(n, &job->turn);
	job_free(job);
}

static void
write_work(uv_work_t *w)
{
	struct publish_job *job = w->data;

	job->res.error = write_all(job);
}

static void
write_done(uv_work_t *w, int status)
{
	struct publish_job *job = w->data;

	(void)status;
	if (job->res.error != 0) {
		return_seqs(job);
		space_refused(job->n, job->res.error, SPACE_FROM_NODE,
		    job->res.stored);
		if (job->res.error == LCF_EMAPFULL)
			snprintf(job->res.message, sizeof(job->res.message),
			    "database map is full (map_size %llu MiB): raise map_size "
			    "in %s and restart lcnode",
			    (unsigned long long)(job->n->cfg.map_size >> 20),
			    job->n->cfg.path);
		else
			snprintf(job->res.message, sizeof(job->res.message),
			    "cannot store the records: %s (see the node's log)",
			    lcf_strerror(job->res.error));
		job->res.stored = 0;
	}
	job_finish(job);
}

static void
slice_work(uv_work_t *w)
{
	struct slice *sl = w->data;

	if (sl->job->step == 1)
		check_slice(sl->job, sl);
	else
		seal_slice(sl->job, sl);
}

static void start_slices(struct publish_job *job);

static void
slice_done(uv_work_t *w, int status)
{
	struct slice *sl = w->data;
	struct publish_job *job = sl->job;

	(void)status;
	if (--job->pending > 0)
		return;
	collect_slices(job);
	if (job->res.error != 0 || (job->step == 1 && job->dry_run)) {
		return_seqs(job);
		job_finish(job);
		return;
	}
	if (job->step == 1) {
		job->t_checked = mono_ms();
		assign_seqs(job);
		job->step = 3;
		start_slices(job);
		return;
	}
	job->t_sealed = mono_ms();
	job->write_work.data = job;
	uv_queue_work(job->n->loop, &job->write_work, write_work, write_done);
}

static void
start_slices(struct publish_job *job)
{
	size_t i;

	job->pending = job->nslices;
	for (i = 0; i < job->nslices; i++) {
		job->slices[i].work.data = &job->slices[i];
		uv_queue_work(job->n->loop, &job->slices[i].work, slice_work, slice_done);
	}
}

static void
job_start(struct publish_turn *turn)
{
	struct publish_job *job = (struct publish_job *)turn;

	job->step = 1;
	job->t_start = mono_ms();
	start_slices(job);
}

/* The node stops before this job's turn could come: it answers so. */
static void
job_cancel(struct publish_turn *t)
{
	struct publish_job *job = (struct publish_job *)t;

	job->res.error = LCF_ECLOSED;
	job->res.error_index = -1;
	snprintf(job->res.message, sizeof(job->res.message), "the node stopped "
	    "before it could publish (it was waiting to learn this city's "
	    "newest records)");
	job_detach(job);
	job->cb(job->arg, &job->res);
	job_free(job);
}

int
publish_submit(struct node *n, Lcf__Content **drafts, size_t count, int dry_run,
    publish_cb cb, void *arg)
{
	struct publish_job *job;

	if (count == 0)
		return LCF_EINVAL;
	job = job_new(n, drafts, count, dry_run);
	job->cb = cb;
	job->arg = arg;
	job->turn.start = job_start;
	job->turn.cancel = job_cancel;
	publish_turn_take(n, &job->turn);
	return 0;
}

/* Starts the turn at the head of the queue when nobody holds the writer. */
static void
turn_next(struct node *n)
{
	if (!n->publish_busy && n->seq_settled && n->publish_head != NULL) {
		n->publish_busy = 1;
		n->publish_head->start(n->publish_head);
	}
}

void
publish_turn_take(struct node *n, struct publish_turn *t)
{
	t->next = NULL;
	if (n->publish_tail != NULL)
		n->publish_tail->next = t;
	else
		n->publish_head = t;
	n->publish_tail = t;
	turn_next(n);
}

void
publish_turn_end(struct node *n, struct publish_turn *t)
{
	struct publish_turn **pp, *prev = NULL;
	int was_running = n->publish_busy && n->publish_head == t;

	for (pp = &n->publish_head; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
		if (*pp != t)
			continue;
		*pp = t->next;
		if (n->publish_tail == t)
			n->publish_tail = prev;
		break;
	}
	if (was_running)
		n->publish_busy = 0;
	turn_next(n);
}

void
publish_stop(struct node *n)
{
	struct publish_turn *t, *next;

	if (n->seq_settled)
		return;
	for (t = n->publish_head; t != NULL; t = next) {
		next = t->next;
		if (t->cancel == NULL)
			continue;
		publish_turn_end(n, t);
		t->cancel(t);
	}
}

void
publish_settle(struct node *n)
{
	/* The marker that this key has published is on disk before the
	 * first record of this city is numbered (custody.h). */
	if (custody_mark_published(n) != 0) {
		log_warnx("publish: this city publishes nothing until the marker "
		    "beside %s can be written (see above)", n->cfg.key_path);
		return;
	}
	n->seq_settled = 1;
	turn_next(n);
}

int
publish_now(struct node *n, Lcf__Content **drafts, size_t count,
    struct publish_result *res)
{
	struct publish_job *job;
	size_t i;
	int ret;

	if (count == 0)
		return LCF_EINVAL;
	if (custody_mark_published(n) != 0) {
		memset(res, 0, sizeof(*res));
		res->error_index = -1;
		res->error = LCF_EIO;
		return LCF_EIO;
	}
	job = job_new(n, drafts, count, 0);
	for (i = 0; i < job->nslices; i++)
		check_slice(job, &job->slices[i]);
	collect_slices(job);
	if (job->res.error == 0) {
		assign_seqs(job);
		for (i = 0; i < job->nslices; i++)
			seal_slice(job, &job->slices[i]);
		collect_slices(job);
	}
	if (job->res.error == 0)
		job->res.error = write_all(job);
	if (job->res.error != 0)
		return_seqs(job);
	else if (job->res.stored > 0)
		emit_stored(job);
	ret = job->res.error;
	*res = job->res;
	res->ids = NULL;
	job_detach(job);
	job_free(job);
	return ret;
}
