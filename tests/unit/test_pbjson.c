// SPDX-License-Identifier: Apache-2.0
// Unit tests for pbjson: JSON <-> protobuf-c round trips and errors.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control.pb-c.h"
#include "base/error.h"
#include "model/pbjson.h"

/* Fails with both documents printed when two JSON values differ. */
static void
assert_json_eq(const json_t *got, const json_t *want)
{
	char *g, *w;

	if (json_equal(got, want))
		return;
	g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
	w = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
	print_error("JSON differs:\n got: %s\nwant: %s\n", g ? g : "(null)",
	    w ? w : "(null)");
	free(g);
	free(w);
	fail();
}

static json_t *
parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	if (j == NULL) {
		print_error("bad test JSON: %s: %s\n", jerr.text, text);
		fail();
	}
	return j;
}

static void
pack(const ProtobufCMessage *m, uint8_t **buf, size_t *len)
{
	*len = protobuf_c_message_get_packed_size(m);
	*buf = malloc(*len ? *len : 1);
	assert_non_null(*buf);
	assert_int_equal(protobuf_c_message_pack(m, *buf), *len);
}

static void
assert_same_bytes(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	uint8_t *pa, *pb;
	size_t la, lb;

	pack(a, &pa, &la);
	pack(b, &pb, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(pa, pb, la);
	free(pa);
	free(pb);
}

/* A Practice with every field set; the strings are static, so free by hand. */
struct full_practice {
	Lcf__Practice p;
	Lcf__Contact contact;
	Lcf__Translation tr[3];
	Lcf__Translation *trp[3];
	char *areas[2];
	char *clusters[2];
	uint32_t sdgs[3];
	char *groups[1];
	char *partners[2];
};

static void
full_practice_init(struct full_practice *f)
{
	size_t i;

	lcf__practice__init(&f->p);
	lcf__contact__init(&f->contact);
	f->p.title = "Learning festival";
	f->p.summary = "A week of free courses in every district, \"open to all\".";
	f->p.language = "en";
	f->areas[0] = "2.2";
	f->areas[1] = "2.6";
	f->p.n_kflc_areas = 2;
	f->p.kflc_areas = f->areas;
	f->p.description = "Line one\nline two\ttabbed, with unicode: caf\xc3\xa9 \xe2\x82\xac";
	f->p.objectives = "obj";
	f->p.implementation = "impl";
	f->p.outcomes = "out";
	f->p.lessons = "less";
	f->clusters[0] = "esd";
	f->clusters[1] = "literacy";
	f->p.n_clusters = 2;
	f->p.clusters = f->clusters;
	f->sdgs[0] = 4;
	f->sdgs[1] = 11;
	f->sdgs[2] = 17;
	f->p.n_sdgs = 3;
	f->p.sdgs = f->sdgs;
	f->groups[0] = "adults";
	f->p.n_target_groups = 1;
	f->p.target_groups = f->groups;
	f->p.has_setting = 1;
	f->p.setting = LCF__SETTING__SETTING_NON_FORMAL;
	f->p.has_status = 1;
	f->p.status = LCF__PRACTICE_STATUS__PRACTICE_STATUS_ACTIVE;
	f->p.has_start_year = 1;
	f->p.start_year = 2015;
	f->p.has_end_year = 1;
	f->p.end_year = 4294967295u;
	f->p.organisation = "City library";
	f->partners[0] = "University";
	f->partners[1] = "Chamber of commerce";
	f->p.n_partners = 2;
	f->p.partners = f->partners;
	f->p.has_participants_per_year = 1;
	/* Beyond INT64_MAX: exercises the decimal-string form of large uint64s. */
	f->p.participants_per_year = 18446744073709551615u;
	f->p.has_annual_cost = 1;
	f->p.annual_cost = 12345.678901234567;
	f->p.currency = "EUR";
	f->p.url = "https://example.org/festival";
	f->p.licence = "CC-BY-4.0";
	f->contact.name = "Ana";
	f->contact.role = "Coordinator";
	f->contact.email = "ana@example.org";
	f->p.contact = &f->contact;
	for (i = 0; i < 3; i++) {
		lcf__translation__init(&f->tr[i]);
		f->trp[i] = &f->tr[i];
	}
	f->tr[0].language = "fr";
	f->tr[0].title = "Festival";
	f->tr[0].summary = "Une semaine";
	f->tr[0].has_machine_translated = 1;
	f->tr[0].machine_translated = 1;
	f->tr[1].language = "de";
	f->tr[1].has_machine_translated = 1;
	f->tr[1].machine_translated = 0;
	f->tr[2].language = "es";
	f->p.n_translations = 3;
	f->p.translations = f->trp;
	f->p.review_due = "2026-01-31";
}

static void
test_roundtrip_practice(void **state)
{
	struct full_practice f;
	ProtobufCMessage *m2 = NULL;
	struct verr err;
	json_t *j1, *j2;

	(void)state;
	full_practice_init(&f);
	j1 = pbjson_encode(&f.p.base);
	assert_non_null(j1);
	/* Spot checks of the encoding rules before the round trip. */
	assert_string_equal(json_string_value(json_object_get(j1, "setting")),
	    "non_formal");
	assert_string_equal(json_string_value(json_object_get(j1, "status")), "active");
	assert_string_equal(json_string_value(json_object_get(j1,
	    "participants_per_year")), "18446744073709551615");
	assert_int_equal(json_integer_value(json_object_get(j1, "end_year")),
	    4294967295LL);
	assert_int_equal(json_array_size(json_object_get(j1, "translations")), 3);
	assert_null(json_object_get(json_array_get(json_object_get(j1,
	    "translations"), 2), "machine_translated"));

	memset(&err, 0, sizeof(err));
	if (pbjson_decode(j1, &lcf__practice__descriptor, "practice", &m2, &err) != 0) {
		print_error("decode failed: %s: %s\n", err.field, err.msg);
		fail();
	}
	j2 = pbjson_encode(m2);
	assert_json_eq(j2, j1);
	assert_same_bytes(&f.p.base, m2);
	assert_true(((Lcf__Practice *)m2)->annual_cost == f.p.annual_cost);
	json_decref(j1);
	json_decref(j2);
	protobuf_c_message_free_unpacked(m2, NULL);
}

static const char content_json[] =
	"{\"author\": \"00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\","
	" \"seq\": 42, \"kind\": \"practice\", \"key\": \"learning-festival\","
	" \"timestamp\": -1700000000000, \"deleted\": false,"
	" \"practice\": {\"title\": \"T\", \"summary\": \"S\", \"language\": \"en\","
	" \"kflc_areas\": \"2.2\", \"setting\": \"FORMAL\"}}";

static void
test_content_oneof(void **state)
{
	ProtobufCMessage *m = NULL, *m2 = NULL;
	Lcf__Content *c;
	struct verr err;
	json_t *in, *j1, *j2;

	(void)state;
	in = parse(content_json);
	memset(&err, 0, sizeof(err));
	assert_int_equal(pbjson_decode(in, &lcf__content__descriptor, NULL, &m, &err), 0);
	c = (Lcf__Content *)m;
	assert_int_equal(c->body_case, LCF__CONTENT__BODY_PRACTICE);
	assert_int_equal(c->kind, LCF__KIND__KIND_PRACTICE);
	assert_int_equal(c->seq, 42);
	assert_int_equal(c->timestamp, -1700000000000LL);
	assert_true(c->has_deleted);
	assert_int_equal(c->deleted, 0);
	assert_int_equal(c->author.len, 32);
	assert_int_equal(c->author.data[10], 0xaa);
	assert_int_equal(c->practice->n_kflc_areas, 1);
	assert_string_equal(c->practice->kflc_areas[0], "2.2");
	assert_int_equal(c->practice->setting, LCF__SETTING__SETTING_FORMAL);

	j1 = pbjson_encode(m);
	assert_string_equal(json_string_value(json_object_get(j1, "author")),
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j1,
	    "practice"), "setting")), "formal");
	assert_null(json_object_get(j1, "city"));
	assert_int_equal(pbjson_decode(j1, &lcf__content__descriptor, "", &m2, &err), 0);
	j2 = pbjson_encode(m2);
	assert_json_eq(j2, j1);
	assert_same_bytes(m, m2);
	json_decref(in);
	json_decref(j1);
	json_decref(j2);
	protobuf_c_message_free_unpacked(m, NULL);
	protobuf_c_message_free_unpacked(m2, NULL);
}

