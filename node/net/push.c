// SPDX-License-Identifier: Apache-2.0
// Push: records pushed by a peer go to ingest (reading pauses while they
// pile up); records new here, whichever writer stored them (EVENTS_STORED),
// go at once to up to fanout connected peers, never back to where they came
// from.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "wire/conn.h"
#include "base/error.h"
#include "write/ingest.h"
#include "base/log.h"
#include "core/events.h"
#include "core/node.h"
#include "net/peer.h"
#include "net/peer_int.h"
#include "net/push.h"
#include "net/sync.h"
#include "model/kinds.h"
#include "store/store.h"
#include "base/util.h"
#include "base/xmalloc.h"

static void
push_done(void *arg, const struct ingest_result *r)
{
	struct link *l = arg;
	struct peer *p = l->p;
	char name[PEER_ADDR_MAX + PEER_TEXT_MAX];

	l->inflight--;
	/* A full store is told once per episode (core/space.c), and the
	 * records it refused counted there; a peer's push is never asked
	 * for again: reconciliation repairs it once there is room. */
	if (r->error == LCF_EMAPFULL || r->error == LCF_ENOSPC)
		log_debug("peer %s: cannot store pushed records: %s",
		    peer__name(p, l, name, sizeof(name)), r->reason);
	else if (r->error != 0)
		log_warnx("peer %s: cannot store pushed records: %s",
		    peer__name(p, l, name, sizeof(name)), r->reason);
	if (r->bad > 0 && l->c != NULL) {
		peer__misbehave(l, "%s", r->reason);
		if (p != NULL)
			p->s.refused += r->refused - 1;
	} else if (r->refused > 0) {
		log_info("peer %s: refused %zu pushed records: %s",
		    peer__name(p, l, name, sizeof(name)), r->refused, r->reason);
		if (p != NULL) {
			p->s.refused += r->refused;
			peer__set_error(p, "%s", r->reason);
		}
	}
	if (r->stored > 0)
		log_debug("peer %s: %zu new records pushed (%zu current)",
		    peer__name(p, l, name, sizeof(name)), r->stored, r->current);
	peer__mark_dirty(l->ps);
	peer__link_read_again(l);
	peer__link_unref(l);
}

void
push_received(struct link *l, const Lcf__Records *r)
{
	const uint8_t **raws;
	size_t *lens, i;
	int rc;

	if (r->n_records == 0)
		return;
	if (r->n_records > INGEST_MAX_BATCH) {
		peer__misbehave(l, "pushed %zu records in one message (at most %d)",
		    r->n_records, INGEST_MAX_BATCH);
		return;
	}
	l->p->s.records_in += r->n_records;
	peer__mark_dirty(l->ps);
	raws = xcalloc(r->n_records, sizeof(*raws));
	lens = xcalloc(r->n_records, sizeof(*lens));
	for (i = 0; i < r->n_records; i++) {
		raws[i] = r->records[i].data;
		lens[i] = r->records[i].len;
	}
	rc = ingest_submit_via(l->ps->n, l, EVENTS_VIA_PUSH, raws, lens,
	    r->n_records, push_done, l);
	if (rc != 0) {
		log_warnx("peers: cannot take %zu pushed records: %s", r->n_records,
		    lcf_strerror(rc));
	} else {
		l->refs++;
		/* Reading stops while batches pile up: TCP then slows the peer. */
		if (++l->inflight >= LINK_MAX_INFLIGHT)
			conn_pause_reading(l->c);
	}
	free(raws);
	free(lens);
}


/* Pushed: new, and the current version of its key. */
static int
pushed_on(const struct events_record *r)
{
	return (r->result & (STORE_DUP | STORE_CURRENT)) == STORE_CURRENT;
}

/* Pushed to a link of protocol version `version`: pushed, and of a kind that
 * version takes (PROTOCOL 1.5: an older peer is never sent a kind it does
 * not know). */
static int
pushed_to(const struct events_record *r, unsigned version)
{
	return pushed_on(r) && kinds_peer_takes(r->kind, version);
}

/* The records of recs that pushed_to takes for version, in messages of at
 * most INGEST_MAX_BATCH records and PEER_PUSH_MAX_BYTES, to those of the k
 * links cand whose version it is and that are not skipped (a congested or
 * failing link is skipped from then on). bins has room for a message; m is
 * a Records PeerMsg whose records are bins. */
