// SPDX-License-Identifier: Apache-2.0
// lcctl: the admin CLI of lcnode; its main, global options and the command table.
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "base/error.h"
#include "lcctl.h"
#include "model/release.h"

static const struct lcctl_cmd commands[] = {
	{ "init", cmd_init, "create a data directory: city key and lcnode.conf (offline)" },
	{ "status", cmd_status, "the node's city, database and counters" },
	{ "health", cmd_health, "ok, degraded or down, and why (exit 0, 1, 2)" },
	{ "city", cmd_city, "cities known (list) and this city's profile: show, set, import" },
	{ "practice", cmd_practice, "good practices: import, add, list, show, rm" },
	{ "indicator", cmd_indicator, "indicator values: set, import, list, rm, summary" },
	{ "catalog", cmd_catalog, "the indicator catalog in force: list" },
	{ "export", cmd_export, "every current record, one JSON object per line" },
	{ "verify", cmd_verify, "check the signature of every stored record" },
	{ "peer", cmd_peer, "peer cities: add, rm, list, sync" },
	{ "publish", cmd_publish, "publish signed records made elsewhere (admissions, ...)" },
	{ "key", cmd_key, "rotate the city key (a succession record signed by both keys)" },
	{ "members", cmd_members, "the federation's cities: admitted, revoked, reachable" },
	{ "federation", cmd_federation, "the secretariat's key: create, admit, revoke, catalog (offline)" },
	{ "coverage", cmd_coverage, "who reported which indicators for a period, and who did not" },
	{ "report", cmd_report, "a city's progress-report draft for a cycle (JSON, Markdown)" },
	{ "partners", cmd_partners, "cities that could help with this city's challenges, and why" },
	{ "http", cmd_http, "the HTTP face: token (offline)" },
	{ "backup", cmd_backup, "write a backup of the store and the key to FILE (0600)" },
	{ "compact", cmd_compact, "shrink a stopped node's store file (offline)" },
	{ "restore", cmd_restore, "end the wait after lcnode --restore: done" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static int
main_usage(int status)
{
	FILE *out = status == LCCTL_EXIT_OK ? stdout : stderr;

	fputs("Usage: lcctl [-d DIR] COMMAND [ARGS...]\n"
	    "       lcctl -h | --help | -V | --version\n"
	    "\n"
	    "Administers the lcnode of a Learning City Federation node through\n"
	    "DIR/admin.sock. Every command but init, federation and http needs the\n"
	    "node running.\n"
	    "\n"
	    "Options:\n"
	    "  -d DIR         the node's data directory (default: $LCF_DIR, else\n"
	    "                 " LCCTL_SYSTEM_DIR " when it exists: the packaged node,\n"
	    "                 which answers only its user: sudo -u lcf lcctl ...)\n"
	    "  -h, --help     show this help\n"
	    "  -V, --version  show the version and the peer protocols spoken\n"
	    "\n"
	    "Commands:\n", out);
	lcctl_print_table(out, commands, NCOMMANDS);
	fputs("\nRun 'lcctl COMMAND -h' for the arguments of a command.\n", out);
	return status;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		/* Not in the usage: the command names, one a line, for the
		 * bash completion (tools/lcctl.bash-completion). */
		{ "commands", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	struct lcctl ctx;
	const struct lcctl_cmd *cmd;
	const char *env;
	int c, ret = -1, flushed, saved;

	memset(&ctx, 0, sizeof(ctx));
	snprintf(ctx.name, sizeof(ctx.name), "lcctl");
	/* Width of non-ASCII text in tables; numbers stay in the C locale. */
	setlocale(LC_CTYPE, "");
	/* A reader that goes away (lcctl export | head) gives EPIPE, handled
	 * where output is written, instead of killing the process. */
	signal(SIGPIPE, SIG_IGN);
	if ((env = getenv("LCF_DIR")) != NULL && env[0] != '\0')
		ctx.dir = env;
	else if (access(LCCTL_SYSTEM_DIR, F_OK) == 0)
		ctx.dir = LCCTL_SYSTEM_DIR;
	/* "+": stop at the command, whose own options come after it. */
	while (ret < 0 && (c = getopt_long(argc, argv, "+d:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			ctx.dir = optarg;
			break;
		case 'h':
			ret = main_usage(LCCTL_EXIT_OK);
			break;
		case 'V':
			release_print_version(stdout, "lcctl");
			ret = LCCTL_EXIT_OK;
			break;
		case 'C':
			for (c = 0; c < (int)NCOMMANDS; c++)
				printf("%s\n", commands[c].name);
			ret = LCCTL_EXIT_OK;
			break;
		default:
			ret = main_usage(LCCTL_EXIT_USAGE);
			break;
		}
	}
	if (ret >= 0)
		goto out;
	if (optind >= argc) {
		ret = main_usage(LCCTL_EXIT_USAGE);
		goto out;
	}
	if ((cmd = lcctl_find(commands, NCOMMANDS, argv[optind])) == NULL) {
		lcctl_err("unknown command '%s'", argv[optind]);
		ret = main_usage(LCCTL_EXIT_USAGE);
		goto out;
	}
	if (ctx.dir != NULL && ctx.dir[0] == '\0')
		ctx.dir = NULL;
	ret = lcctl_run(&ctx, cmd, "lcctl", argc - optind, argv + optind);
out:
	errno = 0;
	flushed = fflush(stdout) == 0;
	saved = errno;
	/* A closed pipe means the reader had enough: not an error. */
	if ((!flushed && saved != EPIPE) || (flushed && ferror(stdout))) {
		lcctl_err("cannot write to standard output%s%s",
		    flushed ? "" : ": ", flushed ? "" : strerror(saved));
		if (ret == LCCTL_EXIT_OK)
			ret = LCCTL_EXIT_ERR;
	}
	return ret;
}
