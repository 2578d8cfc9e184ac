// SPDX-License-Identifier: Apache-2.0
// lcctl federation: the secretariat's offline commands; they sign membership,
// revocation and catalog records with the federation key and print them.
//
// The federation key is an ordinary key file (mode 0600). Beside it, KEY.state
// (mode 0600) keeps the federation's name, the next seq and the indicator ids
// last published, so that the records of successive runs are numbered without
// gaps and a catalog that drops an indicator withdraws it.
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "model/catalog.h"
#include "base/codes.h"
#include "base/error.h"
#include "model/identity.h"
#include "lcctl.h"
#include "model/recfile.h"
#include "model/record.h"
#include "base/util.h"
#include "model/validate.h"
#include "base/xmalloc.h"

#define NAME_MAX_LEN 200

struct fedstate {
	char *name;
	uint64_t next_seq;
	json_t *catalog;         /* array of indicator ids last published */
};

static const char create_usage[] =
    "Usage: lcctl federation create -k FED.key --name NAME\n"
    "\n"
    "Makes a new federation key in FED.key (mode 0600, never overwritten) and\n"
    "FED.key.state beside it, and prints the federation id that member nodes\n"
    "set as `federation` in lcnode.conf (or give to `lcctl init --federation`).\n"
    "Needs no node: keep FED.key on an offline machine.\n"
    "\n"
    "Options:\n"
    "  -k, --key FILE   the federation key file to create\n"
    "  --name NAME      the federation's name\n"
    "  -h, --help       show this help\n";

static const char admit_usage[] =
    "Usage: lcctl federation admit -k FED.key CITYID --city NAME --country CC\n"
    "                              [--expires YYYY-MM-DD] [--observer]\n"
    "\n"
    "Signs a membership record admitting the city with this id and prints it as\n"
    "one JSON line (the form of `export --signed`). Publish it at any member\n"
    "node with `lcctl publish FILE`; it spreads from there. Admitting a city\n"
    "again replaces its membership (a renewal or a new expiry date).\n"
    "\n"
    "Options:\n"
    "  -k, --key FILE        the federation key\n"
    "  --city NAME           the city's name\n"
    "  --country CC          ISO 3166-1 alpha-2 code\n"
    "  --expires YYYY-MM-DD  last day of the membership (UTC), or an exact\n"
    "                        moment as YYYY-MM-DDTHH:MM:SSZ; default: none\n"
    "  --observer            admit a node that is no city (a secretariat's):\n"
    "                        it links, relays and serves every record, and is\n"
    "                        never listed or counted as a city\n"
    "  -h, --help            show this help\n";

static const char revoke_usage[] =
    "Usage: lcctl federation revoke -k FED.key CITYID --reason TEXT\n"
    "                               [--effective YYYY-MM-DD]\n"
    "\n"
    "Signs a revocation of the city with this id and prints it as one JSON\n"
    "line. Once it has spread, every node refuses the city's new records,\n"
    "closes its links and hides its older records from lists. Revocation is\n"
    "final for that key: the city joins again with a new key.\n"
    "\n"
    "Options:\n"
    "  -k, --key FILE           the federation key\n"
    "  --reason TEXT            why, for the members\n"
    "  --effective YYYY-MM-DD   refuse records stamped from this day on (UTC),\n"
    "                           e.g. the day a key was stolen (or a moment as\n"
    "                           YYYY-MM-DDTHH:MM:SSZ); default: now\n"
    "  -h, --help               show this help\n";

static const char catalog_usage[] =
    "Usage: lcctl federation catalog -k FED.key CATALOG.json\n"
    "\n"
    "Signs one catalog record per indicator of CATALOG.json (the format of\n"
    "config/catalog.json) and prints them as JSON lines. Indicators published\n"
    "by an earlier run and missing now are withdrawn (signed tombstones). Once\n"
    "published, the federation's catalog replaces each node's default one.\n"
    "\n"
    "Options:\n"
    "  -k, --key FILE   the federation key\n"
    "  -h, --help       show this help\n";

static void
state_free(struct fedstate *st)
{
	free(st->name);
	json_decref(st->catalog);
	memset(st, 0, sizeof(*st));
}

