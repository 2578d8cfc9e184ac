// SPDX-License-Identifier: Apache-2.0
// Fuzz target: one line of a signed-records file (`lcctl publish` input,
// records a secretariat hands around) through recfile_parse, then the record it
// yields through record_open and validate_content as lcctl publish does.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <sodium.h>

#include "model/recfile.h"
#include "model/record.h"
#include "model/validate.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record rec;
	struct verr verr;
	uint8_t *raw;
	size_t len;
	char err[512];
	static int ready;

	if (!ready) {
		if (sodium_init() < 0)
			return 0;
		ready = 1;
	}
	if (recfile_parse((const char *)data, size, &raw, &len, err,
	    sizeof(err)) != 0)
		return 0;
	if (record_open(raw, len, 0, &rec) == 0) {
		validate_content(rec.c, NULL, 0, &verr);
		record_release(&rec);
	}
	free(raw);
	return 0;
}
