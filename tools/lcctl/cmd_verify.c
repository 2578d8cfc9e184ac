// SPDX-License-Identifier: Apache-2.0
// lcctl verify: has the node check the signature of every stored record.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "lcctl.h"
#include "base/util.h"

static const char usage[] =
    "Usage: lcctl [-d DIR] verify [--json]\n"
    "\n"
    "Has the node check the signature and id of every stored record version.\n"
    "Exits 0 when all are valid, 1 when some are not (their ids are listed).\n"
    "\n"
    "Options:\n"
    "  --json       {\"checked\": N, \"failed\": N, \"failed_ids\": [...]}\n"
    "  -h, --help   show this help\n";

int
cmd_verify(struct lcctl *ctx, int argc, char **argv)
{
	Lcf__VerifyRequest vr = LCF__VERIFY_REQUEST__INIT;
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__CtlResponse *resp = NULL;
	const Lcf__VerifyReply *v;
	char hex[LCF_ID_HEX];
	json_t *o, *ids;
	size_t i;
	int ret;

	if ((ret = lcctl_simple_opts(ctx, argc, argv, usage, 1)) >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, NULL, NULL)) != LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	req.op_case = LCF__CTL_REQUEST__OP_VERIFY;
	req.verify = &vr;
	if (client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY_VERIFY, NULL, 0,
	    &resp) < 0)
		goto out;
	v = resp->verify;
	if (ctx->json) {
		o = json_object();
		ids = json_array();
		for (i = 0; i < v->n_failed_ids; i++)
			json_array_append_new(ids, json_string(render_id(
			    v->failed_ids[i].data, v->failed_ids[i].len, hex)));
		json_object_set_new(o, "checked", json_integer((json_int_t)v->checked));
		json_object_set_new(o, "failed", json_integer((json_int_t)v->failed));
		json_object_set_new(o, "failed_ids", ids);
		render_json(o);
		json_decref(o);
	} else if (v->failed == 0) {
		printf("verified %" PRIu64 " record%s: all signatures valid\n",
		    v->checked, v->checked == 1 ? "" : "s");
	} else {
		printf("verified %" PRIu64 " record%s: %" PRIu64 " failed\n",
		    v->checked, v->checked == 1 ? "" : "s", v->failed);
		for (i = 0; i < v->n_failed_ids; i++)
			printf("%s\n", render_id(v->failed_ids[i].data,
			    v->failed_ids[i].len, hex));
	}
	/* A failed record is the answer "no": exit 1 in both forms. */
	ret = v->failed == 0 ? LCCTL_EXIT_OK : LCCTL_EXIT_ERR;
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret;
}