static void
test_record(void **state)
{
	ProtobufCMessage *m = NULL;
	uint8_t id[32];
	struct verr err;
	json_t *in, *r;
	char idhex[65];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(id); i++) {
		id[i] = (uint8_t)(0xf0 + i % 16);
		snprintf(idhex + 2 * i, 3, "%02x", id[i]);
	}
	in = parse(content_json);
	assert_int_equal(pbjson_decode(in, &lcf__content__descriptor, NULL, &m, &err), 0);
	r = pbjson_record(id, (Lcf__Content *)m, "Lisboa");
	assert_string_equal(json_string_value(json_object_get(r, "id")), idhex);
	assert_string_equal(json_string_value(json_object_get(r, "city_name")),
	    "Lisboa");
	assert_string_equal(json_string_value(json_object_get(r, "kind")), "practice");
	assert_string_equal(json_string_value(json_object_get(r, "key")),
	    "learning-festival");
	assert_int_equal(json_integer_value(json_object_get(r, "seq")), 42);
	assert_true(json_is_false(json_object_get(r, "deleted")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(r,
	    "practice"), "title")), "T");
	json_decref(r);
	json_decref(in);
	protobuf_c_message_free_unpacked(m, NULL);

	/* A city profile's body takes the "city" member. */
	in = parse("{\"kind\": \"city\", \"key\": \"profile\", \"city\": {\"name\": \"Porto\"}}");
	assert_int_equal(pbjson_decode(in, &lcf__content__descriptor, NULL, &m, &err), 0);
	r = pbjson_record(id, (Lcf__Content *)m, "Porto");
	assert_true(json_is_object(json_object_get(r, "city")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(r,
	    "city"), "name")), "Porto");
	assert_string_equal(json_string_value(json_object_get(r, "city_name")),
	    "Porto");
	json_decref(r);
	json_decref(in);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* Decodes text into desc and expects failure at field with a message containing msg. */
