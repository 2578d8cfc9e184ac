/* SPDX-License-Identifier: Apache-2.0 */
/* Admin-socket internals shared by ctlconn.c (connections, answers), control.c
 * (the server, records) and ctlfed.c (peers, cities, members): not part of the
 * node's API. */
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
struct verify_walk;

/* What the admin socket lets its clients make the node hold (ctlbound.c):
 * the node's own user only, but a stuck or runaway script must not take
 * the node down. */
#define CTL_CONNS_MAX		256		/* clients at once */
#define CTL_SMALL_MAX		(1u << 20)	/* a request's frame, unless it
						 * is the one large one */
#define CTL_SMALL_TOTAL		(32u << 20)	/* all small frames being read */
#define CTL_OUT_TOTAL		(64u << 20)	/* answers queued to clients:
						 * past it, no new request is
						 * served until it drains */
#define CTL_PART_TIMEOUT_MS	10000		/* part of a frame, then silence */
#define CTL_WAIT_TIMEOUT_MS	30000		/* held back for room that long */
#define CTL_STALL_TIMEOUT_MS	30000		/* an answer not read that long */
#define CTL_IDLE_TIMEOUT_MS	300000		/* nothing asked that long */
#define CTL_FRAME_TIMEOUT_MS	60000		/* one request sent that long */
#define CTL_TRIM_BYTES		(16u << 20)	/* answers freed: then trim */
#define CTL_EVICT_MS		2000		/* an answer unread that long
						 * gives way to new requests */

struct control {
	struct node *n;
	uv_pipe_t server;
	char *path;
	struct ctl_conn *conns;
	size_t nconns;
	/* ctlbound.c's accounts: input buffers of clients reading a small
	 * frame; the one client reading a large one (NULL: none); answers
	 * queued (ctlconn.c keeps it); its timer; the handles still to close
	 * before the struct goes (the server, the timer). */
	size_t small_held;
	struct ctl_conn *big;
	size_t out_queued;
	size_t out_freed;            /* answers freed since the last trim */
	uv_timer_t sweep;
	int handles;
	/* The server's steps that ctlconn.c starts: serve the next buffered
	 * request; produce the next export chunk (control.c sets both). */
	void (*serve)(struct ctl_conn *c);
	void (*export_next)(struct ctl_conn *c);
	/* ctlbound.c's, for ctlconn.c: a client closing; answers drained
	 * below CTL_OUT_TOTAL. control.c's, for ctlbound.c: reading a
	 * client's requests. */
	void (*gone)(struct ctl_conn *c);
	void (*resume)(struct control *ctl);
	uv_alloc_cb alloc;
	uv_read_cb read;
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
	/* ctlbound.c: cap as counted in small_held (0 for the big one);
	 * reading held back for room since (0: not held); the last bytes
	 * read, the last answer written or asked for (monotonic ms). */
	size_t counted;
	int admitted;               /* counted among the clients */
	uint64_t held_since, last_in, last_out;
	uint64_t frame_start;       /* the first bytes of a frame (0: none) */
	size_t queued;              /* bytes of answers not yet written */
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
	struct verify_walk *vwalk;  /* verify --deep: the walk (control.c) */
};

struct write_req {
	uv_write_t req;
	struct ctl_conn *conn;
	uint8_t *data;
	size_t len;
	int then;                   /* SEND_THEN_*: what to do once written */
};

enum {
	SEND_THEN_NOTHING,
	SEND_THEN_EXPORT,           /* produce the next export chunk */
	SEND_THEN_CLOSE,            /* the answer ends the connection */
};

/* ctlconn.c: the connections and their answers (calls neither control.c
 * nor ctlfed.c). ctlconn__op_end: one callback fewer that uses c; 1 when c is
 * gone (then do nothing). ctlconn__close: closes c (its import, if any, is
 * abandoned); its memory goes once the callbacks still to come have run.
 * ctlconn__send queues resp (packed here) on c; then is a SEND_THEN_ value.
 * ctlconn__error queues an error answer with code and a message for a person.
 * ctlconn__done: the request has been answered: frees it and serves the next
 * one (ctl->serve). ctlconn__resolve_city: a city id or prefix given by a
 * person to a full id; answers the error itself and returns it (0 or a
 * negative code). */
int ctlconn__op_end(struct ctl_conn *c);
void ctlconn__close(struct ctl_conn *c);
void ctlconn__send(struct ctl_conn *c, Lcf__CtlResponse *resp, int then);
void ctlconn__error(struct ctl_conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ctlconn__done(struct ctl_conn *c);
int ctlconn__resolve_city(struct ctl_conn *c, const char *hex, uint8_t author[32]);

/* ctlbound.c (above ctlconn.c, below control.c): ctlbound__start starts
 * the sweep (timeouts, once a second); ctlbound__stop closes it and calls
 * closed(ctl) once it is (the struct may go then).
 * ctlbound__accept: 0 when another client may connect, else closes it.
 * ctlbound__read: after bytes were read into c's buffer; 0 to go on, 1 when
 * c now waits for room (its reading stopped: the bytes wait in the socket)
 * or was closed. ctlbound__took: c's buffer changed size (a frame taken, a
 * buffer given back); ctlbound__gone: c is closing, its accounts go.
 * ctlbound__may_serve: whether a new request may be served now: answers
 * queued below CTL_OUT_TOTAL, if need be after closing the clients that
 * left theirs unread longest (CTL_EVICT_MS at least). ctlbound__resume: room was made: reading
 * and serving start again where they were held back. */
void ctlbound__start(struct control *ctl);
void ctlbound__stop(struct control *ctl, uv_close_cb closed);
int ctlbound__accept(struct ctl_conn *c);
int ctlbound__read(struct ctl_conn *c);
void ctlbound__took(struct ctl_conn *c);
void ctlbound__gone(struct ctl_conn *c);
int ctlbound__may_serve(struct control *ctl);
void ctlbound__resume(struct control *ctl);

/* ctlsafe.c (above ctlconn.c): ctlsafe__backup answers a BackupRequest
 * (the copy runs in the pool); ctlsafe__restore_done a RestoreDoneRequest;
 * ctlsafe__restore_status fills rs (msg and pg hold what it points to and
 * must live as long); ctlsafe__publish_refused is 1, with msg saying why and
 * until when, while the node restores (local publishing is refused). */
struct restwatch_progress;
void ctlsafe__backup(struct ctl_conn *c);
void ctlsafe__restore_done(struct ctl_conn *c);
void ctlsafe__restore_status(struct node *n, Lcf__RestoreStatus *rs,
    char *msg, size_t msglen, struct restwatch_progress *pg);
int ctlsafe__publish_refused(struct node *n, char *msg, size_t len);

/* ctlfed.c: each answers c's request (one response, then ctlconn__done). */
void ctlfed__peer_add(struct ctl_conn *c);
void ctlfed__peer_remove(struct ctl_conn *c);
void ctlfed__peer_list(struct ctl_conn *c);
void ctlfed__peer_sync(struct ctl_conn *c);
void ctlfed__city_list(struct ctl_conn *c);
void ctlfed__submit(struct ctl_conn *c);
void ctlfed__members(struct ctl_conn *c);
void ctlfed__health(struct ctl_conn *c);

#endif
