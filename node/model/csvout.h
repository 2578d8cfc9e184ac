/* SPDX-License-Identifier: Apache-2.0 */
/* CSV out for every list of lcctl and the HTTP API's format=csv: RFC 4180
 * (fields with a comma, a quote, CR or LF quoted, quotes doubled, CRLF line
 * ends), UTF-8, a header row, list values joined by ';' as the CSV import
 * splits them (model/tabular.h). */
#ifndef LCF_MODEL_CSVOUT_H
#define LCF_MODEL_CSVOUT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "lcf.pb-c.h"

/* A row being written to f (borrowed; the caller checks ferror). */
struct csvout {
	FILE *f;
	size_t col;                   /* fields written in the current row */
};

void csvout_init(struct csvout *w, FILE *f);
/* One field of len bytes: quoted (libcsv's csv_fwrite) when it holds a
 * comma, a double quote, CR or LF, else as it is. */
void csvout_field(struct csvout *w, const char *s, size_t len);
/* A C string; NULL is an empty field. */
void csvout_str(struct csvout *w, const char *s);
/* A JSON value: a string as it is, a number in its shortest form that reads
 * back as the same double, true/false, null empty, an array of those joined
 * by ';'; an object (or an array holding one) as compact JSON. */
void csvout_json(struct csvout *w, const json_t *v);
/* Ends the row with CRLF. */
void csvout_end_row(struct csvout *w);

/* The shortest "%.*g" of v (15 to 17 digits) that strtod reads back as v
 * exactly; buf of at least 32 bytes. Returns buf. */
char *csvout_number(double v, char *buf, size_t len);

/* A table from an array of objects: the columns are their members in the
 * order first met, a nested object's as "parent.member", arrays of scalars
 * joined by ';'; arrays of objects are left out. Returns ferror(f) != 0
 * as a negative code. */
int csvout_json_rows(FILE *f, const json_t *rows);

/* Records of one kind as `lcctl KIND import` reads them back: bodies is an
 * array of body objects (pbjson's form) of message type d; keys (may be NULL)
 * an array of their record keys, written first as the "key" column. The
 * columns are d's fields in field order that some body uses ("contact.name"
 * for a nested message). *lost counts the values the import would not read
 * back as they are: lists of messages (a CSV column cannot hold them),
 * list items holding ';', text with leading or trailing blanks. 0 or a
 * negative code when f failed. */
int csvout_records(FILE *f, const ProtobufCMessageDescriptor *d,
    const json_t *bodies, const json_t *keys, size_t *lost);

/* The current records among contents (n of them, tombstones passed over and
 * counted in *removed) as csvout_records writes them: their bodies, and their
 * keys first when with_key. */
int csvout_contents(FILE *f, Lcf__Content *const *contents, size_t n,
    int with_key, size_t *removed, size_t *lost);
/* Says on stderr what csvout_contents could not write as it is (prog names
 * the command), if anything. */
void csvout_warn(const char *prog, size_t removed, size_t lost);

#endif
