// SPDX-License-Identifier: Apache-2.0
// Backup files: writing one from a running store, checking and installing one
// at start-up, and compacting a stopped node's store.
//
// The format (docs/ARCHITECTURE.md "Backup files"), all integers big-endian:
//   0   8  magic "LCFBKUP\n"
//   8   4  format version (1)
//   12  4  header length (160)
//   16  32 city id (Ed25519 public key)
//   48  32 the key's seed (secret: the file is written 0600)
//   80  8  length of the LMDB copy that follows the header
//   88  8  records, 96 8 cities, 104 8 creation time (Unix ms): for people
//   112 32 BLAKE2b-256 of the LMDB copy
//   144 16 zero
//   160 .. the LMDB copy (mdb_env_copyfd2 with MDB_CP_COMPACT)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "model/identity.h"
#include "store/backup.h"
#include "store/store.h"

#define OFF_VERSION 8
#define OFF_HLEN 12
#define OFF_CITY 16
#define OFF_SEED 48
#define OFF_LEN 80
#define OFF_RECORDS 88
#define OFF_CITIES 96
#define OFF_CREATED 104
#define OFF_HASH 112
#define HASH_LEN 32
#define COPY_CHUNK (1u << 20)

/* The folder of path (a fresh string). */
static char *
folder_of(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');

	if (slash == NULL) {
		free(dir);
		return xstrdup(".");
	}
	*(slash == dir ? slash + 1 : slash) = '\0';
	return dir;
}

/* Renames and links survive a crash only once their folder is on disk. */
static void
sync_folder(const char *path)
{
	char *dir = folder_of(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		if (fsync(fd) != 0)
			log_warn("fsync %s", dir);
		close(fd);
	}
	free(dir);
}

