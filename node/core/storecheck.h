/* SPDX-License-Identifier: Apache-2.0 */
/* At start, a store that may be damaged (no clean stop since it was last written) is walked in a child process before the node opens it. */
#ifndef LCF_STORECHECK_H
#define LCF_STORECHECK_H

#include <stddef.h>

struct node;
struct store_walk_result;

/* The mark a clean stop leaves in the data directory: the size, modification
 * time and inode of DIR/db/data.mdb when the node stopped. */
#define STORECHECK_MARK "clean-stop"

/* Before the store is opened: when DIR/db/data.mdb exists and the mark does
 * not match it (an unclean stop, or the file changed while the node was
 * stopped), walks it in a child (store/walk.h) into r; then removes the
 * mark, so that only a clean stop leaves one. *walked says whether it did.
 * 0 to go on (r->bad_ids: records to quarantine once the store is open), or
 * LCF_ESTORE with err naming the file, what was found and the way out
 * (restore a backup, or rebuild from peers with --new-store). */
int storecheck_start(struct node *n, const char *dbpath,
    struct store_walk_result *r, int *walked, char *err, size_t errlen);
/* After a clean stop, the store closed: writes the mark (a failure is only
 * logged: the next start walks). */
void storecheck_clean_stop(struct node *n, const char *dbpath);

#endif
