// SPDX-License-Identifier: Apache-2.0
// Unit tests for the newest-only rule of status beacons in the store: what a
// newer beacon deletes, what an older one is refused as, and an older store's
// upgrade; each against a store built from the records that should remain.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lmdb.h>
#include <sodium.h>

#include "base/error.h"
#include "base/util.h"
#include "model/identity.h"
#include "model/iblt.h"
#include "model/record.h"
#include "store/store.h"
#include "unit_node.h"

#define TEST_MAP_SIZE UNIT_NODE_MAP_SIZE
#define MAX_BUILT 64
#define NIDS 3

struct built {
	uint8_t *raw;
	size_t len;
	struct record rec;
};

struct fix {
	char dir[64];
	char db[96], ref[96];
	struct store *s;
	struct identity *ids[NIDS];
	struct built *built[MAX_BUILT];
	size_t nbuilt;
};

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	size_t i;

	if (f == NULL || sodium_init() < 0 ||
	    unit_store_new("prune", f->dir, f->db, &f->s) != 0)
		return -1;
	snprintf(f->ref, sizeof(f->ref), "%s/ref", f->dir);
	for (i = 0; i < NIDS; i++) {
		if ((f->ids[i] = identity_new()) == NULL)
			return -1;
		identity_generate(f->ids[i]);
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;
	size_t i;

	store_close(f->s);
	for (i = 0; i < NIDS; i++)
		identity_free(f->ids[i]);
	for (i = 0; i < f->nbuilt; i++) {
		record_release(&f->built[i]->rec);
		free(f->built[i]->raw);
		free(f->built[i]);
	}
	unit_rm_tree(f->dir);
	free(f);
	return 0;
}

static struct built *
seal(struct fix *f, const struct identity *id, Lcf__Content *c)
{
	struct built *b = calloc(1, sizeof(*b));
	uint8_t *content = NULL, rid[RECORD_ID_LEN];
	size_t clen = 0;

	assert_non_null(b);
	assert_true(f->nbuilt < MAX_BUILT);
	f->built[f->nbuilt++] = b;
	c->has_author = 1;
	c->author.data = (uint8_t *)id->pk;
	c->author.len = IDENTITY_PK_LEN;
	assert_int_equal(record_pack_content(c, &content, &clen), 0);
	assert_int_equal(record_seal(content, clen, id, &b->raw, &b->len, rid), 0);
	free(content);
	assert_int_equal(record_open(b->raw, b->len, 1, &b->rec), 0);
	return b;
}

/* A status beacon of id with this seq; tag makes two of one seq differ. */
static struct built *
beacon(struct fix *f, const struct identity *id, uint64_t seq, uint32_t tag)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__Beacon bc = LCF__BEACON__INIT;
	uint8_t inst[16];

	memset(inst, (int)tag, sizeof(inst));
	c.has_seq = c.has_kind = c.has_timestamp = 1;
	c.seq = seq;
	c.kind = LCF__KIND__KIND_BEACON;
	c.key = "beacon";
	c.timestamp = 1000000 + (int64_t)seq;
	bc.software = "0.1.0";
	bc.has_protocol = bc.has_started = bc.has_instance = bc.has_sent = 1;
	bc.protocol = 3;
	bc.started = 1000;
	bc.instance.data = inst;
	bc.instance.len = sizeof(inst);
	bc.sent = tag;
	c.body_case = LCF__CONTENT__BODY_BEACON;
	c.beacon = &bc;
	return seal(f, id, &c);
}

static struct built *
practice(struct fix *f, const struct identity *id, const char *key,
    uint64_t seq)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__Practice p = LCF__PRACTICE__INIT;
	char *areas[] = { "2.2" };

	c.has_seq = c.has_kind = c.has_timestamp = 1;
	c.seq = seq;
	c.kind = LCF__KIND__KIND_PRACTICE;
	c.key = (char *)key;
	c.timestamp = 2000000 + (int64_t)seq;
	p.title = (char *)key;
	p.summary = "A practice.";
	p.language = "en";
	p.kflc_areas = areas;
	p.n_kflc_areas = 1;
	c.body_case = LCF__CONTENT__BODY_PRACTICE;
	c.practice = &p;
	return seal(f, id, &c);
}

