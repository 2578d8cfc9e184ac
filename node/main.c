// SPDX-License-Identifier: Apache-2.0
// lcnode: a learning city's node daemon (options, start-up, signals).
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <uv.h>

#include "model/catalog.h"
#include "core/config.h"
#include "admin/control.h"
#include "core/custody.h"
#include "core/lineage.h"
#include "core/quarantine.h"
#include "core/storecheck.h"
#include "admin/notify.h"
#include "base/error.h"
#include "wire/conn.h"
#include "net/beacon.h"
#include "net/discover.h"
#include "model/identity.h"
#include "write/ingest.h"
#include "base/log.h"
#include "core/events.h"
#include "core/member.h"
#include "core/node.h"
#include "http/http.h"
#include "core/seq.h"
#include "net/peer.h"
#include "net/measure.h"
#include "net/peersync.h"
#include "net/restwatch.h"
#include "net/push.h"
#include "write/held.h"
#include "write/publish.h"
#include "model/record.h"
#include "store/store.h"
#include "store/walk.h"
#include "net/sync.h"
#include "base/sharedir.h"
#include "model/release.h"
#include "base/util.h"
#include "base/version.h"
#include "base/xmalloc.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "Usage: lcnode [-d DIR] [-n] [-v] [-V | --version] [--restore FILE | --new-store]\n"
	    "  -d DIR         data directory (default: $LCF_DIR), made by `lcctl init`\n"
	    "  --restore FILE install a backup made by `lcctl backup` (the node\n"
	    "                 stopped), then publish nothing until the peers reconciled\n"
	    "  --new-store    start an empty store for a key that has published\n"
	    "                 (relearns this city's records from its peers first)\n"
	    "  -n             check the configuration and key, print \"configuration OK\"\n"
	    "  -v             more logging (debug)\n"
	    "  -V, --version  print the version and the peer protocols spoken\n"
	    "  -h, --help     show this help\n"
	    "Runs in the foreground; SIGTERM or SIGINT stop it cleanly; SIGHUP\n"
	    "is ignored (the log goes to stderr: nothing to reopen).\n");
}

/* The catalog: the configured file, else the shipped one (base/sharedir.h:
 * installed, or the build tree's). */
static int
load_catalog(struct node *n, char *err, size_t errlen)
{
	char path[PATH_MAX], tried[512];

	if (n->cfg.catalog_path != NULL)
		return catalog_load(n->cfg.catalog_path, &n->catalog, err, errlen);
	if (sharedir_find("catalog.json", 0, path, sizeof(path), tried,
	    sizeof(tried)) == 0)
		return catalog_load(path, &n->catalog, err, errlen);
	snprintf(err, errlen, "no indicator catalog found (looked for %s): set "
	    "catalog = FILE in %s", tried, n->cfg.path);
	return LCF_ECONFIG;
}

/* The dashboard's folder: the configured one (it must be a folder), else the
 * shipped one (base/sharedir.h: installed, or the one `make web` built in the
 * build tree), else none: the node's / then says how to build it. */
static int
find_web_root(struct node *n, char *err, size_t errlen)
{
	struct stat st;
	char path[PATH_MAX];

	if (n->cfg.http_web_root != NULL) {
		const char *why = stat(n->cfg.http_web_root, &st) != 0 ?
		    strerror(errno) : !S_ISDIR(st.st_mode) ? "not a folder" : NULL;

		if (why != NULL) {
			snprintf(err, errlen, "%s: [http] web_root %s: %s", n->cfg.path,
			    n->cfg.http_web_root, why);
			return LCF_ECONFIG;
		}
		return 0;
	}
	if (sharedir_find("web/index.html", 1, path, sizeof(path), NULL, 0) == 0)
		n->cfg.http_web_root = xstrdup(path);
	return 0;
}

