// SPDX-License-Identifier: Apache-2.0
// The node's event counters: the push delay histogram's buckets (counters.h).
#include <stddef.h>
#include <stdint.h>

#include "core/counters.h"

const int64_t counters_push_delay_bounds_ms[COUNTERS_PUSH_DELAY_BUCKETS] =
    COUNTERS_PUSH_DELAY_BOUNDS_MS;

/* COUNTERS_PUSH_DELAY_BUCKETS must say how many bounds the list has. */
_Static_assert(sizeof((int64_t[])COUNTERS_PUSH_DELAY_BOUNDS_MS) ==
    COUNTERS_PUSH_DELAY_BUCKETS * sizeof(int64_t),
    "COUNTERS_PUSH_DELAY_BUCKETS is the number of bounds");

void
counters_observe(struct counters_histogram *h, int64_t ms)
{
	size_t i;

	if (ms < 0)
		ms = 0;
	for (i = 0; i < COUNTERS_PUSH_DELAY_BUCKETS &&
	    ms > counters_push_delay_bounds_ms[i]; i++)
		;
	h->bucket[i]++;
	h->count++;
	h->sum_ms += ms;
}
