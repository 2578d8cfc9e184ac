// SPDX-License-Identifier: Apache-2.0
// Unit tests for node/noise.c: published vectors, handshakes, failures, keys.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/error.h"
#include "wire/noise.h"

/*
 * Published test vectors: the entries for the 25519_ChaChaPoly_BLAKE2b suite
 * with patterns NN, XK and XX from the cacophony set
 * (haskell-cryptography/cacophony, vectors/cacophony.txt). Keys are X25519
 * private keys except init_remote_static, the responder's public key.
 * Message i is sent by the initiator when i is even: the handshake messages
 * first, then transport messages continuing the alternation.
 */
struct vector {
	enum noise_pattern	 pattern;
	const char		*name;
	const char		*prologue;
	const char		*init_static;
	const char		*init_ephemeral;
	const char		*init_remote_static;
	const char		*resp_static;
	const char		*resp_ephemeral;
	const char		*handshake_hash;
	int			 nmsgs;
	struct {
		const char	*payload;
		const char	*ciphertext;
	} msgs[6];
};

static const struct vector vectors[] = {
	{
		.pattern = NOISE_NN,
		.name = "Noise_NN_25519_ChaChaPoly_BLAKE2b",
		.prologue = "4a6f686e2047616c74",
		.init_ephemeral = "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a",
		.resp_ephemeral = "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b",
		.handshake_hash =
		    "25b3d1154146a2e058e4db548e0841992cf33a972d5b85a908e4fb8f14b6d94f"
		    "4987e17baa330c93dd842d6eda030cd47190c60d7c862574078779aba1302a2e",
		.nmsgs = 6,
		.msgs = {
			{ "4c756477696720766f6e204d69736573",
			  "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944"
			  "4c756477696720766f6e204d69736573" },
			{ "4d757272617920526f746862617264",
			  "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843"
			  "d10cf8ef4ab895bed3e4673211f0c9337039d63a450c7b28196b8a0ebade00" },
			{ "462e20412e20486179656b",
			  "e50ec882703a1f34bf4957d8cafd036d34e02930f672f424c676e1" },
			{ "4361726c204d656e676572",
			  "35bb2a728d3e8e5f47781d486089e4a37c5c2e4261256f44569a9f" },
			{ "4a65616e2d426170746973746520536179",
			  "69ee82006e16b79438a34ad9de37ee44d83c267e355750ecf49f194b5c504030"
			  "30" },
			{ "457567656e2042f6686d20766f6e2042617765726b",
			  "c568b641b01d2f644f2a890538c359915ca50552e55129c029d3721866c2646a"
			  "7af3fd1eff" },
		},
	},
	{
		.pattern = NOISE_XK,
		.name = "Noise_XK_25519_ChaChaPoly_BLAKE2b",
		.prologue = "4a6f686e2047616c74",
		.init_static = "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1",
		.init_ephemeral = "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a",
		.init_remote_static = "31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62",
		.resp_static = "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893",
		.resp_ephemeral = "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b",
		.handshake_hash =
		    "d34784be40e90f33c524e69a3d1dc4155e159d86bf42f01c615d40beb0816b88"
		    "0f0a3e20825fec22de1d607231a315d90d355cd9e5ba7205a17b6e0e9f4b490d",
		.nmsgs = 6,
		.msgs = {
			{ "4c756477696720766f6e204d69736573",
			  "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944"
			  "2806e28405ac4325fcf83607489496d6d326ab3fe084dbb1634f801405a69297" },
			{ "4d757272617920526f746862617264",
			  "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843"
			  "0ea4de2eff2cd3b1e7be5f7e792d87395f0863722ab04ec030529d6c5820de" },
			{ "462e20412e20486179656b",
			  "ec9136de99472b49eda3ba9fe84882d48f131b27386784b3f45e9f103ad1b6ef"
			  "a2f2e95f0afce5d0d4c8052aed81438500be54a8fd8dd4f5ba04f7907b312701"
			  "d0d687716a30b23c22f568" },
			{ "4361726c204d656e676572",
			  "d6ea0c3364ed480b415d44c3235fdb311dfa8d6e1dc1e6f3a76ee3" },
			{ "4a65616e2d426170746973746520536179",
			  "59f41ca9ea14a8305bae379bbdd8b4d5cf9bd308d2d7e042e2bf03c48dd910b3"
			  "7b" },
			{ "457567656e2042f6686d20766f6e2042617765726b",
			  "fa23ba8af343a3934c64219d3d0206d66894f7cdb180b738324608e15b010209"
			  "5ed2f44d4b" },
		},
	},
	{
		.pattern = NOISE_XX,
		.name = "Noise_XX_25519_ChaChaPoly_BLAKE2b",
		.prologue = "4a6f686e2047616c74",
		.init_static = "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1",
		.init_ephemeral = "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a",
		.resp_static = "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893",
		.resp_ephemeral = "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b",
		.handshake_hash =
		    "8cf47d7b3cb5804c0109d48e8bcdbee2cbb65687d8ea2c92994ca361fb86151a"
		    "d93627b98936cbb32de56e8abb21def3925011ac3e35db9cbeea73ab9a4392c2",
		.nmsgs = 6,
		.msgs = {
			{ "4c756477696720766f6e204d69736573",
			  "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944"
			  "4c756477696720766f6e204d69736573" },
			{ "4d757272617920526f746862617264",
			  "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843"
			  "0505b6745ce64a5f33f0e8e3b83f11ce8802bca507f4f2d8b564dbe277e19661"
			  "16e132faa2dfd70b8b077b9f94b913df5056ae1319469b824a98d54bbaa82c32"
			  "5595587064f978c4b6d104f7596e6f" },
			{ "462e20412e20486179656b",
			  "99579e1c1ee15e422a57ddd6b16d37087b17558e8369c18991b4b2ca3a824abf"
			  "904cdcf5458b5431a75af034ca9e9b982de039eaaf156775e2d580cd4e5ebae8"
			  "9c3f8cb2594b556d8a8169" },
			{ "4361726c204d656e676572",
			  "fc56eea290b3f3a21aac0c70cd5787b5ee99be37d2f4d751329b55" },
			{ "4a65616e2d426170746973746520536179",
			  "bb31c9da10d5639a4cdb88a12f5c61de41bbc7df09bf75d94f8184fe4157f5c6"
			  "8f" },
			{ "457567656e2042f6686d20766f6e2042617765726b",
			  "f6199cadb152fb27f82be0a0891ec76a33598ae92a46cab2fb5a8ed5bf48b7f2"
			  "67f8370af7" },
		},
	},
};

