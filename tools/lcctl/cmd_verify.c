// SPDX-License-Identifier: Apache-2.0
// lcctl verify: has the node check the signature of every stored record,
// list the records it holds in quarantine and, with --deep, walk its whole
// database in a child process.
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "lcctl.h"
#include "base/util.h"

static const char usage[] =
    "Usage: lcctl [-d DIR] verify [--deep] [--json]\n"
    "\n"
    "Has the node check the signature and id of every stored record version.\n"
    "A record that fails is quarantined: moved aside, never served, fetched\n"
    "again from a peer that holds a good copy. Records in quarantine count as\n"
    "failed and are listed. Exits 0 when all are valid, 1 when some are not\n"
    "(their ids are listed) or the deep walk found damage.\n"
    "\n"
    "Options:\n"
    "  --deep       also walk every page and record of the database (in a\n"
    "               child process of the node: a damaged page cannot stop it)\n"
    "               and say what was found and what to do\n"
    "  --json       {\"checked\": N, \"failed\": N, \"failed_ids\": [...],\n"
    "               \"quarantined\": N, \"quarantined_ids\": [...], \"deep\": {...}}\n"
    "  -h, --help   show this help\n";

static int
verify_opts(struct lcctl *ctx, int argc, char **argv, int *deep)
{
	static const struct option opts[] = {
		{ "deep", no_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret = -1;

	while (ret < 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			ctx->json = 1;
		else if (c == 'D')
			*deep = 1;
		else
			ret = lcctl_common_opt(c, usage);
	}
	return ret;
}

static json_t *
ids_json(ProtobufCBinaryData *ids, size_t n)
{
	char hex[LCF_ID_HEX];
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(render_id(ids[i].data,
		    ids[i].len, hex)));
	return a;
}

static void
verify_json(const Lcf__VerifyReply *v)
{
	json_t *o = json_object();

	json_object_set_new(o, "checked", json_integer((json_int_t)v->checked));
	json_object_set_new(o, "failed", json_integer((json_int_t)v->failed));
	json_object_set_new(o, "failed_ids", ids_json(v->failed_ids,
	    v->n_failed_ids));
	json_object_set_new(o, "quarantined",
	    json_integer((json_int_t)v->quarantined));
	json_object_set_new(o, "quarantined_ids", ids_json(v->quarantined_ids,
	    v->n_quarantined_ids));
	if (v->has_deep_ok)
		json_object_set_new(o, "deep", json_pack("{s:b,s:I,s:I,s:s}",
		    "ok", v->deep_ok, "pages", (json_int_t)v->deep_pages,
		    "records", (json_int_t)v->deep_records, "report",
		    v->deep_report ? v->deep_report : ""));
	render_json(o);
	json_decref(o);
}

static void
verify_text(const Lcf__VerifyReply *v)
{
	char hex[LCF_ID_HEX];
	size_t i;

	if (v->failed == 0) {
		printf("verified %" PRIu64 " record%s: all signatures valid\n",
		    v->checked, v->checked == 1 ? "" : "s");
	} else {
		printf("verified %" PRIu64 " record%s: %" PRIu64 " failed\n",
		    v->checked, v->checked == 1 ? "" : "s", v->failed);
		for (i = 0; i < v->n_failed_ids; i++)
			printf("%s\n", render_id(v->failed_ids[i].data,
			    v->failed_ids[i].len, hex));
	}
	if (v->quarantined > 0) {
		printf("%" PRIu64 " in quarantine (damaged on disk: not served, "
		    "fetched again from a peer that holds a good copy):\n",
		    v->quarantined);
		for (i = 0; i < v->n_quarantined_ids; i++)
			printf("quarantined %s\n", render_id(
			    v->quarantined_ids[i].data,
			    v->quarantined_ids[i].len, hex));
	}
	if (v->has_deep_ok)
		printf("deep walk: %s: %s\n", v->deep_ok ? "sound" : "DAMAGED",
		    v->deep_report ? v->deep_report : "");
}

int
cmd_verify(struct lcctl *ctx, int argc, char **argv)
{
	Lcf__VerifyRequest vr = LCF__VERIFY_REQUEST__INIT;
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__CtlResponse *resp = NULL;
	const Lcf__VerifyReply *v;
	int ret, deep = 0;

	if ((ret = verify_opts(ctx, argc, argv, &deep)) >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, NULL, NULL)) != LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	if (deep) {
		vr.has_deep = 1;
		vr.deep = 1;
	}
	req.op_case = LCF__CTL_REQUEST__OP_VERIFY;
	req.verify = &vr;
	if (client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY_VERIFY, NULL, 0,
	    &resp) < 0)
		goto out;
	v = resp->verify;
	if (ctx->json)
		verify_json(v);
	else
		verify_text(v);
	/* A failed record or a damaged page is the answer "no": exit 1 in
	 * both forms. */
	ret = v->failed == 0 && (!v->has_deep_ok || v->deep_ok) ?
	    LCCTL_EXIT_OK : LCCTL_EXIT_ERR;
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret;
}
