/* SPDX-License-Identifier: Apache-2.0 */
/* Views: what people read that is worked out from the store and the node's
 * state (coverage, ...), as JSON, the same for lcctl (the admin socket's View
 * request) and the HTTP API. One table (view.c) lists them. */
#ifndef LCF_VIEW_H
#define LCF_VIEW_H

#include <stddef.h>

#include <jansson.h>

struct node;

/* Why a view gave no answer: status as in HTTP (400 a bad argument, 404
 * nothing by that id, 500 the store), the argument at fault, a sentence. */
struct view_error {
	int status;
	char param[64];
	char msg[512];
};

/* Who asks, as the caller vouches (never from the arguments): */
enum {
	VIEW_OPERATOR = 1 << 0,      /* may see operator data */
	VIEW_PERSONAL = 1 << 1,      /* may see contact names and addresses */
};

/* args: a JSON object of the view's arguments, each a string or an array of
 * strings (a repeated parameter); flags: VIEW_* of the caller; *out a new
 * reference on success. 0, or a negative code with e filled. */
typedef int (*view_fn)(struct node *n, const json_t *args, unsigned flags,
    json_t **out, struct view_error *e);

/* A view's asynchronous first step (may be NULL): 1 when these arguments
 * need nothing first; 0 when it started work and will call ready(arg) once,
 * from the loop, when the view can be run; a negative code with e filled
 * for a bad argument (nothing started). */
typedef void (*view_ready_cb)(void *arg);
typedef int (*view_prepare_fn)(struct node *n, const json_t *args,
    view_ready_cb ready, void *arg, struct view_error *e);

/* A view that writes its answer as JSON text itself, instead of a tree
 * that is then dumped (the large ones: a tree of a coverage matrix costs
 * more to build, dump and free than the matrix costs to work out). indent:
 * two spaces a level, else compact. *text (malloc'd, NUL-ended) and *len on
 * success; UTF-8 as it is (never \u-escaped beyond what JSON requires). */
typedef int (*view_text_fn)(struct node *n, const json_t *args,
    unsigned flags, int indent, char **text, size_t *len,
    struct view_error *e);

struct view_def {
	const char *name;                 /* "coverage" */
	view_fn fn;                       /* NULL: the tree parsed from text */
	const char *const *params;        /* the arguments it takes, NULL-ended */
	view_prepare_fn prepare;          /* NULL: synchronous */
	view_text_fn text;                /* NULL: the tree, dumped */
};

/* The view called name, or NULL. */
const struct view_def *view_find(const char *name);
/* The i-th view of the table, or NULL past the end. */
const struct view_def *view_at(size_t i);
/* Runs a view: refuses an argument it does not take (400 naming it). */
int view_run(struct node *n, const char *name, const json_t *args,
    unsigned flags, json_t **out, struct view_error *e);
/* The same answer as JSON text (what the admin socket and the HTTP API
 * send): the view's own writer when it has one, else its tree dumped
 * (indent: two spaces a level, else compact). *text is malloc'd. */
int view_run_text(struct node *n, const char *name, const json_t *args,
    unsigned flags, int indent, char **text, size_t *len,
    struct view_error *e);

/* What a caller does before view_run, to answer later (an admin request or
 * an HTTP request held open, the loop free meanwhile): 1 when view_run may
 * answer now (also for a view without a first step, or an unknown one,
 * which view_run then refuses); 0 when ready(arg) will be called once, from
 * the loop, and view_run with the same arguments answers then; a negative
 * code with e filled for a bad argument. */
int view_prepare(struct node *n, const char *name, const json_t *args,
    view_ready_cb ready, void *arg, struct view_error *e);

/* Helpers for views (args.c, the lowest file of view/; view.c is the top). view_arg: the argument's string (the first of
 * an array), or NULL. view_arg_bool: absent false; "true"/"1"/"" true;
 * "false"/"0" false; else 400. view_fail: fills e, returns code. */
const char *view_arg(const json_t *args, const char *name);
int view_arg_bool(const json_t *args, const char *name, int *out,
    struct view_error *e);
int view_fail(struct view_error *e, int code, int status, const char *param,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The views, each in its own file. */
int view_coverage_text(struct node *n, const json_t *args, unsigned flags,
    int indent, char **text, size_t *len, struct view_error *e);
int view_city(struct node *n, const json_t *args, unsigned flags,
    json_t **out, struct view_error *e);
int view_report(struct node *n, const json_t *args, unsigned flags,
    json_t **out, struct view_error *e);
int view_partners(struct node *n, const json_t *args, unsigned flags,
    json_t **out, struct view_error *e);
int view_fedstatus(struct node *n, const json_t *args, unsigned flags,
    json_t **out, struct view_error *e);
/* federation_status's first step: with measure=true, measures the linked
 * peers (net/measure.h). */
int view_fedstatus_prepare(struct node *n, const json_t *args,
    view_ready_cb ready, void *arg, struct view_error *e);

/* Per catalog indicator and period: cities reporting a total (not
 * disaggregated) value, their median, min and max (summary.c). */
int view_summary(struct node *n, const json_t *args, unsigned flags,
    json_t **out, struct view_error *e);

#endif
