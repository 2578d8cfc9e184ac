// SPDX-License-Identifier: Apache-2.0
// A call's parameters and answers: query strings, JSON, RFC 9457 problems.
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "http/http_int.h"
#include "model/pbjson.h"

const char *
answer_param(const struct http_call *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nparams; i++)
		if (strcmp(c->params[i].name, name) == 0)
			return c->params[i].value;
	return NULL;
}

int
answer_known_params(struct http_call *c, const char *const *names)
{
	size_t i, j;

	for (i = 0; i < c->nparams; i++) {
		for (j = 0; names[j] != NULL; j++)
			if (strcmp(c->params[i].name, names[j]) == 0)
				break;
		if (names[j] == NULL) {
			answer_problem(c, 400, c->params[i].name,
			    "unknown parameter '%s' for this resource",
			    c->params[i].name);
			return LCF_EINVAL;
		}
	}
	return 0;
}

static void
set_body(struct http_call *c, int status, const char *type, char *body, size_t len)
{
	free(c->body);
	c->status = status;
	c->type = type;
	c->body = body;
	c->len = len;
}

void
answer_json_text(struct http_call *c, int status, char *text, size_t len)
{
	/* A newline ends the document, for people reading it with curl (in
	 * place when the buffer has room: a large one is in huge pages). */
	if (len == 0 || text[len - 1] != '\n') {
		if (malloc_usable_size(text) < len + 2)
			text = xreallocarray(text, len + 2, 1);
		text[len++] = '\n';
		text[len] = '\0';
	}
	set_body(c, status, "application/json", text, len);
}

void
answer_json(struct http_call *c, int status, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);

	json_decref(j);
	if (s == NULL)
		fatalx("out of memory");
	answer_json_text(c, status, s, strlen(s));
}

void
answer_problem(struct http_call *c, int status, const char *param,
    const char *fmt, ...)
{
	char detail[600];
	va_list ap;
	json_t *j, *v;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	j = json_object();
	json_object_set_new(j, "type", json_string("about:blank"));
	json_object_set_new(j, "title", json_string(answer_reason(status)));
	json_object_set_new(j, "status", json_integer(status));
	/* A detail quotes what the client sent: keep it valid UTF-8. */
	if ((v = json_string(detail)) == NULL)
		v = json_string("the request is not valid UTF-8");
	json_object_set_new(j, "detail", v);
	if (param != NULL && (v = json_string(param)) != NULL)
		json_object_set_new(j, "param", v);
	c->cacheable = 0;
	answer_json(c, status, j);
	c->type = "application/problem+json";
}

void
answer_text(struct http_call *c, int status, const char *type, const char *body,
    size_t len)
{
	char *b = xmalloc(len + 1);

	memcpy(b, body, len);
	b[len] = '\0';
	set_body(c, status, type, b, len);
}

int
answer_unescape(char *s, int query)
{
	char *w = s;
	const char *r = s;
	int hi, lo;

	while (*r != '\0') {
		if (*r == '%') {
			if ((hi = hex_digit((unsigned char)r[1])) < 0 ||
			    (lo = hex_digit((unsigned char)r[2])) < 0 ||
			    (hi == 0 && lo == 0))
				return LCF_EINVAL;
			*w++ = (char)(hi << 4 | lo);
			r += 3;
		} else if (query && *r == '+') {
			*w++ = ' ';
			r++;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	for (r = s; *r != '\0';) {
		size_t n = pbjson_utf8_len((const unsigned char *)r, strlen(r));

		if (n == 0)
			return LCF_EINVAL;
		r += n;
	}
	return 0;
}

int
answer_parse_query(struct http_call *c, char *q)
{
	char *pair, *save = NULL, *eq;

	for (pair = strtok_r(q, "&", &save); pair != NULL;
	    pair = strtok_r(NULL, "&", &save)) {
		if (c->nparams == HTTP_PARAMS_MAX) {
			answer_problem(c, 400, NULL, "more than %d query parameters",
			    HTTP_PARAMS_MAX);
			return LCF_EINVAL;
		}
		if ((eq = strchr(pair, '=')) != NULL)
			*eq++ = '\0';
		else
			eq = pair + strlen(pair);
		if (answer_unescape(pair, 1) != 0 || answer_unescape(eq, 1) != 0) {
			answer_problem(c, 400, NULL, "the query string has a bad "
			    "%%-escape or is not UTF-8");
			return LCF_EINVAL;
		}
		c->params[c->nparams].name = pair;
		c->params[c->nparams].value = eq;
		c->nparams++;
	}
	return 0;
}

const char *
answer_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return status < 400 ? "OK" : status < 500 ? "Bad Request" :
	    "Internal Server Error";
	}
}
