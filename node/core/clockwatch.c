// SPDX-License-Identifier: Apache-2.0
// Records refused for dates ahead of this node's clock, and what they say
// about that clock (clockwatch.h).
#include <stdio.h>
#include <string.h>

#include "core/clockwatch.h"

void
clockwatch_note(struct clockwatch *w, int64_t now_ms, const uint8_t author[32],
    int64_t ahead_ms, uint64_t count)
{
	size_t i;

	if (w->last_ms == 0 || now_ms - w->first_ms > CLOCKWATCH_WINDOW_MS) {
		memset(w, 0, sizeof(*w));
		w->first_ms = now_ms;
	}
	w->last_ms = now_ms;
	w->records += count;
	if (ahead_ms > w->max_ahead_ms)
		w->max_ahead_ms = ahead_ms;
	for (i = 0; i < w->nauthors; i++)
		if (memcmp(w->authors[i], author, 32) == 0)
			return;
	if (w->nauthors < CLOCKWATCH_AUTHORS)
		memcpy(w->authors[w->nauthors++], author, 32);
}

void
clockwatch_merge(struct clockwatch *w, const struct clockwatch *src,
    int64_t now_ms)
{
	size_t i;

	if (src->records == 0)
		return;
	for (i = 0; i < src->nauthors; i++)
		clockwatch_note(w, now_ms, src->authors[i], src->max_ahead_ms,
		    i == 0 ? src->records : 0);
}

void
clockwatch_span(int64_t ms, char *buf, size_t size)
{
	int64_t s = ms / 1000, m = (ms + 30000) / 60000;   /* minutes, rounded */

	if (s >= 3600)
		snprintf(buf, size, "%lld h %lld min", (long long)(m / 60),
		    (long long)(m % 60));
	else if (s >= 60 && s % 60 == 0)
		snprintf(buf, size, "%lld min", (long long)(s / 60));
	else if (s >= 60)
		snprintf(buf, size, "%lld min %lld s", (long long)(s / 60),
		    (long long)(s % 60));
	else
		snprintf(buf, size, "%lld s", (long long)s);
}

int
clockwatch_say(const struct clockwatch *w, int64_t now_ms, char *buf,
    size_t size)
{
	char span[48];

	if (w->last_ms == 0 || now_ms - w->last_ms > CLOCKWATCH_WINDOW_MS)
		return 0;
	clockwatch_span(w->max_ahead_ms, span, sizeof(span));
	snprintf(buf, size, "%llu record%s from %s%zu key%s refused in the last "
	    "hour, dated up to %s ahead of this node's clock: if they are "
	    "right, this node's clock is behind; check it (timedatectl, "
	    "chronyc tracking)", (unsigned long long)w->records,
	    w->records == 1 ? "" : "s",
	    w->nauthors == CLOCKWATCH_AUTHORS ? "at least " : "", w->nauthors,
	    w->nauthors == 1 ? "" : "s", span);
	return 1;
}
