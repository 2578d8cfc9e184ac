/* SPDX-License-Identifier: Apache-2.0 */
/* Import files: a JSON array (or object) of records, or CSV with a header row. */
#ifndef LCF_TABULAR_H
#define LCF_TABULAR_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "model/validate.h"

/* One input item and where it came from, for error messages. */
struct tab_item {
	json_t *obj;      /* borrowed from the array the loader returns */
	int line;         /* 1-based line in the file (CSV row line; JSON: 0 if unknown) */
	int index;        /* 0-based record index */
};

struct tab_file {
	json_t *array;          /* owns every item's object */
	struct tab_item *items;
	size_t n;
};

/* Loads PATH: ".csv" (case-insensitive) is CSV, anything else JSON (an array of
 * objects, or a single object). CSV cells become JSON values typed through the
 * descriptor d: header names are field names, "contact.name" reaches a nested
 * field, repeated fields are split on ';', empty cells are left out. Bounded: at
 * most max_bytes of file. On error writes "PATH:LINE: ..." or
 * "PATH: record K: field F: ..." into err and returns a negative code. */
int tab_load(const char *path, const ProtobufCMessageDescriptor *d, size_t max_bytes,
    struct tab_file *out, char *err, size_t errlen);
void tab_free(struct tab_file *f);

/* A JSON import file read one record at a time, so that a file of any size is
 * never held whole: a small scanner finds where each element of the top-level
 * array (or the single top-level object) ends, and only that element is
 * parsed. Elements must be objects. */
struct tab_stream;

/* Opens PATH (at most max_bytes; "-" is not special). On error writes
 * "PATH: ..." into err and returns a negative code. */
int tab_stream_open(const char *path, size_t max_bytes, struct tab_stream **out,
    char *err, size_t errlen);
/* Reads on from the descriptor fd (taken over: closed by tab_stream_close),
 * naming it path in messages. For tests and fuzzing. */
struct tab_stream *tab_stream_fd(int fd, const char *path, size_t max_bytes);
/* The next record: *obj is a new reference (NULL at the end of the file, with
 * 0 returned) and *line the line its '{' is on. A syntax error anywhere is
 * written into err as "PATH:LINE: column C: message" or "PATH: record K (line
 * L): message" and returned as a negative code; the stream is then done. */
int tab_stream_next(struct tab_stream *ts, json_t **obj, int *line, char *err,
    size_t errlen);
/* The next record's text instead, for a caller with its own parser: *text
 * (NULL at the end of the file) points at *len bytes that stay valid until the
 * next call, starting at line *line, byte column *col of the file. Errors as
 * for tab_stream_next, except that the record's own syntax is not checked. */
int tab_stream_next_text(struct tab_stream *ts, const char **text, size_t *len,
    int *line, size_t *col, char *err, size_t errlen);
/* Closes the file and frees ts. Accepts NULL. */
void tab_stream_close(struct tab_stream *ts);

#endif
