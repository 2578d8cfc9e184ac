// SPDX-License-Identifier: Apache-2.0
// Fuzz target: an IBLT sent by a peer (C * 16 bytes), parsed and decoded
// against an empty set.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/iblt.h"

static int
count_key(void *arg, uint64_t key, int side)
{
	(void)key;
	(void)side;
	(*(size_t *)arg)++;
	return 0;
}

/*
 * The first byte picks the class (bit 0) and whether the rest is taken as it is
 * (bit 7: a table of the wrong length must be refused) or laid over a zeroed
 * table of the class's size, so that random bytes reach the decoder instead
 * of stopping at the length check.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iblt t;
	uint8_t *buf;
	size_t n = 0, len;
	uint32_t cells;
	int exact;

	if (size < 1)
		return 0;
	exact = data[0] & 0x80;
	/* The smallest class, or (bit 0) the next: larger ones only repeat the
	 * same code, slower. */
	cells = iblt_class_cells(data[0] & 0x01);
	data++;
	size--;
	if (exact) {
		if (iblt_parse(&t, cells, data, size) == 0) {
			iblt_decode(&t, count_key, &n);
			iblt_free(&t);
		}
		return 0;
	}
	len = (size_t)cells * 16;
	if ((buf = calloc(1, len)) == NULL)
		return 0;
	memcpy(buf, data, size < len ? size : len);
	if (iblt_parse(&t, cells, buf, len) == 0) {
		iblt_decode(&t, count_key, &n);
		iblt_free(&t);
	}
	free(buf);
	return 0;
}
