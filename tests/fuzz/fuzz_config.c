// SPDX-License-Identifier: Apache-2.0
// Fuzz target: lcnode.conf contents through config_read, the parser
// config_load runs on the file (read here from memory: no file per input).
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct config cfg;
	FILE *f;

	if (size == 0 || (f = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	config_read(&cfg, "/nonexistent-fuzz", "/nonexistent-fuzz/lcnode.conf",
	    f, err, sizeof(err));
	config_free(&cfg);
	fclose(f);
	return 0;
}