static int
load_key(struct node *n, char *err, size_t errlen)
{
	struct stat st;
	int rc;

	if ((n->id = identity_new()) == NULL) {
		snprintf(err, errlen, "cannot allocate guarded memory for the key");
		return LCF_ENOMEM;
	}
	rc = identity_load(n->id, n->cfg.key_path);
	if (rc == LCF_EKEYPERM && stat(n->cfg.key_path, &st) != 0) {
		snprintf(err, errlen, "%s is readable or writable by group or others, "
		    "and cannot be examined now (%s): run `chmod 600 %s`",
		    n->cfg.key_path, strerror(errno), n->cfg.key_path);
	} else if (rc == LCF_EKEYPERM) {
		snprintf(err, errlen, "%s is readable or writable by group or others "
		    "(mode %04o): run `chmod 600 %s`", n->cfg.key_path,
		    (unsigned)(st.st_mode & 07777), n->cfg.key_path);
	} else if (rc == LCF_EINVAL) {
		snprintf(err, errlen, "%s is not an lcf key file: put back this "
		    "city's key (from your backup: `lcnode -d %s --restore FILE`); "
		    "a new key would be a new city", n->cfg.key_path, n->cfg.dir);
	} else if (rc != 0) {
		snprintf(err, errlen, "cannot read key %s: %s%s", n->cfg.key_path,
		    strerror(errno), errno == ENOENT ?
		    ": the key is this city's identity; restore it from your "
		    "backup (a new key would be a new city; a new node is set "
		    "up with `lcctl -d NEWDIR init`)" : "");
	}
	return rc;
}

/* Keeps the key file's current content as KEY.retired-ID12; a link made by
 * an earlier start that stopped half-way is accepted when it holds this key. */
static int
retire_key(struct node *n, const char *retired, char *err, size_t errlen)
{
	struct identity *old = NULL;
	int ret = LCF_EIO;

	if (link(n->cfg.key_path, retired) == 0) {
		ret = 0;
		goto out;
	}
	if (errno != EEXIST) {
		snprintf(err, errlen, "cannot keep the old key as %s: %s", retired,
		    strerror(errno));
		goto out;
	}
	if ((old = identity_new()) == NULL ||
	    identity_load(old, retired) != 0 ||
	    memcmp(old->pk, n->id->pk, 32) != 0) {
		snprintf(err, errlen, "%s exists and is not the current key: move "
		    "it away, then start lcnode again", retired);
		goto out;
	}
	ret = 0;
out:
	identity_free(old);
	return ret;
}

/*
 * Key succession, second half (lcctl key rotate made KEY.next and had this
 * key publish the succession): at start, when KEY.next exists, the current
 * key handed over to it (the succession record is stored) and, in a
 * federation, the new key is admitted, the node keeps the current key as
 * KEY.retired-ID12 and takes KEY.next as its key. Until then it keeps the
 * current key, which can no longer publish but still links to peers, so the
 * admission can reach it. Returns 0 (switched or not) or an error that stops
 * start-up (an unreadable next key, a rename that failed).
 */
