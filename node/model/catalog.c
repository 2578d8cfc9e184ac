// SPDX-License-Identifier: Apache-2.0
// The indicator catalog: entries sorted by id, looked up by id; built from a
// file (catalog_file.c) or from the federation's catalog records.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/catalog.h"
#include "base/error.h"
#include "base/util.h"
#include "base/xmalloc.h"

void
catalog__item_free(Lcf__CatalogIndicator *ci)
{
	if (ci != NULL) {
		free(ci->id);
		free(ci->sub_area);
		free(ci->name);
		free(ci->unit);
		free(ci->definition);
		free(ci);
	}
}

static int
cmp_find(const void *key, const void *elem)
{
	const Lcf__CatalogIndicator *const *ci = elem;

	return strcmp(key, (*ci)->id);
}

long
catalog_index(const struct catalog *cat, const char *id)
{
	Lcf__CatalogIndicator **hit = NULL;

	if (cat != NULL && id != NULL && cat->n > 0)
		hit = bsearch(id, cat->items, cat->n, sizeof(*cat->items), cmp_find);
	return hit != NULL ? (long)(hit - cat->items) : -1;
}

const Lcf__CatalogIndicator *
catalog_find(const struct catalog *cat, const char *id)
{
	long i = catalog_index(cat, id);

	return i >= 0 ? cat->items[i] : NULL;
}

char *
catalog_id_list(const struct catalog *cat)
{
	char *list = NULL;
	size_t len = 1, i, off = 0, n;

	for (i = 0; cat != NULL && i < cat->n; i++)
		len += strlen(cat->items[i]->id) + 2;
	if (cat != NULL)
		list = xmalloc(len);
	for (i = 0; cat != NULL && i < cat->n; i++) {
		n = strlen(cat->items[i]->id);
		if (i > 0) {
			memcpy(list + off, ", ", 2);
			off += 2;
		}
		memcpy(list + off, cat->items[i]->id, n);
		off += n;
	}
	if (list != NULL)
		list[off] = '\0';
	return list;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static int
cmp_items(const void *a, const void *b)
{
	const Lcf__CatalogIndicator *const *x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

struct catalog *
catalog_from_entries(const Lcf__CatalogIndicator *const *items, size_t n,
    const uint8_t fed[32])
{
	struct catalog *cat = xcalloc(1, sizeof(*cat));
	char hex[LCF_ID_HEX];
	size_t i;

	cat->items = xcalloc(n ? n : 1, sizeof(*cat->items));
	for (i = 0; i < n; i++) {
		Lcf__CatalogIndicator *ci = xcalloc(1, sizeof(*ci));

		lcf__catalog_indicator__init(ci);
		ci->id = dup_or_null(items[i]->id != NULL ? items[i]->id : "");
		ci->sub_area = dup_or_null(items[i]->sub_area);
		ci->name = dup_or_null(items[i]->name);
		ci->unit = dup_or_null(items[i]->unit);
		ci->definition = dup_or_null(items[i]->definition);
		ci->has_version = items[i]->has_version;
		ci->version = items[i]->version;
		cat->items[i] = ci;
	}
	cat->n = n;
	qsort(cat->items, n, sizeof(*cat->items), cmp_items);
	cat->source = xasprintf("federation %s", hex_encode(fed, 32, hex));
	cat->federation = 1;
	memcpy(cat->fed, fed, 32);
	cat->refs = 1;
	return cat;
}

struct catalog *
catalog_ref(struct catalog *cat)
{
	if (cat != NULL)
		cat->refs++;
	return cat;
}

void
catalog_free(struct catalog *cat)
{
	size_t i;

	if (cat != NULL && --cat->refs <= 0) {
		for (i = 0; i < cat->n; i++)
			catalog__item_free(cat->items[i]);
		free(cat->items);
		free(cat->source);
		free(cat);
	}
}