static void
push_version(struct link **cand, size_t k, unsigned char *skip,
    unsigned version, const struct events_record *recs, size_t count,
    ProtobufCBinaryData *bins, Lcf__PeerMsg *m)
{
	uint8_t *packed = NULL;
	size_t i, start, end, bytes, plen, nb;
	int rc;

	for (start = 0; start < count; start = end) {
		bytes = 0;
		nb = 0;
		for (end = start; end < count && nb < INGEST_MAX_BATCH &&
		    (nb == 0 || bytes + recs[end].len + 8 <= PEER_PUSH_MAX_BYTES);
		    end++) {
			if (!pushed_to(&recs[end], version))
				continue;
			bins[nb].data = (uint8_t *)recs[end].raw;
			bins[nb++].len = recs[end].len;
			bytes += recs[end].len + 8;
		}
		if (nb == 0)
			continue;
		m->records->n_records = nb;
		/* Serialized once for every peer it goes to. */
		free(packed);
		plen = protobuf_c_message_get_packed_size(&m->base);
		packed = xmalloc(plen);
		protobuf_c_message_pack(&m->base, packed);
		for (i = 0; i < k; i++) {
			if (skip[i] || cand[i]->c == NULL ||
			    cand[i]->io.version != version)
				continue;
			if (conn_is_congested(cand[i]->c)) {
				/* Reconciliation will bring it the rest. */
				log_debug("peers: %s is congested: push skipped",
				    conn_remote_addr(cand[i]->c));
				skip[i] = 1;
				continue;
			}
			rc = conn_send_bytes(cand[i]->c, packed, plen);
			if (rc != 0) {
				log_debug("peers: push to %s: %s",
				    conn_remote_addr(cand[i]->c), lcf_strerror(rc));
				skip[i] = 1;
				continue;
			}
			cand[i]->p->s.records_out += nb;
		}
	}
	free(packed);
}

/* The records of recs that pushed_on takes, in messages of at most
 * INGEST_MAX_BATCH records and PEER_PUSH_MAX_BYTES, to up to fanout links
 * other than from. */
static void
push_out(struct node *n, const void *from, const struct events_record *recs,
    size_t count)
{
	struct peers *ps = n != NULL ? n->peers : NULL;
	Lcf__PeerMsg m = LCF__PEER_MSG__INIT;
	Lcf__Records rec = LCF__RECORDS__INIT;
	ProtobufCBinaryData *bins = NULL;
	struct link *l, **cand = NULL;
	unsigned char *skip = NULL, *done = NULL;
	size_t ncand = 0, k, i;

	if (ps == NULL || ps->stopping || count == 0)
		goto out;
	for (l = ps->links; l != NULL; l = l->next)
		ncand++;
	cand = xcalloc(ncand ? ncand : 1, sizeof(*cand));
	ncand = 0;
	for (l = ps->links; l != NULL; l = l->next)
		if (l->ready && !l->closing && l->c != NULL && l != from &&
		    l->p != NULL)
			cand[ncand++] = l;
	k = ncand < ps->n->cfg.fanout ? ncand : ps->n->cfg.fanout;
	if (k == 0)
		goto out;
	/* The first k of a partial Fisher-Yates shuffle. */
	for (i = 0; i < k; i++)
		util_shuffle_step(cand, ncand, sizeof(*cand), i);
	skip = xcalloc(k, 1);
	done = xcalloc(k, 1);
	bins = xcalloc(count < INGEST_MAX_BATCH ? count : INGEST_MAX_BATCH,
	    sizeof(*bins));
	m.msg_case = LCF__PEER_MSG__MSG_RECORDS;
	m.records = &rec;
	rec.has_push = 1;
	rec.push = 1;
	rec.records = bins;
	/* Each version among the chosen links gets the records it takes,
	 * serialized once for all the links of that version. */
	for (i = 0; i < k; i++) {
		size_t j;

		if (done[i])
			continue;
		for (j = i; j < k; j++)
			done[j] |= cand[j]->io.version == cand[i]->io.version;
		push_version(cand, k, skip, cand[i]->io.version, recs, count,
		    bins, &m);
	}
	peer__mark_dirty(ps);
out:
	free(bins);
	free(done);
	free(skip);
	free(cand);
}

void
push_on_event(void *arg, const struct events_event *ev)
{
	const struct events_stored *st = &ev->u.stored;
	size_t i, any = 0;

	if (ev->kind != EVENTS_STORED)
		return;
	for (i = 0; i < st->count && !any; i++)
		any = pushed_on(&st->recs[i]);
	if (any)
		push_out(arg, st->from, st->recs, st->count);
}
