// SPDX-License-Identifier: Apache-2.0
// Unit tests for record (seal and open) and identity (key files, signatures).
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/error.h"
#include "model/identity.h"
#include "model/record.h"
#include "base/util.h"
#include "model/validate.h"
#include "unit_util.h"

struct fix {
	char dir[64];
	struct identity *a, *b;
};

/* A sealed practice: content bytes, SignedRecord bytes and id. */
struct sealed {
	uint8_t *content;
	size_t clen;
	uint8_t *raw;
	size_t len;
	uint8_t id[RECORD_ID_LEN];
};

static const char TITLE[] = "Family reading circles";

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (f == NULL || sodium_init() < 0)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/lcf-test-record-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	if ((f->a = identity_new()) == NULL || (f->b = identity_new()) == NULL)
		return -1;
	identity_generate(f->a);
	identity_generate(f->b);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	if (f == NULL)
		return 0;
	identity_free(f->a);
	identity_free(f->b);
	unit_rm_tree(f->dir);
	free(f);
	return 0;
}

static void
sealed_free(struct sealed *s)
{
	free(s->content);
	free(s->raw);
	memset(s, 0, sizeof(*s));
}

/* Fills c and p with a valid practice by author (may be NULL for a draft). */
static void
practice_content(Lcf__Content *c, Lcf__Practice *p, const uint8_t *author,
    const char *title, const char *description)
{
	static char *areas[] = { "1.1", "2.2" };

	lcf__content__init(c);
	lcf__practice__init(p);
	if (author != NULL) {
		c->has_author = 1;
		c->author.data = (uint8_t *)author;
		c->author.len = IDENTITY_PK_LEN;
		c->has_seq = 1;
		c->seq = 7;
		c->has_timestamp = 1;
		c->timestamp = 1700000000000LL;
	}
	c->has_kind = 1;
	c->kind = LCF__KIND__KIND_PRACTICE;
	c->key = "family-reading-circles";
	p->title = (char *)title;
	p->summary = "Parents and children read together in libraries.";
	p->language = "en";
	p->kflc_areas = areas;
	p->n_kflc_areas = 2;
	p->description = (char *)description;
	c->body_case = LCF__CONTENT__BODY_PRACTICE;
	c->practice = p;
}

/* Packs and seals c with id. */
static void
seal_content(const Lcf__Content *c, const struct identity *id, struct sealed *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(record_pack_content(c, &s->content, &s->clen), 0);
	assert_non_null(s->content);
	assert_int_equal(s->clen, lcf__content__get_packed_size(c));
	assert_int_equal(record_seal(s->content, s->clen, id, &s->raw, &s->len,
	    s->id), 0);
	assert_non_null(s->raw);
}

static void
seal_practice(const struct identity *id, const uint8_t *author, struct sealed *s)
{
	Lcf__Content c;
	Lcf__Practice p;

	practice_content(&c, &p, author, TITLE, NULL);
	seal_content(&c, id, s);
}

/* Builds SignedRecord bytes from arbitrary parts (for malformed cases). */
static uint8_t *
signed_record(const uint8_t *content, size_t clen, int has_content,
    const uint8_t *sig, size_t siglen, int has_sig, size_t *len)
{
	Lcf__SignedRecord sr = LCF__SIGNED_RECORD__INIT;
	uint8_t *out;

	sr.has_content = has_content;
	sr.content.data = (uint8_t *)content;
	sr.content.len = clen;
	sr.has_signature = has_sig;
	sr.signature.data = (uint8_t *)sig;
	sr.signature.len = siglen;
	*len = lcf__signed_record__get_packed_size(&sr);
	out = malloc(*len ? *len : 1);
	assert_non_null(out);
	assert_int_equal(lcf__signed_record__pack(&sr, out), *len);
	return out;
}

/* record_open on an exact-size heap copy, so reads past the end are caught. */
static int
open_copy(const uint8_t *buf, size_t len, int verify)
{
	struct record rec;
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, buf, len);
	rc = record_open(copy, len, verify, &rec);
	if (rc == 0)
		record_release(&rec);
	else {
		assert_null(rec.c);
		assert_null(rec.sr);
	}
	free(copy);
	return rc;
}

static void
expect_rc(int got, int want, const char *what)
{
	if (got != want) {
		print_error("%s: got %d (%s), want %d (%s)\n", what, got,
		    lcf_strerror(got), want, lcf_strerror(want));
		fail();
	}
}

