/* SPDX-License-Identifier: Apache-2.0 */
/* On-demand measurement of how far each linked peer's set is from this node's (measuring sessions, PROTOCOL 4.11). */
#ifndef LCF_MEASURE_H
#define LCF_MEASURE_H

#include <stdint.h>

#include "net/sync.h"

struct node;

#define MEASURE_PARALLEL 8      /* measuring sessions at once */

/* One peer's measurement of the last round. */
struct measure_result {
	uint8_t city[32];
	enum sync_measure_kind kind;  /* SYNC_MEASURE_NONE: it failed */
	uint64_t only_here, only_there;
	int64_t measured_ms;          /* Unix ms when it ended */
	int error;                    /* 0, or why it failed (a negative code) */
	char message[160];            /* the session's words */
};

typedef void (*measure_done_cb)(void *arg);

/*
 * Measures every peer linked now whose protocol version knows measuring
 * sessions (SYNC_PROTO_MEASURE), at most MEASURE_PARALLEL at once, each
 * within SYNC_MEASURE_TIMEOUT_MS. A round already running is joined. Returns
 * 1 when there is nothing to measure (the last round's results are then
 * cleared; cb is not called), else 0 and cb(arg) runs once, from the loop,
 * when every peer of the round is done, or at measure_stop; then
 * measure_get gives the round's results until the next round starts.
 */
int measure_start(struct node *n, measure_done_cb cb, void *arg);

/* The last round's result for city: 0 and *out, or LCF_ENOTFOUND when the
 * round did not measure it (not linked, version 2, or no round yet). */
int measure_get(struct node *n, const uint8_t city[32],
    struct measure_result *out);

/* The node is stopping: waiters are called now, later ends are only
 * recorded. measure_free after sync_stop (which ends the sessions). Both
 * accept a node that never measured. */
void measure_stop(struct node *n);
void measure_free(struct node *n);

#endif
