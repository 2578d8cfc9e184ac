// SPDX-License-Identifier: Apache-2.0
// Set reconciliation of record ids: a set digest and invertible Bloom lookup tables (IBLTs).
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "base/error.h"
#include "model/iblt.h"
#include "base/log.h"
#include "base/xmalloc.h"

/* Cells of the smallest class: 3 sub-tables of 64 cells. Each class is twice
 * the previous one, so every sub-table size is a power of two and "h mod m" is a
 * mask; steps of two keep the table chosen for a difference within a factor of
 * two of the smallest that decodes it (1,000 differences: 1,536 cells, 24 KiB). */
#define CLASS0_CELLS 192u

/* Ids hashed outside the lock per batch in iblt_set_add_many. */
#define SET_BATCH 4096

/* Each position takes a slice of this many bits of the class hash, enough for
 * sub-tables of up to 2^21 cells (the largest class has 2^14). */
#define POS_BITS 21

/* Everything a key contributes to the tables, computed once for all classes. */
struct khash {
	uint64_t key;
	uint64_t h[IBLT_NCLASSES];
	uint32_t check;
};

struct iblt_set {
	pthread_mutex_t lock;
	struct iblt_digest digest;
	struct iblt tables[IBLT_NCLASSES];
};

/* SipHash keys: the check uses all zeros; the positions in class c use byte 0 =
 * c + 1. A hash of its own per class keeps the classes independent: ids ground
 * to collide in one class collide in the next no more often than random ids. */
static const uint8_t check_key[crypto_shorthash_siphash24_KEYBYTES];
static const uint8_t class_key[IBLT_NCLASSES][crypto_shorthash_siphash24_KEYBYTES] = {
	{ 1 }, { 2 }, { 3 }, { 4 }, { 5 }, { 6 }, { 7 }, { 8 }, { 9 },
};

static uint64_t
get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void
put_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint64_t
siphash(const uint8_t k[crypto_shorthash_siphash24_KEYBYTES], uint64_t key)
{
	uint8_t in[8], out[crypto_shorthash_siphash24_BYTES];

	put_le64(in, key);
	crypto_shorthash_siphash24(out, in, sizeof(in), k);
	return get_le64(out);
}

/* Cell of sub-table i (0..2) for class hash h in a table of m cells per sub-table. */
static uint32_t
cell_of(uint64_t h, uint32_t m, uint32_t i)
{
	return i * m + (uint32_t)((h >> (POS_BITS * i)) & (m - 1));
}

static void
khash_of(struct khash *kh, uint64_t key)
{
	int cls;

	kh->key = key;
	for (cls = 0; cls < IBLT_NCLASSES; cls++)
		kh->h[cls] = siphash(class_key[cls], key);
	kh->check = (uint32_t)siphash(check_key, key);
}

/* Adds key (class hash h) to its three cells with sign +1 (inc = 1) or -1 (inc =
 * UINT32_MAX); unsigned arithmetic makes hostile counts wrap harmlessly. */
static void
apply(struct iblt_cell *cells, uint32_t ncells, uint64_t h, uint64_t key,
    uint32_t check, uint32_t inc)
{
	uint32_t m = ncells / 3;
	uint32_t i;

	for (i = 0; i < 3; i++) {
		struct iblt_cell *c = &cells[cell_of(h, m, i)];

		c->count += inc;
		c->keysum ^= key;
		c->hashsum ^= check;
	}
}

/* Adds or removes one id in a single table. */
static void
table_update(struct iblt *t, const uint8_t id[IBLT_ID_LEN], uint32_t inc)
{
	uint64_t key = iblt_key(id);

	apply(t->cells, t->ncells, siphash(class_key[t->cls], key), key,
	    iblt_check(key), inc);
}

uint64_t
iblt_key(const uint8_t id[IBLT_ID_LEN])
{
	return get_le64(id);
}

void
iblt_key_prefix(uint64_t key, uint8_t out[8])
{
	put_le64(out, key);
}

uint32_t
iblt_check(uint64_t key)
{
	return (uint32_t)siphash(check_key, key);
}

void
iblt_positions(int cls, uint64_t key, uint32_t pos[3])
{
	uint32_t m = iblt_class_cells(cls) / 3;
	uint64_t h = m == 0 ? 0 : siphash(class_key[cls], key);
	uint32_t i;

	for (i = 0; i < 3; i++)
		pos[i] = m == 0 ? 0 : cell_of(h, m, i);
}

uint32_t
iblt_class_cells(int cls)
{
	if (cls < 0 || cls >= IBLT_NCLASSES)
		return 0;
	return CLASS0_CELLS << cls;
}

