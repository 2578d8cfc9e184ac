// SPDX-License-Identifier: Apache-2.0
// Noise (rev 34) handshakes and transport ciphers, 25519_ChaChaPoly_BLAKE2b.
#include <string.h>

#include <sodium.h>

#include "base/error.h"
#include "wire/noise.h"

#define BLAKE2B_BLOCK	128
#define NOISE_NONCE	12	/* ChaCha20-Poly1305 IETF nonce */
#define MAX_MSGS	3
#define MAX_TOKENS	5

/* Message pattern tokens; TOK_END closes a message's list. */
enum token {
	TOK_END = 0,
	TOK_E,
	TOK_S,
	TOK_EE,
	TOK_ES,
	TOK_SE,
	TOK_SS,
};

/*
 * A handshake pattern. Messages alternate, the initiator sending the even
 * ones. The only pre-message used by the supported patterns is the
 * responder's static key (XK).
 */
struct pattern {
	const char	*name;
	int		 pre_resp_s;	/* "<- s" before the handshake */
	int		 init_s;	/* the initiator needs a static key */
	int		 resp_s;	/* the responder needs a static key */
	int		 nmsgs;
	uint8_t		 msgs[MAX_MSGS][MAX_TOKENS + 1];
};

static const struct pattern patterns[] = {
	[NOISE_NN] = {
		"Noise_NN_25519_ChaChaPoly_BLAKE2b", 0, 0, 0, 2,
		{ { TOK_E }, { TOK_E, TOK_EE } },
	},
	[NOISE_XK] = {
		"Noise_XK_25519_ChaChaPoly_BLAKE2b", 1, 1, 1, 3,
		{ { TOK_E, TOK_ES }, { TOK_E, TOK_EE }, { TOK_S, TOK_SE } },
	},
	[NOISE_XX] = {
		"Noise_XX_25519_ChaChaPoly_BLAKE2b", 0, 1, 1, 3,
		{ { TOK_E }, { TOK_E, TOK_EE, TOK_S, TOK_ES },
		  { TOK_S, TOK_SE } },
	},
};

/* Hashing and key derivation (Noise section 4.3). */

static void
hmac(uint8_t out[NOISE_HASH], const uint8_t key[NOISE_HASH],
    const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	crypto_generichash_blake2b_state st;
	uint8_t pad[BLAKE2B_BLOCK], inner[NOISE_HASH];
	size_t i;

	/* RFC 2104: our keys (HASHLEN) are shorter than a block: zero-pad. */
	memset(pad, 0x36, sizeof(pad));
	for (i = 0; i < NOISE_HASH; i++)
		pad[i] ^= key[i];
	crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASH);
	crypto_generichash_blake2b_update(&st, pad, sizeof(pad));
	if (alen > 0)
		crypto_generichash_blake2b_update(&st, a, alen);
	if (blen > 0)
		crypto_generichash_blake2b_update(&st, b, blen);
	crypto_generichash_blake2b_final(&st, inner, NOISE_HASH);

	memset(pad, 0x5c, sizeof(pad));
	for (i = 0; i < NOISE_HASH; i++)
		pad[i] ^= key[i];
	crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASH);
	crypto_generichash_blake2b_update(&st, pad, sizeof(pad));
	crypto_generichash_blake2b_update(&st, inner, sizeof(inner));
	crypto_generichash_blake2b_final(&st, out, NOISE_HASH);

	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
	sodium_memzero(&st, sizeof(st));
}

/* HKDF with two or (when out3 is not NULL) three outputs. */
static void
hkdf(const uint8_t ck[NOISE_HASH], const uint8_t *ikm, size_t ikm_len,
    uint8_t out1[NOISE_HASH], uint8_t out2[NOISE_HASH], uint8_t *out3)
{
	static const uint8_t one = 0x01, two = 0x02, three = 0x03;
	uint8_t temp[NOISE_HASH];

	hmac(temp, ck, ikm, ikm_len, NULL, 0);
	hmac(out1, temp, &one, 1, NULL, 0);
	hmac(out2, temp, out1, NOISE_HASH, &two, 1);
	if (out3 != NULL)
		hmac(out3, temp, out2, NOISE_HASH, &three, 1);
	sodium_memzero(temp, sizeof(temp));
}

