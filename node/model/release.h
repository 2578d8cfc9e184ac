/* SPDX-License-Identifier: Apache-2.0 */
/* What `lcnode --version` and `lcctl --version` print: the release and the peer protocol versions spoken. */
#ifndef LCF_RELEASE_H
#define LCF_RELEASE_H

#include <stdio.h>

/* Writes to f, for program prog ("lcnode"):
 *   lcnode VERSION
 *   peer protocol 3 (links with peers of protocol 2 to 3)
 * VERSION is LCF_VERSION (base/version.h: `git describe` at build time); the
 * protocols are KINDS_PROTO_VERSION and KINDS_PROTO_BASE (model/kinds.h). */
void release_print_version(FILE *f, const char *prog);

#endif
