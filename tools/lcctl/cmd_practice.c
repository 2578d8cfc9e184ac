// SPDX-License-Identifier: Apache-2.0
// lcctl practice: import, add, list, show and remove good practices.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codes.h"
#include "base/error.h"
#include "model/csvout.h"
#include "lcctl.h"
#include "model/pbjson.h"
#include "base/util.h"
#include "base/xmalloc.h"

#define LIST_DEFAULT_LIMIT 50

static const char import_usage[] =
    "Usage: lcctl [-d DIR] practice import FILE\n"
    "\n"
    "Publishes the practices in FILE as one signed batch. FILE is JSON (an array\n"
    "of practice objects, or one object) or CSV (.csv: a header row of field\n"
    "names, lists separated by ';', contact.name for nested fields). A record's\n"
    "key is its \"key\" member, else a slug of its title; importing a key that\n"
    "exists publishes a new version of it, so importing a file again is safe.\n"
    "Records are checked as they are read and sent in chunks, all stored in\n"
    "one transaction: on any error nothing is stored.\n"
    "\n"
    "Options:\n"
    "  -h, --help   show this help\n";

static const char add_usage[] =
    "Usage: lcctl [-d DIR] practice add --title T --summary S --language TAG\n"
    "           --area ID [OPTION...]\n"
    "\n"
    "Publishes one new practice of this city and prints its record id.\n"
    "\n"
    "Options:\n"
    "  --title T              title, at most 200 characters (required)\n"
    "  --summary S            summary, at most 2000 characters (required)\n"
    "  --language TAG         BCP 47 language of the text, e.g. en (required)\n"
    "  --area ID              KFLC sub-area, 1.1 .. 3.3 (required, repeatable)\n"
    "  --cluster C            thematic cluster, e.g. literacy (repeatable)\n"
    "  --sdg N                sustainable development goal 1..17 (repeatable)\n"
    "  --target-group G       who it is for (repeatable)\n"
    "  --setting S            formal, non_formal or informal\n"
    "  --status S             active, ended or archived\n"
    "  --organisation O       organisation running it\n"
    "  --partner P            partner organisation (repeatable)\n"
    "  --description D        longer description\n"
    "  --objectives T         what it sets out to do\n"
    "  --implementation T     how it is done\n"
    "  --outcomes T           results so far\n"
    "  --lessons T            lessons learnt, failures included\n"
    "  --url U                web page\n"
    "  --licence L            SPDX licence id of the text, e.g. CC-BY-4.0\n"
    "  --start-year Y         year it started\n"
    "  --end-year Y           year it ended\n"
    "  --key K                the record key (default: a slug of the title)\n"
    "  -h, --help             show this help\n";

static const char list_usage[] =
    "Usage: lcctl [-d DIR] practice list [OPTION...]\n"
    "\n"
    "Lists current practices of every city this node knows, the most recently\n"
    "stored first, or with --text the best matches first.\n"
    "Every filter given must match.\n"
    "\n"
    "Options:\n"
    "  --area ID            KFLC sub-area, e.g. 2.2 (repeatable)\n"
    "  --cluster C          thematic cluster, e.g. literacy (repeatable)\n"
    "  --country CC         cities of this country\n"
    "  --city ID            this city (id or unique prefix of 6+ hex digits)\n"
    "  --text QUERY         search the text in every language: words (inflections\n"
    "                       match), literac* (prefix), \"family reading\" (phrase),\n"
    "                       a OR b, -word (exclude); README \"Searching practices\"\n"
    "  --lang TAG           practices written or translated in this language\n"
    "                       (BCP 47, e.g. sv); --text then searches that text only\n"
    "  --sdg N              Sustainable Development Goal 1..17 (repeatable)\n"
    "  --since YYYY-MM-DD   practices dated (changed) that day or later\n"
    "  --sort ORDER         relevance (the default with --text) or newest\n"
    "  --limit N            at most N practices (default 50; 0: up to 10,000)\n"
    "  --include-deleted    also list removed practices\n"
    "  --include-revoked    also list practices of cities the federation\n"
    "                       revoked (hidden by default)\n"
    "  --json               a JSON array of records\n"
    "  --csv                the practices as `practice import` reads them\n"
    "                       (a key column, then the fields used; RFC 4180)\n"
    "  -h, --help           show this help\n";

