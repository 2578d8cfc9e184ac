// SPDX-License-Identifier: Apache-2.0
// Unit tests for codes, validate and catalog: code lists, every validation rule, catalog loading.
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "model/catalog.h"
#include "base/codes.h"
#include "base/error.h"
#include "model/identity.h"
#include "base/util.h"
#include "model/validate.h"

/* The catalog shipped in config/, loaded once for the whole suite. */
static struct catalog *shipped;

/* Every message a test builds, with the storage its pointers refer to. */
struct fx {
	Lcf__Content c;
	uint8_t author[32];
	char key[256];
	Lcf__CityProfile city;
	Lcf__Practice practice;
	Lcf__IndicatorValue ind;
	Lcf__Disaggregation dis;
	Lcf__CatalogIndicator cat;
	Lcf__Contact contact;
	Lcf__Translation tr[2];
	Lcf__Translation *trs[2];
	char *areas[4];
	char *clusters[3];
	uint32_t sdgs[3];
	char *groups[3];
	char *langs[3];
	char *challenges[2];
	char *strengths[2];
	Lcf__Endpoint endpoint;
	char *addrs[10];
	Lcf__Beacon beacon;
	uint8_t instance[16], digest[16];
	Lcf__BeaconKindCount kc[2];
	Lcf__BeaconKindCount *kcs[2];
	char buf[32768];	/* for long or odd strings a test builds */
};

static void
envelope(struct fx *f, Lcf__Kind kind, const char *key)
{
	lcf__content__init(&f->c);
	memset(f->author, 0xab, sizeof(f->author));
	f->c.has_author = 1;
	f->c.author.len = sizeof(f->author);
	f->c.author.data = f->author;
	f->c.has_seq = 1;
	f->c.seq = 7;
	f->c.has_kind = 1;
	f->c.kind = kind;
	snprintf(f->key, sizeof(f->key), "%s", key);
	f->c.key = f->key;
	f->c.has_timestamp = 1;
	f->c.timestamp = 1735689600000LL;
}

static void
practice_fx(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	envelope(f, LCF__KIND__KIND_PRACTICE, "family-reading-circles");
	lcf__practice__init(&f->practice);
	lcf__contact__init(&f->contact);
	lcf__translation__init(&f->tr[0]);
	f->c.body_case = LCF__CONTENT__BODY_PRACTICE;
	f->c.practice = &f->practice;

	f->practice.title = "Family reading circles";
	f->practice.summary = "Weekly reading evenings for parents and children "
	    "in neighbourhood libraries.\nRun by volunteers.";
	f->practice.language = "en";
	f->areas[0] = "2.2";
	f->areas[1] = "1.1";
	f->practice.n_kflc_areas = 2;
	f->practice.kflc_areas = f->areas;
	f->practice.description = "Longer text\nwith several lines\tand a tab.";
	f->clusters[0] = "literacy";
	f->clusters[1] = "equity_inclusion";
	f->practice.n_clusters = 2;
	f->practice.clusters = f->clusters;
	f->sdgs[0] = 4;
	f->sdgs[1] = 10;
	f->practice.n_sdgs = 2;
	f->practice.sdgs = f->sdgs;
	f->groups[0] = "parents";
	f->groups[1] = "children aged 3-8";
	f->practice.n_target_groups = 2;
	f->practice.target_groups = f->groups;
	f->practice.has_setting = 1;
	f->practice.setting = LCF__SETTING__SETTING_NON_FORMAL;
	f->practice.has_status = 1;
	f->practice.status = LCF__PRACTICE_STATUS__PRACTICE_STATUS_ACTIVE;
	f->practice.has_start_year = 1;
	f->practice.start_year = 2019;
	f->practice.has_end_year = 1;
	f->practice.end_year = 2026;
	f->practice.organisation = "City Library";
	f->practice.has_participants_per_year = 1;
	f->practice.participants_per_year = 1200;
	f->practice.has_annual_cost = 1;
	f->practice.annual_cost = 45000;
	f->practice.currency = "EUR";
	f->practice.url = "https://library.example.org/reading-circles?lang=en#top";
	f->practice.licence = "CC-BY-4.0";
	f->contact.name = "Ana Pop";
	f->contact.email = "ana.pop@library.example.org";
	f->practice.contact = &f->contact;
	f->tr[0].language = "ro";
	f->tr[0].title = "Cercuri de lectură în familie";
	f->trs[0] = &f->tr[0];
	f->practice.n_translations = 1;
	f->practice.translations = f->trs;
	f->practice.review_due = "2024-02-29";
}

static void
city_fx(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	envelope(f, LCF__KIND__KIND_CITY, "profile");
	lcf__city_profile__init(&f->city);
	lcf__contact__init(&f->contact);
	f->c.body_case = LCF__CONTENT__BODY_CITY;
	f->c.city = &f->city;

	f->city.name = "Timișoara";
	f->city.country = "RO";
	f->city.region = "Timiș";
	f->city.has_population = 1;
	f->city.population = 250849;
	f->city.has_population_year = 1;
	f->city.population_year = 2021;
	f->city.has_area_km2 = 1;
	f->city.area_km2 = 130.5;
	f->langs[0] = "ro";
	f->langs[1] = "hu";
	f->langs[2] = "de";
	f->city.n_languages = 3;
	f->city.languages = f->langs;
	f->city.website = "https://www.example.org";
	f->contact.name = "Learning city office";
	f->contact.email = "learning@example.org";
	f->city.contact = &f->contact;
	f->city.has_latitude = 1;
	f->city.latitude = 45.7489;
	f->city.has_longitude = 1;
	f->city.longitude = 21.2087;
	f->city.has_network_member_since = 1;
	f->city.network_member_since = 2023;
	f->challenges[0] = "2.4";
	f->city.n_challenges = 1;
	f->city.challenges = f->challenges;
	f->strengths[0] = "2.6";
	f->strengths[1] = "3.2";
	f->city.n_strengths = 2;
	f->city.strengths = f->strengths;
}

static void
indicator_fx(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	envelope(f, LCF__KIND__KIND_INDICATOR, "2.2-library-loans/2024");
	lcf__indicator_value__init(&f->ind);
	lcf__disaggregation__init(&f->dis);
	f->c.body_case = LCF__CONTENT__BODY_INDICATOR;
	f->c.indicator = &f->ind;

	f->ind.indicator = "2.2-library-loans";
	f->ind.period = "2024";
	f->ind.has_value = 1;
	f->ind.value = 4.2;
	f->ind.unit = "loans per resident";
	f->ind.has_numerator = 1;
	f->ind.numerator = 1050000;
	f->ind.has_denominator = 1;
	f->ind.denominator = 250000;
	f->ind.source = "City library annual report";
	f->ind.has_geo_level = 1;
	f->ind.geo_level = LCF__GEO_LEVEL__GEO_LEVEL_CITY;
	f->ind.has_status = 1;
	f->ind.status = LCF__VALUE_STATUS__VALUE_STATUS_FINAL;
	f->ind.has_baseline = 1;
	f->ind.baseline = 3.1;
	f->ind.has_target = 1;
	f->ind.target = 5;
}

/* Recomputes the indicator fixture's key after a test changed the body. */
static void
rekey(struct fx *f)
{
	validate_indicator_key(&f->ind, f->key, sizeof(f->key));
}

static void
catalog_fx(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	envelope(f, LCF__KIND__KIND_CATALOG, "2.2-test");
	lcf__catalog_indicator__init(&f->cat);
	f->c.body_case = LCF__CONTENT__BODY_CATALOG;
	f->c.catalog = &f->cat;
	f->cat.id = "2.2-test";
	f->cat.sub_area = "2.2";
	f->cat.name = "A test measure";
	f->cat.unit = "%";
	f->cat.definition = "Numerator divided by denominator.";
}

