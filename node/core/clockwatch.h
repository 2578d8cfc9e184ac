/* SPDX-License-Identifier: Apache-2.0 */
/* What the records refused for being dated ahead of this node's clock say
 * about that clock: how far ahead, from how many cities, lately. One city's
 * records dated hours ahead may be that city's clock; several cities' are
 * this node's clock being behind. Loop thread only. */
#ifndef LCF_CLOCKWATCH_H
#define LCF_CLOCKWATCH_H

#include <stddef.h>
#include <stdint.h>

#define CLOCKWATCH_WINDOW_MS	(60 * 60 * 1000)	/* what "lately" is */
#define CLOCKWATCH_AUTHORS	8		/* cities told apart, at most */

struct clockwatch {
	int64_t last_ms;              /* the last refusal (wall clock), 0: none */
	int64_t first_ms;             /* the window's first */
	int64_t max_ahead_ms;         /* the farthest ahead in the window */
	uint64_t records;             /* refused in the window */
	uint8_t authors[CLOCKWATCH_AUTHORS][32];
	size_t nauthors;
};

/* Counts count records of author refused at now_ms (wall clock) for being
 * dated ahead_ms ahead of it (the farthest of them). A window older than
 * CLOCKWATCH_WINDOW_MS starts again. */
void clockwatch_note(struct clockwatch *w, int64_t now_ms,
    const uint8_t author[32], int64_t ahead_ms, uint64_t count);

/* Adds what src (a batch's own watch) saw to w, at now_ms. */
void clockwatch_merge(struct clockwatch *w, const struct clockwatch *src,
    int64_t now_ms);

/* Says what the window holds, for status and messages: "42 records from 3
 * keys refused in the last hour, dated up to 2 h 0 min ahead of this
 * node's clock: if they are right, this node's clock is behind; check it
 * (timedatectl, chronyc tracking)". 0 and buf untouched when nothing was
 * refused lately; else 1. */
int clockwatch_say(const struct clockwatch *w, int64_t now_ms, char *buf,
    size_t size);

/* "2 h 0 min" (minutes rounded), "10 min", "12 min 5 s", "40 s" for a span of
 * milliseconds. */
void clockwatch_span(int64_t ms, char *buf, size_t size);

#endif
