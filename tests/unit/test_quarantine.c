// SPDX-License-Identifier: Apache-2.0
// Unit tests for the store's quarantine: a record whose stored bytes were
// changed on disk is never handed to a visitor, is moved aside with its
// bytes, leaves the sketches and the author's summary (so a peer sends it
// again), and a good copy put again takes its place; and the deep walk
// names it.
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
#include "model/iblt.h"
#include "model/identity.h"
#include "model/record.h"
#include "store/store.h"
#include "store/walk.h"
#include "unit_node.h"

#define TEST_MAP_SIZE UNIT_NODE_MAP_SIZE
#define NREC 3

struct built {
	uint8_t *raw;
	size_t len;
	struct record rec;
};

struct fix {
	char dir[64], db[96], ref[96];
	struct store *s;
	struct identity *id;
	struct built b[NREC];
};

static void
seal(struct fix *f, struct built *b, uint64_t seq, const char *title)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__Practice p = LCF__PRACTICE__INIT;
	char *areas[] = { "2.2" };
	uint8_t *content = NULL, rid[RECORD_ID_LEN];
	size_t clen = 0;

	c.has_seq = c.has_kind = c.has_timestamp = c.has_author = 1;
	c.seq = seq;
	c.kind = LCF__KIND__KIND_PRACTICE;
	c.key = (char *)title;
	c.timestamp = 2000000 + (int64_t)seq;
	c.author.data = (uint8_t *)f->id->pk;
	c.author.len = IDENTITY_PK_LEN;
	p.title = (char *)title;
	p.summary = "A practice.";
	p.language = "en";
	p.kflc_areas = areas;
	p.n_kflc_areas = 1;
	c.body_case = LCF__CONTENT__BODY_PRACTICE;
	c.practice = &p;
	assert_int_equal(record_pack_content(&c, &content, &clen), 0);
	assert_int_equal(record_seal(content, clen, f->id, &b->raw, &b->len, rid), 0);
	free(content);
	assert_int_equal(record_open(b->raw, b->len, 1, &b->rec), 0);
}

static int
put1(struct store *s, const struct built *b)
{
	struct store_item it = { b->raw, b->len, &b->rec, -1, { 0 } };

	assert_int_equal(store_put(s, &it, 1), 0);
	return it.result;
}

static const char *const titles[NREC] = {
	"first-practice", "second-practice", "third-practice",
};

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	size_t i;

	if (f == NULL || sodium_init() < 0 ||
	    unit_store_new("quar", f->dir, f->db, &f->s) != 0)
		return -1;
	snprintf(f->ref, sizeof(f->ref), "%s/ref", f->dir);
	if ((f->id = identity_new()) == NULL)
		return -1;
	identity_generate(f->id);
	for (i = 0; i < NREC; i++) {
		seal(f, &f->b[i], i + 1, titles[i]);
		if (put1(f->s, &f->b[i]) != STORE_CURRENT)
			return -1;
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
	identity_free(f->id);
	for (i = 0; i < NREC; i++) {
		record_release(&f->b[i].rec);
		free(f->b[i].raw);
	}
	unit_rm_tree(f->dir);
	free(f);
	return 0;
}

/* Closes the store, changes the first letter of record i's title inside
 * its stored bytes with LMDB directly (the structure stays intact), and
 * opens the store again. */
static void
rot(struct fix *f, size_t i)
{
	const struct built *b = &f->b[i];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi rows;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t *copy;
	char err[256] = "";
	int rc, done = 0;

	store_close(f->s);
	f->s = NULL;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, f->db, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "rows", 0, &rows), 0);
	assert_int_equal(mdb_cursor_open(txn, rows, &cur), 0);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !done;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint8_t *at;

		if (v.mv_size != b->len || memcmp(v.mv_data, b->raw, b->len) != 0)
			continue;
		copy = malloc(v.mv_size);
		assert_non_null(copy);
		memcpy(copy, v.mv_data, v.mv_size);
		at = memmem(copy, v.mv_size, titles[i], strlen(titles[i]));
		assert_non_null(at);
		at[0] = 'Q';
		v.mv_data = copy;
		assert_int_equal(mdb_cursor_put(cur, &k, &v, MDB_CURRENT), 0);
		free(copy);
		done = 1;
	}
	assert_true(done);
	mdb_cursor_close(cur);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(store_open(f->db, TEST_MAP_SIZE, &f->s, err,
	    sizeof(err)), 0);
}

