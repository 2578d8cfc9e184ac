/* SPDX-License-Identifier: Apache-2.0 */
/* Publishing this city's records: validate, number, sign in the pool, store. */
#ifndef LCF_PUBLISH_H
#define LCF_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "lcf.pb-c.h"
#include "validate.h"

struct node;

struct publish_result {
	int error;                    /* 0 or a negative lcf code */
	int error_index;              /* failing draft, or -1 */
	struct verr verr;             /* field and message when error_index >= 0 */
	char message[256];            /* other errors, for a person */
	size_t stored;                /* new versions written */
	size_t unchanged;             /* drafts equal to the current version */
	uint64_t first_seq;
	uint8_t (*ids)[32];           /* per draft (zero when unchanged); owned by
	                               * the job, valid during the callback */
};

typedef void (*publish_cb)(void *arg, const struct publish_result *res);

/* Publishes drafts (Content without author, seq, timestamp) as one transaction:
 * each is validated (indicator ids against the catalog), drafts equal to the
 * current version are skipped, the rest get consecutive seqs, are signed in the
 * thread pool and written together. The drafts stay owned by the caller and must
 * live until cb, which is always called (from the loop), unless this returns an
 * error. The node's writer is shared: jobs run one at a time in order. */
int publish_submit(struct node *n, Lcf__Content **drafts, size_t count, int dry_run,
    publish_cb cb, void *arg);

/* A node whose own records may still come back from peers (its database was
 * lost) must not number new records yet: jobs submitted before this call wait
 * in the queue. main() calls it at start-up, or once the first reconciliation
 * has run. */
void publish_settle(struct node *n);

/* Blocking variant for start-up (the loop is not running yet). */
int publish_now(struct node *n, Lcf__Content **drafts, size_t count,
    struct publish_result *res);

#endif
