/* SPDX-License-Identifier: Apache-2.0 */
/* Set reconciliation of record ids: an O(1) set digest and invertible Bloom lookup tables. */
#ifndef LCF_IBLT_H
#define LCF_IBLT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Definitions (docs/PROTOCOL.md repeats them; another implementation must match
 * them bit for bit). All integers are little-endian. SipHash is SipHash-2-4 with a
 * 64-bit output (libsodium crypto_shorthash), its 8 output bytes read as a
 * little-endian uint64.
 *
 * - key(id)    = the first 8 bytes of the 32-byte record id, as a uint64.
 * - check(key) = the low 32 bits of SipHash(k = 16 zero bytes, m = key as 8 bytes).
 * - Classes: C = 3 * 64 * 2^n cells for n = 0..8 (192, 384, 768, 1536, 3072,
 *   6144, 12288, 24576, 49152). A table is three sub-tables of m = C / 3 cells
 *   (a power of two).
 * - h_n(key)   = SipHash(k = K_n, m = key as 8 bytes), where K_n is 16 bytes:
 *   byte 0 is n + 1, bytes 1..15 are zero.
 * - The key's cells in class n are pos_i = i * m + ((h_n >> (21 * i)) mod m)
 *   for i = 0, 1, 2: one per sub-table, so always three distinct cells.
 * - A cell is {int32 count; uint64 keysum; uint32 hashsum}; adding a key with
 *   sign s (+1 insert, -1 remove) does count += s, keysum ^= key,
 *   hashsum ^= check(key) in each of its three cells. Serialized, a cell is 16
 *   bytes: count (int32, two's complement), keysum (uint64), hashsum (uint32);
 *   a table is its cells in index order, C * 16 bytes.
 * - Set digest: sum = the ids as 256-bit little-endian integers added modulo
 *   2^256, count = number of ids (mod 2^64); digest = the first 16 bytes of
 *   BLAKE2b with a 32-byte output and no key of sum (32 bytes) || count (8 bytes).
 */

#define IBLT_NCLASSES 9
#define IBLT_CELL_BYTES 16
#define IBLT_ID_LEN 32
#define IBLT_DIGEST_BYTES 16

/* Cells as held in memory. count is kept unsigned so that hostile counts wrap
 * instead of overflowing; it carries the int32 of the wire as two's complement. */
struct iblt_cell {
	uint32_t count;
	uint32_t hashsum;
	uint64_t keysum;
};

/* A table of one size class. Initialize with iblt_init, iblt_parse or
 * iblt_set_snapshot; release with iblt_free. A zeroed struct is empty and may be
 * freed. Not thread-safe: one owner at a time. */
struct iblt {
	int cls;
	uint32_t ncells;
	struct iblt_cell *cells;
};

/* Count and sum of a set of ids. A zeroed struct is the empty set. */
struct iblt_digest {
	uint64_t count;
	uint8_t sum[32];
};

/* Decoded key: side is +1 when the key is only in a, -1 when only in b (for a
 * table that was a - b). Return non-zero to stop; iblt_decode returns that value. */
typedef int (*iblt_decode_fn)(void *arg, uint64_t key, int side);

/* The IBLT key of an id: its first 8 bytes as a little-endian uint64. */
uint64_t iblt_key(const uint8_t id[IBLT_ID_LEN]);
/* The 8 bytes an id starting with key starts with (the inverse of iblt_key). */
void iblt_key_prefix(uint64_t key, uint8_t out[8]);
/* check(key) as defined above. */
uint32_t iblt_check(uint64_t key);
/* The three cell indexes of key in a table of class cls (cls must be valid). */
void iblt_positions(int cls, uint64_t key, uint32_t pos[3]);

/* Cells of a class, or 0 when cls is not 0..IBLT_NCLASSES-1. */
uint32_t iblt_class_cells(int cls);
/* The class with exactly this many cells, or LCF_EPROTO. */
int iblt_class_of_cells(uint32_t cells);
/* The smallest class with cells >= 1.5 * d + 30, or the largest class when none
 * is that big (the caller compares iblt_class_cells with its need). */
int iblt_class_for(uint64_t estimated_difference);

void iblt_digest_add(struct iblt_digest *d, const uint8_t id[IBLT_ID_LEN]);
/* Exact inverse of iblt_digest_add; removing an id never added gives a digest of
 * no real set, which the caller avoids. */
void iblt_digest_remove(struct iblt_digest *d, const uint8_t id[IBLT_ID_LEN]);
/* a -= b: the digest of a's ids less b's, when b's ids are a subset of a's. */
void iblt_digest_subtract(struct iblt_digest *a, const struct iblt_digest *b);
void iblt_digest_bytes(const struct iblt_digest *d, uint8_t out[IBLT_DIGEST_BYTES]);

/* Allocates an empty table of class cls: 0 or LCF_EINVAL (t is then empty). */
int iblt_init(struct iblt *t, int cls);
/* Frees the cells and leaves t empty. Accepts NULL and empty tables. */
void iblt_free(struct iblt *t);
void iblt_add(struct iblt *t, const uint8_t id[IBLT_ID_LEN]);
void iblt_remove(struct iblt *t, const uint8_t id[IBLT_ID_LEN]);
/* a -= b, cell by cell. LCF_EINVAL when the classes differ. */
int iblt_subtract(struct iblt *a, const struct iblt *b);
/* True when every cell is zero. */
int iblt_is_empty(const struct iblt *t);
/* An estimate of the number of keys in t (typically a difference a - b) from
 * how many of its cells are empty: each key lands in one cell of each sub-table
 * of m cells, so about 3 m (1 - 1/m)^d cells stay empty. UINT64_MAX when no cell
 * is empty: t is too full to tell, the difference is beyond about m ln(3 m).
 * Call it before iblt_decode, which consumes t. */
uint64_t iblt_estimate(const struct iblt *t);

/* Serialized size of t: ncells * IBLT_CELL_BYTES. */
size_t iblt_size(const struct iblt *t);
/* Writes iblt_size(t) bytes to out. */
void iblt_serialize(const struct iblt *t, uint8_t *out);
/* Initializes t from cells and len bytes received from a peer. LCF_EPROTO when
 * cells is not a class or len is not cells * IBLT_CELL_BYTES (t is then empty).
 * buf is only read during the call; t is the caller's to free. */
int iblt_parse(struct iblt *t, uint32_t cells, const uint8_t *buf, size_t len);

/*
 * Peels t (typically a - b) and, only when it decodes completely, calls fn for
 * every key in the difference. Returns 0 (t is then empty), LCF_ETOOBIG when the
 * table does not decode (the caller asks for a bigger class), LCF_EPROTO when the
 * table cannot come from two sets (a hostile or corrupt table), or fn's non-zero
 * value. Work is O(cells) whatever the input. t is consumed in every case: free it
 * after the call.
 */
int iblt_decode(struct iblt *t, iblt_decode_fn fn, void *arg);

/* The node's live sketch: a digest and a table of every class, updated together.
 * All functions may be called from any thread. About 1 MiB. */
struct iblt_set;

/* Never NULL: allocation failure aborts, like xmalloc. */
struct iblt_set *iblt_set_new(void);
/* Accepts NULL. No other call may be running on set. */
void iblt_set_free(struct iblt_set *set);
void iblt_set_add(struct iblt_set *set, const uint8_t id[IBLT_ID_LEN]);
void iblt_set_remove(struct iblt_set *set, const uint8_t id[IBLT_ID_LEN]);
/* Adds n ids stored back to back (n * 32 bytes), holding the lock once per batch
 * of a few thousand: the fast way to build the set at start-up. */
void iblt_set_add_many(struct iblt_set *set, const uint8_t *ids, size_t n);
/* Copies the table of class cls (into out_table, which the caller then frees with
 * iblt_free) and the digest, both from one instant. Either output may be NULL.
 * LCF_EINVAL for a bad class (out_table is then empty). */
int iblt_set_snapshot(struct iblt_set *set, int cls, struct iblt *out_table,
    struct iblt_digest *out_digest);

#endif
