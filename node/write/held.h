/* SPDX-License-Identifier: Apache-2.0 */
/* Records whose author is not admitted yet, kept aside (bounded) until it is. */
#ifndef LCF_HELD_H
#define LCF_HELD_H

#include <stddef.h>
#include <stdint.h>

struct node;

#define HELD_MAX 20000                /* records held at once */
#define HELD_BYTES (32u << 20)        /* their bytes at most */
#define HELD_PER_AUTHOR 5000
#define HELD_CHECK_MS (30 * 1000)     /* expiry checked this often at most,
                                       * and at least twice per hold_time */

/* One record held: a list the caller of held_take owns and frees with
 * held_list_free. */
struct held_record {
	struct held_record *next;
	uint8_t id[32];
	uint64_t at_mono;             /* when it was held */
	size_t len;
	uint8_t raw[];
};

/* Starts the timer that forgets records held longer than the node's
 * hold_time (lcnode.conf). Records may be held before: the state is made on
 * first use. Call from the loop's thread. */
void held_start(struct node *n);
/* Stops the timer (its close callback runs in the loop) and drops every
 * record held. */
void held_stop(struct node *n);
/* Frees the state once the loop has finished. Accepts a node without it. */
void held_free(struct node *n);

/* Keeps a verified record (raw copied) of author until author is admitted.
 * 0, or LCF_EFULL when the bounds above are reached (nothing kept; see
 * held_take_overflow). A record held already is not held twice. */
int held_keep(struct node *n, const uint8_t *raw, size_t len,
    const uint8_t id[32], const uint8_t author[32]);

/* Takes every record held for city out of the store of held records: the
 * list (newest first, NULL for none) is the caller's. */
struct held_record *held_take(struct node *n, const uint8_t city[32]);
void held_list_free(struct held_record *list);

/* Forgets the records held for city (revoked). */
void held_drop(struct node *n, const uint8_t city[32]);

/* 1 when records were refused for want of room since the last call (they
 * are still at the peers: a reconciliation brings them once memberships
 * arrive), then 0 until the next refusal. */
int held_take_overflow(struct node *n);

/* Records held now and the authors they are from; those of one city. */
void held_counts(const struct node *n, uint64_t *records, uint64_t *authors);
size_t held_of(const struct node *n, const uint8_t city[32]);

#endif
