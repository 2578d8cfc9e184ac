// SPDX-License-Identifier: Apache-2.0
// The restore state, kept in the store's meta so that it survives a restart.
//
// Meta "restore": 9 bytes, the reason (1) and the wall clock when the state
// began (8, Unix ms, big-endian); absent when the node is not restoring.
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "core/node.h"
#include "core/restore.h"
#include "store/store.h"

#define META_RESTORE "restore"
#define RESTORE_VAL_LEN 9

int
restore_load(struct node *n)
{
	uint8_t v[RESTORE_VAL_LEN];
	size_t len;
	int rc;

	memset(&n->restore, 0, sizeof(n->restore));
	rc = store_meta_get(n->store, META_RESTORE, v, sizeof(v), &len);
	if (rc == LCF_ENOTFOUND)
		return 0;
	if (rc != 0 || len != RESTORE_VAL_LEN || v[0] == RESTORE_NONE ||
	    v[0] > RESTORE_NEW_STORE) {
		log_warnx("store: the restore state cannot be read (%s)",
		    rc != 0 ? lcf_strerror(rc) : "malformed");
		return LCF_ESTORE;
	}
	n->restore.reason = v[0];
	n->restore.since_ms = (int64_t)get_be64(v + 1);
	return 0;
}

int
restore_begin(struct node *n, enum restore_reason why)
{
	uint8_t v[RESTORE_VAL_LEN];
	int64_t now = now_ms();
	int rc;

	v[0] = (uint8_t)why;
	put_be64(v + 1, (uint64_t)now);
	if ((rc = store_meta_put(n->store, META_RESTORE, v, sizeof(v))) != 0)
		return rc;
	n->restore.reason = why;
	n->restore.since_ms = now;
	return 0;
}

int
restore_end(struct node *n)
{
	int rc;

	if ((rc = store_meta_put(n->store, META_RESTORE, NULL, 0)) != 0)
		return rc;
	memset(&n->restore, 0, sizeof(n->restore));
	return 0;
}

int
restore_active(const struct node *n)
{
	return n->restore.reason != RESTORE_NONE;
}

const char *
restore_reason_text(const struct node *n)
{
	return n->restore.reason == RESTORE_NEW_STORE ? "started on a new store" :
	    "restored from a backup";
}
