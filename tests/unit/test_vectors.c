// SPDX-License-Identifier: Apache-2.0
// Unit tests: the node's own code (noise.c, record.c, validate.c, iblt.c) against the conformance vectors of docs/vectors/.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "lcf.pb-c.h"
#include "base/error.h"
#include "model/iblt.h"
#include "model/identity.h"
#include "model/record.h"
#include "model/validate.h"
#include "store/store.h"
#include "wire/noise.h"
#include "unit_util.h"

#ifndef LCF_SRCDIR
#define LCF_SRCDIR "."
#endif
#define VDIR LCF_SRCDIR "/docs/vectors/"

static json_t *
load(const char *name)
{
	json_error_t e;
	json_t *j = json_load_file(name, 0, &e);

	if (j == NULL)
		fail_msg("%s: %s (line %d)", name, e.text, e.line);
	return j;
}

/* A hex member of o decoded into a new buffer; *len its length. */
static uint8_t *
hexm(const json_t *o, const char *key, size_t *len)
{
	const char *s = json_string_value(json_object_get(o, key));
	size_t n, got;
	uint8_t *b;

	if (s == NULL)
		fail_msg("no hex member %s", key);
	n = strlen(s) / 2;
	b = malloc(n ? n : 1);
	assert_non_null(b);
	assert_int_equal(sodium_hex2bin(b, n ? n : 1, s, strlen(s), NULL, &got,
	    NULL), 0);
	assert_int_equal(got, n);
	*len = n;
	return b;
}

static void
hex32(const json_t *o, const char *key, uint8_t out[32])
{
	size_t n;
	uint8_t *b = hexm(o, key, &n);

	assert_int_equal(n, 32);
	memcpy(out, b, 32);
	free(b);
}

static void
expect_hex(const json_t *o, const char *key, const uint8_t *got, size_t len)
{
	size_t n;
	uint8_t *want = hexm(o, key, &n);

	assert_int_equal(n, len);
	assert_memory_equal(got, want, len);
	free(want);
}

/* ---- Noise ---- */

static void
party(const json_t *k, struct noise_handshake *hs, int initiator,
    const uint8_t *prologue, size_t plen)
{
	uint8_t seed[32], pk[32], sk[64], x[32], e[32];

	hex32(k, "ed25519_seed", seed);
	assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
	expect_hex(k, "ed25519_public", pk, 32);
	assert_int_equal(noise_static_from_ed25519(sk, x), 0);
	expect_hex(k, "static_private", x, 32);
	assert_int_equal(noise_pub_from_ed25519(pk, x), 0);
	expect_hex(k, "static_public", x, 32);
	assert_int_equal(noise_static_from_ed25519(sk, x), 0);
	assert_int_equal(noise_hs_init(hs, NOISE_XX, initiator, prologue, plen,
	    x, NULL), 0);
	hex32(k, "ephemeral_private", e);
	assert_int_equal(noise_hs_set_ephemeral(hs, e), 0);
}