static void
expect_error(const ProtobufCMessageDescriptor *desc, const char *prefix,
    const char *text, const char *field, const char *msg)
{
	ProtobufCMessage *m = NULL;
	struct verr err;
	json_t *j = parse(text);
	int r;

	memset(&err, 0, sizeof(err));
	r = pbjson_decode(j, desc, prefix, &m, &err);
	if (r != LCF_EVALIDATE || strcmp(err.field, field) != 0 ||
	    strstr(err.msg, msg) == NULL) {
		print_error("input %s\n got: %d field '%s' msg '%s'\nwant: %d field '%s'"
		    " msg containing '%s'\n", text, r, err.field, err.msg,
		    LCF_EVALIDATE, field, msg);
		fail();
	}
	assert_null(m);
	json_decref(j);
}

static void
test_errors(void **state)
{
	const ProtobufCMessageDescriptor *p = &lcf__practice__descriptor;
	const ProtobufCMessageDescriptor *c = &lcf__content__descriptor;

	(void)state;
	expect_error(p, "practice", "{\"title\": \"x\", \"titel\": \"y\"}",
	    "practice.titel", "unknown field 'titel'");
	expect_error(c, "", "{\"practice\": {\"contact\": {\"emial\": \"a\"}}}",
	    "practice.contact.emial", "unknown field 'emial'");
	expect_error(p, "practice", "{\"title\": 5}", "practice.title",
	    "expected a string, got 5");
	expect_error(p, "practice", "{\"contact\": {\"email\": true}}",
	    "practice.contact.email", "expected a string, got true");
	expect_error(p, "practice", "{\"contact\": \"Ana\"}", "practice.contact",
	    "expected an object");
	expect_error(p, "practice", "{\"translations\": [{\"title\": \"a\"}, {},"
	    " {\"title\": 1}]}", "practice.translations[2].title",
	    "expected a string");
	expect_error(p, "practice", "{\"translations\": [{\"machine_translated\": \"maybe\"}]}",
	    "practice.translations[0].machine_translated", "expected a boolean");
	expect_error(p, "practice", "{\"start_year\": 4294967296}", "practice.start_year",
	    "out of range for uint32");
	expect_error(p, "practice", "{\"start_year\": \"99999999999999999999999\"}",
	    "practice.start_year", "out of range for uint32");
	expect_error(p, "practice", "{\"start_year\": 2020.5}", "practice.start_year",
	    "expected an integer, got 2020.5");
	expect_error(p, "practice", "{\"start_year\": \"20x0\"}", "practice.start_year",
	    "expected an integer, got '20x0'");
	expect_error(p, "practice", "{\"start_year\": \"\"}", "practice.start_year",
	    "expected an integer");
	expect_error(p, "practice", "{\"sdgs\": [4, -1]}", "practice.sdgs[1]",
	    "must not be negative");
	expect_error(p, "practice", "{\"participants_per_year\": \"-5\"}",
	    "practice.participants_per_year", "must not be negative");
	expect_error(p, "practice", "{\"participants_per_year\": \"18446744073709551616\"}",
	    "practice.participants_per_year", "out of range for uint64");
	expect_error(p, "practice", "{\"annual_cost\": \"nan\"}", "practice.annual_cost",
	    "expected a finite number");
	expect_error(p, "practice", "{\"annual_cost\": \"inf\"}", "practice.annual_cost",
	    "expected a finite number");
	expect_error(p, "practice", "{\"annual_cost\": \"1e400\"}", "practice.annual_cost",
	    "expected a finite number");
	expect_error(p, "practice", "{\"annual_cost\": [1]}", "practice.annual_cost",
	    "expected a number, got a list");
	expect_error(p, "practice", "{\"setting\": \"formel\"}", "practice.setting",
	    "unknown value 'formel'; valid: formal, non_formal, informal");
	expect_error(p, "practice", "{\"setting\": \"unspecified\"}", "practice.setting",
	    "unknown value 'unspecified'");
	expect_error(p, "practice", "{\"status\": 1}", "practice.status",
	    "expected a string, got 1");
	expect_error(c, NULL, "{\"author\": \"abc\"}", "author",
	    "expected an even number of hex digits");
	expect_error(c, NULL, "{\"author\": \"0g\"}", "author", "expected hex digits");
	expect_error(c, NULL, "{\"kind\": \"unspecified\"}", "kind", "unknown value");
	expect_error(c, NULL, "{\"city\": {}, \"practice\": {}}", "practice",
	    "cannot be set together with 'city'");
	expect_error(c, "draft", "[]", "draft", "expected an object, got a list");
	/* int32 from control.proto: the negative bound is inclusive. */
	expect_error(&lcf__ctl_response__descriptor, NULL, "{\"error_index\": 2147483648}",
	    "error_index", "out of range for int32");
	expect_error(&lcf__ctl_response__descriptor, NULL, "{\"error\": -2147483649}",
	    "error", "out of range for int32");
}