static void
endpoint_fx(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	envelope(f, LCF__KIND__KIND_ENDPOINT, "endpoint");
	lcf__endpoint__init(&f->endpoint);
	f->c.body_case = LCF__CONTENT__BODY_ENDPOINT;
	f->c.endpoint = &f->endpoint;
	f->addrs[0] = "node.example.org:7400";
	f->addrs[1] = "[2001:db8::1]:7400";
	f->endpoint.addresses = f->addrs;
	f->endpoint.n_addresses = 2;
}

static void
expect_ok(const struct fx *f, const struct catalog *cat, unsigned flags)
{
	struct verr err;
	int ret = validate_content(&f->c, cat, flags, &err);

	if (ret != 0)
		print_message("unexpected failure: %s: %s\n", err.field, err.msg);
	assert_int_equal(ret, 0);
}

/* Expects failure at field; when part is not NULL the message must contain it. */
static void
expect_fail(const struct fx *f, const struct catalog *cat, unsigned flags,
    const char *field, const char *part)
{
	struct verr err;
	int ret = validate_content(&f->c, cat, flags, &err);

	if (ret != LCF_EVALIDATE || strcmp(err.field, field) != 0)
		print_message("got %d at '%s': %s\n", ret, err.field, err.msg);
	assert_int_equal(ret, LCF_EVALIDATE);
	assert_string_equal(err.field, field);
	if (part != NULL && strstr(err.msg, part) == NULL) {
		print_message("message '%s' lacks '%s'\n", err.msg, part);
		fail();
	}
}

static void
test_country(void **state)
{
	static const char *good[] = { "RO", "FI", "CO", "GB", "US", "AX", "SS", "ZW", "AD" };
	static const char *bad[] = { "ro", "UK", "XX", "ROU", "R", "", "EU", "R1" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!code_country_valid(good[i]))
			print_message("rejected '%s'\n", good[i]);
		assert_true(code_country_valid(good[i]));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (code_country_valid(bad[i]))
			print_message("accepted '%s'\n", bad[i]);
		assert_false(code_country_valid(bad[i]));
	}
	assert_false(code_country_valid(NULL));
}

static void
test_currency(void **state)
{
	static const char *good[] = { "EUR", "RON", "COP", "USD", "CHF", "AED", "ZWG", "XOF" };
	static const char *bad[] = { "eur", "EURO", "HRK", "XXX", "XTS", "", "EU", "ABC" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!code_currency_valid(good[i]))
			print_message("rejected '%s'\n", good[i]);
		assert_true(code_currency_valid(good[i]));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (code_currency_valid(bad[i]))
			print_message("accepted '%s'\n", bad[i]);
		assert_false(code_currency_valid(bad[i]));
	}
	assert_false(code_currency_valid(NULL));
}

static void
test_bcp47(void **state)
{
	static const char *good[] = {
		"en", "pt-BR", "zh-Hant-TW", "sr-Latn-RS", "es-419", "EN-us", "fi",
		"de-CH-1901", "sl-rozaj-biske", "zh-yue-HK", "hak", "x-whatever",
		"en-US-x-twain", "en-a-bbb-x-a", "de-DE-u-co-phonebk", "ro-RO",
		"az-Latn", "ca-valencia",
	};
	static const char *bad[] = {
		"e", "english", "en--US", "en-", "-en", "toolongsubtag1", "qq",
		"en-x", "en-a", "en-US-a-b", "en_US", "", "en-US-toolongsubtag",
		"x", "x-", "fr-FR-", "1234", "en US", "en-Latn-Latn-US",
		"en-US-x-toolongpart", "fran",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!code_bcp47_valid(good[i]))
			print_message("rejected '%s'\n", good[i]);
		assert_true(code_bcp47_valid(good[i]));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (code_bcp47_valid(bad[i]))
			print_message("accepted '%s'\n", bad[i]);
		assert_false(code_bcp47_valid(bad[i]));
	}
	assert_false(code_bcp47_valid(NULL));
}

static void
test_subareas_clusters_spdx(void **state)
{
	static const char *ids[] = {
		"1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6",
		"3.1", "3.2", "3.3",
	};
	static const char *spdx_good[] = {
		"CC-BY-4.0", "CC0-1.0", "GPL-2.0+", "LicenseRef-city-terms", "MIT",
		"CC-BY-SA-4.0", "Apache-2.0",
	};
	static const char *spdx_bad[] = {
		"", "-MIT", "CC BY", "MIT+x", "CC-BY-4.0,", "(MIT)", "+MIT",
	};
	char longid[70];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_true(code_subarea_valid(ids[i]));
		assert_non_null(code_subarea_name(ids[i]));
		assert_non_null(strstr(code_subarea_list(), ids[i]));
	}
	assert_false(code_subarea_valid("2.7"));
	assert_false(code_subarea_valid("1"));
	assert_false(code_subarea_valid("1.1 "));
	assert_null(code_subarea_name("4.1"));
	assert_null(code_subarea_name(NULL));
	assert_string_equal(code_subarea_name("2.2"),
	    "Revitalized learning in families and communities");
	assert_string_equal(code_subarea_name("3.3"),
	    "Mobilization and utilization of resources");
	assert_string_equal(code_subarea_list(),
	    "1.1 1.2 1.3 2.1 2.2 2.3 2.4 2.5 2.6 3.1 3.2 3.3");

	assert_true(code_cluster_valid("esd"));
	assert_true(code_cluster_valid("climate"));
	assert_true(code_cluster_valid("monitoring_evaluation"));
	assert_false(code_cluster_valid("ESD"));
	assert_false(code_cluster_valid("sports"));
	assert_false(code_cluster_valid(NULL));
	assert_non_null(strstr(code_cluster_list(), "health_wellbeing"));

	for (i = 0; i < sizeof(spdx_good) / sizeof(spdx_good[0]); i++) {
		if (!code_spdx_valid(spdx_good[i]))
			print_message("rejected '%s'\n", spdx_good[i]);
		assert_true(code_spdx_valid(spdx_good[i]));
	}
	for (i = 0; i < sizeof(spdx_bad) / sizeof(spdx_bad[0]); i++) {
		if (code_spdx_valid(spdx_bad[i]))
			print_message("accepted '%s'\n", spdx_bad[i]);
		assert_false(code_spdx_valid(spdx_bad[i]));
	}
	memset(longid, 'a', 64);
	longid[64] = '\0';
	assert_true(code_spdx_valid(longid));
	longid[64] = 'a';
	longid[65] = '\0';
	assert_false(code_spdx_valid(longid));
}

static void
test_valid_records(void **state)
{
	struct fx f;

	(void)state;
	practice_fx(&f);
	expect_ok(&f, NULL, 0);
	city_fx(&f);
	expect_ok(&f, NULL, 0);
	indicator_fx(&f);
	expect_ok(&f, NULL, 0);
	expect_ok(&f, shipped, VALIDATE_CATALOG);
	catalog_fx(&f);
	expect_ok(&f, NULL, 0);

	/* A draft has no author, seq or timestamp yet, and may leave the key. */
	indicator_fx(&f);
	f.c.has_author = f.c.has_seq = f.c.has_timestamp = 0;
	f.c.key = NULL;
	expect_ok(&f, shipped, VALIDATE_DRAFT | VALIDATE_CATALOG);
	practice_fx(&f);
	f.c.has_author = f.c.has_seq = f.c.has_timestamp = 0;
	expect_ok(&f, NULL, VALIDATE_DRAFT);

	/* A tombstone names its key and carries no body. */
	practice_fx(&f);
	f.c.has_deleted = 1;
	f.c.deleted = 1;
	f.c.body_case = LCF__CONTENT__BODY__NOT_SET;
	expect_ok(&f, NULL, 0);

	/* Optional text may be empty; 200 two-byte characters fit a title. */
	practice_fx(&f);
	f.practice.description = "";
	memset(f.buf, 0, sizeof(f.buf));
	for (int i = 0; i < 200; i++)
		memcpy(f.buf + 2 * i, "é", 2);
	f.practice.title = f.buf;
	expect_ok(&f, NULL, 0);
}

