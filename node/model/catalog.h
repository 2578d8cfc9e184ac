/* SPDX-License-Identifier: Apache-2.0 */
/* The indicator catalog in force: a JSON file, or the federation's records. */
#ifndef LCF_CATALOG_H
#define LCF_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "lcf.pb-c.h"

/* A catalog never changes once built: a new one replaces it. Users that keep
 * one across an asynchronous step (a publish job in the thread pool) hold a
 * reference (catalog_ref), so the loop can swap the node's catalog while they
 * run. References are taken and dropped in the loop only. */
struct catalog {
	Lcf__CatalogIndicator **items;   /* sorted by id; owned by the catalog */
	size_t n;
	char *source;                    /* file it came from, or "federation ID" */
	int federation;                  /* built from the federation's records */
	uint8_t fed[32];                 /* that federation, when federation */
	int refs;
};

/* catalog_file.c. Loads and checks a catalog file ({"version": N, "indicators": [...]}): every
 * entry has id, sub_area (a KFLC sub-area), name, unit, definition; ids unique.
 * On error writes "FILE: indicator K: field F: ..." into err and returns
 * LCF_ECONFIG (LCF_EIO if unreadable). */
int catalog_load(const char *path, struct catalog **out, char *err, size_t errlen);
/* Entry by id, or NULL. The pointer lives as long as the catalog. */
const Lcf__CatalogIndicator *catalog_find(const struct catalog *cat, const char *id);
/* Its place in cat->items (sorted by id), or -1. */
long catalog_index(const struct catalog *cat, const char *id);
/* Comma-separated list of every id, for error messages; caller frees. */
char *catalog_id_list(const struct catalog *cat);
/* Builds the catalog of a federation from its current catalog records' bodies
 * (copied; ids unique, as record keys are): a catalog with one reference. */
struct catalog *catalog_from_entries(const Lcf__CatalogIndicator *const *items,
    size_t n, const uint8_t fed[32]);
/* Takes a reference; returns cat. */
struct catalog *catalog_ref(struct catalog *cat);
/* Drops a reference and frees the catalog with the last. Accepts NULL. */
void catalog_free(struct catalog *cat);

/* Internal to catalog*.c: frees an entry whose strings are malloc'd. */
void catalog__item_free(Lcf__CatalogIndicator *ci);

#endif