/* The handshake of noise.json, message by message, both sides. */
static void
test_noise_transcript(void **state)
{
	json_t *j = load(VDIR "noise.json"), *m;
	struct noise_handshake ih, rh, *w, *r;
	struct noise_cipher is, ir, rs, rr, *enc, *dec;
	uint8_t *prologue, *payload, *want, out[NOISE_MAX_MSG], got[NOISE_MAX_MSG];
	uint8_t hash[64];
	size_t plen, len, wlen, olen, glen, i;

	(void)state;
	assert_string_equal(json_string_value(json_object_get(j, "protocol")),
	    "Noise_XX_25519_ChaChaPoly_BLAKE2b");
	prologue = hexm(j, "prologue", &plen);
	assert_memory_equal(prologue, "lcf-peer/1", plen);
	party(json_object_get(j, "initiator"), &ih, 1, prologue, plen);
	party(json_object_get(j, "responder"), &rh, 0, prologue, plen);
	json_array_foreach(json_object_get(j, "messages"), i, m) {
		w = i % 2 == 0 ? &ih : &rh;
		r = i % 2 == 0 ? &rh : &ih;
		payload = hexm(m, "payload", &len);
		want = hexm(m, "noise", &wlen);
		assert_int_equal(noise_hs_write_message(w, payload, len, out,
		    sizeof(out), &olen), 0);
		assert_int_equal(olen, wlen);
		assert_memory_equal(out, want, wlen);
		assert_int_equal(noise_hs_read_message(r, want, wlen, got,
		    sizeof(got), &glen), 0);
		assert_int_equal(glen, len);
		if (len)
			assert_memory_equal(got, payload, len);
		free(want);
		/* The frame: a 2-byte big-endian length, then the message. */
		want = hexm(m, "frame", &wlen);
		assert_int_equal(wlen, olen + 2);
		assert_int_equal((want[0] << 8) | want[1], olen);
		assert_memory_equal(want + 2, out, olen);
		free(want);
		free(payload);
	}
	assert_int_equal(i, 3);
	assert_true(noise_hs_is_done(&ih) && noise_hs_is_done(&rh));
	noise_hs_hash(&ih, hash);
	expect_hex(j, "handshake_hash", hash, 64);
	assert_int_equal(noise_hs_split(&ih, &is, &ir), 0);
	assert_int_equal(noise_hs_split(&rh, &rs, &rr), 0);
	expect_hex(j, "initiator_to_responder_key", is.k, 32);
	expect_hex(j, "responder_to_initiator_key", rs.k, 32);
	json_array_foreach(json_object_get(j, "transport"), i, m) {
		enc = i == 0 ? &is : &rs;
		dec = i == 0 ? &rr : &ir;
		payload = hexm(m, "plaintext", &len);
		assert_int_equal(payload[0], 0);	/* no fragment follows */
		want = hexm(m, "frame", &wlen);
		assert_int_equal(noise_encrypt(enc, payload, len, out), 0);
		assert_int_equal(wlen, len + NOISE_TAG + 2);
		assert_memory_equal(want + 2, out, len + NOISE_TAG);
		assert_int_equal(noise_decrypt(dec, want + 2, wlen - 2, got), 0);
		assert_memory_equal(got, payload, len);
		free(want);
		free(payload);
	}
	assert_int_equal(i, 2);
	free(prologue);
	noise_hs_wipe(&ih);
	noise_hs_wipe(&rh);
	json_decref(j);
}

/* ---- records ---- */

/* What a receiver does with a record, in the order of section 3.4: the
 * verdict ("accept", "refuse": the record only, "close": the link) and why. */
static const char *
judge(const uint8_t *raw, size_t len, char *why, size_t whylen)
{
	struct record rec;
	struct verr verr;
	int rc;

	rc = record_open(raw, len, 1, &rec);
	if (rc == LCF_ETOOBIG) {
		snprintf(why, whylen, "larger than a record may be");
		return "close";
	}
	if (rc == LCF_EBADSIG) {
		snprintf(why, whylen, "bad signature");
		return "close";
	}
	if (rc != 0) {
		snprintf(why, whylen, "malformed record");
		return "close";
	}
	rc = 0;
	if (record_canonical(raw, len) != 0) {
		snprintf(why, whylen, "not in canonical form");
		rc = 1;
	} else if (validate_content(rec.c, NULL, 0, &verr) != 0) {
		snprintf(why, whylen, "invalid: %s%s%s", verr.field,
		    verr.field[0] ? ": " : "", verr.msg);
		rc = 1;
	} else if (rec.c->timestamp > (int64_t)time(NULL) * 1000 + 600000) {
		snprintf(why, whylen, "dated ... ahead of this node's clock");
		rc = 1;
	}
	record_release(&rec);
	return rc ? "refuse" : "accept";
}

static void
test_record_verdicts(void **state)
{
	json_t *j = load(VDIR "records.json"), *v;
	const char *want, *reason, *got;
	char why[1024];
	uint8_t *raw, *b, id[32];
	size_t len, n, i, accepted = 0, refused = 0, closed = 0;

	(void)state;
	json_array_foreach(json_object_get(j, "records"), i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));

		raw = hexm(v, "record", &len);
		assert_int_equal(len, json_integer_value(json_object_get(v,
		    "length")));
		want = json_string_value(json_object_get(v, "verdict"));
		reason = json_string_value(json_object_get(v, "reason"));
		got = judge(raw, len, why, sizeof(why));
		if (strcmp(got, want) != 0 ||
		    (reason != NULL && strstr(why, reason) == NULL))
			fail_msg("%s: %s (%s), expected %s (%s)", name, got, why,
			    want, reason ? reason : "");
		if (json_is_string(json_object_get(v, "content"))) {
			/* The id is BLAKE2b-256 of the content bytes. */
			b = hexm(v, "content", &n);
			record_id(b, n, id);
			expect_hex(v, "id", id, 32);
			free(b);
		}
		if (strcmp(want, "accept") == 0) {
			assert_int_equal(record_canonical(raw, len), 0);
			accepted++;
		} else if (strcmp(want, "refuse") == 0) {
			refused++;
		} else {
			closed++;
		}
		free(raw);
	}
	/* Each kind 1 to 9 is there, and refusals of both sorts. */
	assert_true(accepted >= 9 && refused >= 4 && closed >= 4);
	json_decref(j);
}