static void
test_envelope(void **state)
{
	struct fx f;

	(void)state;
	practice_fx(&f);
	f.c.author.len = 31;
	expect_fail(&f, NULL, 0, "author", "32-byte");
	practice_fx(&f);
	f.c.has_author = 0;
	expect_fail(&f, NULL, 0, "author", NULL);
	practice_fx(&f);
	f.c.seq = 0;
	expect_fail(&f, NULL, 0, "seq", NULL);
	practice_fx(&f);
	f.c.timestamp = 0;
	expect_fail(&f, NULL, 0, "timestamp", NULL);
	practice_fx(&f);
	f.c.has_kind = 0;
	expect_fail(&f, NULL, 0, "kind", "required");
	practice_fx(&f);
	/* A kind whose body is another kind's. */
	f.c.kind = LCF__KIND__KIND_MEMBERSHIP;
	expect_fail(&f, NULL, 0, "practice", "kind membership must carry a body of that kind");
	practice_fx(&f);
	f.c.kind = LCF__KIND__KIND_ENDPOINT;
	expect_fail(&f, NULL, 0, "practice", "kind endpoint must carry a body of that kind");
	practice_fx(&f);
	f.c.kind = (Lcf__Kind)42;
	expect_fail(&f, NULL, 0, "kind", "unknown kind 42");
	practice_fx(&f);
	f.c.kind = (Lcf__Kind)29;
	expect_fail(&f, NULL, 0, "practice", "kind 29 must not carry a body");

	practice_fx(&f);
	f.c.key = "";
	expect_fail(&f, NULL, 0, "key", "required");
	practice_fx(&f);
	f.c.key = NULL;
	expect_fail(&f, NULL, 0, "key", "required");
	practice_fx(&f);
	memset(f.buf, 'k', 201);
	f.buf[201] = '\0';
	f.c.key = f.buf;
	expect_fail(&f, NULL, 0, "key", "too long");
	f.buf[200] = '\0';
	expect_ok(&f, NULL, 0);
	practice_fx(&f);
	/* 101 two-byte characters: few characters, but over 200 bytes. */
	for (int i = 0; i < 101; i++)
		memcpy(f.buf + 2 * i, "ș", 2);
	f.buf[202] = '\0';
	f.c.key = f.buf;
	expect_fail(&f, NULL, 0, "key", "202 bytes");
	practice_fx(&f);
	f.c.key = "line\nbreak";
	expect_fail(&f, NULL, 0, "key", "control character");
	/* Text is checked eight bytes at a time where it is printable ASCII:
	 * a byte that is not is found wherever it is in the word. */
	for (int i = 0; i < 24; i++) {
		static const char *bad[] = { "\x01", "\x1f", "\x7f", "\xc3(" };
		static const char *why[] = { "U+0001", "U+001F", "U+007F", "UTF-8" };

		for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			practice_fx(&f);
			memset(f.buf, ' ' + (char)k, 24);
			memcpy(f.buf + i, bad[k], strlen(bad[k]));
			f.buf[24] = '\0';
			f.c.key = f.buf;
			expect_fail(&f, NULL, 0, "key", why[k]);
		}
		practice_fx(&f);
		memset(f.buf, '~', 24);
		memcpy(f.buf + i, "\xc3\xa9", 2);
		f.buf[i < 23 ? 24 : 25] = '\0';
		f.c.key = f.buf;
		expect_ok(&f, NULL, 0);
	}
	practice_fx(&f);
	f.c.key = "bad\xc3(utf8";
	expect_fail(&f, NULL, 0, "key", "UTF-8");
	practice_fx(&f);
	f.c.key = "overlong\xc0\xaf";
	expect_fail(&f, NULL, 0, "key", "UTF-8");
	practice_fx(&f);
	f.c.key = "surrogate\xed\xa0\x80";
	expect_fail(&f, NULL, 0, "key", "UTF-8");

	/* The body must match the kind, be absent in a tombstone, present otherwise. */
	city_fx(&f);
	f.c.kind = LCF__KIND__KIND_PRACTICE;
	f.c.key = "x";
	expect_fail(&f, NULL, 0, "city", "kind practice must carry a body of that kind");
	practice_fx(&f);
	f.c.has_deleted = 1;
	f.c.deleted = 1;
	expect_fail(&f, NULL, 0, "practice", "must not carry a body");
	practice_fx(&f);
	f.c.body_case = LCF__CONTENT__BODY__NOT_SET;
	expect_fail(&f, NULL, 0, "practice", "needs its body");
	practice_fx(&f);
	f.c.has_deleted = 1;
	f.c.deleted = 1;
	f.c.body_case = LCF__CONTENT__BODY__NOT_SET;
	f.c.has_author = f.c.has_seq = f.c.has_timestamp = 0;
	f.c.key = NULL;
	expect_fail(&f, NULL, VALIDATE_DRAFT, "key", "required");

	practice_fx(&f);
	f.c.practice = NULL;
	expect_fail(&f, NULL, 0, "practice", "needs its body");
	city_fx(&f);
	f.c.key = "my-city";
	expect_fail(&f, NULL, 0, "key", "'profile'");
	indicator_fx(&f);
	f.c.key = "2.2-library-loans/2023";
	expect_fail(&f, NULL, 0, "key", "'2.2-library-loans/2024'");
	/* In a draft an indicator key may be unset, but if set it must match. */
	indicator_fx(&f);
	f.c.key = "2.2-library-loans";
	expect_fail(&f, NULL, VALIDATE_DRAFT, "key", NULL);
	expect_fail(&f, NULL, 0, "key", NULL);
	assert_int_equal(validate_content(NULL, NULL, 0, NULL), LCF_EVALIDATE);
}

/* A kind this node does not know (PROTOCOL 1.5): a received record of it
 * is checked as far as the envelope goes; local writes refuse it. */
static void
beacon_fx(struct fx *f)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	envelope(f, LCF__KIND__KIND_BEACON, "beacon");
	lcf__beacon__init(&f->beacon);
	f->c.body_case = LCF__CONTENT__BODY_BEACON;
	f->c.beacon = &f->beacon;
	f->beacon.software = "0.1.0";
	f->beacon.has_protocol = f->beacon.has_started = f->beacon.has_instance = 1;
	f->beacon.protocol = 3;
	f->beacon.started = 1735689500000LL;
	f->beacon.instance.data = f->instance;
	f->beacon.instance.len = sizeof(f->instance);
	f->beacon.has_set_digest = 1;
	f->beacon.set_digest.data = f->digest;
	f->beacon.set_digest.len = sizeof(f->digest);
	for (i = 0; i < 2; i++) {
		lcf__beacon_kind_count__init(&f->kc[i]);
		f->kc[i].has_kind = f->kc[i].has_count = 1;
		f->kc[i].kind = (uint32_t)(i + 1);
		f->kc[i].count = 10;
		f->kcs[i] = &f->kc[i];
	}
	f->beacon.kinds = f->kcs;
	f->beacon.n_kinds = 2;
}