static char *
to_hex(const uint8_t *b, size_t len)
{
	char *s = malloc(2 * len + 1);

	if (s == NULL)
		abort();
	sodium_bin2hex(s, 2 * len + 1, b, len);
	return s;
}

/* Decodes a hex string of at most cap bytes; returns its length. */
static size_t
unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t len = 0;

	if (sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &len, NULL) != 0)
		fail_msg("bad hex in test data: %s", hex);
	return len;
}

/* Compares two byte strings and prints both in hex when they differ. */
static void
check_mem(const char *what, const uint8_t *got, size_t got_len,
    const uint8_t *want, size_t want_len, const char *file, int line)
{
	char *g, *w;

	if (got_len == want_len &&
	    (got_len == 0 || memcmp(got, want, got_len) == 0))
		return;
	g = to_hex(got, got_len);
	w = to_hex(want, want_len);
	print_error("%s differs\n"
	    "  got  (%zu bytes): %s\n"
	    "  want (%zu bytes): %s\n", what, got_len, g, want_len, w);
	free(g);
	free(w);
	_fail(file, line);
}
#define CHECK_MEM(what, g, gl, w, wl) \
	check_mem((what), (g), (gl), (w), (wl), __FILE__, __LINE__)

/* Same, against expected bytes given in hex. */
static void
check_hex(const char *what, const uint8_t *got, size_t got_len,
    const char *want_hex, const char *file, int line)
{
	uint8_t want[NOISE_MAX_MSG];
	size_t want_len = unhex(want_hex, want, sizeof(want));

	check_mem(what, got, got_len, want, want_len, file, line);
}
#define CHECK_HEX(what, g, gl, hex) \
	check_hex((what), (g), (gl), (hex), __FILE__, __LINE__)

static const uint8_t *
key_or_null(const char *hex, uint8_t buf[32])
{
	if (hex == NULL)
		return NULL;
	assert_int_equal(unhex(hex, buf, 32), 32);
	return buf;
}