static int
switch_key(struct node *n, char *err, size_t errlen)
{
	struct identity *next = NULL;
	char *next_path = xasprintf("%s%s", n->cfg.key_path, IDENTITY_NEXT_SUFFIX);
	char *retired = NULL, why[256], old_hex[LCF_ID_HEX], new_hex[LCF_ID_HEX];
	char *dir = NULL, *slash;
	uint64_t last;
	int rc, fd, ret = LCF_EIO;

	if (access(next_path, F_OK) != 0) {
		ret = 0;
		goto out;
	}
	if ((next = identity_new()) == NULL) {
		snprintf(err, errlen, "cannot allocate guarded memory for the key");
		ret = LCF_ENOMEM;
		goto out;
	}
	if ((rc = identity_load(next, next_path)) != 0) {
		snprintf(err, errlen, "%s: %s", next_path, rc == LCF_EKEYPERM ?
		    "readable or writable by group or others: run chmod 600" :
		    rc == LCF_EINVAL ? "not an lcf key file" : strerror(errno));
		ret = rc;
		goto out;
	}
	hex_encode(n->id->pk, 32, old_hex);
	hex_encode(next->pk, 32, new_hex);
	if (!lineage_handed_over(n->store, n->id->pk, next->pk)) {
		log_warnx("%s holds key %.12s..., but the current key %.12s... "
		    "has not handed over to it (no succession record): keeping "
		    "the current key. Remove the file, then run `lcctl key "
		    "rotate` again", next_path, new_hex, old_hex);
		ret = 0;
		goto out;
	}
	if (members_enabled(n) &&
	    members_link_ok(n, next->pk, why, sizeof(why)) != 0) {
		log_warnx("the new key %s is not a member yet (%s): keeping the "
		    "handed-over key %.12s..., which links but publishes nothing, "
		    "until the federation's admission of the new key is stored "
		    "here (`lcctl publish FILE`); then restart lcnode", new_hex,
		    why, old_hex);
		ret = 0;
		goto out;
	}
	retired = xasprintf("%s%s%.12s", n->cfg.key_path, IDENTITY_RETIRED_SUFFIX,
	    old_hex);
	if ((ret = retire_key(n, retired, err, errlen)) != 0)
		goto out;
	if (rename(next_path, n->cfg.key_path) != 0) {
		snprintf(err, errlen, "cannot move %s to %s: %s", next_path,
		    n->cfg.key_path, strerror(errno));
		ret = LCF_EIO;
		goto out;
	}
	/* The renames survive a crash only once the directory is on disk. */
	dir = xstrdup(n->cfg.key_path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(fd) != 0)
			log_warn("fsync %s", dir);
		close(fd);
	}
	identity_free(n->id);
	n->id = next;
	next = NULL;
	if (store_last_seq(n->store, n->id->pk, &last) != 0) {
		snprintf(err, errlen, "switched to the new key, but cannot read its "
		    "last seq from the database (see the log): check the disk, "
		    "then start lcnode again");
		ret = LCF_ESTORE;
		goto out;
	}
	seq_init(n, last);
	if (custody_key_switched(n) != 0)
		log_warnx("switched keys, but the store or the published marker "
		    "cannot record the new key: the next start checks it again");
	log_info("switched to the new city key %s: the key %s handed over to "
	    "it; the old key is kept as %s (delete it once the new key works)",
	    new_hex, old_hex, retired);
	ret = 0;
out:
	identity_free(next);
	free(next_path);
	free(retired);
	free(dir);
	return ret;
}

/* One lcnode per data directory: an exclusive lock held for the process life. */
static int
lock_dir(struct node *n, int *fdp, char *err, size_t errlen)
{
	char *path = xasprintf("%s/lcnode.lock", n->cfg.dir);
	char pid[32];
	int fd, ret = LCF_EIO;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t r = read(fd, pid, sizeof(pid) - 1);

		pid[r > 0 ? r : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		snprintf(err, errlen, "another lcnode (pid %s) is already serving %s",
		    pid[0] ? pid : "?", n->cfg.dir);
		close(fd);
		ret = LCF_EBUSY;
		goto out;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || write(fd, pid, strlen(pid)) < 0)
		log_warn("cannot write %s", path);
	*fdp = fd;
	ret = 0;
out:
	free(path);
	return ret;
}

static int
profile_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct record *rec = arg;

	(void)id;
	if (record_open(raw, len, 0, rec) == 0 &&
	    (rec->c->deleted || rec->c->city == NULL))
		record_release(rec);
	return 0;
}

/* At first start the node publishes the city profile from the configuration;
 * a key that took over from another publishes that key's current profile. */
static int
publish_initial_profile(struct node *n)
{
	Lcf__Content c = LCF__CONTENT__INIT, *cp = &c;
	Lcf__CityProfile p = LCF__CITY_PROFILE__INIT;
	struct publish_result res;
	struct member_info mi;
	struct record prev;
	int rc;

	memset(&prev, 0, sizeof(prev));
	if (seq_next(n) > 1)
		return 0;
	if (members_get(n, n->id->pk, &mi) == 0 && mi.has_predecessor)
		store_get_current(n->store, mi.predecessor, LCF__KIND__KIND_CITY,
		    "profile", profile_visit, &prev);
	if (prev.c == NULL && (n->cfg.city == NULL || n->cfg.country == NULL))
		return 0;
	p.name = n->cfg.city;
	p.country = n->cfg.country;
	c.has_kind = 1;
	c.kind = LCF__KIND__KIND_CITY;
	c.key = "profile";
	c.body_case = LCF__CONTENT__BODY_CITY;
	c.city = prev.c != NULL ? prev.c->city : &p;
	rc = publish_now(n, &cp, 1, &res);
	if (rc != 0)
		log_warnx("cannot publish the initial city profile: %s%s%s",
		    res.verr.field, res.verr.field[0] ? ": " : "",
		    res.verr.msg[0] ? res.verr.msg : lcf_strerror(rc));
	else
		log_info("published the city profile of %s (%s)%s", c.city->name,
		    c.city->country, prev.c != NULL ? ", taken over from the "
		    "previous key" : "");
	record_release(&prev);
	return rc;
}

