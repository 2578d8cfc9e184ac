/* SPDX-License-Identifier: Apache-2.0 */
/* Admin-socket internals shared by control.c (the server, records) and
 * ctlfed.c (peers, cities, members): not part of the node's API. */
#ifndef LCF_CTLINT_H
#define LCF_CTLINT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "control.pb-c.h"
#include "core/lineage.h"
#include "store/store.h"

#define VERIFY_SLICES 2

struct ctl_conn;

struct control {
	struct node *n;
	uv_pipe_t server;
	char *path;
	struct ctl_conn *conns;
};

struct verify_slice {
	uv_work_t work;
	struct ctl_conn *conn;
	uint8_t lo, hi;
	uint64_t checked, failed;
	uint8_t (*ids)[32];
	size_t nids;
};

struct ctl_conn {
	uv_pipe_t pipe;
	struct control *ctl;
	struct ctl_conn *next, **prevp;
	uint8_t *buf;
	size_t len, cap;
	Lcf__CtlRequest *req;       /* the request being served */
	int ops;                    /* callbacks still to come that use conn */
	int serving;                /* serve_next's loop is running */
	int reading;                /* uv_read_start is in force */
	int ending;                 /* the last answer is on its way: serve no
	                             * more requests */
	int closed;
	/* import: the session this connection feeds (it holds one of ops) */
	struct import *import;
	/* export: the authors to walk (none: every author), one at a time */
	uint8_t cursor[STORE_CURSOR_MAX];
	size_t cursor_len;
	int export_deleted;
	uint32_t export_kinds;
	uint8_t export_line[LINEAGE_MAX][32];
	size_t export_nline, export_at;
	/* verify */
	struct verify_slice vslices[VERIFY_SLICES];
	int vpending;
};

struct write_req {
	uv_write_t req;
	struct ctl_conn *conn;
	uint8_t *data;
	int then;                   /* SEND_THEN_*: what to do once written */
};

enum {
	SEND_THEN_NOTHING,
	SEND_THEN_EXPORT,           /* produce the next export chunk */
	SEND_THEN_CLOSE,            /* the answer ends the connection */
};

/* One callback fewer that uses c; 1 when c is gone (then do nothing). */
int conn_op_end(struct ctl_conn *c);
/* Queues resp (packed here) on c; then is a SEND_THEN_ value. */
void send_resp(struct ctl_conn *c, Lcf__CtlResponse *resp, int then);
/* Queues an error answer with code and a message for a person. */
void send_error(struct ctl_conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The request has been answered: frees it and serves the next one. */
void request_done(struct ctl_conn *c);
/* A city id or prefix given by a person to a full id; answers the error itself
 * and returns -1 when it does not resolve. */
int resolve_city(struct ctl_conn *c, const char *hex, uint8_t author[32]);

/* ctlfed.c: each answers c's request (one response, then request_done). */
void ctl_peer_add(struct ctl_conn *c);
void ctl_peer_remove(struct ctl_conn *c);
void ctl_peer_list(struct ctl_conn *c);
void ctl_peer_sync(struct ctl_conn *c);
void ctl_city_list(struct ctl_conn *c);
void ctl_submit(struct ctl_conn *c);
void ctl_members(struct ctl_conn *c);

#endif