/* The cofactorless equation alone, S reduced mod L first and no check of
 * A or R: what a lenient verifier computes. 1 when [S]B - [k]A encodes to R. */
static int
lenient_verify(const uint8_t *a, const uint8_t *m, size_t mlen,
    const uint8_t sig[64])
{
	static const uint8_t neutral[32] = { 1 };
	uint8_t wide[64], s[32], k[32], sb[32], ka[32], r[32];
	crypto_hash_sha512_state st;

	memset(wide, 0, sizeof(wide));
	memcpy(wide, sig + 32, 32);
	crypto_core_ed25519_scalar_reduce(s, wide);
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, sig, 32);
	crypto_hash_sha512_update(&st, a, 32);
	crypto_hash_sha512_update(&st, m, mlen);
	crypto_hash_sha512_final(&st, wide);
	crypto_core_ed25519_scalar_reduce(k, wide);
	if (crypto_scalarmult_ed25519_base_noclamp(sb, s) != 0)
		return 0;
	/* libsodium refuses to multiply the neutral point: [k]A is itself. */
	if (memcmp(a, neutral, 32) == 0)
		return memcmp(sb, sig, 32) == 0;
	if (crypto_scalarmult_ed25519_noclamp(ka, k, a) != 0)
		return 0;
	if (crypto_core_ed25519_sub(r, sb, ka) != 0)
		return 0;
	return memcmp(r, sig, 32) == 0;
}

/* The bad signatures: refused by identity_verify, though a verifier that
 * checks only the cofactorless equation with S reduced would take them. */
static void
test_signature_rules(void **state)
{
	json_t *j = load(VDIR "records.json"), *v;
	const char *names[] = { "non_canonical_s", "small_order_key",
	    "small_order_r" };
	struct record rec;
	uint8_t *raw;
	size_t len, i, k, seen = 0;

	(void)state;
	json_array_foreach(json_object_get(j, "records"), i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));

		const char *verdict = json_string_value(json_object_get(v,
		    "verdict"));

		/* The lenient verifier itself: it takes the valid records and
		 * refuses a changed bit. */
		if (strcmp(verdict, "accept") == 0 ||
		    strcmp(name, "bad_signature") == 0) {
			raw = hexm(v, "record", &len);
			assert_int_equal(record_open(raw, len, 0, &rec), 0);
			assert_int_equal(lenient_verify(rec.c->author.data,
			    rec.sr->content.data, rec.sr->content.len,
			    rec.sr->signature.data), verdict[0] == 'a');
			record_release(&rec);
			free(raw);
			continue;
		}
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strcmp(name, names[k]) == 0)
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			continue;
		raw = hexm(v, "record", &len);
		assert_int_equal(record_open(raw, len, 0, &rec), 0);
		assert_int_equal(identity_verify(rec.c->author.data,
		    rec.sr->content.data, rec.sr->content.len,
		    rec.sr->signature.data), LCF_EBADSIG);
		if (!lenient_verify(rec.c->author.data, rec.sr->content.data,
		    rec.sr->content.len, rec.sr->signature.data))
			fail_msg("%s: a lenient verifier refuses it too: the "
			    "vector shows nothing", name);
		record_release(&rec);
		free(raw);
		seen++;
	}
	assert_int_equal(seen, 3);
	json_decref(j);
}

/* signature_first is the canonical record with its fields swapped:
 * record_normalize gives back the canonical bytes, the same id. */
