// SPDX-License-Identifier: Apache-2.0
// Records: seal (serialize, sign, hash) and open (bounded decode, verify).
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/error.h"
#include "model/identity.h"
#include "model/record.h"
#include "base/xmalloc.h"

void
record_id(const uint8_t *content, size_t len, uint8_t id[RECORD_ID_LEN])
{
	crypto_generichash_blake2b(id, RECORD_ID_LEN, content, len, NULL, 0);
}

int
record_pack_content(const Lcf__Content *c, uint8_t **out, size_t *len)
{
	size_t n = lcf__content__get_packed_size(c);

	*out = NULL;
	if (n == 0 || n > RECORD_MAX_CONTENT)
		return LCF_ETOOBIG;
	*out = xmalloc(n);
	*len = lcf__content__pack(c, *out);
	return 0;
}

int
record_seal(const uint8_t *content, size_t len, const struct identity *id,
    uint8_t **out, size_t *outlen, uint8_t rid[RECORD_ID_LEN])
{
	Lcf__SignedRecord sr = LCF__SIGNED_RECORD__INIT;
	uint8_t sig[IDENTITY_SIG_LEN];
	size_t n;

	if (len == 0 || len > RECORD_MAX_CONTENT)
		return LCF_ETOOBIG;
	identity_sign(id, content, len, sig);
	record_id(content, len, rid);
	sr.has_content = 1;
	sr.content.data = (uint8_t *)content;
	sr.content.len = len;
	sr.has_signature = 1;
	sr.signature.data = sig;
	sr.signature.len = sizeof(sig);
	n = lcf__signed_record__get_packed_size(&sr);
	*out = xmalloc(n);
	*outlen = lcf__signed_record__pack(&sr, *out);
	return 0;
}

int
record_seal_draft(const Lcf__Content *c, const struct identity *id,
    uint8_t *out, size_t cap, size_t *outlen, uint8_t rid[RECORD_ID_LEN])
{
	size_t len = lcf__content__get_packed_size(c), p = 0, v;
	uint8_t *content;

	if (len == 0 || len > RECORD_MAX_CONTENT || cap < RECORD_SEALED_MAX(len))
		return LCF_ETOOBIG;
	/* SignedRecord field 1 (content), length-delimited: tag, varint. */
	out[p++] = 0x0a;
	for (v = len; v >= 0x80; v >>= 7)
		out[p++] = (uint8_t)(v | 0x80);
	out[p++] = (uint8_t)v;
	content = out + p;
	p += lcf__content__pack(c, content);
	/* Field 2 (signature): tag, length 64, the signature. */
	out[p++] = 0x12;
	out[p++] = IDENTITY_SIG_LEN;
	identity_sign(id, content, len, out + p);
	p += IDENTITY_SIG_LEN;
	record_id(content, len, rid);
	*outlen = p;
	return 0;
}

/* record_open, with the id given (id not NULL) rather than worked out. */
static int
open_record(const uint8_t *buf, size_t len, int verify, const uint8_t *id,
    struct record *rec)
{
	int ret = LCF_EPROTO;
	Lcf__SignedRecord *sr = NULL;
	Lcf__Content *c = NULL;

	memset(rec, 0, sizeof(*rec));
	if (len > RECORD_MAX_SIGNED)
		return LCF_ETOOBIG;
	if ((sr = lcf__signed_record__unpack(NULL, len, buf)) == NULL)
		goto out;
	if (!sr->has_content || sr->content.len == 0 || !sr->has_signature ||
	    sr->signature.len != IDENTITY_SIG_LEN)
		goto out;
	if (sr->content.len > RECORD_MAX_CONTENT) {
		ret = LCF_ETOOBIG;
		goto out;
	}
	c = lcf__content__unpack(NULL, sr->content.len, sr->content.data);
	if (c == NULL || !c->has_author || c->author.len != IDENTITY_PK_LEN)
		goto out;
	if (verify && identity_verify(c->author.data, sr->content.data,
	    sr->content.len, sr->signature.data) != 0) {
		ret = LCF_EBADSIG;
		goto out;
	}
	if (id != NULL)
		memcpy(rec->id, id, RECORD_ID_LEN);
	else
		record_id(sr->content.data, sr->content.len, rec->id);
	rec->sr = sr;
	rec->c = c;
	sr = NULL;
	c = NULL;
	ret = 0;
out:
	if (c != NULL)
		lcf__content__free_unpacked(c, NULL);
	if (sr != NULL)
		lcf__signed_record__free_unpacked(sr, NULL);
	return ret;
}

