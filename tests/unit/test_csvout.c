// SPDX-License-Identifier: Apache-2.0
// Unit tests for lcctl's CSV writer (tools/lcctl/csvout.c, compiled in here):
// RFC 4180 quoting, numbers that read back exactly, and records that the CSV
// import (model/tabular.c) reads back as they were.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../node/model/csvout.c"
#include "model/tabular.h"

/* What fn wrote, as a new string. */
static char *
capture(void (*fn)(FILE *f, void *arg), void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fn(f, arg);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void
write_fields(FILE *f, void *arg)
{
	const char *const *v = arg;
	struct csvout w;

	csvout_init(&w, f);
	for (; *v != NULL; v++)
		csvout_str(&w, *v);
	csvout_end_row(&w);
}

static void
test_quoting(void **state)
{
	const char *fields[] = { "plain", "a,b", "say \"hi\"", "two\nlines",
		"cr\r", "", "Åbo ünïcode", NULL };
	char *out;

	(void)state;
	out = capture(write_fields, fields);
	assert_string_equal(out, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\","
	    "\"cr\r\",,Åbo ünïcode\r\n");
	free(out);
}

static void
test_numbers(void **state)
{
	const double v[] = { 0.1, 57.4, 1.0 / 3.0, 1e21, -2.5, 123456789.125 };
	char buf[40];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_true(strtod(csvout_number(v[i], buf, sizeof(buf)), NULL) == v[i]);
	assert_string_equal(csvout_number(0.1, buf, sizeof(buf)), "0.1");
	assert_string_equal(csvout_number(57.4, buf, sizeof(buf)), "57.4");
}

static void
write_json_rows(FILE *f, void *arg)
{
	assert_int_equal(csvout_json_rows(f, arg), 0);
}

static void
test_json_rows(void **state)
{
	json_t *rows = json_loads("[{\"id\": \"a\", \"n\": 2, \"tags\": [\"x\", \"y\"],"
	    " \"sub\": {\"k\": true}, \"objs\": [{\"z\": 1}]},"
	    " {\"id\": \"b\", \"late\": null, \"1.1-x\": 3.5}]", 0, NULL);
	char *out;

	(void)state;
	assert_non_null(rows);
	out = capture(write_json_rows, rows);
	/* Columns in the order first met; arrays of objects left out; a name
	 * holding dots is found whole. */
	assert_string_equal(out, "id,n,tags,sub.k,late,1.1-x\r\n"
	    "a,2,x;y,true,,\r\nb,,,,,3.5\r\n");
	free(out);
	json_decref(rows);
}

struct recs {
	json_t *bodies, *keys;
	size_t lost;
};

static void
write_records(FILE *f, void *arg)
{
	struct recs *r = arg;

	assert_int_equal(csvout_records(f, &lcf__practice__descriptor, r->bodies,
	    r->keys, &r->lost), 0);
}

/* Records written and read back through the import's own loader are equal. */
static void
test_round_trip(void **state)
{
	struct recs r;
	struct tab_file tf;
	char path[] = "/tmp/lcf-test-csvout-XXXXXX.csv", err[256], *out;
	FILE *f;
	int fd;
	size_t i;

	(void)state;
	r.bodies = json_loads("[{\"title\": \"Åbo, \\\"Turku\\\"\", \"summary\": "
	    "\"one\\ntwo; three\", \"language\": \"sv\", \"kflc_areas\": [\"2.2\","
	    " \"2.6\"], \"sdgs\": [4, 11], \"start_year\": 2019, \"annual_cost\": "
	    "0.1, \"contact\": {\"role\": \"head, library\"}},"
	    " {\"title\": \"Plain\", \"summary\": \"s\", \"language\": \"fi\","
	    " \"kflc_areas\": [\"2.4\"], \"status\": \"active\"}]", 0, NULL);
	r.keys = json_pack("[s, s]", "tricky", "plain");
	assert_non_null(r.bodies);
	out = capture(write_records, &r);
	assert_int_equal(r.lost, 0);
	assert_true(strncmp(out, "key,title,summary,language,kflc_areas,", 38) == 0);
	fd = mkstemps(path, 4);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(out, f);
	fclose(f);
	assert_int_equal(tab_load(path, &lcf__practice__descriptor, 1 << 20, &tf,
	    err, sizeof(err)), 0);
	assert_int_equal(tf.n, 2);
	for (i = 0; i < tf.n; i++) {
		json_t *want = json_deep_copy(json_array_get(r.bodies, i)), *got;

		json_object_set(want, "key", json_array_get(r.keys, i));
		got = tf.items[i].obj;
		/* The import reads cells as text and types them when it decodes
		 * the record: compare through the decoder's JSON form. */
		{
			char *a = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
			char *b = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
			json_t *bw = json_loads(a, 0, NULL), *bg = json_loads(b, 0, NULL);
			ProtobufCMessage *mw, *mg;
			json_t *ew, *eg;
			struct verr ve;

			json_object_del(bw, "key");
			json_object_del(bg, "key");
			assert_string_equal(json_string_value(json_object_get(got, "key")),
			    json_string_value(json_array_get(r.keys, i)));
			assert_int_equal(pbjson_decode(bw, &lcf__practice__descriptor,
			    "", &mw, &ve), 0);
			assert_int_equal(pbjson_decode(bg, &lcf__practice__descriptor,
			    "", &mg, &ve), 0);
			ew = pbjson_encode(mw);
			eg = pbjson_encode(mg);
			assert_true(json_equal(ew, eg));
			json_decref(ew);
			json_decref(eg);
			protobuf_c_message_free_unpacked(mw, NULL);
			protobuf_c_message_free_unpacked(mg, NULL);
			json_decref(bw);
			json_decref(bg);
			free(a);
			free(b);
		}
		json_decref(want);
	}
	tab_free(&tf);
	unlink(path);
	free(out);
	json_decref(r.bodies);
	json_decref(r.keys);
}

/* What the import would not read back is counted. */
static void
test_lost(void **state)
{
	struct recs r;
	char *out;

	(void)state;
	r.bodies = json_loads("[{\"title\": \" padded\", \"summary\": \"s\","
	    " \"language\": \"en\", \"kflc_areas\": [\"2.2\"], \"target_groups\":"
	    " [\"a;b\"], \"translations\": [{\"language\": \"fi\", \"title\":"
	    " \"t\"}]}]", 0, NULL);
	r.keys = NULL;
	out = capture(write_records, &r);
	assert_int_equal(r.lost, 3);
	assert_null(strstr(out, "translations"));
	free(out);
	json_decref(r.bodies);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_json_rows),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_lost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