static void
test_nul_and_list_cap(void **state)
{
	ProtobufCMessage *m = NULL;
	struct verr err;
	json_t *j, *list;
	size_t i;

	(void)state;
	j = json_object();
	json_object_set_new(j, "title", json_stringn("a\0b", 3));
	assert_int_equal(pbjson_decode(j, &lcf__practice__descriptor, "practice", &m,
	    &err), LCF_EVALIDATE);
	assert_string_equal(err.field, "practice.title");
	assert_string_equal(err.msg, "contains a NUL character");
	json_decref(j);

	j = json_object();
	list = json_array();
	for (i = 0; i < 10001; i++)
		json_array_append_new(list, json_string("2.2"));
	json_object_set_new(j, "kflc_areas", list);
	assert_int_equal(pbjson_decode(j, &lcf__practice__descriptor, "practice", &m,
	    &err), LCF_EVALIDATE);
	assert_string_equal(err.field, "practice.kflc_areas");
	assert_non_null(strstr(err.msg, "too many items"));
	/* At the cap the list is accepted. */
	json_array_remove(list, 0);
	assert_int_equal(pbjson_decode(j, &lcf__practice__descriptor, "practice", &m,
	    &err), 0);
	assert_int_equal(((Lcf__Practice *)m)->n_kflc_areas, 10000);
	protobuf_c_message_free_unpacked(m, NULL);
	json_decref(j);
}