int
record_open(const uint8_t *buf, size_t len, int verify, struct record *rec)
{
	return open_record(buf, len, verify, NULL, rec);
}

int
record_open_stored(const uint8_t *buf, size_t len, const uint8_t id[RECORD_ID_LEN],
    struct record *rec)
{
	return open_record(buf, len, 0, id, rec);
}

int
record_peek_id(const uint8_t *buf, size_t len, uint8_t id[RECORD_ID_LEN])
{
	Lcf__SignedRecord *sr;
	int ret = LCF_EPROTO;

	if (len > RECORD_MAX_SIGNED)
		return LCF_ETOOBIG;
	if ((sr = lcf__signed_record__unpack(NULL, len, buf)) == NULL)
		return LCF_EPROTO;
	if (sr->has_content && sr->content.len > 0 &&
	    sr->content.len <= RECORD_MAX_CONTENT) {
		record_id(sr->content.data, sr->content.len, id);
		ret = 0;
	}
	lcf__signed_record__free_unpacked(sr, NULL);
	return ret;
}

/* Reads a varint at *p (below end) into *v and moves *p past it: 0, or -1
 * when it is cut short or longer than 10 bytes. */
static int
varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	unsigned shift;

	*v = 0;
	for (shift = 0; *p < end && shift < 70; shift += 7) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

/* Finds the last occurrence of field num in the message buf (len bytes):
 * its varint value (wire type 0) into *v, or its bytes (wire type 2) into
 * *data / *dlen. 0 when found, LCF_ENOTFOUND, or LCF_EPROTO when buf is not
 * a message. */
static int
find_field(const uint8_t *buf, size_t len, uint32_t num, uint64_t *v,
    const uint8_t **data, size_t *dlen)
{
	const uint8_t *p = buf, *end = buf + len;
	uint64_t tag, x;
	int ret = LCF_ENOTFOUND;

	while (p < end) {
		if (varint(&p, end, &tag) != 0)
			return LCF_EPROTO;
		switch (tag & 7) {
		case 0:
			if (varint(&p, end, &x) != 0)
				return LCF_EPROTO;
			if ((tag >> 3) == num && v != NULL) {
				*v = x;
				ret = 0;
			}
			break;
		case 1:
		case 5:
			x = (tag & 7) == 1 ? 8 : 4;
			if ((uint64_t)(end - p) < x)
				return LCF_EPROTO;
			p += x;
			break;
		case 2:
			if (varint(&p, end, &x) != 0 || (uint64_t)(end - p) < x)
				return LCF_EPROTO;
			if ((tag >> 3) == num && data != NULL) {
				*data = p;
				*dlen = (size_t)x;
				ret = 0;
			}
			p += x;
			break;
		default:
			return LCF_EPROTO;
		}
	}
	return ret;
}

/* Length of the canonical SignedRecord field that starts at p (the field's
 * tag, then a minimal varint length, then that many bytes) when its tag is
 * tag and its length is within [min, max]: 0 when it is not. */
static size_t
canon_field(const uint8_t *p, const uint8_t *end, uint8_t tag, uint64_t min,
    uint64_t max)
{
	const uint8_t *q = p + 1;
	uint64_t flen;
	size_t hdr;

	if (p >= end || *p != tag || varint(&q, end, &flen) != 0)
		return 0;
	hdr = (size_t)(q - p);
	/* Minimal: the last byte of a varint longer than one byte is not 0. */
	if (hdr > 2 && q[-1] == 0)
		return 0;
	if (flen < min || flen > max || flen > (uint64_t)(end - q))
		return 0;
	return hdr + (size_t)flen;
}