static void
test_normalize(void **state)
{
	json_t *j = load(VDIR "records.json"), *v, *sf = NULL;
	uint8_t *raw, *content, *sig, id[32];
	size_t len, clen, slen, i;

	(void)state;
	json_array_foreach(json_object_get(j, "records"), i, v)
		if (strcmp(json_string_value(json_object_get(v, "name")),
		    "signature_first") == 0)
			sf = v;
	assert_non_null(sf);
	raw = hexm(sf, "record", &len);
	content = hexm(sf, "content", &clen);
	sig = hexm(sf, "signature", &slen);
	assert_int_equal(raw[0], 0x12);
	assert_int_equal(record_canonical(raw, len), RECORD_REVERSED);
	assert_int_equal(record_normalize(raw, len), 1);
	assert_int_equal(record_canonical(raw, len), 0);
	assert_int_equal(raw[0], 0x0a);
	assert_memory_equal(raw + len - slen, sig, slen);
	assert_memory_equal(raw + len - slen - 2 - clen, content, clen);
	assert_int_equal(record_peek_id(raw, len, id), 0);
	expect_hex(sf, "id", id, 32);
	assert_int_equal(record_normalize(raw, len), 0);
	assert_int_equal(record_canonical(raw, len - 1), LCF_EPROTO);
	free(raw);
	free(content);
	free(sig);
	json_decref(j);
}

/* Builds 0x0a, a length of clen written in lenbytes varint bytes, clen
 * bytes of 0x41, then 0x12 0x40 and 64 bytes: *len bytes. */
static uint8_t *
shaped(size_t clen, size_t lenbytes, size_t *len)
{
	uint8_t *b = calloc(1, 1 + lenbytes + clen + 66);
	size_t i, v = clen;

	assert_non_null(b);
	b[0] = 0x0a;
	for (i = 0; i < lenbytes; i++) {
		b[1 + i] = (uint8_t)(v & 0x7f) | (i + 1 < lenbytes ? 0x80 : 0);
		v >>= 7;
	}
	memset(b + 1 + lenbytes, 0x41, clen);
	b[1 + lenbytes + clen] = 0x12;
	b[2 + lenbytes + clen] = 0x40;
	*len = 1 + lenbytes + clen + 66;
	return b;
}

/* record_canonical at its edges: the sizes of section 1.1. */
static void
test_canonical_edges(void **state)
{
	uint8_t *b;
	size_t len;

	(void)state;
	/* The largest canonical record: 65,536 bytes of content, 65,606 in all. */
	b = shaped(RECORD_MAX_CONTENT, 3, &len);
	assert_int_equal(len, 65606);
	assert_int_equal(record_canonical(b, len), 0);
	free(b);
	b = shaped(RECORD_MAX_CONTENT + 1, 3, &len);
	assert_int_equal(record_canonical(b, len), LCF_EPROTO);
	free(b);
	/* One byte of content; and none, which is no record. */
	b = shaped(1, 1, &len);
	assert_int_equal(record_canonical(b, len), 0);
	/* Cut short; a 63-byte signature; a byte after the signature. */
	assert_int_equal(record_canonical(b, len - 1), LCF_EPROTO);
	b[len - 65] = 0x3f;
	assert_int_equal(record_canonical(b, len - 1), LCF_EPROTO);
	b[len - 65] = 0x40;
	b = realloc(b, len + 1);
	assert_non_null(b);
	b[len] = 0;
	assert_int_equal(record_canonical(b, len), 0);
	assert_int_equal(record_canonical(b, len + 1), LCF_EPROTO);
	free(b);
	b = shaped(0, 1, &len);
	assert_int_equal(record_canonical(b, len), LCF_EPROTO);
	free(b);
	/* 127 bytes take one length byte, 128 two; more is not minimal. */
	b = shaped(127, 1, &len);
	assert_int_equal(record_canonical(b, len), 0);
	free(b);
	b = shaped(127, 2, &len);
	assert_int_equal(record_canonical(b, len), LCF_EPROTO);
	free(b);
	b = shaped(128, 2, &len);
	assert_int_equal(record_canonical(b, len), 0);
	free(b);
	b = shaped(128, 3, &len);
	assert_int_equal(record_canonical(b, len), LCF_EPROTO);
	free(b);
	/* Over the limit before anything is read. */
	b = calloc(1, RECORD_MAX_SIGNED + 1);
	assert_non_null(b);
	assert_int_equal(record_canonical(b, RECORD_MAX_SIGNED + 1), LCF_EPROTO);
	assert_int_equal(record_normalize(b, RECORD_MAX_SIGNED + 1), LCF_EPROTO);
	free(b);
}

