/* SPDX-License-Identifier: Apache-2.0 */
/* Publishing this city's records: validate, number, sign in the pool, store. */
#ifndef LCF_PUBLISH_H
#define LCF_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "lcf.pb-c.h"
#include "model/validate.h"

struct catalog;
struct lineage;
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

/* Publish jobs and import sessions take turns at numbering and writing this
 * city's records, in the order they asked. start is called from the loop when
 * t's turn comes (possibly before publish_turn_take returns, never before
 * publish_settle); t stays owned by the caller and must live until it has
 * called publish_turn_end, which ends the running turn or takes a waiting one
 * out of the queue. */
struct publish_turn {
	void (*start)(struct publish_turn *t);
	/* May be NULL: called instead of start when the node stops before
	 * the turn could come (publish_stop); t is out of the queue then. */
	void (*cancel)(struct publish_turn *t);
	struct publish_turn *next;
};
void publish_turn_take(struct node *n, struct publish_turn *t);
void publish_turn_end(struct node *n, struct publish_turn *t);

/* At the node's stop: the turns still waiting because this city may not
 * number records yet (restoring, or before its first reconciliation) will
 * never start; those that can be are cancelled (a publish job answers
 * LCF_ECLOSED and is freed). Turns that can start run as usual. */
void publish_stop(struct node *n);

/* Fills a draft's envelope (author, which must outlive c's use, timestamp; seq
 * 1 for now) and checks it: validation against the catalog, its size with the
 * widest seq (*size: the most bytes its content can take), and whether it
 * equals the current version (*unchanged, with that version's id in id).
 * Thread-safe (the pool runs it). 0, or LCF_EVALIDATE, LCF_ETOOBIG or
 * LCF_ENOTFOUND (a deletion of nothing) with verr saying why. */
int publish_check_draft(struct node *n, const struct catalog *cat,
    const struct lineage *lin, Lcf__Content *c, const uint8_t author[32],
    int64_t timestamp, int *unchanged, uint8_t id[32], size_t *size,
    struct verr *verr);

/* A node whose own records may still come back from peers (its database was
 * lost) must not number new records yet: jobs submitted before this call wait
 * in the queue. main() calls it at start-up, or once the first reconciliation
 * has run. */
void publish_settle(struct node *n);

/* Blocking variant for start-up (the loop is not running yet). */
int publish_now(struct node *n, Lcf__Content **drafts, size_t count,
    struct publish_result *res);

#endif
