// SPDX-License-Identifier: Apache-2.0
// lcctl health: the node's state (ok, degraded, down) and reasons, as /readyz tells them; the exit status says which.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "http/health.h"
#include "lcctl.h"

static const char usage[] =
    "Usage: lcctl [-d DIR] health [--json]\n"
    "\n"
    "Says whether the node is ok, degraded or down, and why, as its /readyz\n"
    "answers: degraded when no configured peer is reachable, while the node\n"
    "catches up after its start, when its HTTP address could not be bound, or\n"
    "when this city's membership is not in force, or when the store is full;\n"
    "down when the store is not\n"
    "open or the node does not answer. For scripts and monitoring checks.\n"
    "\n"
    "Options:\n"
    "  --json       the JSON of /readyz: status, ready, reasons and checks\n"
    "               (no checks when the node does not answer)\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit status: 0 ok, 1 degraded, 2 down (or not answering, or bad usage).\n";

/* Copies the node's answer into h; LCF_EPROTO when it makes no sense. */
static int
from_reply(const Lcf__HealthReply *r, struct health *h)
{
	size_t i;

	memset(h, 0, sizeof(*h));
	if (!r->has_state || r->state > HEALTH_DOWN)
		return LCF_EPROTO;
	h->state = (enum health_state)r->state;
	h->ready = r->has_ready && r->ready;
	for (i = 0; i < r->n_reasons && i < HEALTH_REASONS_MAX; i++)
		snprintf(h->reasons[i], sizeof(h->reasons[i]), "%s", r->reasons[i]);
	h->nreasons = i;
	h->store_open = r->store_open;
	h->store_full = r->store_full == NULL ? SPACE_OK :
	    strcmp(r->store_full, "disk") == 0 ? SPACE_DISK : SPACE_MAP;
	h->peers_configured = r->peers_configured;
	h->peers_connected = r->peers_connected;
	h->sync_running = r->sync_running;
	h->sync_records = r->sync_records;
	h->catching_up = r->catching_up;
	h->http_enabled = r->http_listen != NULL && strcmp(r->http_listen, "off") != 0;
	snprintf(h->http_listen, sizeof(h->http_listen), "%s",
	    r->http_listen != NULL ? r->http_listen : "off");
	snprintf(h->http_problem, sizeof(h->http_problem), "%s",
	    r->http_problem != NULL ? r->http_problem : "");
	h->federation = r->federation;
	h->member = r->member;
	return 0;
}

static void
print_health(const struct lcctl *ctx, const struct health *h, int answered)
{
	json_t *j;
	char *clean;
	size_t i;

	if (ctx->json) {
		j = health_json(h);
		if (!answered)
			json_object_del(j, "checks");
		render_json(j);
		json_decref(j);
		return;
	}
	printf("%s%s\n", health_state_name(h->state), h->ready ? "" :
	    " (not ready)");
	for (i = 0; i < h->nreasons; i++) {
		clean = render_clean(h->reasons[i]);
		printf("  - %s\n", clean);
		free(clean);
	}
}

int
cmd_health(struct lcctl *ctx, int argc, char **argv)
{
	Lcf__HealthRequest hq = LCF__HEALTH_REQUEST__INIT;
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__CtlResponse *resp = NULL;
	struct health h;
	int ret, answered = 0;

	if ((ret = lcctl_simple_opts(ctx, argc, argv, usage, 1)) >= 0)
		return ret;
	if ((ret = lcctl_args(ctx, argc, argv, NULL, usage)) != LCCTL_EXIT_OK)
		return ret;
	req.op_case = LCF__CTL_REQUEST__OP_HEALTH;
	req.health = &hq;
	/* A node that does not answer is down: client_call said why. */
	if (client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY_HEALTH, NULL, 0,
	    &resp) == 0) {
		if (resp->health != NULL && from_reply(resp->health, &h) == 0)
			answered = 1;
		else
			lcctl_err("lcnode sent an unexpected answer");
	}
	if (!answered) {
		memset(&h, 0, sizeof(h));
		health_add(&h, HEALTH_DOWN, "lcnode of %s gave no answer on its "
		    "admin socket: see lcctl's message on standard error",
		    ctx->dir);
	}
	print_health(ctx, &h, answered);
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return h.state == HEALTH_OK ? 0 : h.state == HEALTH_DEGRADED ? 1 : 2;
}
