// SPDX-License-Identifier: Apache-2.0
// Fuzz target: an indicator catalog file (config/catalog.json, `catalog =`
// in lcnode.conf) as catalog_load reads it, then the lookups views make.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model/catalog.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct catalog *cat = NULL;
	char path[64], err[512], *list;
	int fd;

	if ((fd = memfd_create("catalog", 0)) < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (catalog_load(path, &cat, err, sizeof(err)) == 0) {
			(void)catalog_find(cat, "1.1-adult-learning-participation");
			(void)catalog_index(cat, "");
			list = catalog_id_list(cat);
			free(list);
			catalog_free(cat);
		}
	}
	close(fd);
	return 0;
}
