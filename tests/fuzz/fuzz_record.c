// SPDX-License-Identifier: Apache-2.0
// Fuzz target: SignedRecord bytes from the network through record_open and
// validate_content, as ingest does before anything is stored.
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "model/record.h"
#include "model/validate.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record rec;
	struct verr err;
	static int ready;

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
	return 0;
}
