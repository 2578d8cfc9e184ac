// SPDX-License-Identifier: Apache-2.0
// A city's line of keys: successions (member.c) turned into an immutable map
// that views use to show a rotated city as one city with one history.
//
// Each key hands over at most once (member.c keeps the first succession a key
// signs and refuses its later records), so a line is a chain: the oldest key,
// its successor, the successor's successor... The map is a sorted array of
// (old, new) pairs, searched both ways.
#include <stdlib.h>
#include <string.h>

#include "core/lineage.h"
#include "core/member.h"
#include "core/node.h"
#include "model/record.h"
#include "store/store.h"
#include "base/xmalloc.h"

struct lineage {
	uint8_t (*by_old)[2][32];    /* pairs sorted by old key */
	uint8_t (*by_new)[2][32];    /* the same pairs sorted by new key */
	size_t n;
};

static int
cmp_old(const void *a, const void *b)
{
	return memcmp((*(const uint8_t (*)[2][32])a)[0],
	    (*(const uint8_t (*)[2][32])b)[0], 32);
}

static int
cmp_new(const void *a, const void *b)
{
	return memcmp((*(const uint8_t (*)[2][32])a)[1],
	    (*(const uint8_t (*)[2][32])b)[1], 32);
}

static int
find_old(const void *key, const void *elem)
{
	return memcmp(key, (*(const uint8_t (*)[2][32])elem)[0], 32);
}

static int
find_new(const void *key, const void *elem)
{
	return memcmp(key, (*(const uint8_t (*)[2][32])elem)[1], 32);
}

struct lineage *
lineage_snapshot(struct node *n)
{
	struct lineage *l = xcalloc(1, sizeof(*l));

	members_successions(n, &l->by_old, &l->n);
	if (l->n > 0) {
		qsort(l->by_old, l->n, sizeof(*l->by_old), cmp_old);
		l->by_new = xcalloc(l->n, sizeof(*l->by_new));
		memcpy(l->by_new, l->by_old, l->n * sizeof(*l->by_new));
		qsort(l->by_new, l->n, sizeof(*l->by_new), cmp_new);
	}
	return l;
}

void
lineage_free(struct lineage *l)
{
	if (l == NULL)
		return;
	free(l->by_old);
	free(l->by_new);
	free(l);
}

int
lineage_empty(const struct lineage *l)
{
	return l == NULL || l->n == 0;
}

static const uint8_t *
successor(const struct lineage *l, const uint8_t key[32])
{
	const uint8_t (*p)[2][32];

	if (lineage_empty(l))
		return NULL;
	p = bsearch(key, l->by_old, l->n, sizeof(*l->by_old), find_old);
	return p != NULL ? (*p)[1] : NULL;
}

static const uint8_t *
predecessor(const struct lineage *l, const uint8_t key[32])
{
	const uint8_t (*p)[2][32];

	if (lineage_empty(l))
		return NULL;
	p = bsearch(key, l->by_new, l->n, sizeof(*l->by_new), find_new);
	return p != NULL ? (*p)[0] : NULL;
}

size_t
lineage_line(const struct lineage *l, const uint8_t key[32],
    uint8_t out[LINEAGE_MAX][32])
{
	uint8_t root[32];
	const uint8_t *k;
	size_t depth = 0, n = 0, i;
	int seen;

	memcpy(root, key, 32);
	/* Bounded both ways: records can describe a cycle, never a longer
	 * line than LINEAGE_MAX is worth showing. */
	while (depth++ < LINEAGE_MAX && (k = predecessor(l, root)) != NULL &&
	    memcmp(k, key, 32) != 0)
		memcpy(root, k, 32);
	for (k = root; k != NULL && n < LINEAGE_MAX; k = successor(l, k)) {
		for (i = 0, seen = 0; i < n && !seen; i++)
			seen = memcmp(out[i], k, 32) == 0;
		if (seen)
			break;
		memcpy(out[n++], k, 32);
	}
	/* The key itself is always in its line, even past a cut. */
	for (i = 0, seen = 0; i < n && !seen; i++)
		seen = memcmp(out[i], key, 32) == 0;
	if (!seen) {
		if (n == LINEAGE_MAX)
			n--;
		memcpy(out[n++], key, 32);
	}
	return n;
}

void
lineage_head(const struct lineage *l, const uint8_t key[32], uint8_t head[32])
{
	uint8_t line[LINEAGE_MAX][32];
	size_t n = lineage_line(l, key, line);

	memcpy(head, line[n - 1], 32);
}

static int
found(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	(void)arg;
	(void)id;
	(void)raw;
	(void)len;
	return 1;
}

int
lineage_shadowed(const struct lineage *l, struct store *s, const Lcf__Content *c)
{
	const uint8_t *k;
	size_t depth = 0;

	if (c == NULL || c->author.len != 32 || c->key == NULL)
		return 0;
	for (k = successor(l, c->author.data); k != NULL && depth++ < LINEAGE_MAX;
	    k = successor(l, k)) {
		if (memcmp(k, c->author.data, 32) == 0)
			break;
		if (store_get_current(s, k, c->kind, c->key, found, NULL) == 1)
			return 1;
	}
	return 0;
}

struct handover {
	const uint8_t *to;           /* the key it must hand over to */
	int found;
};

static int
handover_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct handover *h = arg;
	struct record rec;

	(void)id;
	if (record_open(raw, len, 0, &rec) != 0)
		return 0;
	h->found = !rec.c->deleted && rec.c->succession != NULL &&
	    rec.c->succession->successor.len == 32 &&
	    memcmp(rec.c->succession->successor.data, h->to, 32) == 0;
	record_release(&rec);
	return 0;
}

int
lineage_handed_over(struct store *s, const uint8_t from[32],
    const uint8_t to[32])
{
	struct handover h = { .to = to, .found = 0 };

	store_get_current(s, from, LCF__KIND__KIND_SUCCESSION, "succession",
	    handover_visit, &h);
	return h.found;
}
