// SPDX-License-Identifier: Apache-2.0
// Fuzz target: a search query (`lcctl practice search`, /api/v1/practices?q=)
// through squery_parse, the parser of words, phrases, OR, NOT and groups.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/squery.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct squery *q = NULL;
	char err[256], *text;

	if (size > 4096 || (text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (squery_parse(text, &q, err, sizeof(err)) == 0)
		squery_free(q);
	free(text);
	return 0;
}
