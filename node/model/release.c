// SPDX-License-Identifier: Apache-2.0
// Prints the release version and the peer protocol versions this build speaks.
#include "base/version.h"
#include "model/kinds.h"
#include "model/release.h"

void
release_print_version(FILE *f, const char *prog)
{
	fprintf(f, "%s %s\n", prog, LCF_VERSION);
	if (KINDS_PROTO_BASE == KINDS_PROTO_VERSION)
		fprintf(f, "peer protocol %d\n", KINDS_PROTO_VERSION);
	else
		fprintf(f, "peer protocol %d (links with peers of protocol %d to %d)\n",
		    KINDS_PROTO_VERSION, KINDS_PROTO_BASE, KINDS_PROTO_VERSION);
}
