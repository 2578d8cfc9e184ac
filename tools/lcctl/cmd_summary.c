// SPDX-License-Identifier: Apache-2.0
// lcctl indicator summary: the federation's median of each catalog indicator
// for each period, over the cities that reported it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/csvout.h"
#include "lcctl.h"

static const char usage[] =
    "Usage: lcctl [-d DIR] indicator summary [--indicator ID] [--period P]\n"
    "           [--json | --csv]\n"
    "\n"
    "For each indicator of the catalog in force and each period a city\n"
    "reported it for: how many cities reported a value, and the median, least\n"
    "and greatest of their values. A city counts once (its newest value) and\n"
    "only with its total (a value broken down by sex, age band or group does\n"
    "not count); revoked cities do not count. The median of an even number of\n"
    "values is the mean of the middle two. The same as GET\n"
    "/api/v1/indicators/summary.\n"
    "\n"
    "Options:\n"
    "  --indicator ID   only this indicator\n"
    "  --period P       only this period, exactly as written (2024, 2024-Q3)\n"
    "  --json           the answer as one JSON object\n"
    "  --csv            one row per indicator and period (RFC 4180)\n"
    "  -h, --help       show this help\n";

static void
print_table(const json_t *ans)
{
	static const struct table_col cols[] = {
		{ "INDICATOR", COL_FLEX }, { "PERIOD", 0 }, { "CITIES", COL_RIGHT },
		{ "MEDIAN", COL_RIGHT }, { "MIN", COL_RIGHT }, { "MAX", COL_RIGHT },
	};
	struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
	const json_t *x;
	char num[4][40];
	size_t i;

	json_array_foreach(json_object_get(ans, "items"), i, x) {
		const char *cells[6];

		snprintf(num[0], sizeof(num[0]), "%lld", (long long)
		    json_integer_value(json_object_get(x, "cities")));
		csvout_number(json_number_value(json_object_get(x, "median")),
		    num[1], sizeof(num[1]));
		csvout_number(json_number_value(json_object_get(x, "min")),
		    num[2], sizeof(num[2]));
		csvout_number(json_number_value(json_object_get(x, "max")),
		    num[3], sizeof(num[3]));
		cells[0] = json_string_value(json_object_get(x, "indicator"));
		cells[1] = json_string_value(json_object_get(x, "period"));
		cells[2] = num[0];
		cells[3] = num[1];
		cells[4] = num[2];
		cells[5] = num[3];
		table_add(t, cells);
	}
	if (table_rows(t) == 0)
		printf("No city reported a value of the catalog's indicators.\n");
	else
		table_print(t, stdout);
	table_free(t);
}

int
indicator_summary(struct lcctl *ctx, int argc, char **argv)
{
	static const struct lcctl_viewopt opts[] = {
		{ "indicator", 1, NULL, NULL },
		{ "period", 1, NULL, NULL },
	};
	json_t *args = json_object(), *ans = NULL;
	int ret;

	if ((ret = lcctl_view_opts(ctx, argc, argv, usage, opts,
	    sizeof(opts) / sizeof(opts[0]), 1, args)) >= 0)
		goto out;
	ret = LCCTL_EXIT_ERR;
	if (client_view(ctx, "indicator_summary", args, &ans) < 0)
		goto out;
	if (ctx->json)
		render_json(ans);
	else if (ctx->csv)
		csvout_json_rows(stdout, json_object_get(ans, "items"));
	else
		print_table(ans);
	ret = LCCTL_EXIT_OK;
out:
	json_decref(ans);
	json_decref(args);
	return ret;
}