static int
put1(struct store *s, const struct built *b)
{
	struct store_item it = { b->raw, b->len, &b->rec, -1, { 0 } };

	assert_int_equal(store_put(s, &it, 1), 0);
	return it.result;
}

static void
expect_flags(int got, int want, const char *what)
{
	if (got != want) {
		print_error("%s: STORE_* flags 0x%x, want 0x%x\n", what, got, want);
		fail();
	}
}

static int
nop_fn(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	(void)arg;
	(void)id;
	(void)raw;
	(void)len;
	return 0;
}

/* Held or not, by every way of asking. */
static void
expect_held(struct store *s, const struct built *b, int held)
{
	assert_int_equal(store_has(s, b->rec.id), held);
	assert_int_equal(store_get(s, b->rec.id, nop_fn, NULL),
	    held ? 0 : LCF_ENOTFOUND);
}

/* Two stores agree on everything reconciliation and the counts read: the
 * digest and every class of table of both views, the stats, and each
 * author's summary, runs and last seq. */
static void
expect_same(struct store *a, struct store *b, struct identity *const *ids,
    size_t nids)
{
	struct iblt_digest da, db;
	struct iblt ta, tb;
	struct store_stats sa, sb;
	struct store_author_summary ua, ub;
	uint64_t ra[16], rb[16], la, lb;
	size_t nra, nrb, i, k;
	int legacy, cls;

	for (legacy = 0; legacy <= 1; legacy++) {
		for (cls = 0; cls < IBLT_NCLASSES; cls++) {
			assert_int_equal(store_sketch_view(a, legacy, cls, &ta,
			    &da), 0);
			assert_int_equal(store_sketch_view(b, legacy, cls, &tb,
			    &db), 0);
			assert_int_equal(da.count, db.count);
			assert_memory_equal(da.sum, db.sum, sizeof(da.sum));
			assert_int_equal(iblt_subtract(&ta, &tb), 0);
			assert_true(iblt_is_empty(&ta));
			iblt_free(&ta);
			iblt_free(&tb);
		}
		for (i = 0; i < nids; i++) {
			assert_int_equal(store_author_summary(a, legacy,
			    ids[i]->pk, &ua, ra, 8, &nra), 0);
			assert_int_equal(store_author_summary(b, legacy,
			    ids[i]->pk, &ub, rb, 8, &nrb), 0);
			assert_int_equal(ua.count, ub.count);
			assert_int_equal(ua.max_seq, ub.max_seq);
			assert_memory_equal(ua.digest, ub.digest, sizeof(ua.digest));
			assert_int_equal(nra, nrb);
			for (k = 0; k < 2 * nra; k++)
				assert_int_equal(ra[k], rb[k]);
		}
	}
	for (i = 0; i < nids; i++) {
		assert_int_equal(store_last_seq(a, ids[i]->pk, &la), 0);
		assert_int_equal(store_last_seq(b, ids[i]->pk, &lb), 0);
		assert_int_equal(la, lb);
	}
	assert_int_equal(store_stats(a, &sa), 0);
	assert_int_equal(store_stats(b, &sb), 0);
	assert_int_equal(sa.records, sb.records);
	assert_int_equal(sa.authors, sb.authors);
	for (k = 0; k < KINDS_LIMIT; k++) {
		assert_int_equal(sa.kinds[k].current, sb.kinds[k].current);
		assert_int_equal(sa.kinds[k].deleted, sb.kinds[k].deleted);
	}
}

