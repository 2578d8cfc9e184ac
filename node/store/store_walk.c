// SPDX-License-Identifier: Apache-2.0
// The deep walk of a store: every table's pages and entries read and every
// record hashed, in a child process (lcnode --walk-store), so that a page
// damaged badly enough to make LMDB assert ends the child and not the node.
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>

#include "base/error.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "model/record.h"
#include "store/walk.h"

#define WALK_MAXDBS 32
#define WALK_OUT_MAX (1u << 20)      /* bytes of the child's words read */
#define WALK_ROW_LEN 8

extern char **environ;

struct walk {
	MDB_txn *txn;
	MDB_dbi rows;
	int have_rows;
	FILE *out;
	uint64_t pages, entries, records, bad;
	unsigned sum;                /* every byte read is added: nothing is
	                              * skipped as unused */
};

/* The record a row of "ids" points to, hashed against the id k. */
static int
walk_record(struct walk *w, const MDB_val *k, const MDB_val *v)
{
	char hex[2 * RECORD_ID_LEN + 1];
	MDB_val rk = *v, rv;
	int rc;

	if (k->mv_size != RECORD_ID_LEN || v->mv_size != WALK_ROW_LEN) {
		fprintf(w->out, "error ids: an entry of %zu and %zu bytes\n",
		    k->mv_size, v->mv_size);
		return MDB_CORRUPTED;
	}
	if ((rc = mdb_get(w->txn, w->rows, &rk, &rv)) != 0) {
		fprintf(w->out, "error rows: the row of record %s: %s\n",
		    hex_encode(k->mv_data, RECORD_ID_LEN, hex), mdb_strerror(rc));
		return rc;
	}
	w->records++;
	if (record_check_id(rv.mv_data, rv.mv_size, k->mv_data) != 0) {
		w->bad++;
		fprintf(w->out, "bad %s\n", hex_encode(k->mv_data, RECORD_ID_LEN,
		    hex));
	}
	return 0;
}

/* Every entry of one table, and LMDB's page counts for it. */
static int
walk_table(struct walk *w, MDB_dbi dbi, const char *name)
{
	MDB_cursor *cur;
	MDB_stat st;
	MDB_val k, v;
	uint64_t n = 0;
	size_t i;
	int rc, records = strcmp(name, "ids") == 0 && w->have_rows;

	if ((rc = mdb_stat(w->txn, dbi, &st)) != 0 ||
	    (rc = mdb_cursor_open(w->txn, dbi, &cur)) != 0) {
		fprintf(w->out, "error %s: %s\n", name, mdb_strerror(rc));
		return rc;
	}
	w->pages += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		for (i = 0; i < k.mv_size; i++)
			w->sum += ((const uint8_t *)k.mv_data)[i];
		for (i = 0; i < v.mv_size; i += 64)
			w->sum += ((const uint8_t *)v.mv_data)[i];
		n++;
		if (records && (rc = walk_record(w, &k, &v)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND) {
		fprintf(w->out, "error %s: %s\n", name, mdb_strerror(rc));
		return rc;
	}
	w->entries += n;
	if (n != st.ms_entries) {
		fprintf(w->out, "error %s: %" PRIu64 " entries walked, LMDB counts "
		    "%zu\n", name, n, st.ms_entries);
		return MDB_CORRUPTED;
	}
	return 0;
}

/* The named tables (the main table's keys), "rows" first so that "ids"
 * can read records. */
static int
walk_named(struct walk *w)
{
	MDB_dbi main_dbi, dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	char name[256];
	int rc, pass;

	if ((rc = mdb_dbi_open(w->txn, NULL, 0, &main_dbi)) != 0 ||
	    (rc = walk_table(w, main_dbi, "main")) != 0)
		return rc;
	if (mdb_dbi_open(w->txn, "rows", 0, &w->rows) == 0)
		w->have_rows = 1;
	for (pass = 0; pass < 2; pass++) {
		if ((rc = mdb_cursor_open(w->txn, main_dbi, &cur)) != 0)
			return rc;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			if (k.mv_size == 0 || k.mv_size >= sizeof(name))
				continue;
			memcpy(name, k.mv_data, k.mv_size);
			name[k.mv_size] = '\0';
			/* "rows" in the first pass only, the others in the
			 * second. */
			if ((strcmp(name, "rows") == 0) != (pass == 0))
				continue;
			if ((rc = mdb_dbi_open(w->txn, name, 0, &dbi)) != 0) {
				fprintf(w->out, "error %s: %s\n", name,
				    mdb_strerror(rc));
				break;
			}
			if ((rc = walk_table(w, dbi, name)) != 0)
				break;
		}
		mdb_cursor_close(cur);
		if (rc != MDB_NOTFOUND)
			return rc;
	}
	return 0;
}