/* A beacon's body (PROTOCOL 1.3.15): required fields, bounds, 1 KiB. */
static void
test_beacon(void **state)
{
	struct fx f;

	(void)state;
	beacon_fx(&f);
	expect_ok(&f, NULL, 0);
	f.beacon.software = NULL;
	expect_fail(&f, NULL, 0, "software", "required");
	beacon_fx(&f);
	f.beacon.protocol = 1;
	expect_fail(&f, NULL, 0, "protocol", NULL);
	beacon_fx(&f);
	f.beacon.has_started = 0;
	expect_fail(&f, NULL, 0, "started", "required");
	beacon_fx(&f);
	f.beacon.instance.len = 8;
	expect_fail(&f, NULL, 0, "instance", "16 bytes");
	beacon_fx(&f);
	f.beacon.set_digest.len = 32;
	expect_fail(&f, NULL, 0, "set_digest", NULL);
	beacon_fx(&f);
	f.kc[1].kind = 1;
	expect_fail(&f, NULL, 0, "kinds", "ascending");
	beacon_fx(&f);
	f.kc[1].kind = 32;
	expect_fail(&f, NULL, 0, "kinds", NULL);
	beacon_fx(&f);
	f.c.key = "status";
	expect_fail(&f, NULL, 0, "key", NULL);
	/* The longest software name and every count at its widest still fit. */
	beacon_fx(&f);
	f.beacon.software = "0123456789abcdef0123456789abcdef";
	f.kc[0].count = f.kc[1].count = UINT64_MAX;
	f.beacon.has_records = f.beacon.has_set_count = 1;
	f.beacon.records = f.beacon.set_count = UINT64_MAX;
	expect_ok(&f, NULL, 0);
	assert_true(lcf__content__get_packed_size(&f.c) <= VALIDATE_BEACON_MAX_CONTENT);
}

static void
test_unknown_kind(void **state)
{
	struct fx f;

	(void)state;
	practice_fx(&f);
	f.c.kind = (Lcf__Kind)29;
	f.c.practice = NULL;
	f.c.body_case = LCF__CONTENT__BODY__NOT_SET;
	expect_ok(&f, NULL, 0);
	f.c.has_deleted = 1;
	f.c.deleted = 1;
	expect_ok(&f, NULL, 0);
	f.c.kind = (Lcf__Kind)31;
	expect_ok(&f, NULL, 0);
	f.c.kind = (Lcf__Kind)32;
	expect_fail(&f, NULL, 0, "kind", "unknown kind 32");
	f.c.kind = (Lcf__Kind)29;
	expect_fail(&f, NULL, VALIDATE_DRAFT, "kind", "unknown kind 29");
	expect_fail(&f, shipped, VALIDATE_CATALOG, "kind", "unknown kind 29");
	/* The envelope's rules still hold. */
	f.c.seq = 0;
	expect_fail(&f, NULL, 0, "seq", NULL);
	f.c.seq = 3;
	f.c.key = "";
	expect_fail(&f, NULL, 0, "key", "required");
	/* A known kind's body cannot be an unknown kind's. */
	practice_fx(&f);
	f.c.kind = (Lcf__Kind)29;
	expect_fail(&f, NULL, 0, "practice", "must not carry a body of kind practice");
}

static void
test_practice_text(void **state)
{
	struct fx f;
	int i;

	(void)state;
	practice_fx(&f);
	f.practice.title = NULL;
	expect_fail(&f, NULL, 0, "practice.title", "required");
	practice_fx(&f);
	f.practice.title = "";
	expect_fail(&f, NULL, 0, "practice.title", "required");
	practice_fx(&f);
	for (i = 0; i < 201; i++)
		memcpy(f.buf + 2 * i, "é", 2);
	f.buf[402] = '\0';
	f.practice.title = f.buf;
	expect_fail(&f, NULL, 0, "practice.title", "201 characters");
	practice_fx(&f);
	f.practice.title = "Two\nlines";
	expect_fail(&f, NULL, 0, "practice.title", "line breaks");
	practice_fx(&f);
	f.practice.title = "bad \xff byte";
	expect_fail(&f, NULL, 0, "practice.title", "byte 5");
	practice_fx(&f);
	f.practice.summary = NULL;
	expect_fail(&f, NULL, 0, "practice.summary", "required");
	practice_fx(&f);
	memset(f.buf, 's', 2001);
	f.buf[2001] = '\0';
	f.practice.summary = f.buf;
	expect_fail(&f, NULL, 0, "practice.summary", "2001 characters");
	f.buf[2000] = '\0';
	expect_ok(&f, NULL, 0);
	practice_fx(&f);
	memset(f.buf, 'd', 20001);
	f.buf[20001] = '\0';
	f.practice.lessons = f.buf;
	expect_fail(&f, NULL, 0, "practice.lessons", "at most 20000");
	practice_fx(&f);
	f.practice.outcomes = "a bell \a in the text";
	expect_fail(&f, NULL, 0, "practice.outcomes", "U+0007");
	practice_fx(&f);
	f.practice.objectives = "C1 control \xc2\x85 here";
	expect_fail(&f, NULL, 0, "practice.objectives", "U+0085");
	practice_fx(&f);
	f.practice.language = NULL;
	expect_fail(&f, NULL, 0, "practice.language", "required");
	practice_fx(&f);
	f.practice.language = "english";
	expect_fail(&f, NULL, 0, "practice.language", "BCP 47");
	practice_fx(&f);
	f.practice.organisation = "Org\tName";
	expect_fail(&f, NULL, 0, "practice.organisation", NULL);
	practice_fx(&f);
	f.groups[1] = "parents";
	expect_fail(&f, NULL, 0, "practice.target_groups[1]", "twice");
	practice_fx(&f);
	f.groups[1] = "";
	expect_fail(&f, NULL, 0, "practice.target_groups[1]", "required");
	practice_fx(&f);
	f.practice.n_partners = 65;
	f.practice.partners = f.groups;
	expect_fail(&f, NULL, 0, "practice.partners", "at most 64");
}

static void
test_practice_codes(void **state)
{
	struct fx f;

	(void)state;
	practice_fx(&f);
	f.practice.n_kflc_areas = 0;
	expect_fail(&f, NULL, 0, "practice.kflc_areas", "at least 1");
	practice_fx(&f);
	f.areas[1] = "2.9";
	expect_fail(&f, NULL, 0, "practice.kflc_areas[1]",
	    "unknown sub-area '2.9' (valid: 1.1 1.2 1.3 2.1");
	practice_fx(&f);
	f.areas[1] = "2.2";
	expect_fail(&f, NULL, 0, "practice.kflc_areas[1]", "also at [0]");
	practice_fx(&f);
	f.clusters[1] = "sports";
	expect_fail(&f, NULL, 0, "practice.clusters[1]", "valid: esd");
	practice_fx(&f);
	f.clusters[1] = "literacy";
	expect_fail(&f, NULL, 0, "practice.clusters[1]", "twice");
	practice_fx(&f);
	f.sdgs[1] = 18;
	expect_fail(&f, NULL, 0, "practice.sdgs[1]", "1..17");
	practice_fx(&f);
	f.sdgs[0] = 0;
	expect_fail(&f, NULL, 0, "practice.sdgs[0]", NULL);
	practice_fx(&f);
	f.sdgs[1] = 4;
	expect_fail(&f, NULL, 0, "practice.sdgs[1]", "twice");
	practice_fx(&f);
	f.practice.setting = (Lcf__Setting)7;
	expect_fail(&f, NULL, 0, "practice.setting", "non_formal");
	practice_fx(&f);
	f.practice.setting = LCF__SETTING__SETTING_UNSPECIFIED;
	expect_fail(&f, NULL, 0, "practice.setting", NULL);
	practice_fx(&f);
	f.practice.status = (Lcf__PracticeStatus)9;
	expect_fail(&f, NULL, 0, "practice.status", "archived");
	practice_fx(&f);
	f.practice.licence = "CC BY 4.0";
	expect_fail(&f, NULL, 0, "practice.licence", "SPDX");
	practice_fx(&f);
	f.practice.licence = "LicenseRef-timisoara-open";
	expect_ok(&f, NULL, 0);
}

