// SPDX-License-Identifier: Apache-2.0
// Reconciliation scheduling: on connect (EVENTS_LINK_UP) and every
// sync_interval (jittered) with one connected peer at random, soon after
// EVENTS_RESYNC, and on request (`lcctl peer sync`). A node that has not
// reconciled since it started catches up on a link a peer dialed too, once
// the peer's own reconciliation on it is over.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "wire/conn.h"
#include "base/error.h"
#include "base/log.h"
#include "core/events.h"
#include "core/node.h"
#include "net/peer.h"
#include "net/peer_int.h"
#include "net/peersync.h"
#include "net/sync.h"
#include "base/util.h"
#include "base/xmalloc.h"

/* Tells waiters that no reconciliation ran for them, and frees them. */
static void
fail_waiters(struct waiter *w, int result, const char *message)
{
	struct sync_stats st;
	struct waiter *next;

	memset(&st, 0, sizeof(st));
	st.result = result;
	st.started_ms = st.finished_ms = now_ms();
	snprintf(st.message, sizeof(st.message), "%s", message);
	for (; w != NULL; w = next) {
		next = w->next;
		w->cb(w->arg, &st);
		free(w);
	}
}

static int start_sync(struct link *l, struct waiter *waiters);

static void
sync_done(void *arg, const struct sync_stats *st)
{
	struct sync_req *req = arg;
	struct link *l = req->l;
	struct peer *p = l->p;
	struct waiter *w, *next;
	char name[PEER_ADDR_MAX + PEER_TEXT_MAX], msg[PEER_TEXT_MAX];
	int rc;

	l->syncing--;
	peer__name(p, l, name, sizeof(name));
	if (p != NULL) {
		p->s.last_sync_ms = st->finished_ms > 0 ? st->finished_ms : now_ms();
		p->s.last_sync_result = st->result;
		if (st->result == 0)
			p->good_sync_ms = p->s.last_sync_ms;
		peerfile_copy_text(p->s.last_sync_message, sizeof(p->s.last_sync_message),
		    st->message[0] != '\0' ? st->message : lcf_strerror(st->result));
		p->s.last_sync_records_in = st->records_received;
		p->s.last_sync_records_out = st->records_sent;
		peer__mark_dirty(l->ps);
	}
	if (st->result == 0)
		log_info("peer %s: reconciled: %s (%llu round trips, %llu records "
		    "in, %llu out)", name, st->message,
		    (unsigned long long)st->round_trips,
		    (unsigned long long)st->records_received,
		    (unsigned long long)st->records_sent);
	else
		log_info("peer %s: reconciliation failed: %s", name,
		    st->message[0] != '\0' ? st->message : lcf_strerror(st->result));
	for (w = req->waiters; w != NULL; w = next) {
		next = w->next;
		w->cb(w->arg, st);
		free(w);
	}
	/* Requests made while this session ran get one of their own. */
	if ((w = l->queued) != NULL) {
		l->queued = NULL;
		if (!l->ready || l->closing || l->c == NULL || l->ps->stopping) {
			fail_waiters(w, LCF_ECLOSED, "the peer disconnected");
		} else if ((rc = start_sync(l, w)) != 0) {
			snprintf(msg, sizeof(msg), "cannot start a reconciliation: %s",
			    lcf_strerror(rc));
			fail_waiters(w, rc, msg);
		}
	}
	peer__link_unref(l);
	free(req);
}

/* Starts a session as initiator for waiters (may be NULL); on an error they
 * stay the caller's. */
static int
start_sync(struct link *l, struct waiter *waiters)
{
	struct sync_req *req = xcalloc(1, sizeof(*req));
	int rc;

	req->l = l;
	req->waiters = waiters;
	l->refs++;
	l->syncing++;
	rc = sync_begin(l->ps->n, &l->io, sync_done, req);
	if (rc != 0) {
		l->syncing--;
		l->refs--;
		free(req);
		if (l->p != NULL) {
			l->p->s.last_sync_ms = now_ms();
			l->p->s.last_sync_result = rc;
			snprintf(l->p->s.last_sync_message,
			    sizeof(l->p->s.last_sync_message), "cannot start: %s",
			    lcf_strerror(rc));
		}
	}
	return rc;
}

