/* SPDX-License-Identifier: Apache-2.0 */
/* A city's Ed25519 identity: key file, signing and verification. */
#ifndef LCF_IDENTITY_H
#define LCF_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#define IDENTITY_PK_LEN 32
#define IDENTITY_SK_LEN 64
#define IDENTITY_SIG_LEN 64

/* Key succession (lcctl key rotate): the next key waits beside the key file
 * as KEY.next until lcnode switches to it at start; the key it replaces is
 * kept as KEY.retired-ID12 (the first 12 hex digits of its id). */
#define IDENTITY_NEXT_SUFFIX ".next"
#define IDENTITY_RETIRED_SUFFIX ".retired-"

/* Holds the secret key: keep it in sodium-locked memory (identity_new) and
 * release it with identity_free, which wipes it. */
struct identity {
	uint8_t pk[IDENTITY_PK_LEN];
	uint8_t sk[IDENTITY_SK_LEN];
};

/* Allocates an identity in guarded memory (sodium_malloc); NULL on failure. */
struct identity *identity_new(void);
/* Wipes and frees; accepts NULL. */
void identity_free(struct identity *id);

/* Fills id with a fresh random key pair. */
void identity_generate(struct identity *id);
/* Writes the key file (mode 0600, created exclusively: never overwrites).
 * Returns 0, LCF_EEXIST, or LCF_EIO with errno set. */
int identity_save(const struct identity *id, const char *path);
/* Loads a key file. Refuses (LCF_EKEYPERM) a file group or others can read or
 * write; LCF_EINVAL for a malformed file; LCF_EIO with errno set otherwise. */
int identity_load(struct identity *id, const char *path);

/* Signs msg; sig receives IDENTITY_SIG_LEN bytes. Thread-safe. */
void identity_sign(const struct identity *id, const uint8_t *msg, size_t len,
    uint8_t sig[IDENTITY_SIG_LEN]);
/* 0 when sig is pk's valid signature of msg, else LCF_EBADSIG. Thread-safe. */
int identity_verify(const uint8_t pk[IDENTITY_PK_LEN], const uint8_t *msg,
    size_t len, const uint8_t sig[IDENTITY_SIG_LEN]);

#endif
