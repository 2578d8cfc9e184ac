// SPDX-License-Identifier: Apache-2.0
// The HTTP operator token: DIR/http.token, 64 hex digits, mode 0600.
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/error.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "core/config.h"
#include "http/token.h"

static int
create_token(const char *path, char *err, size_t errlen)
{
	uint8_t raw[HTTP_TOKEN_HEX / 2];
	char hex[HTTP_TOKEN_HEX + 2];
	int fd, ret = 0;

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	strcat(hex, "\n");
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		if (errno == EEXIST)
			goto out;
		snprintf(err, errlen, "%s: cannot create the HTTP token: %s", path,
		    strerror(errno));
		ret = LCF_EIO;
		goto out;
	}
	if (write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex) || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: cannot write the HTTP token: %s", path,
		    strerror(errno));
		unlink(path);
		ret = LCF_EIO;
	}
	close(fd);
out:
	sodium_memzero(hex, sizeof(hex));
	return ret;
}

int
http_token_load(const char *dir, int create, char *out, char *err, size_t errlen)
{
	char *path = xasprintf("%s/%s", dir, CONFIG_HTTP_TOKEN_FILE);
	char buf[HTTP_TOKEN_HEX + 4];
	struct stat st;
	ssize_t got;
	int fd = -1, ret = 0;

	memset(buf, 0, sizeof(buf));
	if (create && (ret = create_token(path, err, errlen)) != 0)
		goto out;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		ret = errno == ENOENT ? LCF_ENOTFOUND : LCF_EIO;
		snprintf(err, errlen, errno == ENOENT ?
		    "%s: no HTTP token yet: lcnode makes it at its first start" :
		    "%s: cannot open the HTTP token: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: the HTTP token must be a file only its "
		    "owner can read (mode 0600): run `chmod 600 %s`", path, path);
		ret = LCF_EPERM;
		goto out;
	}
	got = read(fd, buf, sizeof(buf) - 1);
	if (got == HTTP_TOKEN_HEX + 1 && buf[HTTP_TOKEN_HEX] == '\n')
		buf[HTTP_TOKEN_HEX] = '\0';
	if (got < 0 || strlen(buf) != HTTP_TOKEN_HEX || !hex_is_prefix(buf)) {
		snprintf(err, errlen, "%s: not an HTTP token (64 hex digits): remove "
		    "it and restart lcnode to make a new one", path);
		ret = LCF_EINVAL;
		goto out;
	}
	memcpy(out, buf, HTTP_TOKEN_HEX);
	out[HTTP_TOKEN_HEX] = '\0';
out:
	sodium_memzero(buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	free(path);
	return ret;
}
