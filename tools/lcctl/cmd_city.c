// SPDX-License-Identifier: Apache-2.0
// lcctl city: list the known cities; show, set and import this node's city profile.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "model/csvout.h"
#include "lcctl.h"
#include "model/kinds.h"
#include "base/util.h"
#include "base/xmalloc.h"

#define PROFILE_KEY "profile"

static const char show_usage[] =
    "Usage: lcctl [-d DIR] city show [--json] [ID]\n"
    "\n"
    "Without ID, shows this node's city profile. With ID (a city id from\n"
    "`lcctl city list`, or a unique prefix of at least 6 hex digits), shows any\n"
    "city this node knows: its profile, its membership of the federation, its\n"
    "records by kind, its newest practices and the indicator values of the\n"
    "latest period it reported.\n"
    "\n"
    "Options:\n"
    "  --json       the record (with ID: the HTTP API's /api/v1/cities/ID\n"
    "               answer) as a JSON object\n"
    "  -h, --help   show this help\n";

static const char list_usage[] =
    "Usage: lcctl [-d DIR] city list [--json | --csv]\n"
    "\n"
    "Lists every city this node holds records of, its own and those received\n"
    "from peers: city id, name and country (from its profile), current records\n"
    "by kind, and the time of its newest record. A city whose key was rotated\n"
    "(`lcctl key rotate`) is one row under its newest key, its earlier keys'\n"
    "records counted with it (previous_ids in JSON). A city the federation\n"
    "revoked, or whose membership expired, is marked \"revoked\" or \"expired\"\n"
    "(membership in JSON: open, none, admitted, expired or revoked).\n"
    "\n"
    "Options:\n"
    "  --json       a JSON array (ids as hex, times in Unix ms)\n"
    "  --csv        the same as CSV: one row per city, records.KIND columns\n"
    "  -h, --help   show this help\n";

static const char set_usage[] =
    "Usage: lcctl [-d DIR] city set OPTION...\n"
    "\n"
    "Changes fields of this node's city profile and publishes the new version.\n"
    "Fields not given keep their value; an empty value (--region '') removes a\n"
    "field. A repeatable option replaces the whole list.\n"
    "\n"
    "Options:\n"
    "  --name N                 the city's name\n"
    "  --country CC             ISO 3166-1 alpha-2 code, e.g. SE\n"
    "  --region R               region or province\n"
    "  --population N           inhabitants\n"
    "  --population-year Y      year of the population figure\n"
    "  --area-km2 X             area in square kilometres\n"
    "  --language TAG           BCP 47 language tag (repeatable)\n"
    "  --website URL            the city's website\n"
    "  --contact-name N         contact person\n"
    "  --contact-role R         the contact's role\n"
    "  --contact-email E        the contact's e-mail address\n"
    "  --latitude X             decimal degrees, -90..90\n"
    "  --longitude X            decimal degrees, -180..180\n"
    "  --member-since Y         year the city joined the network\n"
    "  --challenge ID           KFLC sub-area the city wants help with (repeatable)\n"
    "  --strength ID            KFLC sub-area the city can offer (repeatable)\n"
    "  -h, --help               show this help\n";

static const char import_usage[] =
    "Usage: lcctl [-d DIR] city import FILE\n"
    "\n"
    "Publishes the city profile in FILE: a JSON object with the CityProfile\n"
    "fields (name, country, region, population, languages, contact, ...), or a\n"
    "CSV file with a header row and one record (lists separated by ';').\n"
    "The file replaces the whole profile.\n"
    "\n"
    "Options:\n"
    "  -h, --help   show this help\n";

static const struct optfield city_fields[] = {
	{ "name", "name", OPTF_TEXT },
	{ "country", "country", OPTF_TEXT },
	{ "region", "region", OPTF_TEXT },
	{ "population", "population", OPTF_INT },
	{ "population-year", "population_year", OPTF_INT },
	{ "area-km2", "area_km2", OPTF_REAL },
	{ "language", "languages", OPTF_TEXT_LIST },
	{ "website", "website", OPTF_TEXT },
	{ "contact-name", "contact.name", OPTF_TEXT },
	{ "contact-role", "contact.role", OPTF_TEXT },
	{ "contact-email", "contact.email", OPTF_TEXT },
	{ "latitude", "latitude", OPTF_REAL },
	{ "longitude", "longitude", OPTF_REAL },
	{ "member-since", "network_member_since", OPTF_INT },
	{ "challenge", "challenges", OPTF_TEXT_LIST },
	{ "strength", "strengths", OPTF_TEXT_LIST },
};