/* ---- records ---- */

/* record_seal_draft writes exactly the bytes record_pack_content and
 * record_seal give (Ed25519 signatures are deterministic), for a small content
 * and for one whose length needs a three-byte varint; it refuses a buffer too
 * small for the result. */
static void
test_seal_draft(void **state)
{
	struct fix *f = *state;
	static char big[40000];
	const char *descs[] = { NULL, big };
	Lcf__Content c;
	Lcf__Practice p;
	struct sealed s;
	uint8_t *out, id[RECORD_ID_LEN];
	size_t i, len, cap;

	memset(big, 'x', sizeof(big) - 1);
	for (i = 0; i < sizeof(descs) / sizeof(descs[0]); i++) {
		practice_content(&c, &p, f->a->pk, TITLE, descs[i]);
		seal_content(&c, f->a, &s);
		cap = RECORD_SEALED_MAX(s.clen);
		out = malloc(cap);
		assert_non_null(out);
		assert_int_equal(record_seal_draft(&c, f->a, out, cap, &len, id), 0);
		assert_int_equal(len, s.len);
		assert_memory_equal(out, s.raw, len);
		assert_memory_equal(id, s.id, RECORD_ID_LEN);
		expect_rc(record_seal_draft(&c, f->a, out, s.clen, &len, id),
		    LCF_ETOOBIG, "seal into a buffer too small");
		expect_rc(open_copy(s.raw, s.len, 1), 0, "open a sealed draft");
		free(out);
		sealed_free(&s);
	}
}

/* record_peek_id gives the id record_open gives, without the content decode,
 * and refuses what record_open refuses for size or framing. */
static void
test_peek_id(void **state)
{
	struct fix *f = *state;
	struct sealed s;
	uint8_t id[RECORD_ID_LEN];
	uint8_t junk[] = { 0xff, 0xff, 0xff };

	seal_practice(f->a, f->a->pk, &s);
	expect_rc(record_peek_id(s.raw, s.len, id), 0, "peek a sealed record");
	assert_memory_equal(id, s.id, RECORD_ID_LEN);
	expect_rc(record_peek_id(junk, sizeof(junk), id), LCF_EPROTO, "peek junk");
	expect_rc(record_peek_id(s.raw, RECORD_MAX_SIGNED + 1, id), LCF_ETOOBIG,
	    "peek an oversized buffer");
	sealed_free(&s);
}

static void
test_round_trip(void **state)
{
	struct fix *f = *state;
	struct sealed s;
	struct record rec;
	uint8_t want[RECORD_ID_LEN], again[RECORD_ID_LEN];

	seal_practice(f->a, f->a->pk, &s);
	/* The id is BLAKE2b-256 of the content bytes, computed independently. */
	assert_int_equal(crypto_generichash(want, sizeof(want), s.content, s.clen,
	    NULL, 0), 0);
	assert_memory_equal(s.id, want, RECORD_ID_LEN);
	record_id(s.content, s.clen, again);
	assert_memory_equal(again, want, RECORD_ID_LEN);

	expect_rc(record_open(s.raw, s.len, 1, &rec), 0, "open a sealed record");
	assert_memory_equal(rec.id, want, RECORD_ID_LEN);
	assert_non_null(rec.sr);
	assert_non_null(rec.c);
	/* The content travels exactly as signed. */
	assert_int_equal(rec.sr->content.len, s.clen);
	assert_memory_equal(rec.sr->content.data, s.content, s.clen);
	assert_int_equal(rec.sr->signature.len, crypto_sign_BYTES);
	assert_int_equal(crypto_sign_verify_detached(rec.sr->signature.data,
	    s.content, s.clen, f->a->pk), 0);
	assert_int_not_equal(crypto_sign_verify_detached(rec.sr->signature.data,
	    s.content, s.clen, f->b->pk), 0);
	/* Decoded fields. */
	assert_int_equal(rec.c->author.len, IDENTITY_PK_LEN);
	assert_memory_equal(rec.c->author.data, f->a->pk, IDENTITY_PK_LEN);
	assert_int_equal(rec.c->seq, 7);
	assert_int_equal(rec.c->kind, LCF__KIND__KIND_PRACTICE);
	assert_string_equal(rec.c->key, "family-reading-circles");
	assert_int_equal(rec.c->timestamp, 1700000000000LL);
	assert_int_equal(rec.c->body_case, LCF__CONTENT__BODY_PRACTICE);
	assert_string_equal(rec.c->practice->title, TITLE);
	assert_int_equal(rec.c->practice->n_kflc_areas, 2);
	assert_string_equal(rec.c->practice->kflc_areas[1], "2.2");
	record_release(&rec);
	assert_null(rec.c);
	assert_null(rec.sr);
	record_release(&rec);
	record_release(NULL);

	/* Without verification it opens too, with the same id. */
	expect_rc(record_open(s.raw, s.len, 0, &rec), 0, "open unverified");
	assert_memory_equal(rec.id, want, RECORD_ID_LEN);
	record_release(&rec);

	/* Sealing the same bytes again gives the same id and bytes (Ed25519
	 * signatures are deterministic). */
	{
		uint8_t *raw2 = NULL, id2[RECORD_ID_LEN];
		size_t len2 = 0;

		assert_int_equal(record_seal(s.content, s.clen, f->a, &raw2, &len2,
		    id2), 0);
		assert_memory_equal(id2, want, RECORD_ID_LEN);
		assert_int_equal(len2, s.len);
		assert_memory_equal(raw2, s.raw, s.len);
		free(raw2);
	}
	sealed_free(&s);
}