static void
expect_summary_digest(const json_t *o, const struct iblt_digest *d)
{
	uint8_t out[IBLT_DIGEST_BYTES];

	assert_int_equal(json_integer_value(json_object_get(o, "count")),
	    d->count);
	iblt_digest_bytes(d, out);
	expect_hex(o, "digest", out, sizeof(out));
}

/* The valid records stored in a real store: its set digests, whole and base
 * (4.10), and each author's summary and runs are the vectors'. */
static void
test_summaries(void **state)
{
	json_t *j = load(VDIR "records.json"), *v, *sum, *a;
	char dir[] = "/tmp/lcf-test-vectors-XXXXXX", db[64], err[256];
	struct store_item items[32];
	uint8_t *raws[32], author[32];
	struct store *st;
	struct iblt_digest d;
	struct store_author_summary as;
	uint64_t runs[16];
	size_t n = 0, len, i, k, nruns;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/db", dir);
	assert_int_equal(store_open(db, 64ULL << 20, &st, err, sizeof(err)), 0);
	memset(items, 0, sizeof(items));
	json_array_foreach(json_object_get(j, "records"), i, v) {
		if (strcmp(json_string_value(json_object_get(v, "verdict")),
		    "accept") != 0)
			continue;
		assert_true(n < 32);
		raws[n] = hexm(v, "record", &len);
		items[n].raw = raws[n];
		items[n].len = len;
		n++;
	}
	assert_int_equal(store_put(st, items, n), 0);
	sum = json_object_get(j, "summaries");
	assert_int_equal(store_sketch_view(st, 0, 0, NULL, &d), 0);
	expect_summary_digest(json_object_get(sum, "whole_set"), &d);
	assert_int_equal(store_sketch_view(st, 1, 0, NULL, &d), 0);
	expect_summary_digest(json_object_get(sum, "base_set"), &d);
	json_array_foreach(json_object_get(sum, "authors"), i, a) {
		hex32(a, "author", author);
		assert_int_equal(store_author_summary(st, 0, author, &as, runs,
		    8, &nruns), 0);
		assert_int_equal(json_integer_value(json_object_get(a, "count")),
		    as.count);
		assert_int_equal(json_integer_value(json_object_get(a,
		    "max_seq")), as.max_seq);
		expect_hex(a, "digest", as.digest, sizeof(as.digest));
		assert_int_equal(json_array_size(json_object_get(a, "have")),
		    2 * nruns);
		for (k = 0; k < 2 * nruns; k++)
			assert_int_equal(json_integer_value(json_array_get(
			    json_object_get(a, "have"), k)), runs[k]);
		assert_int_equal(store_author_summary(st, 1, author, &as, NULL,
		    0, &nruns), 0);
		assert_int_equal(json_integer_value(json_object_get(a,
		    "base_count")), as.count);
		expect_hex(a, "base_digest", as.digest, sizeof(as.digest));
	}
	assert_int_equal(i, 3);
	store_close(st);
	for (i = 0; i < n; i++)
		free(raws[i]);
	unit_rm_tree(dir);
	json_decref(j);
}

/* ---- digest and IBLT ---- */

static void
ids_into(const json_t *arr, struct iblt_digest *d, struct iblt *t)
{
	json_t *x;
	size_t i, n;
	uint8_t *id;

	json_array_foreach(arr, i, x) {
		json_t *o = json_pack("{sO}", "id", x);

		id = hexm(o, "id", &n);
		assert_int_equal(n, 32);
		iblt_digest_add(d, id);
		iblt_add(t, id);
		free(id);
		json_decref(o);
	}
}

static void
expect_digest(const json_t *o, const struct iblt_digest *d)
{
	uint8_t out[IBLT_DIGEST_BYTES];

	assert_int_equal(json_integer_value(json_object_get(o, "count")),
	    d->count);
	expect_hex(o, "sum", d->sum, 32);
	iblt_digest_bytes(d, out);
	expect_hex(o, "digest", out, sizeof(out));
}

