// SPDX-License-Identifier: Apache-2.0
// lcctl backup, compact and restore: a backup of the running node, compacting
// a stopped node's store, and ending the restore state.
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/error.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "lcctl.h"
#include "store/backup.h"

static const char backup_usage[] =
    "Usage: lcctl [-d DIR] backup FILE [--force] [--json]\n"
    "\n"
    "Has the running node write a backup to FILE: a compacted copy of its\n"
    "store, taken in one read transaction while the node goes on serving, and\n"
    "the city's secret key, in one file (mode 0600: keep it as safe as the\n"
    "key). The node writes the file itself, so its folder must be writable by\n"
    "the node's user. Prints what it holds in one line. Restore it with\n"
    "`lcnode -d DIR --restore FILE`.\n"
    "\n"
    "Options:\n"
    "  --force      replace FILE if it exists (the new backup is written beside\n"
    "               it, then renamed over it: FILE is never half-written)\n"
    "  --json       {\"path\", \"city_id\", \"records\", \"cities\", \"bytes\",\n"
    "               \"created_ms\"}\n"
    "  -h, --help   show this help\n";

static const char compact_usage[] =
    "Usage: lcctl [-d DIR] compact\n"
    "\n"
    "Compacts the store of a STOPPED node (offline): LMDB never shrinks its\n"
    "file, so the pages freed by deleted and superseded records stay in it.\n"
    "Writes a compacted copy beside DIR/db/data.mdb and renames it over the\n"
    "file, holding the data directory's lock so that no lcnode starts\n"
    "meanwhile. Refused while a node serves DIR. A backup (`lcctl backup`) is\n"
    "compacted too: restoring one is the other way to shrink a store.\n"
    "\n"
    "Options:\n"
    "  -h, --help   show this help\n";

static const char restore_usage[] =
    "Usage: lcctl [-d DIR] restore done [--json]\n"
    "\n"
    "After `lcnode --restore FILE` or `lcnode --new-store` the node publishes\n"
    "nothing until each of its peers has reconciled with it, so that it learns\n"
    "this city's newest records and never numbers a record twice (`lcctl\n"
    "status` shows what it waits for). `restore done` ends the wait now: give\n"
    "it only when you know that no peer holds newer records of this city\n"
    "(none is reachable and none ever will be, or the city had no peer).\n"
    "\n"
    "Options:\n"
    "  --json       the restore state afterwards as a JSON object\n"
    "  -h, --help   show this help\n";

json_t *
restore_json(const Lcf__RestoreStatus *rs)
{
	json_t *o = json_object();

	json_object_set_new(o, "active", json_boolean(rs != NULL && rs->active));
	if (rs == NULL || !rs->active)
		return o;
	json_object_set_new(o, "reason", json_string(rs->reason ? rs->reason : ""));
	json_object_set_new(o, "since_ms", json_integer((json_int_t)rs->since_ms));
	json_object_set_new(o, "peers", json_integer((json_int_t)rs->peers));
	json_object_set_new(o, "peers_reconciled",
	    json_integer((json_int_t)rs->peers_reconciled));
	json_object_set_new(o, "waiting_for",
	    json_string(rs->waiting_for ? rs->waiting_for : ""));
	json_object_set_new(o, "message", json_string(rs->message ? rs->message : ""));
	return o;
}

void
restore_text(const Lcf__RestoreStatus *rs)
{
	char when[64], *item;

	if (rs == NULL || !rs->active)
		return;
	item = xasprintf("publishing refused since %s (%s): %" PRIu64 " of %"
	    PRIu64 " peers reconciled", render_time((int64_t)rs->since_ms, when,
	    sizeof(when)), rs->reason ? rs->reason : "restoring",
	    rs->peers_reconciled, rs->peers);
	render_field(stdout, "Restore", item);
	free(item);
	if (rs->message != NULL)
		render_field(stdout, "Restore wait", rs->message);
}

/* FILE made absolute against the current folder: the node resolves nothing. */
static char *
absolute(const char *file)
{
	char *cwd;
	char *abs;

	if (file[0] == '/')
		return xstrdup(file);
	if ((cwd = getcwd(NULL, 0)) == NULL)
		return NULL;
	abs = xasprintf("%s/%s", cwd, file);
	free(cwd);
	return abs;
}