#define NCITY_FIELDS (sizeof(city_fields) / sizeof(city_fields[0]))

/* Prints the publish answer for the profile. */
static void
report(const Lcf__CtlResponse *resp, const char *what)
{
	const Lcf__PublishReply *pr = resp->publish;
	char hex[LCF_ID_HEX];

	if (pr->n_ids > 0)
		render_id(pr->ids[0].data, pr->ids[0].len, hex);
	else
		snprintf(hex, sizeof(hex), "?");
	if (pr->stored == 0)
		printf("city profile unchanged: it already holds these values\n");
	else
		printf("city profile %s (seq %" PRIu64 ", record %s)\n", what,
		    pr->first_seq, hex);
}

/* "admitted since 2025-01-01, until 2027-01-01" and the like. */
static void
print_membership(const json_t *m)
{
	const char *state = json_string_value(json_object_get(m, "state"));
	json_t *t;
	char d[48], line[256];
	size_t o;

	o = (size_t)snprintf(line, sizeof(line), "%s", state ? state : "?");
	if ((t = json_object_get(m, "admitted_ms")) != NULL && o < sizeof(line))
		o += (size_t)snprintf(line + o, sizeof(line) - o, ", admitted %s",
		    render_date(json_integer_value(t), d, sizeof(d)));
	if ((t = json_object_get(m, "expires_ms")) != NULL && o < sizeof(line))
		o += (size_t)snprintf(line + o, sizeof(line) - o, ", until %s",
		    render_date(json_integer_value(t), d, sizeof(d)));
	if ((t = json_object_get(m, "revoked_ms")) != NULL && o < sizeof(line))
		o += (size_t)snprintf(line + o, sizeof(line) - o, ", revoked %s: %s",
		    render_date(json_integer_value(t), d, sizeof(d)),
		    json_string_value(json_object_get(m, "reason")));
	render_field(stdout, "Membership", line);
}

