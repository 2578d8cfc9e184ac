/* SPDX-License-Identifier: Apache-2.0 */
/* The node's admin socket: DIR/admin.sock, owner-only, framed protobuf. */
#ifndef LCF_CONTROL_H
#define LCF_CONTROL_H

struct node;
struct control;

/* Binds DIR/admin.sock (mode 0600; a stale socket is replaced, the caller holds
 * the directory lock) and starts accepting. On error err says why (a path too
 * long for a Unix socket included) and *out is NULL; what was allocated is
 * released by a close callback, so the caller must still run the loop until
 * its handles have closed. */
int control_start(struct node *n, struct control **out, char *err, size_t errlen);
/* Stops accepting, closes every connection and removes the socket file. The
 * memory is released once the loop has run the close callbacks. Accepts NULL. */
void control_stop(struct control *ctl);

#endif
