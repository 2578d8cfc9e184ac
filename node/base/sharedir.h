/* SPDX-License-Identifier: Apache-2.0 */
/* Where lcnode finds the files it ships (catalog, dashboard): share/lcf beside its own folder, else the compiled-in PREFIX. */
#ifndef LCF_SHAREDIR_H
#define LCF_SHAREDIR_H

#include <stddef.h>

/* The folders sharedir_find looks in, in order, from the directory D of the
 * running executable (/proc/self/exe):
 *   D/../share/lcf   an installed tree (PREFIX/bin/lcnode)
 *   D/share/lcf      the build tree ($(BUILD)/lcnode; make fills it)
 *   LCF_DATADIR      PREFIX/share/lcf of the build, for a moved binary
 * No path of the build tree is compiled in. */
#define SHAREDIR_CANDIDATES 3

/* Writes into out (size len) the path of rel (e.g. "catalog.json" or
 * "web/index.html") in the first folder above where it exists and can be
 * read, without rel's last component when strip is set ("web/index.html"
 * * gives ".../web"). Returns 0, LCF_ETOOBIG when the path does not fit in
 * out, or LCF_ENOTFOUND when no folder holds it; then,
 * if tried is not NULL, writes into it (size triedlen) the paths looked at,
 * separated by ", ", for the message. */
int sharedir_find(const char *rel, int strip, char *out, size_t len,
    char *tried, size_t triedlen);

#endif