static char *
state_path(const char *keypath)
{
	return xasprintf("%s.state", keypath);
}

static int
state_load(const char *keypath, struct fedstate *st)
{
	char *path = state_path(keypath), *buf = NULL;
	json_error_t je;
	json_t *o = NULL, *v;
	size_t len;
	int ret = LCF_EIO;

	memset(st, 0, sizeof(*st));
	if (read_file(path, 1 << 20, &buf, &len) < 0) {
		lcctl_err("cannot read %s: %s (it is written by `lcctl federation "
		    "create` beside the key; keep the two together)", path,
		    strerror(errno));
		goto out;
	}
	o = json_loadb(buf, len, 0, &je);
	v = json_object_get(o, "next_seq");
	if (o == NULL || !json_is_integer(v) || json_integer_value(v) < 1 ||
	    !json_is_string(json_object_get(o, "name"))) {
		lcctl_err("%s: not a federation state file (line %d: %s)", path,
		    o == NULL ? je.line : 1, o == NULL ? je.text :
		    "needs \"name\" and \"next_seq\"");
		goto out;
	}
	st->next_seq = (uint64_t)json_integer_value(v);
	st->name = xstrdup(json_string_value(json_object_get(o, "name")));
	st->catalog = json_incref(json_object_get(o, "catalog"));
	if (!json_is_array(st->catalog)) {
		json_decref(st->catalog);
		st->catalog = json_array();
	}
	ret = 0;
out:
	json_decref(o);
	free(buf);
	free(path);
	return ret;
}

static int
state_save(const char *keypath, const struct fedstate *st)
{
	char *path = state_path(keypath), *s;
	json_t *o = json_object();
	int ret = 0;

	json_object_set_new(o, "name", json_string(st->name));
	json_object_set_new(o, "next_seq", json_integer((json_int_t)st->next_seq));
	json_object_set(o, "catalog", st->catalog);
	s = json_dumps(o, JSON_INDENT(2));
	if (write_file_atomic(path, s, strlen(s), 0600) < 0) {
		lcctl_err("cannot write %s: %s", path, strerror(errno));
		ret = LCF_EIO;
	}
	free(s);
	json_decref(o);
	free(path);
	return ret;
}

static struct identity *
key_load(const char *path)
{
	struct identity *id = identity_new();
	int rc;

	if (id == NULL) {
		lcctl_err("cannot allocate secure memory for the key");
		return NULL;
	}
	if ((rc = identity_load(id, path)) < 0) {
		if (rc == LCF_EKEYPERM)
			lcctl_err("%s can be read by group or others: run `chmod "
			    "600 %s`", path, path);
		else if (rc == LCF_EINVAL)
			lcctl_err("%s is not a key file", path);
		else
			lcctl_err("cannot read %s: %s", path, strerror(errno));
		identity_free(id);
		return NULL;
	}
	return id;
}

/* Seals c (author and seq filled here) and prints its signed JSON line. */
static int
emit(const struct identity *id, struct fedstate *st, Lcf__Content *c)
{
	uint8_t *content = NULL, *raw = NULL, rid[32];
	size_t clen, rawlen;
	struct verr verr;
	Lcf__SignedRecord *sr = NULL;
	json_t *j = NULL;
	char *s = NULL;
	int ret = LCF_EINVAL;

	c->has_author = 1;
	c->author.data = (uint8_t *)id->pk;
	c->author.len = 32;
	c->has_seq = 1;
	c->seq = st->next_seq;
	c->has_timestamp = 1;
	c->timestamp = now_ms();
	if (validate_content(c, NULL, 0, &verr) < 0) {
		lcctl_err("%s%s%s", verr.field, verr.field[0] ? ": " : "", verr.msg);
		goto out;
	}
	if (record_pack_content(c, &content, &clen) < 0 ||
	    record_seal(content, clen, id, &raw, &rawlen, rid) < 0 ||
	    (sr = lcf__signed_record__unpack(NULL, rawlen, raw)) == NULL) {
		lcctl_err("cannot sign the record");
		goto out;
	}
	j = recfile_json(rid, id->pk, sr->content.data, sr->content.len,
	    sr->signature.data, sr->signature.len);
	s = json_dumps(j, JSON_COMPACT);
	if (s == NULL || printf("%s\n", s) < 0 || fflush(stdout) != 0) {
		lcctl_err("cannot write to standard output: %s", strerror(errno));
		ret = LCF_EIO;
		goto out;
	}
	st->next_seq++;
	ret = 0;
out:
	free(s);
	json_decref(j);
	if (sr != NULL)
		lcf__signed_record__free_unpacked(sr, NULL);
	free(raw);
	free(content);
	return ret;
}

