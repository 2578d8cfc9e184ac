// SPDX-License-Identifier: Apache-2.0
// lcctl indicator: set, import and list indicator values.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "model/csvout.h"
#include "lcctl.h"
#include "model/pbjson.h"
#include "base/util.h"
#include "model/validate.h"
#include "base/xmalloc.h"

static const char set_usage[] =
    "Usage: lcctl [-d DIR] indicator set INDICATOR PERIOD VALUE [OPTION...]\n"
    "\n"
    "Publishes one value of a catalog indicator for this city (`lcctl catalog\n"
    "list` shows the ids). PERIOD is a year (2024), a quarter (2024-Q3) or a\n"
    "range of months (2023-09/2024-08). Setting a value again for the same\n"
    "indicator, period and group publishes a new version of it.\n"
    "\n"
    "Options:\n"
    "  --unit U             unit of the value\n"
    "  --source S           where the value comes from\n"
    "  --status S           provisional, final or revised\n"
    "  --geo-level L        city, district or national_proxy\n"
    "  --note N             a note for readers\n"
    "  --numerator X        numerator of a ratio\n"
    "  --denominator X      denominator of a ratio\n"
    "  --baseline X         baseline value\n"
    "  --target X           target value\n"
    "  --sex S              disaggregation: sex\n"
    "  --age-band A         disaggregation: age band, e.g. 25-64\n"
    "  --group G            disaggregation: population group\n"
    "  -h, --help           show this help\n";

static const char import_usage[] =
    "Usage: lcctl [-d DIR] indicator import FILE\n"
    "\n"
    "Publishes the indicator values in FILE as one signed batch: JSON (an array\n"
    "of objects with indicator, period, value, unit, ...) or CSV (.csv, a\n"
    "header row of field names; disaggregation.sex for nested fields).\n"
    "Records are checked as they are read and sent in chunks, all stored in\n"
    "one transaction: on any error nothing is stored.\n"
    "\n"
    "Options:\n"
    "  -h, --help   show this help\n";

static const char list_usage[] =
    "Usage: lcctl [-d DIR] indicator list [OPTION...]\n"
    "\n"
    "Lists current indicator values of every city this node knows.\n"
    "\n"
    "Options:\n"
    "  --indicator I   values of this indicator\n"
    "  --period P      values of this period\n"
    "  --city ID       this city (id or unique prefix of 6+ hex digits)\n"
    "  --limit N       at most N values (default 0: up to 10,000)\n"
    "  --include-revoked\n"
    "                  also values of cities the federation revoked\n"
    "  --json          a JSON array of records\n"
    "  --csv           the values as `indicator import` reads them (RFC 4180)\n"
    "  -h, --help      show this help\n";

static const char rm_usage[] =
    "Usage: lcctl [-d DIR] indicator rm INDICATOR PERIOD [--sex S] [--age-band A]\n"
    "                                 [--group G]\n"
    "       lcctl [-d DIR] indicator rm ID\n"
    "\n"
    "Removes one of this city's indicator values by publishing a signed\n"
    "tombstone, which replaces it on every node. Name the value as it was set:\n"
    "its indicator, period and disaggregation options; or by its record id or a\n"
    "unique prefix of 6+ hex digits (`indicator list --json` shows ids).\n"
    "\n"
    "Options:\n"
    "  --sex S        the value's disaggregation by sex\n"
    "  --age-band A   by age band\n"
    "  --group G      by population group\n"
    "  -h, --help     show this help\n";

static const struct optfield value_fields[] = {
	{ "unit", "unit", OPTF_TEXT },
	{ "source", "source", OPTF_TEXT },
	{ "status", "status", OPTF_TEXT },
	{ "geo-level", "geo_level", OPTF_TEXT },
	{ "note", "note", OPTF_TEXT },
	{ "numerator", "numerator", OPTF_REAL },
	{ "denominator", "denominator", OPTF_REAL },
	{ "baseline", "baseline", OPTF_REAL },
	{ "target", "target", OPTF_REAL },
	{ "sex", "disaggregation.sex", OPTF_TEXT },
	{ "age-band", "disaggregation.age_band", OPTF_TEXT },
	{ "group", "disaggregation.group", OPTF_TEXT },
	{ "INDICATOR", "indicator", OPTF_TEXT },
	{ "PERIOD", "period", OPTF_TEXT },
	{ "VALUE", "value", OPTF_REAL },
};


