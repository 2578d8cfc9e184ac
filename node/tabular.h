/* SPDX-License-Identifier: Apache-2.0 */
/* Import files: a JSON array (or object) of records, or CSV with a header row. */
#ifndef LCF_TABULAR_H
#define LCF_TABULAR_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "validate.h"

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

#endif
