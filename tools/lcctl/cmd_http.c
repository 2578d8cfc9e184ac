// SPDX-License-Identifier: Apache-2.0
// lcctl http: the node's HTTP face from its data directory (the operator token), offline.
#include <stdio.h>

#include <sodium.h>

#include "base/error.h"
#include "core/config.h"
#include "http/token.h"
#include "lcctl.h"

static const char token_usage[] =
    "Usage: lcctl -d DIR http token\n"
    "\n"
    "Prints the node's HTTP operator token (DIR/http.token, made by lcnode at\n"
    "its first start), one line on standard output. Operator data over HTTP\n"
    "(peers, sync state, /metrics, link events) needs it:\n"
    "  curl -H \"Authorization: Bearer $(lcctl -d DIR http token)\" URL\n"
    "Refuses a token file that group or others may read. Needs no running node.\n"
    "\n"
    "Options:\n"
    "  -h, --help   show this help\n";

static int
http_token(struct lcctl *ctx, int argc, char **argv)
{
	char token[HTTP_TOKEN_HEX + 1], err[600];
	int ret, rc;

	if ((ret = lcctl_simple_opts(ctx, argc, argv, token_usage, 0)) >= 0)
		return ret;
	if ((ret = lcctl_args(ctx, argc, argv, NULL, token_usage)) != LCCTL_EXIT_OK)
		return ret;
	rc = http_token_load(ctx->dir, 0, token, err, sizeof(err));
	if (rc == LCF_ENOTFOUND) {
		lcctl_err("%s/%s: no HTTP token yet: start lcnode once to create "
		    "it (`lcnode -d %s`)", ctx->dir, CONFIG_HTTP_TOKEN_FILE, ctx->dir);
		return LCCTL_EXIT_ERR;
	}
	if (rc < 0) {
		lcctl_err("%s", err);
		return LCCTL_EXIT_ERR;
	}
	printf("%s\n", token);
	sodium_memzero(token, sizeof(token));
	return LCCTL_EXIT_OK;
}

static const struct lcctl_cmd http_cmds[] = {
	{ "token", http_token, "print the HTTP operator token (offline)" },
};

int
cmd_http(struct lcctl *ctx, int argc, char **argv)
{
	return lcctl_dispatch(ctx, http_cmds, sizeof(http_cmds) / sizeof(http_cmds[0]),
	    argc, argv);
}
