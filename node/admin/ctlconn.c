// SPDX-License-Identifier: Apache-2.0
// The admin socket's connections: their life (closing, the callbacks still to
// come) and the answers written on them. Below control.c (the server and the
// record requests) and ctlfed.c (the federation requests), which both answer
// through it; what it needs of the server it gets as callbacks in struct
// control, so it calls neither.
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include "admin/ctlint.h"
#include "base/error.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "core/node.h"
#include "store/store.h"
#include "wire/ctlwire.h"
#include "write/import.h"

/* ---- connection life ---- */

static void
client_free(struct ctl_conn *c)
{
	if (c->req != NULL)
		lcf__ctl_request__free_unpacked(c->req, NULL);
	free(c->buf);
	free(c);
}

static void
client_closed(uv_handle_t *h)
{
	struct ctl_conn *c = h->data;

	c->closed = 2;
	if (c->ops == 0)
		client_free(c);
}

void
ctlconn__close(struct ctl_conn *c)
{
	if (c->closed)
		return;
	c->closed = 1;
	c->ctl->out_freed += c->queued;
	c->ctl->out_queued -= c->queued;
	c->queued = 0;
	c->ctl->gone(c);
	/* A client that leaves mid-import stores nothing. */
	if (c->import != NULL) {
		import_abort(c->import);
		c->import = NULL;
		c->ops--;
	}
	if (c->prevp != NULL) {
		*c->prevp = c->next;
		if (c->next != NULL)
			c->next->prevp = c->prevp;
		c->prevp = NULL;
	}
	uv_close((uv_handle_t *)&c->pipe, client_closed);
}

int
ctlconn__op_end(struct ctl_conn *c)
{
	c->ops--;
	if (c->closed) {
		if (c->ops == 0 && c->closed == 2)
			client_free(c);
		return 1;
	}
	return 0;
}

/* ---- responses ---- */

static void
write_done(uv_write_t *w, int status)
{
	struct write_req *wr = (struct write_req *)w;
	struct ctl_conn *c = wr->conn;
	struct control *ctl = c->ctl;
	int then = wr->then, was_full;
	size_t len = wr->len;

	free(wr->data);
	free(wr);
	/* A closed client's answers left the accounts at its close (and the
	 * server may be gone by now, at the node's stop). */
	if (ctlconn__op_end(c))
		return;
	was_full = ctl->out_queued > CTL_OUT_TOTAL;
	ctl->out_freed += len;
	ctl->out_queued -= len;
	c->queued -= len;
	c->last_out = uv_now(ctl->n->loop);
	if (was_full && ctl->out_queued <= CTL_OUT_TOTAL)
		ctl->resume(ctl);
	if (status < 0 || then == SEND_THEN_CLOSE) {
		ctlconn__close(c);
		return;
	}
	if (then == SEND_THEN_EXPORT)
		c->ctl->export_next(c);
}

void
ctlconn__send(struct ctl_conn *c, Lcf__CtlResponse *resp, int then)
{
	struct write_req *wr;
	uv_buf_t b;
	size_t len;
	uint8_t *data;

	resp->has_version = 1;
	resp->version = CTL_VERSION;
	if (ctlwire_pack(&resp->base, &data, &len) != 0) {
		Lcf__CtlResponse small = LCF__CTL_RESPONSE__INIT;

		small.has_error = 1;
		small.error = LCF_ETOOBIG;
		small.message = "the answer is too large for one message: narrow the query";
		small.has_version = 1;
		small.version = CTL_VERSION;
		if (then == SEND_THEN_EXPORT)
			then = SEND_THEN_NOTHING;
		if (ctlwire_pack(&small.base, &data, &len) != 0)
			return;
	}
	wr = xcalloc(1, sizeof(*wr));
	wr->conn = c;
	wr->data = data;
	/* Counted as the memory it holds (a large frame's huge pages round it
	 * up), so that CTL_OUT_TOTAL bounds memory, not bytes. */
	wr->len = malloc_usable_size(data);
	wr->then = then;
	b = uv_buf_init((char *)data, (unsigned)len);
	c->ops++;
	/* Counted until written (write_done): the stall timeout runs from
	 * now when nothing was waiting. */
	if (c->queued == 0)
		c->last_out = uv_now(c->ctl->n->loop);
	c->queued += wr->len;
	c->ctl->out_queued += wr->len;
	if (uv_write(&wr->req, (uv_stream_t *)&c->pipe, &b, 1, write_done) != 0) {
		c->queued -= wr->len;
		c->ctl->out_queued -= wr->len;
		c->ops--;
		free(data);
		free(wr);
		ctlconn__close(c);
	}
}

void
ctlconn__error(struct ctl_conn *c, int code, const char *fmt, ...)
{
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	resp.has_error = 1;
	resp.error = code;
	resp.message = msg;
	ctlconn__send(c, &resp, 0);
}

void
ctlconn__done(struct ctl_conn *c)
{
	if (c->req != NULL)
		lcf__ctl_request__free_unpacked(c->req, NULL);
	c->req = NULL;
	c->ctl->serve(c);
}

int
ctlconn__resolve_city(struct ctl_conn *c, const char *hex, uint8_t author[32])
{
	int rc;

	if (!hex_is_prefix(hex)) {
		ctlconn__error(c, LCF_EINVAL, "'%s' is not a city id: expected hex "
		    "digits", hex);
		return LCF_EINVAL;
	}
	rc = store_resolve_author(c->ctl->n->store, hex, author);
	if (rc == LCF_ENOTFOUND)
		ctlconn__error(c, rc, "no city with id '%s' is known here", hex);
	else if (rc == LCF_EAMBIGUOUS)
		ctlconn__error(c, rc, "city id prefix '%s' matches several cities: give more "
		    "digits", hex);
	else if (rc != 0)
		ctlconn__error(c, rc, "cannot look up city '%s': %s", hex, lcf_strerror(rc));
	return rc;
}