/* Cipher state (Noise section 5.1). */

static void
cipher_init(struct noise_cipher *c, const uint8_t k[NOISE_KEY])
{
	memcpy(c->k, k, NOISE_KEY);
	c->n = 0;
	c->has_key = 1;
}

static void
make_nonce(uint8_t nonce[NOISE_NONCE], uint64_t n)
{
	int i;

	/* 32 zero bits, then the counter little-endian. */
	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

/* Writes len + NOISE_TAG bytes to out (or len bytes before there is a key). */
static int
encrypt_with_ad(struct noise_cipher *c, const uint8_t *ad, size_t ad_len,
    const uint8_t *plain, size_t len, uint8_t *out)
{
	uint8_t nonce[NOISE_NONCE];
	int ret = LCF_ECRYPTO;

	if (!c->has_key) {
		if (len > 0 && out != plain)
			memcpy(out, plain, len);
		ret = 0;
		goto out;
	}
	/* 2^64-1 is reserved (Noise section 5.1): the key is used up. */
	if (c->n == UINT64_MAX)
		goto out;
	make_nonce(nonce, c->n);
	if (crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, plain, len,
	    ad, ad_len, NULL, nonce, c->k) != 0)
		goto out;
	c->n++;
	ret = 0;
out:
	return ret;
}

/* Reads len bytes (tag included once there is a key) into out. */
static int
decrypt_with_ad(struct noise_cipher *c, const uint8_t *ad, size_t ad_len,
    const uint8_t *msg, size_t len, uint8_t *out)
{
	uint8_t nonce[NOISE_NONCE];
	int ret = LCF_ECRYPTO;

	if (!c->has_key) {
		if (len > 0 && out != msg)
			memcpy(out, msg, len);
		ret = 0;
		goto out;
	}
	if (len < NOISE_TAG) {
		ret = LCF_EPROTO;
		goto out;
	}
	if (c->n == UINT64_MAX)
		goto out;
	make_nonce(nonce, c->n);
	/* On failure the counter stays put, as the specification requires. */
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, msg, len,
	    ad, ad_len, nonce, c->k) != 0)
		goto out;
	c->n++;
	ret = 0;
out:
	return ret;
}

/* Symmetric state (Noise section 5.2). */

static void
mix_hash(struct noise_handshake *hs, const uint8_t *data, size_t len)
{
	crypto_generichash_blake2b_state st;

	crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASH);
	crypto_generichash_blake2b_update(&st, hs->h, NOISE_HASH);
	if (len > 0)
		crypto_generichash_blake2b_update(&st, data, len);
	crypto_generichash_blake2b_final(&st, hs->h, NOISE_HASH);
}

static void
mix_key(struct noise_handshake *hs, const uint8_t ikm[NOISE_KEY])
{
	uint8_t ck[NOISE_HASH], k[NOISE_HASH];

	hkdf(hs->ck, ikm, NOISE_KEY, ck, k, NULL);
	memcpy(hs->ck, ck, NOISE_HASH);
	/* HASHLEN is 64: the cipher key is the first 32 bytes. */
	cipher_init(&hs->cs, k);
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(k, sizeof(k));
}

static int
encrypt_and_hash(struct noise_handshake *hs, const uint8_t *plain, size_t len,
    uint8_t *out, size_t *out_len)
{
	int ret;

	ret = encrypt_with_ad(&hs->cs, hs->h, NOISE_HASH, plain, len, out);
	if (ret != 0)
		goto out;
	*out_len = len + (hs->cs.has_key ? NOISE_TAG : 0);
	mix_hash(hs, out, *out_len);
out:
	return ret;
}

static int
decrypt_and_hash(struct noise_handshake *hs, const uint8_t *msg, size_t len,
    uint8_t *out)
{
	int ret;

	/* out never overlaps msg here, so the ciphertext is intact to hash. */
	ret = decrypt_with_ad(&hs->cs, hs->h, NOISE_HASH, msg, len, out);
	if (ret != 0)
		goto out;
	mix_hash(hs, msg, len);
out:
	return ret;
}

/* Handshake state (Noise section 5.3). */

