// SPDX-License-Identifier: Apache-2.0
// lcctl's command-line plumbing shared by every command: dispatch to a table,
// usage, messages, options and strict numbers.
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "lcctl.h"

void
lcctl_print_table(FILE *out, const struct lcctl_cmd *cmds, size_t n)
{
	size_t i, w = 0;

	for (i = 0; i < n; i++)
		if (strlen(cmds[i].name) > w)
			w = strlen(cmds[i].name);
	for (i = 0; i < n; i++)
		fprintf(out, "  %-*s  %s\n", (int)w, cmds[i].name, cmds[i].help);
}

static int
group_usage(const struct lcctl *ctx, const struct lcctl_cmd *cmds, size_t n,
    int status)
{
	FILE *out = status == LCCTL_EXIT_OK ? stdout : stderr;
	const char *group = ctx->name;

	if (strncmp(group, "lcctl ", 6) == 0)
		group += 6;
	fprintf(out, "Usage: lcctl [-d DIR] %s COMMAND [ARGS...]\n\nCommands:\n",
	    group);
	lcctl_print_table(out, cmds, n);
	fprintf(out, "\nRun '%s COMMAND -h' for the arguments of a command.\n",
	    ctx->name);
	return status;
}

/* Calls a command with its own name as argv[0], so that getopt's messages and
 * ours name the whole command, and getopt starts afresh. */
int
lcctl_run(struct lcctl *ctx, const struct lcctl_cmd *cmd, const char *prefix,
    int argc, char **argv)
{
	int n;

	/* Names come from the command tables and always fit. */
	n = snprintf(ctx->name, sizeof(ctx->name), "%s %s", prefix, cmd->name);
	if (n < 0 || (size_t)n >= sizeof(ctx->name))
		snprintf(ctx->name, sizeof(ctx->name), "lcctl");
	argv[0] = ctx->name;
	optind = 0;
	return cmd->fn(ctx, argc, argv);
}

const struct lcctl_cmd *
lcctl_find(const struct lcctl_cmd *cmds, size_t n, const char *name)
{
	const struct lcctl_cmd *found = NULL;
	size_t i;

	for (i = 0; i < n && found == NULL; i++)
		if (strcmp(cmds[i].name, name) == 0)
			found = &cmds[i];
	return found;
}

int
lcctl_dispatch(struct lcctl *ctx, const struct lcctl_cmd *cmds, size_t n,
    int argc, char **argv)
{
	const struct lcctl_cmd *cmd;
	char group[sizeof(ctx->name)];
	int ret;

	snprintf(group, sizeof(group), "%s", ctx->name);
	if (argc < 2) {
		ret = group_usage(ctx, cmds, n, LCCTL_EXIT_USAGE);
		goto out;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		ret = group_usage(ctx, cmds, n, LCCTL_EXIT_OK);
		goto out;
	}
	if ((cmd = lcctl_find(cmds, n, argv[1])) == NULL) {
		fprintf(stderr, "%s: unknown command '%s'\n", group, argv[1]);
		ret = group_usage(ctx, cmds, n, LCCTL_EXIT_USAGE);
		goto out;
	}
	ret = lcctl_run(ctx, cmd, group, argc - 1, argv + 1);
out:
	return ret;
}

int
lcctl_usage(const char *usage, int status)
{
	fputs(usage, status == LCCTL_EXIT_OK ? stdout : stderr);
	return status;
}

int
lcctl_bad_usage(const struct lcctl *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", ctx->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun '%s -h' for usage.\n", ctx->name);
	return LCCTL_EXIT_USAGE;
}

void
lcctl_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%slcctl: ", log_err_prefix());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
lcctl_need_dir(const struct lcctl *ctx)
{
	int ret = LCCTL_EXIT_OK;

	if (ctx->dir == NULL) {
		lcctl_err("no data directory: pass -d DIR or set LCF_DIR (the "
		    "default, " LCCTL_SYSTEM_DIR ", does not exist)");
		ret = LCCTL_EXIT_USAGE;
	}
	return ret;
}

int
lcctl_common_opt(int c, const char *usage)
{
	int ret = -1;

	if (c == 'h')
		ret = lcctl_usage(usage, LCCTL_EXIT_OK);
	else if (c == '?' || c == ':')
		ret = lcctl_usage(usage, LCCTL_EXIT_USAGE);
	return ret;
}