/* "YYYY-MM-DD" -> Unix ms of the start of that day (UTC), plus add_days; or
 * "YYYY-MM-DDTHH:MM:SSZ" -> that moment exactly. */
static int
parse_day(const char *s, int add_days, int64_t *out)
{
	struct tm tm;
	char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) == 20) {
		end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
		add_days = 0;
	} else {
		end = strlen(s) == 10 ? strptime(s, "%Y-%m-%d", &tm) : NULL;
	}
	if (end == NULL || *end != '\0')
		return LCF_EINVAL;
	tm.tm_mday += add_days;
	if ((t = timegm(&tm)) == (time_t)-1)
		return LCF_EINVAL;
	*out = (int64_t)t * 1000;
	return 0;
}

static int
city_arg(const struct lcctl *ctx, const char *s, uint8_t city[32])
{
	if (s == NULL || strlen(s) != 64 || hex_decode(s, city, 32) != 0)
		return lcctl_bad_usage(ctx, "give the city id: 64 hex digits, as "
		    "`lcctl init` or `lcctl status` print it");
	return 0;
}

/* Options every subcommand shares: -k and -h; others go to fn. */
struct fedopts {
	const char *key, *name, *city, *country, *expires, *reason, *effective;
	int observer;
};

static int
parse_opts(struct lcctl *ctx, int argc, char **argv, const char *usage,
    struct fedopts *o, int nargs)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "name", required_argument, NULL, 'n' },
		{ "city", required_argument, NULL, 'c' },
		{ "country", required_argument, NULL, 'C' },
		{ "expires", required_argument, NULL, 'e' },
		{ "reason", required_argument, NULL, 'r' },
		{ "effective", required_argument, NULL, 'E' },
		{ "observer", no_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret = -1;

	memset(o, 0, sizeof(*o));
	while (ret < 0 && (c = getopt_long(argc, argv, "hk:", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o->key = optarg; break;
		case 'n': o->name = optarg; break;
		case 'c': o->city = optarg; break;
		case 'C': o->country = optarg; break;
		case 'e': o->expires = optarg; break;
		case 'r': o->reason = optarg; break;
		case 'E': o->effective = optarg; break;
		case 'O': o->observer = 1; break;
		default: ret = lcctl_common_opt(c, usage); break;
		}
	}
	if (ret >= 0)
		return ret;
	if (o->key == NULL) {
		fprintf(stderr, "%s: -k FED.key is required\n", ctx->name);
		return lcctl_usage(usage, LCCTL_EXIT_USAGE);
	}
	if (argc - optind != nargs) {
		if (argc - optind > nargs)
			return lcctl_bad_usage(ctx, "unexpected argument '%s'",
			    argv[optind + nargs]);
		fprintf(stderr, "%s: missing argument\n", ctx->name);
		return lcctl_usage(usage, LCCTL_EXIT_USAGE);
	}
	if (sodium_init() < 0) {
		lcctl_err("cannot initialise libsodium");
		return LCCTL_EXIT_ERR;
	}
	return -1;
}

static int
fed_create(struct lcctl *ctx, int argc, char **argv)
{
	struct fedopts o;
	struct fedstate st = { 0 };
	struct identity *id = NULL;
	char hex[LCF_ID_HEX], *spath = NULL;
	int ret, rc;

	if ((ret = parse_opts(ctx, argc, argv, create_usage, &o, 0)) >= 0)
		goto out;
	ret = LCCTL_EXIT_USAGE;
	if (o.name == NULL || o.name[0] == '\0' || strlen(o.name) > NAME_MAX_LEN) {
		lcctl_bad_usage(ctx, "--name: give the federation's name (1 to %d "
		    "characters)", NAME_MAX_LEN);
		goto out;
	}
	ret = LCCTL_EXIT_ERR;
	spath = state_path(o.key);
	if (access(spath, F_OK) == 0) {
		lcctl_err("%s already exists: a federation is created once", spath);
		goto out;
	}
	if ((id = identity_new()) == NULL) {
		lcctl_err("cannot allocate secure memory for the key");
		goto out;
	}
	identity_generate(id);
	if ((rc = identity_save(id, o.key)) < 0) {
		lcctl_err(rc == LCF_EEXIST ? "%s already exists: lcctl never "
		    "overwrites a key%s" : "cannot write %s: %s", o.key,
		    rc == LCF_EEXIST ? "" : strerror(errno));
		goto out;
	}
	st.name = xstrdup(o.name);
	st.next_seq = 1;
	st.catalog = json_array();
	if (state_save(o.key, &st) < 0) {
		unlink(o.key);
		goto out;
	}
	fprintf(stderr, "created %s (keep it offline, mode 0600) and %s\n"
	    "members set `federation = ID` in lcnode.conf; admit cities with "
	    "`lcctl federation admit -k %s CITYID ...`\n", o.key, spath, o.key);
	printf("%s\n", hex_encode(id->pk, 32, hex));
	ret = LCCTL_EXIT_OK;
out:
	free(spath);
	state_free(&st);
	identity_free(id);
	return ret;
}

static int
fed_admit(struct lcctl *ctx, int argc, char **argv)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__Membership m = LCF__MEMBERSHIP__INIT;
	struct fedopts o;
	struct fedstate st = { 0 };
	struct identity *id = NULL;
	uint8_t city[32];
	char hex[LCF_ID_HEX];
	int64_t now = now_ms();
	int ret;

	if ((ret = parse_opts(ctx, argc, argv, admit_usage, &o, 1)) >= 0)
		goto out;
	if ((ret = city_arg(ctx, argv[optind], city)) != 0)
		goto out;
	ret = LCCTL_EXIT_USAGE;
	if (o.city == NULL || o.country == NULL) {
		lcctl_bad_usage(ctx, "--city NAME and --country CC are required");
		goto out;
	}
	if (!code_country_valid(o.country)) {
		lcctl_bad_usage(ctx, "--country '%s' is not an ISO 3166-1 alpha-2 "
		    "code (two capital letters, e.g. SE)", o.country);
		goto out;
	}
	m.has_expires = o.expires != NULL;
	if (o.expires != NULL && (parse_day(o.expires, 1, &m.expires) < 0 ||
	    m.expires <= now)) {
		lcctl_bad_usage(ctx, "--expires '%s': give a day to come as "
		    "YYYY-MM-DD (or YYYY-MM-DDTHH:MM:SSZ)", o.expires);
		goto out;
	}
	ret = LCCTL_EXIT_ERR;
	if ((id = key_load(o.key)) == NULL || state_load(o.key, &st) < 0)
		goto out;
	m.has_city = 1;
	m.city.data = city;
	m.city.len = 32;
	m.name = (char *)o.city;
	m.country = (char *)o.country;
	m.has_admitted = 1;
	m.admitted = now;
	m.federation_name = st.name;
	/* Only when set: an admission of a city stays as before. */
	m.has_observer = o.observer;
	m.observer = o.observer;
	c.has_kind = 1;
	c.kind = LCF__KIND__KIND_MEMBERSHIP;
	c.key = hex_encode(city, 32, hex);
	c.body_case = LCF__CONTENT__BODY_MEMBERSHIP;
	c.membership = &m;
	if (emit(id, &st, &c) < 0 || state_save(o.key, &st) < 0)
		goto out;
	ret = LCCTL_EXIT_OK;
out:
	state_free(&st);
	identity_free(id);
	return ret;
}