int
cmd_backup(struct lcctl *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Lcf__BackupRequest br = LCF__BACKUP_REQUEST__INIT;
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__CtlResponse *resp = NULL;
	const Lcf__BackupReply *b;
	char hex[LCF_ID_HEX], size[32], *path = NULL;
	json_t *o;
	int c, ret = -1;

	while (ret < 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'f')
			br.force = br.has_force = 1;
		else if (c == 'j')
			ctx->json = 1;
		else
			ret = lcctl_common_opt(c, backup_usage);
	}
	if (ret >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, "FILE", backup_usage)) != LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	if ((path = absolute(argv[optind])) == NULL) {
		lcctl_err("backup: %s: cannot tell the current folder: %s",
		    argv[optind], strerror(errno));
		goto out;
	}
	br.path = path;
	req.op_case = LCF__CTL_REQUEST__OP_BACKUP;
	req.backup = &br;
	if (client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY_BACKUP, NULL, 0,
	    &resp) < 0)
		goto out;
	b = resp->backup;
	render_id(b->city_id.data, b->city_id.len, hex);
	if (ctx->json) {
		o = json_object();
		json_object_set_new(o, "path", json_string(b->path ? b->path : path));
		json_object_set_new(o, "city_id", json_string(hex));
		json_object_set_new(o, "records", json_integer((json_int_t)b->records));
		json_object_set_new(o, "cities", json_integer((json_int_t)b->cities));
		json_object_set_new(o, "bytes", json_integer((json_int_t)b->bytes));
		json_object_set_new(o, "created_ms",
		    json_integer((json_int_t)b->created_ms));
		render_json(o);
		json_decref(o);
	} else {
		printf("backup %s: %" PRIu64 " records, %" PRIu64 " cities, %s "
		    "(%" PRIu64 " bytes), city %s\n", b->path ? b->path : path,
		    b->records, b->cities, render_size(b->bytes, size, sizeof(size)),
		    b->bytes, hex);
	}
	ret = LCCTL_EXIT_OK;
out:
	free(path);
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret;
}

int
cmd_compact(struct lcctl *ctx, int argc, char **argv)
{
	char *lock = NULL, *db = NULL, err[1024], a[32], b[32], pid[32];
	uint64_t before, after;
	ssize_t r;
	int fd = -1, ret;

	if ((ret = lcctl_simple_opts(ctx, argc, argv, compact_usage, 0)) >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, NULL, NULL)) != LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	lock = xasprintf("%s/lcnode.lock", ctx->dir);
	db = xasprintf("%s/db", ctx->dir);
	/* lcnode's own lock: held while compacting, so no node starts on the
	 * store meanwhile. */
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		lcctl_err("compact: %s: %s", lock, strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		r = read(fd, pid, sizeof(pid) - 1);
		pid[r > 0 ? r : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		lcctl_err("compact: an lcnode (pid %s) serves %s: compacting works on "
		    "a stopped node; stop it, run `lcctl compact`, start it again",
		    pid[0] ? pid : "?", ctx->dir);
		goto out;
	}
	if (backup_compact(db, &before, &after, err, sizeof(err)) != 0) {
		lcctl_err("compact: %s", err);
		goto out;
	}
	printf("compacted %s/data.mdb: %s -> %s on the disk (%" PRIu64 " -> %"
	    PRIu64 " bytes)\n", db, render_size(before, a, sizeof(a)),
	    render_size(after, b, sizeof(b)), before, after);
	ret = LCCTL_EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	free(lock);
	free(db);
	return ret;
}

static int
restore_done(struct lcctl *ctx, int argc, char **argv)
{
	Lcf__RestoreDoneRequest rd = LCF__RESTORE_DONE_REQUEST__INIT;
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__CtlResponse *resp = NULL;
	json_t *o;
	int ret;

	if ((ret = lcctl_simple_opts(ctx, argc, argv, restore_usage, 1)) >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, NULL, NULL)) != LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	req.op_case = LCF__CTL_REQUEST__OP_RESTORE_DONE;
	req.restore_done = &rd;
	if (client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY_RESTORE, NULL, 0,
	    &resp) < 0)
		goto out;
	if (ctx->json) {
		o = restore_json(resp->restore);
		render_json(o);
		json_decref(o);
	} else {
		printf("restore wait ended: the node publishes again\n");
	}
	ret = LCCTL_EXIT_OK;
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret;
}

static const struct lcctl_cmd restore_cmds[] = {
	{ "done", restore_done, "end the restore wait: no peer holds newer records" },
};

int
cmd_restore(struct lcctl *ctx, int argc, char **argv)
{
	return lcctl_dispatch(ctx, restore_cmds,
	    sizeof(restore_cmds) / sizeof(restore_cmds[0]), argc, argv);
}