static const char show_usage[] =
    "Usage: lcctl [-d DIR] practice show ID [--json]\n"
    "\n"
    "Shows one practice. ID is a record id, a unique prefix of at least 6 hex\n"
    "digits, or the key of one of this city's practices.\n"
    "\n"
    "Options:\n"
    "  --json       the record as a JSON object\n"
    "  -h, --help   show this help\n";

static const char rm_usage[] =
    "Usage: lcctl [-d DIR] practice rm ID\n"
    "\n"
    "Removes one of this city's practices by publishing a signed tombstone,\n"
    "which replaces it on every node. ID is as for `practice show`.\n"
    "\n"
    "Options:\n"
    "  -h, --help   show this help\n";

static const struct optfield practice_fields[] = {
	{ "title", "title", OPTF_TEXT },
	{ "summary", "summary", OPTF_TEXT },
	{ "language", "language", OPTF_TEXT },
	{ "area", "kflc_areas", OPTF_TEXT_LIST },
	{ "cluster", "clusters", OPTF_TEXT_LIST },
	{ "sdg", "sdgs", OPTF_INT_LIST },
	{ "target-group", "target_groups", OPTF_TEXT_LIST },
	{ "setting", "setting", OPTF_TEXT },
	{ "status", "status", OPTF_TEXT },
	{ "organisation", "organisation", OPTF_TEXT },
	{ "partner", "partners", OPTF_TEXT_LIST },
	{ "description", "description", OPTF_TEXT },
	{ "objectives", "objectives", OPTF_TEXT },
	{ "implementation", "implementation", OPTF_TEXT },
	{ "outcomes", "outcomes", OPTF_TEXT },
	{ "lessons", "lessons", OPTF_TEXT },
	{ "url", "url", OPTF_TEXT },
	{ "licence", "licence", OPTF_TEXT },
	{ "start-year", "start_year", OPTF_INT },
	{ "end-year", "end_year", OPTF_INT },
};

#define NPRACTICE_FIELDS (sizeof(practice_fields) / sizeof(practice_fields[0]))
/* The fields `practice add` requires, as indexes into practice_fields. */
static const size_t required_fields[] = { 0, 1, 2, 3 };

static int
practice_import(struct lcctl *ctx, int argc, char **argv)
{
	return drafts_import_command(ctx, argc, argv, LCF__KIND__KIND_PRACTICE, import_usage,
	    "practice", "practices");
}

/* Refuses a key this city already uses for a practice that is not removed. */
static int
check_new_key(const struct lcctl *ctx, const char *key)
{
	Lcf__CtlResponse *resp = NULL;
	Lcf__Content *content = NULL;
	char sid[13];
	int ret;

	ret = client_get(ctx, key, LCF__KIND__KIND_PRACTICE, CLIENT_QUIET_NOTFOUND,
	    &resp);
	if (ret == LCF_ENOTFOUND) {
		ret = 0;
		goto out;
	}
	if (ret < 0)
		goto out;
	if ((ret = client_item_content(resp->query->items[0], &content)) < 0)
		goto out;
	/* A hex key can also match a record id prefix: only the same key of a
	 * live practice is a clash. */
	if (content->key != NULL && strcmp(content->key, key) == 0 &&
	    !(content->has_deleted && content->deleted)) {
		lcctl_err("a practice with key '%s' already exists (%s): pass --key "
		    "to add another, or import to update it", key,
		    render_short_id(resp->query->items[0]->id.data,
		    resp->query->items[0]->id.len, sid));
		ret = LCF_EEXIST;
		goto out;
	}
	ret = 0;
out:
	lcf__content__free_unpacked(content, NULL);
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret;
}

