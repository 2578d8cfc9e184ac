/* SPDX-License-Identifier: Apache-2.0 */
/* Backup files (a city's key and a compacted copy of its store), restoring
 * one into a data directory, and compacting a stopped node's store. */
#ifndef LCF_BACKUP_H
#define LCF_BACKUP_H

#include <stddef.h>
#include <stdint.h>

struct identity;
struct store;

/* The format (docs/ARCHITECTURE.md "Backup files"): a header of
 * BACKUP_HEADER_LEN bytes, then the LMDB copy. */
#define BACKUP_MAGIC "LCFBKUP\n"
#define BACKUP_VERSION 1
#define BACKUP_HEADER_LEN 160

/* What a backup holds, for its one line. */
struct backup_info {
	uint8_t city[32];            /* the city id (public key) */
	uint64_t records;            /* every stored version */
	uint64_t cities;             /* authors with records */
	uint64_t bytes;              /* the whole file */
	int64_t created_ms;
};

/* Writes a backup of s (a compacted copy from one read transaction, so writers
 * go on) and the key id to path, which must be absolute: first to a temporary
 * file in path's folder, mode 0600, made exclusively, then linked to path
 * (never over an existing file: LCF_EEXIST) or, with force, renamed over it.
 * No partial file is ever at path. Blocks: call it from a pool thread. 0 or a
 * negative code with err set (a sentence naming the file). */
int backup_write(struct store *s, const struct identity *id, const char *path,
    int force, struct backup_info *info, char *err, size_t errlen);

/* Checks the backup file (magic, version, length, checksum of the copy, the
 * key against the city id, the copy opens and records that city) and installs
 * it: the copy becomes dbdir (an existing dbdir is kept as
 * dbdir.before-restore-UNIXTIME), the key is written to key_path when there
 * is none (an existing key of another city is refused; with flags
 * BACKUP_KEY_UNUSED, the caller knowing that it never published, it is kept
 * as KEY.unused-ID12 instead). Start-up only: no node may be serving dbdir.
 * 0 or a negative code with err set. */
#define BACKUP_KEY_UNUSED 1u
int backup_install(const char *file, const char *dbdir, const char *key_path,
    unsigned flags, uint64_t map_size, struct backup_info *info, char *err,
    size_t errlen);

/* Compacts the store in dbdir, whose node must be stopped (the caller holds
 * the data directory's lock): a compacted copy written beside data.mdb, then
 * renamed over it. *before and *after receive the bytes the file takes on
 * the disk (its blocks: the store's file is sparse). 0 or a
 * negative code with err set. */
int backup_compact(const char *dbdir, uint64_t *before, uint64_t *after,
    char *err, size_t errlen);

#endif
