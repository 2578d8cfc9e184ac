// SPDX-License-Identifier: Apache-2.0
// Fuzz target: an IBLT sent by a peer, parsed and decoded against an empty set.
#include <stddef.h>
#include <stdint.h>

#include "model/iblt.h"

static int
count_key(void *arg, uint64_t key, int side)
{
	(void)key;
	(void)side;
	(*(size_t *)arg)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iblt t;
	size_t n = 0;
	int cls;

	if (size < 1)
		return 0;
	cls = data[0] % IBLT_NCLASSES;
	if (iblt_parse(&t, (uint32_t)iblt_class_cells(cls), data + 1, size - 1) != 0)
		return 0;
	iblt_decode(&t, count_key, &n);
	iblt_free(&t);
	return 0;
}
