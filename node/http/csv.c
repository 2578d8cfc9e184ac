// SPDX-License-Identifier: Apache-2.0
// CSV answers (format=csv) of the JSON API's lists and views, written by
// model/csvout as lcctl's --csv writes them, so the bytes are the same.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "http/http_int.h"
#include "model/csvout.h"
#include "model/kinds.h"

#define CSV_TYPE "text/csv; charset=utf-8"

int
csv_param(struct http_call *c, int *csv)
{
	const char *f = answer_param(c, "format");

	*csv = 0;
	if (f == NULL || strcmp(f, "json") == 0)
		return 0;
	if (strcmp(f, "csv") == 0) {
		*csv = 1;
		return 0;
	}
	answer_problem(c, 400, "format", "format '%s' is not an answer's form: "
	    "json or csv", f);
	return LCF_EINVAL;
}

/* Answers the text fn writes to a memory stream (arg passed on). */
static void
answer_written(struct http_call *c, int (*fn)(FILE *, const void *),
    const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (f == NULL) {
		answer_problem(c, 500, NULL, "out of memory writing CSV");
		return;
	}
	rc = fn(f, arg);
	if (fclose(f) != 0 || rc != 0)
		answer_problem(c, 500, NULL, "the CSV could not be written");
	else
		answer_text(c, 200, CSV_TYPE, buf, len);
	free(buf);
}

struct records_arg {
	const struct kinds_def *k;
	const json_t *items;
};

static int
write_records(FILE *f, const void *p)
{
	const struct records_arg *a = p;
	json_t *bodies = json_array(), *keys = json_array();
	const json_t *it, *body;
	size_t i, lost;
	int rc = 0;

	/* A tombstone has no body: left out, as lcctl leaves it out. */
	json_array_foreach(a->items, i, it) {
		if ((body = json_object_get(it, a->k->name)) == NULL)
			continue;
		json_array_append(bodies, (json_t *)body);
		json_array_append(keys, json_object_get(it, "key"));
	}
	if (json_array_size(bodies) > 0)
		rc = csvout_records(f, a->k->body, bodies, (a->k->flags &
		    KINDS_FREE_KEY) ? keys : NULL, &lost);
	json_decref(bodies);
	json_decref(keys);
	return rc;
}

void
csv_answer_records(struct http_call *c, int kind, const json_t *items)
{
	struct records_arg a;

	a.k = kinds_by_kind(kind);
	a.items = items;
	if (a.k == NULL || a.k->body == NULL) {
		answer_problem(c, 400, "format", "no CSV form for this list");
		return;
	}
	answer_written(c, write_records, &a);
}

static int
write_rows(FILE *f, const void *rows)
{
	return csvout_json_rows(f, rows);
}

void
csv_answer_rows(struct http_call *c, const json_t *rows)
{
	answer_written(c, write_rows, rows);
}
