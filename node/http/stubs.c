// SPDX-License-Identifier: Apache-2.0
// Temporary, while sse.c is written: weak stand-ins its real definitions
// replace (this file goes when it lands).
#include "http/http_int.h"

#define WEAK __attribute__((weak))

WEAK struct sse *sse_new(struct http *h) { (void)h; return NULL; }
WEAK void sse_free(struct sse *s) { (void)s; }
WEAK void sse_on_event(struct http *h, const struct events_event *ev) { (void)h; (void)ev; }
WEAK void sse_answer(struct http_call *c) { answer_problem(c, 503, NULL, "not yet"); }