int
iblt_class_of_cells(uint32_t cells)
{
	int ret = LCF_EPROTO;
	int cls;

	for (cls = 0; cls < IBLT_NCLASSES; cls++) {
		if (iblt_class_cells(cls) == cells) {
			ret = cls;
			break;
		}
	}
	return ret;
}

int
iblt_class_for(uint64_t estimated_difference)
{
	uint64_t d = estimated_difference;
	int cls;

	/* cells >= 1.5 d + 30 is 2 cells >= 3 d + 60; capping d first keeps 3 d
	 * from overflowing, and any capped d is beyond the largest class anyway. */
	if (d > UINT32_MAX)
		d = UINT32_MAX;
	for (cls = 0; cls < IBLT_NCLASSES - 1; cls++) {
		if (2 * (uint64_t)iblt_class_cells(cls) >= 3 * d + 60)
			break;
	}
	return cls;
}

/* sum = sum + id (sub = 0) or sum - id (sub = 1), modulo 2^256, in 64-bit limbs. */
static void
sum_update(uint8_t sum[32], const uint8_t id[IBLT_ID_LEN], int sub)
{
	uint64_t carry = 0;
	int i;

	for (i = 0; i < 4; i++) {
		uint64_t a = get_le64(sum + 8 * i);
		uint64_t b = get_le64(id + 8 * i);
		uint64_t r, out;

		if (!sub) {
			r = a + b;
			out = r + carry;
			carry = (r < a) | (out < r);
		} else {
			r = a - b;
			out = r - carry;
			carry = (a < b) | (r < carry);
		}
		put_le64(sum + 8 * i, out);
	}
}

void
iblt_digest_add(struct iblt_digest *d, const uint8_t id[IBLT_ID_LEN])
{
	sum_update(d->sum, id, 0);
	d->count++;
}

void
iblt_digest_remove(struct iblt_digest *d, const uint8_t id[IBLT_ID_LEN])
{
	sum_update(d->sum, id, 1);
	d->count--;
}

void
iblt_digest_subtract(struct iblt_digest *a, const struct iblt_digest *b)
{
	/* sum_update subtracts a 256-bit value modulo 2^256 like an id. */
	sum_update(a->sum, b->sum, 1);
	a->count -= b->count;
}

void
iblt_digest_bytes(const struct iblt_digest *d, uint8_t out[IBLT_DIGEST_BYTES])
{
	uint8_t in[40], h[crypto_generichash_blake2b_BYTES];

	memcpy(in, d->sum, 32);
	put_le64(in + 32, d->count);
	crypto_generichash_blake2b(h, sizeof(h), in, sizeof(in), NULL, 0);
	memcpy(out, h, IBLT_DIGEST_BYTES);
}

int
iblt_init(struct iblt *t, int cls)
{
	int ret = LCF_EINVAL;
	uint32_t n = iblt_class_cells(cls);

	memset(t, 0, sizeof(*t));
	if (n == 0)
		goto out;
	t->cls = cls;
	t->ncells = n;
	t->cells = xcalloc(n, sizeof(*t->cells));
	ret = 0;
out:
	return ret;
}