/* The sync timer: one reconciliation with a random connected peer. */
static void
sync_tick(uv_timer_t *t)
{
	struct peers *ps = t->data;
	struct link *l, **cand = NULL;
	size_t n = 0, cap = 0;

	for (l = ps->links; l != NULL; l = l->next) {
		if (!l->ready || l->closing || l->c == NULL || l->syncing > 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			cand = xreallocarray(cand, cap, sizeof(*cand));
		}
		cand[n++] = l;
	}
	/* One shuffle step puts a random candidate first. A full store
	 * starts no pull (core/space.h): peers' own sessions still read. */
	if (n > 0 && space_pull_allowed(ps->n)) {
		util_shuffle_step(cand, n, sizeof(*cand), 0);
		start_sync(cand[0], NULL);
	}
	free(cand);
	uv_timer_start(&ps->sync_timer, sync_tick,
	    util_jitter((uint64_t)ps->n->cfg.sync_interval * 1000), 0);
}

void
peersync_start(struct node *n)
{
	struct peers *ps = n->peers;

	if (ps == NULL || ps->sync_timer_init)
		return;
	uv_timer_init(n->loop, &ps->sync_timer);
	ps->sync_timer.data = ps;
	uv_timer_init(n->loop, &ps->catch_up_timer);
	ps->catch_up_timer.data = ps;
	ps->sync_timer_init = 1;
	uv_timer_start(&ps->sync_timer, sync_tick,
	    util_jitter((uint64_t)n->cfg.sync_interval * 1000), 0);
}

void
peersync_stop(struct node *n)
{
	struct peers *ps = n != NULL ? n->peers : NULL;

	if (ps == NULL || !ps->sync_timer_init)
		return;
	uv_close((uv_handle_t *)&ps->sync_timer, NULL);
	uv_close((uv_handle_t *)&ps->catch_up_timer, NULL);
	ps->sync_timer_init = 0;
}

/* Brings the next reconciliation forward (records were refused that may now
 * be taken). */
static void
sync_soon(struct node *n)
{
	struct peers *ps = n != NULL ? n->peers : NULL;

	if (ps == NULL || ps->stopping || !ps->sync_timer_init)
		return;
	/* A second, give or take, so a burst of reasons makes one round. */
	uv_timer_start(&ps->sync_timer, sync_tick, util_jitter(1000), 0);
}

/*
 * Whether this node finished a reconciliation of its own since it started.
 * Until it has, a link that a peer dialed is reconciled too (catch_up_tick):
 * a node that restarts is usually dialed first by its peers' quick redials,
 * and it should catch up (and its first beacon, which waits for that, follow)
 * without waiting for its sync timer.
 */
static int
synced_since_start(const struct peers *ps)
{
	const struct peer *p;

	for (p = ps->list; p != NULL; p = p->next)
		if (p->good_sync_ms > 0 && p->good_sync_ms >= ps->n->started_ms)
			return 1;
	return 0;
}

static void
link_sync(struct link *l)
{
	char name[PEER_ADDR_MAX + PEER_TEXT_MAX];
	int rc;

	if ((rc = start_sync(l, NULL)) != 0)
		log_info("peer %s: cannot start reconciliation: %s",
		    peer__name(l->p, l, name, sizeof(name)), lcf_strerror(rc));
}

/*
 * The catch-up timer: a link with catch_up_at set reconciles once that time
 * has come, unless the peer's own session on it (it dialed, so it began one
 * at once) ended well first: sessions take and give both ways, so that one
 * caught this node up (caught_up). While the peer's session runs, ours
 * waits; one that failed leaves ours to run CATCH_UP_MS after it. Starting
 * ours beside it would have the peer send every record twice (a bootstrap:
 * the puller's CPU per record 1.6 to 1.8 times as much). A node that
 * reconciled with anyone since its start needs none.
 */
