/* SPDX-License-Identifier: Apache-2.0 */
/* The node's HTTP face ([http] in lcnode.conf): the read-only JSON API under
 * /api/v1/, live events, /metrics, /healthz and /readyz, served by h2o on the
 * node's own loop. */
#ifndef LCF_HTTP_H
#define LCF_HTTP_H

#include <stddef.h>

#include "core/events.h"

struct node;
struct http;

/* Starts serving as n->cfg says ([http] listen off: nothing, *out NULL). An
 * address that cannot be bound is not an error: the server stays without a
 * listener, says why in the log and in http_problem(). 0, or a negative code
 * with err set when the token file cannot be made or read (a key file left
 * readable by others, say). */
int http_start(struct node *n, struct http **out, char *err, size_t errlen);
/* Stops taking connections and ends the event streams; idle connections
 * close now, busy ones once answered, and h2o's timers with the last one, so
 * the loop can end (accepts NULL). */
void http_stop(struct http *h);
/* Frees h once the loop has ended (accepts NULL). */
void http_free(struct http *h);
/* Why the HTTP port is not served (a sentence), or NULL when it is, or when
 * [http] is off (h NULL). */
const char *http_problem(const struct http *h);
/* The base URL served (http://HOST:PORT), or "off" when h is NULL. */
const char *http_url(const struct http *h);
/* The event bus subscriber (arg: the node): answers' validity, the event
 * stream. */
void http_on_event(void *arg, const struct events_event *ev);

#endif