static void
run_vector(const struct vector *v)
{
	struct noise_handshake ini, res, *tx, *rx;
	struct noise_cipher ini_send, ini_recv, res_send, res_recv;
	struct noise_cipher *ctx, *crx;
	uint8_t prologue[64], k1[32], k2[32], eph[32], pub[32];
	uint8_t payload[256], msg[512], out[512], h1[64], h2[64];
	size_t prologue_len, payload_len, msg_len, out_len;
	char what[64];
	int i;

	prologue_len = unhex(v->prologue, prologue, sizeof(prologue));
	assert_int_equal(noise_hs_init(&ini, v->pattern, 1, prologue,
	    prologue_len, key_or_null(v->init_static, k1),
	    key_or_null(v->init_remote_static, k2)), 0);
	assert_int_equal(noise_hs_set_ephemeral(&ini,
	    key_or_null(v->init_ephemeral, eph)), 0);
	assert_int_equal(noise_hs_init(&res, v->pattern, 0, prologue,
	    prologue_len, key_or_null(v->resp_static, k1), NULL), 0);
	assert_int_equal(noise_hs_set_ephemeral(&res,
	    key_or_null(v->resp_ephemeral, eph)), 0);

	for (i = 0; i < v->nmsgs; i++) {
		snprintf(what, sizeof(what), "%s message %d", v->name, i);
		payload_len = unhex(v->msgs[i].payload, payload,
		    sizeof(payload));
		if (!noise_hs_is_done(&ini)) {
			tx = i % 2 == 0 ? &ini : &res;
			rx = i % 2 == 0 ? &res : &ini;
			assert_int_equal(noise_hs_needs_write(tx), 1);
			assert_int_equal(noise_hs_needs_write(rx), 0);
			assert_int_equal(noise_hs_write_message(tx, payload,
			    payload_len, msg, sizeof(msg), &msg_len), 0);
			CHECK_HEX(what, msg, msg_len, v->msgs[i].ciphertext);
			assert_int_equal(noise_hs_read_message(rx, msg,
			    msg_len, out, sizeof(out), &out_len), 0);
			CHECK_MEM(what, out, out_len, payload, payload_len);
			if (noise_hs_is_done(&ini)) {
				assert_int_equal(noise_hs_is_done(&res), 1);
				assert_int_equal(noise_hs_split(&ini,
				    &ini_send, &ini_recv), 0);
				assert_int_equal(noise_hs_split(&res,
				    &res_send, &res_recv), 0);
			}
			continue;
		}
		ctx = i % 2 == 0 ? &ini_send : &res_send;
		crx = i % 2 == 0 ? &res_recv : &ini_recv;
		assert_int_equal(noise_encrypt(ctx, payload, payload_len,
		    msg), 0);
		CHECK_HEX(what, msg, payload_len + NOISE_TAG,
		    v->msgs[i].ciphertext);
		assert_int_equal(noise_decrypt(crx, msg,
		    payload_len + NOISE_TAG, out), 0);
		CHECK_MEM(what, out, payload_len, payload, payload_len);
	}

	noise_hs_hash(&ini, h1);
	noise_hs_hash(&res, h2);
	CHECK_HEX("initiator handshake hash", h1, 64, v->handshake_hash);
	CHECK_HEX("responder handshake hash", h2, 64, v->handshake_hash);

	/* Each side learned the other's static key, if the pattern sends it. */
	if (v->init_static != NULL) {
		assert_non_null(noise_hs_remote_static(&res));
		crypto_scalarmult_base(pub, key_or_null(v->init_static, k1));
		CHECK_MEM("responder's remote static",
		    noise_hs_remote_static(&res), 32, pub, 32);
	} else {
		assert_null(noise_hs_remote_static(&res));
	}
	if (v->resp_static != NULL) {
		assert_non_null(noise_hs_remote_static(&ini));
		crypto_scalarmult_base(pub, key_or_null(v->resp_static, k1));
		CHECK_MEM("initiator's remote static",
		    noise_hs_remote_static(&ini), 32, pub, 32);
	} else {
		assert_null(noise_hs_remote_static(&ini));
	}

	noise_hs_wipe(&ini);
	noise_hs_wipe(&res);
	noise_cipher_wipe(&ini_send);
	noise_cipher_wipe(&ini_recv);
	noise_cipher_wipe(&res_send);
	noise_cipher_wipe(&res_recv);
}

static void
test_vector_nn(void **state)
{
	(void)state;
	run_vector(&vectors[0]);
}

static void
test_vector_xk(void **state)
{
	(void)state;
	run_vector(&vectors[1]);
}

static void
test_vector_xx(void **state)
{
	(void)state;
	run_vector(&vectors[2]);
}

/* A node: an Ed25519 identity and the X25519 static key derived from it. */
struct node {
	uint8_t	ed_pk[32], ed_sk[64];
	uint8_t	x_priv[32], x_pub[32];
};

static void
node_new(struct node *n)
{
	crypto_sign_keypair(n->ed_pk, n->ed_sk);
	assert_int_equal(noise_static_from_ed25519(n->ed_sk, n->x_priv), 0);
	assert_int_equal(noise_pub_from_ed25519(n->ed_pk, n->x_pub), 0);
}

/* Two XX handshakes, ready for the first message. */
static void
xx_pair(struct noise_handshake *ini, struct noise_handshake *res,
    struct node *a, struct node *b)
{
	static const uint8_t prologue[] = "lcf test";

