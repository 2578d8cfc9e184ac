// SPDX-License-Identifier: Apache-2.0
// Finds the files lcnode ships (catalog, dashboard) relative to its executable, then under the compiled-in PREFIX.
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/sharedir.h"

#ifndef LCF_DATADIR
#define LCF_DATADIR "/usr/local/share/lcf"
#endif

/* The folder of the running executable into dir (size len), or "" when
 * /proc/self/exe cannot be read (then only LCF_DATADIR is tried). */
static void
exe_dir(char *dir, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	dir[0] = '\0';
	if (n <= 0 || (size_t)n >= sizeof(exe) - 1)
		return;
	exe[n] = '\0';
	snprintf(dir, len, "%s", dirname(exe));
}

int
sharedir_find(const char *rel, int strip, char *out, size_t len, char *tried,
    size_t triedlen)
{
	char dir[PATH_MAX], bases[SHAREDIR_CANDIDATES][PATH_MAX], path[PATH_MAX];
	char real[PATH_MAX];
	size_t i, used = 0;
	/* LCF_ETOOBIG when the path found does not fit in out. */
	int n = 0, ret = LCF_ENOTFOUND;

	exe_dir(dir, sizeof(dir));
	if (dir[0] != '\0') {
		snprintf(bases[n++], sizeof(bases[0]), "%s/../share/lcf", dir);
		snprintf(bases[n++], sizeof(bases[0]), "%s/share/lcf", dir);
	}
	snprintf(bases[n++], sizeof(bases[0]), "%s", LCF_DATADIR);
	if (tried != NULL && triedlen > 0)
		tried[0] = '\0';
	for (i = 0; i < (size_t)n; i++) {
		snprintf(path, sizeof(path), "%s/%s", bases[i], rel);
		if (access(path, R_OK) == 0) {
			if (strip && strrchr(path, '/') != NULL)
				*strrchr(path, '/') = '\0';
			/* Canonical when it resolves ("bin/../share" reads badly in
			 * a log), else as built. */
			if (snprintf(out, len, "%s", realpath(path, real) != NULL ?
			    real : path) < (int)len)
				ret = 0;
			break;
		}
		if (tried != NULL && used < triedlen)
			used += (size_t)snprintf(tried + used, triedlen - used, "%s%s",
			    i > 0 ? ", " : "", path);
	}
	return ret;
}
