// SPDX-License-Identifier: Apache-2.0
// Unit tests for tabular: JSON and CSV import files into JSON objects.
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
#include "model/tabular.h"

/* Writes text to a new temporary file ending in suffix; returns its malloc'd path. */
static char *
write_temp(const char *suffix, const char *text, size_t len)
{
	char *path;
	FILE *fp;
	int fd;

	if (asprintf(&path, "/tmp/lcf-test-tabular-XXXXXX%s", suffix) < 0)
		fail();
	fd = mkstemps(path, (int)strlen(suffix));
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	return path;
}

static void
remove_temp(char *path)
{
	unlink(path);
	free(path);
}

/* Builds the message expected when loading path fails: the path plus rest. */
static void
assert_err(const char *err, const char *path, const char *rest)
{
	char want[1024];

	snprintf(want, sizeof(want), "%s%s", path, rest);
	if (strcmp(err, want) != 0) {
		print_error(" got: %s\nwant: %s\n", err, want);
		fail();
	}
}

static void
assert_err_prefix(const char *err, const char *path, const char *rest)
{
	char want[1024];

	snprintf(want, sizeof(want), "%s%s", path, rest);
	if (strncmp(err, want, strlen(want)) != 0) {
		print_error(" got: %s\nwant prefix: %s\n", err, want);
		fail();
	}
}

static const char *
member(const json_t *obj, const char *dotted)
{
	char buf[128], *p, *save = NULL;
	const json_t *cur = obj;

	snprintf(buf, sizeof(buf), "%s", dotted);
	for (p = strtok_r(buf, ".", &save); p != NULL; p = strtok_r(NULL, ".", &save))
		cur = json_object_get(cur, p);
	return json_string_value(cur);
}

static void
test_json_array(void **state)
{
	const char text[] = "[{\"key\": \"a\", \"title\": \"A\"},\n {\"title\": \"B\"}]";
	struct tab_file f;
	char err[512] = "", *path;

	(void)state;
	path = write_temp(".json", text, strlen(text));
	assert_int_equal(tab_load(path, &lcf__practice__descriptor, 1 << 20, &f, err,
	    sizeof(err)), 0);
	assert_int_equal(f.n, 2);
	assert_string_equal(member(f.items[0].obj, "key"), "a");
	assert_string_equal(member(f.items[1].obj, "title"), "B");
	assert_int_equal(f.items[1].index, 1);
	assert_int_equal(f.items[1].line, 0);
	assert_ptr_equal(f.items[1].obj, json_array_get(f.array, 1));
	tab_free(&f);
	tab_free(&f);
	tab_free(NULL);
	remove_temp(path);
}

static void
test_json_single_object_with_bom(void **state)
{
	const char text[] = "\xef\xbb\xbf{\"title\": \"Only\"}\n";
	struct tab_file f;
	char err[512] = "", *path;

	(void)state;
	path = write_temp(".JSON", text, strlen(text));
	assert_int_equal(tab_load(path, NULL, 1 << 20, &f, err, sizeof(err)), 0);
	assert_int_equal(f.n, 1);
	assert_string_equal(member(f.items[0].obj, "title"), "Only");
	tab_free(&f);
	remove_temp(path);
}

static void
test_json_errors(void **state)
{
	const char syntax[] = "[\n{\"title\": \"A\"},\n{\"title\" \"B\"}\n]";
	const char dup[] = "[{\"title\": \"A\", \"title\": \"B\"}]";
	const char notobj[] = "[{\"title\": \"A\"}, 5]";
	const char scalar[] = "\"hello\"";
	struct tab_file f;
	char err[512], *path;

	(void)state;
	path = write_temp(".json", syntax, strlen(syntax));
	assert_int_equal(tab_load(path, NULL, 1 << 20, &f, err, sizeof(err)),
	    LCF_EINVAL);
	assert_err_prefix(err, path, ":3: column ");
	assert_non_null(strstr(err, "':' expected"));
	assert_null(f.array);
	assert_int_equal(f.n, 0);
	remove_temp(path);

	path = write_temp(".json", dup, strlen(dup));
	assert_int_equal(tab_load(path, NULL, 1 << 20, &f, err, sizeof(err)),
	    LCF_EINVAL);
	assert_non_null(strstr(err, "duplicate object key"));
	remove_temp(path);

	path = write_temp(".json", notobj, strlen(notobj));
	assert_int_equal(tab_load(path, NULL, 1 << 20, &f, err, sizeof(err)),
	    LCF_EINVAL);
	assert_err(err, path, ": record 2: expected an object");
	remove_temp(path);

	path = write_temp(".json", scalar, strlen(scalar));
	assert_int_equal(tab_load(path, NULL, 1 << 20, &f, err, sizeof(err)),
	    LCF_EINVAL);
	/* Jansson itself refuses a top-level scalar, with its position. */
	assert_err_prefix(err, path, ":1: column ");
	assert_non_null(strstr(err, "'[' or '{' expected"));
	remove_temp(path);

	assert_int_equal(tab_load("/nonexistent/lcf.json", NULL, 1 << 20, &f, err,
	    sizeof(err)), LCF_EIO);
	assert_string_equal(err, "/nonexistent/lcf.json: No such file or directory");
}