static void
test_practice_figures(void **state)
{
	struct fx f;

	(void)state;
	practice_fx(&f);
	f.practice.start_year = 2027;
	expect_fail(&f, NULL, 0, "practice.end_year", "before start_year 2027");
	practice_fx(&f);
	f.practice.start_year = 1492;
	expect_fail(&f, NULL, 0, "practice.start_year", "plausible");
	practice_fx(&f);
	f.practice.has_end_year = 0;
	f.practice.start_year = 2019;
	expect_ok(&f, NULL, 0);
	practice_fx(&f);
	f.practice.currency = NULL;
	expect_fail(&f, NULL, 0, "practice.currency", "required when annual_cost");
	practice_fx(&f);
	f.practice.currency = "eur";
	expect_fail(&f, NULL, 0, "practice.currency", "write 'EUR'");
	practice_fx(&f);
	f.practice.currency = "EURO";
	expect_fail(&f, NULL, 0, "practice.currency", "ISO 4217");
	practice_fx(&f);
	f.practice.annual_cost = -1;
	expect_fail(&f, NULL, 0, "practice.annual_cost", NULL);
	practice_fx(&f);
	f.practice.annual_cost = NAN;
	expect_fail(&f, NULL, 0, "practice.annual_cost", NULL);
	practice_fx(&f);
	f.practice.has_annual_cost = 0;
	f.practice.currency = NULL;
	expect_ok(&f, NULL, 0);
	practice_fx(&f);
	f.practice.participants_per_year = 2000000000ULL;
	expect_fail(&f, NULL, 0, "practice.participants_per_year", NULL);
}

static void
test_practice_links_dates(void **state)
{
	static char *bad_urls[] = {
		"ftp://example.org", "www.example.org", "https://", "https://exa mple.org",
		"https://user:pw@example.org/", "https://example.org:0/",
		"https://example.org:99999/", "https://.example.org", "https://a..b/",
		"https://example.org\\path", "http://[::1", "https://example.org:/x",
	};
	static char *good_urls[] = {
		"http://example.org", "HTTPS://Example.org/a/b?c=d#e",
		"https://example.org:8443/path", "http://[2001:db8::1]/x",
		"https://bücherei.example/", "https://example.org?q=1",
	};
	static char *bad_dates[] = {
		"2025-02-29", "2024-13-01", "2024-04-31", "2024-00-10", "2024-1-01",
		"24-01-01", "2024/01/01", "2024-01-01T00:00", "1700-01-01",
	};
	struct fx f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
		practice_fx(&f);
		f.practice.url = bad_urls[i];
		expect_fail(&f, NULL, 0, "practice.url", "web address");
	}
	practice_fx(&f);
	f.practice.url = "https://user@example.org/";
	expect_fail(&f, NULL, 0, "practice.url", "user name or password");
	f.practice.url = "https://example.org/contact@office";
	expect_ok(&f, NULL, 0);
	for (i = 0; i < sizeof(good_urls) / sizeof(good_urls[0]); i++) {
		practice_fx(&f);
		f.practice.url = good_urls[i];
		expect_ok(&f, NULL, 0);
	}
	for (i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++) {
		practice_fx(&f);
		f.practice.review_due = bad_dates[i];
		expect_fail(&f, NULL, 0, "practice.review_due", NULL);
	}
	practice_fx(&f);
	f.practice.review_due = "2000-02-29";
	expect_ok(&f, NULL, 0);
	f.practice.review_due = "1900-02-29";
	expect_fail(&f, NULL, 0, "practice.review_due", "calendar date");

	practice_fx(&f);
	f.contact.email = "a@b";
	expect_fail(&f, NULL, 0, "practice.contact.email", "dot");
	practice_fx(&f);
	f.contact.email = "a b@example.org";
	expect_fail(&f, NULL, 0, "practice.contact.email", "space");
	practice_fx(&f);
	f.contact.email = "a@b@example.org";
	expect_fail(&f, NULL, 0, "practice.contact.email", "exactly one");
	practice_fx(&f);
	f.contact.email = "@example.org";
	expect_fail(&f, NULL, 0, "practice.contact.email", "before and after");
	practice_fx(&f);
	f.contact.name = "Name\nSecond line";
	expect_fail(&f, NULL, 0, "practice.contact.name", NULL);
}

static void
test_practice_translations(void **state)
{
	struct fx f;

	(void)state;
	practice_fx(&f);
	f.tr[0].language = "xx";
	expect_fail(&f, NULL, 0, "practice.translations[0].language", "BCP 47");
	practice_fx(&f);
	f.tr[0].language = NULL;
	expect_fail(&f, NULL, 0, "practice.translations[0].language", "required");
	practice_fx(&f);
	f.tr[0].title = NULL;
	expect_fail(&f, NULL, 0, "practice.translations[0].title", "required");
	practice_fx(&f);
	f.tr[0].language = "EN";
	expect_fail(&f, NULL, 0, "practice.translations[0].language", "own language");
	practice_fx(&f);
	lcf__translation__init(&f.tr[1]);
	f.tr[1].language = "RO";
	f.tr[1].title = "Alt titlu";
	f.trs[1] = &f.tr[1];
	f.practice.n_translations = 2;
	expect_fail(&f, NULL, 0, "practice.translations[1].language", "second translation");
	f.tr[1].language = "hu";
	f.tr[1].has_machine_translated = 1;
	f.tr[1].machine_translated = 1;
	f.tr[1].summary = "Rövid összefoglaló.";
	expect_ok(&f, NULL, 0);
}

static void
test_city(void **state)
{
	struct fx f;

	(void)state;
	city_fx(&f);
	f.city.name = NULL;
	expect_fail(&f, NULL, 0, "city.name", "required");
	city_fx(&f);
	f.city.country = NULL;
	expect_fail(&f, NULL, 0, "city.country", "required");
	city_fx(&f);
	f.city.country = "ro";
	expect_fail(&f, NULL, 0, "city.country", "write 'RO'");
	city_fx(&f);
	f.city.country = "XX";
	expect_fail(&f, NULL, 0, "city.country", "ISO 3166-1");
	city_fx(&f);
	f.city.country = "Romania";
	expect_fail(&f, NULL, 0, "city.country", "'Romania'");
	city_fx(&f);
	f.langs[1] = "english";
	expect_fail(&f, NULL, 0, "city.languages[1]", "BCP 47");
	city_fx(&f);
	f.langs[2] = "RO";
	expect_fail(&f, NULL, 0, "city.languages[2]", "twice");
	city_fx(&f);
	f.city.website = "www.example.org";
	expect_fail(&f, NULL, 0, "city.website", "http");
	city_fx(&f);
	f.contact.email = "no-at.example.org";
	expect_fail(&f, NULL, 0, "city.contact.email", "'@'");
	city_fx(&f);
	f.city.latitude = 91;
	expect_fail(&f, NULL, 0, "city.latitude", "-90..90");
	city_fx(&f);
	f.city.longitude = -180.5;
	expect_fail(&f, NULL, 0, "city.longitude", "-180..180");
	city_fx(&f);
	f.city.latitude = NAN;
	expect_fail(&f, NULL, 0, "city.latitude", NULL);
	city_fx(&f);
	f.city.has_latitude = 0;
	expect_fail(&f, NULL, 0, "city.latitude", "longitude");
	city_fx(&f);
	f.city.population_year = 1700;
	expect_fail(&f, NULL, 0, "city.population_year", "plausible year");
	city_fx(&f);
	f.city.network_member_since = 3000;
	expect_fail(&f, NULL, 0, "city.network_member_since", "1800..2200");
	city_fx(&f);
	f.city.population = 0;
	expect_fail(&f, NULL, 0, "city.population", NULL);
	city_fx(&f);
	f.challenges[0] = "4.1";
	expect_fail(&f, NULL, 0, "city.challenges[0]", "unknown sub-area '4.1'");
	city_fx(&f);
	f.strengths[1] = "2.6";
	expect_fail(&f, NULL, 0, "city.strengths[1]", "twice");
	city_fx(&f);
	f.city.area_km2 = 0;
	expect_fail(&f, NULL, 0, "city.area_km2", "above 0");
	city_fx(&f);
	f.city.area_km2 = INFINITY;
	expect_fail(&f, NULL, 0, "city.area_km2", NULL);
	city_fx(&f);
	f.city.region = "Timiș\x7f";
	expect_fail(&f, NULL, 0, "city.region", "U+007F");
}

