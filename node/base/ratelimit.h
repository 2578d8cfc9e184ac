/* SPDX-License-Identifier: Apache-2.0 */
/* A budget of log lines a minute for one kind of event that strangers can
 * cause at will (connections refused before the handshake), so that a storm
 * of them is said once a minute and not line by line. */
#ifndef LCF_RATELIMIT_H
#define LCF_RATELIMIT_H

#include <stdint.h>

#define RATELIMIT_WINDOW_MS	60000
#define RATELIMIT_BURST		10

struct ratelimit {
	uint64_t start_ms;            /* the current window's start */
	unsigned used;                /* lines let through in it */
	unsigned long held;           /* events not logged since the last line */
};

/* Whether the event at now_ms (a monotonic clock) may be logged: the first
 * RATELIMIT_BURST of a window may. *held is then how many were not logged
 * before this one (for the line to say so) and starts again at 0; when it
 * may not, the event is counted in held. A zeroed struct is ready. */
int ratelimit_pass(struct ratelimit *r, uint64_t now_ms, unsigned long *held);

#endif
