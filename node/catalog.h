/* SPDX-License-Identifier: Apache-2.0 */
/* The indicator catalog in force: loaded from a JSON file at start. */
#ifndef LCF_CATALOG_H
#define LCF_CATALOG_H

#include <stddef.h>

#include "lcf.pb-c.h"

struct catalog {
	Lcf__CatalogIndicator **items;   /* sorted by id; owned by the catalog */
	size_t n;
	char *source;                    /* file it came from */
};

/* Loads and checks a catalog file ({"version": N, "indicators": [...]}): every
 * entry has id, sub_area (a KFLC sub-area), name, unit, definition; ids unique.
 * On error writes "FILE: indicator K: field F: ..." into err and returns
 * LCF_ECONFIG (LCF_EIO if unreadable). */
int catalog_load(const char *path, struct catalog **out, char *err, size_t errlen);
/* Entry by id, or NULL. The pointer lives as long as the catalog. */
const Lcf__CatalogIndicator *catalog_find(const struct catalog *cat, const char *id);
/* Comma-separated list of every id, for error messages; caller frees. */
char *catalog_id_list(const struct catalog *cat);
void catalog_free(struct catalog *cat);

#endif