static int
dh(uint8_t out[NOISE_KEY], const uint8_t priv[NOISE_KEY],
    const uint8_t pub[NOISE_KEY])
{
	int ret = 0;

	/* libsodium fails on an all-zero result (a low-order public key). */
	if (crypto_scalarmult(out, priv, pub) != 0)
		ret = LCF_ECRYPTO;
	return ret;
}

/* Performs the DH a token names and mixes the result into the chaining key. */
static int
mix_dh(struct noise_handshake *hs, enum token tok)
{
	const uint8_t *priv = NULL, *pub = NULL;
	uint8_t shared[NOISE_KEY];
	int ret = LCF_EPROTO;
	int local_e, remote_e;

	/* "es": the initiator's e and responder's s; "se": the reverse. */
	switch (tok) {
	case TOK_EE:
		local_e = remote_e = 1;
		break;
	case TOK_ES:
		local_e = hs->initiator;
		remote_e = !hs->initiator;
		break;
	case TOK_SE:
		local_e = !hs->initiator;
		remote_e = hs->initiator;
		break;
	case TOK_SS:
		local_e = remote_e = 0;
		break;
	default:
		goto out;
	}
	if (local_e ? !hs->has_e : !hs->has_s)
		goto out;
	if (remote_e ? !hs->has_re : !hs->has_rs)
		goto out;
	priv = local_e ? hs->e_priv : hs->s_priv;
	pub = remote_e ? hs->re : hs->rs;
	ret = dh(shared, priv, pub);
	if (ret != 0)
		goto out;
	mix_key(hs, shared);
out:
	sodium_memzero(shared, sizeof(shared));
	return ret;
}

/*
 * Bytes a message adds around its payload, given whether a key is set when
 * it starts; the payload's tag is counted.
 */
static size_t
overhead(const uint8_t *toks, int has_key)
{
	size_t len = 0;
	int i;

	for (i = 0; toks[i] != TOK_END; i++) {
		switch (toks[i]) {
		case TOK_E:
			len += NOISE_KEY;
			break;
		case TOK_S:
			len += NOISE_KEY + (has_key ? NOISE_TAG : 0);
			break;
		default:
			has_key = 1;
			break;
		}
	}
	return len + (has_key ? NOISE_TAG : 0);
}

/* The tokens of the next message, or NULL once done. */
static const uint8_t *
next_tokens(const struct noise_handshake *hs)
{
	const struct pattern *p = &patterns[hs->pattern];
	const uint8_t *toks = NULL;

	if (hs->msg < p->nmsgs)
		toks = p->msgs[hs->msg];
	return toks;
}

int
noise_hs_init(struct noise_handshake *hs, enum noise_pattern pat,
    int initiator, const uint8_t *prologue, size_t prologue_len,
    const uint8_t *s_priv, const uint8_t *rs_pub)
{
	const struct pattern *p;
	size_t name_len;
	int need_s, need_rs;
	int ret = LCF_EINVAL;

	if (hs == NULL)
		goto out;
	memset(hs, 0, sizeof(*hs));
	if ((unsigned)pat >= sizeof(patterns) / sizeof(patterns[0]))
		goto out;
	if (prologue == NULL && prologue_len > 0)
		goto out;
	p = &patterns[pat];
	hs->pattern = pat;
	hs->initiator = initiator != 0;
	need_s = hs->initiator ? p->init_s : p->resp_s;
	need_rs = hs->initiator && p->pre_resp_s;
	if ((s_priv != NULL) != need_s || (rs_pub != NULL) != need_rs)
		goto out;
	if (s_priv != NULL) {
		memcpy(hs->s_priv, s_priv, NOISE_KEY);
		if (crypto_scalarmult_base(hs->s_pub, hs->s_priv) != 0)
			goto out;
		hs->has_s = 1;
	}
	if (rs_pub != NULL) {
		memcpy(hs->rs, rs_pub, NOISE_KEY);
		hs->has_rs = 1;
	}

	/* A name of at most HASHLEN bytes is zero-padded, not hashed. */
	name_len = strlen(p->name);
	if (name_len <= NOISE_HASH)
		memcpy(hs->h, p->name, name_len);
	else
		crypto_generichash_blake2b(hs->h, NOISE_HASH,
		    (const uint8_t *)p->name, name_len, NULL, 0);
	memcpy(hs->ck, hs->h, NOISE_HASH);
	mix_hash(hs, prologue, prologue_len);
	if (p->pre_resp_s)
		mix_hash(hs, hs->initiator ? hs->rs : hs->s_pub, NOISE_KEY);
	ret = 0;
out:
	if (ret != 0 && hs != NULL) {
		noise_hs_wipe(hs);
		/* A caller that ignores the error still cannot use it. */
		hs->failed = 1;
	}
	return ret;
}