static void
test_flipped_content(void **state)
{
	struct fix *f = *state;
	struct sealed s;
	uint8_t *p, *copy;
	size_t off, bit, content_off, i;
	struct record rec;
	int rc;

	seal_practice(f->a, f->a->pk, &s);
	p = memmem(s.raw, s.len, TITLE, strlen(TITLE));
	assert_non_null(p);
	copy = malloc(s.len);
	assert_non_null(copy);

	/* A letter of the title changes case: still a well-formed record. */
	memcpy(copy, s.raw, s.len);
	copy[p - s.raw] ^= 0x20;
	expect_rc(open_copy(copy, s.len, 1), LCF_EBADSIG, "title bit flipped");
	expect_rc(record_open(copy, s.len, 0, &rec), 0,
	    "title bit flipped, unverified");
	assert_memory_not_equal(rec.id, s.id, RECORD_ID_LEN);
	assert_int_equal(rec.c->practice->title[0], 'f');
	record_release(&rec);

	/* Every single-bit change of the content bytes is refused, either as
	 * malformed or as a bad signature, never accepted. */
	p = memmem(s.raw, s.len, s.content, s.clen);
	assert_non_null(p);
	content_off = (size_t)(p - s.raw);
	for (i = 0; i < s.clen; i++) {
		off = content_off + i;
		for (bit = 0; bit < 8; bit++) {
			memcpy(copy, s.raw, s.len);
			copy[off] ^= (uint8_t)(1u << bit);
			rc = open_copy(copy, s.len, 1);
			if (rc != LCF_EBADSIG && rc != LCF_EPROTO) {
				print_error("content byte %zu bit %zu: %d (%s)\n",
				    i, bit, rc, lcf_strerror(rc));
				fail();
			}
		}
	}
	free(copy);
	sealed_free(&s);
}

static void
test_flipped_signature(void **state)
{
	struct fix *f = *state;
	struct sealed s;
	uint8_t *copy;
	size_t i, bit, sigoff;

	seal_practice(f->a, f->a->pk, &s);
	/* The signature is the last field: its 64 bytes end the record. */
	sigoff = s.len - crypto_sign_BYTES;
	copy = malloc(s.len);
	assert_non_null(copy);
	for (i = 0; i < crypto_sign_BYTES; i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(copy, s.raw, s.len);
			copy[sigoff + i] ^= (uint8_t)(1u << bit);
			expect_rc(open_copy(copy, s.len, 1), LCF_EBADSIG,
			    "signature bit flipped");
		}
	/* Unverified opening does not look at the signature. */
	memcpy(copy, s.raw, s.len);
	copy[sigoff] ^= 1;
	expect_rc(open_copy(copy, s.len, 0), 0, "signature flipped, unverified");
	free(copy);
	sealed_free(&s);
}

static void
test_wrong_author(void **state)
{
	struct fix *f = *state;
	struct sealed s;

	/* Content claims B wrote it, but A signed it. */
	seal_practice(f->a, f->b->pk, &s);
	expect_rc(open_copy(s.raw, s.len, 1), LCF_EBADSIG, "signed by A, author B");
	expect_rc(open_copy(s.raw, s.len, 0), 0, "signed by A, author B, unverified");
	sealed_free(&s);
	seal_practice(f->b, f->b->pk, &s);
	expect_rc(open_copy(s.raw, s.len, 1), 0, "signed by B, author B");
	sealed_free(&s);
}

