// SPDX-License-Identifier: Apache-2.0
// The admin requests that keep a city's data safe: a backup written in a pool
// thread while the node serves, the end of the restore state, and the
// refusal of local publishing while the node restores.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "admin/ctlint.h"
#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "core/node.h"
#include "core/restore.h"
#include "net/restwatch.h"
#include "store/backup.h"

struct backup_job {
	uv_work_t work;
	struct ctl_conn *c;
	struct node *n;
	char *path;
	int force;
	int rc;
	struct backup_info info;
	char err[1024];
};

static void
backup_work(uv_work_t *w)
{
	struct backup_job *job = w->data;

	job->rc = backup_write(job->n->store, job->n->id, job->path, job->force,
	    &job->info, job->err, sizeof(job->err));
}

static void
backup_done(uv_work_t *w, int status)
{
	struct backup_job *job = w->data;
	struct ctl_conn *c = job->c;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__BackupReply br = LCF__BACKUP_REPLY__INIT;
	char hex[LCF_ID_HEX];

	if (status != 0 && job->rc == 0) {
		job->rc = LCF_EIO;
		snprintf(job->err, sizeof(job->err), "the backup was cancelled");
	}
	if (job->rc == 0)
		log_info("backup: wrote %s: %llu records, %llu cities, %llu bytes, "
		    "city %s", job->path, (unsigned long long)job->info.records,
		    (unsigned long long)job->info.cities,
		    (unsigned long long)job->info.bytes,
		    hex_encode(job->info.city, 32, hex));
	else
		log_warnx("backup: %s", job->err);
	if (ctlconn__op_end(c))
		goto out;
	if (job->rc != 0) {
		ctlconn__error(c, job->rc, "%s", job->err);
	} else {
		br.path = job->path;
		br.has_city_id = 1;
		br.city_id.data = job->info.city;
		br.city_id.len = 32;
		br.has_records = br.has_cities = br.has_bytes = 1;
		br.records = job->info.records;
		br.cities = job->info.cities;
		br.bytes = job->info.bytes;
		br.has_created_ms = 1;
		br.created_ms = (uint64_t)job->info.created_ms;
		resp.reply_case = LCF__CTL_RESPONSE__REPLY_BACKUP;
		resp.backup = &br;
		ctlconn__send(c, &resp, 0);
	}
	ctlconn__done(c);
out:
	free(job->path);
	free(job);
}

void
ctlsafe__backup(struct ctl_conn *c)
{
	Lcf__BackupRequest *r = c->req->backup;
	struct backup_job *job;

	/* The node writes the file as its own user (the caller's: the socket
	 * checks it), at a path lcctl made absolute. */
	if (r->path == NULL || r->path[0] != '/') {
		ctlconn__error(c, LCF_EINVAL, "backup: path: give an absolute path "
		    "(lcctl makes a relative one absolute)");
		ctlconn__done(c);
		return;
	}
	job = xcalloc(1, sizeof(*job));
	job->c = c;
	job->n = c->ctl->n;
	job->path = xstrdup(r->path);
	job->force = r->has_force && r->force;
	job->work.data = job;
	c->ops++;
	if (uv_queue_work(job->n->loop, &job->work, backup_work, backup_done) != 0) {
		c->ops--;
		ctlconn__error(c, LCF_EIO, "backup: cannot start the copy");
		ctlconn__done(c);
		free(job->path);
		free(job);
	}
}

void
ctlsafe__restore_status(struct node *n, Lcf__RestoreStatus *rs, char *msg,
    size_t msglen, struct restwatch_progress *pg)
{
	restwatch_progress(n, pg);
	rs->has_active = 1;
	rs->active = pg->active;
	if (!pg->active)
		return;
	rs->reason = (char *)pg->reason;
	rs->has_since_ms = rs->has_peers = rs->has_peers_reconciled = 1;
	rs->since_ms = (uint64_t)pg->since_ms;
	rs->peers = pg->peers;
	rs->peers_reconciled = pg->reconciled;
	rs->waiting_for = pg->waiting_for;
	restwatch_describe(n, msg, msglen);
	rs->message = msg;
}

void
ctlsafe__restore_done(struct ctl_conn *c)
{
	struct node *n = c->ctl->n;
	Lcf__CtlResponse resp = LCF__CTL_RESPONSE__INIT;
	Lcf__RestoreStatus rs = LCF__RESTORE_STATUS__INIT;
	struct restwatch_progress pg;
	char msg[700];
	int rc;

	rc = restwatch_finish(n, "the operator (lcctl restore done)");
	if (rc == LCF_ENOTFOUND) {
		ctlconn__error(c, rc, "this node is not restoring: nothing to end");
	} else if (rc != 0) {
		ctlconn__error(c, rc, "cannot end the restore state: %s (see the "
		    "node's log)", lcf_strerror(rc));
	} else {
		ctlsafe__restore_status(n, &rs, msg, sizeof(msg), &pg);
		resp.reply_case = LCF__CTL_RESPONSE__REPLY_RESTORE;
		resp.restore = &rs;
		ctlconn__send(c, &resp, 0);
	}
	ctlconn__done(c);
}

int
ctlsafe__publish_refused(struct node *n, char *msg, size_t len)
{
	char why[700];

	if (!restore_active(n))
		return 0;
	restwatch_describe(n, why, sizeof(why));
	snprintf(msg, len, "cannot publish now: %s", why);
	return 1;
}
