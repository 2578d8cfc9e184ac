// SPDX-License-Identifier: Apache-2.0
// What every view shares: its arguments and its errors (the lowest of view/).
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "view/view.h"

int
view_fail(struct view_error *e, int code, int status, const char *param,
    const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	snprintf(e->param, sizeof(e->param), "%s", param != NULL ? param : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

const char *
view_arg(const json_t *args, const char *name)
{
	const json_t *v = json_object_get(args, name);

	if (json_is_array(v))
		v = json_array_get(v, 0);
	return json_string_value(v);
}

int
view_arg_bool(const json_t *args, const char *name, int *out,
    struct view_error *e)
{
	const char *v = view_arg(args, name);

	*out = 0;
	if (v == NULL || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return 0;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || *v == '\0') {
		*out = 1;
		return 0;
	}
	return view_fail(e, LCF_EINVAL, 400, name, "%s: expected true or false",
	    name);
}
