// SPDX-License-Identifier: Apache-2.0
// CSV out: the one writer behind every --csv of lcctl and the HTTP API's
// format=csv (RFC 4180, UTF-8).
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "base/error.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "model/pbjson.h"
#include "model/record.h"
#include "model/csvout.h"

void
csvout_init(struct csvout *w, FILE *f)
{
	w->f = f;
	w->col = 0;
}

void
csvout_field(struct csvout *w, const char *s, size_t len)
{
	if (w->col++ > 0)
		fputc(',', w->f);
	/* RFC 4180 quotes only what needs it; a bare field reads better in a
	 * text editor and in diffs. */
	if (strcspn(s, ",\"\r\n") < len || memchr(s, '\0', len) != NULL)
		csv_fwrite(w->f, s, len);
	else
		fwrite(s, 1, len, w->f);
}

void
csvout_str(struct csvout *w, const char *s)
{
	csvout_field(w, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

char *
csvout_number(double v, char *buf, size_t len)
{
	int prec;

	if (!isfinite(v)) {
		snprintf(buf, len, "%s", "");
		return buf;
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

/* Appends the text of a scalar to the stream (arrays and objects as JSON). */
static void
scalar_text(FILE *m, const json_t *v)
{
	char num[40], *s;

	switch (json_typeof(v)) {
	case JSON_STRING:
		fwrite(json_string_value(v), 1, json_string_length(v), m);
		break;
	case JSON_INTEGER:
		fprintf(m, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		fputs(csvout_number(json_real_value(v), num, sizeof(num)), m);
		break;
	case JSON_TRUE:
		fputs("true", m);
		break;
	case JSON_FALSE:
		fputs("false", m);
		break;
	case JSON_NULL:
		break;
	default:
		if ((s = json_dumps(v, JSON_COMPACT)) != NULL)
			fputs(s, m);
		free(s);
		break;
	}
}

void
csvout_json(struct csvout *w, const json_t *v)
{
	char *buf = NULL;
	size_t len = 0, i;
	const json_t *x;
	FILE *m = open_memstream(&buf, &len);

	if (m == NULL)
		fatal("csv: open_memstream");
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			if (i > 0)
				fputc(';', m);
			scalar_text(m, x);
		}
	} else if (v != NULL) {
		scalar_text(m, v);
	}
	fclose(m);
	csvout_field(w, buf, len);
	free(buf);
}

void
csvout_end_row(struct csvout *w)
{
	fputs("\r\n", w->f);
	w->col = 0;
}

/* The value at a dotted path of obj, or NULL. A member whose own name holds
 * dots (an indicator id such as "1.1-x") is found whole first. */
static const json_t *
at_path(const json_t *obj, const char *path)
{
	const json_t *v, *child;
	const char *dot;
	char part[128];

	if (!json_is_object(obj))
		return NULL;
	if ((v = json_object_get(obj, path)) != NULL)
		return v;
	for (dot = strchr(path, '.'); dot != NULL; dot = strchr(dot + 1, '.')) {
		if ((size_t)(dot - path) >= sizeof(part))
			break;
		snprintf(part, sizeof(part), "%.*s", (int)(dot - path), path);
		child = json_object_get(obj, part);
		if (json_is_object(child) && (v = at_path(child, dot + 1)) != NULL)
			return v;
	}
	return NULL;
}

struct cols {
	char **v;
	size_t n;
};

static void
cols_add(struct cols *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i], name) == 0)
			return;
	c->v = xreallocarray(c->v, c->n + 1, sizeof(char *));
	c->v[c->n++] = xstrdup(name);
}

static void
cols_free(struct cols *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
}

static int
has_object(const json_t *arr)
{
	size_t i;
	const json_t *x;

	json_array_foreach(arr, i, x)
		if (json_is_object(x) || json_is_array(x))
			return 1;
	return 0;
}

/* The columns of one object, nested objects flattened under prefix. */
static void
flatten(struct cols *c, const json_t *obj, const char *prefix)
{
	const char *k;
	json_t *v;
	char *name;

	json_object_foreach((json_t *)obj, k, v) {
		name = xasprintf("%s%s%s", prefix, *prefix ? "." : "", k);
		if (json_is_object(v))
			flatten(c, v, name);
		else if (!json_is_array(v) || !has_object(v))
			cols_add(c, name);
		free(name);
	}
}

static int
write_table(FILE *f, const struct cols *c, const json_t *rows)
{
	struct csvout w;
	const json_t *row;
	size_t i, k;

	/* No column (no row): an empty file rather than an empty header. */
	if (c->n == 0)
		return 0;
	csvout_init(&w, f);
	for (k = 0; k < c->n; k++)
		csvout_str(&w, c->v[k]);
	csvout_end_row(&w);
	json_array_foreach(rows, i, row) {
		for (k = 0; k < c->n; k++)
			csvout_json(&w, at_path(row, c->v[k]));
		csvout_end_row(&w);
	}
	return ferror(f) ? LCF_EIO : 0;
}

