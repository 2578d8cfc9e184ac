// SPDX-License-Identifier: Apache-2.0
// pbstream (yajl events -> message) against jansson + pbjson: the same bytes, the same errors.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "model/pbjson.h"
#include "model/pbstream.h"
#include "model/tabular.h"
#include "base/xmalloc.h"

/* What one decoder made of a text: the packed message, or its problem. */
struct outcome {
	int ret;              /* 0, LCF_EINVAL (syntax) or LCF_EVALIDATE */
	uint8_t *packed;
	size_t len;
	char *key;
	int line;             /* syntax: line of the problem in the text */
	struct verr err;      /* field problem */
};

static void
outcome_free(struct outcome *o)
{
	free(o->packed);
	free(o->key);
	memset(o, 0, sizeof(*o));
}

static void
pack(ProtobufCMessage *m, struct outcome *o)
{
	o->len = protobuf_c_message_get_packed_size(m);
	o->packed = xmalloc(o->len + 1);
	protobuf_c_message_pack(m, o->packed);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* The path lcctl took before: jansson (duplicates refused), the record key
 * taken out as take_key did, then pbjson_decode. */
static void
old_decode(const char *text, size_t len, const ProtobufCMessageDescriptor *d,
    const char *keyname, struct outcome *o)
{
	ProtobufCMessage *m = NULL;
	json_error_t jerr;
	json_t *obj, *k;

	memset(o, 0, sizeof(*o));
	obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL) {
		o->ret = LCF_EINVAL;
		o->line = jerr.line;
		return;
	}
	if (keyname != NULL && json_is_object(obj) &&
	    (k = json_object_get(obj, keyname)) != NULL) {
		if (!json_is_string(k)) {
			o->ret = verr_set(&o->err, keyname, "must be a string");
			goto out;
		}
		o->key = xstrdup(json_string_value(k));
		json_object_del(obj, keyname);
	}
	if ((o->ret = pbjson_decode(obj, d, "", &m, &o->err)) == 0)
		pack(m, o);
out:
	json_decref(obj);
}

static void
new_decode(const char *text, size_t len, const ProtobufCMessageDescriptor *d,
    const char *keyname, struct outcome *o)
{
	struct pbstream_error err;
	ProtobufCMessage *m = NULL;

	memset(o, 0, sizeof(*o));
	o->ret = pbstream_decode(text, len, d, keyname, &m, &o->key, &err);
	if (o->ret == 0)
		pack(m, o);
	else if (o->ret == LCF_EINVAL)
		o->line = err.line;
	else
		o->err = err.verr;
}

/* Both decoders agree on text: the same bytes and key, or the same problem
 * (a syntax problem on the same line; a field problem word for word). */
static void
expect_same(const char *text, size_t len, const ProtobufCMessageDescriptor *d,
    const char *keyname)
{
	struct outcome a, b;

	old_decode(text, len, d, keyname, &a);
	new_decode(text, len, d, keyname, &b);
	if (a.ret != b.ret || (a.ret == LCF_EINVAL && a.line != b.line) ||
	    (a.ret == LCF_EVALIDATE && (strcmp(a.err.field, b.err.field) != 0 ||
	    strcmp(a.err.msg, b.err.msg) != 0))) {
		print_error("decoders differ on %.*s\n"
		    "  jansson+pbjson: %d line %d field '%s' msg '%s'\n"
		    "  pbstream:       %d line %d field '%s' msg '%s'\n",
		    (int)(len > 300 ? 300 : len), text,
		    a.ret, a.line, a.err.field, a.err.msg,
		    b.ret, b.line, b.err.field, b.err.msg);
		fail();
	}
	if (a.ret == 0) {
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.packed, b.packed, a.len);
		assert_true((a.key == NULL) == (b.key == NULL));
		if (a.key != NULL)
			assert_string_equal(a.key, b.key);
	}
	outcome_free(&a);
	outcome_free(&b);
}

static void
expect_str(const char *text, const ProtobufCMessageDescriptor *d,
    const char *keyname)
{
	expect_same(text, strlen(text), d, keyname);
}

/* Every record of a JSON import file decodes alike; returns how many. */
static size_t
compare_file(const char *path, const ProtobufCMessageDescriptor *d,
    const char *keyname)
{
	struct tab_stream *ts = NULL;
	const char *text;
	char err[512];
	size_t len, col, n = 0;
	int line;

	assert_int_equal(tab_stream_open(path, 1u << 30, &ts, err, sizeof(err)), 0);
	for (;;) {
		assert_int_equal(tab_stream_next_text(ts, &text, &len, &line, &col,
		    err, sizeof(err)), 0);
		if (text == NULL)
			break;
		expect_same(text, len, d, keyname);
		n++;
	}
	tab_stream_close(ts);
	return n;
}

static const char *
srcdir(void)
{
	const char *s = getenv("LCF_SRCDIR");

	return s != NULL ? s : LCF_SRCDIR;
}

