/* SPDX-License-Identifier: Apache-2.0 */
/* Push: records new here go at once to a few peers; records peers push are taken. */
#ifndef LCF_PUSH_H
#define LCF_PUSH_H

#include "peer.pb-c.h"

struct events_event;
struct link;

/* A Records message pushed by the peer on l: checked and stored by ingest
 * (reading from l pauses while its batches pile up). peers_start's pushed. */
void push_received(struct link *l, const Lcf__Records *r);

/*
 * The STORED subscriber (arg: the node): the records of the batch that are
 * new (not STORE_DUP) and became current (STORE_CURRENT) go to up to
 * `fanout` connected peers chosen at random, never to the link the batch
 * came from (EVENTS_FROM_PEER). Best effort: a congested peer is skipped and
 * catches up at its next reconciliation. The bytes are copied before this
 * returns.
 */
void push_on_event(void *arg, const struct events_event *ev);

#endif