	node_new(a);
	node_new(b);
	assert_int_equal(noise_hs_init(ini, NOISE_XX, 1, prologue,
	    sizeof(prologue), a->x_priv, NULL), 0);
	assert_int_equal(noise_hs_init(res, NOISE_XX, 0, prologue,
	    sizeof(prologue), b->x_priv, NULL), 0);
}

/* Passes one handshake message from tx to rx and checks its payload. */
static void
relay(struct noise_handshake *tx, struct noise_handshake *rx,
    const uint8_t *payload, size_t payload_len)
{
	static uint8_t msg[NOISE_MAX_MSG], out[NOISE_MAX_MSG];
	size_t msg_len, out_len;

	assert_int_equal(noise_hs_needs_write(tx), 1);
	assert_int_equal(noise_hs_needs_write(rx), 0);
	assert_int_equal(noise_hs_write_message(tx, payload, payload_len, msg,
	    sizeof(msg), &msg_len), 0);
	assert_int_equal(noise_hs_read_message(rx, msg, msg_len, out,
	    sizeof(out), &out_len), 0);
	CHECK_MEM("handshake payload", out, out_len, payload, payload_len);
}

static void
test_xx_random(void **state)
{
	struct noise_handshake ini, res;
	struct noise_cipher is, ir, rs, rr;
	struct node a, b;
	static uint8_t plain[NOISE_MAX_MSG], buf[NOISE_MAX_MSG];
	uint8_t h1[64], h2[64];
	size_t len;
	int i;

	(void)state;
	xx_pair(&ini, &res, &a, &b);
	assert_null(noise_hs_remote_static(&ini));
	assert_null(noise_hs_remote_static(&res));
	relay(&ini, &res, (const uint8_t *)"hello", 5);
	assert_null(noise_hs_remote_static(&res));
	relay(&res, &ini, b.ed_pk, sizeof(b.ed_pk));
	assert_int_equal(noise_hs_is_done(&ini), 0);
	relay(&ini, &res, a.ed_pk, sizeof(a.ed_pk));
	assert_int_equal(noise_hs_is_done(&ini), 1);
	assert_int_equal(noise_hs_is_done(&res), 1);
	assert_int_equal(noise_hs_needs_write(&ini), 0);
	assert_int_equal(noise_hs_needs_write(&res), 0);

	/* The static keys learned are the peers' converted identities. */
	CHECK_MEM("initiator's remote static", noise_hs_remote_static(&ini),
	    32, b.x_pub, 32);
	CHECK_MEM("responder's remote static", noise_hs_remote_static(&res),
	    32, a.x_pub, 32);
	noise_hs_hash(&ini, h1);
	noise_hs_hash(&res, h2);
	CHECK_MEM("handshake hash", h1, 64, h2, 64);

	assert_int_equal(noise_hs_split(&ini, &is, &ir), 0);
	assert_int_equal(noise_hs_split(&res, &rs, &rr), 0);
	/* Split keeps h and rs readable. */
	noise_hs_hash(&ini, h2);
	CHECK_MEM("handshake hash after split", h2, 64, h1, 64);
	CHECK_MEM("remote static after split", noise_hs_remote_static(&ini),
	    32, b.x_pub, 32);

	for (i = 0; i < 50; i++) {
		len = i == 49 ? NOISE_MAX_PAYLOAD : (size_t)i * 37;
		randombytes_buf(plain, len);
		/* Initiator to responder, into a separate buffer. */
		assert_int_equal(noise_encrypt(&is, plain, len, buf), 0);
		assert_int_equal(noise_decrypt(&rr, buf, len + NOISE_TAG, buf),
		    0);
		CHECK_MEM("transport i->r", buf, len, plain, len);
		/* Responder to initiator, in place. */
		memcpy(buf, plain, len);
		assert_int_equal(noise_encrypt(&rs, buf, len, buf), 0);
		assert_int_equal(noise_decrypt(&ir, buf, len + NOISE_TAG, buf),
		    0);
		CHECK_MEM("transport r->i", buf, len, plain, len);
	}
	/* Each direction has its own key. */
	assert_memory_not_equal(is.k, rs.k, 32);
	noise_hs_wipe(&ini);
	noise_hs_wipe(&res);
	noise_cipher_wipe(&is);
	noise_cipher_wipe(&ir);
	noise_cipher_wipe(&rs);
	noise_cipher_wipe(&rr);
}

