/* SPDX-License-Identifier: Apache-2.0 */
/* JSON text -> protobuf-c message straight from a streaming parser's events. */
#ifndef LCF_PBSTREAM_H
#define LCF_PBSTREAM_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "model/validate.h"

/* Why pbstream_decode failed. */
struct pbstream_error {
	int syntax;        /* 1: not acceptable JSON at line/column; 0: a field */
	int line;          /* syntax: 1-based line within the text */
	size_t column;     /* syntax: 1-based byte column within that line */
	struct verr verr;  /* syntax: msg only; else field path and msg */
};

/* Builds a new message of type d from text (len bytes), which must hold one
 * JSON object, by the rules of pbjson_decode: the message is the same one
 * pbjson_decode makes from that object as jansson parses it (with duplicate
 * keys refused), and a field problem is reported with the same path and
 * message. Problems that jansson reports while parsing (syntax, duplicate
 * keys, "\u0000", integers out of range) come first, as syntax errors, then
 * the first field problem in the order of the text. When keyname is non-NULL
 * a top-level member of that name is no field: it must be a string, and
 * *key gets a copy (NULL when absent); a bad one is reported before field
 * problems, at field keyname, "must be a string". On success *out (and *key)
 * belong to the caller: protobuf_c_message_free_unpacked(*out, NULL),
 * free(*key). Returns 0, LCF_EINVAL (syntax) or LCF_EVALIDATE. */
int pbstream_decode(const char *text, size_t len, const ProtobufCMessageDescriptor *d,
    const char *keyname, ProtobufCMessage **out, char **key,
    struct pbstream_error *err);

#endif
