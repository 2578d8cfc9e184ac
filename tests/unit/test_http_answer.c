// SPDX-License-Identifier: Apache-2.0
// Unit tests for the HTTP layer's request parameters and answers (answer.c)
// and its token file (token.c).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/error.h"
#include "http/http_int.h"

static void
test_unescape(void **state)
{
	char a[] = "family+reading%20club%C3%A9";
	char b[] = "a+b";
	char bad1[] = "%zz", bad2[] = "%4", bad3[] = "%00", bad4[] = "%ff%fe";

	(void)state;
	assert_int_equal(answer_unescape(a, 1), 0);
	assert_string_equal(a, "family reading club\xc3\xa9");
	assert_int_equal(answer_unescape(b, 0), 0);
	assert_string_equal(b, "a+b");          /* '+' is a plus in a path */
	assert_int_equal(answer_unescape(bad1, 1), LCF_EINVAL);
	assert_int_equal(answer_unescape(bad2, 1), LCF_EINVAL);
	assert_int_equal(answer_unescape(bad3, 1), LCF_EINVAL);   /* NUL */
	assert_int_equal(answer_unescape(bad4, 1), LCF_EINVAL);   /* not UTF-8 */
}

static json_t *
answer_of(const struct http_call *c)
{
	json_error_t e;

	return json_loadb(c->body, c->len, 0, &e);
}

static void
test_query(void **state)
{
	struct http_call c;
	char q[] = "area=2.2&area=3.1&text=a%20b&flag&limit=";
	static const char *const known[] = { "area", "text", "flag", "limit", NULL };
	static const char *const fewer[] = { "area", "text", NULL };
	json_t *j;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(answer_parse_query(&c, q), 0);
	assert_int_equal(c.nparams, 5);
	assert_string_equal(answer_param(&c, "area"), "2.2");
	assert_string_equal(c.params[1].value, "3.1");
	assert_string_equal(answer_param(&c, "text"), "a b");
	assert_string_equal(answer_param(&c, "flag"), "");
	assert_null(answer_param(&c, "none"));
	assert_int_equal(answer_known_params(&c, known), 0);
	assert_int_equal(c.status, 0);
	assert_int_equal(answer_known_params(&c, fewer), LCF_EINVAL);
	assert_int_equal(c.status, 400);
	assert_string_equal(c.type, "application/problem+json");
	j = answer_of(&c);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "param")), "flag");
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 400);
	assert_string_equal(json_string_value(json_object_get(j, "title")), "Bad Request");
	json_decref(j);
	free(c.body);
}

static void
test_query_limits(void **state)
{
	struct http_call c;
	char many[HTTP_PARAMS_MAX * 4 + 16], bad[] = "a=%zz";
	size_t i, n = 0;

	(void)state;
	for (i = 0; i <= HTTP_PARAMS_MAX; i++)
		n += (size_t)sprintf(many + n, "a=%zu&", i % 10);
	memset(&c, 0, sizeof(c));
	assert_int_equal(answer_parse_query(&c, many), LCF_EINVAL);
	assert_int_equal(c.status, 400);
	free(c.body);
	memset(&c, 0, sizeof(c));
	assert_int_equal(answer_parse_query(&c, bad), LCF_EINVAL);
	assert_int_equal(c.status, 400);
	free(c.body);
}

static void
test_problem_utf8(void **state)
{
	struct http_call c;
	json_t *j;

	(void)state;
	memset(&c, 0, sizeof(c));
	/* A detail quoting bytes that are not UTF-8 is still a JSON document. */
	answer_problem(&c, 404, "id", "no city '%s' here", "\xff\xfe");
	j = answer_of(&c);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 404);
	assert_true(strlen(json_string_value(json_object_get(j, "detail"))) > 0);
	json_decref(j);
	free(c.body);
}

static void
test_token(void **state)
{
	char dir[] = "/tmp/lcf-test-token-XXXXXX", path[64], tok[HTTP_TOKEN_HEX + 1],
	    again[HTTP_TOKEN_HEX + 1], err[512];
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/http.token", dir);
	assert_int_equal(http_token_load(dir, 0, tok, err, sizeof(err)), LCF_ENOTFOUND);
	assert_non_null(strstr(err, "http.token"));
	assert_int_equal(http_token_load(dir, 1, tok, err, sizeof(err)), 0);
	assert_int_equal(strlen(tok), HTTP_TOKEN_HEX);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Made once: the next start reads the same token. */
	assert_int_equal(http_token_load(dir, 1, again, err, sizeof(err)), 0);
	assert_string_equal(tok, again);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(http_token_load(dir, 1, again, err, sizeof(err)), LCF_EPERM);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(path, 0600), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a token\n", f);
	fclose(f);
	assert_int_equal(http_token_load(dir, 1, again, err, sizeof(err)), LCF_EINVAL);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_query_limits),
		cmocka_unit_test(test_problem_utf8),
		cmocka_unit_test(test_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