static void
test_samples(void **state)
{
	static const struct {
		const char *name;
		const ProtobufCMessageDescriptor *d;
		const char *keyname;
	} files[] = {
		{ "medellin-practices", &lcf__practice__descriptor, "key" },
		{ "tampere-practices", &lcf__practice__descriptor, "key" },
		{ "timisoara-practices", &lcf__practice__descriptor, "key" },
		{ "medellin-indicators", &lcf__indicator_value__descriptor, NULL },
		{ "tampere-indicators", &lcf__indicator_value__descriptor, NULL },
		{ "timisoara-indicators", &lcf__indicator_value__descriptor, NULL },
		{ "medellin-profile", &lcf__city_profile__descriptor, NULL },
		{ "tampere-profile", &lcf__city_profile__descriptor, NULL },
		{ "timisoara-profile", &lcf__city_profile__descriptor, NULL },
	};
	char path[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/config/sample/%s.SAMPLE.json",
		    srcdir(), files[i].name);
		assert_true(compare_file(path, files[i].d, files[i].keyname) > 0);
	}
}

/* lcf-gen's practices, the bench's input. */
static void
test_generated(void **state)
{
	const char *build = getenv("BUILD");
	char tmpl[] = "/tmp/lcf-pbstream-XXXXXX", gen[1024], cmd[2200];
	int fd;

	(void)state;
	snprintf(gen, sizeof(gen), "%s/%s/lcf-gen", srcdir(),
	    build != NULL ? build : "build");
	if (access(gen, X_OK) != 0)
		skip();
	assert_true((fd = mkstemp(tmpl)) >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "'%s' -n 3000 -s 7 -o '%s' -S /dev/null", gen,
	    tmpl);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(compare_file(tmpl, &lcf__practice__descriptor, "key"),
	    3000);
	unlink(tmpl);
}

static void
test_values(void **state)
{
	const ProtobufCMessageDescriptor *p = &lcf__practice__descriptor;
	const ProtobufCMessageDescriptor *iv = &lcf__indicator_value__descriptor;
	const ProtobufCMessageDescriptor *city = &lcf__city_profile__descriptor;
	const ProtobufCMessageDescriptor *c = &lcf__content__descriptor;

	(void)state;
	/* Numbers every way pbjson takes them, enums, booleans, nulls. */
	expect_str("{\"sdgs\": [1, \"2\", 3.0, \" 4 \", \"5e0\"], \"start_year\": "
	    "\"2020.0\", \"participants_per_year\": \"18446744073709551615\", "
	    "\"annual_cost\": \"1.5e3\", \"status\": \" ACTIVE \", "
	    "\"setting\": null, \"title\": \"  spaces kept  \"}", p, "key");
	expect_str("{\"participants_per_year\": 9223372036854775807, "
	    "\"annual_cost\": -0.0, \"sdgs\": 7}", p, NULL);
	expect_str("{\"translations\": {\"language\": \"fi\", \"machine_translated\":"
	    " \"yes\"}, \"clusters\": \"one\"}", p, NULL);
	expect_str("{\"translations\": [{\"language\": \"fi\"}, {\"title\": \"t\","
	    " \"machine_translated\": 0}], \"contact\": {\"name\": \"\\u00e9\\n\"}}",
	    p, NULL);
	expect_str("{\"kflc_areas\": [], \"sdgs\": null, \"contact\": null}", p, NULL);
	expect_str("{\"value\": 1e300, \"numerator\": 5, \"geo_level\": \"city\", "
	    "\"disaggregation\": {\"sex\": \"f\"}}", iv, NULL);
	expect_str("{\"languages\": [\"es\", \"en\"], \"contact\": {\"email\": "
	    "\"a@b\"}, \"latitude\": -75.5812, \"population\": 2573220}", city,
	    NULL);
	expect_str("{\"author\": \"00ff\", \"seq\": 3, \"deleted\": false, "
	    "\"practice\": {\"title\": \"t\"}}", c, NULL);
	expect_str("{\"key\": \"k\"}", p, "key");
	expect_str("{}", p, "key");
}

