/* SPDX-License-Identifier: Apache-2.0 */
/* The restore state: after a restore or a new store, this city's records may
 * still be held by peers, so it publishes nothing until it has learnt them. */
#ifndef LCF_RESTORE_H
#define LCF_RESTORE_H

#include <stdint.h>

struct node;

/* Why the node is in the restore state. */
enum restore_reason {
	RESTORE_NONE = 0,
	RESTORE_BACKUP = 1,          /* lcnode --restore FILE */
	RESTORE_NEW_STORE = 2,       /* lcnode --new-store */
};

/* A member of struct node. Only restore.c writes it. */
struct restore_state {
	int reason;                  /* enum restore_reason; NONE: not restoring */
	int64_t since_ms;            /* wall clock when it began */
};

/* Start-up: the state kept in the store's meta ("restore") into n->restore.
 * 0 or LCF_ESTORE. */
int restore_load(struct node *n);
/* Enters the restore state and keeps it in the store (it survives a
 * restart). 0 or a negative code. */
int restore_begin(struct node *n, enum restore_reason why);
/* Leaves it, in the store first. 0 or a negative code (then it stays). */
int restore_end(struct node *n);
/* 1 while the node is in the restore state. */
int restore_active(const struct node *n);
/* "restored from a backup" or "started on a new store". */
const char *restore_reason_text(const struct node *n);

#endif