static void
test_lenient_inputs(void **state)
{
	ProtobufCMessage *m = NULL;
	Lcf__Practice *p;
	Lcf__CtlResponse *r;
	struct verr err;
	json_t *j;

	(void)state;
	j = parse("{\"title\": null, \"start_year\": \" 2021 \", \"end_year\": \"2030.0\","
	    " \"annual_cost\": \" 1.5e3 \", \"participants_per_year\": \"18446744073709551615\","
	    " \"sdgs\": \"4\", \"setting\": \" Informal \", \"status\": \"ended\","
	    " \"translations\": [{\"machine_translated\": \"Yes\"},"
	    " {\"machine_translated\": \"0\"}, {\"machine_translated\": null}]}");
	memset(&err, 0, sizeof(err));
	if (pbjson_decode(j, &lcf__practice__descriptor, "practice", &m, &err) != 0) {
		print_error("decode failed: %s: %s\n", err.field, err.msg);
		fail();
	}
	p = (Lcf__Practice *)m;
	assert_null(p->title);
	assert_int_equal(p->start_year, 2021);
	assert_int_equal(p->end_year, 2030);
	assert_true(p->annual_cost == 1500.0);
	assert_int_equal(p->participants_per_year, 18446744073709551615u);
	assert_int_equal(p->n_sdgs, 1);
	assert_int_equal(p->sdgs[0], 4);
	assert_int_equal(p->setting, LCF__SETTING__SETTING_INFORMAL);
	assert_int_equal(p->status, LCF__PRACTICE_STATUS__PRACTICE_STATUS_ENDED);
	assert_int_equal(p->n_translations, 3);
	assert_true(p->translations[0]->has_machine_translated);
	assert_int_equal(p->translations[0]->machine_translated, 1);
	assert_int_equal(p->translations[1]->machine_translated, 0);
	assert_false(p->translations[2]->has_machine_translated);
	protobuf_c_message_free_unpacked(m, NULL);
	json_decref(j);

	j = parse("{\"error\": -2147483648, \"error_index\": \"-1\"}");
	assert_int_equal(pbjson_decode(j, &lcf__ctl_response__descriptor, NULL, &m,
	    &err), 0);
	r = (Lcf__CtlResponse *)m;
	assert_int_equal(r->error, INT32_MIN);
	assert_int_equal(r->error_index, -1);
	protobuf_c_message_free_unpacked(m, NULL);
	json_decref(j);
}

static void
test_invalid_utf8_encode(void **state)
{
	Lcf__Contact ct = LCF__CONTACT__INIT;
	json_t *j;

	(void)state;
	ct.name = "ab\xff" "c";
	j = pbjson_encode(&ct.base);
	assert_string_equal(json_string_value(json_object_get(j, "name")),
	    "ab\xef\xbf\xbd" "c");
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_practice),
		cmocka_unit_test(test_content_oneof),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nul_and_list_cap),
		cmocka_unit_test(test_lenient_inputs),
		cmocka_unit_test(test_invalid_utf8_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