static void
test_oversize(void **state)
{
	const char text[] = "[{\"title\": \"A\"}]";
	struct tab_file f;
	char err[512], *path;

	(void)state;
	path = write_temp(".json", text, strlen(text));
	assert_int_equal(tab_load(path, NULL, strlen(text) - 1, &f, err, sizeof(err)),
	    LCF_ETOOBIG);
	assert_err(err, path, ": file is 16 bytes, more than the limit of 15");
	/* Exactly at the limit is fine. */
	assert_int_equal(tab_load(path, NULL, strlen(text), &f, err, sizeof(err)), 0);
	tab_free(&f);
	remove_temp(path);
}

/* Whole-file loads and streams share the checks made at open: a missing
 * file, a directory, a file over the limit. */
static void
test_open_refusals(void **state)
{
	const char text[] = "[{\"title\": \"A\"}]";
	struct tab_file f;
	struct tab_stream *ts;
	char err[512], *path;

	(void)state;
	assert_int_equal(tab_load("/", NULL, 1 << 20, &f, err, sizeof(err)),
	    LCF_EIO);
	assert_string_equal(err, "/: is a directory");
	assert_int_equal(tab_stream_open("/", 1 << 20, &ts, err, sizeof(err)),
	    LCF_EIO);
	assert_null(ts);
	assert_string_equal(err, "/: is a directory");
	assert_int_equal(tab_stream_open("/nonexistent/lcf.json", 1 << 20, &ts,
	    err, sizeof(err)), LCF_EIO);
	assert_null(ts);
	assert_string_equal(err, "/nonexistent/lcf.json: No such file or directory");

	path = write_temp(".json", text, strlen(text));
	assert_int_equal(tab_stream_open(path, strlen(text) - 1, &ts, err,
	    sizeof(err)), LCF_ETOOBIG);
	assert_null(ts);
	assert_err(err, path, ": file is 16 bytes, more than the limit of 15");
	assert_int_equal(tab_stream_open(path, strlen(text), &ts, err,
	    sizeof(err)), 0);
	assert_non_null(ts);
	tab_stream_close(ts);
	remove_temp(path);
}

static const char practice_csv[] =
	"key,title,summary,language,kflc_areas,contact.name,contact.email,start_year,"
	"sdgs,setting\n"
	"fest,Learning festival,\"A week, with commas\",en,2.2; 2.6 ;,Ana,ana@x.org,2015,"
	"4;11,non_formal\n"
	"circles,\"Study \"\"circles\"\"\",\"Line one\n"
	"line two\n"
	"line three\",sv,3.2,,,,,\n"
	"\n"
	",,,,,,,,,\n"
	"cafe,Caf\xc3\xa9,Short,fr,1.1,,,  2020  ,,informal\n";

