// SPDX-License-Identifier: Apache-2.0
// Fuzz target: an HTTP request's query string and a path segment as the
// HTTP face reads them: answer_parse_query (split, %-decoding, UTF-8), then
// the parameter checks a route makes (answer_known_params, answer_param).
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"

static const char *const names[] = { "q", "lang", "limit", "cursor",
	"period", "missing", "format", NULL };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_call c;
	char *q, *seg;

	if (size > HTTP_URL_MAX || (q = malloc(size + 1)) == NULL)
		return 0;
	memcpy(q, data, size);
	q[size] = '\0';
	seg = strdup(q);
	memset(&c, 0, sizeof(c));
	if (answer_parse_query(&c, q) == 0 &&
	    answer_known_params(&c, names) == 0)
		(void)answer_param(&c, "q");
	if (seg != NULL)
		(void)answer_unescape(seg, 0);
	free(c.body);
	free(seg);
	free(q);
	return 0;
}
