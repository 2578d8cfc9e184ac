// SPDX-License-Identifier: Apache-2.0
// The city's custody of its key and store: which city a store belongs to
// (meta "city", 32 bytes), the marker that its key has published, and the
// start-up checks that refuse a store, key or marker that do not agree.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "core/custody.h"
#include "core/node.h"
#include "core/restore.h"
#include "model/identity.h"
#include "core/lineage.h"
#include "store/backup.h"
#include "store/store.h"

#define META_CITY "city"

int
custody_options(int *argc, char **argv, struct custody_opts *o)
{
	int i, j = 1;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < *argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--new-store") == 0) {
			o->new_store = 1;
		} else if (strncmp(argv[i], "--restore=", 10) == 0) {
			o->restore_file = argv[i] + 10;
		} else if (strcmp(argv[i], "--restore") == 0) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "lcnode: --restore needs a FILE (a "
				    "backup made by `lcctl backup`)\n");
				return 2;
			}
			o->restore_file = argv[++i];
		} else {
			argv[j++] = argv[i];
		}
	}
	argv[j] = NULL;
	*argc = j;
	if (o->restore_file != NULL && (o->restore_file[0] == '\0' ||
	    o->new_store)) {
		fprintf(stderr, "lcnode: %s\n", o->new_store ? "give --restore "
		    "FILE or --new-store, not both" : "--restore needs a FILE");
		return 2;
	}
	return -1;
}

/* The marker's path (a fresh string). */
static char *
marker_path(const struct node *n)
{
	const char *k = n->cfg.key_path;
	size_t len = strlen(k);

	if (len > 4 && strcmp(k + len - 4, ".key") == 0)
		return xasprintf("%.*s.published", (int)(len - 4), k);
	return xasprintf("%s.published", k);
}

/* The marker's city into id: 0, LCF_ENOTFOUND (no marker), LCF_EINVAL. */
static int
marker_read(const char *path, uint8_t id[32])
{
	char *buf = NULL;
	size_t len, ml = strlen(CUSTODY_MARKER_MAGIC);
	int ret;

	if ((ret = read_file(path, 4096, &buf, &len)) != 0)
		return errno == ENOENT ? LCF_ENOTFOUND : LCF_EINVAL;
	ret = LCF_EINVAL;
	if (len >= ml + 64 && memcmp(buf, CUSTODY_MARKER_MAGIC, ml) == 0) {
		buf[ml + 64] = '\0';
		if (hex_decode(buf + ml, id, 32) == 0)
			ret = 0;
	}
	free(buf);
	return ret;
}

static int
marker_write(struct node *n)
{
	char *path = marker_path(n), line[sizeof(CUSTODY_MARKER_MAGIC) + 66];
	char hex[LCF_ID_HEX];
	int ret;

	snprintf(line, sizeof(line), "%s%s\n", CUSTODY_MARKER_MAGIC,
	    hex_encode(n->id->pk, 32, hex));
	if ((ret = write_file_atomic(path, line, strlen(line), 0600)) != 0)
		log_warn("cannot write %s", path);
	else
		n->key_published = 1;
	free(path);
	return ret;
}

int
custody_mark_published(struct node *n)
{
	return n->key_published ? 0 : marker_write(n);
}

/* The key never published: no marker beside it and no store (the key of a
 * fresh `lcctl init`, made to restore a backup into the directory). */
static int
key_unused(const struct node *n)
{
	char *marker = marker_path(n);
	char *data = xasprintf("%s/db/data.mdb", n->cfg.dir);
	struct stat st;
	int unused;

	unused = access(marker, F_OK) != 0 &&
	    (stat(data, &st) != 0 || st.st_size == 0);
	free(marker);
	free(data);
	return unused;
}

/* 1 when a node answers on DIR/admin.sock. */
static int
admin_answers(const char *dir)
{
	struct sockaddr_un sa;
	int fd, up = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/admin.sock",
	    dir) >= sizeof(sa.sun_path))
		return 0;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	up = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return up;
}