static void
test_tampered_handshake(void **state)
{
	struct noise_handshake ini, res;
	struct noise_cipher c1, c2;
	struct node a, b;
	uint8_t msg[256], out[256], h1[64], h2[64];
	size_t msg_len, out_len;
	size_t pos;

	(void)state;
	/* Flip one bit at a time in the encrypted part of message 2. */
	for (pos = 32; pos < 32 + 48 + 5 + 16; pos += 3) {
		xx_pair(&ini, &res, &a, &b);
		relay(&ini, &res, NULL, 0);
		assert_int_equal(noise_hs_write_message(&res,
		    (const uint8_t *)"hello", 5, msg, sizeof(msg), &msg_len),
		    0);
		assert_true(pos < msg_len);
		msg[pos] ^= 0x01;
		assert_int_equal(noise_hs_read_message(&ini, msg, msg_len, out,
		    sizeof(out), &out_len), LCF_ECRYPTO);
		/* The handshake is dead from then on. */
		msg[pos] ^= 0x01;
		assert_int_equal(noise_hs_read_message(&ini, msg, msg_len, out,
		    sizeof(out), &out_len), LCF_EPROTO);
		assert_int_equal(noise_hs_needs_write(&ini), 0);
		assert_int_equal(noise_hs_split(&ini, &c1, &c2), LCF_EPROTO);
		noise_hs_wipe(&ini);
		noise_hs_wipe(&res);
	}

	/*
	 * Message 1 is unauthenticated, but a changed e makes the handshake
	 * fail at message 2.
	 */
	xx_pair(&ini, &res, &a, &b);
	assert_int_equal(noise_hs_write_message(&ini, NULL, 0, msg,
	    sizeof(msg), &msg_len), 0);
	msg[3] ^= 0x80;
	assert_int_equal(noise_hs_read_message(&res, msg, msg_len, out,
	    sizeof(out), &out_len), 0);
	assert_int_equal(noise_hs_write_message(&res, NULL, 0, msg,
	    sizeof(msg), &msg_len), 0);
	assert_int_equal(noise_hs_read_message(&ini, msg, msg_len, out,
	    sizeof(out), &out_len), LCF_ECRYPTO);

	/* A different prologue also fails. */
	noise_hs_wipe(&ini);
	noise_hs_wipe(&res);
	node_new(&a);
	node_new(&b);
	assert_int_equal(noise_hs_init(&ini, NOISE_XX, 1,
	    (const uint8_t *)"v1", 2, a.x_priv, NULL), 0);
	assert_int_equal(noise_hs_init(&res, NOISE_XX, 0,
	    (const uint8_t *)"v2", 2, b.x_priv, NULL), 0);
	relay(&ini, &res, NULL, 0);
	assert_int_equal(noise_hs_write_message(&res, NULL, 0, msg,
	    sizeof(msg), &msg_len), 0);
	assert_int_equal(noise_hs_read_message(&ini, msg, msg_len, out,
	    sizeof(out), &out_len), LCF_ECRYPTO);

	/* Tampering with message 3 (the initiator's static key). */
	noise_hs_wipe(&ini);
	noise_hs_wipe(&res);
	xx_pair(&ini, &res, &a, &b);
	relay(&ini, &res, NULL, 0);
	relay(&res, &ini, NULL, 0);
	assert_int_equal(noise_hs_write_message(&ini, NULL, 0, msg,
	    sizeof(msg), &msg_len), 0);
	msg[10] ^= 0x04;
	assert_int_equal(noise_hs_read_message(&res, msg, msg_len, out,
	    sizeof(out), &out_len), LCF_ECRYPTO);
	noise_hs_hash(&ini, h1);
	noise_hs_hash(&res, h2);
	assert_memory_not_equal(h1, h2, 64);
	noise_hs_wipe(&ini);
	noise_hs_wipe(&res);
}

/* Runs a full random XX handshake and splits it. */
static void
xx_session(struct noise_cipher *is, struct noise_cipher *ir,
    struct noise_cipher *rs, struct noise_cipher *rr)
{
	struct noise_handshake ini, res, *tx, *rx;
	struct node a, b;
	uint8_t msg[128];
	size_t msg_len, len;
	int i;

	/* Empty payloads, with no payload buffers at all. */
	xx_pair(&ini, &res, &a, &b);
	for (i = 0; i < 3; i++) {
		tx = i % 2 == 0 ? &ini : &res;
		rx = i % 2 == 0 ? &res : &ini;
		assert_int_equal(noise_hs_write_message(tx, NULL, 0, msg,
		    sizeof(msg), &msg_len), 0);
		assert_int_equal(noise_hs_read_message(rx, msg, msg_len, NULL,
		    0, &len), 0);
		assert_int_equal(len, 0);
	}
	assert_int_equal(noise_hs_split(&ini, is, ir), 0);
	assert_int_equal(noise_hs_split(&res, rs, rr), 0);
	noise_hs_wipe(&ini);
	noise_hs_wipe(&res);
}

