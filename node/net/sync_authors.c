// SPDX-License-Identifier: Apache-2.0
// Reconciliation by per-author summaries (PROTOCOL.md section 4): our pages of
// summaries under credit, the peer's pages compared with our store, the
// AuthorWants that answer them, and the jobs that send what the peer wants.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "base/error.h"
#include "model/iblt.h"
#include "base/log.h"
#include "core/node.h"
#include "model/record.h"
#include "store/store.h"
#include "net/sync.h"
#include "net/sync_int.h"
#include "base/util.h"
#include "base/xmalloc.h"

struct sumpage {
	struct store_author_summary *sum;
	Lcf__AuthorSummary *as;
	Lcf__AuthorSummary **asp;
	size_t n;
	int legacy;
	int walked;                  /* an author was visited: last is set */
	uint8_t last[32];
};

static int
sumpage_add(void *arg, const struct store_author_summary *sum)
{
	struct sumpage *p = arg;

	memcpy(p->last, sum->author, 32);
	p->walked = 1;
	/* An author of whom a base peer may hold nothing is not listed to it:
	 * every record of it is of a kind that peer is not sent. */
	if (p->legacy && sum->count == 0)
		return 0;
	p->sum[p->n++] = *sum;
	return 0;
}

void
sync__send_summary_page(struct session *s)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__SyncSketch sk = LCF__SYNC_SKETCH__INIT;
	struct sumpage p;
	struct iblt_digest dg;
	uint8_t d[IBLT_DIGEST_BYTES];
	size_t i;
	int done = 0, rc;

	memset(&p, 0, sizeof(p));
	p.sum = xreallocarray(NULL, SYNC_PAGE_AUTHORS, sizeof(*p.sum));
	p.as = xreallocarray(NULL, SYNC_PAGE_AUTHORS, sizeof(*p.as));
	p.asp = xreallocarray(NULL, SYNC_PAGE_AUTHORS, sizeof(*p.asp));
	p.legacy = s->legacy;
	rc = store_author_summaries(s->n->store, s->legacy,
	    s->sum_have_after ? s->sum_after : NULL, SYNC_PAGE_AUTHORS,
	    SYNC_PAGE_RECORDS, &done, sumpage_add, &p);
	if (rc != 0) {
		sync__abort(s, rc, "reading author summaries: %s",
		    lcf_strerror(rc));
		goto out;
	}
	for (i = 0; i < p.n; i++) {
		Lcf__AuthorSummary init = LCF__AUTHOR_SUMMARY__INIT;

		p.as[i] = init;
		p.as[i].has_author = 1;
		p.as[i].author.data = p.sum[i].author;
		p.as[i].author.len = 32;
		p.as[i].has_count = 1;
		p.as[i].count = p.sum[i].count;
		p.as[i].has_max_seq = 1;
		p.as[i].max_seq = p.sum[i].max_seq;
		p.as[i].has_digest = 1;
		p.as[i].digest.data = p.sum[i].digest;
		p.as[i].digest.len = IBLT_DIGEST_BYTES;
		p.asp[i] = &p.as[i];
	}
	sync__my_digest(s, &dg, d);
	sk.has_session = 1;
	sk.session = s->id;
	sk.has_count = 1;
	sk.count = dg.count;
	sk.n_authors = p.n;
	sk.authors = p.asp;
	if (!done) {
		sk.has_more = 1;
		sk.more = 1;
	}
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_SKETCH;
	m.sync_sketch = &sk;
	if (sync__send(s, &m, 1) != 0)
		goto out;
	s->out_credit--;
	if (p.walked) {
		memcpy(s->sum_after, p.last, 32);
		s->sum_have_after = 1;
	}
	if (done)
		s->sum_sent_done = 1;
out:
	free(p.sum);
	free(p.as);
	free(p.asp);
}

/* AuthorWants being gathered while a page of peer summaries is compared. */
struct wantbuf {
	Lcf__AuthorWant *aw;
	Lcf__AuthorWant **awp;
	uint8_t (*authors)[32];
	size_t *voff, *vn;
	uint64_t *vals;
	size_t n, nvals;
};

static void
wantbuf_init(struct wantbuf *w)
{
	memset(w, 0, sizeof(*w));
	w->aw = xreallocarray(NULL, SYNC_PAGE_AUTHORS, sizeof(*w->aw));
	w->awp = xreallocarray(NULL, SYNC_PAGE_AUTHORS, sizeof(*w->awp));
	w->authors = xreallocarray(NULL, SYNC_PAGE_AUTHORS, sizeof(*w->authors));
	w->voff = xreallocarray(NULL, SYNC_PAGE_AUTHORS, sizeof(*w->voff));
	w->vn = xreallocarray(NULL, SYNC_PAGE_AUTHORS, sizeof(*w->vn));
	w->vals = xreallocarray(NULL, SYNC_WANT_VALS, sizeof(*w->vals));
}

static void
wantbuf_free(struct wantbuf *w)
{
	free(w->aw);
	free(w->awp);
	free(w->authors);
	free(w->voff);
	free(w->vn);
	free(w->vals);
}

/* Sends the gathered AuthorWants with credit and done; empties w. */
static int
wantbuf_flush(struct session *s, struct wantbuf *w, uint32_t credit, int done)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__SyncWant sw = LCF__SYNC_WANT__INIT;
	size_t i;
	int rc;

	for (i = 0; i < w->n; i++) {
		Lcf__AuthorWant init = LCF__AUTHOR_WANT__INIT;

		w->aw[i] = init;
		w->aw[i].has_author = 1;
		w->aw[i].author.data = w->authors[i];
		w->aw[i].author.len = 32;
		w->aw[i].n_have = w->vn[i];
		w->aw[i].have = w->vals + w->voff[i];
		w->awp[i] = &w->aw[i];
	}
	sw.has_session = 1;
	sw.session = s->id;
	sw.n_authors = w->n;
	sw.authors = w->awp;
	if (credit > 0) {
		sw.has_credit = 1;
		sw.credit = credit;
	}
	if (done) {
		sw.has_done = 1;
		sw.done = 1;
	}
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_WANT;
	m.sync_want = &sw;
	rc = sync__send(s, &m, w->n > 0 || done);
	w->n = 0;
	w->nvals = 0;
	return rc;
}