/* The loop's own handles: signals, and a deadline for stopping. */
struct runner {
	struct node *n;
	uv_signal_t sigterm, sigint, sighup;
	uv_timer_t deadline;
	uv_timer_t profile;        /* waits to publish the bootstrap profile */
	struct notify *notify;     /* systemd's notify protocol; NULL without */
};

/* How long a node with no records of its own waits for a reconciliation
 * before it publishes the bootstrap profile anyway. */
#define PROFILE_WAIT_MS 60000

static int
synced_since_start(struct node *n)
{
	struct peer_info *rows = NULL;
	size_t count = 0, i;
	int ok = 0;

	if (peers_list(n, &rows, &count) != 0)
		return 0;
	for (i = 0; i < count && !ok; i++)
		ok = rows[i].last_sync_result == 0 && rows[i].last_sync_ms >= n->started_ms;
	free(rows);
	return ok;
}

/*
 * A node that starts with no records of its own but knows peers may be one
 * whose database was lost: its records, profile included, come back with the
 * first reconciliation (ingest advances next_seq past them). Publishing the
 * bootstrap profile, or anything an operator publishes meanwhile, before that
 * would reuse seqs and make forks. So publishing waits (publish_settle) for a
 * successful reconciliation, or PROFILE_WAIT_MS.
 */
static void
on_profile_timer(uv_timer_t *t)
{
	struct runner *r = t->data;
	struct node *n = r->n;

	if (n->stopping) {
		uv_timer_stop(t);
		return;
	}
	if (seq_next(n) == 1 && !synced_since_start(n) &&
	    mono_ms() - n->started_mono < PROFILE_WAIT_MS)
		return;
	uv_timer_stop(t);
	publish_initial_profile(n);
	publish_settle(n);
}

/* Stopping takes longer than this only if something hangs: the loop is then
 * stopped and every handle closed regardless. Longer than CONN_LINGER_MS, so
 * peer connections have flushed and closed by then. */
#define STOP_DEADLINE_MS (CONN_LINGER_MS + 3000)

static void
on_deadline(uv_timer_t *t)
{
	struct runner *r = t->data;

	log_warnx("still stopping after %d ms: closing what is left",
	    STOP_DEADLINE_MS);
	uv_stop(r->n->loop);
}

/* Stops what start_services started, in the order that tells peers first.
 * Close callbacks run in the loop. */
static void
stop_services(struct node *n)
{
	/* Who waits for a measurement is answered while the admin socket
	 * and HTTP still run. */
	measure_stop(n);
	/* Publishing that waits for this city's seqs to settle never will:
	 * answered before the admin socket closes. */
	publish_stop(n);
	control_stop(n->control);
	n->control = NULL;
	http_stop(n->http);
	/* Sessions end first, so peers are told before their links close. */
	sync_stop(n);
	discover_stop(n);
	beacon_stop(n);
	peersync_stop(n);
	restwatch_stop(n);
	peers_stop(n);
	members_stop(n);
	held_stop(n);
	quarantine_stop(n);
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct runner *r = h->data;
	struct node *n = r->n;

	if (n->stopping)
		return;
	n->stopping = 1;
	log_info("received %s: stopping", strsignal(signum));
	notify_stopping(r->notify);
	stop_services(n);
	/* The loop ends by itself once the connections have closed and the
	 * work in the pool has finished. */
	uv_unref((uv_handle_t *)&r->sigterm);
	uv_unref((uv_handle_t *)&r->sigint);
	uv_unref((uv_handle_t *)&r->sighup);
	uv_timer_start(&r->deadline, on_deadline, STOP_DEADLINE_MS, 0);
	uv_unref((uv_handle_t *)&r->deadline);
}

/* SIGHUP (a closed terminal, or an operator's habit of asking daemons to
 * reopen their logs) does not stop the node: the log goes to stderr, which
 * whoever started lcnode redirects, so there is nothing to reopen. */
