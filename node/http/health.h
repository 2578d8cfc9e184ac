/* SPDX-License-Identifier: Apache-2.0 */
/* The node's health, as /readyz and `lcctl health` tell it. */
#ifndef LCF_HTTP_HEALTH_H
#define LCF_HTTP_HEALTH_H

#include <stddef.h>

#include <jansson.h>

struct node;

enum health_state {
	HEALTH_OK = 0,               /* ready */
	HEALTH_DEGRADED = 1,         /* serving, with something to see to */
	HEALTH_DOWN = 2,             /* not serving (lcctl: not reachable) */
};

#define HEALTH_REASONS_MAX 8

struct health {
	enum health_state state;
	int ready;                   /* /readyz answers 200 */
	/* What is wrong, one sentence each a person can act on. */
	char reasons[HEALTH_REASONS_MAX][300];
	size_t nreasons;
};

/* The node's health now; http_problem is http_problem(n->http) (NULL when
 * the HTTP port is served or off). */
void health_check(struct node *n, const char *http_problem, struct health *out);
/* {"status": "ok"|"degraded"|"down", "ready": bool, "reasons": [...], ...}.
 * New reference. */
json_t *health_json(const struct health *h);

#endif
