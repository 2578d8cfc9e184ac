/* SPDX-License-Identifier: Apache-2.0 */
/* When the restore state ends: each known peer reconciled since it began,
 * or the operator says no newer copy exists (`lcctl restore done`). */
#ifndef LCF_RESTWATCH_H
#define LCF_RESTWATCH_H

#include <stddef.h>
#include <stdint.h>

struct node;

/* Where the wait stands, for status. */
struct restwatch_progress {
	int active;                  /* in the restore state */
	const char *reason;          /* restore_reason_text */
	int64_t since_ms;
	size_t peers;                /* peers in the table */
	size_t reconciled;           /* of them, reconciled since since_ms */
	size_t connected;            /* connected and not reconciled yet */
	char waiting_for[256];       /* the peers not reconciled, by name */
};

/* Starts watching (the loop runs) when n is in the restore state: a timer
 * asks each connected peer not reconciled since the state began for a
 * reconciliation, and ends the state once every known peer has reconciled
 * (at least one). Until then publishing waits (publish_settle is called at
 * the end). 0 or LCF_ENOMEM. */
int restwatch_start(struct node *n);
void restwatch_stop(struct node *n);
void restwatch_free(struct node *n);

/* The state and the peers it waits for. */
void restwatch_progress(struct node *n, struct restwatch_progress *p);

/* A sentence saying why publishing is refused and until when, for lcctl and
 * the log. */
void restwatch_describe(struct node *n, char *buf, size_t len);

/* Ends the restore state now (the operator knows no newer copy exists). who
 * is logged. 0, LCF_ENOTFOUND (not restoring) or a store error. */
int restwatch_finish(struct node *n, const char *who);

#endif
