// SPDX-License-Identifier: Apache-2.0
// lcctl's requests to the node over DIR/admin.sock; node errors become one printed line.
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "wire/ctlwire.h"
#include "base/error.h"
#include "lcctl.h"
#include "base/util.h"
#include "base/xmalloc.h"

/* The node answers only the user it runs as (SO_PEERCRED; root is no
 * exception): when the admin socket, or else the directory, belongs to
 * another user, says whom to run lcctl as. 0, or LCF_EPERM after saying it. */
static int
check_owner(const char *dir)
{
	char path[PATH_MAX];
	struct passwd *pw;
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, CTL_SOCKET_NAME);
	if ((stat(path, &st) != 0 && stat(dir, &st) != 0) || st.st_uid == geteuid())
		return 0;
	if ((pw = getpwuid(st.st_uid)) != NULL)
		lcctl_err("the node of %s answers only its own user, %s: run "
		    "`sudo -u %s lcctl ...`", dir, pw->pw_name, pw->pw_name);
	else
		lcctl_err("the node of %s answers only its own user, uid %u: run "
		    "lcctl as that user", dir, (unsigned)st.st_uid);
	return LCF_EPERM;
}

int
client_open(const struct lcctl *ctx, struct client *c)
{
	char err[512];
	int fd;

	c->fd = -1;
	if ((fd = check_owner(ctx->dir)) != 0)
		return fd;
	fd = ctlwire_connect(ctx->dir, CONFIG_FILE_NAME, err, sizeof(err));
	if (fd < 0)
		lcctl_err("%s", err);
	else
		c->fd = fd;
	return fd < 0 ? fd : 0;
}