void
sync__enter_authors(struct session *s)
{
	s->mode = MODE_AUTHORS;
	s->used_authors = 1;
	s->await_table = 0;
	/* Records come from the peer's AuthorWants, ended by its done. */
	s->stream_open = 1;
}

/* A page of the peer's summaries: ask for every author whose records differ
 * from ours, saying which seqs we hold. */
int
sync__on_summaries(struct session *s, const Lcf__SyncSketch *m)
{
	struct store_author_summary mine;
	struct wantbuf w;
	const uint8_t *prev;
	size_t i, nruns;
	int rc, ret = LCF_EPROTO;

	if (m->n_authors > SYNC_PAGE_AUTHORS)
		return LCF_EPROTO;
	prev = s->peer_sum_have_last ? s->peer_sum_last : NULL;
	for (i = 0; i < m->n_authors; i++) {
		const Lcf__AuthorSummary *a = m->authors[i];

		if (!a->has_author || a->author.len != 32 || !a->has_digest ||
		    a->digest.len != IBLT_DIGEST_BYTES)
			return LCF_EPROTO;
		if (prev != NULL && memcmp(prev, a->author.data, 32) >= 0)
			return LCF_EPROTO;
		prev = a->author.data;
	}
	if (s->mode == MODE_AUTHORS) {
		if (s->peer_sum_done)
			return LCF_EPROTO;
	} else if ((s->mode == MODE_START && s->initiator) ||
	    (s->mode == MODE_IBLT && !s->decoder && !s->stream_open)) {
		/* The peer chose summaries, or its largest table failed. */
		sync__enter_authors(s);
	} else {
		return LCF_EPROTO;
	}
	if (s->in_unacked >= SYNC_WINDOW)
		return LCF_EPROTO;
	s->in_unacked++;
	wantbuf_init(&w);
	for (i = 0; i < m->n_authors; i++) {
		const Lcf__AuthorSummary *a = m->authors[i];

		if (w.n == SYNC_PAGE_AUTHORS ||
		    w.nvals + 2 * SYNC_MAX_RUNS > SYNC_WANT_VALS) {
			if (wantbuf_flush(s, &w, 0, 0) != 0)
				goto done;
		}
		rc = store_author_summary(s->n->store, s->legacy,
		    a->author.data, &mine,
		    w.vals + w.nvals, SYNC_MAX_RUNS, &nruns);
		if (rc != 0) {
			sync__abort(s, rc, "reading author summaries: %s",
			    lcf_strerror(rc));
			goto done;
		}
		if (s->no_pull || (mine.count == a->count &&
		    memcmp(mine.digest, a->digest.data, IBLT_DIGEST_BYTES) == 0))
			continue;
		sync__progress_author(s->st, a->author.data, a->count, mine.count);
		memcpy(w.authors[w.n], a->author.data, 32);
		w.voff[w.n] = w.nvals;
		w.vn[w.n] = 2 * nruns;
		w.nvals += 2 * nruns;
		w.n++;
	}
	if (m->n_authors > 0) {
		memcpy(s->peer_sum_last, m->authors[m->n_authors - 1]->author.data, 32);
		s->peer_sum_have_last = 1;
	}
	if (!(m->has_more && m->more))
		s->peer_sum_done = 1;
	/* The last message of the page acknowledges it. */
	s->in_unacked--;
	wantbuf_flush(s, &w, 1, s->peer_sum_done);
done:
	ret = 0;
	wantbuf_free(&w);
	return ret;
}

/* Checks one AuthorWant: 32-byte author, runs ascending, disjoint, from 1. */
int
sync__check_author_want(const Lcf__AuthorWant *aw)
{
	size_t i;

	if (!aw->has_author || aw->author.len != 32)
		return LCF_EPROTO;
	if (aw->n_have % 2 != 0 || aw->n_have / 2 > SYNC_MAX_RUNS)
		return LCF_EPROTO;
	for (i = 0; i < aw->n_have; i += 2) {
		if (aw->have[i] == 0 || aw->have[i] > aw->have[i + 1])
			return LCF_EPROTO;
		if (i > 0 && aw->have[i] <= aw->have[i - 1])
			return LCF_EPROTO;
	}
	return 0;
}

void
sync__add_job(struct session *s, const Lcf__AuthorWant *aw)
{
	struct job *j;
	size_t nruns = aw->n_have / 2;

	if (s->njobs == s->jobs_cap) {
		s->jobs_cap = s->jobs_cap ? 2 * s->jobs_cap : 64;
		s->jobs = xreallocarray(s->jobs, s->jobs_cap, sizeof(*s->jobs));
	}
	j = &s->jobs[s->njobs++];
	memset(j, 0, sizeof(*j));
	memcpy(j->author, aw->author.data, 32);
	/* Past the budget the runs are dropped: the peer then receives records
	 * it holds, which costs bytes but never memory. */
	if (nruns > 0 && s->job_runs + nruns <= SYNC_MAX_JOB_RUNS) {
		j->runs = xreallocarray(NULL, aw->n_have, sizeof(*j->runs));
		memcpy(j->runs, aw->have, aw->n_have * sizeof(*j->runs));
		j->nruns = nruns;
		s->job_runs += nruns;
	}
	s->jobs_total++;
}
