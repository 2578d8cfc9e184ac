// SPDX-License-Identifier: Apache-2.0
// Moves the damaged records that reads noted into the store's quarantine,
// in the thread pool, and asks for a reconciliation so that peers send them
// again.
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "base/error.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "core/events.h"
#include "core/node.h"
#include "core/quarantine.h"
#include "store/store.h"

struct quarantine {
	struct node *n;
	uv_timer_t timer;
	uv_work_t work;
	int busy;                     /* a flush is in the pool */
	int closing;                  /* stop asked: free when both are done */
	int timer_closed;
	size_t moved_now;             /* the flush's result (pool thread) */
	int result;
	uint64_t moved;               /* this process's total */
};

static void
maybe_free(struct quarantine *q)
{
	if (q->closing && q->timer_closed && !q->busy)
		free(q);
}

static void
flush_work(uv_work_t *w)
{
	struct quarantine *q = w->data;

	q->result = store_quarantine_flush(q->n->store, &q->moved_now);
}

static void
flush_done(uv_work_t *w, int status)
{
	struct quarantine *q = w->data;
	struct events_event ev;

	(void)status;
	q->busy = 0;
	if (q->result != 0)
		log_warnx("quarantine: moving damaged records aside failed: %s "
		    "(they are still not served)", lcf_strerror(q->result));
	q->moved += q->moved_now;
	if (q->moved_now > 0 && !q->closing && !q->n->stopping) {
		/* Their ids left the sketches: a reconciliation now asks
		 * peers for good copies. */
		memset(&ev, 0, sizeof(ev));
		ev.kind = EVENTS_RESYNC;
		events_emit(&q->n->events, &ev);
	}
	maybe_free(q);
}

static void
on_timer(uv_timer_t *t)
{
	struct quarantine *q = t->data;

	if (q->busy || store_quarantine_pending(q->n->store) == 0)
		return;
	q->busy = 1;
	q->work.data = q;
	uv_queue_work(q->n->loop, &q->work, flush_work, flush_done);
}

int
quarantine_start(struct node *n)
{
	struct quarantine *q = xcalloc(1, sizeof(*q));

	q->n = n;
	uv_timer_init(n->loop, &q->timer);
	q->timer.data = q;
	uv_timer_start(&q->timer, on_timer, QUARANTINE_CHECK_MS,
	    QUARANTINE_CHECK_MS);
	n->quarantine = q;
	return 0;
}

static void
on_closed(uv_handle_t *h)
{
	struct quarantine *q = h->data;

	q->timer_closed = 1;
	maybe_free(q);
}

void
quarantine_stop(struct node *n)
{
	struct quarantine *q = n->quarantine;

	if (q == NULL)
		return;
	n->quarantine = NULL;
	q->closing = 1;
	uv_close((uv_handle_t *)&q->timer, on_closed);
}

uint64_t
quarantine_moved(const struct node *n)
{
	return n->quarantine != NULL ? n->quarantine->moved : 0;
}