static void
test_truncated(void **state)
{
	struct fix *f = *state;
	struct sealed s;
	size_t n;

	seal_practice(f->a, f->a->pk, &s);
	for (n = 0; n < s.len; n++) {
		int rc = open_copy(s.raw, n, 1);

		if (rc != LCF_EPROTO) {
			print_error("first %zu of %zu bytes: %d (%s), want "
			    "LCF_EPROTO\n", n, s.len, rc, lcf_strerror(rc));
			fail();
		}
		expect_rc(open_copy(s.raw, n, 0), LCF_EPROTO, "truncated, unverified");
	}
	expect_rc(open_copy(s.raw, s.len, 1), 0, "whole record");
	sealed_free(&s);
}

static void
test_garbage(void **state)
{
	struct fix *f = *state;
	uint8_t buf[4096], sig[crypto_sign_BYTES], *raw, *content;
	static const uint8_t patterns[] = { 0x00, 0xff, 0x0a, 0x12, 0x80, 0x7f };
	Lcf__Content c;
	Lcf__Practice p;
	size_t len, clen, i, n;
	uint32_t seed = 12345;

	for (i = 0; i < sizeof(patterns); i++) {
		memset(buf, patterns[i], sizeof(buf));
		for (n = 1; n <= 200; n += 7)
			expect_rc(open_copy(buf, n, 1), LCF_EPROTO, "pattern");
	}
	/* Pseudo-random bytes of pseudo-random lengths (fixed seed). */
	for (i = 0; i < 2000; i++) {
		size_t j;

		n = 1 + (seed >> 8) % 600;
		for (j = 0; j < n; j++) {
			seed = seed * 1103515245u + 12345u;
			buf[j] = (uint8_t)(seed >> 16);
		}
		/* Start with the content field's tag half of the time. */
		if (i % 2)
			buf[0] = 0x0a;
		expect_rc(open_copy(buf, n, 1), LCF_EPROTO, "random bytes");
	}

	memset(sig, 0x5a, sizeof(sig));
	/* Well-formed SignedRecord whose content is not a Content. */
	raw = signed_record((const uint8_t *)"\xff\xff\xff", 3, 1, sig, sizeof(sig),
	    1, &len);
	expect_rc(open_copy(raw, len, 1), LCF_EPROTO, "content not a Content");
	free(raw);
	/* Empty content. */
	raw = signed_record(NULL, 0, 1, sig, sizeof(sig), 1, &len);
	expect_rc(open_copy(raw, len, 1), LCF_EPROTO, "empty content");
	free(raw);
	/* No content field, no signature field. */
	raw = signed_record(NULL, 0, 0, sig, sizeof(sig), 1, &len);
	expect_rc(open_copy(raw, len, 1), LCF_EPROTO, "no content");
	free(raw);
	practice_content(&c, &p, f->a->pk, TITLE, NULL);
	assert_int_equal(record_pack_content(&c, &content, &clen), 0);
	raw = signed_record(content, clen, 1, NULL, 0, 0, &len);
	expect_rc(open_copy(raw, len, 0), LCF_EPROTO, "no signature");
	free(raw);
	free(content);
	/* Author of the wrong size, and no author. */
	c.author.len = 31;
	assert_int_equal(record_pack_content(&c, &content, &clen), 0);
	raw = signed_record(content, clen, 1, sig, sizeof(sig), 1, &len);
	expect_rc(open_copy(raw, len, 0), LCF_EPROTO, "31-byte author");
	free(raw);
	free(content);
	c.has_author = 0;
	assert_int_equal(record_pack_content(&c, &content, &clen), 0);
	raw = signed_record(content, clen, 1, sig, sizeof(sig), 1, &len);
	expect_rc(open_copy(raw, len, 0), LCF_EPROTO, "no author");
	free(raw);
	free(content);
}

