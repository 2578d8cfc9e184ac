/* SPDX-License-Identifier: Apache-2.0 */
/* Network addresses as text: "HOST:PORT", "[IPv6]:PORT", parsed and printed. */
#ifndef LCF_ADDR_H
#define LCF_ADDR_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr;

/* Room for any address addr_format writes: a 255-byte host name or an IPv6
 * literal in brackets, ':', five digits and the NUL. */
#define ADDR_STR_MAX 264

/* Parses "HOST:PORT" ("[::1]:7400" for IPv6; port 1..65535) into host (size
 * hostlen, NUL-terminated) and port. 0 or LCF_EINVAL. */
int addr_parse_hostport(const char *s, char *host, size_t hostlen,
    uint16_t *port);
/* Writes "HOST:PORT", with brackets around a host holding ':' (IPv6), into out
 * (size len >= 1), cut to fit. Returns out. */
char *addr_format(char *out, size_t len, const char *host, unsigned port);
/* addr_format into a new string the caller frees. */
char *addr_format_dup(const char *host, unsigned port);
/* Writes an IPv4 or IPv6 socket address as addr_format does. 0, or LCF_EINVAL
 * for another family. */
int addr_format_sockaddr(char *out, size_t len, const struct sockaddr *sa);

#endif