static void
on_hangup(uv_signal_t *h, int signum)
{
	(void)h;
	(void)signum;
	log_info("received SIGHUP: ignored (the log goes to stderr; stop the "
	    "node with SIGTERM)");
}

static void
close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/*
 * The event bus's subscribers, all of them, in delivery order (events.h):
 *  STORED:       member (federation state), discovery (endpoints), push,
 *                beacon (others' beacons, this key used elsewhere);
 *  MEMBERSHIP:   ingest (held records released or dropped), peers (the
 *                Hello's membership, links closed);
 *  INGEST_ROOM:  peers (links stopped for receive_queue read again);
 *  RESYNC:       peersync (reconcile soon);
 *  LINK_UP:      peersync (the dialing side reconciles);
 *  LINK_UP/DOWN: beacon (peers connected: a material change);
 *  LINK_DOWN:    http (the event stream);
 *  every kind:   http, last (answers' validity, the event stream).
 *  LINK_REFUSED: discovery (endpoints for a city refused for room).
 */
static void
subscribe_all(struct node *n)
{
	static const struct {
		unsigned mask;
		events_fn fn;
	} subs[] = {
		{ EVENTS_MASK(EVENTS_STORED), members_on_event },
		{ EVENTS_MASK(EVENTS_STORED) | EVENTS_MASK(EVENTS_LINK_REFUSED),
		    discover_on_event },
		{ EVENTS_MASK(EVENTS_STORED), push_on_event },
		{ EVENTS_MASK(EVENTS_STORED) | EVENTS_MASK(EVENTS_LINK_UP) |
		    EVENTS_MASK(EVENTS_LINK_DOWN), beacon_on_event },
		{ EVENTS_MASK(EVENTS_MEMBERSHIP), ingest_on_event },
		{ EVENTS_MASK(EVENTS_MEMBERSHIP) | EVENTS_MASK(EVENTS_INGEST_ROOM),
		    peers_on_event },
		{ EVENTS_MASK(EVENTS_RESYNC) | EVENTS_MASK(EVENTS_LINK_UP),
		    peersync_on_event },
		{ EVENTS_MASK_ALL, http_on_event },
	};
	size_t i;

	events_init(&n->events);
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (events_subscribe(&n->events, subs[i].mask, subs[i].fn, n) != 0)
			fatalx("events: cannot subscribe (%zu subscribers at most)",
			    (size_t)EVENTS_SUBSCRIBERS_MAX);
}

/* Options into *dir, *check_only, *verbose. -1 to go on, else the exit code. */
static int
parse_options(int argc, char **argv, const char **dir, int *check_only,
    int *verbose)
{
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "d:nvVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			*dir = optarg;
			break;
		case 'n':
			*check_only = 1;
			break;
		case 'v':
			*verbose = 1;
			break;
		case 'V':
			release_print_version(stdout, "lcnode");
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (*dir == NULL || (*dir)[0] == '\0') {
		fprintf(stderr, "lcnode: no data directory: pass -d DIR or set LCF_DIR\n");
		return 2;
	}
	return -1;
}

/* The configuration of dir, the key and the catalog. 0, or a negative code
 * with err set. */
static int
load_setup(struct node *n, const char *dir, int verbose,
    const struct custody_opts *co, char *err, size_t errlen)
{
	char *abs = realpath(dir, NULL);
	int ret = LCF_ECONFIG;

	if (abs == NULL) {
		snprintf(err, errlen, "%s: %s (create it with `lcctl -d %s init`)",
		    dir, strerror(errno), dir);
		goto out;
	}
	if ((ret = config_load(&n->cfg, abs, err, errlen)) != 0)
		goto out;
	log_init("lcnode", verbose ? LOG_LEVEL_DEBUG : n->cfg.log_level);
	if ((ret = custody_restore(n, co, err, errlen)) != 0 ||
	    (ret = load_key(n, err, errlen)) != 0 ||
	    (ret = load_catalog(n, err, errlen)) != 0 ||
	    (ret = find_web_root(n, err, errlen)) != 0)
		goto out;
	/* A federation's catalog records may take its place (member.c). */
	n->catalog_file = catalog_ref(n->catalog);
out:
	free(abs);
	return ret;
}

