// SPDX-License-Identifier: Apache-2.0
// Bounds on what the admin socket's clients make the node hold: how many
// connect, the bytes of requests being read, the answers queued, and how
// long a client may stay silent, hold back part of a request or leave its
// answer unread. A bound hit closes the client with a log line, counted by
// reason (lcf_admin_closed_total, core/counters.h).
//
// Input: a request's frame up to CTL_SMALL_MAX is read as it comes, as long
// as all such frames being read hold CTL_SMALL_TOTAL at most. A larger frame
// (a publish of many records) is read by one client at a time, the "big"
// one; another client that starts one waits, its reading stopped (its bytes
// stay in the kernel's socket buffer), until the big one is done. A client
// waiting for room longer than CTL_WAIT_TIMEOUT_MS is closed. So the node
// holds at most CTL_SMALL_TOTAL plus one frame of CTL_MAX_FRAME for
// requests, whatever the number of clients.
//
// Output: before a request is served while the answers queued pass
// CTL_OUT_TOTAL, the clients that left theirs unread longest (CTL_EVICT_MS
// at least) are closed and their answers freed; when none can be, requests
// wait until the answers drain. A client that takes none of its answer for
// CTL_STALL_TIMEOUT_MS is closed in any case. So answers hold at most
// CTL_OUT_TOTAL and the last one, and lcctl is answered meanwhile.
//
// Time: part of a frame and then CTL_PART_TIMEOUT_MS of silence, or one
// frame taking CTL_FRAME_TIMEOUT_MS in all (a trickle), closes a client;
// so does CTL_IDLE_TIMEOUT_MS with nothing asked.
#include <malloc.h>

#include <uv.h>

#include "admin/ctlint.h"
#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "core/node.h"
#include "write/import.h"

static void
bound_close(struct ctl_conn *c, enum counters_admin_close why,
    const char *what)
{
	c->ctl->n->counters.admin_closed[why]++;
	log_warnx("control: a client closed: %s", what);
	ctlconn__close(c);
}

/* Frees c's place among the small frames being read, or the big slot. */
static void
uncount(struct ctl_conn *c)
{
	struct control *ctl = c->ctl;

	ctl->small_held -= c->counted;
	c->counted = 0;
	if (ctl->big == c)
		ctl->big = NULL;
}

/* Counts c's buffer as it is now: small, or the big one. */
static void
count(struct ctl_conn *c)
{
	struct control *ctl = c->ctl;

	if (ctl->big == c)
		return;
	ctl->small_held += c->cap - c->counted;
	c->counted = c->cap;
}

static void
hold(struct ctl_conn *c)
{
	if (c->reading) {
		uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = 0;
	}
	if (c->held_since == 0)
		c->held_since = uv_now(c->ctl->n->loop);
}

int
ctlbound__read(struct ctl_conn *c)
{
	struct control *ctl = c->ctl;

	c->last_in = uv_now(ctl->n->loop);
	if (c->frame_start == 0)
		c->frame_start = c->last_in;
	if (ctl->big == c)
		return 0;
	if (c->cap > CTL_SMALL_MAX) {
		/* A large frame: the big slot, or wait for it. */
		if (ctl->big == NULL) {
			uncount(c);
			ctl->big = c;
			return 0;
		}
		count(c);
		hold(c);
		return 1;
	}
	count(c);
	if (ctl->small_held > CTL_SMALL_TOTAL) {
		hold(c);
		return 1;
	}
	return 0;
}

void
ctlbound__took(struct ctl_conn *c)
{
	struct control *ctl = c->ctl;

	/* The next frame's clock starts with its first bytes. */
	c->frame_start = c->len > 0 ? uv_now(ctl->n->loop) : 0;
	/* Done with a large frame: the slot goes to whoever waits. */
	if (ctl->big == c && c->cap <= CTL_SMALL_MAX) {
		ctl->big = NULL;
		count(c);
		ctlbound__resume(ctl);
		return;
	}
	if (ctl->big != c && c->cap < c->counted) {
		ctl->small_held -= c->counted - c->cap;
		c->counted = c->cap;
	}
}

void
ctlbound__gone(struct ctl_conn *c)
{
	struct control *ctl = c->ctl;
	int was_big = ctl->big == c;

	uncount(c);
	if (c->admitted)
		ctl->nconns--;
	c->admitted = 0;
	if (was_big)
		ctlbound__resume(ctl);
}

int
ctlbound__accept(struct ctl_conn *c)
{
	struct control *ctl = c->ctl;

	if (ctl->nconns >= CTL_CONNS_MAX) {
		ctl->n->counters.admin_closed[COUNTERS_ADM_CONNS]++;
		log_warnx("control: a client refused: %d clients are connected "
		    "already", CTL_CONNS_MAX);
		return LCF_EFULL;
	}
	ctl->nconns++;
	c->admitted = 1;
	c->last_in = c->last_out = uv_now(ctl->n->loop);
	return 0;
}

