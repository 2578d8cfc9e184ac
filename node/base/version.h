/* SPDX-License-Identifier: Apache-2.0 */
/* The lcf release version, shown by `lcnode -V`, `lcctl --version` and `status`. */
#ifndef LCF_VERSION_H
#define LCF_VERSION_H

#define LCF_VERSION "0.1.0"

#endif