static int
fed_revoke(struct lcctl *ctx, int argc, char **argv)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__Revocation r = LCF__REVOCATION__INIT;
	struct fedopts o;
	struct fedstate st = { 0 };
	struct identity *id = NULL;
	uint8_t city[32];
	char hex[LCF_ID_HEX];
	int ret;

	if ((ret = parse_opts(ctx, argc, argv, revoke_usage, &o, 1)) >= 0)
		goto out;
	if ((ret = city_arg(ctx, argv[optind], city)) != 0)
		goto out;
	ret = LCCTL_EXIT_USAGE;
	if (o.reason == NULL || o.reason[0] == '\0') {
		lcctl_bad_usage(ctx, "--reason TEXT is required: members see it");
		goto out;
	}
	r.has_effective = o.effective != NULL;
	if (o.effective != NULL && parse_day(o.effective, 0, &r.effective) < 0) {
		lcctl_bad_usage(ctx, "--effective '%s': give a day as YYYY-MM-DD",
		    o.effective);
		goto out;
	}
	ret = LCCTL_EXIT_ERR;
	if ((id = key_load(o.key)) == NULL || state_load(o.key, &st) < 0)
		goto out;
	r.has_city = 1;
	r.city.data = city;
	r.city.len = 32;
	r.reason = (char *)o.reason;
	c.has_kind = 1;
	c.kind = LCF__KIND__KIND_REVOCATION;
	c.key = hex_encode(city, 32, hex);
	c.body_case = LCF__CONTENT__BODY_REVOCATION;
	c.revocation = &r;
	if (emit(id, &st, &c) < 0 || state_save(o.key, &st) < 0)
		goto out;
	ret = LCCTL_EXIT_OK;