/* The client whose answer has waited unread longest, CTL_EVICT_MS at
 * least, or NULL. */
static struct ctl_conn *
oldest_reader(struct control *ctl, uint64_t now)
{
	struct ctl_conn *c, *old = NULL;

	for (c = ctl->conns; c != NULL; c = c->next)
		if (!c->closed && c->queued > 0 &&
		    now - c->last_out >= CTL_EVICT_MS &&
		    (old == NULL || c->last_out < old->last_out))
			old = c;
	return old;
}

int
ctlbound__may_serve(struct control *ctl)
{
	uint64_t now = uv_now(ctl->n->loop);
	struct ctl_conn *c;

	/* Those that do not read give way to those that ask: lcctl is
	 * answered while a script's unread answers fill the queue. */
	while (ctl->out_queued > CTL_OUT_TOTAL &&
	    (c = oldest_reader(ctl, now)) != NULL)
		bound_close(c, COUNTERS_ADM_STALL, "its answers waited unread "
		    "while the answers queued passed 64 MiB");
	return ctl->out_queued <= CTL_OUT_TOTAL;
}

/* Whether c's buffer holds part of a frame (not a whole one waiting to be
 * served). */
static int
partial(const struct ctl_conn *c)
{
	return c->len > 0 && (c->len < 4 ||
	    c->len < 4 + (size_t)get_be32(c->buf));
}

/* The clients held back for room, and those with requests waiting for the
 * answers to drain, go on where there is room now. */
void
ctlbound__resume(struct control *ctl)
{
	struct ctl_conn *c, *next;

	for (c = ctl->conns; c != NULL; c = next) {
		next = c->next;
		if (c->held_since != 0 && !c->closed &&
		    (c->cap <= CTL_SMALL_MAX ? ctl->small_held <= CTL_SMALL_TOTAL :
		    ctl->big == NULL)) {
			c->held_since = 0;
			c->last_in = uv_now(ctl->n->loop);
			if (c->cap > CTL_SMALL_MAX) {
				uncount(c);
				ctl->big = c;
			}
			if (c->import == NULL || !import_full(c->import))
				c->reading = uv_read_start((uv_stream_t *)&c->pipe,
				    ctl->alloc, ctl->read) == 0;
		}
		if (!c->closed && c->req == NULL && c->len >= 4 &&
		    ctlbound__may_serve(ctl))
			ctl->serve(c);
	}
}

/* Once a second: the timeouts. */
static void
sweep(uv_timer_t *t)
{
	struct control *ctl = t->data;
	struct ctl_conn *c, *next;
	uint64_t now = uv_now(ctl->n->loop);

	for (c = ctl->conns; c != NULL; c = next) {
		next = c->next;
		if (c->closed)
			continue;
		if (c->queued > 0 && now - c->last_out >= CTL_STALL_TIMEOUT_MS)
			bound_close(c, COUNTERS_ADM_STALL, "it took none of its "
			    "answer for 30 s");
		else if (c->held_since != 0 &&
		    now - c->held_since >= CTL_WAIT_TIMEOUT_MS)
			bound_close(c, COUNTERS_ADM_WAIT, "its request waited 30 s "
			    "for room among the others' (see lcf_admin_closed_total)");
		else if (c->held_since == 0 && c->req == NULL && partial(c) &&
		    c->reading && now - c->last_in >= CTL_PART_TIMEOUT_MS)
			bound_close(c, COUNTERS_ADM_PART, "it sent part of a request "
			    "and nothing more for 10 s");
		else if (c->frame_start != 0 && partial(c) &&
		    now - c->frame_start >= CTL_FRAME_TIMEOUT_MS)
			bound_close(c, COUNTERS_ADM_PART, "it took more than 60 s "
			    "to send one request");
		else if (c->len == 0 && c->req == NULL && c->ops == 0 &&
		    c->queued == 0 && now - c->last_in >= CTL_IDLE_TIMEOUT_MS &&
		    now - c->last_out >= CTL_IDLE_TIMEOUT_MS)
			bound_close(c, COUNTERS_ADM_IDLE, "it asked nothing for 5 "
			    "minutes");
	}
	ctlbound__resume(ctl);
	/* Many answers freed (a storm of clients that did not read them):
	 * give the memory back to the system now rather than keep it for
	 * answers that may never come (glibc keeps freed heap otherwise). */
	if (ctl->out_freed >= CTL_TRIM_BYTES) {
		ctl->out_freed = 0;
		malloc_trim(0);
	}
}

void
ctlbound__start(struct control *ctl)
{
	uv_timer_init(ctl->n->loop, &ctl->sweep);
	ctl->sweep.data = ctl;
	ctl->handles++;
	uv_timer_start(&ctl->sweep, sweep, 1000, 1000);
	uv_unref((uv_handle_t *)&ctl->sweep);
}

void
ctlbound__stop(struct control *ctl, uv_close_cb closed)
{
	uv_close((uv_handle_t *)&ctl->sweep, closed);
}