static void
test_tampered_transport(void **state)
{
	struct noise_cipher is, ir, rs, rr;
	uint8_t msg[64], copy[64], out[64];

	(void)state;
	xx_session(&is, &ir, &rs, &rr);
	assert_int_equal(noise_encrypt(&is, (const uint8_t *)"attack at dawn",
	    14, msg), 0);
	memcpy(copy, msg, sizeof(copy));
	msg[0] ^= 0x01;
	assert_int_equal(noise_decrypt(&rr, msg, 14 + NOISE_TAG, out),
	    LCF_ECRYPTO);
	msg[0] ^= 0x01;
	msg[14 + NOISE_TAG - 1] ^= 0x80;	/* the tag */
	assert_int_equal(noise_decrypt(&rr, msg, 14 + NOISE_TAG, out),
	    LCF_ECRYPTO);
	/* A truncated message fails too. */
	assert_int_equal(noise_decrypt(&rr, copy, 14 + NOISE_TAG - 1, out),
	    LCF_ECRYPTO);
	/* Failures do not advance the counter: the genuine one still reads. */
	assert_int_equal(noise_decrypt(&rr, copy, 14 + NOISE_TAG, out), 0);
	assert_memory_equal(out, "attack at dawn", 14);
	/* A replay does not. */
	assert_int_equal(noise_decrypt(&rr, copy, 14 + NOISE_TAG, out),
	    LCF_ECRYPTO);
	/* Nor does a message sent in the other direction's key. */
	assert_int_equal(noise_encrypt(&is, (const uint8_t *)"x", 1, msg), 0);
	assert_int_equal(noise_decrypt(&ir, msg, 1 + NOISE_TAG, out),
	    LCF_ECRYPTO);
	noise_cipher_wipe(&is);
	noise_cipher_wipe(&ir);
	noise_cipher_wipe(&rs);
	noise_cipher_wipe(&rr);
}

static void
test_out_of_turn(void **state)
{
	struct noise_handshake ini, res;
	struct noise_cipher c1, c2;
	struct node a, b;
	uint8_t msg[256], out[256];
	size_t msg_len, out_len;

	(void)state;
	xx_pair(&ini, &res, &a, &b);
	/* The responder may not speak first, nor the initiator listen. */
	assert_int_equal(noise_hs_write_message(&res, NULL, 0, msg,
	    sizeof(msg), &msg_len), LCF_EPROTO);
	memset(msg, 0x42, 64);
	assert_int_equal(noise_hs_read_message(&ini, msg, 64, out,
	    sizeof(out), &out_len), LCF_EPROTO);
	assert_int_equal(noise_hs_split(&ini, &c1, &c2), LCF_EPROTO);
	/* Those refusals left both sides usable. */
	relay(&ini, &res, NULL, 0);
	/* The initiator may not send twice in a row. */
	assert_int_equal(noise_hs_write_message(&ini, NULL, 0, msg,
	    sizeof(msg), &msg_len), LCF_EPROTO);
	assert_int_equal(noise_hs_read_message(&res, msg, 32, out,
	    sizeof(out), &out_len), LCF_EPROTO);
	relay(&res, &ini, NULL, 0);
	relay(&ini, &res, NULL, 0);
	/* Nothing is left to write or read. */
	assert_int_equal(noise_hs_write_message(&ini, NULL, 0, msg,
	    sizeof(msg), &msg_len), LCF_EPROTO);
	assert_int_equal(noise_hs_write_message(&res, NULL, 0, msg,
	    sizeof(msg), &msg_len), LCF_EPROTO);
	assert_int_equal(noise_hs_read_message(&res, msg, 64, out,
	    sizeof(out), &out_len), LCF_EPROTO);
	assert_int_equal(noise_hs_split(&ini, &c1, &c2), 0);
	assert_int_equal(noise_hs_split(&ini, &c1, &c2), LCF_EPROTO);
	noise_hs_wipe(&ini);
	noise_hs_wipe(&res);
	noise_cipher_wipe(&c1);
	noise_cipher_wipe(&c2);
}