static void
expect_table(const json_t *j, const char *key, const struct iblt *t)
{
	uint8_t *b = malloc(iblt_size(t));

	assert_non_null(b);
	iblt_serialize(t, b);
	expect_hex(j, key, b, iblt_size(t));
	free(b);
}

struct found {
	json_t *mine, *theirs;
};

static int
found_key(void *arg, uint64_t key, int side)
{
	struct found *f = arg;
	uint8_t p[8];
	char hex[17];

	iblt_key_prefix(key, p);
	sodium_bin2hex(hex, sizeof(hex), p, 8);
	json_array_append_new(side > 0 ? f->mine : f->theirs, json_string(hex));
	return 0;
}

/* The decoded keys, as a set, equal the vector's list. */
static void
expect_keys(const json_t *want, const json_t *got)
{
	size_t i, k;
	json_t *x, *y;

	assert_int_equal(json_array_size(want), json_array_size(got));
	json_array_foreach(want, i, x) {
		int hit = 0;

		json_array_foreach(got, k, y)
			hit |= json_equal(x, y);
		assert_true(hit);
	}
}

static void
test_sets(void **state)
{
	json_t *j = load(VDIR "sets.json"), *cells, *fk;
	struct iblt_digest da, db, de;
	struct iblt ta, tb, parsed;
	struct found f;
	uint8_t *b, *id, p[8];
	uint32_t pos[3];
	size_t n, i;
	int cls;

	(void)state;
	memset(&da, 0, sizeof(da));
	memset(&db, 0, sizeof(db));
	memset(&de, 0, sizeof(de));
	cls = iblt_class_of_cells((uint32_t)json_integer_value(
	    json_object_get(j, "cells")));
	assert_int_equal(cls, 0);
	assert_int_equal(iblt_init(&ta, cls), 0);
	assert_int_equal(iblt_init(&tb, cls), 0);
	ids_into(json_object_get(j, "ids_a"), &da, &ta);
	ids_into(json_object_get(j, "ids_b"), &db, &tb);
	expect_digest(json_object_get(j, "digest_a"), &da);
	expect_digest(json_object_get(j, "digest_b"), &db);
	expect_digest(json_object_get(j, "digest_empty"), &de);
	expect_table(j, "table_a", &ta);
	expect_table(j, "table_b", &tb);

	/* The first id's key, check and cells in every class. */
	fk = json_object_get(j, "first_id_key");
	{
		json_t *o = json_pack("{sO}", "id",
		    json_array_get(json_object_get(j, "ids_a"), 0));

		id = hexm(o, "id", &n);
		json_decref(o);
	}
	iblt_key_prefix(iblt_key(id), p);
	expect_hex(fk, "prefix", p, 8);
	assert_memory_equal(p, id, 8);
	assert_int_equal(json_integer_value(json_object_get(fk, "check")),
	    iblt_check(iblt_key(id)));
	cells = json_object_get(fk, "cells_by_class");
	assert_int_equal(json_array_size(cells), IBLT_NCLASSES);
	for (cls = 0; cls < IBLT_NCLASSES; cls++) {
		iblt_positions(cls, iblt_key(id), pos);
		for (i = 0; i < 3; i++)
			assert_int_equal(json_integer_value(json_array_get(
			    json_array_get(cells, (size_t)cls), i)), pos[i]);
	}
	free(id);

	/* B's table as a peer sends it, parsed and subtracted from A's. */
	b = hexm(j, "table_b", &n);
	assert_int_equal(iblt_parse(&parsed, 192, b, n), 0);
	free(b);
	assert_int_equal(iblt_subtract(&ta, &parsed), 0);
	expect_table(j, "table_a_minus_b", &ta);
	f.mine = json_array();
	f.theirs = json_array();
	assert_int_equal(iblt_decode(&ta, found_key, &f), 0);
	expect_keys(json_object_get(j, "only_a"), f.mine);
	expect_keys(json_object_get(j, "only_b"), f.theirs);
	json_decref(f.mine);
	json_decref(f.theirs);
	iblt_free(&ta);
	iblt_free(&tb);
	iblt_free(&parsed);
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_noise_transcript),
		cmocka_unit_test(test_record_verdicts),
		cmocka_unit_test(test_signature_rules),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_canonical_edges),
		cmocka_unit_test(test_summaries),
		cmocka_unit_test(test_sets),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
