/* SPDX-License-Identifier: Apache-2.0 */
/* JSON <-> protobuf-c messages through the runtime descriptors (any message). */
#ifndef LCF_PBJSON_H
#define LCF_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "lcf.pb-c.h"
#include "validate.h"

/* JSON of a message: proto field names; unset optional fields and empty repeated
 * fields left out; enums as lower-case names without the enum's prefix; bytes as
 * lower-case hex; 64-bit integers as JSON integers. New reference. */
json_t *pbjson_encode(const ProtobufCMessage *m);

/* Builds a new message of type d from a JSON object. Unknown names, wrong types,
 * out-of-range numbers and unknown enum names are errors: err->field gets the
 * dotted path (prefix + name, "[i]" for list items). Numbers given as JSON strings
 * are accepted for numeric fields (CSV). On success *out is owned by the caller:
 * protobuf_c_message_free_unpacked(*out, NULL). Returns 0 or LCF_EVALIDATE. */
int pbjson_decode(const json_t *obj, const ProtobufCMessageDescriptor *d,
    const char *prefix, ProtobufCMessage **out, struct verr *err);

/* The JSON form of a record (DATA-MODEL.md): {"id", "author", "city_name"
 * (if given), "seq", "kind", "key", "timestamp", "deleted", "<kind>": body}.
 * id is 32 bytes. New reference. */
json_t *pbjson_record(const uint8_t *id, const Lcf__Content *c, const char *city_name);

/* Lower-case JSON name of a kind ("practice"), or "unknown". Static. */
const char *pbjson_kind_name(Lcf__Kind k);
/* Kind from its name; LCF__KIND__KIND_UNSPECIFIED if unknown. */
Lcf__Kind pbjson_kind_from_name(const char *name);

#endif
