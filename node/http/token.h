/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP operator token: DIR/http.token, 64 hex digits, mode 0600. */
#ifndef LCF_HTTP_TOKEN_H
#define LCF_HTTP_TOKEN_H

#include <stddef.h>

#define HTTP_TOKEN_HEX 64

/* Reads the token of data directory dir into out (HTTP_TOKEN_HEX + 1 bytes);
 * with create set, makes a new random one first when the file is missing.
 * Refuses a file that group or others may read or write, or that is not a
 * token. 0, LCF_ENOTFOUND (missing, create not set), or another negative code;
 * err names the file and says what to do. */
int http_token_load(const char *dir, int create, char *out, char *err,
    size_t errlen);

#endif
