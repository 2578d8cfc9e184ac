// SPDX-License-Identifier: Apache-2.0
// Fuzz target: SignedRecord bytes from the network through record_open and
// validate_content, as ingest does before anything is stored; the canonical
// form's check (record_canonical) and record_normalize, which must agree:
// a record normalize moves becomes canonical, keeping its length and id.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "model/record.h"
#include "model/validate.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record rec;
	struct verr err;
	static int ready;
	uint8_t *copy;
	int canon, moved;

	if (!ready) {
		if (sodium_init() < 0)
			return 0;
		ready = 1;
	}
	/* Without the signature check, so the fuzzer reaches the validator. */
	if (record_open(data, size, 0, &rec) == 0) {
		validate_content(rec.c, NULL, 0, &err);
		record_release(&rec);
	}
	if (record_open(data, size, 1, &rec) == 0)
		record_release(&rec);
	canon = record_canonical(data, size);
	if (size > 0 && (copy = malloc(size)) != NULL) {
		memcpy(copy, data, size);
		moved = record_normalize(copy, size);
		if (canon == 0 && (moved != 0 || memcmp(copy, data, size) != 0))
			abort();        /* a canonical record is left as it is */
		if (canon == RECORD_REVERSED &&
		    (moved != 1 || record_canonical(copy, size) != 0))
			abort();        /* a reversed one comes out canonical */
		if (canon < 0 && (moved >= 0 || memcmp(copy, data, size) != 0))
			abort();        /* anything else is refused, untouched */
		free(copy);
	}
	return 0;
}