static void
test_csv_practices(void **state)
{
	ProtobufCMessage *m = NULL;
	Lcf__Practice *p;
	struct tab_file f;
	struct verr verr;
	json_t *areas;
	char err[512] = "", *path;
	size_t i;

	(void)state;
	path = write_temp(".csv", practice_csv, strlen(practice_csv));
	if (tab_load(path, &lcf__practice__descriptor, 1 << 20, &f, err,
	    sizeof(err)) != 0) {
		print_error("load failed: %s\n", err);
		fail();
	}
	assert_int_equal(f.n, 3);
	assert_int_equal(f.items[0].line, 2);
	assert_int_equal(f.items[1].line, 3);
	/* Two embedded newlines, a blank line and a row of bare commas come first. */
	assert_int_equal(f.items[2].line, 8);
	assert_int_equal(f.items[2].index, 2);

	assert_string_equal(member(f.items[0].obj, "key"), "fest");
	assert_string_equal(member(f.items[0].obj, "summary"), "A week, with commas");
	assert_string_equal(member(f.items[0].obj, "contact.name"), "Ana");
	assert_string_equal(member(f.items[0].obj, "contact.email"), "ana@x.org");
	areas = json_object_get(f.items[0].obj, "kflc_areas");
	assert_int_equal(json_array_size(areas), 2);
	assert_string_equal(json_string_value(json_array_get(areas, 0)), "2.2");
	assert_string_equal(json_string_value(json_array_get(areas, 1)), "2.6");
	assert_string_equal(member(f.items[1].obj, "title"), "Study \"circles\"");
	assert_string_equal(member(f.items[1].obj, "summary"),
	    "Line one\nline two\nline three");
	/* Empty cells are left out, so no empty contact object appears. */
	assert_null(json_object_get(f.items[1].obj, "contact"));
	assert_null(json_object_get(f.items[1].obj, "start_year"));

	for (i = 0; i < f.n; i++) {
		memset(&verr, 0, sizeof(verr));
		json_object_del(f.items[i].obj, "key");
		if (pbjson_decode(f.items[i].obj, &lcf__practice__descriptor,
		    "practice", &m, &verr) != 0) {
			print_error("row %zu: %s: %s\n", i, verr.field, verr.msg);
			fail();
		}
		p = (Lcf__Practice *)m;
		if (i == 0) {
			assert_int_equal(p->start_year, 2015);
			assert_int_equal(p->n_sdgs, 2);
			assert_int_equal(p->sdgs[1], 11);
			assert_int_equal(p->setting, LCF__SETTING__SETTING_NON_FORMAL);
			assert_string_equal(p->contact->email, "ana@x.org");
		} else if (i == 2) {
			assert_string_equal(p->title, "Caf\xc3\xa9");
			assert_int_equal(p->start_year, 2020);
			assert_int_equal(p->setting, LCF__SETTING__SETTING_INFORMAL);
		}
		protobuf_c_message_free_unpacked(m, NULL);
	}
	tab_free(&f);
	remove_temp(path);
}

static void
test_csv_crlf_bom(void **state)
{
	const char text[] = "\xef\xbb\xbftitle,kflc_areas\r\n"
	    "\"One\r\ntwo\",2.1\r\n"
	    "Three,2.2;2.3\r\n";
	struct tab_file f;
	char err[512] = "", *path;

	(void)state;
	path = write_temp(".Csv", text, strlen(text));
	if (tab_load(path, &lcf__practice__descriptor, 1 << 20, &f, err,
	    sizeof(err)) != 0) {
		print_error("load failed: %s\n", err);
		fail();
	}
	assert_int_equal(f.n, 2);
	assert_string_equal(member(f.items[0].obj, "title"), "One\r\ntwo");
	assert_int_equal(f.items[0].line, 2);
	assert_string_equal(member(f.items[1].obj, "title"), "Three");
	assert_int_equal(f.items[1].line, 4);
	assert_int_equal(json_array_size(json_object_get(f.items[1].obj,
	    "kflc_areas")), 2);
	tab_free(&f);
	remove_temp(path);
}

/* Loads text as CSV into a Practice and expects code and exactly PATH + rest. */
static void
expect_csv_error(const char *text, int code, const char *rest)
{
	struct tab_file f;
	char err[512] = "", *path;
	int r;

	path = write_temp(".csv", text, strlen(text));
	r = tab_load(path, &lcf__practice__descriptor, 1 << 20, &f, err, sizeof(err));
	if (r != code) {
		print_error("input %s\n got: %d (%s)\nwant: %d\n", text, r, err, code);
		fail();
	}
	assert_err(err, path, rest);
	assert_null(f.array);
	assert_null(f.items);
	remove_temp(path);
}

