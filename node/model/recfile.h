/* SPDX-License-Identifier: Apache-2.0 */
/* Signed records as JSON lines: {"id","author","content","signature"}. */
#ifndef LCF_RECFILE_H
#define LCF_RECFILE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The signed JSON form of a record: id and author in hex, content (the exact
 * signed bytes) and signature in standard base64 with padding. New reference. */
json_t *recfile_json(const uint8_t id[32], const uint8_t author[32],
    const uint8_t *content, size_t content_len, const uint8_t *sig,
    size_t sig_len);

/* Parses one line of that form into SignedRecord bytes (a new buffer the caller
 * frees). Checks shape and sizes only: the caller verifies the signature. When
 * the line names an id or author, they must match the content's hash and
 * author. Returns 0, or LCF_EINVAL with a sentence in err naming the field. */
int recfile_parse(const char *line, size_t len, uint8_t **raw, size_t *raw_len,
    char *err, size_t errlen);

#endif