int
custody_restore(struct node *n, const struct custody_opts *o, char *err,
    size_t errlen)
{
	char *lock = NULL, *db = NULL, hex[LCF_ID_HEX];
	struct backup_info info;
	int fd = -1, ret;

	if (o->restore_file == NULL)
		return 0;
	lock = xasprintf("%s/lcnode.lock", n->cfg.dir);
	db = xasprintf("%s/db", n->cfg.dir);
	/* The lock every lcnode holds (and lcctl compact): taken for the
	 * install, then given back for main's own. */
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0 ||
	    admin_answers(n->cfg.dir)) {
		snprintf(err, errlen, "%s: %s: stop the node serving %s before "
		    "restoring", lock, fd < 0 ? strerror(errno) :
		    "held by a running lcnode (or its admin socket answers)",
		    n->cfg.dir);
		ret = LCF_EBUSY;
		goto out;
	}
	if ((ret = backup_install(o->restore_file, db, n->cfg.key_path,
	    key_unused(n) ? BACKUP_KEY_UNUSED : 0, n->cfg.map_size, &info, err,
	    errlen)) != 0)
		goto out;
	log_info("restore: installed %s: %llu records of %llu cities, city %s; "
	    "publishing waits until this city's newest records are learnt from "
	    "its peers", o->restore_file, (unsigned long long)info.records,
	    (unsigned long long)info.cities, hex_encode(info.city, 32, hex));
out:
	if (fd >= 0)
		close(fd);
	free(lock);
	free(db);
	return ret;
}

/* The marker against the key: *published is set when there is one. When it
 * names another city than the key, that is a rotation (the retired key of
 * that city is kept beside the key) or a changed key file. */
static int
check_marker(struct node *n, const char *marker, int *published, char *err,
    size_t errlen)
{
	uint8_t id[32];
	char have[LCF_ID_HEX], want[LCF_ID_HEX], *retired;
	int rc, ret = 0;

	if ((rc = marker_read(marker, id)) == LCF_ENOTFOUND)
		return 0;
	if (rc != 0) {
		snprintf(err, errlen, "%s is damaged (it should hold \"%s\" and the "
		    "city id in hex): write it again with this city's id, or "
		    "restore this city's backup (`lcnode -d %s --restore FILE`)",
		    marker, CUSTODY_MARKER_MAGIC, n->cfg.dir);
		return LCF_EINVAL;
	}
	*published = 1;
	hex_encode(id, 32, want);
	if (memcmp(id, n->id->pk, 32) == 0) {
		n->key_published = 1;
		return 0;
	}
	retired = xasprintf("%s%s%.12s", n->cfg.key_path, IDENTITY_RETIRED_SUFFIX,
	    want);
	if (access(retired, F_OK) != 0) {
		snprintf(err, errlen, "%s is the key of city %s, but %s records that "
		    "this node published as city %s: the key file was changed or "
		    "replaced (one changed digit makes another city). Put back the "
		    "key of city %s, e.g. from your backup with `lcnode -d %s "
		    "--restore FILE`; do not remove %s", n->cfg.key_path,
		    hex_encode(n->id->pk, 32, have), marker, want, want,
		    n->cfg.dir, marker);
		ret = LCF_EPERM;
	}
	/* Else the key was rotated: the marker is written again at the
	 * first publish (key_published stays 0). */
	free(retired);
	return ret;
}

int
custody_check_files(struct node *n, const struct custody_opts *o, char *err,
    size_t errlen)
{
	char *marker = marker_path(n);
	char *data = xasprintf("%s/db/data.mdb", n->cfg.dir);
	struct stat st;
	int ret, missing, empty, published = 0;

	if ((ret = check_marker(n, marker, &published, err, errlen)) != 0)
		goto out;
	missing = stat(data, &st) != 0;
	empty = !missing && st.st_size == 0;
	if (o->new_store && !missing && !empty) {
		snprintf(err, errlen, "--new-store: %s exists: move %s/db away "
		    "first (lcnode never deletes a store)", data, n->cfg.dir);
		ret = LCF_EEXIST;
	} else if (published && (missing || empty) && !o->new_store) {
		snprintf(err, errlen, "%s is %s, but the key %s has published "
		    "records (%s): an empty node would number this city's records "
		    "from 1 again and fork them. Restore this city's backup with "
		    "`lcnode -d %s --restore FILE`, or start an empty store on "
		    "purpose with `lcnode -d %s --new-store` (it learns this city's "
		    "records from its peers before it publishes)", data,
		    missing ? "missing" : "empty", n->cfg.key_path, marker,
		    n->cfg.dir, n->cfg.dir);
		ret = LCF_ENOTFOUND;
	}
out:
	free(marker);
	free(data);
	return ret;
}

