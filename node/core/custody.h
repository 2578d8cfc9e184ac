/* SPDX-License-Identifier: Apache-2.0 */
/* The city's custody of its key and store: start-up identity checks, the
 * marker that the key has published, restoring a backup, a new store. */
#ifndef LCF_CUSTODY_H
#define LCF_CUSTODY_H

#include <stddef.h>

struct node;

/* The marker beside the key (KEY with ".key" replaced by ".published"):
 * "lcf-published-v1 " and the city id in hex, mode 0600. */
#define CUSTODY_MARKER_MAGIC "lcf-published-v1 "

/* lcnode's options for it. */
struct custody_opts {
	const char *restore_file;    /* --restore FILE */
	int new_store;               /* --new-store */
};

/* Takes --restore FILE (or --restore=FILE) and --new-store out of argv
 * (*argc shrinks), so the other options parse as before. -1 to go on, or an
 * exit code (2) after a message on stderr. */
int custody_options(int *argc, char **argv, struct custody_opts *o);

/* With --restore: checks and installs the backup into n->cfg's data
 * directory (store and, when missing, key), refusing while a node serves it.
 * Call after the configuration is read and before the key is loaded. 0 or a
 * negative code with err set. */
int custody_restore(struct node *n, const struct custody_opts *o, char *err,
    size_t errlen);

/* Before the store opens (the key is loaded): the marker against the key,
 * and a missing or empty data.mdb beside a key that has published. 0 or a
 * negative code with err a message naming the file and what to do. */
int custody_check_files(struct node *n, const struct custody_opts *o,
    char *err, size_t errlen);

/* After the store opened: the city it records against the key (recorded at
 * the first open, stores made before this check included), the restore
 * state loaded, and entered for --restore and --new-store. 0 or a negative
 * code with err set. */
int custody_check_store(struct node *n, const struct custody_opts *o,
    char *err, size_t errlen);

/* Writes the marker (once per run; it is kept) before the node numbers its
 * own first record. 0 or LCF_EIO (errno set): then nothing may be
 * published. */
int custody_mark_published(struct node *n);

/* The key switched (succession): the store and the marker record the new
 * one. 0 or a negative code. */
int custody_key_switched(struct node *n);

#endif
