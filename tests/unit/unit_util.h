/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the unit tests (header only: each test is one program). */
#ifndef LCF_UNIT_UTIL_H
#define LCF_UNIT_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static int
unit_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes a test's temporary directory and everything in it. */
static inline void
unit_rm_tree(const char *dir)
{
	nftw(dir, unit_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