static int
count_fn(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	(void)id;
	assert_int_equal(record_check_id(raw, len, id), 0);
	(*(size_t *)arg)++;
	return 0;
}

static int
seq_count_fn(void *arg, uint64_t seq, const uint8_t id[32], const uint8_t *raw,
    size_t len)
{
	(void)seq;
	return count_fn(arg, id, raw, len);
}

/* The digest of every id, and the author's summary, of store s. */
static void
digests(struct fix *f, struct store *s, struct iblt_digest *d,
    struct store_author_summary *sum)
{
	assert_int_equal(store_sketch_view(s, 0, 0, NULL, d), 0);
	assert_int_equal(store_author_summary(s, 0, f->id->pk, sum, NULL, 0,
	    NULL), 0);
}

/* A store holding the records of f whose bit is set in mask. */
static void
expect_like(struct fix *f, unsigned mask)
{
	struct store *ref;
	struct iblt_digest d1, d2;
	struct store_author_summary s1, s2;
	char err[256], path[128];
	size_t i;
	static int n;

	snprintf(path, sizeof(path), "%s.%d", f->ref, n++);
	assert_int_equal(store_open(path, TEST_MAP_SIZE, &ref, err, sizeof(err)), 0);
	for (i = 0; i < NREC; i++)
		if (mask & (1u << i))
			put1(ref, &f->b[i]);
	digests(f, f->s, &d1, &s1);
	digests(f, ref, &d2, &s2);
	assert_memory_equal(&d1, &d2, sizeof(d1));
	assert_int_equal(s1.count, s2.count);
	assert_int_equal(s1.max_seq, s2.max_seq);
	assert_memory_equal(s1.digest, s2.digest, sizeof(s1.digest));
	store_close(ref);
}

static int
list_fn(void *arg, const uint8_t id[32], uint64_t when_ms, int why, size_t len)
{
	const struct built *b = arg;

	assert_memory_equal(id, b->rec.id, 32);
	assert_int_equal(why, STORE_QUAR_ID);
	assert_int_equal(len, b->len);
	assert_true(when_ms > 0);
	return 0;
}

static void
test_damaged_record_is_never_served(void **state)
{
	struct fix *f = *state;
	uint8_t cursor[STORE_CURSOR_MAX];
	size_t n = 0, clen = 0;
	uint64_t total = 9;
	int done = 0;

	rot(f, 1);
	/* Still held until a read finds it. */
	assert_int_equal(store_has(f->s, f->b[1].rec.id), 1);
	assert_int_equal(store_get(f->s, f->b[1].rec.id, count_fn, &n),
	    LCF_ENOTFOUND);
	assert_int_equal(store_get_current(f->s, f->id->pk,
	    LCF__KIND__KIND_PRACTICE, titles[1], count_fn, &n), LCF_ENOTFOUND);
	assert_int_equal(store_scan_current(f->s, NULL, cursor, &clen, 100,
	    &done, count_fn, &n), 0);
	assert_int_equal(n, NREC - 1);
	n = 0;
	assert_int_equal(store_scan_author(f->s, f->id->pk, 1, NULL, UINT64_MAX,
	    seq_count_fn, &n), 0);
	assert_int_equal(n, NREC - 1);
	assert_int_equal(store_quarantine_pending(f->s), 1);
	assert_int_equal(store_quarantine_list(f->s, 10, NULL, NULL, &total), 0);
	assert_int_equal(total, 0);
}