static void
test_errors(void **state)
{
	const ProtobufCMessageDescriptor *p = &lcf__practice__descriptor;
	const ProtobufCMessageDescriptor *iv = &lcf__indicator_value__descriptor;
	const ProtobufCMessageDescriptor *c = &lcf__content__descriptor;
	static const char *bad_practices[] = {
		/* Field problems, each named by its path. */
		"{\"title\": 5}",
		"{\"nope\": 1}",
		"{\"title\": \"t\",\n \"contact\": {\"nme\": \"x\"}}",
		"{\"sdgs\": [1, \"x\"]}",
		"{\"sdgs\": [1, null]}",
		"{\"sdgs\": [1, [2]]}",
		"{\"sdgs\": [-1]}",
		"{\"sdgs\": [4294967296]}",
		"{\"sdgs\": 1.5}",
		"{\"start_year\": {\"a\": 1}}",
		"{\"participants_per_year\": -5}",
		"{\"participants_per_year\": \"18446744073709551616\"}",
		"{\"annual_cost\": \"nan\"}",
		"{\"annual_cost\": true}",
		"{\"status\": \"sleeping\"}",
		"{\"status\": 1}",
		"{\"setting\": []}",
		"{\"contact\": \"x\"}",
		"{\"contact\": [1]}",
		"{\"translations\": [{\"language\": \"fi\"}, 5]}",
		"{\"translations\": [{\"language\": \"fi\"}, {\"machine_translated\":"
		    " \"maybe\"}]}",
		"{\"translations\": {\"bad\": 1}}",
		"{\"title\": \"a\", \"nope\": {\"x\": [1, {\"y\": 2}]}, \"summary\": 1}",
		/* The record key comes first, wherever it is. */
		"{\"title\": 5, \"key\": 7}",
		"{\"key\": null, \"title\": 5}",
		"{\"key\": {\"a\": 1}}",
		/* Parse problems come before field problems. */
		"{\"title\": 5,\n \"summary\": }",
		"{\"title\": 5, \"title\": \"x\"}",
		"{\"key\": \"a\", \"key\": \"b\"}",
		"{\"title\": \"a\\u0000b\"}",
		"{\"sdgs\": [99999999999999999999]}",
		"{\"sdgs\": [-99999999999999999999]}",
		"{\"annual_cost\": 1e999}",
		"{\"title\": \"\xff\"}",
		"{\"title\": 'x'}",
		"{\"title\": \"x\" /* c */}",
		"{\"title\": \"x\",}",
		"{\"title\": 01}",
		"{\"a\\u0000\": 1}",
		"{\"title\": \"\\ud83d\\ude00\"}",
		"{\"title\": \"\\ud800\"}",
		"{\"title\": \"\\udc00x\"}",
		"{\"title\": \"\\ud800\\u0041\"}",
		"{\"title\": \"\\\\ud800\\\"\"}",
		"{\"ti\xfftle\": 1}",
		"{\"title\": \"\xc0\x80\"}",
		"{\"title\": \"\xc1\xbf\"}",
		"{\"title\": \"\xe0\x80\x80\"}",
		"{\"title\": \"\xed\xa0\x80\"}",
		"{\"title\": \"\xf4\x90\x80\x80\"}",
		"{\"title\": \"\xf5\x80\x80\x80\"}",
		"{\"title\": \"\xe2\x82\"}",
		"{\"tit\xc0\x80le\": 1}",
		"{\"title\": \"\xf0\x9f\x98\x80 ok\"}",
		"{\"title\": \"a\tb\"}",
		"{\"title\": \"x\"} ",
		"{\"title\": \"x\"} 5",
		"{\"title\": \"x\"} \"",
		"{\n } \"}",
		"{} [",
		"{\"title\": \"x\",\v\"summary\": 5}",
		"{\"title\": 5,\n\f\"summary\": \"s\"}",
		"{\"title\": \"a\fb\"}",
		"{\"title\": 'x',\v\"summary\": 5}",
	};
	/* Raw NUL bytes. */
	static const char nul1[] = "{\"sdgs\": [4, 16\0]}";
	static const char nul2[] = "{\"title\": \"a\0b\"}";
	static const char nul3[] = "{\"title\": \"a\"}\0";
	struct pbstream_error perr;
	ProtobufCMessage *m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_practices) / sizeof(bad_practices[0]); i++)
		expect_str(bad_practices[i], p, "key");
	/* Jansson lets a NUL byte after a number pass; it is no JSON, and
	 * pbstream refuses it there too. */
	assert_int_equal(pbstream_decode(nul1, sizeof(nul1) - 1, p, NULL, &m, NULL,
	    &perr), LCF_EINVAL);
	expect_same(nul2, sizeof(nul2) - 1, p, NULL);
	expect_same(nul3, sizeof(nul3) - 1, p, NULL);
	expect_str("[1, 2]", p, NULL);
	expect_str("\"x\"", p, NULL);
	expect_str("{\"value\": \"1,5\"}", iv, NULL);
	expect_str("{\"geo_level\": \"planet\"}", iv, NULL);
	expect_str("{\"practice\": {\"title\": \"t\"}, \"city\": {\"name\": \"n\"}}",
	    c, NULL);
	expect_str("{\"author\": \"0g\"}", c, NULL);
	expect_str("{\"author\": \"abc\"}", c, NULL);
}

/* A list longer than pbjson takes is refused by its length, even when an item
 * in it is bad too. */
static void
test_long_list(void **state)
{
	const ProtobufCMessageDescriptor *p = &lcf__practice__descriptor;
	size_t n = 10001, i, o = 0, cap = 16 * n + 64;
	char *text = xmalloc(cap);

	(void)state;
	o += (size_t)snprintf(text + o, cap - o, "{\"clusters\": [");
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(text + o, cap - o, "%s%s", i ? ", " : "",
		    i == 5 ? "7" : "\"c\"");
	snprintf(text + o, cap - o, "]}");
	expect_str(text, p, NULL);
	/* At the limit it is taken. */
	o = (size_t)snprintf(text, cap, "{\"clusters\": [");
	for (i = 0; i < n - 1; i++)
		o += (size_t)snprintf(text + o, cap - o, "%s\"c\"", i ? ", " : "");
	snprintf(text + o, cap - o, "]}");
	expect_str(text, p, NULL);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_generated),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
