/* SPDX-License-Identifier: Apache-2.0 */
/* The one owner of this city's sequence counter: the next seq its records get. */
#ifndef LCF_SEQ_H
#define LCF_SEQ_H

#include <stddef.h>
#include <stdint.h>

struct node;

/* A member of struct node. Only seq.c writes it; everyone else asks. */
struct seq_counter {
	uint64_t next;                /* next seq for this city's own records */
	uint64_t floor;               /* above every seq stored or seen stored:
	                               * a hand-back never goes below it */
};

/* Start-up: last is the highest seq of this city in the store (0: none). */
void seq_init(struct node *n, uint64_t last);

/* The seq the next record of this city will get (1 when it has none). */
uint64_t seq_next(const struct node *n);

/* Reserves count consecutive seqs and returns the first; the counter moves
 * past them. Call from the loop. */
uint64_t seq_reserve(struct node *n, size_t count);

/* Undoes a reservation [first, end) that was not used (nothing written),
 * unless the counter moved on since (another reservation, or seq_observe
 * past end). The counter never goes back below a seq observed, even one
 * inside [first, end): a seq that may have been seen is never given out
 * twice. */
void seq_hand_back(struct node *n, uint64_t first, uint64_t end);

/* A record of this city with seq came back from a peer (a node restored
 * from an old copy): the counter moves past it, never back. */
void seq_observe(struct node *n, uint64_t seq);

#endif
