// SPDX-License-Identifier: Apache-2.0
// The end of the restore state: publishing waits until each peer this node
// knows has reconciled with it since the state began (at least one peer), so
// that it has learnt the highest seq the federation holds for this city
// (ingest's seq_observe); or until the operator ends the wait.
//
// Why each peer and not the first one: a peer may itself lack this city's
// newest records (it was down when they were pushed); the records this node
// made reached at least one of its peers (push goes to linked peers), and
// every peer reconciled means that one too.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "core/node.h"
#include "core/restore.h"
#include "core/seq.h"
#include "net/peer.h"
#include "net/restwatch.h"
#include "write/publish.h"

#define WATCH_MS 1000                /* how often the wait is looked at */
#define LOG_EVERY_MS (60 * 1000)     /* how often a wait with no progress is logged */

struct restwatch {
	struct node *n;
	uv_timer_t timer;
	int asking;                  /* a reconciliation we asked for runs */
	uint64_t logged_mono;        /* when the wait was last logged */
};

static int
reconciled(const struct node *n, const struct peer_info *p)
{
	return p->last_good_sync_ms >= n->restore.since_ms;
}

static void
peer_name(const struct peer_info *p, char *buf, size_t len)
{
	char hex[LCF_ID_HEX];

	if (p->address[0] != '\0')
		snprintf(buf, len, "%s", p->address);
	else if (p->has_id)
		snprintf(buf, len, "%.12s", hex_encode(p->id, 32, hex));
	else
		snprintf(buf, len, "%s", p->remote);
}

void
restwatch_progress(struct node *n, struct restwatch_progress *pg)
{
	struct peer_info *rows = NULL;
	size_t count = 0, i, used = 0;
	char name[PEER_ADDR_MAX];

	memset(pg, 0, sizeof(*pg));
	if (!restore_active(n))
		return;
	pg->active = 1;
	pg->reason = restore_reason_text(n);
	pg->since_ms = n->restore.since_ms;
	if (n->peers == NULL || peers_list(n, &rows, &count) != 0)
		return;
	pg->peers = count;
	for (i = 0; i < count; i++) {
		if (reconciled(n, &rows[i])) {
			pg->reconciled++;
			continue;
		}
		if (rows[i].state == PEER_CONNECTED)
			pg->connected++;
		peer_name(&rows[i], name, sizeof(name));
		if (used + strlen(name) + 8 < sizeof(pg->waiting_for))
			used += (size_t)snprintf(pg->waiting_for + used,
			    sizeof(pg->waiting_for) - used, "%s%s",
			    used > 0 ? ", " : "", name);
		else if (used + 4 < sizeof(pg->waiting_for))
			used += (size_t)snprintf(pg->waiting_for + used,
			    sizeof(pg->waiting_for) - used, ", ...");
	}
	free(rows);
}

void
restwatch_describe(struct node *n, char *buf, size_t len)
{
	struct restwatch_progress pg;

	restwatch_progress(n, &pg);
	if (!pg.active) {
		snprintf(buf, len, "not restoring");
		return;
	}
	if (pg.peers == 0)
		snprintf(buf, len, "this node was %s and publishes nothing until it "
		    "has learnt this city's newest records from its peers (else it "
		    "would number records twice: forks). It knows no peer: add one "
		    "(`lcctl peer add HOST:PORT`), or, if no newer copy of this "
		    "city's records exists anywhere, end the wait with `lcctl "
		    "restore done`", pg.reason);
	else
		snprintf(buf, len, "this node was %s and publishes nothing until "
		    "each of its %zu peers has reconciled with it (else it would "
		    "number records twice: forks): %zu done, waiting for %s%s. If "
		    "no newer copy of this city's records exists anywhere, end the "
		    "wait with `lcctl restore done`", pg.reason, pg.peers,
		    pg.reconciled, pg.waiting_for, pg.connected == 0 ?
		    " (none of them is connected now)" : "");
}

static int
finish(struct node *n, const char *why)
{
	if (restore_end(n) != 0) {
		log_warnx("restore: the wait is over (%s), but the store cannot "
		    "record it: publishing still waits", why);
		return LCF_ESTORE;
	}
	log_info("restore: %s; this city's records continue at seq %llu: "
	    "publishing resumes", why, (unsigned long long)seq_next(n));
	publish_settle(n);
	return 0;
}

int
restwatch_finish(struct node *n, const char *who)
{
	char why[128];

	if (!restore_active(n))
		return LCF_ENOTFOUND;
	snprintf(why, sizeof(why), "the wait was ended by %s", who);
	return finish(n, why);
}

static void
asked_done(void *arg, const struct sync_stats *st)
{
	struct restwatch *w = arg;

	w->asking = 0;
	if (st->result != 0)
		log_info("restore: a reconciliation failed: %s", st->message);
}

/* Asks one connected peer not reconciled yet for a reconciliation. */
static void
ask_one(struct restwatch *w, const struct peer_info *rows, size_t count)
{
	char ref[LCF_ID_HEX], err[256];
	size_t i;

	for (i = 0; i < count && !w->asking; i++) {
		if (reconciled(w->n, &rows[i]) || rows[i].state != PEER_CONNECTED ||
		    !rows[i].has_id || rows[i].sync_running > 0)
			continue;
		hex_encode(rows[i].id, 32, ref);
		if (peersync_request(w->n, ref, asked_done, w, err,
		    sizeof(err)) == 0)
			w->asking = 1;
	}
}

static void
on_timer(uv_timer_t *t)
{
	struct restwatch *w = t->data;
	struct node *n = w->n;
	struct restwatch_progress pg;
	struct peer_info *rows = NULL;
	size_t count = 0;
	char msg[700];

	if (n->stopping || !restore_active(n)) {
		uv_timer_stop(t);
		return;
	}
	restwatch_progress(n, &pg);
	if (pg.peers > 0 && pg.reconciled == pg.peers) {
		uv_timer_stop(t);
		snprintf(msg, sizeof(msg), "each of the %zu peers reconciled since "
		    "the restore began", pg.peers);
		finish(n, msg);
		return;
	}
	if (peers_list(n, &rows, &count) == 0)
		ask_one(w, rows, count);
	free(rows);
	if (w->logged_mono == 0 || mono_ms() - w->logged_mono >= LOG_EVERY_MS) {
		w->logged_mono = mono_ms();
		restwatch_describe(n, msg, sizeof(msg));
		log_warnx("restore: %s", msg);
	}
}

int
restwatch_start(struct node *n)
{
	struct restwatch *w;

	if (!restore_active(n))
		return 0;
	w = xcalloc(1, sizeof(*w));
	w->n = n;
	uv_timer_init(n->loop, &w->timer);
	w->timer.data = w;
	uv_timer_start(&w->timer, on_timer, 200, WATCH_MS);
	n->restwatch = w;
	return 0;
}

void
restwatch_stop(struct node *n)
{
	if (n->restwatch != NULL && !uv_is_closing((uv_handle_t *)&n->restwatch->timer))
		uv_close((uv_handle_t *)&n->restwatch->timer, NULL);
}

void
restwatch_free(struct node *n)
{
	free(n->restwatch);
	n->restwatch = NULL;
}
