// SPDX-License-Identifier: Apache-2.0
// lcctl catalog: the indicator catalog the node holds values against.
#include <stdio.h>
#include <stdlib.h>

#include "lcctl.h"
#include "model/pbjson.h"

static const char list_usage[] =
    "Usage: lcctl [-d DIR] catalog list [--json]\n"
    "\n"
    "Lists the indicators of the catalog in force: the ids `indicator set`\n"
    "accepts, with their KFLC sub-area, name and unit. The first line says\n"
    "where it comes from: on a federation node, the federation's catalog\n"
    "records once it has published any (`lcctl federation catalog`), else the\n"
    "catalog file (config/catalog.json or `catalog =` in lcnode.conf).\n"
    "\n"
    "Options:\n"
    "  --json       a JSON array of catalog entries (with definitions); the\n"
    "               source is on standard error\n"
    "  -h, --help   show this help\n";

static int
catalog_list(struct lcctl *ctx, int argc, char **argv)
{
	static const struct table_col cols[] = {
		{ "ID", 0 }, { "SUB-AREA", 0 }, { "NAME", COL_FLEX }, { "UNIT", COL_FLEX },
	};
	Lcf__CatalogRequest cr = LCF__CATALOG_REQUEST__INIT;
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__CtlResponse *resp = NULL;
	const Lcf__CatalogIndicator *ci;
	const char *cells[4];
	struct table *t = NULL;
	json_t *arr;
	size_t i;
	int ret;

	if ((ret = lcctl_simple_opts(ctx, argc, argv, list_usage, 1)) >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, NULL, NULL)) != LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	req.op_case = LCF__CTL_REQUEST__OP_CATALOG;
	req.catalog = &cr;
	if (client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY_CATALOG, NULL, 0,
	    &resp) < 0)
		goto out;
	fprintf(ctx->json ? stderr : stdout, "catalog: %s (%zu indicators)\n",
	    resp->catalog->source ? resp->catalog->source : "?",
	    resp->catalog->n_indicators);
	if (ctx->json) {
		arr = json_array();
		for (i = 0; i < resp->catalog->n_indicators; i++)
			json_array_append_new(arr,
			    pbjson_encode(&resp->catalog->indicators[i]->base));
		render_json(arr);
		json_decref(arr);
	} else {
		t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
		for (i = 0; i < resp->catalog->n_indicators; i++) {
			ci = resp->catalog->indicators[i];
			cells[0] = ci->id;
			cells[1] = ci->sub_area;
			cells[2] = ci->name;
			cells[3] = ci->unit;
			table_add(t, cells);
		}
		if (table_rows(t) == 0)
			fprintf(stderr, "the catalog is empty\n");
		else
			table_print(t, stdout);
	}
	ret = LCCTL_EXIT_OK;
out:
	table_free(t);
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret;
}

static const struct lcctl_cmd catalog_cmds[] = {
	{ "list", catalog_list, "list the indicators of the catalog" },
};

int
cmd_catalog(struct lcctl *ctx, int argc, char **argv)
{
	return lcctl_dispatch(ctx, catalog_cmds,
	    sizeof(catalog_cmds) / sizeof(catalog_cmds[0]), argc, argv);
}
