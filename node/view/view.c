// SPDX-License-Identifier: Apache-2.0
// The table of views and what every view shares: arguments and errors.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "view/view.h"

static const char *const coverage_params[] = { "period", "indicator", "missing",
	"values", NULL };
static const char *const city_params[] = { "id", NULL };
static const char *const report_params[] = { "id", "from", "to", "format",
	NULL };
static const char *const partners_params[] = { "area", "limit", NULL };

static const char *const fedstatus_params[] = { "measure", NULL };
static const char *const summary_params[] = { "indicator", "period", NULL };

static const struct view_def views[] = {
	{ "coverage", NULL, coverage_params, NULL, view_coverage_text },
	{ "city", view_city, city_params, NULL, NULL },
	{ "report", view_report, report_params, NULL, NULL },
	{ "partners", view_partners, partners_params, NULL, NULL },
	{ "federation_status", view_fedstatus, fedstatus_params,
	    view_fedstatus_prepare, NULL },
	{ "indicator_summary", view_summary, summary_params, NULL, NULL },
};

const struct view_def *
view_at(size_t i)
{
	return i < sizeof(views) / sizeof(views[0]) ? &views[i] : NULL;
}

const struct view_def *
view_find(const char *name)
{
	const struct view_def *v;
	size_t i;

	for (i = 0; (v = view_at(i)) != NULL; i++)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

int
view_prepare(struct node *n, const char *name, const json_t *args,
    view_ready_cb ready, void *arg, struct view_error *e)
{
	const struct view_def *v = view_find(name);

	memset(e, 0, sizeof(*e));
	if (v == NULL || v->prepare == NULL || !json_is_object(args))
		return 1;
	return v->prepare(n, args, ready, arg, e);
}

/* Refuses an argument v does not take, or one that is not text. */
static int
check_args(const struct view_def *v, const char *name, const json_t *args,
    struct view_error *e)
{
	const char *k;
	json_t *val;
	size_t i;

	memset(e, 0, sizeof(*e));
	if (v == NULL)
		return view_fail(e, LCF_ENOTFOUND, 404, NULL, "no view '%s'", name);
	if (!json_is_object(args))
		return view_fail(e, LCF_EINVAL, 400, NULL, "a view's arguments are a "
		    "JSON object");
	json_object_foreach((json_t *)args, k, val) {
		for (i = 0; v->params[i] != NULL; i++)
			if (strcmp(v->params[i], k) == 0)
				break;
		if (v->params[i] == NULL)
			return view_fail(e, LCF_EINVAL, 400, k, "unknown parameter "
			    "'%s' for %s", k, v->name);
		if (!json_is_string(val) && !json_is_array(val))
			return view_fail(e, LCF_EINVAL, 400, k, "%s: expected text", k);
	}
	return 0;
}

int
view_run(struct node *n, const char *name, const json_t *args,
    unsigned flags, json_t **out, struct view_error *e)
{
	const struct view_def *v = view_find(name);
	json_error_t je;
	char *text;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = check_args(v, name, args, e)) != 0)
		return rc;
	if (v->fn != NULL)
		return v->fn(n, args, flags, out, e);
	if ((rc = v->text(n, args, flags, 0, &text, &len, e)) != 0)
		return rc;
	*out = json_loadb(text, len, 0, &je);
	free(text);
	if (*out == NULL)
		return view_fail(e, LCF_EIO, 500, NULL, "%s: the answer "
		    "written is not JSON: %s", name, je.text);
	return 0;
}

int
view_run_text(struct node *n, const char *name, const json_t *args,
    unsigned flags, int indent, char **text, size_t *len,
    struct view_error *e)
{
	const struct view_def *v = view_find(name);
	json_t *out;
	int rc;

	*text = NULL;
	*len = 0;
	if ((rc = check_args(v, name, args, e)) != 0)
		return rc;
	if (v->text != NULL)
		return v->text(n, args, flags, indent, text, len, e);
	if ((rc = v->fn(n, args, flags, &out, e)) != 0)
		return rc;
	*text = json_dumps(out, indent ? JSON_INDENT(2) : JSON_COMPACT);
	json_decref(out);
	if (*text == NULL)
		return view_fail(e, LCF_ENOMEM, 500, NULL, "%s: the answer cannot "
		    "be written", name);
	*len = strlen(*text);
	return 0;
}
