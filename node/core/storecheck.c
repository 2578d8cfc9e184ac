// SPDX-License-Identifier: Apache-2.0
// The start-up check of a store that may be damaged: a clean stop leaves a
// mark naming the data file as it was; without a matching mark the store is
// walked in a child process (store/walk.h) before the node opens it, so that
// a damaged page stops the node with a message instead of an LMDB abort.
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "core/node.h"
#include "core/storecheck.h"
#include "store/walk.h"

#define MARK_MAX 128

/* The mark's words for the data file as it is now into buf: 0, or -1 when
 * the file cannot be examined (absent) or is empty. */
static int
mark_text(const char *data, char *buf, size_t size)
{
	struct stat st;

	/* An empty file is no store: custody.c says what to do. */
	if (stat(data, &st) != 0 || st.st_size == 0)
		return -1;
	snprintf(buf, size, "%" PRIu64 " %" PRId64 ".%09ld %" PRIu64 "\n",
	    (uint64_t)st.st_size, (int64_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
	    (uint64_t)st.st_ino);
	return 0;
}

/* 1 when the mark says the data file is as a clean stop left it. */
static int
mark_matches(const char *mark, const char *now)
{
	char buf[MARK_MAX];
	size_t len;
	FILE *f;

	if ((f = fopen(mark, "r")) == NULL)
		return 0;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	return strcmp(buf, now) == 0;
}

int
storecheck_start(struct node *n, const char *dbpath,
    struct store_walk_result *r, int *walked, char *err, size_t errlen)
{
	char *data = xasprintf("%s/data.mdb", dbpath);
	char *mark = xasprintf("%s/%s", n->cfg.dir, STORECHECK_MARK);
	char now[MARK_MAX];
	uint64_t t0;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	*walked = 0;
	if (mark_text(data, now, sizeof(now)) != 0 || mark_matches(mark, now))
		goto out;
	log_info("%s was not closed by a clean stop, or changed since: walking it "
	    "before opening it", data);
	t0 = mono_ms();
	*walked = 1;
	if ((ret = store_walk_child(dbpath, r)) != 0) {
		/* The walk could not run: say so, and open the store anyway
		 * (as lcnode did before there was a walk). */
		log_warnx("%s: %s; opening it without the walk", data, r->what);
		ret = 0;
		goto out;
	}
	if (!r->sound) {
		snprintf(err, errlen, "%s is damaged: %s. lcnode does not start on "
		    "it. Restore a backup with `lcnode -d %s --restore FILE` (the "
		    "damaged store is kept aside), or move %s aside (`mv %s "
		    "%s.damaged`) and rebuild from peers with `lcnode -d %s "
		    "--new-store`", data, r->what, n->cfg.dir, dbpath, dbpath,
		    dbpath, n->cfg.dir);
		ret = LCF_ESTORE;
		goto out;
	}
	log_info("%s walked in %" PRIu64 " ms: %" PRIu64 " pages, %" PRIu64
	    " records, %" PRIu64 " damaged", data, mono_ms() - t0, r->pages,
	    r->records, r->bad);
out:
	if (unlink(mark) != 0 && errno != ENOENT)
		log_warn("cannot remove %s", mark);
	free(data);
	free(mark);
	return ret;
}

void
storecheck_clean_stop(struct node *n, const char *dbpath)
{
	char *data = xasprintf("%s/data.mdb", dbpath);
	char *mark = xasprintf("%s/%s", n->cfg.dir, STORECHECK_MARK);
	char *tmp = xasprintf("%s.tmp", mark);
	char now[MARK_MAX];
	FILE *f;

	if (mark_text(data, now, sizeof(now)) != 0)
		goto out;
	if ((f = fopen(tmp, "w")) == NULL) {
		log_warn("cannot write %s", tmp);
		goto out;
	}
	if (fputs(now, f) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		log_warn("cannot write %s", tmp);
		fclose(f);
		unlink(tmp);
		goto out;
	}
	fclose(f);
	if (rename(tmp, mark) != 0) {
		log_warn("cannot rename %s", tmp);
		unlink(tmp);
	}
out:
	free(data);
	free(mark);
	free(tmp);
}