static void
print_city_practices(const json_t *items)
{
	static const struct table_col cols[] = {
		{ "ID", 0 }, { "DATE", 0 }, { "AREAS", 0 }, { "TITLE", COL_FLEX },
	};
	struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
	const json_t *x, *a;
	size_t i, k;

	json_array_foreach(items, i, x) {
		const json_t *p = json_object_get(x, "practice");
		const char *id = json_string_value(json_object_get(x, "id"));
		char sid[16], date[48], areas[64];
		const char *cells[4];
		size_t o = 0;

		if (i == 10)
			break;
		snprintf(sid, sizeof(sid), "%.12s", id ? id : "?");
		render_date(json_integer_value(json_object_get(x, "timestamp")),
		    date, sizeof(date));
		areas[0] = '\0';
		json_array_foreach(json_object_get(p, "kflc_areas"), k, a)
			if (o < sizeof(areas))
				o += (size_t)snprintf(areas + o, sizeof(areas) - o,
				    "%s%s", k ? " " : "", json_string_value(a));
		cells[0] = sid;
		cells[1] = date;
		cells[2] = areas;
		cells[3] = json_string_value(json_object_get(p, "title"));
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(t);
}

static void
print_city_values(const json_t *items)
{
	static const struct table_col cols[] = {
		{ "INDICATOR", 0 }, { "VALUE", COL_RIGHT }, { "UNIT", 0 },
	};
	struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
	const json_t *x;
	size_t i;

	json_array_foreach(items, i, x) {
		const json_t *v = json_object_get(x, "indicator");
		const char *cells[3];
		char num[64];

		snprintf(num, sizeof(num), "%g", json_number_value(
		    json_object_get(v, "value")));
		cells[0] = json_string_value(json_object_get(v, "indicator"));
		cells[1] = num;
		cells[2] = json_string_value(json_object_get(v, "unit"));
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(t);
}

/* lcctl city show ID: the node's view "city". */
static int
city_show_other(struct lcctl *ctx, const char *id)
{
	json_t *args = json_pack("{s:s}", "id", id), *j = NULL, *x, *lat;
	const char *k, *name;
	char *clean, line[512];
	size_t o = 0;
	int ret;

	if ((ret = lcctl_need_dir(ctx)) != LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	if (client_view(ctx, "city", args, &j) < 0)
		goto out;
	ret = LCCTL_EXIT_OK;
	if (ctx->json) {
		render_json(j);
		goto out;
	}
	name = json_string_value(json_object_get(j, "name"));
	clean = render_clean(name ? name : "(no profile)");
	snprintf(line, sizeof(line), "%s%s%s%s", clean,
	    json_is_string(json_object_get(j, "country")) ? " (" : "",
	    json_is_string(json_object_get(j, "country")) ?
	    json_string_value(json_object_get(j, "country")) : "",
	    json_is_string(json_object_get(j, "country")) ? ")" : "");
	free(clean);
	render_field(stdout, "City", line);
	render_field(stdout, "Id", json_string_value(json_object_get(j, "id")));
	print_membership(json_object_get(j, "membership"));
	json_object_foreach(json_object_get(j, "records"), k, x)
		if (o < sizeof(line))
			o += (size_t)snprintf(line + o, sizeof(line) - o, "%s%lld %s",
			    o ? ", " : "", (long long)json_integer_value(x), k);
	render_field(stdout, "Records", line);
	if ((x = json_object_get(json_object_get(j, "profile"), "city")) != NULL) {
		printf("\nProfile\n");
		render_body(stdout, x);
	}
	x = json_object_get(json_object_get(j, "practices"), "items");
	if (json_array_size(x) > 0) {
		printf("\nNewest practices\n");
		print_city_practices(x);
	}
	lat = json_object_get(j, "latest_indicators");
	if (json_array_size(json_object_get(lat, "items")) > 0) {
		clean = render_clean(json_string_value(json_object_get(lat, "period")));
		printf("\nIndicator values of %s, its latest period\n", clean);
		free(clean);
		print_city_values(json_object_get(lat, "items"));
	}
out:
	json_decref(j);
	json_decref(args);
	return ret;
}

static int
city_show(struct lcctl *ctx, int argc, char **argv)
{
	Lcf__CtlResponse *resp = NULL;
	Lcf__Content *content = NULL;
	Lcf__RecordItem *it;
	int ret, rc;

	if ((ret = lcctl_simple_opts(ctx, argc, argv, show_usage, 1)) >= 0)
		goto out;
	if (argc - optind == 1) {
		ret = city_show_other(ctx, argv[optind]);
		goto out;
	}
	if ((ret = lcctl_args(ctx, argc, argv, NULL, NULL)) != LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	rc = client_get(ctx, PROFILE_KEY, LCF__KIND__KIND_CITY,
	    CLIENT_QUIET_NOTFOUND, &resp);
	if (rc == LCF_ENOTFOUND)
		lcctl_err("this city has no profile yet: set one with `lcctl city "
		    "set --name NAME ...` or `lcctl city import FILE`");
	if (rc < 0)
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

/* The profile held now as a JSON object, or an empty object if there is none. */
static int
current_profile(const struct lcctl *ctx, json_t **out)
{
	Lcf__CtlResponse *resp = NULL;
	Lcf__Content *content = NULL;
	json_t *body = NULL;
	int ret;

	*out = NULL;
	ret = client_get(ctx, PROFILE_KEY, LCF__KIND__KIND_CITY,
	    CLIENT_QUIET_NOTFOUND, &resp);
	if (ret == LCF_ENOTFOUND) {
		body = json_object();
	} else if (ret < 0) {
		goto out;
	} else {
		if ((ret = client_item_content(resp->query->items[0], &content)) < 0)
			goto out;
		/* A tombstone has no body: start again from nothing. */
		if ((body = render_body_json(content)) == NULL)
			body = json_object();
	}
	*out = body;
	ret = 0;
out:
	lcf__content__free_unpacked(content, NULL);
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret;
}

struct setting {
	size_t field;
	const char *value;
};

static int
city_set(struct lcctl *ctx, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned char touched[NCITY_FIELDS], scratch_touched[NCITY_FIELDS];
	struct setting *sets = xcalloc((size_t)argc, sizeof(*sets));
	struct option *longopts = optfield_longopts(city_fields, NCITY_FIELDS, extra);
	Lcf__CtlResponse *resp = NULL;
	json_t *scratch = json_object(), *profile = NULL;
	struct drafts d;
	size_t nsets = 0, i;
	int c, ret = -1;

	drafts_init(&d, LCF__KIND__KIND_CITY);
	memset(touched, 0, sizeof(touched));
	memset(scratch_touched, 0, sizeof(scratch_touched));
	while (ret < 0 && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c >= OPTF_BASE && c < OPTF_BASE + (int)NCITY_FIELDS) {
			/* Values are checked now, before the node is asked for
			 * the profile they will be laid over. */
			i = (size_t)(c - OPTF_BASE);
			if (optfield_apply(ctx, scratch, city_fields, i, optarg,
			    scratch_touched) != LCCTL_EXIT_OK) {
				ret = LCCTL_EXIT_USAGE;
				break;
			}
			sets[nsets].field = i;
			sets[nsets++].value = optarg;
		} else {
			ret = lcctl_common_opt(c, set_usage);
		}
	}
	if (ret >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, NULL, NULL)) != LCCTL_EXIT_OK)
		goto out;
	if (nsets == 0) {
		fprintf(stderr, "%s: give at least one field to set\n", ctx->name);
		ret = lcctl_usage(set_usage, LCCTL_EXIT_USAGE);
		goto out;
	}
	ret = LCCTL_EXIT_ERR;
	if (current_profile(ctx, &profile) < 0)
		goto out;
	for (i = 0; i < nsets; i++)
		optfield_apply(ctx, profile, city_fields, sets[i].field,
		    sets[i].value, touched);
	d.opts = city_fields;
	d.nopts = NCITY_FIELDS;
	if (drafts_add_json(&d, profile, PROFILE_KEY) < 0)
		goto out;
	if (drafts_publish(ctx, &d, &resp) < 0)
		goto out;
	report(resp, "updated");
	ret = LCCTL_EXIT_OK;
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	drafts_free(&d);
	json_decref(profile);
	json_decref(scratch);
	free(longopts);
	free(sets);
	return ret;
}

static int
city_import(struct lcctl *ctx, int argc, char **argv)
{
	Lcf__CtlResponse *resp = NULL;
	struct drafts d;
	int ret;

	drafts_init(&d, LCF__KIND__KIND_CITY);
	if ((ret = lcctl_simple_opts(ctx, argc, argv, import_usage, 0)) >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, "FILE", import_usage)) !=
	    LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	if (drafts_load_file(&d, argv[optind]) < 0)
		goto out;
	if (drafts_publish(ctx, &d, &resp) < 0)
		goto out;
	report(resp, "imported");
	ret = LCCTL_EXIT_OK;
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	drafts_free(&d);
	return ret;
}

static uint64_t
kind_count(const Lcf__CityInfo *ci, Lcf__Kind kind)
{
	size_t i;

	for (i = 0; i < ci->n_kinds; i++)
		if (ci->kinds[i]->kind == kind)
			return ci->kinds[i]->current;
	return 0;
}

/* Text from another city as a JSON string, or null. */
static json_t *
text_json(const char *s)
{
	json_t *j = NULL;
	char *clean;

	if (s != NULL) {
		clean = render_clean(s);
		j = json_string(clean);
		free(clean);
	}
	return j != NULL ? j : json_null();
}

static json_t *
city_json(const Lcf__CityInfo *ci)
{
	json_t *o = json_object(), *recs = json_object(), *del = json_object();
	json_t *prev;
	char hex[LCF_ID_HEX];
	size_t i;

	json_object_set_new(o, "id", json_string(render_id(ci->id.data, ci->id.len,
	    hex)));
	json_object_set_new(o, "name", text_json(ci->name));
	json_object_set_new(o, "country", text_json(ci->country));
	json_object_set_new(o, "self", json_boolean(ci->self));
	prev = json_array();
	for (i = 0; i < ci->n_previous_ids; i++)
		json_array_append_new(prev, json_string(render_id(
		    ci->previous_ids[i].data, ci->previous_ids[i].len, hex)));
	json_object_set_new(o, "previous_ids", prev);
	for (i = 0; i < ci->n_kinds; i++) {
		json_object_set_new(recs, kinds_name(ci->kinds[i]->kind),
		    json_integer((json_int_t)ci->kinds[i]->current));
		if (ci->kinds[i]->deleted > 0)
			json_object_set_new(del, kinds_name(ci->kinds[i]->kind),
			    json_integer((json_int_t)ci->kinds[i]->deleted));
	}
	json_object_set_new(o, "records", recs);
	json_object_set_new(o, "deleted", del);
	json_object_set_new(o, "newest_ms", ci->newest_ms > 0 ?
	    json_integer(ci->newest_ms) : json_null());
	json_object_set_new(o, "membership", ci->membership != NULL ?
	    json_string(ci->membership) : json_null());
	return o;
}

/* A city whose membership no longer holds: marked in the list. */
static int
is_barred(const Lcf__CityInfo *ci)
{
	return ci->membership != NULL && (strcmp(ci->membership, "revoked") == 0 ||
	    strcmp(ci->membership, "expired") == 0);
}

static int
city_list(struct lcctl *ctx, int argc, char **argv)
{
	static const struct table_col cols[] = {
		{ "ID", 0 }, { "NAME", COL_FLEX }, { "COUNTRY", 0 },
		{ "PRACTICES", COL_RIGHT }, { "INDICATORS", COL_RIGHT },
		{ "NEWEST", 0 }, { "", 0 },
	};
	Lcf__CityListRequest cl = LCF__CITY_LIST_REQUEST__INIT;
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__CtlResponse *resp = NULL;
	struct table *t = NULL;
	json_t *arr = NULL;
	size_t i;
	int ret;

	if ((ret = lcctl_list_opts(ctx, argc, argv, list_usage)) >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, NULL, NULL)) != LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	req.op_case = LCF__CTL_REQUEST__OP_CITY_LIST;
	req.city_list = &cl;
	if (client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY_CITIES, NULL, 0,
	    &resp) < 0)
		goto out;
	if (ctx->json || ctx->csv) {
		arr = json_array();
		for (i = 0; i < resp->cities->n_cities; i++)
			json_array_append_new(arr, city_json(resp->cities->cities[i]));
		if (ctx->csv)
			csvout_json_rows(stdout, arr);
		else
			render_json(arr);
	} else {
		t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
		for (i = 0; i < resp->cities->n_cities; i++) {
			const Lcf__CityInfo *ci = resp->cities->cities[i];
			char id[16], prac[24], ind[24], newest[48], old[16];
			char note[96];
			const char *cells[7];

			render_short_id(ci->id.data, ci->id.len, id);
			snprintf(prac, sizeof(prac), "%" PRIu64,
			    kind_count(ci, LCF__KIND__KIND_PRACTICE));
			snprintf(ind, sizeof(ind), "%" PRIu64,
			    kind_count(ci, LCF__KIND__KIND_INDICATOR));
			if (ci->newest_ms > 0)
				render_time(ci->newest_ms, newest, sizeof(newest));
			else
				snprintf(newest, sizeof(newest), "-");
			cells[0] = id;
			cells[1] = ci->name ? ci->name : "(no profile)";
			cells[2] = ci->country ? ci->country : "";
			cells[3] = prac;
			cells[4] = ind;
			cells[5] = newest;
			/* Revoked or expired first; a rotated key: name the key
			 * it took over from. */
			snprintf(note, sizeof(note), "%s%s%s%s%s%s",
			    is_barred(ci) ? ci->membership : "",
			    is_barred(ci) && (ci->self || ci->n_previous_ids) ?
			    " " : "",
			    ci->self ? "(this node)" : "",
			    ci->self && ci->n_previous_ids ? " " : "",
			    ci->n_previous_ids ? "earlier key " : "",
			    ci->n_previous_ids ? render_short_id(
			    ci->previous_ids[ci->n_previous_ids - 1].data,
			    ci->previous_ids[ci->n_previous_ids - 1].len, old) : "");
			cells[6] = note;
			table_add(t, cells);
		}
		if (table_rows(t) == 0)
			fprintf(stderr, "no cities: this node holds no records yet\n");
		else
			table_print(t, stdout);
	}
	ret = LCCTL_EXIT_OK;
out:
	table_free(t);
	json_decref(arr);
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret;
}

static const struct lcctl_cmd city_cmds[] = {
	{ "list", city_list, "every city this node knows, with its record counts" },
	{ "show", city_show, "show this city's profile, or any city's (ID)" },
	{ "set", city_set, "change fields of the profile" },
	{ "import", city_import, "publish the profile in a JSON or CSV file" },
};

int
cmd_city(struct lcctl *ctx, int argc, char **argv)
{
	return lcctl_dispatch(ctx, city_cmds, sizeof(city_cmds) / sizeof(city_cmds[0]),
	    argc, argv);
}
