/* SPDX-License-Identifier: Apache-2.0 */
/* A streamed import: chunks of drafts checked and signed in the pool, written in one transaction. */
#ifndef LCF_IMPORT_H
#define LCF_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "write/publish.h"

struct node;
struct import;

#define IMPORT_CHUNK_MAX_DRAFTS 4096          /* drafts in one chunk */
#define IMPORT_CHUNK_MAX_BYTES (8u << 20)     /* serialized drafts in one chunk */
#define IMPORT_MAX_DRAFTS 1000000             /* drafts in one import */

/* The import's one answer: res->ids is NULL (an import answers with counts).
 * Called once from the loop, when the import is stored or as soon as it fails
 * (the store is then left as it was), unless import_abort came first. */
typedef void (*import_done_cb)(void *arg, const struct publish_result *res);
/* import_full has turned false: the caller may hand in the next chunk. */
typedef void (*import_room_cb)(void *arg);

/* Opens an import session. It waits for its turn at the writer (publish.h),
 * then holds the store's one write transaction until it ends: publish jobs
 * queue behind it and records from peers wait to be written. The session frees
 * itself once it has ended; the caller's handle is valid until done has been
 * called or import_abort has returned. */
struct import *import_begin(struct node *n, import_done_cb done,
    import_room_cb room, void *arg);

/* Hands in the next chunk: drafts is a serialized DraftBatch of count drafts,
 * taken over (freed by the session, also on error). last commits the import
 * once every chunk is stored. Call only while import_full is false and done has
 * not been called. Returns 0, or LCF_EINVAL/LCF_ETOOBIG for a chunk over the
 * limits above; the import has then failed and done has been called. */
int import_chunk(struct import *imp, uint8_t *drafts, size_t len, size_t count,
    int last);

/* 1 when the session holds as many chunks as it works on at once: the caller
 * stops reading until room is called. This bounds the node's memory. */
int import_full(const struct import *imp);

/* The client went away: nothing is stored, the seqs given out are taken back,
 * and no callback is called any more. */
void import_abort(struct import *imp);

#endif
