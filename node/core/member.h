/* SPDX-License-Identifier: Apache-2.0 */
/* Federation membership: who may write, and link admission. */
#ifndef LCF_MEMBER_H
#define LCF_MEMBER_H

#include <stddef.h>
#include <stdint.h>

#include "lcf.pb-c.h"
#include "peer.pb-c.h"

struct events_event;
struct node;

enum member_verdict {
	MEMBER_ACCEPT = 0,     /* store and forward */
	MEMBER_HOLD = 1,       /* author not admitted (yet): keep aside, bounded
	                        * (write/held.c) until EVENTS_ADMITTED */
	MEMBER_REFUSE = 2,     /* never: revoked, expired, retired, wrong signer */
};

#define MEMBERS_CHECK_MS (30 * 1000)      /* links re-checked this often, or
                                           * twice per hold_time (lcnode.conf)
                                           * when that is shorter */

/* One city as the federation's records describe it. */
struct member_info {
	uint8_t city[32];
	int admitted;                  /* a membership record that is not withdrawn */
	int64_t admitted_ms, expires_ms;   /* expires 0: never */
	char name[201];
	char country[3];
	int revoked;
	int64_t revoked_ms;            /* records stamped from here on are refused */
	char reason[256];
	int has_successor, has_predecessor;
	uint8_t successor[32], predecessor[32];
	int observer;                  /* its membership admits an observer */
};

/* Builds the state from the store (the federation's records and every
 * succession); a node without `federation` gets an open, empty state. Runs
 * once at start, before peers. 0 or LCF_ESTORE with err set. */
int members_open(struct node *n, char *err, size_t errlen);
/* Starts the timers: the one that tells of expiries (EVENTS_EXPIRED, every
 * MEMBERS_CHECK_MS or twice per hold_time), and the one that tells what
 * stored records changed. After the subscriptions (main.c). */
void members_start(struct node *n);
/* Stops the timers (close callbacks run in the loop). */
void members_stop(struct node *n);
void members_free(struct node *n);

/* 1 when the node belongs to a federation. */
int members_enabled(const struct node *n);

/* The verdict on a verified, valid record (c its content; only author, seq,
 * kind and timestamp are read): why gets a sentence for HOLD and REFUSE. Call
 * from the loop. */
enum member_verdict members_judge(struct node *n, const Lcf__Content *c,
    char *why, size_t whylen);

/* Whether this city may publish now: LCF_EPERM with why when the federation
 * revoked it, its membership expired or its key was retired. A city not yet
 * admitted may: its records wait here and spread once it is. */
int members_self_check(struct node *n, char *why, size_t whylen);

/* The STORED subscriber (arg: the node): follows the federation's records
 * (membership, revocation, catalog) and key successions. What they change is
 * emitted from the loop soon after, never inside this call, in this order:
 * EVENTS_ADMITTED for each city admitted (and not expired or revoked by now),
 * EVENTS_OWN_CHANGED, then EVENTS_REVOKED for each city revoked; a
 * federation catalog record makes the catalog in force change first. */
void members_on_event(void *arg, const struct events_event *ev);

/* Checks a peer's Hello on a federation node: its federation and a valid
 * membership (the record in Hello.membership, or one held here). 0, or
 * LCF_EPERM with why set. An open node accepts everyone. *learn is set (0
 * returned) when the Hello showed a membership this node did not know: it
 * points into h, and the caller stores it like any record (ingest_submit);
 * else NULL. */
int members_check_hello(struct node *n, const Lcf__Hello *h,
    const uint8_t **learn, size_t *learn_len, char *why, size_t whylen);
/* 0 when the city may keep a link now, else LCF_EPERM with why set. */
int members_link_ok(struct node *n, const uint8_t city[32], char *why,
    size_t whylen);

/* This city's current membership record (SignedRecord bytes, new buffer the
 * caller frees) for its Hello; LCF_ENOTFOUND when it has none. */
int members_own_record(struct node *n, uint8_t **raw, size_t *len);

/* 1 when records by author are shown in lists (not revoked, or the node is
 * open). A store_query keep function: arg is the node. */
int members_visible(void *arg, const uint8_t *raw, size_t len);
/* 1 when any city is revoked (lists need the filter at all). */
int members_any_revoked(const struct node *n);
/* 1 when city's current membership admits it as an observer (PROTOCOL 5.8):
 * lists and counts of cities leave it out. */
int members_is_observer(const struct node *n, const uint8_t city[32]);
/* 1 when some current membership admits an observer. */
int members_any_observer(const struct node *n);

/* The cities the federation has admitted or revoked, by id: a new array the
 * caller frees; the federation's name into name (may be empty). */
int members_list(struct node *n, struct member_info **out, size_t *count,
    char *name, size_t namelen);
/* One city's entry (0), or LCF_ENOTFOUND. */
int members_get(struct node *n, const uint8_t city[32], struct member_info *out);
/* Every key hand-over stored: pairs[i][0] handed over to pairs[i][1]. A new
 * array the caller frees (NULL when count is 0). Call from the loop. */
void members_successions(struct node *n, uint8_t (**pairs)[2][32],
    size_t *count);

#endif
