// SPDX-License-Identifier: Apache-2.0
// Temporary: the handlers other files will hold (health.c, metrics.c, sse.c).
#include "http/http_int.h"

void health_live(struct http_call *c) { answer_text(c, 200, "application/json", "{\"status\":\"ok\"}\n", 16); }
void health_ready(struct http_call *c) { answer_text(c, 200, "application/json", "{\"status\":\"ok\"}\n", 16); }
void metrics_answer(struct http_call *c) { answer_text(c, 200, "text/plain", "", 0); }
struct sse *sse_new(struct http *h) { (void)h; return NULL; }
void sse_free(struct sse *s) { (void)s; }
void sse_on_event(struct http *h, const struct events_event *ev) { (void)h; (void)ev; }
void sse_answer(struct http_call *c) { answer_problem(c, 503, NULL, "not yet"); }