static void
catch_up_tick(uv_timer_t *t)
{
	struct peers *ps = t->data;
	struct link *l;
	uint64_t now = mono_ms();
	int synced = synced_since_start(ps), waiting = 0;

	for (l = ps->links; l != NULL; l = l->next) {
		if (l->catch_up_at == 0)
			continue;
		if (synced || !l->ready || l->closing || l->c == NULL ||
		    l->syncing > 0 || !space_pull_allowed(ps->n)) {
			l->catch_up_at = 0;
			continue;
		}
		if (sync_responding(ps->n, &l->io))
			l->catch_up_at = now + CATCH_UP_MS;
		if (now < l->catch_up_at) {
			waiting = 1;
			continue;
		}
		l->catch_up_at = 0;
		link_sync(l);
	}
	if (waiting)
		uv_timer_start(&ps->catch_up_timer, catch_up_tick, CATCH_UP_MS, 0);
}

/* sync_io.answered of a link waiting to catch up (set with catch_up_at): a
 * session the peer started ended. */
static void
caught_up(void *arg, const struct sync_stats *st)
{
	struct link *l = arg;
	char name[PEER_ADDR_MAX + PEER_TEXT_MAX];

	if (l->catch_up_at == 0 || st->result != 0 || l->p == NULL ||
	    l->closing || !space_pull_allowed(l->ps->n))
		return;
	/* Sessions take and give both ways: this one brought the peer's
	 * records here, as one of our own would have, without sending them
	 * all a second time. */
	l->catch_up_at = 0;
	l->p->good_sync_ms = now_ms();
	peer__mark_dirty(l->ps);
	log_info("peer %s: caught up through the reconciliation it started: %s",
	    peer__name(l->p, l, name, sizeof(name)), st->message);
}

void
peersync_on_event(void *arg, const struct events_event *ev)
{
	struct node *n = arg;
	struct peers *ps = n->peers;
	struct link *l;

	switch (ev->kind) {
	case EVENTS_LINK_UP:
		/* The link is peer.c's (peer_int.h), alive during the call. */
		l = (struct link *)ev->u.link.link;
		if (!space_pull_allowed(n))
			break;
		if (l->outbound) {
			link_sync(l);
		} else if (!synced_since_start(ps) && ps->sync_timer_init) {
			l->catch_up_at = mono_ms() + CATCH_UP_MS;
			l->io.answered = caught_up;
			if (!uv_is_active((uv_handle_t *)&ps->catch_up_timer))
				uv_timer_start(&ps->catch_up_timer,
				    catch_up_tick, CATCH_UP_MS, 0);
		}
		break;
	case EVENTS_RESYNC:
		sync_soon(n);
		break;
	default:
		break;
	}
}


int
peersync_request(struct node *n, const char *ref, peersync_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct peers *ps = n->peers;
	struct waiter *w = NULL, **pp;
	struct link *l;
	struct peer *p;
	int ret = LCF_EBUSY;

	if (ps == NULL || ps->stopping) {
		snprintf(err, errlen, "the node is stopping");
		goto out;
	}
	ret = LCF_EINVAL;
	if (cb == NULL) {
		snprintf(err, errlen, "no callback");
		goto out;
	}
	if ((ret = peer__find_ref(ps, ref, &p, NULL, err, errlen)) != 0)
		goto out;
	ret = LCF_ECONNECT;
	if (p->active == NULL || p->active->c == NULL) {
		snprintf(err, errlen, "peer %s is not connected%s%s",
		    p->s.address[0] != '\0' ? p->s.address : ref,
		    p->s.last_error[0] != '\0' ? ": " : "", p->s.last_error);
		goto out;
	}
	w = xcalloc(1, sizeof(*w));
	w->cb = cb;
	w->arg = arg;
	l = p->active;
	if (l->syncing > 0) {
		/* Ours is running: the next one starts when it ends. */
		pp = &l->queued;
		while (*pp != NULL)
			pp = &(*pp)->next;
		*pp = w;
		w = NULL;
		ret = 0;
		goto out;
	}
	if ((ret = start_sync(l, w)) != 0)
		snprintf(err, errlen, "cannot start a reconciliation: %s",
		    lcf_strerror(ret));
	else
		w = NULL;
out:
	free(w);
	return ret;
}

