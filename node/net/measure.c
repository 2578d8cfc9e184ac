// SPDX-License-Identifier: Apache-2.0
// On-demand measurement of how far each linked peer's set is from this node's: one measuring session per peer, a few at once, results kept until the next round.
//
// A round starts when someone asks (`lcctl federation status --measure`, the
// HTTP API's measure=true) and no round runs; who asks while one runs joins
// it. Each peer linked at the start whose version knows measuring sessions
// gets one (sync_measure), at most MEASURE_PARALLEL at a time; the sync
// module ends each within SYNC_MEASURE_TIMEOUT_MS. The results belong to this
// module: a view reads them with measure_get once its caller is told.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "core/node.h"
#include "net/measure.h"
#include "net/peer_int.h"
#include "net/sync.h"

struct measure_waiter {
	measure_done_cb cb;
	void *arg;
	struct measure_waiter *next;
};

struct measure {
	struct node *n;
	struct measure_result *res;   /* one per peer of the round */
	struct link **links;          /* held (refs) until measured */
	size_t count, next, running;
	int active, stopping;
	struct measure_waiter *waiters;
};

struct probe {
	struct measure *m;
	size_t i;
};

static void launch(struct measure *m);

/* The round is over: every waiter is told, once. */
static void
finish(struct measure *m)
{
	struct measure_waiter *w = m->waiters, *next;

	m->active = 0;
	m->waiters = NULL;
	free(m->links);
	m->links = NULL;
	for (; w != NULL; w = next) {
		next = w->next;
		w->cb(w->arg);
		free(w);
	}
}

static void
record(struct measure_result *r, int error, const char *message)
{
	r->error = error;
	r->kind = SYNC_MEASURE_NONE;
	r->measured_ms = now_ms();
	snprintf(r->message, sizeof(r->message), "%s", message);
}

static void
probe_done(void *arg, const struct sync_stats *st)
{
	struct probe *p = arg;
	struct measure *m = p->m;
	struct measure_result *r = &m->res[p->i];

	r->error = st->result;
	r->kind = st->result == 0 ? st->measure_kind : SYNC_MEASURE_NONE;
	r->only_here = st->only_here;
	r->only_there = st->only_there;
	r->measured_ms = st->finished_ms > 0 ? st->finished_ms : now_ms();
	snprintf(r->message, sizeof(r->message), "%s", st->message);
	peer__link_unref(m->links[p->i]);
	m->links[p->i] = NULL;
	free(p);
	m->running--;
	if (!m->stopping)
		launch(m);
	if (m->active && m->running == 0 && m->next == m->count)
		finish(m);
}

/* Starts sessions up to MEASURE_PARALLEL; a peer that cannot start is
 * recorded as such. */
static void
launch(struct measure *m)
{
	struct probe *p;
	struct link *l;
	size_t i;
	int rc;

	while (m->running < MEASURE_PARALLEL && m->next < m->count) {
		i = m->next++;
		l = m->links[i];
		rc = LCF_ECLOSED;
		if (l->ready && !l->closing && l->c != NULL) {
			p = xcalloc(1, sizeof(*p));
			p->m = m;
			p->i = i;
			if ((rc = sync_measure(m->n, &l->io, probe_done, p)) == 0) {
				m->running++;
				continue;
			}
			free(p);
		}
		record(&m->res[i], rc, rc == LCF_ECLOSED ? "the link closed" :
		    lcf_strerror(rc));
		peer__link_unref(l);
		m->links[i] = NULL;
	}
}

static struct measure *
state(struct node *n)
{
	if (n->measure == NULL) {
		n->measure = xcalloc(1, sizeof(*n->measure));
		n->measure->n = n;
	}
	return n->measure;
}

int
measure_start(struct node *n, measure_done_cb cb, void *arg)
{
	struct measure *m = state(n);
	struct measure_waiter *w;
	struct link *l;
	size_t cap = 0;

	if (!m->active) {
		if (m->stopping || n->peers == NULL || n->peers->stopping)
			return 1;
		free(m->res);
		m->res = NULL;
		m->count = m->next = 0;
		for (l = n->peers->links; l != NULL; l = l->next) {
			if (!l->ready || l->closing || l->c == NULL ||
			    (l->io.version != 0 && l->io.version < SYNC_PROTO_MEASURE))
				continue;
			if (m->count == cap) {
				cap = cap ? 2 * cap : 16;
				m->links = xreallocarray(m->links, cap, sizeof(*m->links));
				m->res = xreallocarray(m->res, cap, sizeof(*m->res));
			}
			memset(&m->res[m->count], 0, sizeof(*m->res));
			memcpy(m->res[m->count].city, l->rid, 32);
			l->refs++;
			m->links[m->count++] = l;
		}
		launch(m);
		/* Nothing runs: every result is known now. */
		if (m->running == 0) {
			free(m->links);
			m->links = NULL;
			return 1;
		}
		m->active = 1;
		log_debug("measure: %zu peers", m->count);
	}
	w = xcalloc(1, sizeof(*w));
	w->cb = cb;
	w->arg = arg;
	w->next = m->waiters;
	m->waiters = w;
	return 0;
}

int
measure_get(struct node *n, const uint8_t city[32], struct measure_result *out)
{
	struct measure *m = n->measure;
	size_t i;

	for (i = 0; m != NULL && i < m->count; i++) {
		if (memcmp(m->res[i].city, city, 32) == 0) {
			*out = m->res[i];
			return 0;
		}
	}
	return LCF_ENOTFOUND;
}

void
measure_stop(struct node *n)
{
	struct measure *m = n->measure;

	if (m == NULL)
		return;
	m->stopping = 1;
	/* Peers not yet started are let go; running sessions end at
	 * sync_stop and are only recorded. */
	for (; m->next < m->count; m->next++) {
		record(&m->res[m->next], LCF_ECLOSED, "the node is stopping");
		peer__link_unref(m->links[m->next]);
		m->links[m->next] = NULL;
	}
	if (m->active) {
		struct link **keep = m->links;

		/* finish frees the array the running probes still use. */
		m->links = NULL;
		finish(m);
		m->links = keep;
	}
}

void
measure_free(struct node *n)
{
	struct measure *m = n->measure;

	if (m == NULL)
		return;
	free(m->links);
	free(m->res);
	free(m);
	n->measure = NULL;
}