static int
practice_add(struct lcctl *ctx, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct option *longopts = optfield_longopts(practice_fields,
	    NPRACTICE_FIELDS, extra);
	unsigned char touched[NPRACTICE_FIELDS];
	Lcf__CtlResponse *resp = NULL;
	json_t *obj = json_object();
	const char *key = NULL;
	char missing[128] = "", hex[LCF_ID_HEX];
	struct drafts d;
	size_t i, f;
	int c, ret = -1;

	drafts_init(&d, LCF__KIND__KIND_PRACTICE);
	memset(touched, 0, sizeof(touched));
	while (ret < 0 && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c >= OPTF_BASE && c < OPTF_BASE + (int)NPRACTICE_FIELDS) {
			if (optfield_apply(ctx, obj, practice_fields,
			    (size_t)(c - OPTF_BASE), optarg, touched) != LCCTL_EXIT_OK)
				ret = LCCTL_EXIT_USAGE;
		} else if (c == 'k') {
			key = optarg;
		} else {
			ret = lcctl_common_opt(c, add_usage);
		}
	}
	if (ret >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, NULL, NULL)) != LCCTL_EXIT_OK)
		goto out;
	for (i = 0; i < sizeof(required_fields) / sizeof(required_fields[0]); i++) {
		f = required_fields[i];
		if (json_object_get(obj, practice_fields[f].path) == NULL)
			snprintf(missing + strlen(missing), sizeof(missing) -
			    strlen(missing), " --%s", practice_fields[f].opt);
	}
	if (missing[0] != '\0') {
		fprintf(stderr, "%s: missing%s\n", ctx->name, missing);
		ret = lcctl_usage(add_usage, LCCTL_EXIT_USAGE);
		goto out;
	}
	ret = LCCTL_EXIT_ERR;
	d.opts = practice_fields;
	d.nopts = NPRACTICE_FIELDS;
	if (drafts_add_json(&d, obj, key) < 0)
		goto out;
	if (check_new_key(ctx, d.v[0]->key) < 0)
		goto out;
	if (drafts_publish(ctx, &d, &resp) < 0)
		goto out;
	if (resp->publish->n_ids < 1) {
		lcctl_err("lcnode sent an unexpected answer");
		goto out;
	}
	printf("%s\n", render_id(resp->publish->ids[0].data,
	    resp->publish->ids[0].len, hex));
	ret = LCCTL_EXIT_OK;
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	drafts_free(&d);
	json_decref(obj);
	free(longopts);
	return ret;
}

/* "2.2,3.1" of a practice's sub-areas; caller frees. */
static char *
join_areas(const Lcf__Practice *p)
{
	size_t i, len = 1;
	char *s;

	for (i = 0; i < p->n_kflc_areas; i++)
		len += strlen(p->kflc_areas[i]) + 1;
	s = xmalloc(len);
	s[0] = '\0';
	for (i = 0; i < p->n_kflc_areas; i++) {
		if (i > 0)
			strcat(s, ",");
		strcat(s, p->kflc_areas[i]);
	}
	return s;
}

static void
list_row(struct table *t, const Lcf__RecordItem *it, const Lcf__Content *c)
{
	char sid[13], author[13], date[32], marked[256], *areas, *title;
	const char *cells[6];

	if (c->body_case == LCF__CONTENT__BODY_PRACTICE) {
		areas = join_areas(c->practice);
		title = xstrdup(c->practice->title ? c->practice->title : "");
	} else {
		areas = xstrdup("");
		title = xasprintf("(removed) %s", c->key ? c->key : "");
	}
	/* ID first: it is what show and rm take. */
	cells[0] = render_short_id(it->id.data, it->id.len, sid);
	cells[1] = it->city_name ? it->city_name :
	    render_short_id(c->author.data, c->author.len, author);
	/* A revoked or expired city (--include-revoked) is marked. */
	if (it->membership != NULL) {
		snprintf(marked, sizeof(marked), "%s (%s)", cells[1], it->membership);
		cells[1] = marked;
	}
	cells[2] = it->city_country ? it->city_country : "";
	cells[3] = areas;
	cells[4] = title;
	cells[5] = render_date(c->timestamp, date, sizeof(date));
	table_add(t, cells);
	free(areas);
	free(title);
}

