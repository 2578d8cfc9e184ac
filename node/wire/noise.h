/* SPDX-License-Identifier: Apache-2.0 */
/* Noise_{XX,XK,NN}_25519_ChaChaPoly_BLAKE2b on libsodium: buffers, no I/O. */
#ifndef LCF_NOISE_H
#define LCF_NOISE_H

#include <stddef.h>
#include <stdint.h>

#define NOISE_MAX_MSG	65535	/* largest Noise message, tag included */
#define NOISE_TAG	16	/* AEAD tag added to every encrypted payload */
#define NOISE_KEY	32	/* X25519 private or public key */
#define NOISE_HASH	64	/* BLAKE2b output: handshake hash */
/* Largest payload that fits in one transport message. */
#define NOISE_MAX_PAYLOAD	(NOISE_MAX_MSG - NOISE_TAG)

/* Peer links use XX; NN and XK are there to check the published vectors. */
enum noise_pattern {
	NOISE_NN,
	NOISE_XK,
	NOISE_XX,
};

/*
 * One direction of a transport: a key and a message counter. The caller owns
 * the storage (usually embedded in its connection); the fields are private to
 * noise.c. Wipe it with noise_cipher_wipe() when the link is closed.
 */
struct noise_cipher {
	uint8_t		k[NOISE_KEY];
	uint64_t	n;
	int		has_key;
};

/*
 * A handshake in progress. The caller owns the storage (stack or embedded);
 * the fields are private to noise.c. It holds secrets: call noise_hs_wipe()
 * when done with it, whether it succeeded or not.
 */
struct noise_handshake {
	struct noise_cipher	cs;
	uint8_t			ck[NOISE_HASH];
	uint8_t			h[NOISE_HASH];
	uint8_t			s_priv[NOISE_KEY], s_pub[NOISE_KEY];
	uint8_t			e_priv[NOISE_KEY], e_pub[NOISE_KEY];
	uint8_t			rs[NOISE_KEY], re[NOISE_KEY];
	int			has_s, has_e, has_rs, has_re;
	int			pattern;	/* enum noise_pattern */
	int			initiator;
	int			msg;		/* index of the next message */
	int			failed;		/* a message failed: unusable */
	int			split;		/* noise_hs_split() was done */
};

/*
 * Starts a handshake as initiator (initiator != 0) or responder. The prologue
 * (may be NULL when prologue_len is 0) is hashed in and need not outlive the
 * call. s_priv is the local X25519 static private key: required by XX and by
 * XK, NULL for NN. rs_pub is the responder's static public key, required for
 * the XK initiator and NULL otherwise. Keys are copied. Returns 0 or
 * LCF_EINVAL.
 */
int noise_hs_init(struct noise_handshake *hs, enum noise_pattern pat,
    int initiator, const uint8_t *prologue, size_t prologue_len,
    const uint8_t *s_priv, const uint8_t *rs_pub);

/*
 * Tests only: fixes the ephemeral private key instead of drawing a random one.
 * Call after noise_hs_init() and before the message that sends "e".
 */
int noise_hs_set_ephemeral(struct noise_handshake *hs,
    const uint8_t e_priv[32]);

/*
 * Writes the next handshake message, carrying payload (may be NULL if
 * payload_len is 0), into out[0..out_cap). Sets *out_len. payload and out must
 * not overlap. Returns 0; LCF_EPROTO if it is not our turn or the handshake is
 * over or failed; LCF_ETOOBIG if the message would exceed NOISE_MAX_MSG or
 * out_cap (these two leave the handshake unchanged); LCF_ECRYPTO if a DH result
 * is all zeros (the handshake is then failed). A message takes at most
 * payload_len + 96 bytes (XX message 2: e, s and its tag, the payload's tag).
 */
int noise_hs_write_message(struct noise_handshake *hs, const uint8_t *payload,
    size_t payload_len, uint8_t *out, size_t out_cap, size_t *out_len);

/*
 * Reads the peer's next handshake message msg[0..msg_len) and writes its
 * payload into payload_out[0..payload_cap), setting *payload_len. msg and
 * payload_out must not overlap. Returns 0; LCF_EPROTO if it is not the peer's
 * turn or the message is too short; LCF_ETOOBIG if msg_len exceeds
 * NOISE_MAX_MSG or the payload exceeds payload_cap (these leave the handshake
 * unchanged); LCF_ECRYPTO on authentication failure or an all-zero DH result.
 * After LCF_ECRYPTO, or LCF_EPROTO for a short message, the handshake is
 * failed: every later call returns LCF_EPROTO.
 */
int noise_hs_read_message(struct noise_handshake *hs, const uint8_t *msg,
    size_t msg_len, uint8_t *payload_out, size_t payload_cap,
    size_t *payload_len);

/* 1 when every handshake message has been written or read, else 0. */
int noise_hs_is_done(const struct noise_handshake *hs);

/* 1 when the next step is our noise_hs_write_message(), else 0. */
int noise_hs_needs_write(const struct noise_handshake *hs);

/*
 * Once done, derives the transport ciphers (send: ours to the peer; recv: the
 * peer's to us) and wipes the handshake's remaining secrets; the handshake
 * hash and remote static key stay readable. Callable once. Returns 0 or
 * LCF_EPROTO if the handshake is not done, failed or already split.
 */
int noise_hs_split(struct noise_handshake *hs, struct noise_cipher *send,
    struct noise_cipher *recv);

/*
 * The peer's static public key (32 bytes), or NULL while unknown. The pointer
 * is into hs: valid until hs is wiped or reused.
 */
const uint8_t *noise_hs_remote_static(const struct noise_handshake *hs);

/* Copies the handshake hash h; final (channel binding) once done. */
void noise_hs_hash(const struct noise_handshake *hs, uint8_t out[64]);

/*
 * Encrypts one transport message: out receives len + NOISE_TAG bytes and may
 * be plain itself (in place) but may not otherwise overlap it. Returns 0;
 * LCF_ETOOBIG if len > NOISE_MAX_PAYLOAD; LCF_ECRYPTO when the 2^64-1 nonces
 * are used up; LCF_EINVAL if c has no key.
 */
int noise_encrypt(struct noise_cipher *c, const uint8_t *plain, size_t len,
    uint8_t *out);

/*
 * Decrypts one transport message of len bytes (tag included): out receives
 * len - NOISE_TAG bytes and may be msg itself (in place). Returns 0;
 * LCF_EPROTO if len < NOISE_TAG; LCF_ETOOBIG if len > NOISE_MAX_MSG;
 * LCF_ECRYPTO on authentication failure (the counter does not advance, out is
 * cleared) or when the nonces are used up; LCF_EINVAL if c has no key.
 */
int noise_decrypt(struct noise_cipher *c, const uint8_t *msg, size_t len,
    uint8_t *out);

/* Zero all secrets; both accept NULL. */
void noise_hs_wipe(struct noise_handshake *hs);
void noise_cipher_wipe(struct noise_cipher *c);

/*
 * The node's Noise static key is its Ed25519 identity converted to X25519.
 * noise_static_from_ed25519 converts the 64-byte libsodium secret key; the
 * caller wipes x_priv. noise_pub_from_ed25519 converts a public key and
 * returns LCF_EINVAL if ed_pk is not a valid Ed25519 point. Both return 0 on
 * success.
 */
int noise_static_from_ed25519(const uint8_t ed_sk[64], uint8_t x_priv[32]);
int noise_pub_from_ed25519(const uint8_t ed_pk[32], uint8_t x_pub[32]);

#endif