#define NVALUE_FIELDS (sizeof(value_fields) / sizeof(value_fields[0]))
/* INDICATOR PERIOD VALUE: the last entries of value_fields, in order. */
#define NPOS 3
#define POS_FIRST (NVALUE_FIELDS - NPOS)

/* getopt takes "-1.5" for options. A negative number that is not an
 * option's argument is a positional VALUE: move such numbers behind a "--"
 * (order kept), so that getopt leaves them alone. Every long option of
 * `indicator set` but --help takes an argument. *argcp is updated; the
 * caller frees the vector (not the strings). */
static char **
negatives_last(int *argcp, char **argv)
{
	int argc = *argcp;
	char **v = xcalloc((size_t)argc + 2, sizeof(char *));
	unsigned char *neg = xcalloc((size_t)argc, 1);
	int i, o = 0, nneg = 0, dashdash = 0;
	double d;

	for (i = 1; i < argc && !dashdash; i++) {
		if (strcmp(argv[i], "--") == 0)
			dashdash = 1;
		else if (strncmp(argv[i], "--", 2) == 0 && strchr(argv[i], '=') == NULL &&
		    strncmp(argv[i], "--h", 3) != 0)
			i++;
		else if (argv[i][0] == '-' && lcctl_parse_double(argv[i], &d) == 0) {
			neg[i] = 1;
			nneg++;
		}
	}
	v[o++] = argv[0];
	for (i = 1; i < argc; i++)
		if (!neg[i] || dashdash)
			v[o++] = argv[i];
	if (nneg > 0 && !dashdash) {
		v[o++] = "--";
		for (i = 1; i < argc; i++)
			if (neg[i])
				v[o++] = argv[i];
	}
	free(neg);
	*argcp = o;
	return v;
}

static int
indicator_set(struct lcctl *ctx, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct option *longopts = optfield_longopts(value_fields, NVALUE_FIELDS,
	    extra);
	unsigned char touched[NVALUE_FIELDS];
	Lcf__CtlResponse *resp = NULL;
	json_t *obj = json_object();
	const Lcf__PublishReply *pr;
	char hex[LCF_ID_HEX], **args;
	struct drafts d;
	size_t i;
	int c, ret = -1;

	drafts_init(&d, LCF__KIND__KIND_INDICATOR);
	memset(touched, 0, sizeof(touched));
	argv = args = negatives_last(&argc, argv);
	while (ret < 0 && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c >= OPTF_BASE && c < OPTF_BASE + (int)NVALUE_FIELDS) {
			if (optfield_apply(ctx, obj, value_fields,
			    (size_t)(c - OPTF_BASE), optarg, touched) != LCCTL_EXIT_OK)
				ret = LCCTL_EXIT_USAGE;
		} else {
			ret = lcctl_common_opt(c, set_usage);
		}
	}
	if (ret >= 0)
		goto out;
	if ((size_t)(argc - optind) != NPOS) {
		fprintf(stderr, "%s: give INDICATOR PERIOD VALUE\n", ctx->name);
		ret = lcctl_usage(set_usage, LCCTL_EXIT_USAGE);
		goto out;
	}
	for (i = 0; i < NPOS; i++) {
		if ((ret = optfield_apply(ctx, obj, value_fields, POS_FIRST + i,
		    argv[optind + i], touched)) != LCCTL_EXIT_OK)
			goto out;
	}
	if ((ret = lcctl_need_dir(ctx)) != LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	d.opts = value_fields;
	d.nopts = NVALUE_FIELDS;
	if (drafts_add_json(&d, obj, NULL) < 0)
		goto out;
	/* The node checks the id against its catalog; its message lists the
	 * valid ids. */
	if (drafts_publish(ctx, &d, &resp) < 0)
		goto out;
	pr = resp->publish;
	if (pr->stored == 0) {
		printf("indicator %s unchanged: it already holds this value\n",
		    d.v[0]->key);
	} else {
		if (pr->n_ids > 0)
			render_id(pr->ids[0].data, pr->ids[0].len, hex);
		else
			snprintf(hex, sizeof(hex), "?");
		printf("indicator %s set (seq %" PRIu64 ", record %s)\n",
		    d.v[0]->key, pr->first_seq, hex);
	}
	ret = LCCTL_EXIT_OK;
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	drafts_free(&d);
	json_decref(obj);
	free(longopts);
	free(args);
	return ret;
}

static int
indicator_import(struct lcctl *ctx, int argc, char **argv)
{
	return drafts_import_command(ctx, argc, argv, LCF__KIND__KIND_INDICATOR, import_usage,
	    "indicator value", "indicator values");
}