static int
write_all(int fd, const uint8_t *p, size_t len, off_t off)
{
	ssize_t n;

	while (len > 0) {
		n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return LCF_EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Hashes len bytes of fd from off; with out_fd >= 0 copies them there too
 * (from offset 0). */
static int
hash_span(int fd, off_t off, uint64_t len, int out_fd, uint8_t hash[HASH_LEN])
{
	crypto_generichash_state st;
	uint8_t *buf = xmalloc(COPY_CHUNK);
	uint64_t done = 0;
	size_t want;
	ssize_t n;
	int ret = LCF_EIO;

	crypto_generichash_init(&st, NULL, 0, HASH_LEN);
	while (done < len) {
		want = len - done < COPY_CHUNK ? (size_t)(len - done) : COPY_CHUNK;
		n = pread(fd, buf, want, off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			goto out;
		}
		crypto_generichash_update(&st, buf, (size_t)n);
		if (out_fd >= 0 && write_all(out_fd, buf, (size_t)n, (off_t)done) != 0)
			goto out;
		done += (uint64_t)n;
	}
	crypto_generichash_final(&st, hash, HASH_LEN);
	ret = 0;
out:
	free(buf);
	return ret;
}

/* The copy and the header into fd (a fresh, empty file). */
static int
fill_backup(struct store *s, const struct identity *id, int fd,
    struct backup_info *info)
{
	uint8_t hdr[BACKUP_HEADER_LEN];
	struct store_stats st;
	struct stat sb;
	int ret;

	memset(hdr, 0, sizeof(hdr));
	/* The counts are read just before the copy starts: the one line says
	 * what the store held then (a write in between adds to the copy). */
	if ((ret = store_stats(s, &st)) != 0)
		return ret;
	if (write_all(fd, hdr, sizeof(hdr), 0) != 0 ||
	    lseek(fd, BACKUP_HEADER_LEN, SEEK_SET) < 0)
		return LCF_EIO;
	if ((ret = store_copy_compact(s, fd)) != 0)
		return ret;
	if (fstat(fd, &sb) != 0 || sb.st_size < BACKUP_HEADER_LEN)
		return LCF_EIO;
	memcpy(hdr, BACKUP_MAGIC, 8);
	put_be32(hdr + OFF_VERSION, BACKUP_VERSION);
	put_be32(hdr + OFF_HLEN, BACKUP_HEADER_LEN);
	memcpy(hdr + OFF_CITY, id->pk, 32);
	crypto_sign_ed25519_sk_to_seed(hdr + OFF_SEED, id->sk);
	put_be64(hdr + OFF_LEN, (uint64_t)sb.st_size - BACKUP_HEADER_LEN);
	put_be64(hdr + OFF_RECORDS, st.records);
	put_be64(hdr + OFF_CITIES, st.authors);
	info->created_ms = now_ms();
	put_be64(hdr + OFF_CREATED, (uint64_t)info->created_ms);
	/* The checksum is of what is on the disk, read back. */
	ret = hash_span(fd, BACKUP_HEADER_LEN, (uint64_t)sb.st_size -
	    BACKUP_HEADER_LEN, -1, hdr + OFF_HASH);
	if (ret == 0)
		ret = write_all(fd, hdr, sizeof(hdr), 0);
	sodium_memzero(hdr, sizeof(hdr));
	if (ret == 0 && fsync(fd) != 0)
		ret = LCF_EIO;
	memcpy(info->city, id->pk, 32);
	info->records = st.records;
	info->cities = st.authors;
	info->bytes = (uint64_t)sb.st_size;
	return ret;
}

int
backup_write(struct store *s, const struct identity *id, const char *path,
    int force, struct backup_info *info, char *err, size_t errlen)
{
	char *dir = NULL, *tmp = NULL;
	int fd = -1, ret = LCF_EINVAL;

	memset(info, 0, sizeof(*info));
	if (path[0] != '/') {
		snprintf(err, errlen, "%s: the node needs an absolute path", path);
		goto out;
	}
	if (!force && access(path, F_OK) == 0) {
		snprintf(err, errlen, "%s exists: give --force to replace it", path);
		ret = LCF_EEXIST;
		goto out;
	}
	dir = folder_of(path);
	tmp = xasprintf("%s/.lcf-backup.XXXXXX", dir);
	/* mkstemp makes the file 0600 and exclusively; fchmod says so again
	 * whatever the umask. */
	if ((fd = mkstemp(tmp)) < 0 || fchmod(fd, 0600) != 0) {
		snprintf(err, errlen, "cannot create a file in %s: %s", dir,
		    strerror(errno));
		ret = LCF_EIO;
		if (fd < 0) {
			free(tmp);
			tmp = NULL;
		}
		goto out;
	}
	errno = 0;
	if ((ret = fill_backup(s, id, fd, info)) != 0) {
		snprintf(err, errlen, "cannot write the backup %s: %s%s%s", path,
		    lcf_strerror(ret), errno != 0 ? ": " : "",
		    errno != 0 ? strerror(errno) : "");
		goto out;
	}
	/* link() never replaces an existing file; rename() does, at once. */
	if (force ? rename(tmp, path) != 0 : link(tmp, path) != 0) {
		ret = errno == EEXIST ? LCF_EEXIST : LCF_EIO;
		snprintf(err, errlen, "%s: %s", path, errno == EEXIST ?
		    "exists: give --force to replace it" : strerror(errno));
		goto out;
	}
	if (force) {
		free(tmp);
		tmp = NULL;
	}
	sync_folder(path);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(dir);
	return ret;
}

/* ---- restoring ---- */

struct header {
	uint8_t city[32];
	uint64_t len;
	uint8_t hash[HASH_LEN];
};

/* Reads and checks the header of fd into h and the key into id. */
static int
read_header(int fd, const char *file, struct header *h, struct identity *id,
    struct backup_info *info, char *err, size_t errlen)
{
	uint8_t hdr[BACKUP_HEADER_LEN];
	struct stat sb;
	ssize_t n;
	int ret = LCF_EINVAL;

	n = pread(fd, hdr, sizeof(hdr), 0);
	if (fstat(fd, &sb) != 0 || n < 0) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return LCF_EIO;
	}
	if ((size_t)n < sizeof(hdr) || memcmp(hdr, BACKUP_MAGIC, 8) != 0) {
		snprintf(err, errlen, "%s is not an lcf backup (no LCFBKUP header)",
		    file);
		goto out;
	}
	if (get_be32(hdr + OFF_VERSION) != BACKUP_VERSION ||
	    get_be32(hdr + OFF_HLEN) != BACKUP_HEADER_LEN) {
		snprintf(err, errlen, "%s: backup format version %u, this lcnode "
		    "reads version %d", file, get_be32(hdr + OFF_VERSION),
		    BACKUP_VERSION);
		goto out;
	}
	h->len = get_be64(hdr + OFF_LEN);
	if ((uint64_t)sb.st_size != BACKUP_HEADER_LEN + h->len) {
		snprintf(err, errlen, "%s is %llu bytes, its header says %llu: the "
		    "file is cut short or damaged", file,
		    (unsigned long long)sb.st_size,
		    (unsigned long long)(BACKUP_HEADER_LEN + h->len));
		goto out;
	}
	crypto_sign_seed_keypair(id->pk, id->sk, hdr + OFF_SEED);
	memcpy(h->city, hdr + OFF_CITY, 32);
	if (memcmp(id->pk, h->city, 32) != 0) {
		snprintf(err, errlen, "%s: the key it holds is not the key of the "
		    "city it names: the file is damaged", file);
		goto out;
	}
	memcpy(h->hash, hdr + OFF_HASH, HASH_LEN);
	memcpy(info->city, h->city, 32);
	info->records = get_be64(hdr + OFF_RECORDS);
	info->cities = get_be64(hdr + OFF_CITIES);
	info->created_ms = (int64_t)get_be64(hdr + OFF_CREATED);
	info->bytes = (uint64_t)sb.st_size;
	ret = 0;
out:
	sodium_memzero(hdr, sizeof(hdr));
	return ret;
}

/* The copy into dir/data.mdb (dir made fresh), checked against the hash. */
static int
extract_copy(int fd, const char *file, const struct header *h, const char *dir,
    char *err, size_t errlen)
{
	char *data = xasprintf("%s/data.mdb", dir), *lock = xasprintf("%s/lock.mdb", dir);
	uint8_t hash[HASH_LEN];
	int out = -1, ret = LCF_EIO;

	unlink(data);
	unlink(lock);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	if ((out = open(data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 ||
	    hash_span(fd, BACKUP_HEADER_LEN, h->len, out, hash) != 0 ||
	    fsync(out) != 0) {
		snprintf(err, errlen, "cannot copy the store of %s into %s: %s",
		    file, data, strerror(errno));
		goto out;
	}
	if (sodium_memcmp(hash, h->hash, HASH_LEN) != 0) {
		snprintf(err, errlen, "%s: the store it holds does not match its "
		    "checksum: the file is damaged", file);
		ret = LCF_EINVAL;
		goto out;
	}
	ret = 0;
out:
	if (out >= 0)
		close(out);
	free(data);
	free(lock);
	return ret;
}

/* The copy in dir opens as a store and records the backup's city. */
static int
check_copy(const char *dir, const char *file, const struct header *h,
    uint64_t map_size, struct backup_info *info, char *err, size_t errlen)
{
	struct store *s = NULL;
	struct store_stats st;
	uint8_t city[64];
	size_t len;
	int ret;

	if ((ret = store_open(dir, map_size, &s, err, errlen)) != 0)
		goto out;
	ret = store_meta_get(s, "city", city, sizeof(city), &len);
	if (ret != 0 || len != 32 || memcmp(city, h->city, 32) != 0) {
		snprintf(err, errlen, "%s: the store it holds %s", file, ret != 0 ?
		    "records no city" : "belongs to another city than its key");
		ret = LCF_EINVAL;
		goto out;
	}
	if ((ret = store_stats(s, &st)) != 0) {
		snprintf(err, errlen, "%s: cannot read the store it holds", file);
		goto out;
	}
	info->records = st.records;
	info->cities = st.authors;
out:
	store_close(s);
	return ret;
}

/* The key file: written from the backup when there is none; one of another
 * city is refused, unless the caller says it never published (flags), when
 * it is kept as KEY.unused-ID12. */
static int
install_key(const struct identity *id, const char *key_path, const char *file,
    unsigned flags, char *err, size_t errlen)
{
	struct identity *cur = identity_new();
	char have[LCF_ID_HEX], want[LCF_ID_HEX], *aside = NULL;
	int ret = LCF_ENOMEM, rc;

	if (cur == NULL)
		goto out;
	hex_encode(id->pk, 32, want);
	if ((rc = identity_load(cur, key_path)) == 0) {
		hex_encode(cur->pk, 32, have);
		if (memcmp(cur->pk, id->pk, 32) == 0) {
			ret = 0;
			goto out;
		}
		if (!(flags & BACKUP_KEY_UNUSED)) {
			snprintf(err, errlen, "%s is the key of city %s, and %s is a "
			    "backup of city %s: restore it into another data "
			    "directory, or move that key away first", key_path,
			    have, file, want);
			ret = LCF_EPERM;
			goto out;
		}
		aside = xasprintf("%s.unused-%.12s", key_path, have);
		if (rename(key_path, aside) != 0) {
			snprintf(err, errlen, "cannot move %s to %s: %s", key_path,
			    aside, strerror(errno));
			ret = LCF_EIO;
			goto out;
		}
		log_info("restore: %s was a key that never published (city %s): "
		    "kept as %s", key_path, have, aside);
	} else if (rc != LCF_EIO || errno != ENOENT) {
		snprintf(err, errlen, "%s cannot be read (%s): move it away, then "
		    "restore again", key_path, lcf_strerror(rc));
		ret = rc;
		goto out;
	}
	if ((ret = identity_save(id, key_path)) != 0)
		snprintf(err, errlen, "cannot write the key %s: %s", key_path,
		    strerror(errno));
out:
	identity_free(cur);
	free(aside);
	return ret;
}

/* A copy that was refused or not installed goes: it is only a copy. */
static void
remove_copy(const char *dir)
{
	char *data = xasprintf("%s/data.mdb", dir), *lock = xasprintf("%s/lock.mdb", dir);

	unlink(data);
	unlink(lock);
	rmdir(dir);
	free(data);
	free(lock);
}

int
backup_install(const char *file, const char *dbdir, const char *key_path,
    unsigned flags, uint64_t map_size, struct backup_info *info, char *err,
    size_t errlen)
{
	struct identity *id = identity_new();
	char *tmp = xasprintf("%s.restore", dbdir), *old = NULL;
	struct header h;
	struct stat sb;
	int fd = -1, ret = LCF_EIO;

	memset(info, 0, sizeof(*info));
	if (id == NULL) {
		snprintf(err, errlen, "cannot allocate guarded memory for the key");
		ret = LCF_ENOMEM;
		goto out;
	}
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		goto out;
	}
	if ((ret = read_header(fd, file, &h, id, info, err, errlen)) != 0 ||
	    (ret = extract_copy(fd, file, &h, tmp, err, errlen)) != 0 ||
	    (ret = check_copy(tmp, file, &h, map_size, info, err, errlen)) != 0 ||
	    (ret = install_key(id, key_path, file, flags, err, errlen)) != 0)
		goto out;
	/* The store the directory held is kept, never deleted. */
	if (stat(dbdir, &sb) == 0) {
		old = xasprintf("%s.before-restore-%lld", dbdir,
		    (long long)time(NULL));
		if (rename(dbdir, old) != 0) {
			snprintf(err, errlen, "cannot move %s to %s: %s", dbdir, old,
			    strerror(errno));
			ret = LCF_EIO;
			goto out;
		}
		log_info("restore: the store that was in %s is kept as %s", dbdir,
		    old);
	}
	if (rename(tmp, dbdir) != 0) {
		snprintf(err, errlen, "cannot move %s to %s: %s", tmp, dbdir,
		    strerror(errno));
		/* The store the directory held goes back where it was. */
		if (old != NULL && rename(old, dbdir) != 0)
			log_warn("restore: cannot move %s back to %s", old, dbdir);
		ret = LCF_EIO;
		goto out;
	}
	sync_folder(dbdir);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret != 0)
		remove_copy(tmp);
	identity_free(id);
	free(tmp);
	free(old);
	return ret;
}

/* ---- compacting ---- */

int
backup_compact(const char *dbdir, uint64_t *before, uint64_t *after,
    char *err, size_t errlen)
{
	char *data = xasprintf("%s/data.mdb", dbdir);
	char *tmp = xasprintf("%s/data.mdb.compact", dbdir);
	MDB_env *env = NULL;
	struct stat sb;
	int fd = -1, rc, ret = LCF_EIO;

	*before = *after = 0;
	if (stat(data, &sb) != 0) {
		snprintf(err, errlen, "%s: %s", data, strerror(errno));
		goto out;
	}
	/* Blocks on the disk: with MDB_WRITEMAP the file is sparse and as
	 * long as the map, so its length says nothing. */
	*before = (uint64_t)sb.st_blocks * 512;
	unlink(tmp);
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 16)) != 0 ||
	    (rc = mdb_env_open(env, dbdir, MDB_RDONLY, 0600)) != 0) {
		snprintf(err, errlen, "cannot open database %s: %s", dbdir,
		    mdb_strerror(rc));
		ret = LCF_ESTORE;
		goto out;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if ((rc = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT)) != 0 ||
	    fsync(fd) != 0 || fstat(fd, &sb) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, rc != 0 ?
		    mdb_strerror(rc) : strerror(errno));
		goto out;
	}
	*after = (uint64_t)sb.st_blocks * 512;
	mdb_env_close(env);
	env = NULL;
	if (rename(tmp, data) != 0) {
		snprintf(err, errlen, "cannot move %s to %s: %s", tmp, data,
		    strerror(errno));
		goto out;
	}
	sync_folder(data);
	ret = 0;
out:
	if (env != NULL)
		mdb_env_close(env);
	if (fd >= 0)
		close(fd);
	if (ret != 0)
		unlink(tmp);
	free(data);
	free(tmp);
	return ret;
}
