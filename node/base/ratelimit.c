// SPDX-License-Identifier: Apache-2.0
// A budget of log lines a minute for one kind of event (ratelimit.h).
#include "base/ratelimit.h"

int
ratelimit_pass(struct ratelimit *r, uint64_t now_ms, unsigned long *held)
{
	if (r->used == 0 || now_ms - r->start_ms >= RATELIMIT_WINDOW_MS) {
		r->start_ms = now_ms;
		r->used = 0;
	}
	if (r->used >= RATELIMIT_BURST) {
		r->held++;
		*held = 0;
		return 0;
	}
	r->used++;
	*held = r->held;
	r->held = 0;
	return 1;
}