int
store_walk_run(const char *dbdir, FILE *out)
{
	struct walk w;
	MDB_env *env = NULL;
	int rc;

	memset(&w, 0, sizeof(w));
	w.out = out;
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, WALK_MAXDBS)) != 0 ||
	    (rc = mdb_env_open(env, dbdir, MDB_RDONLY | MDB_NOTLS, 0600)) != 0) {
		fprintf(out, "error opening %s/data.mdb: %s\n", dbdir,
		    mdb_strerror(rc));
		goto out;
	}
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &w.txn)) != 0) {
		fprintf(out, "error read transaction: %s\n", mdb_strerror(rc));
		goto out;
	}
	if ((rc = walk_table(&w, 0, "free list")) == 0)
		rc = walk_named(&w);
	mdb_txn_abort(w.txn);
out:
	fprintf(out, "pages %" PRIu64 "\nentries %" PRIu64 "\nrecords %" PRIu64
	    "\nbadcount %" PRIu64 "\nsum %u\n%s\n", w.pages, w.entries, w.records,
	    w.bad, w.sum & 0xff, rc == 0 ? "sound" : "damaged");
	fflush(out);
	if (env != NULL)
		mdb_env_close(env);
	return rc == 0 ? 0 : 3;
}

/* Appends a line the child wrote that is not one of its own words (LMDB's
 * assertion, say) to what. */
static void
note_what(struct store_walk_result *r, const char *line)
{
	size_t len = strlen(r->what);

	if (len + 3 < sizeof(r->what))
		snprintf(r->what + len, sizeof(r->what) - len, "%s%s",
		    len ? "; " : "", line);
}

static void
parse_line(struct store_walk_result *r, char *line)
{
	uint8_t id[32];
	uint64_t x;

	if (sscanf(line, "pages %" SCNu64, &x) == 1)
		r->pages = x;
	else if (sscanf(line, "entries %" SCNu64, &x) == 1)
		r->entries = x;
	else if (sscanf(line, "records %" SCNu64, &x) == 1)
		r->records = x;
	else if (sscanf(line, "badcount %" SCNu64, &x) == 1)
		r->bad = x;
	else if (strcmp(line, "sound") == 0)
		r->sound = 1;
	else if (strncmp(line, "bad ", 4) == 0 &&
	    hex_decode(line + 4, id, sizeof(id)) == 0) {
		if (r->nbad_ids < STORE_WALK_BAD_MAX) {
			r->bad_ids = xreallocarray(r->bad_ids, r->nbad_ids + 1, 32);
			memcpy(r->bad_ids[r->nbad_ids++], id, 32);
		}
	} else if (strncmp(line, "sum ", 4) != 0 && strcmp(line, "damaged") != 0 &&
	    line[0] != '\0') {
		note_what(r, strncmp(line, "error ", 6) == 0 ? line + 6 : line);
	}
}

/* Reads the child's words from fd to the end, line by line. */
static void
read_words(int fd, struct store_walk_result *r)
{
	char *buf = xmalloc(WALK_OUT_MAX + 1), *line, *nl;
	size_t len = 0;
	ssize_t got;

	for (;;) {
		got = read(fd, buf + len, WALK_OUT_MAX - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
		if (len == WALK_OUT_MAX) {
			/* Drain the rest so that the child is not blocked. */
			char sink[4096];

			while ((got = read(fd, sink, sizeof(sink))) > 0 ||
			    (got < 0 && errno == EINTR))
				;
			break;
		}
	}
	buf[len] = '\0';
	for (line = buf; line < buf + len; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			nl = buf + len;
		*nl = '\0';
		parse_line(r, line);
	}
	free(buf);
}

int
store_walk_child(const char *dbdir, struct store_walk_result *r)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { "lcnode", STORE_WALK_OPTION, (char *)dbdir, NULL };
	int fds[2], status, rc;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(r->what, sizeof(r->what), "cannot make a pipe: %s",
		    strerror(errno));
		return LCF_EIO;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		snprintf(r->what, sizeof(r->what), "cannot start the walk "
		    "(/proc/self/exe %s): %s", STORE_WALK_OPTION, strerror(rc));
		return LCF_EIO;
	}
	read_words(fds[0], r);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = 0;
			break;
		}
	if (WIFSIGNALED(status)) {
		char said[sizeof(r->what)];

		r->sound = 0;
		memcpy(said, r->what, sizeof(said));
		snprintf(r->what, sizeof(r->what), "LMDB ended the walk with "
		    "signal %d (%.40s)%s%.400s", WTERMSIG(status),
		    strsignal(WTERMSIG(status)), said[0] ? ": " : "", said);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		r->sound = 0;
		if (r->what[0] == '\0')
			snprintf(r->what, sizeof(r->what), "the walk failed "
			    "(exit status %d)", WIFEXITED(status) ?
			    WEXITSTATUS(status) : -1);
	}
	return 0;
}

void
store_walk_result_free(struct store_walk_result *r)
{
	if (r == NULL)
		return;
	free(r->bad_ids);
	r->bad_ids = NULL;
	r->nbad_ids = 0;
}