static void
test_sizes(void **state)
{
	struct noise_handshake ini, res;
	struct noise_cipher is, ir, rs, rr, none;
	struct node a, b;
	static uint8_t big[NOISE_MAX_MSG + 1], msg[NOISE_MAX_MSG + 1];
	uint8_t out[256];
	size_t msg_len, out_len;

	(void)state;
	xx_pair(&ini, &res, &a, &b);
	/* Message 1 is e (32) and a plaintext payload. */
	assert_int_equal(noise_hs_write_message(&ini, big,
	    NOISE_MAX_MSG - 32 + 1, msg, sizeof(msg), &msg_len), LCF_ETOOBIG);
	assert_int_equal(noise_hs_write_message(&ini, big, SIZE_MAX, msg,
	    sizeof(msg), &msg_len), LCF_ETOOBIG);
	assert_int_equal(noise_hs_write_message(&ini, big, 10, msg, 41,
	    &msg_len), LCF_ETOOBIG);
	/* None of that changed the state: an exact fit works. */
	assert_int_equal(noise_hs_write_message(&ini, big, 10, msg, 42,
	    &msg_len), 0);
	assert_int_equal(msg_len, 42);
	/* Too long, then a payload buffer too small: refused, no change. */
	assert_int_equal(noise_hs_read_message(&res, msg, NOISE_MAX_MSG + 1,
	    out, sizeof(out), &out_len), LCF_ETOOBIG);
	assert_int_equal(noise_hs_read_message(&res, msg, msg_len, out, 9,
	    &out_len), LCF_ETOOBIG);
	assert_int_equal(noise_hs_read_message(&res, msg, msg_len, out, 10,
	    &out_len), 0);
	assert_int_equal(out_len, 10);

	/* Message 2 is e, s and its tag, the payload and its tag: 96 + len. */
	assert_int_equal(noise_hs_write_message(&res, big,
	    NOISE_MAX_MSG - 96 + 1, msg, sizeof(msg), &msg_len), LCF_ETOOBIG);
	assert_int_equal(noise_hs_write_message(&res, big, NOISE_MAX_MSG - 96,
	    msg, sizeof(msg), &msg_len), 0);
	assert_int_equal(msg_len, NOISE_MAX_MSG);
	/* Too short to hold e, s and two tags: malformed, and fatal. */
	assert_int_equal(noise_hs_read_message(&ini, msg, 95, big,
	    sizeof(big), &out_len), LCF_EPROTO);
	assert_int_equal(noise_hs_read_message(&ini, msg, msg_len, big,
	    sizeof(big), &out_len), LCF_EPROTO);
	noise_hs_wipe(&ini);
	noise_hs_wipe(&res);

	xx_session(&is, &ir, &rs, &rr);
	assert_int_equal(noise_encrypt(&is, big, NOISE_MAX_PAYLOAD + 1, msg),
	    LCF_ETOOBIG);
	assert_int_equal(noise_decrypt(&rr, msg, NOISE_MAX_MSG + 1, big),
	    LCF_ETOOBIG);
	assert_int_equal(noise_decrypt(&rr, msg, NOISE_TAG - 1, big),
	    LCF_EPROTO);
	/* An empty payload is a bare tag. */
	assert_int_equal(noise_encrypt(&is, NULL, 0, msg), 0);
	assert_int_equal(noise_decrypt(&rr, msg, NOISE_TAG, big), 0);
	/* A cipher without a key is refused. */
	memset(&none, 0, sizeof(none));
	assert_int_equal(noise_encrypt(&none, big, 1, msg), LCF_EINVAL);
	assert_int_equal(noise_decrypt(&none, msg, 17, big), LCF_EINVAL);
	noise_cipher_wipe(&is);
	noise_cipher_wipe(&ir);
	noise_cipher_wipe(&rs);
	noise_cipher_wipe(&rr);
}

static void
test_nonce_exhaustion(void **state)
{
	struct noise_cipher is, ir, rs, rr;
	uint8_t msg[32], out[32];

	(void)state;
	xx_session(&is, &ir, &rs, &rr);
	/* The last usable nonce is 2^64-2. */
	is.n = rr.n = UINT64_MAX - 1;
	assert_int_equal(noise_encrypt(&is, (const uint8_t *)"last", 4, msg),
	    0);
	assert_int_equal(noise_decrypt(&rr, msg, 4 + NOISE_TAG, out), 0);
	assert_memory_equal(out, "last", 4);
	assert_true(is.n == UINT64_MAX);
	assert_int_equal(noise_encrypt(&is, (const uint8_t *)"more", 4, msg),
	    LCF_ECRYPTO);
	assert_int_equal(noise_decrypt(&rr, msg, 4 + NOISE_TAG, out),
	    LCF_ECRYPTO);
	noise_cipher_wipe(&is);
	noise_cipher_wipe(&ir);
	noise_cipher_wipe(&rs);
	noise_cipher_wipe(&rr);
}