/* The store records another city than the key's: accepted only when that
 * city handed over to this key (a succession stored here). */
static int
check_city(struct node *n, const uint8_t city[32], char *err, size_t errlen)
{
	char have[LCF_ID_HEX], want[LCF_ID_HEX];

	if (lineage_handed_over(n->store, city, n->id->pk))
		return store_meta_put(n->store, META_CITY, n->id->pk, 32);
	snprintf(err, errlen, "%s/db belongs to city %s (recorded in the store), "
	    "but the key %s is city %s: the key file was changed or replaced, or "
	    "the store is another city's. Put back the key of city %s (from your "
	    "backup: `lcnode -d %s --restore FILE`); to run this key on an empty "
	    "store instead, move %s/db away and start with `--new-store`",
	    n->cfg.dir, hex_encode(city, 32, want), n->cfg.key_path,
	    hex_encode(n->id->pk, 32, have), want, n->cfg.dir, n->cfg.dir);
	return LCF_EPERM;
}

/* No city recorded: a new store, or one made before the check. */
static int
first_open(struct node *n, const struct custody_opts *o, char *err,
    size_t errlen)
{
	struct store_stats st;
	int ret;

	if ((ret = store_stats(n->store, &st)) != 0) {
		snprintf(err, errlen, "%s/db: cannot read the store", n->cfg.dir);
		return ret;
	}
	if (st.records == 0 && n->key_published && !o->new_store) {
		snprintf(err, errlen, "%s/db holds no record, but the key %s has "
		    "published records: restore this city's backup with `lcnode "
		    "-d %s --restore FILE`, or move %s/db away and start an empty "
		    "store on purpose with `--new-store`", n->cfg.dir,
		    n->cfg.key_path, n->cfg.dir, n->cfg.dir);
		return LCF_ENOTFOUND;
	}
	/* A store that holds records opens on a full disk, to be read: then
	 * the city is recorded at a later start, and the marker before the
	 * first publish (publish_settle). */
	if ((ret = store_meta_put(n->store, META_CITY, n->id->pk, 32)) != 0) {
		if (st.records == 0) {
			snprintf(err, errlen, "%s/db: cannot record its city: %s",
			    n->cfg.dir, lcf_strerror(ret));
			return ret;
		}
		log_warnx("%s/db: cannot record its city now: %s", n->cfg.dir,
		    lcf_strerror(ret));
	}
	/* A store made before the check that holds records counts as
	 * published: its key may well have. */
	if (st.records > 0 && custody_mark_published(n) != 0)
		log_warnx("cannot write the published marker beside %s now: "
		    "this city publishes nothing until it can", n->cfg.key_path);
	return 0;
}

int
custody_check_store(struct node *n, const struct custody_opts *o, char *err,
    size_t errlen)
{
	uint8_t city[64];
	size_t len;
	int ret;

	ret = store_meta_get(n->store, META_CITY, city, sizeof(city), &len);
	if (ret == 0 && len == 32)
		ret = memcmp(city, n->id->pk, 32) == 0 ? 0 :
		    check_city(n, city, err, errlen);
	else if (ret == LCF_ENOTFOUND)
		ret = first_open(n, o, err, errlen);
	else {
		snprintf(err, errlen, "%s/db: cannot read the city it records",
		    n->cfg.dir);
		ret = LCF_ESTORE;
	}
	if (ret != 0)
		return ret;
	if ((ret = restore_load(n)) != 0) {
		snprintf(err, errlen, "%s/db: cannot read the restore state",
		    n->cfg.dir);
		return ret;
	}
	if (o->restore_file != NULL || o->new_store) {
		ret = restore_begin(n, o->new_store ? RESTORE_NEW_STORE :
		    RESTORE_BACKUP);
		if (ret == 0 && o->restore_file != NULL)
			ret = custody_mark_published(n);
		if (ret != 0)
			snprintf(err, errlen, "%s/db: cannot enter the restore "
			    "state: %s", n->cfg.dir, lcf_strerror(ret));
	}
	return ret;
}

int
custody_key_switched(struct node *n)
{
	int ret;

	if ((ret = store_meta_put(n->store, META_CITY, n->id->pk, 32)) != 0)
		return ret;
	n->key_published = 0;
	return marker_write(n);
}