void
client_close(struct client *c)
{
	if (c == NULL || c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
}

int
client_send(struct client *c, Lcf__CtlRequest *req)
{
	int ret;

	ret = ctlwire_send(c->fd, req);
	if (ret == LCF_ETOOBIG)
		lcctl_err("the request is larger than the admin socket carries "
		    "(%u MiB): split the input", CTL_MAX_FRAME >> 20);
	else if (ret == LCF_ECLOSED)
		lcctl_err("lcnode closed the connection: see its log");
	else if (ret < 0)
		lcctl_err("cannot send to lcnode: %s", strerror(errno));
	return ret;
}

static void
print_recv_error(int err)
{
	switch (err) {
	case LCF_ECLOSED:
		lcctl_err("lcnode closed the connection before answering: see its log");
		break;
	case LCF_EVERSION:
		lcctl_err("lcnode answered in another admin protocol version (this "
		    "lcctl speaks %d): use the lcctl of lcnode's release", CTL_VERSION);
		break;
	case LCF_ETOOBIG:
		lcctl_err("lcnode sent an answer over %u MiB", CTL_MAX_FRAME >> 20);
		break;
	case LCF_EPROTO:
		lcctl_err("lcnode sent a malformed answer");
		break;
	case LCF_EIO:
		lcctl_err("cannot read from lcnode: %s", strerror(errno));
		break;
	default:
		lcctl_err("cannot read from lcnode: %s", lcf_strerror(err));
		break;
	}
}

int
client_recv(struct client *c, const struct client_origin *origin, unsigned flags,
    Lcf__CtlResponse **resp)
{
	Lcf__CtlResponse *r = NULL;
	const char *msg;
	int ret;

	*resp = NULL;
	if ((ret = ctlwire_recv(c->fd, &r)) < 0) {
		print_recv_error(ret);
		goto out;
	}
	if (r->has_error && r->error != 0) {
		/* Codes are negative by protocol; anything else is still a failure. */
		ret = r->error < 0 ? r->error : LCF_EPROTO;
		msg = r->message && r->message[0] ? r->message : lcf_strerror(ret);
		if (ret == LCF_ENOTFOUND && (flags & CLIENT_QUIET_NOTFOUND))
			goto out;
		if (origin != NULL && r->has_error_index && r->error_index >= 0 &&
		    (size_t)r->error_index < origin->n)
			origin->fn(origin->arg, r->error_index, r->error_field, msg);
		else
			lcctl_err("%s", msg);
		goto out;
	}
	*resp = r;
	r = NULL;
	ret = 0;
out:
	if (r != NULL)
		lcf__ctl_response__free_unpacked(r, NULL);
	return ret;
}

/* Moves the items of a later query chunk to the end of the first. */
static void
merge_query(Lcf__QueryReply *into, Lcf__QueryReply *from)
{
	size_t i;

	if (from == NULL)
		return;
	if (from->n_items > 0) {
		into->items = xreallocarray(into->items,
		    into->n_items + from->n_items, sizeof(*into->items));
		for (i = 0; i < from->n_items; i++)
			into->items[into->n_items++] = from->items[i];
		from->n_items = 0;
	}
	if (from->has_truncated && from->truncated) {
		into->has_truncated = 1;
		into->truncated = 1;
	}
}

static int
check_case(const Lcf__CtlResponse *r, Lcf__CtlResponse__ReplyCase expect)
{
	int ret = 0;

	if (expect != LCF__CTL_RESPONSE__REPLY__NOT_SET && r->reply_case != expect) {
		lcctl_err("lcnode sent an unexpected answer");
		ret = LCF_EPROTO;
	}
	return ret;
}

int
client_call(const struct lcctl *ctx, Lcf__CtlRequest *req,
    Lcf__CtlResponse__ReplyCase expect, const struct client_origin *origin,
    unsigned flags, Lcf__CtlResponse **resp)
{
	Lcf__CtlResponse *first = NULL, *next = NULL;
	struct client c = { -1 };
	int ret;

	*resp = NULL;
	if ((ret = client_open(ctx, &c)) < 0)
		goto out;
	if ((ret = client_send(&c, req)) < 0)
		goto out;
	if ((ret = client_recv(&c, origin, flags, &first)) < 0)
		goto out;
	if ((ret = check_case(first, expect)) < 0)
		goto out;
	/* A long query answer comes in chunks: gather them into one. */
	while (first->has_more && first->more &&
	    first->reply_case == LCF__CTL_RESPONSE__REPLY_QUERY) {
		if ((ret = client_recv(&c, origin, flags, &next)) < 0)
			goto out;
		if ((ret = check_case(next, LCF__CTL_RESPONSE__REPLY_QUERY)) < 0)
			goto out;
		merge_query(first->query, next->query);
		first->more = next->has_more && next->more;
		lcf__ctl_response__free_unpacked(next, NULL);
		next = NULL;
	}
	*resp = first;
	first = NULL;
	ret = 0;
out:
	if (first != NULL)
		lcf__ctl_response__free_unpacked(first, NULL);
	if (next != NULL)
		lcf__ctl_response__free_unpacked(next, NULL);
	client_close(&c);
	return ret;
}

int
client_get(const struct lcctl *ctx, const char *ref, Lcf__Kind kind,
    unsigned flags, Lcf__CtlResponse **resp)
{
	Lcf__GetRequest get = LCF__GET_REQUEST__INIT;
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__CtlResponse *r = NULL;
	int ret;

	*resp = NULL;
	get.ref = (char *)ref;
	if (kind != LCF__KIND__KIND_UNSPECIFIED) {
		get.has_kind = 1;
		get.kind = kind;
	}
	req.op_case = LCF__CTL_REQUEST__OP_GET;
	req.get = &get;
	if ((ret = client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY_QUERY, NULL,
	    flags, &r)) < 0)
		goto out;
	if (r->query == NULL || r->query->n_items == 0) {
		if (!(flags & CLIENT_QUIET_NOTFOUND))
			lcctl_err("no record matches '%s'", ref);
		ret = LCF_ENOTFOUND;
		goto out;
	}
	*resp = r;
	r = NULL;
	ret = 0;
out:
	if (r != NULL)
		lcf__ctl_response__free_unpacked(r, NULL);
	return ret;
}

int
client_status(const struct lcctl *ctx, Lcf__CtlResponse **resp)
{
	Lcf__StatusRequest st = LCF__STATUS_REQUEST__INIT;
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	int ret;

	req.op_case = LCF__CTL_REQUEST__OP_STATUS;
	req.status = &st;
	ret = client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY_STATUS, NULL, 0, resp);
	if (ret == 0 && (*resp)->status == NULL) {
		lcctl_err("lcnode sent an unexpected answer");
		lcf__ctl_response__free_unpacked(*resp, NULL);
		*resp = NULL;
		ret = LCF_EPROTO;
	}
	return ret;
}

