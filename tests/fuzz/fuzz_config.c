// SPDX-License-Identifier: Apache-2.0
// Fuzz target: lcnode.conf contents through the init/line/finish parser.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[] = "/tmp/lcf-fuzz-config.XXXXXX", path[64], err[512];
	struct config cfg;
	FILE *f;

	if (mkdtemp(dir) == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, CONFIG_FILE_NAME);
	if ((f = fopen(path, "w")) != NULL) {
		fwrite(data, 1, size, f);
		fclose(f);
		config_load(&cfg, dir, err, sizeof(err));
		config_free(&cfg);
	}
	unlink(path);
	rmdir(dir);
	return 0;
}
