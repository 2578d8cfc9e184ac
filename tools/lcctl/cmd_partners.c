// SPDX-License-Identifier: Apache-2.0
// lcctl partners: the cities that could help this one with its challenges.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/csvout.h"
#include "lcctl.h"

static const char usage[] =
    "Usage: lcctl [-d DIR] partners [--area ID] [--limit N] [--json | --csv]\n"
    "\n"
    "Cities ranked by how well they answer the challenges of this city's\n"
    "profile (the KFLC sub-areas it wants help with, set with `lcctl city set\n"
    "--challenge 2.2`): whether they list the sub-area among their strengths,\n"
    "their practices in it, and the languages they share with this city. Each\n"
    "comes with its score and the reasons in words; README.md (\"For partner\n"
    "cities\") gives the formula. This city, revoked cities and cities whose\n"
    "membership lapsed are left out.\n"
    "\n"
    "Options:\n"
    "  --area ID    one sub-area instead of the profile's challenges, e.g. 2.2\n"
    "  --limit N    at most N cities (default 20, at most 1000)\n"
    "  --json       the answer as one JSON object (the HTTP API's\n"
    "               /api/v1/partners answer)\n"
    "  --csv        one row per city, for a spreadsheet (RFC 4180, UTF-8)\n"
    "  -h, --help   show this help\n";

static json_t *
csv_rows(const json_t *ans)
{
	json_t *rows = json_array(), *row;
	const json_t *it, *a;
	size_t i, k;
	char col[64];

	json_array_foreach(json_object_get(ans, "items"), i, it) {
		row = json_pack("{s:I, s:O, s:O, s:O, s:O, s:O, s:O, s:O}",
		    "rank", (json_int_t)(i + 1), "id", json_object_get(it, "id"),
		    "name", json_object_get(it, "name"),
		    "country", json_object_get(it, "country"),
		    "membership", json_object_get(it, "membership"),
		    "score", json_object_get(it, "score"),
		    "why", json_object_get(it, "why"),
		    "shared_languages", json_object_get(it, "shared_languages"));
		json_array_foreach(json_object_get(it, "areas"), k, a) {
			const char *id = json_string_value(json_object_get(a, "area"));

			snprintf(col, sizeof(col), "practices_%s", id);
			json_object_set(row, col, json_object_get(a, "practices"));
			snprintf(col, sizeof(col), "strength_%s", id);
			json_object_set(row, col, json_object_get(a, "strength"));
		}
		json_array_append_new(rows, row);
	}
	return rows;
}

static void
print_table(const json_t *ans)
{
	static const struct table_col cols[] = {
		{ "#", COL_RIGHT }, { "CITY", COL_FLEX }, { "CC", 0 },
		{ "SCORE", COL_RIGHT }, { "WHY", COL_FLEX },
	};
	struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
	const json_t *it, *x;
	char rank[24], score[24], *name, *why;
	size_t i;

	printf("Partners for");
	json_array_foreach(json_object_get(ans, "challenges"), i, x)
		printf("%s %s", i ? "," : "", json_string_value(x));
	printf(":\n\n");
	json_array_foreach(json_object_get(ans, "items"), i, it) {
		const char *cells[5];
		const char *n = json_string_value(json_object_get(it, "name"));

		snprintf(rank, sizeof(rank), "%zu", i + 1);
		snprintf(score, sizeof(score), "%lld", (long long)json_integer_value(
		    json_object_get(it, "score")));
		name = render_clean(n != NULL ? n : json_string_value(
		    json_object_get(it, "id")));
		why = render_clean(json_string_value(json_object_get(it, "why")));
		cells[0] = rank;
		cells[1] = name;
		cells[2] = json_string_value(json_object_get(it, "country"));
		cells[3] = score;
		cells[4] = why;
		table_add(t, cells);
		free(name);
		free(why);
	}
	if (table_rows(t) == 0)
		printf("No city known here lists these sub-areas among its strengths "
		    "or has practices in them.\n");
	else
		table_print(t, stdout);
	table_free(t);
}

int
cmd_partners(struct lcctl *ctx, int argc, char **argv)
{
	static const struct lcctl_viewopt opts[] = {
		{ "area", 1, NULL, NULL },
		{ "limit", 1, NULL, NULL },
	};
	json_t *args = json_object(), *ans = NULL, *rows;
	int ret;

	if ((ret = lcctl_view_opts(ctx, argc, argv, usage, opts,
	    sizeof(opts) / sizeof(opts[0]), 1, args)) >= 0)
		goto out;
	ret = LCCTL_EXIT_ERR;
	if (ctx->json) {
		if (client_view_print(ctx, "partners", args) == 0)
			ret = LCCTL_EXIT_OK;
		goto out;
	}
	if (client_view(ctx, "partners", args, &ans) < 0)
		goto out;
	if (ctx->csv) {
		rows = csv_rows(ans);
		csvout_json_rows(stdout, rows);
		json_decref(rows);
	} else {
		print_table(ans);
	}
	ret = LCCTL_EXIT_OK;
out:
	json_decref(ans);
	json_decref(args);
	return ret;
}
