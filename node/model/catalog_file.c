// SPDX-License-Identifier: Apache-2.0
// catalog_load: a catalog file read with jansson, each entry checked as a catalog
// record is (validate_content), sorted by id.
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model/catalog.h"
#include "base/error.h"
#include "model/validate.h"
#include "base/util.h"
#include "base/xmalloc.h"

/* The default catalog is about 20 KiB; these bounds leave room for a large
 * network's catalog while keeping a wrong file from being read whole. */
#define CATALOG_MAX_BYTES	(4u << 20)
#define CATALOG_MAX_ITEMS	10000

/* An entry with its position in the file, so errors after sorting can still
 * name the indicator as the author numbered it. */
struct entry {
	Lcf__CatalogIndicator *ci;
	size_t index;
};

static void
errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
}

/* Reads at most CATALOG_MAX_BYTES of path into a buffer the caller frees. */
static int
read_bounded(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
	int ret = read_file(path, CATALOG_MAX_BYTES, out, outlen);

	if (ret == LCF_ETOOBIG) {
		errf(err, errlen, "%s: larger than %u bytes", path, CATALOG_MAX_BYTES);
		return LCF_ECONFIG;
	}
	if (ret != 0)
		errf(err, errlen, "%s: cannot open: %s", path, errno == EINVAL ?
		    "not a regular file" : strerror(errno));
	return ret;
}

/* Copies a JSON string member into *dst. The parser runs without
 * JSON_ALLOW_NUL, so a string cannot hold an embedded NUL that would cut it
 * short as a C string. */
static int
take_string(const json_t *v, char **dst, const char *path, size_t idx,
    const char *name, char *err, size_t errlen)
{
	int ret = LCF_ECONFIG;

	if (!json_is_string(v)) {
		errf(err, errlen, "%s: indicator %zu: field %s: must be a string",
		    path, idx, name);
		goto out;
	}
	free(*dst);
	*dst = xstrdup(json_string_value(v));
	ret = 0;
out:
	return ret;
}

/* Builds one entry from its JSON object; version defaults to the file's. */
static int
parse_entry(const json_t *obj, size_t idx, uint32_t version, const char *path,
    Lcf__CatalogIndicator **out, char *err, size_t errlen)
{
	Lcf__CatalogIndicator *ci;
	Lcf__Content c = LCF__CONTENT__INIT;
	struct verr verr;
	const char *name, *field;
	json_t *v;
	json_int_t ver;
	int ret = LCF_ECONFIG;

	ci = xcalloc(1, sizeof(*ci));
	lcf__catalog_indicator__init(ci);
	ci->has_version = 1;
	ci->version = version;
	if (!json_is_object(obj)) {
		errf(err, errlen, "%s: indicator %zu: must be an object", path, idx);
		goto out;
	}
	json_object_foreach((json_t *)obj, name, v) {
		char **dst = NULL;

		if (strcmp(name, "id") == 0)
			dst = &ci->id;
		else if (strcmp(name, "sub_area") == 0)
			dst = &ci->sub_area;
		else if (strcmp(name, "name") == 0)
			dst = &ci->name;
		else if (strcmp(name, "unit") == 0)
			dst = &ci->unit;
		else if (strcmp(name, "definition") == 0)
			dst = &ci->definition;
		if (dst != NULL) {
			if (take_string(v, dst, path, idx, name, err, errlen) < 0)
				goto out;
		} else if (strcmp(name, "version") == 0) {
			ver = json_is_integer(v) ? json_integer_value(v) : 0;
			if (ver < 1 || ver > UINT32_MAX) {
				errf(err, errlen, "%s: indicator %zu: field version: "
				    "must be an integer from 1 to %u", path, idx,
				    (unsigned)UINT32_MAX);
				goto out;
			}
			ci->version = (uint32_t)ver;
		} else {
			errf(err, errlen, "%s: indicator %zu: field %.64s: unknown field "
			    "(expected id, sub_area, name, unit, definition, version)",
			    path, idx, name);
			goto out;
		}
	}
	/* The rules for an entry are the ones a catalog record obeys. */
	c.has_kind = 1;
	c.kind = LCF__KIND__KIND_CATALOG;
	c.body_case = LCF__CONTENT__BODY_CATALOG;
	c.catalog = ci;
	if (validate_content(&c, NULL, VALIDATE_DRAFT, &verr) < 0) {
		field = verr.field;
		if (strncmp(field, "catalog.", 8) == 0)
			field += 8;
		errf(err, errlen, "%s: indicator %zu: field %s: %s", path, idx, field,
		    verr.msg);
		goto out;
	}
	*out = ci;
	ci = NULL;
	ret = 0;
out:
	catalog__item_free(ci);
	return ret;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->ci->id, y->ci->id);

	if (c == 0)
		c = x->index < y->index ? -1 : x->index > y->index;
	return c;
}

