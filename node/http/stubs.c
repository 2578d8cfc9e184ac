// SPDX-License-Identifier: Apache-2.0
// Temporary, while health.c, metrics.c and sse.c are written: weak stand-ins
// their real definitions replace (this file goes when they land).
#include "http/http_int.h"

#define WEAK __attribute__((weak))

WEAK void health_live(struct http_call *c) { answer_problem(c, 503, NULL, "not yet"); }
WEAK void health_ready(struct http_call *c) { answer_problem(c, 503, NULL, "not yet"); }
WEAK void metrics_answer(struct http_call *c) { answer_problem(c, 503, NULL, "not yet"); }
WEAK struct sse *sse_new(struct http *h) { (void)h; return NULL; }
WEAK void sse_free(struct sse *s) { (void)s; }
WEAK void sse_on_event(struct http *h, const struct events_event *ev) { (void)h; (void)ev; }
WEAK void sse_answer(struct http_call *c) { answer_problem(c, 503, NULL, "not yet"); }
