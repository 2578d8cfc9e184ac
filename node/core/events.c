// SPDX-License-Identifier: Apache-2.0
// The node's event bus: a fixed table of subscribers, each event delivered
// synchronously in registration order (events.h states the contract).
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "core/events.h"

static const char *const kind_names[EVENTS_KINDS] = {
	[EVENTS_STORED] = "stored",
	[EVENTS_MEMBERSHIP] = "membership",
	[EVENTS_RESYNC] = "resync",
	[EVENTS_LINK_UP] = "link-up",
	[EVENTS_LINK_DOWN] = "link-down",
	[EVENTS_LINK_REFUSED] = "link-refused",
	[EVENTS_INGEST_ROOM] = "ingest-room",
};

void
events_init(struct events_bus *b)
{
	memset(b, 0, sizeof(*b));
}

int
events_subscribe(struct events_bus *b, unsigned mask, events_fn fn, void *arg)
{
	int ret = LCF_EINVAL;

	if (b == NULL || fn == NULL || mask == 0 || (mask & ~EVENTS_MASK_ALL) != 0)
		goto out;
	ret = LCF_EFULL;
	if (b->count == EVENTS_SUBSCRIBERS_MAX)
		goto out;
	b->subs[b->count].fn = fn;
	b->subs[b->count].arg = arg;
	b->subs[b->count].mask = mask;
	b->count++;
	ret = 0;
out:
	return ret;
}

int
events_emit(struct events_bus *b, const struct events_event *ev)
{
	size_t i, count;
	int ret = LCF_EINVAL;

	if (b == NULL || ev == NULL || (unsigned)ev->kind >= EVENTS_KINDS)
		goto out;
	ret = LCF_EBUSY;
	if (b->depth >= EVENTS_DEPTH_MAX) {
		/* A loop of reactions: a bug, said once per event here. */
		log_warnx("events: %s not delivered: emitted %d deep inside "
		    "handlers", events_kind_name(ev->kind), b->depth);
		goto out;
	}
	b->depth++;
	/* Subscriptions are made at start-up, before any event: the count is
	 * read once all the same, so that a subscription made by a handler
	 * never sees the event that was being delivered when it was made. */
	count = b->count;
	for (i = 0; i < count; i++)
		if (b->subs[i].mask & EVENTS_MASK(ev->kind))
			b->subs[i].fn(b->subs[i].arg, ev);
	b->depth--;
	ret = 0;
out:
	return ret;
}

const char *
events_kind_name(enum events_kind kind)
{
	return (unsigned)kind < EVENTS_KINDS ? kind_names[kind] : "?";
}