static void
test_signature_length(void **state)
{
	struct fix *f = *state;
	struct sealed s;
	uint8_t sig[crypto_sign_BYTES + 1], *raw;
	size_t len;

	seal_practice(f->a, f->a->pk, &s);
	crypto_sign_detached(sig, NULL, s.content, s.clen, f->a->sk);
	sig[crypto_sign_BYTES] = 0;
	raw = signed_record(s.content, s.clen, 1, sig, crypto_sign_BYTES, 1, &len);
	expect_rc(open_copy(raw, len, 1), 0, "hand-built, 64-byte signature");
	free(raw);
	raw = signed_record(s.content, s.clen, 1, sig, crypto_sign_BYTES - 1, 1,
	    &len);
	expect_rc(open_copy(raw, len, 1), LCF_EPROTO, "63-byte signature");
	expect_rc(open_copy(raw, len, 0), LCF_EPROTO, "63-byte signature, unverified");
	free(raw);
	raw = signed_record(s.content, s.clen, 1, sig, crypto_sign_BYTES + 1, 1,
	    &len);
	expect_rc(open_copy(raw, len, 1), LCF_EPROTO, "65-byte signature");
	free(raw);
	raw = signed_record(s.content, s.clen, 1, sig, 0, 1, &len);
	expect_rc(open_copy(raw, len, 1), LCF_EPROTO, "empty signature");
	free(raw);
	sealed_free(&s);
}

/* A description long enough that the packed content is exactly size bytes. */
static char *
sized_description(const uint8_t *author, size_t size)
{
	Lcf__Content c;
	Lcf__Practice p;
	size_t n = size / 2, got;
	char *d = NULL;
	int tries;

	for (tries = 0; tries < 16; tries++) {
		free(d);
		d = malloc(n + 1);
		assert_non_null(d);
		memset(d, 'x', n);
		d[n] = '\0';
		practice_content(&c, &p, author, TITLE, d);
		got = lcf__content__get_packed_size(&c);
		if (got == size)
			return d;
		n = n + size - got;
	}
	fail_msg("cannot size a description to %zu bytes", size);
	return NULL;
}

static void
test_too_big(void **state)
{
	struct fix *f = *state;
	Lcf__Content c;
	Lcf__Practice p;
	uint8_t *content = (uint8_t *)1, *raw = NULL, id[RECORD_ID_LEN], *big;
	uint8_t sig[crypto_sign_BYTES];
	size_t clen = 0, len = 0;
	char *d;
	struct sealed s;

	/* Exactly at the limit: accepted everywhere. */
	d = sized_description(f->a->pk, RECORD_MAX_CONTENT);
	practice_content(&c, &p, f->a->pk, TITLE, d);
	seal_content(&c, f->a, &s);
	assert_int_equal(s.clen, RECORD_MAX_CONTENT);
	assert_true(s.len <= RECORD_MAX_SIGNED);
	expect_rc(open_copy(s.raw, s.len, 1), 0, "content of exactly 64 KiB");
	sealed_free(&s);
	free(d);

	/* One byte over. */
	d = sized_description(f->a->pk, RECORD_MAX_CONTENT + 1);
	practice_content(&c, &p, f->a->pk, TITLE, d);
	expect_rc(record_pack_content(&c, &content, &clen), LCF_ETOOBIG,
	    "pack 64 KiB + 1");
	assert_null(content);
	/* Packed by hand, sealing and opening refuse it as well. */
	clen = lcf__content__get_packed_size(&c);
	big = malloc(clen);
	assert_non_null(big);
	assert_int_equal(lcf__content__pack(&c, big), RECORD_MAX_CONTENT + 1);
	expect_rc(record_seal(big, clen, f->a, &raw, &len, id), LCF_ETOOBIG,
	    "seal 64 KiB + 1");
	crypto_sign_detached(sig, NULL, big, clen, f->a->sk);
	raw = signed_record(big, clen, 1, sig, sizeof(sig), 1, &len);
	assert_true(len <= RECORD_MAX_SIGNED);
	expect_rc(open_copy(raw, len, 1), LCF_ETOOBIG, "open 64 KiB + 1 content");
	expect_rc(open_copy(raw, len, 0), LCF_ETOOBIG,
	    "open 64 KiB + 1 content, unverified");
	free(raw);
	free(big);
	free(d);

	/* Far over: the whole buffer is refused before decoding. */
	d = sized_description(f->a->pk, 3 * RECORD_MAX_CONTENT);
	practice_content(&c, &p, f->a->pk, TITLE, d);
	content = (uint8_t *)1;
	expect_rc(record_pack_content(&c, &content, &clen), LCF_ETOOBIG,
	    "pack 192 KiB");
	assert_null(content);
	clen = lcf__content__get_packed_size(&c);
	big = malloc(clen);
	assert_non_null(big);
	lcf__content__pack(&c, big);
	raw = signed_record(big, clen, 1, sig, sizeof(sig), 1, &len);
	assert_true(len > RECORD_MAX_SIGNED);
	expect_rc(open_copy(raw, len, 1), LCF_ETOOBIG, "open 192 KiB");
	free(raw);
	free(big);
	free(d);

	expect_rc(record_seal((const uint8_t *)"", 0, f->a, &raw, &len, id),
	    LCF_ETOOBIG, "seal empty content");
}