static void
test_damaged_record_moves_aside_and_comes_back(void **state)
{
	struct fix *f = *state;
	size_t n = 0, moved = 0;
	uint64_t total = 0;

	rot(f, 1);
	assert_int_equal(store_get(f->s, f->b[1].rec.id, count_fn, &n),
	    LCF_ENOTFOUND);
	assert_int_equal(store_quarantine_flush(f->s, &moved), 0);
	assert_int_equal(moved, 1);
	assert_int_equal(store_quarantine_pending(f->s), 0);
	assert_int_equal(store_has(f->s, f->b[1].rec.id), 0);
	assert_int_equal(store_quarantine_list(f->s, 10, list_fn, &f->b[1],
	    &total), 0);
	assert_int_equal(total, 1);
	/* Digests and summaries now say the record is missing. */
	expect_like(f, 1u | 4u);
	/* A good copy comes back: served again, out of quarantine. */
	assert_int_equal(put1(f->s, &f->b[1]) & STORE_DUP, 0);
	assert_int_equal(store_get(f->s, f->b[1].rec.id, count_fn, &n), 0);
	assert_int_equal(store_get_current(f->s, f->id->pk,
	    LCF__KIND__KIND_PRACTICE, titles[1], count_fn, &n), 0);
	assert_int_equal(store_quarantine_list(f->s, 10, NULL, NULL, &total), 0);
	assert_int_equal(total, 0);
	expect_like(f, 7u);
	/* A flush with nothing noted moves nothing. */
	assert_int_equal(store_quarantine_flush(f->s, &moved), 0);
	assert_int_equal(moved, 0);
}

/* Rots record i, reads it (which notes it) and moves it aside. */
static void
quarantine_one(struct fix *f, size_t i)
{
	size_t n = 0, moved = 0;

	rot(f, i);
	assert_int_equal(store_get(f->s, f->b[i].rec.id, count_fn, &n),
	    LCF_ENOTFOUND);
	assert_int_equal(store_quarantine_flush(f->s, &moved), 0);
	assert_int_equal(moved, 1);
}

/* The forks counted in all and for f's author are want. */
static void
expect_forks(struct fix *f, uint64_t want)
{
	struct store_stats st;

	assert_int_equal(store_stats(f->s, &st), 0);
	assert_int_equal(st.forks, want);
	assert_int_equal(store_author_forks(f->s, f->id->pk), want);
}

/* A version of a forked seq quarantined and then fetched again is counted
 * once as a fork: the counters take it away when it moves aside. */
static void
test_quarantined_fork_counted_once(void **state)
{
	struct fix *f = *state;
	struct built fork;

	seal(f, &fork, 2, "another-practice");
	assert_int_equal(put1(f->s, &fork) & (STORE_DUP | STORE_FORK), STORE_FORK);
	expect_forks(f, 1);
	quarantine_one(f, 1);
	expect_forks(f, 0);
	assert_int_equal(put1(f->s, &f->b[1]) & (STORE_DUP | STORE_FORK),
	    STORE_FORK);
	expect_forks(f, 1);
	/* The one without a twin moves aside: no fork counted fewer. */
	quarantine_one(f, 2);
	expect_forks(f, 1);
	record_release(&fork.rec);
	free(fork.raw);
}

/* The last record of an author quarantined: its seq is still taken, so the
 * author's next record does not fork it. */
static void
test_quarantined_seq_stays_taken(void **state)
{
	struct fix *f = *state;
	uint64_t seq = 0;

	quarantine_one(f, NREC - 1);
	assert_int_equal(store_last_seq(f->s, f->id->pk, &seq), 0);
	assert_int_equal(seq, NREC);
}

static void
test_walk_names_damaged_record(void **state)
{
	struct fix *f = *state;
	char *buf = NULL, hex[2 * RECORD_ID_LEN + 1], want[80];
	size_t size = 0;
	FILE *out;

	rot(f, 2);
	/* One environment per file in a process (LMDB's rule). */
	store_close(f->s);
	f->s = NULL;
	out = open_memstream(&buf, &size);
	assert_non_null(out);
	assert_int_equal(store_walk_run(f->db, out), 0);
	fclose(out);
	snprintf(want, sizeof(want), "bad %s\n",
	    hex_encode(f->b[2].rec.id, RECORD_ID_LEN, hex));
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(buf, "records 3\n"));
	assert_non_null(strstr(buf, "badcount 1\n"));
	assert_non_null(strstr(buf, "\nsound\n"));
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_damaged_record_is_never_served,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_damaged_record_moves_aside_and_comes_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quarantined_fork_counted_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_quarantined_seq_stays_taken,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_names_damaged_record,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
