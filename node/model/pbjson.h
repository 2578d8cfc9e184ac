/* SPDX-License-Identifier: Apache-2.0 */
/* JSON <-> protobuf-c messages through the runtime descriptors (any message). */
#ifndef LCF_PBJSON_H
#define LCF_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "lcf.pb-c.h"
#include "model/validate.h"

/* One JSON value as the field decoders see it, whichever parser read it:
 * containers only by their type. str points at len bytes (not necessarily
 * NUL-terminated) that the caller keeps for the call. */
enum pbjson_type {
	PBJSON_NULL,
	PBJSON_FALSE,
	PBJSON_TRUE,
	PBJSON_INTEGER,
	PBJSON_REAL,
	PBJSON_STRING,
	PBJSON_LIST,
	PBJSON_OBJECT,
};

struct pbjson_value {
	enum pbjson_type type;
	long long integer;
	double real;
	const char *str;
	size_t len;
};

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

/* Decodes v into one element of field f at dst (a string is copied: the
 * message owns it), by the rules of pbjson_decode; a message field takes
 * only an object, which the caller decodes, so v is a type error there.
 * Writes dst only on success. Returns 0, or LCF_EVALIDATE with err filled
 * at path. */
int pbjson_decode_scalar(const ProtobufCFieldDescriptor *f, const struct pbjson_value *v,
    void *dst, const char *path, struct verr *err);

/* Length of the valid UTF-8 sequence at s (at most n bytes, n > 0): 1 to 4,
 * or 0 if it is not one (overlong forms, surrogates and code points past
 * U+10FFFF are not, as for jansson). */
size_t pbjson_utf8_len(const unsigned char *s, size_t n);

/* Size of one element of a repeated field of type t in a protobuf-c array. */
size_t pbjson_element_size(ProtobufCType t);

/* The JSON form of a record (DATA-MODEL.md): {"id", "author", "city_name"
 * (if given), "seq", "kind", "key", "timestamp", "deleted", "<kind>": body}.
 * id is 32 bytes. New reference. */
json_t *pbjson_record(const uint8_t *id, const Lcf__Content *c, const char *city_name);

#endif