/* Validation of what comes out of record_open (validate.c). */
static void
test_validate_sealed(void **state)
{
	struct fix *f = *state;
	Lcf__Content c;
	Lcf__Practice p;
	struct sealed s;
	struct record rec;
	struct verr err;

	practice_content(&c, &p, f->a->pk, TITLE, NULL);
	seal_content(&c, f->a, &s);
	expect_rc(record_open(s.raw, s.len, 1, &rec), 0, "open valid practice");
	memset(&err, 0, sizeof(err));
	if (validate_content(rec.c, NULL, 0, &err) != 0) {
		print_error("valid practice refused: %s: %s\n", err.field, err.msg);
		fail();
	}
	record_release(&rec);
	sealed_free(&s);

	/* A draft (no author, seq or timestamp yet) without a title. */
	practice_content(&c, &p, NULL, NULL, NULL);
	memset(&err, 0, sizeof(err));
	expect_rc(validate_content(&c, NULL, VALIDATE_DRAFT, &err), LCF_EVALIDATE,
	    "draft without title");
	assert_string_equal(err.field, "practice.title");
	assert_true(err.msg[0] != '\0');
	/* The same, signed and reopened. */
	practice_content(&c, &p, f->a->pk, NULL, NULL);
	seal_content(&c, f->a, &s);
	expect_rc(record_open(s.raw, s.len, 1, &rec), 0, "open untitled practice");
	assert_null(rec.c->practice->title);
	memset(&err, 0, sizeof(err));
	expect_rc(validate_content(rec.c, NULL, 0, &err), LCF_EVALIDATE,
	    "sealed practice without title");
	assert_string_equal(err.field, "practice.title");
	record_release(&rec);
	sealed_free(&s);
	/* The draft is not a record: without VALIDATE_DRAFT it lacks an author. */
	practice_content(&c, &p, NULL, TITLE, NULL);
	memset(&err, 0, sizeof(err));
	expect_rc(validate_content(&c, NULL, 0, &err), LCF_EVALIDATE,
	    "draft checked as a record");
	assert_string_equal(err.field, "author");
	expect_rc(validate_content(&c, NULL, VALIDATE_DRAFT, &err), 0,
	    "titled draft");
}

/* ---- identity ---- */

static char *
path_in(const struct fix *f, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", f->dir, name) < 0)
		fail();
	return p;
}

