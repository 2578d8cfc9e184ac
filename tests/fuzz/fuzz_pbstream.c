// SPDX-License-Identifier: Apache-2.0
// Fuzz target: pbstream against jansson + pbjson on the same text; they must agree.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/error.h"
#include "model/pbjson.h"
#include "model/pbstream.h"

/* The packed form of m (freed), or NULL for no message. */
static uint8_t *
pack(ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(m);
	if ((buf = malloc(*len + 1)) == NULL)
		abort();
	protobuf_c_message_pack(m, buf);
	protobuf_c_message_free_unpacked(m, NULL);
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const ProtobufCMessageDescriptor *d = &lcf__content__descriptor;
	ProtobufCMessage *a = NULL, *b = NULL;
	struct pbstream_error perr;
	uint8_t *pa = NULL, *pb = NULL;
	size_t la = 0, lb = 0;
	json_error_t jerr;
	struct verr err;
	json_t *j;
	int ra = LCF_EINVAL, rb;

	/* The first byte picks the body type, the rest is the JSON text. */
	if (size > 0) {
		if (data[0] % 2 == 1)
			d = &lcf__practice__descriptor;
		data++;
		size--;
	}
	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (j != NULL)
		ra = pbjson_decode(j, d, "", &a, &err);
	json_decref(j);
	rb = pbstream_decode((const char *)data, size, d, NULL, &b, NULL, &perr);
	/* Both take a text or neither does, and what they take packs the same
	 * (which problem is reported may differ, see ARCHITECTURE.md). Jansson
	 * lets some raw NUL bytes pass, which are no JSON. */
	if (a != NULL)
		pa = pack(a, &la);
	if (b != NULL)
		pb = pack(b, &lb);
	if (rb == LCF_EINVAL && memchr(data, '\0', size) != NULL)
		goto out;
	if ((ra == 0) != (rb == 0))
		abort();
	if (la != lb || (la > 0 && memcmp(pa, pb, la) != 0))
		abort();
out:
	free(pa);
	free(pb);
	return 0;
}
