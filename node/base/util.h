/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by lcnode and lcctl: hex ids, time, files, slugs. */
#ifndef LCF_UTIL_H
#define LCF_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* City ids and record ids are 32 bytes, printed as 64 lower-case hex digits. */
#define LCF_ID_LEN 32
#define LCF_ID_HEX (2 * LCF_ID_LEN + 1)

/* Writes 2*len hex digits and a NUL into out (size 2*len+1). Returns out. */
char *hex_encode(const uint8_t *in, size_t len, char *out);
/* The value of one hex digit (either case), or -1 for any other character. */
int hex_digit(int c);
/* Parses exactly 2*len hex digits into out. Returns 0 or LCF_EINVAL. */
int hex_decode(const char *hex, uint8_t *out, size_t len);
/* True when s is 1..64 hex digits (an id or an id prefix). */
int hex_is_prefix(const char *s);

/* Wall clock in Unix milliseconds; monotonic clock in milliseconds. */
int64_t now_ms(void);
uint64_t mono_ms(void);
/* CPU time the calling thread has used, in microseconds (for phase timings). */
uint64_t thread_cpu_us(void);
/* Names the calling thread (at most 15 bytes are kept), so that top -H, perf
 * and /proc/PID/task/TID/comm tell the node's threads apart. */
void thread_name(const char *name);

/* Reads a whole file of at most max bytes into a NUL-terminated buffer the caller
 * frees. Returns 0, LCF_ETOOBIG, or LCF_EIO with errno set. */
int read_file(const char *path, size_t max, char **buf, size_t *len);
/* Writes data to path through a temporary file, fsync and rename, with mode. */
int write_file_atomic(const char *path, const void *data, size_t len, int mode);

/* Lower-case ASCII slug of a title (letters, digits, '-'), at most max-1 chars. */
void slugify(const char *title, char *out, size_t max);

/* Big-endian integer helpers for keys and frames. */
void put_be32(uint8_t *p, uint32_t v);
uint32_t get_be32(const uint8_t *p);
void put_be64(uint8_t *p, uint64_t v);
uint64_t get_be64(const uint8_t *p);

/* snprintf for text that may be cut short on purpose (names, reasons, log
 * text): dst always ends with a NUL. */
void util_setf(char *dst, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* ms scaled by a random factor in [0.75, 1.25], so that timers of many nodes
 * do not fire together. */
uint64_t util_jitter(uint64_t ms);
/* One step of a Fisher-Yates shuffle of the n elements of `size` bytes at
 * base: swaps element i (i < n) with one chosen at random among i..n-1.
 * Called for i = 0, 1, ..., k-1 it leaves a uniform random choice of k
 * elements, in random order, in the first k places. */
void util_shuffle_step(void *base, size_t n, size_t size, size_t i);

#endif