static void
write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
test_identity_save_load(void **state)
{
	struct fix *f = *state;
	char *path = path_in(f, "identity.key");
	struct identity *got = identity_new();
	char *before = NULL, *after = NULL;
	size_t blen = 0, alen = 0;
	struct stat st;
	mode_t old;
	uint8_t sig[IDENTITY_SIG_LEN];

	assert_non_null(got);
	/* With umask 0 the mode is exactly what identity_save asks for. */
	old = umask(0);
	expect_rc(identity_save(f->a, path), 0, "save");
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	if ((st.st_mode & 07777) != 0600) {
		print_error("key file mode %04o, want 0600\n",
		    (unsigned)(st.st_mode & 07777));
		fail();
	}
	assert_int_equal(read_file(path, 4096, &before, &blen), 0);
	/* One line. */
	assert_true(blen > 0);
	assert_ptr_equal(strchr(before, '\n'), before + blen - 1);

	/* Never overwritten, even with another key. */
	expect_rc(identity_save(f->b, path), LCF_EEXIST, "save over existing");
	assert_int_equal(read_file(path, 4096, &after, &alen), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);

	expect_rc(identity_load(got, path), 0, "load");
	assert_memory_equal(got->pk, f->a->pk, IDENTITY_PK_LEN);
	assert_memory_equal(got->sk, f->a->sk, IDENTITY_SK_LEN);
	/* The loaded key signs as the original. */
	identity_sign(got, (const uint8_t *)"hello", 5, sig);
	expect_rc(identity_verify(f->a->pk, (const uint8_t *)"hello", 5, sig), 0,
	    "verify with the saved key's pk");
	expect_rc(identity_verify(f->b->pk, (const uint8_t *)"hello", 5, sig),
	    LCF_EBADSIG, "verify with another pk");
	expect_rc(identity_verify(f->a->pk, (const uint8_t *)"hellO", 5, sig),
	    LCF_EBADSIG, "verify another message");

	/* Group or other bits are refused; the owner's own are fine. */
	assert_int_equal(chmod(path, 0644), 0);
	expect_rc(identity_load(got, path), LCF_EKEYPERM, "mode 0644");
	assert_int_equal(chmod(path, 0640), 0);
	expect_rc(identity_load(got, path), LCF_EKEYPERM, "mode 0640");
	assert_int_equal(chmod(path, 0602), 0);
	expect_rc(identity_load(got, path), LCF_EKEYPERM, "mode 0602");
	assert_int_equal(chmod(path, 0610), 0);
	expect_rc(identity_load(got, path), LCF_EKEYPERM, "mode 0610");
	assert_int_equal(chmod(path, 0400), 0);
	expect_rc(identity_load(got, path), 0, "mode 0400");
	assert_memory_equal(got->pk, f->a->pk, IDENTITY_PK_LEN);

	free(before);
	free(after);
	free(path);
	identity_free(got);
	identity_free(NULL);
}

static void
test_identity_bad_files(void **state)
{
	struct fix *f = *state;
	char *path = path_in(f, "bad.key"), *missing = path_in(f, "missing.key");
	char *nodir = path_in(f, "no/such/dir/identity.key");
	struct identity *got = identity_new();
	char good[200], hex[LCF_ID_HEX];
	uint8_t seed[32];
	static const char *const garbage[] = {
		"",
		"hello\n",
		"lcf-ed25519-secret-v1 \n",
		"lcf-ed25519-secret-v1 zz000000000000000000000000000000000000000000"
		    "00000000000000000000\n",
		"lcf-ed25519-secret-v1 0123\n",
		"lcf-ed25519-secret-v2 000000000000000000000000000000000000000000"
		    "0000000000000000000000\n",
		"LCF-ED25519-SECRET-V1 000000000000000000000000000000000000000000"
		    "0000000000000000000000\n",
	};
	size_t i;

	assert_non_null(got);
	for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		unlink(path);
		write_text(path, garbage[i], 0600);
		if (identity_load(got, path) != LCF_EINVAL) {
			print_error("garbage key file %zu ('%s') not refused with "
			    "LCF_EINVAL\n", i, garbage[i]);
			fail();
		}
	}
	/* Random bytes. */
	unlink(path);
	{
		uint8_t junk[300];
		int fd;

		randombytes_buf(junk, sizeof(junk));
		junk[0] = 'x';
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
		close(fd);
		expect_rc(identity_load(got, path), LCF_EINVAL, "random bytes");
	}
	/* A file written by hand in the documented format loads. */
	crypto_sign_ed25519_sk_to_seed(seed, f->b->sk);
	snprintf(good, sizeof(good), "lcf-ed25519-secret-v1 %s\n",
	    hex_encode(seed, sizeof(seed), hex));
	unlink(path);
	write_text(path, good, 0600);
	expect_rc(identity_load(got, path), 0, "hand-written key file");
	assert_memory_equal(got->pk, f->b->pk, IDENTITY_PK_LEN);
	/* ... but a group-readable one is refused before it is parsed. */
	unlink(path);
	write_text(path, "garbage", 0644);
	expect_rc(identity_load(got, path), LCF_EKEYPERM, "0644 garbage");

	errno = 0;
	expect_rc(identity_load(got, missing), LCF_EIO, "missing file");
	assert_int_equal(errno, ENOENT);
	expect_rc(identity_load(got, f->dir), LCF_EINVAL, "a directory");
	expect_rc(identity_save(f->a, nodir), LCF_EIO, "save into a missing dir");
	free(path);
	free(missing);
	free(nodir);
	identity_free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peek_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seal_draft, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flipped_content, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flipped_signature, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wrong_author, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signature_length, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validate_sealed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_identity_save_load, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_identity_bad_files, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
