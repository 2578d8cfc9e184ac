// SPDX-License-Identifier: Apache-2.0
// A city's Ed25519 identity: key file, signing and verification.
//
// Key file format: one line "lcf-ed25519-secret-v1 " followed by the 64-digit hex
// seed and a newline. Only the seed is stored; the key pair is derived from it.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/error.h"
#include "model/identity.h"
#include "base/util.h"

#define KEY_MAGIC "lcf-ed25519-secret-v1 "
#define SEED_LEN crypto_sign_SEEDBYTES

struct identity *
identity_new(void)
{
	struct identity *id = sodium_malloc(sizeof(*id));

	if (id != NULL)
		sodium_memzero(id, sizeof(*id));
	return id;
}

void
identity_free(struct identity *id)
{
	if (id == NULL)
		return;
	sodium_memzero(id, sizeof(*id));
	sodium_free(id);
}

void
identity_generate(struct identity *id)
{
	crypto_sign_keypair(id->pk, id->sk);
}

int
identity_save(const struct identity *id, const char *path)
{
	int ret = LCF_EIO, fd, saved;
	char line[sizeof(KEY_MAGIC) + 2 * SEED_LEN + 2];
	uint8_t seed[SEED_LEN];
	size_t len, off = 0;
	ssize_t n;

	/* O_EXCL: an existing key is never overwritten. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return errno == EEXIST ? LCF_EEXIST : LCF_EIO;
	crypto_sign_ed25519_sk_to_seed(seed, id->sk);
	memcpy(line, KEY_MAGIC, sizeof(KEY_MAGIC) - 1);
	hex_encode(seed, SEED_LEN, line + sizeof(KEY_MAGIC) - 1);
	len = strlen(line);
	line[len++] = '\n';
	while (off < len) {
		n = write(fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		off += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto out;
	ret = 0;
out:
	saved = errno;
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(line, sizeof(line));
	close(fd);
	if (ret != 0)
		unlink(path);
	errno = saved;
	return ret;
}

int
identity_load(struct identity *id, const char *path)
{
	int ret = LCF_EIO, fd, saved;
	char buf[sizeof(KEY_MAGIC) + 2 * SEED_LEN + 8];
	uint8_t seed[SEED_LEN];
	struct stat st;
	ssize_t n;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return LCF_EIO;
	if (fstat(fd, &st) < 0)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		ret = LCF_EINVAL;
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		ret = LCF_EKEYPERM;
		goto out;
	}
	memset(buf, 0, sizeof(buf));
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		goto out;
	ret = LCF_EINVAL;
	if ((size_t)n < sizeof(KEY_MAGIC) - 1 + 2 * SEED_LEN ||
	    memcmp(buf, KEY_MAGIC, sizeof(KEY_MAGIC) - 1) != 0)
		goto out;
	buf[sizeof(KEY_MAGIC) - 1 + 2 * SEED_LEN] = '\0';
	if (hex_decode(buf + sizeof(KEY_MAGIC) - 1, seed, SEED_LEN) != 0)
		goto out;
	crypto_sign_seed_keypair(id->pk, id->sk, seed);
	ret = 0;
out:
	saved = errno;
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	errno = saved;
	return ret;
}

void
identity_sign(const struct identity *id, const uint8_t *msg, size_t len,
    uint8_t sig[IDENTITY_SIG_LEN])
{
	crypto_sign_detached(sig, NULL, msg, len, id->sk);
}

int
identity_verify(const uint8_t pk[IDENTITY_PK_LEN], const uint8_t *msg, size_t len,
    const uint8_t sig[IDENTITY_SIG_LEN])
{
	return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : LCF_EBADSIG;
}