out:
	state_free(&st);
	identity_free(id);
	return ret;
}

static int
fed_catalog(struct lcctl *ctx, int argc, char **argv)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	struct fedopts o;
	struct fedstate st = { 0 };
	struct identity *id = NULL;
	struct catalog *cat = NULL;
	json_t *ids = NULL, *v;
	char err[1024];
	size_t i;
	int ret;

	if ((ret = parse_opts(ctx, argc, argv, catalog_usage, &o, 1)) >= 0)
		goto out;
	ret = LCCTL_EXIT_ERR;
	if (catalog_load(argv[optind], &cat, err, sizeof(err)) < 0) {
		lcctl_err("%s", err);
		goto out;
	}
	if ((id = key_load(o.key)) == NULL || state_load(o.key, &st) < 0)
		goto out;
	ids = json_array();
	for (i = 0; i < cat->n; i++) {
		c = (Lcf__Content)LCF__CONTENT__INIT;
		c.has_kind = 1;
		c.kind = LCF__KIND__KIND_CATALOG;
		c.key = cat->items[i]->id;
		c.body_case = LCF__CONTENT__BODY_CATALOG;
		c.catalog = cat->items[i];
		if (emit(id, &st, &c) < 0)
			goto save;
		json_array_append_new(ids, json_string(cat->items[i]->id));
	}
	/* Withdraw what the last catalog had and this one does not. */
	json_array_foreach(st.catalog, i, v) {
		if (!json_is_string(v) || catalog_find(cat, json_string_value(v)))
			continue;
		c = (Lcf__Content)LCF__CONTENT__INIT;
		c.has_kind = 1;
		c.kind = LCF__KIND__KIND_CATALOG;
		c.key = (char *)json_string_value(v);
		c.has_deleted = c.deleted = 1;
		if (emit(id, &st, &c) < 0)
			goto save;
	}
	json_decref(st.catalog);
	st.catalog = ids;
	ids = NULL;
	ret = LCCTL_EXIT_OK;
save:
	/* Records already printed keep their seqs whatever happened after. */
	if (state_save(o.key, &st) < 0)
		ret = LCCTL_EXIT_ERR;
out:
	json_decref(ids);
	catalog_free(cat);
	state_free(&st);
	identity_free(id);
	return ret;
}

static const struct lcctl_cmd fed_cmds[] = {
	{ "create", fed_create, "make a federation key; prints the federation id" },
	{ "admit", fed_admit, "sign a city's membership (prints the record)" },
	{ "revoke", fed_revoke, "sign a city's revocation (prints the record)" },
	{ "catalog", fed_catalog, "sign the indicator catalog (prints the records)" },
	{ "status", cmd_federation_status, "every member as this node sees it: beacons, versions, agreement, warnings" },
};

int
cmd_federation(struct lcctl *ctx, int argc, char **argv)
{
	return lcctl_dispatch(ctx, fed_cmds, sizeof(fed_cmds) / sizeof(fed_cmds[0]),
	    argc, argv);
}