static void
test_indicator(void **state)
{
	static char *bad_periods[] = {
		"2024-Q5", "2024-Q0", "2024-13/2025-01", "2024-05/2024-03",
		"2024-05/2024-05", "24", "2024-q3", "2024-01", "2023-09/2024-8",
		"FY2024", "1700", "2024 ", "2199-12/2201-01",
	};
	static char *good_periods[] = {
		"2024", "2024-Q3", "2023-09/2024-08", "2024-01/2024-02",
	};
	struct fx f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_periods) / sizeof(bad_periods[0]); i++) {
		indicator_fx(&f);
		f.ind.period = bad_periods[i];
		rekey(&f);
		expect_fail(&f, NULL, 0, "indicator.period", NULL);
	}
	for (i = 0; i < sizeof(good_periods) / sizeof(good_periods[0]); i++) {
		indicator_fx(&f);
		f.ind.period = good_periods[i];
		rekey(&f);
		expect_ok(&f, NULL, 0);
	}
	indicator_fx(&f);
	f.ind.period = NULL;
	expect_fail(&f, NULL, 0, "indicator.period", "required");
	indicator_fx(&f);
	f.ind.indicator = NULL;
	expect_fail(&f, NULL, 0, "indicator.indicator", "required");
	indicator_fx(&f);
	f.ind.has_value = 0;
	expect_fail(&f, NULL, 0, "indicator.value", "required");
	indicator_fx(&f);
	f.ind.value = NAN;
	expect_fail(&f, NULL, 0, "indicator.value", "finite");
	indicator_fx(&f);
	f.ind.numerator = INFINITY;
	expect_fail(&f, NULL, 0, "indicator.numerator", "finite");
	indicator_fx(&f);
	f.ind.denominator = 0;
	expect_fail(&f, NULL, 0, "indicator.denominator", "zero");
	indicator_fx(&f);
	f.ind.baseline = NAN;
	expect_fail(&f, NULL, 0, "indicator.baseline", NULL);
	indicator_fx(&f);
	f.ind.target = -INFINITY;
	expect_fail(&f, NULL, 0, "indicator.target", NULL);
	indicator_fx(&f);
	f.ind.geo_level = (Lcf__GeoLevel)5;
	expect_fail(&f, NULL, 0, "indicator.geo_level", "national_proxy");
	indicator_fx(&f);
	f.ind.status = (Lcf__ValueStatus)0;
	expect_fail(&f, NULL, 0, "indicator.status", "provisional");
	indicator_fx(&f);
	f.ind.disaggregation = &f.dis;
	f.dis.sex = "f/m";
	rekey(&f);
	expect_fail(&f, NULL, 0, "indicator.disaggregation.sex", "'/'");
	indicator_fx(&f);
	f.ind.disaggregation = &f.dis;
	f.dis.group = "a group name that is far too long for a key";
	rekey(&f);
	expect_fail(&f, NULL, 0, "indicator.disaggregation.group", "too long");

	/* Without the catalog any well-formed id passes; with it, only known ones. */
	indicator_fx(&f);
	f.ind.indicator = "local.reading_clubs-2";
	f.ind.unit = "count";
	rekey(&f);
	expect_ok(&f, NULL, 0);
	expect_fail(&f, shipped, VALIDATE_CATALOG, "indicator.indicator",
	    "not in the indicator catalog (valid: ");
	expect_fail(&f, NULL, VALIDATE_CATALOG, "indicator.indicator", "no indicator catalog");
	indicator_fx(&f);
	f.ind.indicator = "bad id";
	expect_fail(&f, NULL, 0, "indicator.indicator", "not an indicator id");
	/* A misspelt id from the default scheme lists its sub-area's ids. */
	indicator_fx(&f);
	f.ind.indicator = "2.2-library-lending";
	rekey(&f);
	expect_fail(&f, shipped, VALIDATE_CATALOG, "indicator.indicator",
	    "valid in sub-area: 2.2-community-learning-centres, 2.2-family-learning, "
	    "2.2-library-loans, 2.2-reading-at-home)");
	indicator_fx(&f);
	f.ind.unit = "per resident";
	expect_fail(&f, shipped, VALIDATE_CATALOG, "indicator.unit", "'loans per resident'");
	expect_ok(&f, NULL, 0);
	indicator_fx(&f);
	f.ind.unit = NULL;
	expect_ok(&f, shipped, VALIDATE_CATALOG);
}

static void
test_catalog_record(void **state)
{
	struct fx f;

	(void)state;
	catalog_fx(&f);
	f.cat.sub_area = "4.1";
	expect_fail(&f, NULL, 0, "catalog.sub_area", "valid: 1.1");
	catalog_fx(&f);
	f.cat.name = NULL;
	expect_fail(&f, NULL, 0, "catalog.name", "required");
	catalog_fx(&f);
	f.cat.unit = "";
	expect_fail(&f, NULL, 0, "catalog.unit", "required");
	catalog_fx(&f);
	f.cat.definition = NULL;
	expect_fail(&f, NULL, 0, "catalog.definition", "required");
	catalog_fx(&f);
	f.cat.id = "no spaces allowed";
	expect_fail(&f, NULL, 0, "catalog.id", NULL);
}

static void
test_endpoint(void **state)
{
	struct fx f;
	int i;

	(void)state;
	endpoint_fx(&f);
	expect_ok(&f, NULL, 0);
	endpoint_fx(&f);
	snprintf(f.key, sizeof(f.key), "addresses");
	expect_fail(&f, NULL, 0, "key", "must be 'endpoint'");
	endpoint_fx(&f);
	f.endpoint.n_addresses = 0;
	expect_fail(&f, NULL, 0, "endpoint.addresses", "at least one");
	endpoint_fx(&f);
	for (i = 0; i < 9; i++)
		f.addrs[i] = "127.0.0.1:7400";
	f.endpoint.n_addresses = 9;
	expect_fail(&f, NULL, 0, "endpoint.addresses", "at most 8");
	endpoint_fx(&f);
	f.addrs[1] = "node.example.org";
	expect_fail(&f, NULL, 0, "endpoint.addresses[1]", "HOST:PORT");
	endpoint_fx(&f);
	f.addrs[0] = "node.example.org:0";
	expect_fail(&f, NULL, 0, "endpoint.addresses[0]", "HOST:PORT");
	/* A tombstone withdraws the endpoint. */
	endpoint_fx(&f);
	f.c.has_deleted = 1;
	f.c.deleted = 1;
	f.c.body_case = LCF__CONTENT__BODY__NOT_SET;
	f.c.endpoint = NULL;
	expect_ok(&f, NULL, 0);
}

