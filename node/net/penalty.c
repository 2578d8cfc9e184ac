// SPDX-License-Identifier: Apache-2.0
// A growing back-off for addresses and keys that keep breaking the protocol (penalty.h).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"
#include "net/penalty.h"

void
penalty_init(struct penalty *pt, unsigned first_s, unsigned max_s)
{
	memset(pt, 0, sizeof(*pt));
	pt->v = xcalloc(PENALTY_SLOTS, sizeof(*pt->v));
	pt->first_ms = (uint64_t)first_s * 1000;
	pt->max_ms = (uint64_t)(max_s > first_s ? max_s : first_s) * 1000;
}

void
penalty_free(struct penalty *pt)
{
	if (pt == NULL)
		return;
	free(pt->v);
	pt->v = NULL;
}

static struct penalty_entry *
find(const struct penalty *pt, const char *name)
{
	size_t i;

	if (pt->v == NULL)
		return NULL;
	for (i = 0; i < PENALTY_SLOTS; i++)
		if (pt->v[i].name[0] != '\0' &&
		    strncmp(pt->v[i].name, name, PENALTY_NAME_MAX - 1) == 0)
			return &pt->v[i];
	return NULL;
}

/* A free slot, else the one whose back-off ended longest ago. */
static struct penalty_entry *
slot(struct penalty *pt)
{
	struct penalty_entry *best = &pt->v[0];
	size_t i;

	for (i = 0; i < PENALTY_SLOTS; i++) {
		if (pt->v[i].name[0] == '\0')
			return &pt->v[i];
		if (pt->v[i].until_ms < best->until_ms)
			best = &pt->v[i];
	}
	return best;
}

uint64_t
penalty_offend(struct penalty *pt, const char *name, uint64_t now, unsigned *n)
{
	struct penalty_entry *e;
	uint64_t d = 0;
	unsigned i;

	pt->offences++;
	if (pt->v == NULL || name == NULL || name[0] == '\0')
		goto out;
	if ((e = find(pt, name)) == NULL) {
		e = slot(pt);
		memset(e, 0, sizeof(*e));
		snprintf(e->name, sizeof(e->name), "%s", name);
	} else if (now >= e->until_ms && now - e->until_ms >= pt->max_ms) {
		/* A quiet while since its back-off ended: forgiven. */
		e->offences = 0;
	}
	if (e->offences < UINT32_MAX)
		e->offences++;
	for (d = pt->first_ms, i = 1; i < e->offences && d < pt->max_ms; i++)
		d *= 2;
	if (d > pt->max_ms)
		d = pt->max_ms;
	e->until_ms = now + d;
	if (n != NULL)
		*n = e->offences;
out:
	return d;
}

uint64_t
penalty_left(const struct penalty *pt, const char *name, uint64_t now)
{
	const struct penalty_entry *e;

	if (pt->first_ms == 0 || (e = find(pt, name)) == NULL ||
	    e->until_ms <= now)
		return 0;
	return e->until_ms - now;
}

size_t
penalty_active(const struct penalty *pt, uint64_t now)
{
	size_t i, n = 0;

	if (pt->v == NULL || pt->first_ms == 0)
		return 0;
	for (i = 0; i < PENALTY_SLOTS; i++)
		if (pt->v[i].name[0] != '\0' && pt->v[i].until_ms > now)
			n++;
	return n;
}
