// SPDX-License-Identifier: Apache-2.0
// Network addresses as text: the one parser and printer of "HOST:PORT".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "base/error.h"
#include "base/xmalloc.h"

int
addr_parse_hostport(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon, *h = s;
	size_t hl;
	char *end;
	long v;
	int ret = LCF_EINVAL;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			goto out;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || strchr(s, ':') != colon)
			goto out;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen)
		goto out;
	/* strtol would also take a sign or leading spaces. */
	if (colon[1] < '0' || colon[1] > '9')
		goto out;
	errno = 0;
	v = strtol(colon + 1, &end, 10);
	if (*end != '\0' || errno != 0 || v < 1 || v > 65535)
		goto out;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)v;
	ret = 0;
out:
	return ret;
}

char *
addr_format(char *out, size_t len, const char *host, unsigned port)
{
	snprintf(out, len, strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u", host,
	    port);
	return out;
}

char *
addr_format_dup(const char *host, unsigned port)
{
	char buf[ADDR_STR_MAX];

	return xstrdup(addr_format(buf, sizeof(buf), host, port));
}

int
addr_format_sockaddr(char *out, size_t len, const struct sockaddr *sa)
{
	char ip[INET6_ADDRSTRLEN];
	unsigned port = 0;
	int ret = LCF_EINVAL;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;

		if (inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip)) == NULL)
			goto out;
		port = ntohs(a->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a =
		    (const struct sockaddr_in6 *)(const void *)sa;

		if (inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip)) == NULL)
			goto out;
		port = ntohs(a->sin6_port);
	} else {
		goto out;
	}
	addr_format(out, len, ip, port);
	ret = 0;
out:
	return ret;
}