static void
test_indicator_key(void **state)
{
	Lcf__IndicatorValue v = LCF__INDICATOR_VALUE__INIT;
	Lcf__Disaggregation d = LCF__DISAGGREGATION__INIT;
	char key[256], small[8];

	(void)state;
	v.indicator = "2.1-early-school-leaving";
	v.period = "2023-09/2024-08";
	validate_indicator_key(&v, key, sizeof(key));
	assert_string_equal(key, "2.1-early-school-leaving/2023-09/2024-08");

	v.disaggregation = &d;
	validate_indicator_key(&v, key, sizeof(key));
	assert_string_equal(key, "2.1-early-school-leaving/2023-09/2024-08");
	d.sex = "female";
	d.age_band = "18-24";
	d.group = "roma";
	validate_indicator_key(&v, key, sizeof(key));
	assert_string_equal(key,
	    "2.1-early-school-leaving/2023-09/2024-08/sex=female,age_band=18-24,group=roma");
	d.sex = NULL;
	d.group = "";
	validate_indicator_key(&v, key, sizeof(key));
	assert_string_equal(key, "2.1-early-school-leaving/2023-09/2024-08/age_band=18-24");

	validate_indicator_key(&v, small, sizeof(small));
	assert_string_equal(small, "2.1-ear");
	validate_indicator_key(&v, small, 1);
	assert_string_equal(small, "");
	validate_indicator_key(NULL, key, sizeof(key));
	assert_string_equal(key, "");
	validate_indicator_key(&v, NULL, 0);
}

static void
catalog_path(char *buf, size_t len)
{
	const char *src = getenv("LCF_SRCDIR");

	if (src != NULL && *src != '\0')
		snprintf(buf, len, "%s/config/catalog.json", src);
	else
		snprintf(buf, len, "config/catalog.json");
}

static int
load_shipped(void **state)
{
	char path[4096], err[512];
	int ret;

	(void)state;
	catalog_path(path, sizeof(path));
	ret = catalog_load(path, &shipped, err, sizeof(err));
	if (ret != 0)
		print_message("catalog_load: %s\n", err);
	return ret;
}

static int
free_shipped(void **state)
{
	(void)state;
	catalog_free(shipped);
	shipped = NULL;
	return 0;
}

static void
test_catalog_shipped(void **state)
{
	int seen[12] = { 0 };
	const char *area;
	char *list;
	size_t i;
	int k;

	(void)state;
	assert_non_null(shipped);
	if (shipped->n < 36)
		print_message("only %zu indicators\n", shipped->n);
	assert_true(shipped->n >= 36);
	assert_true(shipped->n <= 48);
	assert_non_null(strstr(shipped->source, "catalog.json"));
	for (i = 0; i < shipped->n; i++) {
		area = shipped->items[i]->sub_area;
		if (area[0] == '3')
			k = 9 + (area[2] - '1');
		else if (area[0] == '2')
			k = 3 + (area[2] - '1');
		else
			k = area[2] - '1';
		assert_in_range(k, 0, 11);
		seen[k]++;
		/* The id scheme: the sub-area, a hyphen, lower-case words. */
		assert_int_equal(strncmp(shipped->items[i]->id, area, 3), 0);
		assert_int_equal(shipped->items[i]->id[3], '-');
		assert_true(shipped->items[i]->has_version);
		assert_int_equal(shipped->items[i]->version, 1);
		if (i > 0)
			assert_true(strcmp(shipped->items[i - 1]->id, shipped->items[i]->id) < 0);
		assert_ptr_equal(catalog_find(shipped, shipped->items[i]->id), shipped->items[i]);
	}
	for (k = 0; k < 12; k++) {
		if (seen[k] < 3)
			print_message("sub-area index %d has %d indicators\n", k, seen[k]);
		assert_true(seen[k] >= 3);
	}
	assert_null(catalog_find(shipped, "2.2-nope"));
	assert_null(catalog_find(shipped, NULL));
	assert_null(catalog_find(NULL, "2.2-library-loans"));
	list = catalog_id_list(shipped);
	assert_non_null(strstr(list, "1.1-adult-learning-participation, 1.1-local-election-turnout"));
	free(list);
	assert_null(catalog_id_list(NULL));
	catalog_free(NULL);
}