/* One pool thread per core, unless the operator says otherwise: the pool
 * verifies and signs, and the store's writer has a thread of its own
 * (ingest.c), so more pool threads would only take CPU from it. libuv reads
 * this when the pool first starts. */
static void
size_pool(void)
{
	char nthreads[16];

	if (getenv("UV_THREADPOOL_SIZE") != NULL)
		return;
	snprintf(nthreads, sizeof(nthreads), "%u", uv_available_parallelism());
	setenv("UV_THREADPOOL_SIZE", nthreads, 0);
}

/* The bootstrap profile now, or once the first reconciliation has run. */
static void
settle_publishing(struct runner *r)
{
	struct node *n = r->n;
	struct peers_summary ps;

	uv_timer_init(n->loop, &r->profile);
	r->profile.data = r;
	/* Restoring: the wait's end settles them (restwatch.c). */
	if (restore_active(n))
		return;
	if (seq_next(n) != 1) {
		publish_settle(n);
		return;
	}
	peers_summary(n, &ps);
	if (ps.known == 0) {
		publish_initial_profile(n);
		publish_settle(n);
	} else {
		uv_timer_start(&r->profile, on_profile_timer, 200, 200);
	}
}

/* Everything that runs in the loop, in dependency order. 0, or a negative
 * code with err set; then what started is stopped. */
static int
start_services(struct runner *r, char *err, size_t errlen)
{
	struct node *n = r->n;
	uint64_t last;
	int ret;

	n->loop = uv_default_loop();
	n->started_ms = now_ms();
	n->started_mono = mono_ms();
	/* A seq read wrong would number new records from 1 again: forks. */
	if ((ret = store_last_seq(n->store, n->id->pk, &last)) != 0) {
		snprintf(err, errlen, "%s: cannot read this city's last seq from "
		    "the database (see the log above): lcnode does not start rather "
		    "than number new records from a wrong seq; check the disk and "
		    "the database, then start it again", n->cfg.dir);
		return ret;
	}
	seq_init(n, last);
	subscribe_all(n);
	if ((ret = members_open(n, err, errlen)) != 0 ||
	    (ret = switch_key(n, err, errlen)) != 0 ||
	    (ret = discover_open(n, err, errlen)) != 0 ||
	    (ret = beacon_open(n, err, errlen)) != 0 ||
	    (ret = peers_start(n, push_received, err, errlen)) != 0)
		goto out;
	peersync_start(n);
	quarantine_start(n);
	members_start(n);
	restwatch_start(n);
	if (n->cfg.has_federation)
		held_start(n);
	settle_publishing(r);
	/* Its endpoint record waits in the publish queue until seqs settle. */
	discover_start(n);
	/* So is its first beacon. */
	beacon_start(n);
	if ((ret = http_start(n, &n->http, err, errlen)) != 0 ||
	    (ret = control_start(n, &n->control, err, errlen)) != 0)
		stop_services(n);
out:
	return ret;
}

static void
start_signals(struct runner *r)
{
	uv_loop_t *loop = r->n->loop;

	uv_signal_init(loop, &r->sigterm);
	r->sigterm.data = r;
	uv_signal_start(&r->sigterm, on_signal, SIGTERM);
	uv_signal_init(loop, &r->sigint);
	r->sigint.data = r;
	uv_signal_start(&r->sigint, on_signal, SIGINT);
	uv_signal_init(loop, &r->sighup);
	r->sighup.data = r;
	uv_signal_start(&r->sighup, on_hangup, SIGHUP);
	uv_timer_init(loop, &r->deadline);
	r->deadline.data = r;
}

/* lcnode --walk-store DBDIR: the child of store_walk_child. A damaged page
 * may make LMDB abort here: no core file for it (the parent reports it). */
static int
walk_child(const char *dbdir)
{
	struct rlimit nocore = { 0, 0 };

	setrlimit(RLIMIT_CORE, &nocore);
	return store_walk_run(dbdir, stdout);
}

