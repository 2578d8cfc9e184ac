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

#endif