/* Writes text to a fresh temporary file and loads it as a catalog. */
static int
load_text(const char *text, char *err, size_t errlen, char *path, size_t pathlen)
{
	struct catalog *cat = NULL;
	FILE *fp;
	int fd, ret;

	snprintf(path, pathlen, "/tmp/lcf-test-catalog-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	ret = catalog_load(path, &cat, err, errlen);
	unlink(path);
	if (ret == 0)
		assert_non_null(cat);
	catalog_free(cat);
	return ret;
}

static void
expect_bad_catalog(const char *text, const char *part)
{
	char err[512], path[64], want[640];
	int ret = load_text(text, err, sizeof(err), path, sizeof(path));

	if (ret != LCF_ECONFIG)
		print_message("catalog_load returned %d: %s\n", ret, err);
	assert_int_equal(ret, LCF_ECONFIG);
	snprintf(want, sizeof(want), "%s%s", path, part);
	if (strncmp(err, want, strlen(want)) != 0) {
		print_message("error '%s' does not start with '%s'\n", err, want);
		fail();
	}
}

#define ENTRY(id, area, unit) \
	"{\"id\": \"" id "\", \"sub_area\": \"" area "\", \"name\": \"N\", " \
	"\"unit\": " unit ", \"definition\": \"D.\"}"

static void
test_catalog_bad(void **state)
{
	char err[512], path[64];
	struct catalog *cat = (struct catalog *)0x1;

	(void)state;
	assert_int_equal(load_text("{\"version\": 2, \"indicators\": [" ENTRY("b", "1.1", "\"%\"")
	    ", " ENTRY("a", "3.3", "\"count\"") "]}", err, sizeof(err), path,
	    sizeof(path)), 0);

	expect_bad_catalog("{\"version\": 1, \"indicators\": [" ENTRY("a", "1.1", "\"%\"")
	    ", {\"id\": \"b\", \"sub_area\": \"1.1\", \"name\": \"N\", \"definition\": \"D\"}]}",
	    ": indicator 1: field unit: is required");
	expect_bad_catalog("{\"version\": 1, \"indicators\": [" ENTRY("a", "1.1", "5") "]}",
	    ": indicator 0: field unit: must be a string");
	expect_bad_catalog("{\"version\": 1, \"indicators\": [" ENTRY("a", "1.1", "\"%\"")
	    ", " ENTRY("c", "2.9", "\"%\"") "]}",
	    ": indicator 1: field sub_area: unknown sub-area '2.9'");
	expect_bad_catalog("{\"version\": 1, \"indicators\": [" ENTRY("x", "1.1", "\"%\"")
	    ", " ENTRY("y", "1.2", "\"%\"") ", " ENTRY("x", "1.3", "\"%\"") "]}",
	    ": indicator 2: field id: duplicate id 'x' (first at indicator 0)");
	expect_bad_catalog("{\"version\": 1, \"indicators\": [{\"id\": \"a\", \"colour\": \"red\"}]}",
	    ": indicator 0: field colour: unknown field");
	expect_bad_catalog("{\"version\": 1, \"indicators\": [{\"id\": \"a b\", \"sub_area\": "
	    "\"1.1\", \"name\": \"N\", \"unit\": \"%\", \"definition\": \"D\"}]}",
	    ": indicator 0: field id: 'a b' is not an indicator id");
	expect_bad_catalog("{\"version\": 1, \"indicators\": [" ENTRY("a\\u0000b", "1.1", "\"%\"") "]}",
	    ":1:");
	expect_bad_catalog("{\"version\": 0, \"indicators\": [" ENTRY("a", "1.1", "\"%\"") "]}",
	    ": field version");
	expect_bad_catalog("{\"version\": 1, \"indicators\": []}", ": field indicators");
	expect_bad_catalog("{\"version\": 1, \"indicators\": [], \"extra\": 1}", ": field extra");
	expect_bad_catalog("[1, 2]", ": must be a JSON object");
	expect_bad_catalog("{\"version\": 1,\n \"indicators\": [}", ":2:");
	expect_bad_catalog("{\"version\": 1, \"version\": 2}", ":1:");

	assert_int_equal(catalog_load("/nonexistent/catalog.json", &cat, err, sizeof(err)),
	    LCF_EIO);
	assert_ptr_equal(cat, (struct catalog *)0x1);
	assert_non_null(strstr(err, "/nonexistent/catalog.json: cannot open"));
}

/* The federation's kinds: membership, revocation, endpoint, succession. */
static void
test_federation_kinds(void **state)
{
	struct fx f;
	Lcf__Membership m;
	Lcf__Revocation r;
	Lcf__Endpoint e;
	Lcf__Succession su;
	uint8_t city[32], msg[SUCCESSION_MSG_LEN], sig[64];
	char hex[LCF_ID_HEX], *addrs[9];
	struct identity *old, *nw;
	size_t i;

	(void)state;
	assert_true(sodium_init() >= 0);
	old = identity_new();
	nw = identity_new();
	assert_non_null(old);
	assert_non_null(nw);
	memset(city, 0x11, sizeof(city));
	hex_encode(city, 32, hex);

	/* membership: key is the city id in hex */
	memset(&f, 0, sizeof(f));
	envelope(&f, LCF__KIND__KIND_MEMBERSHIP, hex);
	lcf__membership__init(&m);
	m.has_city = 1;
	m.city.data = city;
	m.city.len = 32;
	m.name = "Tampere";
	m.country = "FI";
	f.c.body_case = LCF__CONTENT__BODY_MEMBERSHIP;
	f.c.membership = &m;
	expect_ok(&f, NULL, 0);
	f.c.key = "profile";
	expect_fail(&f, NULL, 0, "key", "city id");
	f.c.key = f.key;
	m.country = "XX";
	expect_fail(&f, NULL, 0, "membership.country", "ISO 3166");
	m.country = "FI";
	m.city.len = 31;
	expect_fail(&f, NULL, 0, "membership.city", "32-byte");
	m.city.len = 32;
	m.has_admitted = m.has_expires = 1;
	m.admitted = 2000;
	m.expires = 1000;
	expect_fail(&f, NULL, 0, "membership.expires", "later than admitted");
	m.expires = 3000;
	expect_ok(&f, NULL, 0);

	/* revocation: a reason is required */
	memset(&f, 0, sizeof(f));
	envelope(&f, LCF__KIND__KIND_REVOCATION, hex);
	lcf__revocation__init(&r);
	r.has_city = 1;
	r.city.data = city;
	r.city.len = 32;
	f.c.body_case = LCF__CONTENT__BODY_REVOCATION;
	f.c.revocation = &r;
	expect_fail(&f, NULL, 0, "revocation.reason", "required");
	r.reason = "key stolen";
	expect_ok(&f, NULL, 0);

	/* endpoint: 1..8 HOST:PORT, key "endpoint" */
	memset(&f, 0, sizeof(f));
	envelope(&f, LCF__KIND__KIND_ENDPOINT, "endpoint");
	lcf__endpoint__init(&e);
	f.c.body_case = LCF__CONTENT__BODY_ENDPOINT;
	f.c.endpoint = &e;
	expect_fail(&f, NULL, 0, "endpoint.addresses", "at least one");
	for (i = 0; i < 9; i++)
		addrs[i] = "127.0.0.1:7400";
	addrs[1] = "[::1]:7401";
	e.addresses = addrs;
	e.n_addresses = 2;
	expect_ok(&f, NULL, 0);
	e.n_addresses = 9;
	expect_fail(&f, NULL, 0, "endpoint.addresses", "at most 8");
	addrs[1] = "no-port-here";
	e.n_addresses = 2;
	expect_fail(&f, NULL, 0, "endpoint.addresses[1]", "HOST:PORT");
	addrs[1] = "[::1]:7401";
	f.c.key = "addresses";
	expect_fail(&f, NULL, 0, "key", "'endpoint'");

	/* succession: the successor's signature over label, old, new */
	identity_generate(old);
	identity_generate(nw);
	memset(&f, 0, sizeof(f));
	envelope(&f, LCF__KIND__KIND_SUCCESSION, "succession");
	memcpy(f.author, old->pk, 32);
	lcf__succession__init(&su);
	su.has_successor = su.has_successor_signature = 1;
	su.successor.data = nw->pk;
	su.successor.len = 32;
	validate_succession_message(old->pk, nw->pk, msg);
	assert_memory_equal(msg, "lcf-succession-v1", 17);
	identity_sign(nw, msg, sizeof(msg), sig);
	su.successor_signature.data = sig;
	su.successor_signature.len = 64;
	f.c.body_case = LCF__CONTENT__BODY_SUCCESSION;
	f.c.succession = &su;
	expect_ok(&f, NULL, 0);
	/* signed by the old key instead: refused */
	identity_sign(old, msg, sizeof(msg), sig);
	expect_fail(&f, NULL, 0, "succession.successor_signature", "successor");
	/* a draft has no author yet: the signature waits */
	expect_ok(&f, NULL, VALIDATE_DRAFT);
	identity_sign(nw, msg, sizeof(msg), sig);
	su.successor.data = old->pk;
	expect_fail(&f, NULL, 0, "succession.successor", "author itself");
	identity_free(old);
	identity_free(nw);
}

/* Field paths are built without printf; they must read as before and be cut
 * to fit, never overrun. */
static void
test_verr_path(void **state)
{
	char buf[96], small[8];

	(void)state;
	assert_string_equal(verr_path(buf, sizeof(buf), "practice", "title", -1),
	    "practice.title");
	assert_string_equal(verr_path(buf, sizeof(buf), "practice", "kflc_areas",
	    12), "practice.kflc_areas[12]");
	assert_string_equal(verr_path(buf, sizeof(buf), "", "title", -1), "title");
	assert_string_equal(verr_path(buf, sizeof(buf), NULL, "sdgs", 0), "sdgs[0]");
	assert_string_equal(verr_path(small, sizeof(small), "practice", "title",
	    3), "practic");
	assert_string_equal(verr_path(small, sizeof(small), "", "ab", 12345),
	    "ab[1234");
	assert_string_equal(verr_path(small, 1, "x", "y", 1), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verr_path),
		cmocka_unit_test(test_country),
		cmocka_unit_test(test_currency),
		cmocka_unit_test(test_bcp47),
		cmocka_unit_test(test_subareas_clusters_spdx),
		cmocka_unit_test(test_valid_records),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_beacon),
		cmocka_unit_test(test_unknown_kind),
		cmocka_unit_test(test_practice_text),
		cmocka_unit_test(test_practice_codes),
		cmocka_unit_test(test_practice_figures),
		cmocka_unit_test(test_practice_links_dates),
		cmocka_unit_test(test_practice_translations),
		cmocka_unit_test(test_city),
		cmocka_unit_test(test_indicator),
		cmocka_unit_test(test_catalog_record),
		cmocka_unit_test(test_federation_kinds),
		cmocka_unit_test(test_endpoint),
		cmocka_unit_test(test_indicator_key),
		cmocka_unit_test(test_catalog_shipped),
		cmocka_unit_test(test_catalog_bad),
	};

	return cmocka_run_group_tests(tests, load_shipped, free_shipped);
}