int
noise_hs_set_ephemeral(struct noise_handshake *hs, const uint8_t e_priv[32])
{
	int ret = LCF_EINVAL;

	if (hs->has_e || hs->failed || next_tokens(hs) == NULL)
		goto out;
	memcpy(hs->e_priv, e_priv, NOISE_KEY);
	if (crypto_scalarmult_base(hs->e_pub, hs->e_priv) != 0) {
		sodium_memzero(hs->e_priv, NOISE_KEY);
		goto out;
	}
	hs->has_e = 1;
	ret = 0;
out:
	return ret;
}

int
noise_hs_write_message(struct noise_handshake *hs, const uint8_t *payload,
    size_t payload_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
	const uint8_t *toks;
	size_t len, off = 0, n = 0;
	int i, ret = LCF_EPROTO;

	if (hs->failed || !noise_hs_needs_write(hs))
		goto out;
	toks = next_tokens(hs);
	/* Check sizes before touching the state so the caller may retry. */
	ret = LCF_ETOOBIG;
	if (payload_len > NOISE_MAX_MSG)
		goto out;
	len = overhead(toks, hs->cs.has_key) + payload_len;
	if (len > NOISE_MAX_MSG || len > out_cap)
		goto out;

	ret = 0;
	for (i = 0; toks[i] != TOK_END && ret == 0; i++) {
		switch (toks[i]) {
		case TOK_E:
			if (!hs->has_e) {
				randombytes_buf(hs->e_priv, NOISE_KEY);
				if (crypto_scalarmult_base(hs->e_pub,
				    hs->e_priv) != 0) {
					ret = LCF_ECRYPTO;
					break;
				}
				hs->has_e = 1;
			}
			memcpy(out + off, hs->e_pub, NOISE_KEY);
			mix_hash(hs, hs->e_pub, NOISE_KEY);
			off += NOISE_KEY;
			break;
		case TOK_S:
			ret = encrypt_and_hash(hs, hs->s_pub, NOISE_KEY,
			    out + off, &n);
			off += n;
			break;
		default:
			ret = mix_dh(hs, toks[i]);
			break;
		}
	}
	if (ret == 0)
		ret = encrypt_and_hash(hs, payload, payload_len, out + off, &n);
	if (ret != 0) {
		hs->failed = 1;
		goto out;
	}
	off += n;
	*out_len = off;
	hs->msg++;
out:
	return ret;
}

int
noise_hs_read_message(struct noise_handshake *hs, const uint8_t *msg,
    size_t msg_len, uint8_t *payload_out, size_t payload_cap,
    size_t *payload_len)
{
	const uint8_t *toks;
	size_t over, off = 0, n = 0;
	int i, ret = LCF_EPROTO;

	if (hs->failed || noise_hs_is_done(hs) || noise_hs_needs_write(hs))
		goto out;
	toks = next_tokens(hs);
	ret = LCF_ETOOBIG;
	if (msg_len > NOISE_MAX_MSG)
		goto out;
	over = overhead(toks, hs->cs.has_key);
	if (msg_len >= over && msg_len - over > payload_cap)
		goto out;
	ret = LCF_EPROTO;
	if (msg_len < over) {
		hs->failed = 1;
		goto out;
	}

	ret = 0;
	for (i = 0; toks[i] != TOK_END && ret == 0; i++) {
		switch (toks[i]) {
		case TOK_E:
			if (hs->has_re) {
				ret = LCF_EPROTO;
				break;
			}
			memcpy(hs->re, msg + off, NOISE_KEY);
			hs->has_re = 1;
			mix_hash(hs, hs->re, NOISE_KEY);
			off += NOISE_KEY;
			break;
		case TOK_S:
			if (hs->has_rs) {
				ret = LCF_EPROTO;
				break;
			}
			n = NOISE_KEY + (hs->cs.has_key ? NOISE_TAG : 0);
			ret = decrypt_and_hash(hs, msg + off, n, hs->rs);
			if (ret == 0)
				hs->has_rs = 1;
			off += n;
			break;
		default:
			ret = mix_dh(hs, toks[i]);
			break;
		}
	}
	if (ret == 0) {
		n = msg_len - off;
		ret = decrypt_and_hash(hs, msg + off, n, payload_out);
		if (ret == 0)
			*payload_len = n - (hs->cs.has_key ? NOISE_TAG : 0);
	}
	if (ret != 0) {
		hs->failed = 1;
		goto out;
	}
	hs->msg++;
out:
	return ret;
}