int
csvout_json_rows(FILE *f, const json_t *rows)
{
	struct cols c = { NULL, 0 };
	const json_t *row;
	size_t i;
	int rc;

	json_array_foreach(rows, i, row)
		if (json_is_object(row))
			flatten(&c, row, "");
	rc = write_table(f, &c, rows);
	cols_free(&c);
	return rc;
}

/* Whether a text cell would come back from the import trimmed. */
static int
blank_edges(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && (isspace((unsigned char)s[0]) ||
	    isspace((unsigned char)s[n - 1]));
}

/* What the import would not read back as it is, in one value. */
static size_t
lost_in(const json_t *v, int repeated_message)
{
	size_t i, lost = 0;
	const json_t *x;

	if (v == NULL)
		return 0;
	if (repeated_message)
		return json_array_size(v) > 0;
	if (json_is_string(v))
		return (size_t)blank_edges(json_string_value(v));
	json_array_foreach(v, i, x)
		if (json_is_string(x) && (strchr(json_string_value(x), ';') != NULL ||
		    blank_edges(json_string_value(x))))
			lost++;
	return lost;
}

/* The columns of d's fields under prefix that some body uses. */
static void
record_cols(struct cols *c, const ProtobufCMessageDescriptor *d,
    const char *prefix, const json_t *bodies, size_t *lost)
{
	const ProtobufCFieldDescriptor *f;
	const json_t *b;
	char *name;
	size_t i, k;

	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		name = xasprintf("%s%s%s", prefix, *prefix ? "." : "", f->name);
		if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
		    f->label != PROTOBUF_C_LABEL_REPEATED) {
			record_cols(c, f->descriptor, name, bodies, lost);
		} else {
			int repmsg = f->type == PROTOBUF_C_TYPE_MESSAGE;

			json_array_foreach(bodies, k, b) {
				const json_t *v = at_path(b, name);

				*lost += lost_in(v, repmsg);
				if (v != NULL && !repmsg)
					cols_add(c, name);
			}
		}
		free(name);
	}
}

int
csvout_records(FILE *f, const ProtobufCMessageDescriptor *d,
    const json_t *bodies, const json_t *keys, size_t *lost)
{
	struct cols c = { NULL, 0 };
	json_t *rows = json_array(), *row;
	const json_t *b;
	size_t i;
	int rc;

	*lost = 0;
	if (keys != NULL)
		cols_add(&c, "key");
	record_cols(&c, d, "", bodies, lost);
	json_array_foreach(bodies, i, b) {
		row = json_deep_copy(b);
		if (row == NULL)
			row = json_object();
		if (keys != NULL)
			json_object_set(row, "key", json_array_get(keys, i));
		json_array_append_new(rows, row);
	}
	rc = write_table(f, &c, rows);
	json_decref(rows);
	cols_free(&c);
	return rc;
}

int
csvout_contents(FILE *f, Lcf__Content *const *contents, size_t n,
    int with_key, size_t *removed, size_t *lost)
{
	const ProtobufCMessageDescriptor *d = NULL;
	json_t *bodies = json_array(), *keys = json_array();
	const ProtobufCMessage *body;
	size_t i;
	int rc;

	*removed = 0;
	for (i = 0; i < n; i++) {
		if ((body = record_body(contents[i], NULL)) == NULL) {
			(*removed)++;
			continue;
		}
		/* One list holds one kind; a stray one would not fit the header. */
		if (d != NULL && body->descriptor != d)
			continue;
		d = body->descriptor;
		json_array_append_new(bodies, pbjson_encode(body));
		json_array_append_new(keys, json_string(contents[i]->key ?
		    contents[i]->key : ""));
	}
	if (d == NULL) {
		/* No record: no columns to name either, so an empty file. */
		*lost = 0;
		rc = 0;
	} else {
		rc = csvout_records(f, d, bodies, with_key ? keys : NULL, lost);
	}
	json_decref(bodies);
	json_decref(keys);
	return rc;
}

void
csvout_warn(const char *prog, size_t removed, size_t lost)
{
	if (removed > 0)
		fprintf(stderr, "%s: %zu removed record%s left out of the CSV (a "
		    "row cannot say removed)\n", prog, removed, removed == 1 ?
		    "" : "s");
	if (lost > 0)
		fprintf(stderr, "%s: %zu value%s will not import back as written: "
		    "lists of messages (translations) have no CSV column, list "
		    "items cannot hold ';', blanks around text are trimmed; use "
		    "--json for those\n", prog, lost, lost == 1 ? "" : "s");
}
