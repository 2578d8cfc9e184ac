// SPDX-License-Identifier: Apache-2.0
// lcctl report: the draft of a city's progress report for a reporting cycle.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcctl.h"

static const char usage[] =
    "Usage: lcctl [-d DIR] report --city ID [--from YYYY] [--to YYYY]\n"
    "                          [--json | --markdown]\n"
    "\n"
    "Gathers what the city's progress report to its network needs for a\n"
    "reporting cycle: its profile; each indicator of the catalog in force with\n"
    "its latest value in the cycle, the value of the period before and the\n"
    "change; the practices it published in the cycle, by KFLC sub-area; and\n"
    "the indicators it has not reported for the cycle.\n"
    "\n"
    "The cycle is whole calendar years. By default it is the last two before\n"
    "this one (in 2026: 2024 to 2025). Choose another with --from and --to\n"
    "(--from 2022 --to 2023); with only one of them the cycle is the two years\n"
    "from or to it. A value counts when its period overlaps the cycle; a\n"
    "practice when its current version was published in it.\n"
    "\n"
    "Options:\n"
    "  --city ID     a city id from `lcctl city list`, or a unique prefix of at\n"
    "                least 6 hex digits (required)\n"
    "  --from YYYY   the cycle's first year\n"
    "  --to YYYY     the cycle's last year\n"
    "  --markdown    the draft as a Markdown document (headings, tables)\n"
    "  --json        the draft as one JSON object (the HTTP API's\n"
    "                /api/v1/cities/ID/report answer)\n"
    "  -h, --help    show this help\n";

static void
print_summary(const json_t *r)
{
	static const struct table_col cols[] = {
		{ "INDICATOR", 0 }, { "LATEST", COL_RIGHT }, { "PERIOD", 0 },
		{ "PREVIOUS", COL_RIGHT }, { "PERIOD", 0 }, { "CHANGE", COL_RIGHT },
	};
	const json_t *cy = json_object_get(r, "cycle"), *tot, *x, *l, *p, *g;
	struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
	const char *name = json_string_value(json_object_get(r, "name"));
	char *clean = render_clean(name ? name : json_string_value(
	    json_object_get(r, "id")));
	size_t i;

	tot = json_object_get(r, "totals");
	printf("Progress report %lld-%lld: %s\n", (long long)json_integer_value(
	    json_object_get(cy, "from")), (long long)json_integer_value(
	    json_object_get(cy, "to")), clean);
	free(clean);
	printf("%lld of %lld indicators reported; %lld practices published\n\n",
	    (long long)json_integer_value(json_object_get(tot, "reported")),
	    (long long)json_integer_value(json_object_get(tot, "indicators")),
	    (long long)json_integer_value(json_object_get(tot, "practices")));
	json_array_foreach(json_object_get(r, "indicators"), i, x) {
		char a[48] = "", b[48] = "", c[48] = "";
		const char *cells[6];

		if (json_is_null(l = json_object_get(x, "latest")))
			continue;
		p = json_object_get(x, "previous");
		snprintf(a, sizeof(a), "%g", json_number_value(json_object_get(l,
		    "value")));
		if (!json_is_null(p))
			snprintf(b, sizeof(b), "%g", json_number_value(
			    json_object_get(p, "value")));
		if (json_is_number(json_object_get(x, "change")))
			snprintf(c, sizeof(c), "%+g", json_number_value(
			    json_object_get(x, "change")));
		cells[0] = json_string_value(json_object_get(x, "id"));
		cells[1] = a;
		cells[2] = json_string_value(json_object_get(l, "period"));
		cells[3] = b;
		cells[4] = json_string_value(json_object_get(p, "period"));
		cells[5] = c;
		table_add(t, cells);
	}
	if (table_rows(t) > 0)
		table_print(t, stdout);
	table_free(t);
	json_array_foreach(json_object_get(json_object_get(r, "practices"),
	    "by_area"), i, g)
		printf("%sPractices in %s: %zu\n", i ? "" : "\n", json_string_value(
		    json_object_get(g, "area")), json_array_size(json_object_get(g,
		    "items")));
	printf("\nNot reported: %zu indicators", json_array_size(json_object_get(r,
	    "not_reported")));
	json_array_foreach(json_object_get(r, "not_reported"), i, x)
		printf("%s%s", i ? " " : ": ", json_string_value(json_object_get(x,
		    "id")));
	printf("\n(--markdown for the whole draft)\n");
}

int
cmd_report(struct lcctl *ctx, int argc, char **argv)
{
	static const struct lcctl_viewopt opts[] = {
		{ "city", 1, "id", NULL },
		{ "from", 1, NULL, NULL },
		{ "to", 1, NULL, NULL },
		{ "markdown", 0, "format", "markdown" },
	};
	json_t *args = json_object(), *r = NULL;
	int markdown, ret;

	if ((ret = lcctl_view_opts(ctx, argc, argv, usage, opts,
	    sizeof(opts) / sizeof(opts[0]), 0, args)) >= 0)
		goto out;
	markdown = json_object_get(args, "format") != NULL;
	if (json_object_get(args, "id") == NULL) {
		ret = lcctl_bad_usage(ctx, "give the city with --city ID (see "
		    "`lcctl city list`)");
		goto out;
	}
	if (markdown && ctx->json) {
		ret = lcctl_bad_usage(ctx, "--json or --markdown, not both");
		goto out;
	}
	ret = LCCTL_EXIT_ERR;
	if (client_view(ctx, "report", args, &r) < 0)
		goto out;
	if (markdown)
		fputs(json_string_value(json_object_get(r, "markdown")), stdout);
	else if (ctx->json)
		render_json(r);
	else
		print_summary(r);
	ret = LCCTL_EXIT_OK;
out:
	json_decref(r);
	json_decref(args);
	return ret;
}