static void
test_csv_errors(void **state)
{
	(void)state;
	expect_csv_error("title,summary,language,kflc_areas,titel\nA,B,en,1.1,x\n",
	    LCF_EINVAL, ":1: column 5: unknown field 'titel'");
	expect_csv_error("title,contact.nmae\n", LCF_EINVAL,
	    ":1: column 2: unknown field 'contact.nmae'");
	expect_csv_error("title,summary,title\n", LCF_EINVAL,
	    ":1: column 3: duplicate column 'title' (also column 1)");
	expect_csv_error("title,,summary\n", LCF_EINVAL,
	    ":1: column 2: empty column name");
	expect_csv_error("contact\n", LCF_EINVAL,
	    ":1: column 1: 'contact' is a message; name its fields, as in "
	    "'contact.name'");
	expect_csv_error("translations.title\n", LCF_EINVAL,
	    ":1: column 1: 'translations.title': 'translations' is a list of "
	    "messages, which a CSV column cannot hold");
	expect_csv_error("translations\n", LCF_EINVAL,
	    ":1: column 1: 'translations' is a list of messages, which a CSV column "
	    "cannot hold");
	expect_csv_error("title.x\n", LCF_EINVAL,
	    ":1: column 1: 'title.x': field 'title' has no fields of its own");
	expect_csv_error("title,summary\nA,\"multi\nline\"\nB,b,extra\n", LCF_EINVAL,
	    ":4: row has more cells than the header's 2");
	expect_csv_error("title,summary\nA,b\nB\n", LCF_EINVAL,
	    ":3: row has 1 cells, the header has 2");
	expect_csv_error("title,summary\nA,\"b\"x\n", LCF_EINVAL,
	    ":2: malformed CSV (error parsing data while strict checking enabled): "
	    "a quoted cell must end at a comma or the end of a line, and quotes "
	    "inside it are doubled");
	expect_csv_error("title,summary\nA,b\nC,\"never closed\n\n", LCF_EINVAL,
	    ":3: quoted cell not closed before the end of the file");
	expect_csv_error("title\nab\xff\n", LCF_EINVAL, ":2: column 1: not valid UTF-8");
	expect_csv_error("", LCF_EINVAL, ": empty file, expected a header row");
}

static void
test_csv_big_cell(void **state)
{
	size_t n = 64 * 1024 + 1, hdr = strlen("title\n");
	char *text = malloc(hdr + n + 2);

	(void)state;
	assert_non_null(text);
	memcpy(text, "title\n", hdr);
	memset(text + hdr, 'a', n);
	memcpy(text + hdr + n, "\n", 2);
	expect_csv_error(text, LCF_ETOOBIG, ":2: column 1: cell of 65537 bytes, "
	    "more than 65536");
	/* One byte less is accepted. */
	text[hdr + n - 1] = '\n';
	text[hdr + n] = '\0';
	{
		struct tab_file f;
		char err[512] = "", *path = write_temp(".csv", text, strlen(text));

		assert_int_equal(tab_load(path, &lcf__practice__descriptor, 1 << 20, &f,
		    err, sizeof(err)), 0);
		assert_int_equal(f.n, 1);
		tab_free(&f);
		remove_temp(path);
	}
	free(text);
}

static void
test_csv_indicator_nested(void **state)
{
	const char text[] = "key,indicator,period,value,disaggregation.sex,status\n"
	    "x,LC-01,2024, 12.5 ,female,final\n";
	ProtobufCMessage *m = NULL;
	Lcf__IndicatorValue *v;
	struct tab_file f;
	struct verr verr;
	char err[512] = "", *path;

	(void)state;
	path = write_temp(".csv", text, strlen(text));
	assert_int_equal(tab_load(path, &lcf__indicator_value__descriptor, 1 << 20, &f,
	    err, sizeof(err)), 0);
	assert_int_equal(f.n, 1);
	json_object_del(f.items[0].obj, "key");
	memset(&verr, 0, sizeof(verr));
	assert_int_equal(pbjson_decode(f.items[0].obj, &lcf__indicator_value__descriptor,
	    "indicator", &m, &verr), 0);
	v = (Lcf__IndicatorValue *)m;
	assert_true(v->value == 12.5);
	assert_string_equal(v->disaggregation->sex, "female");
	assert_int_equal(v->status, LCF__VALUE_STATUS__VALUE_STATUS_FINAL);
	protobuf_c_message_free_unpacked(m, NULL);
	tab_free(&f);
	remove_temp(path);
}

/* ---- streamed JSON ---- */

/* Opens text as a stream; the caller closes it and removes *path. */
static struct tab_stream *
stream_of(const char *text, char **path)
{
	struct tab_stream *ts = NULL;
	char err[256];

	*path = write_temp(".json", text, strlen(text));
	assert_int_equal(tab_stream_open(*path, 1 << 20, &ts, err, sizeof(err)), 0);
	return ts;
}

/* Records come one at a time with the line of their '{'; strings may hold
 * braces, brackets and escaped quotes; a byte order mark is skipped. */
