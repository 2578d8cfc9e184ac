// SPDX-License-Identifier: Apache-2.0
// lcctl federation status: every member and observer as the node sees it (the federation_status view).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/csvout.h"
#include "lcctl.h"
#include "base/util.h"

static const char usage[] =
    "Usage: lcctl [-d DIR] federation status [--measure] [--json|--csv]\n"
    "\n"
    "Asks the node (no federation key needed) how the federation looks from it:\n"
    "one row per member and observer (on an open node, per city it knows) with\n"
    "when it was last seen (its newest status beacon, or a handshake), its\n"
    "software version, the records it holds, whether its set agrees with this\n"
    "node's (and if not by how many records its count differs), whether it is\n"
    "linked now, and warnings: inactive (no beacon for 7 days), admission\n"
    "expiring within 30 days, forks, two nodes running with one key. A summary\n"
    "line comes first.\n"
    "\n"
    "How far apart a node's set is from this node's comes from its beacon: the\n"
    "difference of the two counts, a lower bound as of the beacon. --measure\n"
    "asks the node to count it now with every peer it is linked to (protocol\n"
    "version 3; a reconciliation that transfers nothing, 8 at a time, at most 5 s\n"
    "each): the records only this node holds and only the peer holds, exactly\n"
    "(or estimated, beyond about 40,000 differences).\n"
    "\n"
    "Options:\n"
    "  --measure        count the differences with the linked peers now\n"
    "  --csv            one row per node (RFC 4180, as every list's --csv)\n"
    "  --json           one JSON object (the HTTP API's\n"
    "                   /api/v1/federation/status answer)\n"
    "  -h, --help       show this help\n";

static const char *
num(const json_t *v, char *buf, size_t len)
{
	if (!json_is_integer(v))
		return "-";
	snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	return buf;
}

static void
print_summary(const json_t *st)
{
	const json_t *s = json_object_get(st, "summary"), *v;
	const char *k;
	int first = 1;

	printf("%lld nodes (%lld cities, %lld observers): %lld reachable, %lld "
	    "agreeing with this node, %lld inactive, %lld with warnings; versions:",
	    (long long)json_integer_value(json_object_get(s, "nodes")),
	    (long long)json_integer_value(json_object_get(s, "cities")),
	    (long long)json_integer_value(json_object_get(s, "observers")),
	    (long long)json_integer_value(json_object_get(s, "reachable")),
	    (long long)json_integer_value(json_object_get(s, "agreeing")),
	    (long long)json_integer_value(json_object_get(s, "inactive")),
	    (long long)json_integer_value(json_object_get(s, "warnings")));
	json_object_foreach((json_t *)json_object_get(s, "versions"), k, v) {
		printf("%s %s x%lld", first ? "" : ",", k,
		    (long long)json_integer_value(v));
		first = 0;
	}
	printf("%s\n\n", first ? " none known" : "");
}

/* A measured row: "apart: 12 here only, 0 there only (measured 0.2 s ago)". */
static const char *
apart(const json_t *r, char *buf, size_t len)
{
	const char *kind = json_string_value(json_object_get(r, "apart"));
	json_int_t here = json_integer_value(json_object_get(r, "only_here"));
	json_int_t there = json_integer_value(json_object_get(r, "only_there"));
	double ago = (double)(now_ms() -
	    json_integer_value(json_object_get(r, "apart_ms"))) / 1000.0;
	const char *how = kind == NULL ? "" : strcmp(kind, "estimate") == 0 ?
	    "about " : strcmp(kind, "lower_bound") == 0 ? "at least " : "";

	if (ago < 0)
		ago = 0;
	if (here == 0 && there == 0 && *how == '\0')
		snprintf(buf, len, "agrees (measured %.1f s ago)", ago);
	else
		snprintf(buf, len, "apart: %s%lld here only, %lld there only "
		    "(measured %.1f s ago)", how, (long long)here, (long long)there,
		    ago);
	return buf;
}