/* A store holding exactly the records given. */
static struct store *
rebuilt(struct fix *f, struct built *const *keep, size_t n)
{
	struct store *r = NULL;
	char err[256] = "";
	size_t i;

	assert_int_equal(store_open(f->ref, TEST_MAP_SIZE, &r, err,
	    sizeof(err)), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(put1(r, keep[i]) & STORE_DUP, 0);
	return r;
}

static void
reopen(struct fix *f)
{
	char err[256] = "";

	store_close(f->s);
	f->s = NULL;
	if (store_open(f->db, TEST_MAP_SIZE, &f->s, err, sizeof(err)) != 0) {
		print_error("store_open: %s\n", err);
		fail();
	}
}

/* A newer beacon deletes the older one from every index; an older one is
 * not stored; other kinds keep every version. */
static void
test_newest_only(void **state)
{
	struct fix *f = *state;
	struct identity *a = f->ids[0], *b = f->ids[1];
	struct built *p1 = practice(f, a, "reading", 1);
	struct built *a2 = beacon(f, a, 2, 1), *a5 = beacon(f, a, 5, 1);
	struct built *a3 = beacon(f, a, 3, 1), *p6 = practice(f, a, "reading", 6);
	struct built *b1 = beacon(f, b, 1, 2), *b4 = beacon(f, b, 4, 2);
	struct built *b2 = beacon(f, b, 2, 2);
	struct store_item two[3] = {
		{ b1->raw, b1->len, &b1->rec, -1, { 0 } },
		{ b4->raw, b4->len, NULL, -1, { 0 } },
		{ b2->raw, b2->len, &b2->rec, -1, { 0 } },
	};
	struct store *r;
	struct store_stats st;
	uint64_t runs[8];
	size_t nruns = 0;
	struct store_author_summary sum;

	expect_flags(put1(f->s, p1), STORE_CURRENT, "practice seq 1");
	expect_flags(put1(f->s, a2), STORE_CURRENT, "beacon seq 2");
	expect_flags(put1(f->s, a5), STORE_CURRENT, "beacon seq 5");
	expect_held(f->s, a2, 0);
	expect_held(f->s, a5, 1);
	expect_flags(put1(f->s, a3), STORE_DUP | STORE_SUPERSEDED,
	    "beacon seq 3 after 5");
	expect_held(f->s, a3, 0);
	expect_flags(put1(f->s, a2), STORE_DUP | STORE_SUPERSEDED,
	    "beacon seq 2 again");
	expect_flags(put1(f->s, a5), STORE_DUP, "beacon seq 5 again");
	expect_flags(put1(f->s, p6), STORE_CURRENT, "practice seq 6");
	/* In one transaction: seq 1 is written, then deleted by seq 4 (the
	 * item given as bytes only), and seq 2 comes too late. */
	assert_int_equal(store_put(f->s, two, 3), 0);
	expect_flags(two[0].result, STORE_CURRENT, "batch: beacon seq 1");
	expect_flags(two[1].result, STORE_CURRENT, "batch: beacon seq 4");
	expect_flags(two[2].result, STORE_DUP | STORE_SUPERSEDED,
	    "batch: beacon seq 2");
	expect_held(f->s, b1, 0);
	expect_held(f->s, b4, 1);
	expect_held(f->s, p1, 1);
	assert_int_equal(store_stats(f->s, &st), 0);
	assert_int_equal(st.records, 4);
	assert_int_equal(st.kinds[LCF__KIND__KIND_BEACON].current, 2);
	assert_int_equal(st.forks, 0);
	/* Runs claim what is held, no more: seq 2 is gone. */
	assert_int_equal(store_author_summary(f->s, 0, a->pk, &sum, runs, 4,
	    &nruns), 0);
	assert_int_equal(sum.count, 3);
	assert_int_equal(nruns, 2);
	assert_int_equal(runs[0], 1);
	assert_int_equal(runs[1], 1);
	assert_int_equal(runs[2], 5);
	assert_int_equal(runs[3], 6);

	r = rebuilt(f, (struct built *[]){ p1, a5, p6, b4 }, 4);
	expect_same(f->s, r, f->ids, NIDS);
	/* Reopened, the sketches are read back from the indexes: the same. */
	reopen(f);
	expect_same(f->s, r, f->ids, NIDS);
	store_close(r);
}

/* Two beacons of one seq (a fork) are both kept, as evidence; a newer seq
 * deletes both, but not a record of another kind at their seq. */
static void
test_fork(void **state)
{
	struct fix *f = *state;
	struct identity *a = f->ids[0];
	struct built *x = beacon(f, a, 7, 1), *y = beacon(f, a, 7, 2);
	struct built *p7 = practice(f, a, "same-seq", 7);
	struct built *z = beacon(f, a, 8, 1);
	struct store_stats st;
	struct store *r;

	assert_int_equal(put1(f->s, x) & STORE_DUP, 0);
	assert_int_equal(put1(f->s, y) & (STORE_DUP | STORE_FORK), STORE_FORK);
	assert_int_equal(put1(f->s, p7) & (STORE_DUP | STORE_FORK), STORE_FORK);
	expect_held(f->s, x, 1);
	expect_held(f->s, y, 1);
	assert_int_equal(store_stats(f->s, &st), 0);
	assert_int_equal(st.records, 3);
	expect_flags(put1(f->s, z), STORE_CURRENT, "beacon seq 8");
	expect_held(f->s, x, 0);
	expect_held(f->s, y, 0);
	expect_held(f->s, p7, 1);
	assert_int_equal(store_stats(f->s, &st), 0);
	assert_int_equal(st.records, 2);
	/* Forks are counted as they are stored: the count stays. */
	assert_int_equal(st.forks, 2);
	r = rebuilt(f, (struct built *[]){ p7, z }, 2);
	expect_same(f->s, r, f->ids, NIDS);
	store_close(r);
}

/* Adds b to the store at db as an older lcnode would have (its bytes, id,
 * seq and late entries, no current version), and marks the schema 3. */
static void
plant(const char *db, const struct built *b)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_dbi meta, rows, ids, seq, late;
	MDB_val k, v;
	uint8_t row[8], key[40], ver[4];

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 10), 0);
	assert_int_equal(mdb_env_set_mapsize(env, TEST_MAP_SIZE), 0);
	assert_int_equal(mdb_env_open(env, db, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_dbi_open(txn, "rows", 0, &rows), 0);
	assert_int_equal(mdb_dbi_open(txn, "ids", 0, &ids), 0);
	assert_int_equal(mdb_dbi_open(txn, "seq", MDB_DUPSORT | MDB_DUPFIXED,
	    &seq), 0);
	assert_int_equal(mdb_dbi_open(txn, "late", MDB_DUPSORT | MDB_DUPFIXED,
	    &late), 0);
	assert_int_equal(mdb_cursor_open(txn, rows, &cur), 0);
	assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_LAST), 0);
	put_be64(row, get_be64(k.mv_data) + 1);
	mdb_cursor_close(cur);
	k.mv_data = row;
	k.mv_size = 8;
	v.mv_data = b->raw;
	v.mv_size = b->len;
	assert_int_equal(mdb_put(txn, rows, &k, &v, 0), 0);
	k.mv_data = (void *)b->rec.id;
	k.mv_size = RECORD_ID_LEN;
	v.mv_data = row;
	v.mv_size = 8;
	assert_int_equal(mdb_put(txn, ids, &k, &v, 0), 0);
	memcpy(key, b->rec.c->author.data, 32);
	put_be64(key + 32, b->rec.c->seq);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	v.mv_data = (void *)b->rec.id;
	v.mv_size = RECORD_ID_LEN;
	assert_int_equal(mdb_put(txn, seq, &k, &v, 0), 0);
	assert_int_equal(mdb_put(txn, late, &k, &v, 0), 0);
	put_be32(ver, 3);
	k.mv_data = "schema";
	k.mv_size = 6;
	v.mv_data = ver;
	v.mv_size = 4;
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static uint32_t
schema_of(const char *db)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;
	MDB_val k = { 6, "schema" }, v;
	uint32_t ver;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 10), 0);
	assert_int_equal(mdb_env_open(env, db, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_get(txn, meta, &k, &v), 0);
	assert_int_equal(v.mv_size, 4);
	ver = get_be32(v.mv_data);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return ver;
}