int
noise_hs_is_done(const struct noise_handshake *hs)
{
	return next_tokens(hs) == NULL;
}

int
noise_hs_needs_write(const struct noise_handshake *hs)
{
	int mine = 0;

	/* The initiator writes the even messages. */
	if (!hs->failed && !noise_hs_is_done(hs))
		mine = (hs->msg % 2 == 0) == (hs->initiator != 0);
	return mine;
}

int
noise_hs_split(struct noise_handshake *hs, struct noise_cipher *send,
    struct noise_cipher *recv)
{
	uint8_t k1[NOISE_HASH], k2[NOISE_HASH];
	int ret = LCF_EPROTO;

	if (hs->failed || hs->split || !noise_hs_is_done(hs))
		goto out;
	hkdf(hs->ck, NULL, 0, k1, k2, NULL);
	/* The first key is for the initiator's messages. */
	cipher_init(hs->initiator ? send : recv, k1);
	cipher_init(hs->initiator ? recv : send, k2);

	/* Only h and rs remain of use; drop every secret. */
	sodium_memzero(hs->ck, sizeof(hs->ck));
	noise_cipher_wipe(&hs->cs);
	sodium_memzero(hs->s_priv, sizeof(hs->s_priv));
	sodium_memzero(hs->e_priv, sizeof(hs->e_priv));
	hs->split = 1;
	ret = 0;
out:
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
	return ret;
}

const uint8_t *
noise_hs_remote_static(const struct noise_handshake *hs)
{
	return hs->has_rs ? hs->rs : NULL;
}

void
noise_hs_hash(const struct noise_handshake *hs, uint8_t out[64])
{
	memcpy(out, hs->h, NOISE_HASH);
}

int
noise_encrypt(struct noise_cipher *c, const uint8_t *plain, size_t len,
    uint8_t *out)
{
	int ret = LCF_EINVAL;

	if (!c->has_key)
		goto out;
	ret = LCF_ETOOBIG;
	if (len > NOISE_MAX_PAYLOAD)
		goto out;
	ret = encrypt_with_ad(c, NULL, 0, plain, len, out);
out:
	return ret;
}

int
noise_decrypt(struct noise_cipher *c, const uint8_t *msg, size_t len,
    uint8_t *out)
{
	int ret = LCF_EINVAL;

	if (!c->has_key)
		goto out;
	ret = LCF_ETOOBIG;
	if (len > NOISE_MAX_MSG)
		goto out;
	ret = decrypt_with_ad(c, NULL, 0, msg, len, out);
out:
	return ret;
}

void
noise_hs_wipe(struct noise_handshake *hs)
{
	if (hs != NULL)
		sodium_memzero(hs, sizeof(*hs));
}

void
noise_cipher_wipe(struct noise_cipher *c)
{
	if (c != NULL)
		sodium_memzero(c, sizeof(*c));
}

int
noise_static_from_ed25519(const uint8_t ed_sk[64], uint8_t x_priv[32])
{
	int ret = LCF_EINVAL;

	if (crypto_sign_ed25519_sk_to_curve25519(x_priv, ed_sk) != 0)
		goto out;
	ret = 0;
out:
	return ret;
}

int
noise_pub_from_ed25519(const uint8_t ed_pk[32], uint8_t x_pub[32])
{
	int ret = LCF_EINVAL;

	if (crypto_sign_ed25519_pk_to_curve25519(x_pub, ed_pk) != 0)
		goto out;
	ret = 0;
out:
	return ret;
}
