// SPDX-License-Identifier: Apache-2.0
// Progress of reconciliation as a whole: how many records the peers announced
// that this node lacks (each counted once, whichever peers announce them), how
// many are stored so far, and when the rest should be in.
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/xmalloc.h"
#include "net/sync_int.h"

/* Distinct authors (and IBLT id prefixes) remembered in one episode; past
 * this, announcements are added up without the check for a second peer. */
#define PROGRESS_MAX_KEYS (1u << 20)

struct prog_key {
	uint8_t key[32];              /* an author, or an id prefix padded */
	uint64_t target;              /* the highest count announced for it */
	int used;
};

struct sync_progress_state {
	struct prog_key *tab;
	size_t n, cap;                /* cap: 0 or a power of two */
	uint64_t expected, stored;
	int64_t started_ms;
	uint64_t started_mono;
};

static struct sync_progress_state *
state(struct sync_state *st)
{
	if (st->progress == NULL)
		st->progress = xcalloc(1, sizeof(*st->progress));
	return st->progress;
}

void
sync__progress_free(struct sync_state *st)
{
	if (st->progress != NULL)
		free(st->progress->tab);
	free(st->progress);
	st->progress = NULL;
}

void
sync__progress_begin(struct sync_state *st)
{
	struct sync_progress_state *p;

	/* A session starting while none runs starts a new episode. */
	if (st->head != NULL)
		return;
	p = state(st);
	free(p->tab);
	memset(p, 0, sizeof(*p));
	p->started_ms = now_ms();
	p->started_mono = mono_ms();
}

static size_t
slot_of(const uint8_t key[32], size_t cap)
{
	uint64_t h;

	/* Authors are public keys and prefixes hashes: their bytes are as good
	 * as a hash already. */
	memcpy(&h, key + 1, sizeof(h));
	return (size_t)h & (cap - 1);
}

static void
grow(struct sync_progress_state *p)
{
	struct prog_key *old = p->tab;
	size_t oldcap = p->cap, i, j;

	p->cap = p->cap ? 2 * p->cap : 1024;
	p->tab = xcalloc(p->cap, sizeof(*p->tab));
	for (i = 0; i < oldcap; i++) {
		if (!old[i].used)
			continue;
		for (j = slot_of(old[i].key, p->cap); p->tab[j].used;
		    j = (j + 1) & (p->cap - 1))
			;
		p->tab[j] = old[i];
	}
	free(old);
}

/* The entry of key, made (target 0) when absent; NULL when the table is full. */
static struct prog_key *
lookup(struct sync_progress_state *p, const uint8_t key[32])
{
	size_t j;

	if (2 * (p->n + 1) > p->cap) {
		if (p->n >= PROGRESS_MAX_KEYS)
			return NULL;
		grow(p);
	}
	for (j = slot_of(key, p->cap); p->tab[j].used; j = (j + 1) & (p->cap - 1))
		if (memcmp(p->tab[j].key, key, 32) == 0)
			return &p->tab[j];
	p->tab[j].used = 1;
	memcpy(p->tab[j].key, key, 32);
	p->tab[j].target = 0;
	p->n++;
	return &p->tab[j];
}

void
sync__progress_author(struct sync_state *st, const uint8_t author[32],
    uint64_t theirs, uint64_t mine)
{
	struct sync_progress_state *p = state(st);
	struct prog_key *k;

	if (theirs <= mine)
		return;
	if ((k = lookup(p, author)) == NULL) {
		p->expected += theirs - mine;
		return;
	}
	/* The first peer to announce an author sets what is lacking; another
	 * peer adds only what it announces beyond that. */
	if (k->target == 0)
		p->expected += theirs - mine;
	else if (theirs > k->target)
		p->expected += theirs - k->target;
	if (theirs > k->target)
		k->target = theirs;
}

void
sync__progress_ids(struct sync_state *st, const uint8_t *prefixes, size_t n,
    size_t len)
{
	struct sync_progress_state *p = state(st);
	struct prog_key *k;
	uint8_t key[32];
	size_t i;

	for (i = 0; i < n; i++) {
		/* A prefix is told from an author by its padding. */
		memset(key, 0, sizeof(key));
		memcpy(key, prefixes + i * len, len < 31 ? len : 31);
		key[31] = 0xff;
		if ((k = lookup(p, key)) == NULL || k->target == 0)
			p->expected++;
		if (k != NULL)
			k->target = 1;
	}
}

void
sync__progress_stored(struct sync_state *st, uint64_t n)
{
	state(st)->stored += n;
}

void
sync_progress_get(struct node *n, struct sync_progress_info *out)
{
	const struct sync_progress_state *p;
	const struct session *s;
	uint64_t elapsed;

	memset(out, 0, sizeof(*out));
	if (n->sync == NULL)
		return;
	for (s = n->sync->head; s != NULL; s = s->next) {
		out->running++;
		out->received += s->stats.records_received;
	}
	if (out->running == 0 || (p = n->sync->progress) == NULL)
		return;
	out->stored = p->stored;
	/* Records no summary announced (the other side of an IBLT exchange)
	 * still count as done: the total is never below them. */
	out->expected = p->expected > p->stored ? p->expected : p->stored;
	out->remaining = out->expected - p->stored;
	out->started_ms = p->started_ms;
	elapsed = mono_ms() - p->started_mono;
	if (p->stored > 0 && out->remaining > 0 && elapsed > 0) {
		out->has_eta = 1;
		out->eta_ms = (uint64_t)((double)out->remaining * (double)elapsed /
		    (double)p->stored);
	}
}
