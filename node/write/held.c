// SPDX-License-Identifier: Apache-2.0
// Records whose author is not admitted yet (member.c's verdict MEMBER_HOLD),
// kept aside in memory, bounded, until an admission releases them (ingest.c)
// or the node's hold_time runs out. Authors are kept sorted by id; an author
// with nothing held is forgotten, so a stream of fresh keys leaves nothing.
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "base/error.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "core/node.h"
#include "write/held.h"

struct author {
	uint8_t city[32];
	size_t count;
	struct held_record *list;     /* newest first */
};

struct held {
	struct node *n;
	struct author *v;             /* sorted by city */
	size_t count, cap;
	size_t records, bytes;
	int overflowed;
	uv_timer_t timer;
	int timer_init;
};

static struct held *
state(struct node *n)
{
	if (n->held == NULL) {
		n->held = xcalloc(1, sizeof(*n->held));
		n->held->n = n;
	}
	return n->held;
}

/* The index of city, or where it would go (*found 0). */
static size_t
locate(const struct held *hs, const uint8_t city[32], int *found)
{
	size_t lo = 0, hi = hs->count, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (memcmp(hs->v[mid].city, city, 32) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < hs->count && memcmp(hs->v[lo].city, city, 32) == 0;
	return lo;
}

static void
forget(struct held *hs, size_t i)
{
	memmove(hs->v + i, hs->v + i + 1, (hs->count - i - 1) * sizeof(*hs->v));
	hs->count--;
}

void
held_list_free(struct held_record *list)
{
	struct held_record *h;

	while ((h = list) != NULL) {
		list = h->next;
		free(h);
	}
}

int
held_keep(struct node *n, const uint8_t *raw, size_t len,
    const uint8_t id[32], const uint8_t author[32])
{
	struct held *hs = state(n);
	struct held_record *h;
	struct author *a;
	size_t i;
	int found, ret = LCF_EFULL;

	if (hs->records >= HELD_MAX || hs->bytes + len > HELD_BYTES) {
		hs->overflowed = 1;
		goto out;
	}
	i = locate(hs, author, &found);
	if (found && hs->v[i].count >= HELD_PER_AUTHOR) {
		hs->overflowed = 1;
		goto out;
	}
	ret = 0;
	if (found) {
		for (h = hs->v[i].list; h != NULL; h = h->next)
			if (memcmp(h->id, id, 32) == 0)
				goto out;
	} else {
		if (hs->count == hs->cap) {
			hs->cap = hs->cap ? 2 * hs->cap : 64;
			hs->v = xreallocarray(hs->v, hs->cap, sizeof(*hs->v));
		}
		memmove(hs->v + i + 1, hs->v + i, (hs->count - i) * sizeof(*hs->v));
		hs->count++;
		memset(&hs->v[i], 0, sizeof(hs->v[i]));
		memcpy(hs->v[i].city, author, 32);
	}
	a = &hs->v[i];
	h = xmalloc(sizeof(*h) + len);
	memcpy(h->id, id, 32);
	h->at_mono = mono_ms();
	h->len = len;
	memcpy(h->raw, raw, len);
	h->next = a->list;
	a->list = h;
	a->count++;
	hs->records++;
	hs->bytes += len;
out:
	return ret;
}

struct held_record *
held_take(struct node *n, const uint8_t city[32])
{
	struct held *hs = n->held;
	struct held_record *list = NULL, *h;
	size_t i;
	int found;

	if (hs == NULL)
		goto out;
	i = locate(hs, city, &found);
	if (!found)
		goto out;
	list = hs->v[i].list;
	for (h = list; h != NULL; h = h->next) {
		hs->records--;
		hs->bytes -= h->len;
	}
	forget(hs, i);
out:
	return list;
}

void
held_drop(struct node *n, const uint8_t city[32])
{
	held_list_free(held_take(n, city));
}

int
held_take_overflow(struct node *n)
{
	int was = n->held != NULL && n->held->overflowed;

	if (was)
		n->held->overflowed = 0;
	return was;
}

void
held_counts(const struct node *n, uint64_t *records, uint64_t *authors)
{
	*records = n->held != NULL ? n->held->records : 0;
	*authors = n->held != NULL ? n->held->count : 0;
}

size_t
held_of(const struct node *n, const uint8_t city[32])
{
	size_t i;
	int found;

	if (n->held == NULL)
		return 0;
	i = locate(n->held, city, &found);
	return found ? n->held->v[i].count : 0;
}

/* Records nobody admitted within hold_time go, and authors left with none. */
static void
expire_cb(uv_timer_t *t)
{
	struct held *hs = t->data;
	uint64_t now = mono_ms(), ttl = hs->n->cfg.hold_time * 1000ull;
	struct held_record **hp, *h;
	size_t i = 0;

	while (i < hs->count) {
		for (hp = &hs->v[i].list; (h = *hp) != NULL;) {
			if (now - h->at_mono < ttl) {
				hp = &h->next;
				continue;
			}
			*hp = h->next;
			hs->records--;
			hs->bytes -= h->len;
			hs->v[i].count--;
			free(h);
		}
		if (hs->v[i].list == NULL)
			forget(hs, i);
		else
			i++;
	}
}

void
held_start(struct node *n)
{
	struct held *hs = state(n);
	uint64_t every;

	if (hs->timer_init)
		return;
	uv_timer_init(n->loop, &hs->timer);
	hs->timer.data = hs;
	hs->timer_init = 1;
	/* A held record lives hold_time, and at most half of it more. */
	every = n->cfg.hold_time * 500ull;
	if (every > HELD_CHECK_MS)
		every = HELD_CHECK_MS;
	if (every == 0)
		every = 1;
	uv_timer_start(&hs->timer, expire_cb, every, every);
}

static void
timer_closed(uv_handle_t *h)
{
	(void)h;
}

void
held_stop(struct node *n)
{
	struct held *hs = n->held;

	if (hs == NULL)
		return;
	if (hs->timer_init) {
		uv_close((uv_handle_t *)&hs->timer, timer_closed);
		hs->timer_init = 0;
	}
	while (hs->count > 0)
		held_drop(n, hs->v[hs->count - 1].city);
}

void
held_free(struct node *n)
{
	struct held *hs = n != NULL ? n->held : NULL;

	if (hs == NULL)
		return;
	while (hs->count > 0)
		held_drop(n, hs->v[hs->count - 1].city);
	free(hs->v);
	free(hs);
	n->held = NULL;
}