static void
test_stream_records(void **state)
{
	static const char text[] = "\xef\xbb\xbf[\n"
	    "  {\"title\": \"a {brace} [and] \\\"quote\\\" \\\\\"},\n"
	    "\n"
	    "  {\"title\": \"b\", \"n\": [1, {\"x\": 2}]}, {\"title\": \"c\"}\n"
	    "]\n";
	static const char *titles[] = { "a {brace} [and] \"quote\" \\", "b", "c" };
	static const int lines[] = { 2, 4, 4 };
	struct tab_stream *ts;
	char *path, err[256];
	json_t *obj;
	int line;
	size_t i;

	(void)state;
	ts = stream_of(text, &path);
	for (i = 0; i < 3; i++) {
		assert_int_equal(tab_stream_next(ts, &obj, &line, err, sizeof(err)), 0);
		assert_non_null(obj);
		assert_string_equal(member(obj, "title"), titles[i]);
		assert_int_equal(line, lines[i]);
		json_decref(obj);
	}
	assert_int_equal(tab_stream_next(ts, &obj, &line, err, sizeof(err)), 0);
	assert_null(obj);
	tab_stream_close(ts);
	remove_temp(path);

	ts = stream_of("\n {\"title\": \"only\"}\n", &path);
	assert_int_equal(tab_stream_next(ts, &obj, &line, err, sizeof(err)), 0);
	assert_string_equal(member(obj, "title"), "only");
	assert_int_equal(line, 2);
	json_decref(obj);
	assert_int_equal(tab_stream_next(ts, &obj, &line, err, sizeof(err)), 0);
	assert_null(obj);
	tab_stream_close(ts);
	remove_temp(path);

	ts = stream_of("[ ]", &path);
	assert_int_equal(tab_stream_next(ts, &obj, &line, err, sizeof(err)), 0);
	assert_null(obj);
	tab_stream_close(ts);
	remove_temp(path);
}

/* Reads records until an error; checks the message. */
static void
expect_stream_error(const char *text, int code, const char *rest, int prefix)
{
	struct tab_stream *ts;
	char *path, err[256] = "";
	json_t *obj;
	int line, rc;

	ts = stream_of(text, &path);
	while ((rc = tab_stream_next(ts, &obj, &line, err, sizeof(err))) == 0 &&
	    obj != NULL)
		json_decref(obj);
	assert_int_equal(rc, code);
	if (prefix)
		assert_err_prefix(err, path, rest);
	else
		assert_err(err, path, rest);
	/* The stream is done after an error. */
	assert_int_equal(tab_stream_next(ts, &obj, &line, err, sizeof(err)), 0);
	assert_null(obj);
	tab_stream_close(ts);
	remove_temp(path);
}

static void
test_stream_errors(void **state)
{
	(void)state;
	expect_stream_error("", LCF_EINVAL, ":1: column 1: expected an array of "
	    "objects or an object", 0);
	expect_stream_error("[{\"a\": 1},\n 7]", LCF_EINVAL,
	    ": record 2 (line 2): expected an object", 0);
	expect_stream_error("[{\"a\": 1}\n {\"a\": 2}]", LCF_EINVAL,
	    ":2: column 2: expected ',' or ']' after record 1", 0);
	expect_stream_error("[{\"a\": 1}] x", LCF_EINVAL,
	    ":1: column 12: text after the end of the JSON value", 0);
	expect_stream_error("[{\"a\": 1},", LCF_EINVAL,
	    ":1: column 11: the file ends inside the array", 0);
	expect_stream_error("[{\"a\": \"1}]", LCF_EINVAL,
	    ":1: column 2: record 1 does not end", 1);
	/* Lines inside an unfinished record: still where it starts. */
	expect_stream_error("[{\"a\": 1},\n  {\"b\": [1,\n 2\n", LCF_EINVAL,
	    ":2: column 3: record 2 does not end", 1);
	/* Syntax errors inside a record are the parser's, at file positions. */
	expect_stream_error("[\n{\"a\": 1},\n{\"a\":\n }]", LCF_EINVAL, ":4: column ",
	    1);
	expect_stream_error("[{\"a\": 1, \"a\": 2}]", LCF_EINVAL, ":1: column ",
	    1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_array),
		cmocka_unit_test(test_json_single_object_with_bom),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_open_refusals),
		cmocka_unit_test(test_stream_records),
		cmocka_unit_test(test_stream_errors),
		cmocka_unit_test(test_csv_practices),
		cmocka_unit_test(test_csv_crlf_bom),
		cmocka_unit_test(test_csv_errors),
		cmocka_unit_test(test_csv_big_cell),
		cmocka_unit_test(test_csv_indicator_nested),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
