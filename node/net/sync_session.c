// SPDX-License-Identifier: Apache-2.0
// A reconciliation session's life and its messages out: references, the end
// (once), the abort that tells the peer, and the sending every part shares.
// Below sync_authors.c and sync.c: it calls neither.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "model/iblt.h"
#include "model/kinds.h"
#include "store/store.h"
#include "net/sync.h"
#include "net/sync_int.h"

void
sync__inbatch_free(struct inbatch *b)
{
	if (b == NULL)
		return;
	free(b->buf);
	free(b->raws);
	free(b->lens);
	free(b);
}

/* Releases what a session holds for sending and receiving (not the struct). */
void
sync__release(struct session *s)
{
	struct inbatch *b;
	size_t i;

	while ((b = s->qhead) != NULL) {
		s->qhead = b->next;
		sync__inbatch_free(b);
	}
	s->qtail = NULL;
	for (i = s->jobs_pos; i < s->njobs; i++)
		free(s->jobs[i].runs);
	free(s->jobs);
	s->jobs = NULL;
	s->njobs = s->jobs_cap = s->jobs_pos = 0;
	free(s->keys);
	s->keys = NULL;
	s->nkeys = s->keys_pos = 0;
}

void
sync__hold(struct session *s)
{
	s->refs++;
}

void
sync__drop(struct session *s)
{
	if (--s->refs > 0)
		return;
	sync__release(s);
	free(s);
}

/* The counters of /metrics (core/counters.h) for a session that ended. */
static void
count_end(struct session *s, int result)
{
	struct node_counters *k = &s->n->counters;
	enum counters_sync r = result == 0 ? COUNTERS_SYNC_OK :
	    result == LCF_ECLOSED ? COUNTERS_SYNC_CLOSED :
	    result == LCF_EBUSY ? COUNTERS_SYNC_BUSY :
	    result == LCF_EPROTO ? COUNTERS_SYNC_PROTOCOL : COUNTERS_SYNC_ERROR;

	k->sync_sessions[s->initiator ? 1 : 0][r]++;
	k->sync_bytes_sent += s->stats.bytes_sent;
	k->sync_bytes_received += s->stats.bytes_received;
	k->sync_round_trips += s->stats.round_trips;
}

static void
unlink_session(struct session *s)
{
	struct sync_state *st = s->st;
	struct session **pp;

	for (pp = &st->head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	s->next = NULL;
	if (st->head == NULL && st->timer_on) {
		uv_timer_stop(&st->timer);
		st->timer_on = 0;
	}
}

/* Ends a session once: the initiator's callback runs, the list lets go of it. */
void
sync__end(struct session *s, int result, const char *fmt, ...)
{
	struct sync_io *io = s->io;
	va_list ap;

	if (s->ended)
		return;
	s->ended = 1;
	unlink_session(s);
	s->io = NULL;
	s->stats.result = result;
	s->stats.finished_ms = now_ms();
	count_end(s, result);
	/* A pull that stored records and ended well: a full store has room
	 * again (core/space.h; a session with a refused write ends in error,
	 * and space_stored heeds only a probe). */
	if (result == 0 && s->stored > 0)
		space_stored(s->n);
	va_start(ap, fmt);
	vsnprintf(s->stats.message, sizeof(s->stats.message), fmt, ap);
	va_end(ap);
	sync__release(s);
	log_debug("sync %016llx (%s): %s; %llu round trips, %llu bytes out, %llu in",
	    (unsigned long long)s->id, s->initiator ? "initiator" : "responder",
	    s->stats.message, (unsigned long long)s->stats.round_trips,
	    (unsigned long long)s->stats.bytes_sent,
	    (unsigned long long)s->stats.bytes_received);
	if (s->initiator && s->cb != NULL)
		s->cb(s->cb_arg, &s->stats);
	else if (!s->initiator && io != NULL && io->answered != NULL)
		io->answered(io->arg, &s->stats);
	sync__drop(s);
}

/* Sends m; a control message starts a round trip for the initiator unless one
 * is already waiting. On failure the session ends. */
int
sync__send(struct session *s, Lcf__PeerMsg *m, int control)
{
	size_t wire = 0;
	int rc;

	if (s->ended || s->io == NULL)
		return LCF_ECLOSED;
	rc = s->io->send(s->io->arg, m, &wire);
	s->stats.bytes_sent += wire;
	if (rc != 0) {
		sync__end(s, rc, "sending to the peer failed: %s", lcf_strerror(rc));
		return rc;
	}
	if (control && s->initiator && !s->in_flight) {
		s->in_flight = 1;
		s->stats.round_trips++;
	}
	return 0;
}

int
sync__legacy(const struct sync_io *io)
{
	return io->version != 0 && io->version < KINDS_PROTO_OPEN;
}

void
sync__my_digest(struct session *s, struct iblt_digest *dg,
    uint8_t out[IBLT_DIGEST_BYTES])
{
	store_sketch_view(s->n->store, s->legacy, 0, NULL, dg);
	iblt_digest_bytes(dg, out);
}

void
sync__send_done(struct session *s, int error)
{
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__SyncDone d = LCF__SYNC_DONE__INIT;
	struct iblt_digest dg;
	uint8_t dig[IBLT_DIGEST_BYTES];

	d.has_session = 1;
	d.session = s->id;
	d.has_records_sent = 1;
	d.records_sent = s->stats.records_sent;
	if (error != 0) {
		d.has_error = 1;
		d.error = error;
	} else {
		sync__my_digest(s, &dg, dig);
		d.has_count = 1;
		d.count = dg.count;
		d.has_digest = 1;
		d.digest.data = dig;
		d.digest.len = sizeof(dig);
	}
	m.msg_case = LCF__PEER_MSG__MSG_SYNC_DONE;
	m.sync_done = &d;
	sync__send(s, &m, 1);
}

/* Ends a session for a local reason, telling the peer first. */
void
sync__abort(struct session *s, int error, const char *fmt, ...)
{
	char msg[sizeof(s->stats.message)];
	va_list ap;

	if (s->ended)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sync__hold(s);
	sync__send_done(s, error);
	sync__end(s, error, "%s", msg);
	sync__drop(s);
}