/* A schema 3 store, which kept every beacon, loses the superseded ones when
 * it is opened, and then holds what a store given only the newest holds. */
static void
test_upgrade(void **state)
{
	struct fix *f = *state;
	struct identity *a = f->ids[0], *b = f->ids[1];
	struct built *p1 = practice(f, a, "reading", 1);
	struct built *a9 = beacon(f, a, 9, 1), *b3 = beacon(f, b, 3, 2);
	struct built *old[4] = { beacon(f, a, 2, 1), beacon(f, a, 8, 1),
	    beacon(f, a, 8, 3), beacon(f, b, 1, 2) };
	struct store_stats st;
	struct store *r;
	size_t i;

	assert_int_equal(put1(f->s, p1), STORE_CURRENT);
	assert_int_equal(put1(f->s, a9), STORE_CURRENT);
	assert_int_equal(put1(f->s, b3), STORE_CURRENT);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(schema_of(f->db), STORE_SCHEMA_VERSION);
	for (i = 0; i < 4; i++)
		plant(f->db, old[i]);
	assert_int_equal(schema_of(f->db), 3);
	reopen(f);
	assert_int_equal(schema_of(f->db), STORE_SCHEMA_VERSION);
	for (i = 0; i < 4; i++)
		expect_held(f->s, old[i], 0);
	expect_held(f->s, a9, 1);
	expect_held(f->s, b3, 1);
	assert_int_equal(store_stats(f->s, &st), 0);
	assert_int_equal(st.records, 3);
	r = rebuilt(f, (struct built *[]){ p1, a9, b3 }, 3);
	expect_same(f->s, r, f->ids, NIDS);
	store_close(r);
	/* Writes carry on: a newer beacon replaces the kept one. */
	expect_flags(put1(f->s, beacon(f, a, 10, 1)), STORE_CURRENT,
	    "beacon after the upgrade");
	expect_held(f->s, a9, 0);
}

