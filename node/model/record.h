/* SPDX-License-Identifier: Apache-2.0 */
/* Records: seal (serialize, sign, hash) and open (bounded decode, verify). */
#ifndef LCF_RECORD_H
#define LCF_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "lcf.pb-c.h"

struct identity;

#define RECORD_MAX_CONTENT 65536
/* A SignedRecord adds the signature and two small field headers. */
#define RECORD_MAX_SIGNED (RECORD_MAX_CONTENT + 96)
#define RECORD_ID_LEN 32

/* A decoded record. Both messages are owned by it; release with record_release. */
struct record {
	uint8_t id[RECORD_ID_LEN];
	Lcf__SignedRecord *sr;
	Lcf__Content *c;
};

/* BLAKE2b-256 of the exact content bytes. */
void record_id(const uint8_t *content, size_t len, uint8_t id[RECORD_ID_LEN]);

/* Serializes a content message into a new buffer the caller frees.
 * LCF_ETOOBIG over RECORD_MAX_CONTENT. */
int record_pack_content(const Lcf__Content *c, uint8_t **out, size_t *len);

/* Signs content bytes with the identity and builds the SignedRecord bytes (new
 * buffer, caller frees) and the record id. Thread-safe: used from the pool. */
int record_seal(const uint8_t *content, size_t len, const struct identity *id,
    uint8_t **out, size_t *outlen, uint8_t rid[RECORD_ID_LEN]);

/* Most bytes record_seal_draft writes for a content of len bytes: the content
 * field's tag and length, the content, the signature field. */
#define RECORD_SEALED_MAX(len) ((len) + 4 + 2 + 64)

/* Serializes c straight into out, signs it and writes the SignedRecord bytes
 * around it (the same bytes record_pack_content and record_seal give, without
 * allocating): *outlen bytes of out, and the record id. out must hold
 * RECORD_SEALED_MAX of c's packed size. Thread-safe. 0 or LCF_ETOOBIG (content
 * empty or over RECORD_MAX_CONTENT, or cap too small). */
int record_seal_draft(const Lcf__Content *c, const struct identity *id,
    uint8_t *out, size_t cap, size_t *outlen, uint8_t rid[RECORD_ID_LEN]);

/* Decodes SignedRecord bytes within bounds and decodes its content. With verify,
 * checks the signature against content.author (LCF_EBADSIG). LCF_EPROTO for
 * malformed input, LCF_ETOOBIG for oversize. On success rec owns the messages. */
int record_open(const uint8_t *buf, size_t len, int verify, struct record *rec);
/* record_open without verifying, for bytes the store gave under their id:
 * rec->id is that id, not hashed again (a view reads thousands). */
int record_open_stored(const uint8_t *buf, size_t len,
    const uint8_t id[RECORD_ID_LEN], struct record *rec);
void record_release(struct record *rec);

/* The id of SignedRecord bytes without decoding the content: enough to drop a
 * record already held before paying for a full decode. 0, LCF_EPROTO or
 * LCF_ETOOBIG. */
int record_peek_id(const uint8_t *buf, size_t len, uint8_t id[RECORD_ID_LEN]);

/* The canonical form of a SignedRecord (docs/PROTOCOL.md 1.1): the byte 0x0a,
 * the content's length as a minimal varint, the content, then 0x12 0x40 and
 * the 64-byte signature; nothing else. record_canonical returns 0 when buf is
 * exactly that, RECORD_REVERSED when it is that with the two fields swapped
 * (signature first: what lcnode before this rule stored as it came), and
 * LCF_EPROTO for anything else (unknown or repeated fields, a non-minimal
 * length, a content of 0 or over RECORD_MAX_CONTENT bytes). */
#define RECORD_REVERSED 1
int record_canonical(const uint8_t *buf, size_t len);
/* Puts a RECORD_REVERSED record into canonical form in place (the same length,
 * the same content and signature bytes, so the same id): 1 when it moved the
 * fields, 0 when buf was canonical already, LCF_EPROTO otherwise (buf is then
 * unchanged). Records going out pass through it, so a record stored before
 * the rule leaves the node in canonical form. */
int record_normalize(uint8_t *buf, size_t len);
/* Whether SignedRecord bytes hash to id (their content field, read without
 * decoding anything else): 0, or LCF_EPROTO when buf is not a SignedRecord
 * with content, or LCF_EINVAL when the content's hash is another id (the
 * bytes were damaged). Cheap next to a signature check: for every record
 * read from the store before it leaves the node (store_quarantine.c). */
int record_check_id(const uint8_t *buf, size_t len,
    const uint8_t id[RECORD_ID_LEN]);

/* The kind of stored or received SignedRecord bytes without decoding them
 * (*kind 0 when the content names none, -1 when it is beyond an int): 0 or
 * LCF_EPROTO. Cheap: for choosing which records a peer is sent. */
int record_peek_kind(const uint8_t *buf, size_t len, int *kind);

/* The content's body message (any kind) and, when name is not NULL, its field
 * name in Content ("practice", "membership", ...); NULL when it has none. The
 * body is owned by c. */
const ProtobufCMessage *record_body(const Lcf__Content *c, const char **name);

#endif
