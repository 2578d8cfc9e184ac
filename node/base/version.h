/* SPDX-License-Identifier: Apache-2.0 */
/* The lcf release version, shown by `lcnode -V`, `lcctl --version` and `status`. */
#ifndef LCF_VERSION_H
#define LCF_VERSION_H

/* LCF_VERSION: a string literal, `git describe --tags --always --dirty` at
 * build time, else the VERSION file of a release tarball (the Makefile writes
 * $(BUILD)/gen/lcf_version.h, only when the version changes). At most 32
 * characters: it is a beacon's software field (PROTOCOL 1.3.15). */
#include "lcf_version.h"

#endif