void
iblt_free(struct iblt *t)
{
	if (t == NULL)
		return;
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

void
iblt_add(struct iblt *t, const uint8_t id[IBLT_ID_LEN])
{
	table_update(t, id, 1);
}

void
iblt_remove(struct iblt *t, const uint8_t id[IBLT_ID_LEN])
{
	table_update(t, id, UINT32_MAX);
}

int
iblt_subtract(struct iblt *a, const struct iblt *b)
{
	int ret = LCF_EINVAL;
	uint32_t i;

	if (a->ncells != b->ncells || a->cells == NULL || b->cells == NULL)
		goto out;
	for (i = 0; i < a->ncells; i++) {
		a->cells[i].count -= b->cells[i].count;
		a->cells[i].keysum ^= b->cells[i].keysum;
		a->cells[i].hashsum ^= b->cells[i].hashsum;
	}
	ret = 0;
out:
	return ret;
}

int
iblt_is_empty(const struct iblt *t)
{
	int empty = 1;
	uint32_t i;

	for (i = 0; i < t->ncells && empty; i++) {
		const struct iblt_cell *c = &t->cells[i];

		empty = c->count == 0 && c->keysum == 0 && c->hashsum == 0;
	}
	return empty;
}

uint64_t
iblt_estimate(const struct iblt *t)
{
	uint64_t ret = UINT64_MAX;
	uint32_t i, empty = 0, m = t->ncells / 3;
	double d;

	for (i = 0; i < t->ncells; i++) {
		const struct iblt_cell *c = &t->cells[i];

		empty += c->count == 0 && c->keysum == 0 && c->hashsum == 0;
	}
	if (empty == 0 || m < 2)
		goto out;
	/* The d for which 3 m (1 - 1/m)^d cells are expected to stay empty. */
	d = log((double)empty / (3.0 * m)) / log(1.0 - 1.0 / m);
	ret = (uint64_t)(d + 0.5);
out:
	return ret;
}

size_t
iblt_size(const struct iblt *t)
{
	return (size_t)t->ncells * IBLT_CELL_BYTES;
}

void
iblt_serialize(const struct iblt *t, uint8_t *out)
{
	uint32_t i;

	for (i = 0; i < t->ncells; i++, out += IBLT_CELL_BYTES) {
		put_le32(out, t->cells[i].count);
		put_le64(out + 4, t->cells[i].keysum);
		put_le32(out + 12, t->cells[i].hashsum);
	}
}

int
iblt_parse(struct iblt *t, uint32_t cells, const uint8_t *buf, size_t len)
{
	int ret = LCF_EPROTO;
	int cls;
	uint32_t i;

	memset(t, 0, sizeof(*t));
	/* The class bounds cells before len is trusted or anything is allocated. */
	if ((cls = iblt_class_of_cells(cells)) < 0)
		goto out;
	if (len != (size_t)cells * IBLT_CELL_BYTES)
		goto out;
	iblt_init(t, cls);
	for (i = 0; i < cells; i++, buf += IBLT_CELL_BYTES) {
		t->cells[i].count = get_le32(buf);
		t->cells[i].keysum = get_le64(buf + 4);
		t->cells[i].hashsum = get_le32(buf + 12);
	}
	ret = 0;
out:
	return ret;
}

/* A cell holds exactly one key when its count is +-1, its hashsum is the check
 * of its keysum, and the keysum's position in this sub-table is this cell; then
 * *h is the keysum's class hash. The last test matters only for hostile tables,
 * where a key planted in a foreign cell would otherwise be peeled without ever
 * emptying that cell. */
static int
pure(const struct iblt *t, uint32_t i, uint64_t *h)
{
	const struct iblt_cell *c = &t->cells[i];
	uint32_t m = t->ncells / 3;
	int ret = 0;

	if ((c->count == 1 || c->count == UINT32_MAX) &&
	    iblt_check(c->keysum) == c->hashsum) {
		*h = siphash(class_key[t->cls], c->keysum);
		ret = cell_of(*h, m, i / m) == i;
	}
	return ret;
}

int
iblt_decode(struct iblt *t, iblt_decode_fn fn, void *arg)
{
	int ret = LCF_EINVAL;
	uint32_t *stack = NULL;
	uint64_t *keys = NULL;
	int8_t *sides = NULL;
	size_t top = 0, cap, nkeys = 0, k;
	uint32_t n, m, i, j;
	uint64_t h;

	if (t->cells == NULL || iblt_class_cells(t->cls) != t->ncells)
		goto out;
	n = t->ncells;
	m = n / 3;
	/*
	 * Every peel empties the cell it was found in, and in a table made from two
	 * sets that cell then stays empty, so an honest table peels at most n keys;
	 * more is proof of a forged table, and the bound is what stops forged tables
	 * that would peel the same key back and forth forever. The stack receives at
	 * most n cells from the first scan and two per peel: 3 n in all, so the
	 * overflow test below is only a guard.
	 */
	cap = 3 * (size_t)n;
	stack = xreallocarray(NULL, cap, sizeof(*stack));
	keys = xreallocarray(NULL, n, sizeof(*keys));
	sides = xmalloc(n);
	for (i = 0; i < n; i++) {
		if (pure(t, i, &h))
			stack[top++] = i;
	}
	while (top > 0) {
		struct iblt_cell *c;
		uint64_t key;
		uint32_t inc;

		i = stack[--top];
		if (!pure(t, i, &h))
			continue;
		if (nkeys == n) {
			ret = LCF_EPROTO;
			goto out;
		}
		c = &t->cells[i];
		/* Removing the key undoes its count: -1 for a key of a, +1 for b. */
		key = c->keysum;
		inc = c->count == 1 ? UINT32_MAX : 1;
		keys[nkeys] = key;
		sides[nkeys] = c->count == 1 ? 1 : -1;
		nkeys++;
		apply(t->cells, n, h, key, c->hashsum, inc);
		/* A neighbour left with a count of +-1 may have become pure; it is
		 * tested in full when popped. */
		for (j = 0; j < 3; j++) {
			uint32_t p = cell_of(h, m, j);
			uint32_t cnt = t->cells[p].count;

			if (p == i || (cnt != 1 && cnt != UINT32_MAX))
				continue;
			if (top == cap) {
				ret = LCF_EPROTO;
				goto out;
			}
			stack[top++] = p;
		}
	}
	if (!iblt_is_empty(t)) {
		ret = LCF_ETOOBIG;
		goto out;
	}
	/* The callback runs only once the whole difference is known, so a caller
	 * never acts on part of a table that then fails. */
	ret = 0;
	for (k = 0; k < nkeys && ret == 0; k++)
		ret = fn(arg, keys[k], sides[k]);
out:
	free(stack);
	free(keys);
	free(sides);
	return ret;
}

struct iblt_set *
iblt_set_new(void)
{
	struct iblt_set *set = xcalloc(1, sizeof(*set));
	int cls, rc;

	if ((rc = pthread_mutex_init(&set->lock, NULL)) != 0)
		fatalx("iblt_set_new: pthread_mutex_init: %s", strerror(rc));
	for (cls = 0; cls < IBLT_NCLASSES; cls++)
		iblt_init(&set->tables[cls], cls);
	return set;
}

void
iblt_set_free(struct iblt_set *set)
{
	int cls;

	if (set == NULL)
		return;
	for (cls = 0; cls < IBLT_NCLASSES; cls++)
		iblt_free(&set->tables[cls]);
	pthread_mutex_destroy(&set->lock);
	free(set);
}

/* Applies n hashed ids to every table and the digest; the caller holds the lock.
 * Class by class, so each table stays in cache while it is updated. */
static void
set_apply(struct iblt_set *set, const uint8_t *ids, const struct khash *kh,
    size_t n, int sign)
{
	uint32_t inc = sign > 0 ? 1 : UINT32_MAX;
	size_t k;
	int cls;

	for (cls = 0; cls < IBLT_NCLASSES; cls++) {
		struct iblt *t = &set->tables[cls];

		for (k = 0; k < n; k++)
			apply(t->cells, t->ncells, kh[k].h[cls], kh[k].key,
			    kh[k].check, inc);
	}
	for (k = 0; k < n; k++) {
		if (sign > 0)
			iblt_digest_add(&set->digest, ids + k * IBLT_ID_LEN);
		else
			iblt_digest_remove(&set->digest, ids + k * IBLT_ID_LEN);
	}
}

static void
set_update(struct iblt_set *set, const uint8_t id[IBLT_ID_LEN], int sign)
{
	struct khash kh;

	/* Hashing needs no lock; only the cell updates do. */
	khash_of(&kh, iblt_key(id));
	pthread_mutex_lock(&set->lock);
	set_apply(set, id, &kh, 1, sign);
	pthread_mutex_unlock(&set->lock);
}

void
iblt_set_add(struct iblt_set *set, const uint8_t id[IBLT_ID_LEN])
{
	set_update(set, id, 1);
}

void
iblt_set_remove(struct iblt_set *set, const uint8_t id[IBLT_ID_LEN])
{
	set_update(set, id, -1);
}

void
iblt_set_add_many(struct iblt_set *set, const uint8_t *ids, size_t n)
{
	struct khash *kh = xreallocarray(NULL, SET_BATCH, sizeof(*kh));
	size_t done, k, batch;

	for (done = 0; done < n; done += batch) {
		const uint8_t *p = ids + done * IBLT_ID_LEN;

		batch = n - done < SET_BATCH ? n - done : SET_BATCH;
		for (k = 0; k < batch; k++)
			khash_of(&kh[k], iblt_key(p + k * IBLT_ID_LEN));
		pthread_mutex_lock(&set->lock);
		set_apply(set, p, kh, batch, 1);
		pthread_mutex_unlock(&set->lock);
	}
	free(kh);
}

int
iblt_set_snapshot(struct iblt_set *set, int cls, struct iblt *out_table,
    struct iblt_digest *out_digest)
{
	int ret = LCF_EINVAL;

	if (out_table != NULL)
		memset(out_table, 0, sizeof(*out_table));
	if (iblt_class_cells(cls) == 0)
		goto out;
	/* Allocate before taking the lock so the writer waits only for a copy. */
	if (out_table != NULL)
		iblt_init(out_table, cls);
	pthread_mutex_lock(&set->lock);
	if (out_table != NULL)
		memcpy(out_table->cells, set->tables[cls].cells,
		    iblt_size(out_table));
	if (out_digest != NULL)
		*out_digest = set->digest;
	pthread_mutex_unlock(&set->lock);
	ret = 0;
out:
	return ret;
}