/* A day of hourly beacons at 1,000 nodes, as one node's store sees it: 24
 * rounds of 1,000 (one per author, one transaction each). The store holds
 * 1,000 records after each, and its pages in use stop growing once LMDB
 * reuses the freed ones. Prints the figures docs/PERFORMANCE.md quotes. */
static void
test_day_of_beacons(void **state)
{
	enum { NODES = 1000, ROUNDS = 24, SETTLED = 8 };
	struct fix *f = *state;
	struct identity **ids = calloc(NODES, sizeof(*ids));
	struct store_item *items = calloc(NODES, sizeof(*items));
	struct store_stats st;
	uint64_t used1 = 0, used8 = 0, bytes = 0;
	size_t i, r;

	assert_non_null(ids);
	assert_non_null(items);
	for (i = 0; i < NODES; i++) {
		assert_non_null(ids[i] = identity_new());
		identity_generate(ids[i]);
	}
	for (r = 1; r <= ROUNDS; r++) {
		for (i = 0; i < NODES; i++) {
			struct built *b;

			/* Built one round at a time: the fixture keeps a few. */
			f->nbuilt = 0;
			b = beacon(f, ids[i], r, 1);
			items[i].raw = b->raw;
			items[i].len = b->len;
			items[i].rec = NULL;
			bytes += b->len;
			record_release(&b->rec);
			f->built[0] = NULL;
			f->nbuilt = 0;
			free(b);
		}
		assert_int_equal(store_put(f->s, items, NODES), 0);
		for (i = 0; i < NODES; i++) {
			assert_int_equal(items[i].result & STORE_CURRENT,
			    STORE_CURRENT);
			free((void *)items[i].raw);
		}
		assert_int_equal(store_stats(f->s, &st), 0);
		assert_int_equal(st.records, NODES);
		if (r == 1)
			used1 = st.used_bytes;
		if (r == SETTLED)
			used8 = st.used_bytes;
	}
	printf("# %d beacons in %d rounds (%llu record bytes): %llu records "
	    "held; pages in use %llu bytes after round 1, %llu after round %d, "
	    "%llu after round %d\n", NODES * ROUNDS, ROUNDS,
	    (unsigned long long)bytes, (unsigned long long)st.records,
	    (unsigned long long)used1, (unsigned long long)used8, SETTLED,
	    (unsigned long long)st.used_bytes, ROUNDS);
	/* LMDB reuses a freed page two transactions later, so the pages
	 * settle within a few rounds, then stay (10 % of slack). */
	assert_true(st.used_bytes <= used8 + used8 / 10);
	assert_true(st.used_bytes < bytes);
	for (i = 0; i < NODES; i++)
		identity_free(ids[i]);
	free(ids);
	free(items);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_newest_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_day_of_beacons, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
