/* SPDX-License-Identifier: Apache-2.0 */
/* A city's line of keys: the keys it used in turn, linked by succession records. */
#ifndef LCF_LINEAGE_H
#define LCF_LINEAGE_H

#include <stddef.h>
#include <stdint.h>

#include "lcf.pb-c.h"

struct node;
struct store;
struct lineage;

/* Most keys one line holds; a longer chain is cut (it would take a city a
 * rotation a year for decades). */
#define LINEAGE_MAX 16

/* A snapshot of every key hand-over the node has stored (member.c). Take it
 * from the loop; it never changes afterwards, so any thread may read it until
 * lineage_free. Never NULL. */
struct lineage *lineage_snapshot(struct node *n);
/* Accepts NULL. */
void lineage_free(struct lineage *l);

/* 1 when no key has handed over: every line is one key long. */
int lineage_empty(const struct lineage *l);
/* The keys of key's line, oldest first, into out (at most LINEAGE_MAX);
 * returns how many (at least 1: the key itself). */
size_t lineage_line(const struct lineage *l, const uint8_t key[32],
    uint8_t out[LINEAGE_MAX][32]);
/* The newest key of key's line (key itself when it never handed over). */
void lineage_head(const struct lineage *l, const uint8_t key[32],
    uint8_t head[32]);
/* 1 when a later key of c's author's line holds a current version (a
 * tombstone included) of c's (kind, key): there the successor's version wins,
 * so lists show c's key once. Reads the store; thread-safe. */
int lineage_shadowed(const struct lineage *l, struct store *s,
    const Lcf__Content *c);
/* 1 when the store holds a current succession record by which key from
 * handed over to key to; else 0. */
int lineage_handed_over(struct store *s, const uint8_t from[32],
    const uint8_t to[32]);

#endif
