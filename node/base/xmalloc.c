// SPDX-License-Identifier: Apache-2.0
// Allocation wrappers that abort with a message instead of returning NULL.
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/log.h"
#include "base/xmalloc.h"

void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		fatal("xmalloc(%zu)", size);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		fatal("xcalloc(%zu, %zu)", nmemb, size);
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void *p;

	if (size && nmemb > SIZE_MAX / size)
		fatalx("xreallocarray: %zu * %zu overflows", nmemb, size);
	p = realloc(ptr, nmemb * size != 0 ? nmemb * size : 1);
	if (p == NULL)
		fatal("xreallocarray(%zu, %zu)", nmemb, size);
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatal("xstrdup");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		fatal("xstrndup");
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("xasprintf");
	return p;
}

void *
malloc_big(size_t size)
{
	size_t huge = 2u << 20, round;
	void *p;

	if (size < XMALLOC_BIG)
		return malloc(size ? size : 1);
	if (size > SIZE_MAX - huge)
		return NULL;
	round = (size + huge - 1) / huge * huge;
	if ((p = aligned_alloc(huge, round)) != NULL)
		(void)madvise(p, round, MADV_HUGEPAGE);
	return p;
}

void *
xmalloc_big(size_t size)
{
	void *p = malloc_big(size);

	if (p == NULL)
		fatal("xmalloc_big(%zu)", size);
	return p;
}

void *
xrealloc_big(void *ptr, size_t old_size, size_t size)
{
	void *p;

	if (size < XMALLOC_BIG)
		return xreallocarray(ptr, size ? size : 1, 1);
	p = xmalloc_big(size);
	if (ptr != NULL)
		memcpy(p, ptr, old_size < size ? old_size : size);
	free(ptr);
	return p;
}
