/* SPDX-License-Identifier: Apache-2.0 */
/* Discovery: this city's endpoint record, and links to other cities found by theirs. */
#ifndef LCF_DISCOVER_H
#define LCF_DISCOVER_H

#include <stddef.h>
#include <stdint.h>

struct events_event;
struct node;

#define DISCOVER_FAST_MS	1500	/* between rounds while below the target */
#define DISCOVER_SLOW_MS	30000	/* between rounds once it is reached */
#define DISCOVER_KICK_MS	200	/* a round this soon after a new endpoint */
#define DISCOVER_DIALS_MAX	4	/* dials started in one round at most */
#define DISCOVER_GIFT_MAX	512	/* endpoint records sent to a refused city */

/* Reads the current endpoint records of every city from the store. Runs once
 * at start, before peers_start. 0, or LCF_ESTORE with err set. */
int discover_open(struct node *n, char *err, size_t errlen);

/*
 * After peers_start: queues the publication of this city's endpoint record
 * (it runs once publishing is settled, and publishes nothing when the record
 * in force already lists the announced addresses) and starts dialing.
 */
void discover_start(struct node *n);
/* Stops the timer (its close callback runs in the loop). */
void discover_stop(struct node *n);
/* Frees the state once the loop has finished. Accepts a node without it. */
void discover_free(struct node *n);

/* The links discovery aims for: max_peers less a quarter of it (less 1 at
 * least; 1 at least), so that every node keeps room for cities that dial it. */
size_t discover_target(const struct node *n);

/*
 * The subscriber (arg: the node) of EVENTS_STORED: endpoint records of other
 * cities that became current are followed (a new one brings the next round
 * forward while the node is below its target); and of EVENTS_LINK_REFUSED:
 * a city refused for want of room (EVENTS_REFUSED_ROOM, not for membership)
 * is sent, on the refused connection, up to DISCOVER_GIFT_MAX current
 * endpoint records of cities that may link, chosen at random, each after its
 * author's membership record on a federation node, so that a new city whose
 * only peer is full is not left alone. Best effort.
 */
void discover_on_event(void *arg, const struct events_event *ev);

#endif