#define CANON_SIG_FIELD (2 + IDENTITY_SIG_LEN)

int
record_canonical(const uint8_t *buf, size_t len)
{
	const uint8_t *end = buf + len;
	size_t a;

	if (len > RECORD_MAX_SIGNED)
		return LCF_EPROTO;
	a = canon_field(buf, end, 0x0a, 1, RECORD_MAX_CONTENT);
	if (a != 0 && len - a == CANON_SIG_FIELD &&
	    canon_field(buf + a, end, 0x12, IDENTITY_SIG_LEN,
	    IDENTITY_SIG_LEN) == CANON_SIG_FIELD)
		return 0;
	if (len > CANON_SIG_FIELD &&
	    canon_field(buf, end, 0x12, IDENTITY_SIG_LEN,
	    IDENTITY_SIG_LEN) == CANON_SIG_FIELD &&
	    canon_field(buf + CANON_SIG_FIELD, end, 0x0a, 1,
	    RECORD_MAX_CONTENT) == len - CANON_SIG_FIELD)
		return RECORD_REVERSED;
	return LCF_EPROTO;
}

int
record_normalize(uint8_t *buf, size_t len)
{
	uint8_t sig[CANON_SIG_FIELD];
	int rc = record_canonical(buf, len);

	if (rc != RECORD_REVERSED)
		return rc;
	memcpy(sig, buf, sizeof(sig));
	memmove(buf, buf + sizeof(sig), len - sizeof(sig));
	memcpy(buf + len - sizeof(sig), sig, sizeof(sig));
	return 1;
}

int
record_check_id(const uint8_t *buf, size_t len, const uint8_t id[RECORD_ID_LEN])
{
	const uint8_t *content = NULL;
	uint8_t h[RECORD_ID_LEN];
	size_t clen = 0;
	int ret;

	if (len > RECORD_MAX_SIGNED)
		return LCF_EPROTO;
	if ((ret = find_field(buf, len, 1, NULL, &content, &clen)) != 0 ||
	    clen == 0 || clen > RECORD_MAX_CONTENT)
		return LCF_EPROTO;
	record_id(content, clen, h);
	return memcmp(h, id, RECORD_ID_LEN) == 0 ? 0 : LCF_EINVAL;
}

int
record_peek_kind(const uint8_t *buf, size_t len, int *kind)
{
	const uint8_t *content = NULL;
	size_t clen = 0;
	uint64_t k = 0;
	int ret;

	*kind = 0;
	if ((ret = find_field(buf, len, 1, NULL, &content, &clen)) != 0)
		return ret == LCF_ENOTFOUND ? LCF_EPROTO : ret;
	ret = find_field(content, clen, 3, &k, NULL, NULL);
	if (ret == 0)
		*kind = k > INT32_MAX ? -1 : (int)k;
	return ret == LCF_ENOTFOUND ? 0 : ret;
}

void
record_release(struct record *rec)
{
	if (rec == NULL)
		return;
	if (rec->c != NULL)
		lcf__content__free_unpacked(rec->c, NULL);
	if (rec->sr != NULL)
		lcf__signed_record__free_unpacked(rec->sr, NULL);
	rec->c = NULL;
	rec->sr = NULL;
}

const ProtobufCMessage *
record_body(const Lcf__Content *c, const char **name)
{
	const ProtobufCFieldDescriptor *f;
	const ProtobufCMessage *body = NULL;

	if (name != NULL)
		*name = NULL;
	if (c == NULL || c->body_case == LCF__CONTENT__BODY__NOT_SET)
		goto out;
	f = protobuf_c_message_descriptor_get_field(&lcf__content__descriptor,
	    (unsigned)c->body_case);
	if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE)
		goto out;
	body = *(const ProtobufCMessage *const *)(const void *)
	    ((const char *)c + f->offset);
	if (body != NULL && name != NULL)
		*name = f->name;
out:
	return body;
}