static int
practice_list(struct lcctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "area", required_argument, NULL, 'a' },
		{ "cluster", required_argument, NULL, 'c' },
		{ "country", required_argument, NULL, 'C' },
		{ "city", required_argument, NULL, 'y' },
		{ "text", required_argument, NULL, 't' },
		{ "lang", required_argument, NULL, 'L' },
		{ "sdg", required_argument, NULL, 'g' },
		{ "since", required_argument, NULL, 's' },
		{ "sort", required_argument, NULL, 'o' },
		{ "limit", required_argument, NULL, 'l' },
		{ "include-deleted", no_argument, NULL, 'd' },
		{ "include-revoked", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct table_col cols[] = {
		{ "ID", 0 }, { "CITY", COL_FLEX }, { "COUNTRY", 0 },
		{ "AREAS", 0 }, { "TITLE", COL_FLEX }, { "UPDATED", 0 },
	};
	Lcf__QueryRequest q = LCF__QUERY_REQUEST__INIT;
	Lcf__CtlResponse *resp = NULL;
	Lcf__Content **contents = NULL;
	size_t removed, lost;
	char **areas = xcalloc((size_t)argc, sizeof(char *));
	char **clusters = xcalloc((size_t)argc, sizeof(char *));
	uint32_t *sdgs = xcalloc((size_t)argc, sizeof(uint32_t));
	uint64_t sdg = 0;
	char country[3];
	struct table *t = NULL;
	uint64_t limit = LIST_DEFAULT_LIMIT;
	size_t i;
	int c, ret = -1;

	q.has_kind = 1;
	q.kind = LCF__KIND__KIND_PRACTICE;
	while (ret < 0 && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		/* A filter that can match nothing is a mistake to report, not
		 * an empty list to show. */
		case 'a':
			areas[q.n_areas++] = optarg;
			if (!code_subarea_valid(optarg))
				ret = lcctl_bad_usage(ctx, "--area '%s' is not a KFLC "
				    "sub-area: one of %s", optarg, code_subarea_list());
			break;
		case 'c':
			clusters[q.n_clusters++] = optarg;
			if (!code_cluster_valid(optarg))
				ret = lcctl_bad_usage(ctx, "--cluster '%s' is not a "
				    "cluster: one of %s", optarg, code_cluster_list());
			break;
		case 'C':
			/* Country codes are capitals; "se" means SE. */
			snprintf(country, sizeof(country), "%s", optarg);
			for (i = 0; country[i] != '\0'; i++)
				if (country[i] >= 'a' && country[i] <= 'z')
					country[i] = (char)(country[i] - 32);
			q.country = country;
			if (strlen(optarg) != 2 || !code_country_valid(country))
				ret = lcctl_bad_usage(ctx, "--country '%s' is not an "
				    "ISO 3166-1 alpha-2 code, such as SE", optarg);
			break;
		case 'y':
			q.city = optarg;
			break;
		case 't':
			q.text = optarg;
			break;
		case 'L':
			q.lang = optarg;
			break;
		case 'g':
			if (lcctl_parse_u64(optarg, 17, &sdg) < 0 || sdg < 1)
				ret = lcctl_bad_usage(ctx, "--sdg '%s' is not a "
				    "Sustainable Development Goal: 1 to 17", optarg);
			sdgs[q.n_sdgs++] = (uint32_t)sdg;
			break;
		case 's':
			q.since = optarg;
			break;
		case 'o':
			q.sort = optarg;
			if (strcmp(optarg, "relevance") != 0 &&
			    strcmp(optarg, "newest") != 0)
				ret = lcctl_bad_usage(ctx, "--sort '%s' is not an "
				    "order: relevance or newest", optarg);
			break;
		case 'l':
			if (lcctl_parse_u64(optarg, UINT32_MAX, &limit) < 0)
				ret = lcctl_bad_usage(ctx, "--limit '%s' is not a "
				    "count (0 for all)", optarg);
			break;
		case 'd':
			q.has_include_deleted = 1;
			q.include_deleted = 1;
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
	q.areas = areas;
	q.clusters = clusters;
	q.sdgs = sdgs;
	q.has_limit = 1;
	q.limit = (uint32_t)limit;
	if (client_query(ctx, &q, &resp, &contents) < 0)
		goto out;
	if (ctx->csv) {
		csvout_contents(stdout, contents, resp->query->n_items, 1,
		    &removed, &lost);
		csvout_warn(ctx->name, removed, lost);
		if (resp->query->truncated)
			fprintf(stderr, "(more match: raise --limit, up to 10,000)\n");
	} else if (ctx->json) {
		render_items_json(resp->query, contents);
	} else if (resp->query->n_items == 0) {
		fprintf(stderr, "no practices match\n");
	} else {
		t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
		for (i = 0; i < resp->query->n_items; i++)
			list_row(t, resp->query->items[i], contents[i]);
		table_print(t, stdout);
	}
	if (!ctx->json && !ctx->csv && resp->query->truncated)
		fprintf(stderr, "(more match: raise --limit, up to 10,000, or use "
		    "`lcctl export`)\n");
	ret = LCCTL_EXIT_OK;
out:
	if (resp != NULL) {
		client_contents_free(contents, resp->query->n_items);
		lcf__ctl_response__free_unpacked(resp, NULL);
	}
	table_free(t);
	free(areas);
	free(clusters);
	free(sdgs);
	return ret;
}

static int
practice_show(struct lcctl *ctx, int argc, char **argv)
{
	Lcf__CtlResponse *resp = NULL;
	Lcf__Content *content = NULL;
	Lcf__RecordItem *it;
	int ret;

	if ((ret = lcctl_simple_opts(ctx, argc, argv, show_usage, 1)) >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, "ID", show_usage)) !=
	    LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	if (client_get(ctx, argv[optind], LCF__KIND__KIND_PRACTICE, 0, &resp) < 0)
		goto out;
	it = resp->query->items[0];
	if (client_item_content(it, &content) < 0)
		goto out;
	render_item(ctx, it, content);
	ret = LCCTL_EXIT_OK;
out:
	lcf__content__free_unpacked(content, NULL);
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret;
}