static void
test_zero_dh(void **state)
{
	struct noise_handshake ini, res;
	struct node a, b;
	uint8_t msg[256], out[256];
	size_t msg_len, out_len;

	(void)state;
	/* A peer sending a low-order e (here the point 0) makes "ee" zero. */
	xx_pair(&ini, &res, &a, &b);
	memset(msg, 0, 32);
	assert_int_equal(noise_hs_read_message(&res, msg, 32, out,
	    sizeof(out), &out_len), 0);
	assert_int_equal(noise_hs_write_message(&res, NULL, 0, msg,
	    sizeof(msg), &msg_len), LCF_ECRYPTO);
	assert_int_equal(noise_hs_write_message(&res, NULL, 0, msg,
	    sizeof(msg), &msg_len), LCF_EPROTO);
	noise_hs_wipe(&ini);
	noise_hs_wipe(&res);

	/* Same on the reading side: the initiator gets e = 1 (order 4). */
	xx_pair(&ini, &res, &a, &b);
	relay(&ini, &res, NULL, 0);
	assert_int_equal(noise_hs_write_message(&res, NULL, 0, msg,
	    sizeof(msg), &msg_len), 0);
	memset(msg, 0, 32);
	msg[0] = 1;
	assert_int_equal(noise_hs_read_message(&ini, msg, msg_len, out,
	    sizeof(out), &out_len), LCF_ECRYPTO);
	noise_hs_wipe(&ini);
	noise_hs_wipe(&res);
}

static void
test_init_args(void **state)
{
	struct noise_handshake hs;
	uint8_t k[32];
	size_t len;

	(void)state;
	randombytes_buf(k, sizeof(k));
	assert_int_equal(noise_hs_init(&hs, NOISE_XX, 1, NULL, 0, NULL, NULL),
	    LCF_EINVAL);
	assert_int_equal(noise_hs_init(&hs, NOISE_XX, 0, NULL, 0, k, k),
	    LCF_EINVAL);
	assert_int_equal(noise_hs_init(&hs, NOISE_NN, 1, NULL, 0, k, NULL),
	    LCF_EINVAL);
	assert_int_equal(noise_hs_init(&hs, NOISE_XK, 1, NULL, 0, k, NULL),
	    LCF_EINVAL);
	assert_int_equal(noise_hs_init(&hs, NOISE_XK, 0, NULL, 0, k, k),
	    LCF_EINVAL);
	assert_int_equal(noise_hs_init(&hs, NOISE_XX, 1, NULL, 1, k, NULL),
	    LCF_EINVAL);
	/* A failed init leaves a handshake that refuses everything. */
	assert_int_equal(noise_hs_needs_write(&hs), 0);
	assert_int_equal(noise_hs_read_message(&hs, k, 32, NULL, 0, &len),
	    LCF_EPROTO);
	assert_int_equal(noise_hs_init(&hs, (enum noise_pattern)7, 1, NULL, 0,
	    k, NULL), LCF_EINVAL);
	assert_int_equal(noise_hs_init(&hs, NOISE_XK, 1, NULL, 0, k, k), 0);
	assert_int_equal(noise_hs_set_ephemeral(&hs, k), 0);
	/* Only once. */
	assert_int_equal(noise_hs_set_ephemeral(&hs, k), LCF_EINVAL);
	noise_hs_wipe(&hs);
	noise_hs_wipe(NULL);
	noise_cipher_wipe(NULL);
}

static void
test_ed25519_conversion(void **state)
{
	uint8_t ed_pk[32], ed_sk[64], seed[32];
	uint8_t x_priv[32], x_pub[32], derived[32];
	uint8_t bad[32] = { 1 };	/* the identity point: small order */
	int i;

	(void)state;
	for (i = 0; i < 20; i++) {
		crypto_sign_keypair(ed_pk, ed_sk);
		assert_int_equal(noise_static_from_ed25519(ed_sk, x_priv), 0);
		assert_int_equal(noise_pub_from_ed25519(ed_pk, x_pub), 0);
		assert_int_equal(crypto_scalarmult_base(derived, x_priv), 0);
		CHECK_MEM("X25519 public from converted private", derived, 32,
		    x_pub, 32);
	}
	/* A fixed seed gives a fixed key: the conversion is deterministic. */
	memset(seed, 7, sizeof(seed));
	crypto_sign_seed_keypair(ed_pk, ed_sk, seed);
	assert_int_equal(noise_static_from_ed25519(ed_sk, x_priv), 0);
	assert_int_equal(noise_static_from_ed25519(ed_sk, derived), 0);
	CHECK_MEM("converted private, twice", derived, 32, x_priv, 32);
	assert_int_equal(noise_pub_from_ed25519(bad, x_pub), LCF_EINVAL);
	sodium_memzero(x_priv, sizeof(x_priv));
	sodium_memzero(ed_sk, sizeof(ed_sk));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_nn),
		cmocka_unit_test(test_vector_xk),
		cmocka_unit_test(test_vector_xx),
		cmocka_unit_test(test_xx_random),
		cmocka_unit_test(test_tampered_handshake),
		cmocka_unit_test(test_tampered_transport),
		cmocka_unit_test(test_out_of_turn),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_nonce_exhaustion),
		cmocka_unit_test(test_zero_dh),
		cmocka_unit_test(test_init_args),
		cmocka_unit_test(test_ed25519_conversion),
	};

	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