/* "sex=f, age_band=25-64" of a value's disaggregation; caller frees. */
static char *
group_text(const Lcf__IndicatorValue *v)
{
	const Lcf__Disaggregation *g = v->disaggregation;
	const char *names[3] = { "sex", "age_band", "group" }, *vals[3];
	char *s = xstrdup(""), *n;
	size_t i;

	if (g != NULL) {
		vals[0] = g->sex;
		vals[1] = g->age_band;
		vals[2] = g->group;
		for (i = 0; i < 3; i++) {
			if (vals[i] == NULL || vals[i][0] == '\0')
				continue;
			n = xasprintf("%s%s%s=%s", s, s[0] ? ", " : "", names[i],
			    vals[i]);
			free(s);
			s = n;
		}
	}
	return s;
}

/* A string member of a body's JSON form (enum names come out lower-case). */
static const char *
member(const json_t *body, const char *name)
{
	const char *s = json_string_value(json_object_get(body, name));

	return s ? s : "";
}

static void
print_table(const Lcf__CtlResponse *resp, Lcf__Content **contents)
{
	static const struct table_col cols[] = {
		{ "CITY", COL_FLEX }, { "INDICATOR", 0 }, { "PERIOD", 0 },
		{ "GROUP", COL_FLEX }, { "VALUE", COL_RIGHT }, { "UNIT", 0 },
		{ "STATUS", 0 }, { "SOURCE", COL_FLEX }, { "", 0 },
	};
	const Lcf__QueryReply *q = resp->query;
	const Lcf__IndicatorValue *v;
	char author[13], value[64], marked[256], *group;
	const char *cells[9];
	struct table *t;
	json_t *body;
	size_t i, ncells, grouped = 0, unknown = 0;

	for (i = 0; i < q->n_items; i++)
		if (contents[i]->body_case == LCF__CONTENT__BODY_INDICATOR &&
		    contents[i]->indicator->disaggregation != NULL)
			grouped = 1;
	for (i = 0; i < q->n_items; i++)
		unknown += q->items[i]->unknown_indicator;
	t = table_new(cols, 9);
	/* The GROUP column only when some value is disaggregated, the flag
	 * column only when some id is outside the catalog. */
	if (!grouped)
		table_hide(t, 3);
	if (!unknown)
		table_hide(t, 8);
	for (i = 0; i < q->n_items; i++) {
		if (contents[i]->body_case != LCF__CONTENT__BODY_INDICATOR)
			continue;
		v = contents[i]->indicator;
		body = pbjson_encode(&v->base);
		group = group_text(v);
		snprintf(value, sizeof(value), "%g", v->value);
		ncells = 0;
		cells[ncells++] = q->items[i]->city_name ? q->items[i]->city_name :
		    render_short_id(contents[i]->author.data,
		    contents[i]->author.len, author);
		/* A revoked or expired city (--include-revoked) is marked. */
		if (q->items[i]->membership != NULL) {
			snprintf(marked, sizeof(marked), "%s (%s)", cells[ncells - 1],
			    q->items[i]->membership);
			cells[ncells - 1] = marked;
		}
		cells[ncells++] = v->indicator;
		cells[ncells++] = v->period;
		cells[ncells++] = group;
		cells[ncells++] = value;
		cells[ncells++] = v->unit;
		cells[ncells++] = member(body, "status");
		cells[ncells++] = v->source;
		cells[ncells++] = q->items[i]->unknown_indicator ?
		    "(unknown indicator)" : "";
		table_add(t, cells);
		free(group);
		json_decref(body);
	}
	if (table_rows(t) == 0)
		fprintf(stderr, "no indicator values match\n");
	else
		table_print(t, stdout);
	if (unknown > 0)
		fprintf(stderr, "%zu value%s against indicator ids outside this "
		    "node's catalog: kept as received (`lcctl catalog list` shows "
		    "the catalog in force)\n", unknown, unknown == 1 ? "" : "s");
	table_free(t);
}