int
main(int argc, char **argv)
{
	struct node node;
	const char *dir = getenv("LCF_DIR");
	char err[1024], *dbpath = NULL, idhex[LCF_ID_HEX];
	int check_only = 0, verbose = 0, lockfd = -1, ret;
	struct runner runner;
	struct custody_opts co;
	struct store_walk_result walk;
	size_t i;
	int walked;

	memset(&node, 0, sizeof(node));
	memset(&runner, 0, sizeof(runner));
	memset(&walk, 0, sizeof(walk));
	runner.n = &node;
	/* The child that walks a store (store/walk.h): not for operators. */
	if (argc == 3 && strcmp(argv[1], STORE_WALK_OPTION) == 0)
		return walk_child(argv[2]);
	if ((ret = custody_options(&argc, argv, &co)) >= 0)
		return ret;
	if ((ret = parse_options(argc, argv, &dir, &check_only, &verbose)) >= 0)
		return ret;
	if (check_only && (co.restore_file != NULL || co.new_store)) {
		fprintf(stderr, "lcnode: -n checks only: give it without "
		    "--restore or --new-store\n");
		return 2;
	}
	ret = 1;
	log_init("lcnode", LOG_LEVEL_INFO);
	signal(SIGPIPE, SIG_IGN);
	/* Until the loop's handler is installed (start_signals). */
	signal(SIGHUP, SIG_IGN);
	if (sodium_init() < 0)
		fatalx("libsodium cannot be initialised");
	if (load_setup(&node, dir, verbose, &co, err, sizeof(err)) != 0) {
		log_failx("%s", err);
		goto out;
	}
	if (check_only) {
		printf("configuration OK\n");
		ret = 0;
		goto out;
	}
	if (lock_dir(&node, &lockfd, err, sizeof(err)) != 0) {
		log_failx("%s", err);
		goto out;
	}
	dbpath = xasprintf("%s/db", node.cfg.dir);
	notify_starting("checking the store");
	if (storecheck_start(&node, dbpath, &walk, &walked, err,
	    sizeof(err)) != 0) {
		log_failx("%s", err);
		goto out;
	}
	notify_starting("opening the store");
	if (custody_check_files(&node, &co, err, sizeof(err)) != 0 ||
	    store_open(dbpath, node.cfg.map_size, &node.store, err, sizeof(err)) != 0 ||
	    custody_check_store(&node, &co, err, sizeof(err)) != 0) {
		log_failx("%s", err);
		goto out;
	}
	/* Records the walk found damaged are moved aside once the loop runs
	 * (core/quarantine.c). */
	for (i = 0; i < walk.nbad_ids; i++)
		store_quarantine_note(node.store, walk.bad_ids[i], STORE_QUAR_ID);
	size_pool();
	if (start_services(&runner, err, sizeof(err)) != 0) {
		log_failx("%s", err);
		goto out_loop;
	}
	start_signals(&runner);
	log_info("lcnode %s serving %s: city %s (%s), catalog %s (%zu indicators)",
	    LCF_VERSION, node.cfg.dir, node.cfg.city ? node.cfg.city : "?",
	    hex_encode(node.id->pk, 32, idhex), node.catalog->source, node.catalog->n);
	/* Every port listens by now: READY=1 (notify.h). */
	notify_start(&node, &runner.notify);
	uv_run(node.loop, UV_RUN_DEFAULT);
	ret = 0;
out_loop:
	/* Commit what the writer holds, then let queued work finish and close
	 * every handle. */
	ingest_stop(&node);
	uv_walk(node.loop, close_walk, NULL);
	uv_run(node.loop, UV_RUN_DEFAULT);
	uv_loop_close(node.loop);
	if (ret == 0)
		log_info("stopped");
out:
	notify_free(runner.notify);
	http_free(node.http);
	peers_free(&node);
	measure_free(&node);
	restwatch_free(&node);
	ingest_free(&node);
	held_free(&node);
	discover_free(&node);
	beacon_free(&node);
	members_free(&node);
	store_close(node.store);
	if (ret == 0 && node.store != NULL)
		storecheck_clean_stop(&node, dbpath);
	store_walk_result_free(&walk);
	catalog_free(node.catalog);
	catalog_free(node.catalog_file);
	identity_free(node.id);
	config_free(&node.cfg);
	free(dbpath);
	if (lockfd >= 0)
		close(lockfd);
	return ret;
}
