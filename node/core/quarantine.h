/* SPDX-License-Identifier: Apache-2.0 */
/* Moving damaged records aside (store_quarantine.c) soon after a read found them, and asking peers for them again. */
#ifndef LCF_QUARANTINE_H
#define LCF_QUARANTINE_H

#include <stdint.h>

struct node;

/* How often the records reads noted are looked for, in ms: a damaged record
 * is skipped by every read meanwhile, so this is only how soon it is moved
 * aside and asked for again. */
#define QUARANTINE_CHECK_MS 250

/* Starts the check (a timer on n's loop; a flush runs in the thread pool and
 * emits EVENTS_RESYNC when it moved records, so that a reconciliation fetches
 * good copies). 0 or a negative code. */
int quarantine_start(struct node *n);
/* Stops the timer; a flush under way finishes and is freed with its close.
 * Accepts a node whose check never started. */
void quarantine_stop(struct node *n);
/* Records moved aside by this process (they are also in the store's
 * quarantine table until a good copy comes back). */
uint64_t quarantine_moved(const struct node *n);

#endif