int
lcctl_simple_opts(struct lcctl *ctx, int argc, char **argv, const char *usage,
    int json)
{
	static const struct option with_json[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret = -1;

	while (ret < 0 && (c = getopt_long(argc, argv, "h",
	    json ? with_json : with_json + 1, NULL)) != -1) {
		if (c == 'j')
			ctx->json = 1;
		else
			ret = lcctl_common_opt(c, usage);
	}
	return ret;
}

int
lcctl_list_opts(struct lcctl *ctx, int argc, char **argv, const char *usage)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret = -1;

	while (ret < 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			ctx->json = 1;
		else if (c == 'v')
			ctx->csv = 1;
		else
			ret = lcctl_common_opt(c, usage);
	}
	if (ret < 0 && ctx->json && ctx->csv)
		ret = lcctl_bad_usage(ctx, "give --json or --csv, not both");
	return ret;
}

int
lcctl_view_opts(struct lcctl *ctx, int argc, char **argv, const char *usage,
    const struct lcctl_viewopt *opts, size_t n, int csv, json_t *args)
{
	enum { OPT_JSON = 'j', OPT_CSV = 'v', OPT_TABLE = 256 };
	struct option *lo = xcalloc(n + 4, sizeof(*lo));
	const struct lcctl_viewopt *o;
	size_t i, k = 0;
	int c, ret = -1;

	for (i = 0; i < n; i++)
		lo[k++] = (struct option){ opts[i].opt, opts[i].has_arg ?
		    required_argument : no_argument, NULL, OPT_TABLE + (int)i };
	lo[k++] = (struct option){ "json", no_argument, NULL, OPT_JSON };
	if (csv)
		lo[k++] = (struct option){ "csv", no_argument, NULL, OPT_CSV };
	lo[k] = (struct option){ "help", no_argument, NULL, 'h' };
	while (ret < 0 && (c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c >= OPT_TABLE && c < OPT_TABLE + (int)n) {
			o = &opts[c - OPT_TABLE];
			json_object_set_new(args, o->member != NULL ? o->member :
			    o->opt, json_string(o->has_arg ? optarg : o->value !=
			    NULL ? o->value : "true"));
		} else if (c == OPT_JSON) {
			ctx->json = 1;
		} else if (c == OPT_CSV) {
			ctx->csv = 1;
		} else {
			ret = lcctl_common_opt(c, usage);
		}
	}
	free(lo);
	if (ret < 0 && (ret = lcctl_args(ctx, argc, argv, NULL, NULL)) ==
	    LCCTL_EXIT_OK)
		ret = -1;
	return ret;
}

int
lcctl_args(const struct lcctl *ctx, int argc, char **argv, const char *what,
    const char *usage)
{
	int ret = LCCTL_EXIT_OK;

	if (what == NULL && optind < argc) {
		ret = lcctl_bad_usage(ctx, "unexpected argument '%s'", argv[optind]);
	} else if (what != NULL && argc - optind != 1) {
		fprintf(stderr, "%s: give one %s\n", ctx->name, what);
		ret = lcctl_usage(usage, LCCTL_EXIT_USAGE);
	} else if (ctx->json && ctx->csv) {
		ret = lcctl_bad_usage(ctx, "give --json or --csv, not both");
	} else {
		ret = lcctl_need_dir(ctx);
	}
	return ret;
}

/* strto* accept leading blanks and signs that a strict parser must not. */
static int
plain_number(const char *s)
{
	return s[0] != '\0' && s[0] != ' ' && s[0] != '\t' && s[0] != '\n' &&
	    s[0] != '+';
}

int
lcctl_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	int ret = LCF_EINVAL;
	unsigned long long v;
	char *end;

	if (!plain_number(s) || s[0] == '-')
		goto out;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		goto out;
	*out = v;
	ret = 0;
out:
	return ret;
}

int
lcctl_parse_i64(const char *s, int64_t *out)
{
	int ret = LCF_EINVAL;
	long long v;
	char *end;

	if (!plain_number(s))
		goto out;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		goto out;
	*out = v;
	ret = 0;
out:
	return ret;
}

int
lcctl_parse_double(const char *s, double *out)
{
	int ret = LCF_EINVAL;
	char *end;
	double v;

	if (!plain_number(s))
		goto out;
	v = strtod(s, &end);
	if (*end != '\0' || !isfinite(v))
		goto out;
	*out = v;
	ret = 0;
out:
	return ret;
}