static const char *
agreement(const json_t *r, char *buf, size_t len)
{
	const json_t *a = json_object_get(r, "agrees");
	json_int_t d = json_integer_value(json_object_get(r, "difference"));
	const char *err = json_string_value(json_object_get(r, "measure_error"));

	if (json_is_true(json_object_get(r, "measured")))
		return apart(r, buf, len);
	if (err != NULL && !json_is_boolean(a)) {
		snprintf(buf, len, "not measured: %s", err);
		return buf;
	}
	if (!json_is_boolean(a))
		return json_is_integer(json_object_get(r, "beacon_ms")) ?
		    "unknown" : "no beacon";
	if (json_is_true(a))
		return "agrees";
	if (d == 0)
		snprintf(buf, len, "differs");
	else
		snprintf(buf, len, "differs: %lld %s", (long long)(d > 0 ? d : -d),
		    d > 0 ? "fewer" : "more");
	if (err != NULL) {
		size_t at = strlen(buf);

		snprintf(buf + at, len - at, " (not measured: %s)", err);
	}
	return buf;
}

static void
print_rows(const json_t *st)
{
	static const struct table_col cols[] = {
		{ "CITY", COL_FLEX }, { "ROLE", 0 }, { "STATE", 0 }, { "LAST SEEN", 0 },
		{ "VERSION", 0 }, { "RECORDS", COL_RIGHT }, { "SET", 0 },
		{ "LINKED", 0 }, { "WARNINGS", COL_FLEX },
	};
	struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
	const json_t *r, *w;
	size_t i, k;

	json_array_foreach(json_object_get(st, "items"), i, r) {
		const char *name = json_string_value(json_object_get(r, "name"));
		const char *ver = json_string_value(json_object_get(r, "version"));
		char *label, seen[40], recs[24], agr[200], *warn = NULL;
		const char *cells[9];
		size_t wl = 0;
		FILE *f = open_memstream(&warn, &wl);

		label = render_clean(name != NULL && *name ? name :
		    json_string_value(json_object_get(r, "id")));
		if (json_is_integer(json_object_get(r, "last_seen_ms")))
			render_time(json_integer_value(json_object_get(r,
			    "last_seen_ms")), seen, sizeof(seen));
		else
			snprintf(seen, sizeof(seen), "never");
		json_array_foreach(json_object_get(r, "warnings"), k, w)
			fprintf(f, "%s%s", k ? "; " : "", json_string_value(w));
		fclose(f);
		cells[0] = label;
		cells[1] = json_string_value(json_object_get(r, "role"));
		cells[2] = json_is_true(json_object_get(r, "self")) ? "this node" :
		    json_string_value(json_object_get(r, "state"));
		cells[3] = seen;
		cells[4] = ver != NULL ? ver : "-";
		cells[5] = num(json_object_get(r, "records"), recs, sizeof(recs));
		cells[6] = agreement(r, agr, sizeof(agr));
		cells[7] = json_is_true(json_object_get(r, "reachable")) ? "yes" : "no";
		cells[8] = warn;
		table_add(t, cells);
		free(label);
		free(warn);
	}
	table_print(t, stdout);
	table_free(t);
}

int
cmd_federation_status(struct lcctl *ctx, int argc, char **argv)
{
	static const struct lcctl_viewopt opts[] = {
		{ "measure", 0, NULL, NULL },
	};
	json_t *args = json_object(), *st = NULL;
	int ret;

	if ((ret = lcctl_view_opts(ctx, argc, argv, usage, opts,
	    sizeof(opts) / sizeof(opts[0]), 1, args)) >= 0)
		goto out;
	ret = LCCTL_EXIT_ERR;
	if (ctx->json) {
		if (client_view_print(ctx, "federation_status", args) == 0)
			ret = LCCTL_EXIT_OK;
		goto out;
	}
	if (client_view(ctx, "federation_status", args, &st) < 0)
		goto out;
	if (ctx->csv) {
		if (csvout_json_rows(stdout, json_object_get(st, "items")) != 0) {
			lcctl_err("cannot write the CSV: %s", strerror(errno));
			goto out;
		}
	} else {
		print_summary(st);
		print_rows(st);
	}
	ret = LCCTL_EXIT_OK;
out:
	json_decref(st);
	json_decref(args);
	return ret;
}