/* Checks that the record may be removed by this node; prints why not. */
static int
practice_rm(struct lcctl *ctx, int argc, char **argv)
{
	char key[LCCTL_KEY_MAX], hex[LCF_ID_HEX];
	int ret;

	if ((ret = lcctl_simple_opts(ctx, argc, argv, rm_usage, 0)) >= 0)
		return ret;
	if ((ret = lcctl_args(ctx, argc, argv, "ID", rm_usage)) != LCCTL_EXIT_OK)
		return ret;
	if (drafts_remove(ctx, LCF__KIND__KIND_PRACTICE, argv[optind], "practice",
	    key, sizeof(key), hex) < 0)
		return LCCTL_EXIT_ERR;
	printf("practice %s removed (tombstone record %s)\n", key, hex);
	return LCCTL_EXIT_OK;
}

static const struct lcctl_cmd practice_cmds[] = {
	{ "import", practice_import, "publish the practices in a JSON or CSV file" },
	{ "add", practice_add, "publish one new practice given by options" },
	{ "list", practice_list, "list practices of every known city" },
	{ "show", practice_show, "show one practice" },
	{ "rm", practice_rm, "remove one of this city's practices" },
};

int
cmd_practice(struct lcctl *ctx, int argc, char **argv)
{
	return lcctl_dispatch(ctx, practice_cmds,
	    sizeof(practice_cmds) / sizeof(practice_cmds[0]), argc, argv);
}
