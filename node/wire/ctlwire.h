/* SPDX-License-Identifier: Apache-2.0 */
/* Admin-socket framing shared by lcnode and lcctl (see proto/control.proto). */
#ifndef LCF_CTLWIRE_H
#define LCF_CTLWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "control.pb-c.h"

#define CTL_VERSION 1
#define CTL_MAX_FRAME (256u << 20)
#define CTL_SOCKET_NAME "admin.sock"

/* Serializes a message behind its 4-byte big-endian length into a new buffer the
 * caller frees. Returns 0 or LCF_ETOOBIG. */
int ctlwire_pack(const ProtobufCMessage *m, uint8_t **buf, size_t *len);

/* Blocking client side (lcctl): connect to DIR/admin.sock. Returns a socket fd, or
 * a negative code with a sentence for a person in err. conf_name (may be NULL)
 * is the file a node directory holds (the configuration's name): a directory
 * without it is said not to be a node's, rather than a node not running. */
int ctlwire_connect(const char *dir, const char *conf_name, char *err,
    size_t errlen);
/* Writes a request (sets version). Returns 0 or LCF_EIO/LCF_ECLOSED. */
int ctlwire_send(int fd, Lcf__CtlRequest *req);
/* Reads one response frame; *resp is owned by the caller
 * (lcf__ctl_response__free_unpacked(*resp, NULL)). Returns 0 or a negative code. */
int ctlwire_recv(int fd, Lcf__CtlResponse **resp);

#endif
