/* SPDX-License-Identifier: Apache-2.0 */
/* One city as the views show it: finding it by id or prefix, its membership
 * and the summary every city answer starts with (view "city", city.c). */
#ifndef LCF_VIEW_CITY_H
#define LCF_VIEW_CITY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/lineage.h"

struct node;
struct view_error;
struct view_records;

/* A city named by hex (64 hex digits, or a unique prefix of at least 6 among
 * the authors with records here) to the keys of its line, oldest first, into
 * line (*nline of them, the newest last). param names the argument in e.
 * 0, or LCF_EINVAL (400: malformed, ambiguous) or LCF_ENOTFOUND (404). */
int view_city_resolve(struct node *n, const struct lineage *lin,
    const char *hex, const char *param, uint8_t line[LINEAGE_MAX][32],
    size_t *nline, struct view_error *e);

/* A city's membership under its newest key in one word: "open" (the node
 * belongs to no federation), "none" (no record of it), "admitted",
 * "expired" or "revoked". Static storage. */
const char *view_city_state(struct node *n, const uint8_t city[32]);

/* {"state": "open"|"none"|"admitted"|"expired"|"revoked", admitted_ms,
 * expires_ms, revoked_ms, reason} of a city under its newest key. New
 * reference. */
json_t *view_city_membership(struct node *n, const uint8_t city[32]);

/* {"id", "name", "country", "self", "previous_ids", "membership"} of the
 * city whose line holds author, under its newest key. New reference. */
json_t *view_city_summary(struct view_records *r, const uint8_t author[32]);

#endif
