// SPDX-License-Identifier: Apache-2.0
// lcctl coverage: which cities reported which catalog indicators for a period.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/csvout.h"
#include "view/coverage.h"
#include "lcctl.h"
#include "base/xmalloc.h"

static const char usage[] =
    "Usage: lcctl [-d DIR] coverage --period P [--indicator ID] [--missing]\n"
    "           [--json | --csv]\n"
    "\n"
    "Which cities reported which indicators of the catalog in force for period\n"
    "P (2024, 2024-Q3 or 2023-09/2024-08). A value counts when its period\n"
    "overlaps P: 2024 takes 2024-Q3 and 2023-09/2024-08. The cities are the\n"
    "federation's members in force (on an open node, every city with a\n"
    "profile). Prints the totals per indicator and per city; --missing lists\n"
    "who has not reported what instead.\n"
    "\n"
    "Options:\n"
    "  --period P       the reporting period (required)\n"
    "  --indicator ID   one indicator of the catalog\n"
    "  --missing        the cities with indicators not reported, and which\n"
    "  --json           the whole matrix as one JSON object (the HTTP API's\n"
    "                   /api/v1/coverage answer)\n"
    "  --csv            the matrix as CSV: one row per city, one column per\n"
    "                   indicator holding its value; with --missing one row\n"
    "                   per city and indicator not reported\n"
    "  -h, --help       show this help\n";

static char *
city_label(const json_t *c)
{
	const char *name = json_string_value(json_object_get(c, "name"));
	const char *id = json_string_value(json_object_get(c, "id"));

	return render_clean(name != NULL ? name : id != NULL ? id : "?");
}

static void
print_missing(const json_t *cov)
{
	static const struct table_col cols[] = {
		{ "CITY", COL_FLEX }, { "CC", 0 }, { "MISSING", COL_RIGHT },
		{ "INDICATORS NOT REPORTED", COL_FLEX },
	};
	struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
	const json_t *c, *m;
	size_t i, k;

	json_array_foreach(json_object_get(cov, "cities"), i, c) {
		char *label = city_label(c), num[24], *list = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&list, &len);
		const char *cells[4];

		json_array_foreach(json_object_get(c, "missing"), k, m)
			fprintf(f, "%s%s", k ? " " : "", json_string_value(m));
		fclose(f);
		snprintf(num, sizeof(num), "%zu", json_array_size(json_object_get(c,
		    "missing")));
		cells[0] = label;
		cells[1] = json_string_value(json_object_get(c, "country"));
		cells[2] = num;
		cells[3] = list;
		table_add(t, cells);
		free(label);
		free(list);
	}
	if (table_rows(t) == 0)
		printf("Every city reported every indicator asked for %s.\n",
		    json_string_value(json_object_get(cov, "period")));
	else
		table_print(t, stdout);
	table_free(t);
}

static void
print_totals(const json_t *cov)
{
	static const struct table_col icols[] = {
		{ "INDICATOR", 0 }, { "AREA", 0 }, { "NAME", COL_FLEX },
		{ "REPORTED", COL_RIGHT }, { "MISSING", COL_RIGHT },
	};
	static const struct table_col ccols[] = {
		{ "CITY", COL_FLEX }, { "CC", 0 }, { "MEMBERSHIP", 0 },
		{ "REPORTED", COL_RIGHT },
	};
	const json_t *tot = json_object_get(cov, "totals"), *x;
	struct table *t = table_new(icols, sizeof(icols) / sizeof(icols[0]));
	json_int_t nind = json_integer_value(json_object_get(tot, "indicators"));
	char a[24], b[40];
	size_t i;

	printf("Coverage of %s: %lld of %lld values reported (%lld cities x %lld "
	    "indicators; catalog %s)\n\n",
	    json_string_value(json_object_get(cov, "period")),
	    (long long)json_integer_value(json_object_get(tot, "reported")),
	    (long long)json_integer_value(json_object_get(tot, "expected")),
	    (long long)json_integer_value(json_object_get(tot, "cities")),
	    (long long)nind, json_string_value(json_object_get(cov, "catalog")));
	json_array_foreach(json_object_get(cov, "indicators"), i, x) {
		const char *cells[5];

		snprintf(a, sizeof(a), "%lld", (long long)json_integer_value(
		    json_object_get(x, "reported")));
		snprintf(b, sizeof(b), "%lld", (long long)json_integer_value(
		    json_object_get(x, "missing")));
		cells[0] = json_string_value(json_object_get(x, "id"));
		cells[1] = json_string_value(json_object_get(x, "sub_area"));
		cells[2] = json_string_value(json_object_get(x, "name"));
		cells[3] = a;
		cells[4] = b;
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(t);
	printf("\n");
	t = table_new(ccols, sizeof(ccols) / sizeof(ccols[0]));
	json_array_foreach(json_object_get(cov, "cities"), i, x) {
		char *label = city_label(x);
		const char *cells[4];

		snprintf(b, sizeof(b), "%lld of %lld", (long long)json_integer_value(
		    json_object_get(x, "reported")), (long long)nind);
		cells[0] = label;
		cells[1] = json_string_value(json_object_get(x, "country"));
		cells[2] = json_string_value(json_object_get(x, "membership"));
		cells[3] = b;
		table_add(t, cells);
		free(label);
	}
	if (table_rows(t) == 0)
		printf("No city to cover yet.\n");
	else
		table_print(t, stdout);
	table_free(t);
}

int
cmd_coverage(struct lcctl *ctx, int argc, char **argv)
{
	static const struct lcctl_viewopt opts[] = {
		{ "period", 1, NULL, NULL },
		{ "indicator", 1, NULL, NULL },
		{ "missing", 0, NULL, NULL },
	};
	json_t *args = json_object(), *cov = NULL, *rows;
	int missing, ret;

	if ((ret = lcctl_view_opts(ctx, argc, argv, usage, opts,
	    sizeof(opts) / sizeof(opts[0]), 1, args)) >= 0)
		goto out;
	missing = json_object_get(args, "missing") != NULL;
	if (json_object_get(args, "period") == NULL) {
		ret = lcctl_bad_usage(ctx, "give the period to cover with --period, "
		    "such as --period 2024");
		goto out;
	}
	ret = LCCTL_EXIT_ERR;
	if (ctx->json) {
		if (client_view_print(ctx, "coverage", args) == 0)
			ret = LCCTL_EXIT_OK;
		goto out;
	}
	/* The tables and the pairs not reported need no values: the node
	 * leaves them out (a tenth of the bytes at 1,000 cities). */
	if (!ctx->csv || missing)
		json_object_set_new(args, "values", json_string("false"));
	if (client_view(ctx, "coverage", args, &cov) < 0)
		goto out;
	if (ctx->csv) {
		rows = view_coverage_rows(cov, missing);
		csvout_json_rows(stdout, rows);
		json_decref(rows);
	} else if (missing) {
		print_missing(cov);
	} else {
		print_totals(cov);
	}
	ret = LCCTL_EXIT_OK;
out:
	json_decref(cov);
	json_decref(args);
	return ret;
}
