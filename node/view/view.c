// SPDX-License-Identifier: Apache-2.0
// The table of views and what every view shares: arguments and errors.
#include <stdarg.h>
#include <stdio.h>
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
	{ "coverage", view_coverage, coverage_params, NULL },
	{ "city", view_city, city_params, NULL },
	{ "report", view_report, report_params, NULL },
	{ "partners", view_partners, partners_params, NULL },
	{ "federation_status", view_fedstatus, fedstatus_params,
	    view_fedstatus_prepare },
	{ "indicator_summary", view_summary, summary_params, NULL },
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

int
view_run(struct node *n, const char *name, const json_t *args,
    unsigned flags, json_t **out, struct view_error *e)
{
	const struct view_def *v = view_find(name);
	const char *k;
	json_t *val;
	size_t i;

	*out = NULL;
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
	return v->fn(n, args, flags, out, e);
}
