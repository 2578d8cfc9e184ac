/* SPDX-License-Identifier: Apache-2.0 */
/* Reconciliation scheduling: on connect, every sync_interval, soon on request. */
#ifndef LCF_PEERSYNC_H
#define LCF_PEERSYNC_H

struct events_event;
struct node;

/* After peers_start: starts the timer that reconciles with one connected
 * peer at random every sync_interval (jittered). */
void peersync_start(struct node *n);
/* Stops the timer (its close callback runs in the loop). Before peers_stop. */
void peersync_stop(struct node *n);

/*
 * The subscriber (arg: the node) of EVENTS_LINK_UP: a link this node dialed
 * starts a reconciliation (only the side that dialed starts, so the two do
 * not both begin); and of EVENTS_RESYNC: the next reconciliation with a
 * random connected peer comes forward to about a second from now.
 */
void peersync_on_event(void *arg, const struct events_event *ev);

#endif