int
client_item_content(const Lcf__RecordItem *it, Lcf__Content **c)
{
	int ret = LCF_EPROTO;

	*c = NULL;
	if (it == NULL || !it->has_id || it->id.len != LCF_ID_LEN ||
	    it->record == NULL || !it->record->has_content ||
	    it->record->content.len == 0)
		goto out;
	*c = lcf__content__unpack(NULL, it->record->content.len,
	    it->record->content.data);
	if (*c == NULL)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		lcctl_err("lcnode sent a malformed record");
	return ret;
}

int
client_query(const struct lcctl *ctx, Lcf__QueryRequest *q,
    Lcf__CtlResponse **resp, Lcf__Content ***contents)
{
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__Content **cs = NULL;
	size_t i, n = 0;
	int ret;

	*contents = NULL;
	req.op_case = LCF__CTL_REQUEST__OP_QUERY;
	req.query = q;
	if ((ret = client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY_QUERY, NULL, 0,
	    resp)) < 0)
		goto out;
	n = (*resp)->query->n_items;
	cs = xcalloc(n ? n : 1, sizeof(*cs));
	for (i = 0; i < n; i++)
		if ((ret = client_item_content((*resp)->query->items[i], &cs[i])) < 0)
			goto out;
	*contents = cs;
	cs = NULL;
	ret = 0;
out:
	client_contents_free(cs, n);
	if (ret < 0 && *resp != NULL) {
		lcf__ctl_response__free_unpacked(*resp, NULL);
		*resp = NULL;
	}
	return ret;
}

void
client_contents_free(Lcf__Content **contents, size_t n)
{
	size_t i;

	if (contents == NULL)
		return;
	for (i = 0; i < n; i++)
		if (contents[i] != NULL)
			lcf__content__free_unpacked(contents[i], NULL);
	free(contents);
}

/* The view's answer, indented when indent is set (and the node knows how). */
static int
view_call(const struct lcctl *ctx, const char *name, const json_t *args,
    int indent, Lcf__CtlResponse **resp)
{
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__ViewRequest vr = LCF__VIEW_REQUEST__INIT;
	char *text = json_dumps(args, JSON_COMPACT);
	int ret;

	vr.name = (char *)name;
	vr.args = text;
	vr.has_indent = indent;
	vr.indent = indent;
	req.op_case = LCF__CTL_REQUEST__OP_VIEW;
	req.view = &vr;
	ret = client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY_VIEW, NULL, 0, resp);
	if (ret == 0 && ((*resp)->view == NULL || (*resp)->view->json == NULL)) {
		lcctl_err("lcnode sent an unexpected answer");
		ret = LCF_EPROTO;
	}
	free(text);
	return ret;
}

int
client_view(const struct lcctl *ctx, const char *name, const json_t *args,
    json_t **out)
{
	Lcf__CtlResponse *resp = NULL;
	json_error_t je;
	int ret;

	*out = NULL;
	ret = view_call(ctx, name, args, 0, &resp);
	if (ret == 0 && (*out = json_loads(resp->view->json, 0, &je)) == NULL) {
		lcctl_err("lcnode sent an unexpected answer");
		ret = LCF_EPROTO;
	}
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret;
}

int
client_view_print(const struct lcctl *ctx, const char *name,
    const json_t *args)
{
	Lcf__CtlResponse *resp = NULL;
	json_error_t je;
	json_t *j;
	int ret;

	if ((ret = view_call(ctx, name, args, 1, &resp)) != 0)
		goto out;
	/* The node indented it as render_json would: written as it came, not
	 * parsed (a large answer's parse cost more than the view). */
	if (resp->view->has_indented && resp->view->indented) {
		fputs(resp->view->json, stdout);
		fputc('\n', stdout);
	} else if ((j = json_loads(resp->view->json, 0, &je)) != NULL) {
		render_json(j);
		json_decref(j);
	} else {
		lcctl_err("lcnode sent an unexpected answer");
		ret = LCF_EPROTO;
	}
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret;
}
