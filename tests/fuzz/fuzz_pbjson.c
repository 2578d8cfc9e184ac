// SPDX-License-Identifier: Apache-2.0
// Fuzz target: import JSON through pbjson_decode into a Content, then back out.
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "model/pbjson.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ProtobufCMessage *m = NULL;
	json_error_t jerr;
	struct verr err;
	json_t *j, *out;

	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return 0;
	if (pbjson_decode(j, &lcf__content__descriptor, "", &m, &err) == 0) {
		out = pbjson_encode(m);
		json_decref(out);
		validate_content((Lcf__Content *)m, NULL, VALIDATE_DRAFT, &err);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	json_decref(j);
	return 0;
}
