/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation that aborts with a message on failure, for internal sizes only. */
#ifndef LCF_XMALLOC_H
#define LCF_XMALLOC_H

#include <stddef.h>

/* All results are owned by the caller and released with free(). */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
/* At most n bytes of s (which need not be NUL-terminated within them), plus a NUL. */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Buffers of a megabyte or more (an answer, a frame): aligned to 2 MiB and
 * advised as transparent huge pages (MADV_HUGEPAGE; the kernel's "madvise"
 * mode), so that writing them first costs one page fault per 2 MiB instead
 * of one per 4 KiB. On this project's virtual machines a fault costs about
 * 15 us: copying 3.5 MB into fresh 4 KiB pages took 13 ms, into huge pages
 * 0.7 ms. Smaller sizes are plain malloc. Released with free(), like the
 * rest. xrealloc_big grows such a buffer (old_size bytes kept).
 */
#define XMALLOC_BIG (1u << 20)
void *xmalloc_big(size_t size);
void *xrealloc_big(void *ptr, size_t old_size, size_t size);
/* The same without aborting: NULL when the memory is not there (sizes a
 * peer or a client chose). */
void *malloc_big(size_t size);

#endif