/* Checks the top level: {"version": N, "indicators": [...]} and nothing else. */
static int
parse_top(const json_t *root, const char *path, uint32_t *version,
    json_t **indicators, char *err, size_t errlen)
{
	const char *name;
	json_t *v, *ver = NULL, *arr = NULL;
	json_int_t n;
	int ret = LCF_ECONFIG;

	if (!json_is_object(root)) {
		errf(err, errlen, "%s: must be a JSON object with version and indicators",
		    path);
		goto out;
	}
	json_object_foreach((json_t *)root, name, v) {
		if (strcmp(name, "version") == 0) {
			ver = v;
		} else if (strcmp(name, "indicators") == 0) {
			arr = v;
		} else {
			errf(err, errlen, "%s: field %.64s: unknown field (expected "
			    "version, indicators)", path, name);
			goto out;
		}
	}
	n = json_is_integer(ver) ? json_integer_value(ver) : 0;
	if (n < 1 || n > UINT32_MAX) {
		errf(err, errlen, "%s: field version: must be an integer from 1 to %u",
		    path, (unsigned)UINT32_MAX);
		goto out;
	}
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > CATALOG_MAX_ITEMS) {
		errf(err, errlen, "%s: field indicators: must be an array of 1 to %d "
		    "indicators", path, CATALOG_MAX_ITEMS);
		goto out;
	}
	*version = (uint32_t)n;
	*indicators = arr;
	ret = 0;
out:
	return ret;
}

int
catalog_load(const char *path, struct catalog **out, char *err, size_t errlen)
{
	struct catalog *cat = NULL;
	struct entry *ents = NULL;
	json_error_t jerr;
	json_t *root = NULL, *arr = NULL;
	char *buf = NULL;
	size_t len = 0, n = 0, i;
	uint32_t version = 0;
	int ret;

	errf(err, errlen, "%s", "");
	if ((ret = read_bounded(path, &buf, &len, err, errlen)) < 0)
		goto out;
	ret = LCF_ECONFIG;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		errf(err, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column,
		    jerr.text);
		goto out;
	}
	if (parse_top(root, path, &version, &arr, err, errlen) < 0)
		goto out;
	n = json_array_size(arr);
	ents = xcalloc(n, sizeof(*ents));
	for (i = 0; i < n; i++) {
		ents[i].index = i;
		if (parse_entry(json_array_get(arr, i), i, version, path, &ents[i].ci,
		    err, errlen) < 0)
			goto out;
	}
	qsort(ents, n, sizeof(*ents), cmp_entry);
	for (i = 1; i < n; i++) {
		if (strcmp(ents[i - 1].ci->id, ents[i].ci->id) == 0) {
			errf(err, errlen, "%s: indicator %zu: field id: duplicate id "
			    "'%s' (first at indicator %zu)", path, ents[i].index,
			    ents[i].ci->id, ents[i - 1].index);
			goto out;
		}
	}
	cat = xcalloc(1, sizeof(*cat));
	cat->items = xcalloc(n, sizeof(*cat->items));
	for (i = 0; i < n; i++) {
		cat->items[i] = ents[i].ci;
		ents[i].ci = NULL;
	}
	cat->n = n;
	cat->source = xstrdup(path);
	cat->refs = 1;
	*out = cat;
	cat = NULL;
	ret = 0;
out:
	for (i = 0; ents != NULL && i < n; i++)
		catalog__item_free(ents[i].ci);
	free(ents);
	json_decref(root);
	free(buf);
	catalog_free(cat);
	return ret;
}

