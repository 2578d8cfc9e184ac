// SPDX-License-Identifier: Apache-2.0
// Small helpers shared by lcnode and lcctl: hex ids, time, files, slugs.
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "base/error.h"
#include "base/util.h"
#include "base/xmalloc.h"

char *
hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
	return out;
}

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex_decode(const char *hex, uint8_t *out, size_t len)
{
	size_t i;
	int hi, lo;

	if (strlen(hex) != 2 * len)
		return LCF_EINVAL;
	for (i = 0; i < len; i++) {
		hi = hex_digit((unsigned char)hex[2 * i]);
		lo = hex_digit((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return LCF_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
hex_is_prefix(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 2 * LCF_ID_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (hex_digit((unsigned char)s[i]) < 0)
			return 0;
	return 1;
}

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
thread_name(const char *name)
{
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
}

uint64_t
thread_cpu_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int
read_file(const char *path, size_t max, char **buf, size_t *len)
{
	int ret = LCF_EIO, fd, saved;
	struct stat st;
	char *p = NULL;
	size_t got = 0;
	ssize_t n;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return LCF_EIO;
	if (fstat(fd, &st) < 0)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		ret = LCF_ETOOBIG;
		goto out;
	}
	p = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = read(fd, p + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	p[got] = '\0';
	*buf = p;
	p = NULL;
	if (len)
		*len = got;
	ret = 0;
out:
	saved = errno;
	free(p);
	close(fd);
	errno = saved;
	return ret;
}

int
write_file_atomic(const char *path, const void *data, size_t len, int mode)
{
	int ret = LCF_EIO, fd = -1, saved;
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	const char *p = data;
	ssize_t n;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) < 0)
		goto out;
	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto out;
	ret = 0;
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (ret != 0)
		unlink(tmp);
	free(tmp);
	errno = saved;
	return ret;
}

void
slugify(const char *title, char *out, size_t max)
{
	size_t o = 0;
	int dash = 0;
	const unsigned char *s;

	if (max == 0)
		return;
	for (s = (const unsigned char *)title; *s && o + 1 < max; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')) {
			if (dash && o > 0 && o + 2 < max)
				out[o++] = '-';
			dash = 0;
			out[o++] = (char)*s;
		} else if (*s >= 'A' && *s <= 'Z') {
			if (dash && o > 0 && o + 2 < max)
				out[o++] = '-';
			dash = 0;
			out[o++] = (char)(*s - 'A' + 'a');
		} else if (*s < 0x80) {
			dash = 1;
		}
		/* Bytes of multi-byte UTF-8 characters are dropped: slugs stay ASCII. */
	}
	out[o] = '\0';
	if (o == 0)
		snprintf(out, max, "practice");
}

void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void
put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

uint64_t
get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

void
util_setf(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
}

uint64_t
util_jitter(uint64_t ms)
{
	return ms * (750 + randombytes_uniform(501)) / 1000;
}

void
util_shuffle_step(void *base, size_t n, size_t size, size_t i)
{
	unsigned char *a, *b, t;
	size_t j, k;

	if (i >= n)
		return;
	j = i + randombytes_uniform((uint32_t)(n - i));
	if (j == i)
		return;
	a = (unsigned char *)base + i * size;
	b = (unsigned char *)base + j * size;
	for (k = 0; k < size; k++) {
		t = a[k];
		a[k] = b[k];
		b[k] = t;
	}
}