static int
indicator_list(struct lcctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "indicator", required_argument, NULL, 'i' },
		{ "period", required_argument, NULL, 'p' },
		{ "city", required_argument, NULL, 'y' },
		{ "limit", required_argument, NULL, 'l' },
		{ "include-revoked", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Lcf__QueryRequest q = LCF__QUERY_REQUEST__INIT;
	size_t removed, lost;
	Lcf__CtlResponse *resp = NULL;
	Lcf__Content **contents = NULL;
	uint64_t limit = 0;
	int c, ret = -1;

	q.has_kind = 1;
	q.kind = LCF__KIND__KIND_INDICATOR;
	while (ret < 0 && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			q.indicator = optarg;
			break;
		case 'p':
			q.period = optarg;
			break;
		case 'y':
			q.city = optarg;
			break;
		case 'l':
			if (lcctl_parse_u64(optarg, UINT32_MAX, &limit) < 0)
				ret = lcctl_bad_usage(ctx, "--limit '%s' is not a "
				    "count (0 for all)", optarg);
			break;
		case 'r':
			q.has_include_revoked = q.include_revoked = 1;
			break;
		case 'j':
			ctx->json = 1;
			break;
		case 'v':
			ctx->csv = 1;
			break;
		default:
			ret = lcctl_common_opt(c, list_usage);
			break;
		}
	}
	if (ret >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, NULL, NULL)) != LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	q.has_limit = 1;
	q.limit = (uint32_t)limit;
	if (client_query(ctx, &q, &resp, &contents) < 0)
		goto out;
	if (ctx->csv) {
		csvout_contents(stdout, contents, resp->query->n_items, 0,
		    &removed, &lost);
		csvout_warn(ctx->name, removed, lost);
		if (resp->query->truncated)
			fprintf(stderr, "(more match: raise --limit, up to 10,000)\n");
	} else if (ctx->json) {
		render_items_json(resp->query, contents);
	} else {
		print_table(resp, contents);
		if (resp->query->truncated)
			fprintf(stderr, "(more match: raise --limit, up to 10,000, or "
			    "use `lcctl export`)\n");
	}
	ret = LCCTL_EXIT_OK;
out:
	if (resp != NULL) {
		client_contents_free(contents, resp->query->n_items);
		lcf__ctl_response__free_unpacked(resp, NULL);
	}
	return ret;
}

static int
indicator_rm(struct lcctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sex", required_argument, NULL, 's' },
		{ "age-band", required_argument, NULL, 'a' },
		{ "group", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Lcf__IndicatorValue v = LCF__INDICATOR_VALUE__INIT;
	Lcf__Disaggregation dis = LCF__DISAGGREGATION__INIT;
	char ref[LCCTL_KEY_MAX], key[LCCTL_KEY_MAX], hex[LCF_ID_HEX];
	int c, ret = -1, nargs;

	while (ret < 0 && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 's')
			dis.sex = optarg;
		else if (c == 'a')
			dis.age_band = optarg;
		else if (c == 'g')
			dis.group = optarg;
		else
			ret = lcctl_common_opt(c, rm_usage);
	}
	if (ret >= 0)
		return ret;
	nargs = argc - optind;
	if (nargs < 1 || nargs > 2) {
		fprintf(stderr, "%s: give INDICATOR PERIOD, or a record ID\n",
		    ctx->name);
		return lcctl_usage(rm_usage, LCCTL_EXIT_USAGE);
	}
	if (nargs == 1 && (dis.sex || dis.age_band || dis.group))
		return lcctl_bad_usage(ctx, "--sex, --age-band and --group go with "
		    "INDICATOR PERIOD, not with a record id");
	if ((ret = lcctl_need_dir(ctx)) != LCCTL_EXIT_OK)
		return ret;
	if (nargs == 2) {
		/* The key the node gave the value when it was set. */
		v.indicator = argv[optind];
		v.period = argv[optind + 1];
		if (dis.sex || dis.age_band || dis.group)
			v.disaggregation = &dis;
		validate_indicator_key(&v, ref, sizeof(ref));
	} else {
		snprintf(ref, sizeof(ref), "%s", argv[optind]);
	}
	if (drafts_remove(ctx, LCF__KIND__KIND_INDICATOR, ref, "indicator value",
	    key, sizeof(key), hex) < 0)
		return LCCTL_EXIT_ERR;
	printf("indicator value %s removed (tombstone record %s)\n", key, hex);
	return LCCTL_EXIT_OK;
}

static const struct lcctl_cmd indicator_cmds[] = {
	{ "set", indicator_set, "publish one indicator value" },
	{ "import", indicator_import, "publish the values in a JSON or CSV file" },
	{ "list", indicator_list, "list indicator values of every known city" },
	{ "rm", indicator_rm, "remove one of this city's indicator values" },
	{ "summary", indicator_summary, "the federation's median of each indicator and period" },
};

int
cmd_indicator(struct lcctl *ctx, int argc, char **argv)
{
	return lcctl_dispatch(ctx, indicator_cmds,
	    sizeof(indicator_cmds) / sizeof(indicator_cmds[0]), argc, argv);
}
