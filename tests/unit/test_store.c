// SPDX-License-Identifier: Apache-2.0
// Unit tests for store: real LMDB on a temporary directory, real signed records.
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>
#include <sodium.h>

#include "base/error.h"
#include "model/identity.h"
#include "model/record.h"
#include "store/store.h"
#include "base/util.h"
#include "unit_node.h"

#define TEST_MAP_SIZE UNIT_NODE_MAP_SIZE
#define MAX_BUILT 512
#define MAX_SEEN 128
#define NIDS 17

/* A sealed record: its SignedRecord bytes, its decoded form and a label
 * ("key#seq") for messages. */
struct built {
	uint8_t *raw;
	size_t len;
	struct record rec;
	char label[80];
};

struct fix {
	char dir[64];
	char db[96];
	struct store *s;
	/* ids[0] is city A, ids[1] city B; the rest are for prefix tests. */
	struct identity *ids[NIDS];
	struct built *built[MAX_BUILT];
	size_t nbuilt;
};

/* What a visitor saw, in order. */
struct seen {
	size_t n;
	uint8_t id[MAX_SEEN][RECORD_ID_LEN];
	char label[MAX_SEEN][80];
	int64_t ts[MAX_SEEN];
};

struct pspec {
	const char *key;
	uint64_t seq;
	int64_t ts;
	const char *title;
	const char *summary;
	const char *areas[5];
	const char *clusters[5];
	const char *description;
	const char *language;         /* NULL: en */
	int deleted;
};

/* ---- fixture ---- */

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	size_t i;

	if (f == NULL || sodium_init() < 0 ||
	    unit_store_new("store", f->dir, f->db, &f->s) != 0)
		return -1;
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

	if (f == NULL)
		return 0;
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

/* ---- building records ---- */

/* store_last_seq that must succeed. */
static uint64_t
last_seq(struct store *s, const uint8_t author[32])
{
	uint64_t seq = 12345;

	assert_int_equal(store_last_seq(s, author, &seq), 0);
	return seq;
}

static size_t
count_list(const char *const *list, size_t max)
{
	size_t n = 0;

	while (n < max && list[n] != NULL)
		n++;
	return n;
}

/* Packs, seals and reopens c as signed by id (which becomes its author). */
static struct built *
seal(struct fix *f, const struct identity *id, Lcf__Content *c)
{
	struct built *b = calloc(1, sizeof(*b));
	uint8_t *content = NULL, rid[RECORD_ID_LEN];
	size_t clen = 0;
	int rc;

	assert_non_null(b);
	assert_true(f->nbuilt < MAX_BUILT);
	f->built[f->nbuilt++] = b;
	c->has_author = 1;
	c->author.data = (uint8_t *)id->pk;
	c->author.len = IDENTITY_PK_LEN;
	rc = record_pack_content(c, &content, &clen);
	assert_int_equal(rc, 0);
	rc = record_seal(content, clen, id, &b->raw, &b->len, rid);
	free(content);
	assert_int_equal(rc, 0);
	assert_int_equal(record_open(b->raw, b->len, 1, &b->rec), 0);
	assert_memory_equal(rid, b->rec.id, RECORD_ID_LEN);
	snprintf(b->label, sizeof(b->label), "%s#%llu", c->key,
	    (unsigned long long)c->seq);
	return b;
}

static void
envelope(Lcf__Content *c, Lcf__Kind kind, const char *key, uint64_t seq,
    int64_t ts)
{
	c->has_seq = 1;
	c->seq = seq;
	c->has_kind = 1;
	c->kind = kind;
	c->key = (char *)key;
	c->has_timestamp = 1;
	c->timestamp = ts;
}

static struct built *
practice(struct fix *f, const struct identity *id, const struct pspec *ps)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__Practice p = LCF__PRACTICE__INIT;

	envelope(&c, LCF__KIND__KIND_PRACTICE, ps->key, ps->seq, ps->ts);
	if (ps->deleted) {
		c.has_deleted = 1;
		c.deleted = 1;
	} else {
		p.title = (char *)ps->title;
		p.summary = (char *)(ps->summary ? ps->summary : "A practice.");
		p.language = (char *)(ps->language ? ps->language : "en");
		p.kflc_areas = (char **)ps->areas;
		p.n_kflc_areas = count_list(ps->areas, 5);
		p.clusters = (char **)ps->clusters;
		p.n_clusters = count_list(ps->clusters, 5);
		p.description = (char *)ps->description;
		c.body_case = LCF__CONTENT__BODY_PRACTICE;
		c.practice = &p;
	}
	return seal(f, id, &c);
}

static struct built *
simple_practice(struct fix *f, const struct identity *id, const char *key,
    uint64_t seq, int64_t ts, const char *title)
{
	struct pspec ps = { .key = key, .seq = seq, .ts = ts, .title = title,
	    .areas = { "1.1" } };

	return practice(f, id, &ps);
}

static struct built *
city(struct fix *f, const struct identity *id, uint64_t seq, int64_t ts,
    const char *name, const char *country, int deleted)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__CityProfile cp = LCF__CITY_PROFILE__INIT;

	envelope(&c, LCF__KIND__KIND_CITY, "profile", seq, ts);
	if (deleted) {
		c.has_deleted = 1;
		c.deleted = 1;
	} else {
		cp.name = (char *)name;
		cp.country = (char *)country;
		c.body_case = LCF__CONTENT__BODY_CITY;
		c.city = &cp;
	}
	return seal(f, id, &c);
}

static struct built *
indicator(struct fix *f, const struct identity *id, uint64_t seq, int64_t ts,
    const char *ind, const char *period, double value)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__IndicatorValue iv = LCF__INDICATOR_VALUE__INIT;
	char key[160];

	snprintf(key, sizeof(key), "%s/%s", ind, period);
	envelope(&c, LCF__KIND__KIND_INDICATOR, key, seq, ts);
	iv.indicator = (char *)ind;
	iv.period = (char *)period;
	iv.has_value = 1;
	iv.value = value;
	c.body_case = LCF__CONTENT__BODY_INDICATOR;
	c.indicator = &iv;
	return seal(f, id, &c);
}

/* A record of kind kind, which this node does not know. */
static struct built *
unknown_kind(struct fix *f, const struct identity *id, int kind,
    const char *key, uint64_t seq, int64_t ts)
{
	Lcf__Content c = LCF__CONTENT__INIT;

	envelope(&c, (Lcf__Kind)kind, key, seq, ts);
	return seal(f, id, &c);
}

/* ---- storing and reading ---- */

/* Stores one record in its own transaction; returns its STORE_* flags. */
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
seen_fn(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct seen *sn = arg;
	struct record rec;

	assert_true(sn->n < MAX_SEEN);
	assert_int_equal(record_open(raw, len, 1, &rec), 0);
	/* The id handed to the visitor is the id of the bytes it gets. */
	assert_memory_equal(rec.id, id, RECORD_ID_LEN);
	memcpy(sn->id[sn->n], id, RECORD_ID_LEN);
	snprintf(sn->label[sn->n], sizeof(sn->label[0]), "%s#%llu", rec.c->key,
	    (unsigned long long)rec.c->seq);
	sn->ts[sn->n] = rec.c->timestamp;
	sn->n++;
	record_release(&rec);
	return 0;
}

/* Fails unless got lists exactly want, in order, printing both lists. */
static void
expect_seen(const struct seen *got, struct built *const *want, size_t nwant,
    const char *what)
{
	size_t i;
	int ok = got->n == nwant;

	for (i = 0; ok && i < nwant; i++)
		ok = memcmp(got->id[i], want[i]->rec.id, RECORD_ID_LEN) == 0;
	if (ok)
		return;
	print_error("%s:\n  got:", what);
	for (i = 0; i < got->n; i++)
		print_error(" %s", got->label[i]);
	print_error("\n want:");
	for (i = 0; i < nwant; i++)
		print_error(" %s", want[i]->label);
	print_error("\n");
	fail();
}

#define BLIST(...) ((struct built *[]){ __VA_ARGS__ })
#define EXPECT(what, got, ...)                                                 \
	expect_seen((got), BLIST(__VA_ARGS__),                                 \
	    sizeof(BLIST(__VA_ARGS__)) / sizeof(struct built *), (what))
#define EXPECT_NONE(what, got) expect_seen((got), NULL, 0, (what))

static void
query(struct fix *f, const struct store_query *q, struct seen *sn, int *trunc)
{
	int t = -1, rc;

	memset(sn, 0, sizeof(*sn));
	rc = store_query(f->s, q, seen_fn, sn, &t);
	assert_int_equal(rc, 0);
	assert_true(t == 0 || t == 1);
	if (trunc != NULL)
		*trunc = t;
	else
		assert_int_equal(t, 0);
}

/* Query initializers as parenthesized designator lists, so that their commas
 * survive as one macro argument: QCHECK(f, "what", PQ(.nareas = 1, ...), ...). */
#define UNPAREN(...) __VA_ARGS__
#define PQ(...) (.kind = LCF__KIND__KIND_PRACTICE, __VA_ARGS__)
#define CQ(...) (.kind = LCF__KIND__KIND_CITY, __VA_ARGS__)
#define IQ(...) (.kind = LCF__KIND__KIND_INDICATOR, __VA_ARGS__)

/* Runs a query and checks its answer, in order. */
#define QCHECK(f, what, qinit, ...)                                            \
	do {                                                                   \
		struct store_query q_ = { UNPAREN qinit };                     \
		struct seen sn_;                                               \
		query((f), &q_, &sn_, NULL);                                   \
		EXPECT((what), &sn_, __VA_ARGS__);                             \
	} while (0)
#define QCHECK_NONE(f, what, qinit)                                            \
	do {                                                                   \
		struct store_query q_ = { UNPAREN qinit };                     \
		struct seen sn_;                                               \
		query((f), &q_, &sn_, NULL);                                   \
		EXPECT_NONE((what), &sn_);                                     \
	} while (0)

struct bytes {
	uint8_t buf[RECORD_MAX_SIGNED];
	size_t len;
	uint8_t id[RECORD_ID_LEN];
	int calls;
};

static int
copy_fn(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct bytes *b = arg;

	assert_true(len <= sizeof(b->buf));
	memcpy(b->buf, raw, len);
	memcpy(b->id, id, RECORD_ID_LEN);
	b->len = len;
	b->calls++;
	return 0;
}

/* Fails unless store_get(id of want) returns want's exact bytes. */
static void
expect_get(struct fix *f, const struct built *want)
{
	struct bytes got;

	memset(&got, 0, sizeof(got));
	assert_int_equal(store_get(f->s, want->rec.id, copy_fn, &got), 0);
	assert_int_equal(got.calls, 1);
	assert_int_equal(got.len, want->len);
	assert_memory_equal(got.buf, want->raw, want->len);
	assert_memory_equal(got.id, want->rec.id, RECORD_ID_LEN);
}

/* Fails unless the current version of want's (author, kind, key) is want. */
static void
expect_current(struct fix *f, const struct built *want)
{
	const Lcf__Content *c = want->rec.c;
	struct bytes got;
	char gh[LCF_ID_HEX], wh[LCF_ID_HEX];
	int rc;

	memset(&got, 0, sizeof(got));
	rc = store_get_current(f->s, c->author.data, c->kind, c->key, copy_fn, &got);
	assert_int_equal(rc, 0);
	if (memcmp(got.id, want->rec.id, RECORD_ID_LEN) != 0) {
		print_error("current of %s: got %s, want %s\n", want->label,
		    hex_encode(got.id, RECORD_ID_LEN, gh),
		    hex_encode(want->rec.id, RECORD_ID_LEN, wh));
		fail();
	}
	assert_int_equal(got.len, want->len);
	assert_memory_equal(got.buf, want->raw, want->len);
}

static void
stats(struct fix *f, struct store_stats *st)
{
	assert_int_equal(store_stats(f->s, st), 0);
}

/* ---- tests ---- */

static void
test_put_get(void **state)
{
	struct fix *f = *state;
	struct built *b = simple_practice(f, f->ids[0], "first", 1, 1000,
	    "First practice");
	uint8_t other[RECORD_ID_LEN];
	struct bytes got;
	struct store_stats st;

	expect_flags(put1(f->s, b), STORE_CURRENT, "first put");
	expect_get(f, b);
	expect_current(f, b);
	memcpy(other, b->rec.id, RECORD_ID_LEN);
	other[31] ^= 1;
	memset(&got, 0, sizeof(got));
	assert_int_equal(store_get(f->s, other, copy_fn, &got), LCF_ENOTFOUND);
	assert_int_equal(got.calls, 0);
	assert_int_equal(store_get_current(f->s, f->ids[0]->pk,
	    LCF__KIND__KIND_PRACTICE, "second", copy_fn, &got), LCF_ENOTFOUND);
	assert_int_equal(store_get_current(f->s, f->ids[1]->pk,
	    LCF__KIND__KIND_PRACTICE, "first", copy_fn, &got), LCF_ENOTFOUND);
	assert_int_equal(store_get_current(f->s, f->ids[0]->pk,
	    LCF__KIND__KIND_INDICATOR, "first", copy_fn, &got), LCF_ENOTFOUND);
	assert_int_equal(got.calls, 0);
	/* An item without its decoded form: store_put decodes it. */
	{
		struct built *c = simple_practice(f, f->ids[0], "undecoded", 2,
		    2000, "Stored undecoded");
		struct store_item it = { c->raw, c->len, NULL, -1, { 0 } };

		assert_int_equal(store_put(f->s, &it, 1), 0);
		expect_flags(it.result, STORE_CURRENT, "undecoded put");
		assert_memory_equal(it.id, c->rec.id, RECORD_ID_LEN);
		assert_null(it.rec);
		expect_get(f, c);
		expect_current(f, c);
		assert_int_equal(store_has(f->s, c->rec.id), 1);
		it.result = -1;
		assert_int_equal(store_put(f->s, &it, 1), 0);
		expect_flags(it.result, STORE_DUP, "undecoded put again");
		/* Bytes that are not a record fail the whole write. */
		it.raw = (const uint8_t *)"\xff\xff";
		it.len = 2;
		assert_int_equal(store_put(f->s, &it, 1), LCF_ESTORE);
	}
	/* Held and not held, one skipped, in one read transaction. */
	{
		uint8_t ids[4 * RECORD_ID_LEN], skip[4] = { 0, 0, 0, 1 };
		uint8_t found[4] = { 9, 9, 9, 9 };

		memcpy(ids, other, RECORD_ID_LEN);
		memcpy(ids + RECORD_ID_LEN, b->rec.id, RECORD_ID_LEN);
		memcpy(ids + 2 * RECORD_ID_LEN, b->rec.id, RECORD_ID_LEN);
		memcpy(ids + 3 * RECORD_ID_LEN, b->rec.id, RECORD_ID_LEN);
		assert_int_equal(store_has(f->s, b->rec.id), 1);
		assert_int_equal(store_has(f->s, other), 0);
		assert_int_equal(store_has_many(f->s, ids, skip, 4, found), 0);
		assert_int_equal(found[0], 0);
		assert_int_equal(found[1], 1);
		assert_int_equal(found[2], 1);
		assert_int_equal(found[3], 0);
		memset(found, 9, sizeof(found));
		assert_int_equal(store_has_many(f->s, ids, NULL, 4, found), 0);
		assert_int_equal(found[3], 1);
	}
	stats(f, &st);
	assert_int_equal(st.records, 2);
	assert_int_equal(st.authors, 1);
	assert_int_equal(st.forks, 0);
	assert_int_equal(st.kinds[LCF__KIND__KIND_PRACTICE].current, 2);
	assert_int_equal(st.kinds[LCF__KIND__KIND_PRACTICE].deleted, 0);
	assert_int_equal(st.map_size, TEST_MAP_SIZE);
	assert_true(st.used_bytes > 0 && st.used_bytes <= st.map_size);
}

static void
test_dup(void **state)
{
	struct fix *f = *state;
	struct built *b = simple_practice(f, f->ids[0], "dup", 3, 1000, "Dup test");
	struct built *c = simple_practice(f, f->ids[0], "other", 4, 2000, "Other");
	struct store_item two[3] = {
		{ c->raw, c->len, &c->rec, -1, { 0 } },
		{ c->raw, c->len, &c->rec, -1, { 0 } },
		{ b->raw, b->len, &b->rec, -1, { 0 } },
	};
	struct store_stats before, after;
	struct seen sn;
	struct store_query q = { .kind = LCF__KIND__KIND_PRACTICE };

	expect_flags(put1(f->s, b), STORE_CURRENT, "first put");
	stats(f, &before);
	expect_flags(put1(f->s, b), STORE_DUP, "same record again");
	stats(f, &after);
	assert_int_equal(after.records, before.records);
	assert_int_equal(after.authors, before.authors);
	assert_int_equal(after.forks, 0);
	assert_int_equal(after.kinds[LCF__KIND__KIND_PRACTICE].current, 1);

	/* Within one batch: the second copy is the duplicate of the first. */
	assert_int_equal(store_put(f->s, two, 3), 0);
	expect_flags(two[0].result, STORE_CURRENT, "batch item 0");
	expect_flags(two[1].result, STORE_DUP, "batch item 1 (same as 0)");
	expect_flags(two[2].result, STORE_DUP, "batch item 2 (stored earlier)");
	stats(f, &after);
	assert_int_equal(after.records, 2);
	assert_int_equal(after.forks, 0);
	assert_int_equal(last_seq(f->s, f->ids[0]->pk), 4);
	query(f, &q, &sn, NULL);
	EXPECT("practices after duplicates", &sn, c, b);
	expect_current(f, b);
}

/* A transaction held across several puts: aborted, it leaves nothing and the
 * ids stay out of the sketch; committed, everything it wrote is there, and a
 * version replaced within it (postings of this very transaction) is no longer
 * listed. */
static void
test_txn(void **state)
{
	struct fix *f = *state;
	struct built *a = simple_practice(f, f->ids[0], "one", 1, 1000, "First walk");
	struct built *b = simple_practice(f, f->ids[0], "two", 2, 2000, "Second walk");
	struct built *a2 = simple_practice(f, f->ids[0], "one", 3, 3000, "First walk again");
	struct store_item ia = { .raw = a->raw, .len = a->len, .rec = &a->rec, .result = -1 };
	struct store_item ib = { .raw = b->raw, .len = b->len, .rec = &b->rec, .result = -1 };
	struct store_item ia2 = { .raw = a2->raw, .len = a2->len, .rec = &a2->rec, .result = -1 };
	struct store_query q = { .kind = LCF__KIND__KIND_PRACTICE };
	struct store_query qt = { .kind = LCF__KIND__KIND_PRACTICE, .text = "first" };
	struct store_stats st;
	struct store_txn *t;
	struct seen sn;

	assert_int_equal(store_txn_begin(f->s, &t), 0);
	assert_int_equal(store_txn_put(t, &ia, 1), 0);
	assert_int_equal(store_txn_put(t, &ib, 1), 0);
	store_txn_abort(t);
	stats(f, &st);
	assert_int_equal(st.records, 0);
	assert_int_equal(store_has(f->s, a->rec.id), 0);
	assert_int_equal(last_seq(f->s, f->ids[0]->pk), 0);
	store_txn_abort(NULL);

	assert_int_equal(store_txn_begin(f->s, &t), 0);
	assert_int_equal(store_txn_put(t, &ia, 1), 0);
	assert_int_equal(store_txn_put(t, &ib, 1), 0);
	assert_int_equal(store_txn_put(t, &ia2, 1), 0);
	expect_flags(ia2.result, STORE_CURRENT, "a newer version in the same transaction");
	assert_int_equal(store_txn_commit(t), 0);
	stats(f, &st);
	assert_int_equal(st.records, 3);
	assert_int_equal(st.kinds[LCF__KIND__KIND_PRACTICE].current, 2);
	assert_int_equal(last_seq(f->s, f->ids[0]->pk), 3);
	query(f, &q, &sn, NULL);
	EXPECT("practices after a committed transaction", &sn, a2, b);
	query(f, &qt, &sn, NULL);
	EXPECT("the replaced version's words are gone", &sn, a2);
	expect_current(f, a2);
}

/* store_count_authors: each author's current records among a query's, and
 * those in some languages, from the lists alone. */
static void
test_count_authors(void **state)
{
	struct fix *f = *state;
	struct pspec ps[] = {
		{ .key = "a1", .seq = 1, .ts = 1000, .title = "Reading circles",
		    .areas = { "2.2" } },
		{ .key = "a2", .seq = 2, .ts = 1001, .title = "Lasecirklar",
		    .areas = { "2.2", "1.1" }, .language = "sv" },
		{ .key = "a3", .seq = 3, .ts = 1002, .title = "Walks",
		    .areas = { "1.1" } },
		{ .key = "a4", .seq = 4, .ts = 1003, .title = "Gone",
		    .areas = { "2.2" } },
		{ .key = "a4", .seq = 5, .ts = 1004, .deleted = 1 },
		{ .key = "b1", .seq = 1, .ts = 1005, .title = "Cercles",
		    .areas = { "2.2" }, .language = "fr-BE" },
	};
	const struct identity *who[] = { f->ids[0], f->ids[0], f->ids[0],
		f->ids[0], f->ids[0], f->ids[1] };
	uint8_t authors[3][32];
	const char *en[] = { "en" }, *enfr[] = { "en", "fr" };
	size_t counts[3], in_lang[3], i;
	struct store_query q;

	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
		put1(f->s, practice(f, who[i], &ps[i]));
	memcpy(authors[0], f->ids[0]->pk, 32);
	memcpy(authors[1], f->ids[1]->pk, 32);
	memcpy(authors[2], f->ids[2]->pk, 32);
	memset(&q, 0, sizeof(q));
	q.kind = LCF__KIND__KIND_PRACTICE;
	q.areas[0] = "2.2";
	q.nareas = 1;
	assert_int_equal(store_count_authors(f->s, &q,
	    (const uint8_t (*)[32])authors, 3, en, 1, counts, in_lang), 0);
	/* A: a1 and a2 (a4 deleted); B: b1; the third author wrote nothing. */
	assert_int_equal(counts[0], 2);
	assert_int_equal(counts[1], 1);
	assert_int_equal(counts[2], 0);
	assert_int_equal(in_lang[0], 1);
	assert_int_equal(in_lang[1], 0);
	assert_int_equal(in_lang[2], 0);
	/* fr-BE is indexed under its language, fr. */
	assert_int_equal(store_count_authors(f->s, &q,
	    (const uint8_t (*)[32])authors, 2, enfr, 2, counts, in_lang), 0);
	assert_int_equal(in_lang[0], 1);
	assert_int_equal(in_lang[1], 1);
	/* Without languages, only the counts. */
	q.areas[0] = "1.1";
	assert_int_equal(store_count_authors(f->s, &q,
	    (const uint8_t (*)[32])authors, 2, NULL, 0, counts, NULL), 0);
	assert_int_equal(counts[0], 2);
	assert_int_equal(counts[1], 0);
	/* A text query cannot be counted this way. */
	q.text = "walks";
	assert_int_equal(store_count_authors(f->s, &q,
	    (const uint8_t (*)[32])authors, 2, NULL, 0, counts, NULL), LCF_EINVAL);
}

static void
test_newer_version(void **state)
{
	struct fix *f = *state;
	struct pspec p1 = { .key = "walks", .seq = 1, .ts = 1000,
	    .title = "Heritage walks", .areas = { "1.1" }, .clusters = { "esd" } };
	struct pspec p2 = { .key = "walks", .seq = 2, .ts = 2000,
	    .title = "Nature walks", .areas = { "1.3" }, .clusters = { "climate" } };
	struct built *v1 = practice(f, f->ids[0], &p1);
	struct built *v2 = practice(f, f->ids[0], &p2);
	struct store_stats st;

	expect_flags(put1(f->s, v1), STORE_CURRENT, "v1");
	expect_current(f, v1);
	expect_flags(put1(f->s, v2), STORE_CURRENT, "v2");
	expect_current(f, v2);
	expect_get(f, v1);
	expect_get(f, v2);
	QCHECK(f, "unfiltered", PQ(.limit = 0), v2);
	QCHECK(f, "author", PQ(.author = f->ids[0]->pk), v2);
	QCHECK(f, "word common to both", PQ(.text = "walks"), v2);
	QCHECK_NONE(f, "word only in v1", PQ(.text = "heritage"));
	QCHECK_NONE(f, "area only in v1", PQ(.areas = { "1.1" }, .nareas = 1));
	QCHECK_NONE(f, "cluster only in v1", PQ(.clusters = { "esd" }, .nclusters = 1));
	QCHECK(f, "area of v2", PQ(.areas = { "1.3" }, .nareas = 1), v2);
	stats(f, &st);
	assert_int_equal(st.records, 2);
	assert_int_equal(st.kinds[LCF__KIND__KIND_PRACTICE].current, 1);
	assert_int_equal(last_seq(f->s, f->ids[0]->pk), 2);
}

static void
test_older_after_newer(void **state)
{
	struct fix *f = *state;
	struct built *v5 = simple_practice(f, f->ids[0], "k", 5, 5000,
	    "Newer title");
	struct built *v3 = simple_practice(f, f->ids[0], "k", 3, 3000,
	    "Older title");
	struct store_stats st;

	expect_flags(put1(f->s, v5), STORE_CURRENT, "seq 5");
	expect_flags(put1(f->s, v3), STORE_STALE, "seq 3 after seq 5");
	expect_current(f, v5);
	expect_get(f, v3);
	QCHECK(f, "unfiltered", PQ(.limit = 0), v5);
	QCHECK_NONE(f, "word of the stale one", PQ(.text = "older"));
	QCHECK(f, "word of the current one", PQ(.text = "newer"), v5);
	stats(f, &st);
	assert_int_equal(st.records, 2);
	assert_int_equal(st.authors, 1);
	assert_int_equal(st.forks, 0);
	assert_int_equal(st.kinds[LCF__KIND__KIND_PRACTICE].current, 1);
	assert_int_equal(last_seq(f->s, f->ids[0]->pk), 5);
	/* Reapplying the stale one is a duplicate, not a second stale copy. */
	expect_flags(put1(f->s, v3), STORE_DUP, "stale again");
}

/* Puts two different records with one author and seq in the given order and
 * checks that the lower id is current whatever the order. */
static void
fork_case(struct fix *f, const struct identity *id, int lower_first,
    uint64_t forks_after)
{
	struct built *x = simple_practice(f, id, "forked", 7, 7000, "Fork one");
	struct built *y = simple_practice(f, id, "forked", 7, 7001, "Fork two");
	struct built *lo, *hi;
	struct store_stats st;

	if (memcmp(x->rec.id, y->rec.id, RECORD_ID_LEN) < 0) {
		lo = x;
		hi = y;
	} else {
		lo = y;
		hi = x;
	}
	if (lower_first) {
		expect_flags(put1(f->s, lo), STORE_CURRENT, "lower id first");
		expect_flags(put1(f->s, hi), STORE_FORK | STORE_STALE,
		    "higher id second");
	} else {
		expect_flags(put1(f->s, hi), STORE_CURRENT, "higher id first");
		expect_flags(put1(f->s, lo), STORE_FORK | STORE_CURRENT,
		    "lower id second");
	}
	expect_current(f, lo);
	expect_get(f, lo);
	expect_get(f, hi);
	QCHECK(f, "fork: author query", PQ(.author = id->pk), lo);
	QCHECK(f, "fork: word query", PQ(.author = id->pk, .text = "fork"), lo);
	stats(f, &st);
	assert_int_equal(st.forks, forks_after);
	assert_int_equal(last_seq(f->s, id->pk), 7);
}

/* Records of a kind a base-version peer does not take are stored, current
 * and kept out of the legacy view (PROTOCOL 4.10): its digest, table and
 * author summaries are those of the other records. */
static void
test_late_view(void **state)
{
	struct fix *f = *state;
	struct built *p1, *u1, *u2;
	struct store_author_summary full, legacy;
	struct iblt_digest dall, dleg, dplain;
	struct iblt tall, tleg;
	uint8_t b1[IBLT_DIGEST_BYTES], b2[IBLT_DIGEST_BYTES];
	int kind = 0;

	p1 = simple_practice(f, f->ids[0], "reading", 1, 1000, "Reading");
	u1 = unknown_kind(f, f->ids[0], 29, "beacon", 2, 1001);
	u2 = unknown_kind(f, f->ids[1], 29, "beacon", 1, 1002);
	assert_int_equal(record_peek_kind(u1->raw, u1->len, &kind), 0);
	assert_int_equal(kind, 29);
	assert_int_equal(record_peek_kind(p1->raw, p1->len, &kind), 0);
	assert_int_equal(kind, LCF__KIND__KIND_PRACTICE);
	assert_int_equal(put1(f->s, p1), STORE_CURRENT);
	assert_int_equal(put1(f->s, u1), STORE_CURRENT);
	assert_int_equal(put1(f->s, u2), STORE_CURRENT);
	assert_int_equal(store_sketch_view(f->s, 0, 0, &tall, &dall), 0);
	assert_int_equal(store_sketch_view(f->s, 1, 0, &tleg, &dleg), 0);
	assert_int_equal(dall.count, 3);
	assert_int_equal(dleg.count, 1);
	memset(&dplain, 0, sizeof(dplain));
	iblt_digest_add(&dplain, p1->rec.id);
	iblt_digest_bytes(&dplain, b1);
	iblt_digest_bytes(&dleg, b2);
	assert_memory_equal(b1, b2, sizeof(b1));
	/* The legacy table less the practice is empty. */
	iblt_remove(&tleg, p1->rec.id);
	assert_true(iblt_is_empty(&tleg));
	iblt_remove(&tall, p1->rec.id);
	assert_false(iblt_is_empty(&tall));
	iblt_free(&tall);
	iblt_free(&tleg);
	assert_int_equal(store_author_summary(f->s, 0, f->ids[0]->pk, &full,
	    NULL, 0, NULL), 0);
	assert_int_equal(store_author_summary(f->s, 1, f->ids[0]->pk, &legacy,
	    NULL, 0, NULL), 0);
	assert_int_equal(full.count, 2);
	assert_int_equal(legacy.count, 1);
	assert_memory_equal(legacy.digest, b1, sizeof(b1));
	assert_int_equal(store_author_summary(f->s, 1, f->ids[1]->pk, &legacy,
	    NULL, 0, NULL), 0);
	assert_int_equal(legacy.count, 0);
	/* Reopened, the store finds the same views. */
	store_close(f->s);
	f->s = NULL;
	{
		char err[256];

		assert_int_equal(store_open(f->db, TEST_MAP_SIZE, &f->s, err,
		    sizeof(err)), 0);
	}
	assert_int_equal(store_sketch_view(f->s, 1, 0, NULL, &dleg), 0);
	assert_int_equal(dleg.count, 1);
	assert_int_equal(store_sketch_view(f->s, 0, 0, NULL, &dall), 0);
	assert_int_equal(dall.count, 3);
}

static void
test_fork(void **state)
{
	struct fix *f = *state;
	struct built *p1, *p2;
	struct store_stats st;

	fork_case(f, f->ids[0], 0, 1);
	stats(f, &st);
	assert_int_equal(st.records, 2);
	assert_int_equal(st.kinds[LCF__KIND__KIND_PRACTICE].current, 1);
	fork_case(f, f->ids[1], 1, 2);

	/* One seq used for two different keys is a fork too; each stays current
	 * for its own key. */
	p1 = simple_practice(f, f->ids[2], "left", 9, 100, "Left");
	p2 = simple_practice(f, f->ids[2], "right", 9, 200, "Right");
	expect_flags(put1(f->s, p1), STORE_CURRENT, "seq 9 left");
	expect_flags(put1(f->s, p2), STORE_FORK | STORE_CURRENT, "seq 9 right");
	expect_current(f, p1);
	expect_current(f, p2);
	stats(f, &st);
	assert_int_equal(st.forks, 3);
	assert_int_equal(st.records, 6);
	assert_int_equal(st.authors, 3);
}

/* One store_put is one transaction: a batch that overflows the map leaves
 * nothing behind, and the store keeps working. */
static void
test_batch_atomic(void **state)
{
	struct fix *f = *state;
	enum { NBATCH = 24, PAD = 60 * 1024 };
	struct store_item items[NBATCH];
	struct built *batch[NBATCH], *small, *after;
	struct store *main_store = f->s;
	struct store_stats st;
	char path[128], err[256] = "", *pad, key[32];
	struct pspec ps;
	struct bytes got;
	size_t i;
	int rc;

	snprintf(path, sizeof(path), "%s/small", f->dir);
	f->s = NULL;
	rc = store_open(path, 1ULL << 20, &f->s, err, sizeof(err));
	if (rc != 0)
		print_error("store_open: %s\n", err);
	assert_int_equal(rc, 0);
	small = simple_practice(f, f->ids[0], "small", 1, 1000, "Small one");
	expect_flags(put1(f->s, small), STORE_CURRENT, "small put");

	/* Padding of punctuation: large records with few index words. */
	pad = malloc(PAD + 1);
	assert_non_null(pad);
	memset(pad, '.', PAD);
	pad[PAD] = '\0';
	for (i = 0; i < NBATCH; i++) {
		snprintf(key, sizeof(key), "big-%zu", i);
		memset(&ps, 0, sizeof(ps));
		ps.key = key;
		ps.seq = 2 + i;
		ps.ts = 2000 + (int64_t)i;
		ps.title = "Big practice";
		ps.areas[0] = "2.2";
		ps.description = pad;
		batch[i] = practice(f, f->ids[0], &ps);
		items[i].raw = batch[i]->raw;
		items[i].len = batch[i]->len;
		items[i].rec = &batch[i]->rec;
		items[i].result = -1;
	}
	free(pad);
	rc = store_put(f->s, items, NBATCH);
	if (rc != LCF_EMAPFULL)
		print_error("store_put of %d x %d KiB in a 1 MiB map: %d (%s), want "
		    "LCF_EMAPFULL\n", NBATCH, PAD / 1024, rc, lcf_strerror(rc));
	assert_int_equal(rc, LCF_EMAPFULL);
	for (i = 0; i < NBATCH; i++) {
		assert_int_equal(items[i].result, 0);
		memset(&got, 0, sizeof(got));
		assert_int_equal(store_get(f->s, batch[i]->rec.id, copy_fn, &got),
		    LCF_ENOTFOUND);
	}
	stats(f, &st);
	assert_int_equal(st.records, 1);
	assert_int_equal(st.authors, 1);
	assert_int_equal(st.kinds[LCF__KIND__KIND_PRACTICE].current, 1);
	assert_int_equal(last_seq(f->s, f->ids[0]->pk), 1);
	QCHECK(f, "after the failed batch", PQ(.limit = 0),
	    small);
	QCHECK_NONE(f, "area of the failed batch", PQ(.areas = { "2.2" }, .nareas = 1));

	after = simple_practice(f, f->ids[0], "after", 100, 3000,
	    "After the batch");
	expect_flags(put1(f->s, after), STORE_CURRENT, "small put after failure");
	expect_get(f, after);
	expect_get(f, small);
	stats(f, &st);
	assert_int_equal(st.records, 2);
	assert_int_equal(last_seq(f->s, f->ids[0]->pk), 100);

	/* A batch that fits is stored whole. */
	for (i = 0; i < 3; i++)
		items[i].result = -1;
	assert_int_equal(store_put(f->s, items, 3), 0);
	for (i = 0; i < 3; i++)
		expect_flags(items[i].result, STORE_CURRENT, "batch that fits");
	stats(f, &st);
	assert_int_equal(st.records, 5);
	store_close(f->s);
	f->s = main_store;
}

static void
test_last_seq(void **state)
{
	struct fix *f = *state;
	uint8_t nobody[32];
	size_t i;

	memset(nobody, 0, sizeof(nobody));
	assert_int_equal(last_seq(f->s, f->ids[0]->pk), 0);
	put1(f->s, simple_practice(f, f->ids[0], "a", 4, 1, "A four"));
	put1(f->s, simple_practice(f, f->ids[0], "b", 2, 2, "A two"));
	put1(f->s, simple_practice(f, f->ids[1], "a", 11, 3, "B eleven"));
	put1(f->s, simple_practice(f, f->ids[0], "c", 9, 4, "A nine"));
	put1(f->s, simple_practice(f, f->ids[1], "b", 1, 5, "B one"));
	assert_int_equal(last_seq(f->s, f->ids[0]->pk), 9);
	assert_int_equal(last_seq(f->s, f->ids[1]->pk), 11);
	for (i = 2; i < NIDS; i++)
		assert_int_equal(last_seq(f->s, f->ids[i]->pk), 0);
	assert_int_equal(last_seq(f->s, nobody), 0);
	memset(nobody, 0xff, sizeof(nobody));
	assert_int_equal(last_seq(f->s, nobody), 0);
	/* Seqs compare as numbers, not as their first byte. */
	put1(f->s, simple_practice(f, f->ids[1], "c", 256, 6, "B 256"));
	put1(f->s, simple_practice(f, f->ids[1], "d", 255, 7, "B 255"));
	assert_int_equal(last_seq(f->s, f->ids[1]->pk), 256);
}

/*
 * Holds every free reader slot of the database at path from a second process
 * (LMDB's reader table is shared between processes), so that this process
 * cannot begin a read: a real failure, not a mock. Returns the child's pid;
 * it lets go when fd *release is closed.
 */
static pid_t
hold_readers(const char *path, int *release)
{
	int ready[2], go[2];
	pid_t pid;
	char b;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		MDB_env *env;
		MDB_txn *txn[512];
		size_t n = 0;

		close(ready[0]);
		close(go[1]);
		if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 10) != 0 ||
		    mdb_env_open(env, path, MDB_NOTLS | MDB_RDONLY, 0600) != 0)
			_exit(1);
		while (n < 512 && mdb_txn_begin(env, NULL, MDB_RDONLY, &txn[n]) == 0)
			n++;
		(void)!write(ready[1], "r", 1);
		(void)!read(go[0], &b, 1);
		while (n > 0)
			mdb_txn_abort(txn[--n]);
		mdb_env_close(env);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	assert_int_equal(read(ready[0], &b, 1), 1);
	close(ready[0]);
	*release = go[1];
	return pid;
}

/* A read that fails is an error, never "no records" (a node would number
 * its next record 1 and fork its own history). */
static void
test_last_seq_read_error(void **state)
{
	struct fix *f = *state;
	uint64_t seq = 77, authors = 77;
	int release, status;
	pid_t pid;

	put1(f->s, simple_practice(f, f->ids[0], "a", 4, 1, "A four"));
	pid = hold_readers(f->db, &release);
	assert_int_equal(store_last_seq(f->s, f->ids[0]->pk, &seq), LCF_ESTORE);
	assert_int_equal(store_authors(f->s, &authors), LCF_ESTORE);
	close(release);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(store_last_seq(f->s, f->ids[0]->pk, &seq), 0);
	assert_int_equal(seq, 4);
	assert_int_equal(store_authors(f->s, &authors), 0);
	assert_int_equal(authors, 1);
}

/* Finds a 2-digit hex prefix that starts none of the given 32-byte values. */
static void
unused_prefix(uint8_t (*vals)[32], size_t n, char out[3])
{
	int used[256] = { 0 };
	uint8_t byte;
	size_t i;
	int v;

	for (i = 0; i < n; i++)
		used[vals[i][0]] = 1;
	for (v = 0; v < 256 && used[v]; v++)
		;
	assert_true(v < 256);
	byte = (uint8_t)v;
	hex_encode(&byte, 1, out);
}

/* Copies the first n digits of hex into out (room for n + 1). */
static char *
prefix_of(const char *hex, size_t n, char *out)
{
	memcpy(out, hex, n);
	out[n] = '\0';
	return out;
}

static void
test_resolve_id(void **state)
{
	struct fix *f = *state;
	enum { N = 40 };
	uint8_t ids[N][32], got[32];
	char hex[LCF_ID_HEX], pre[LCF_ID_HEX], key[16], title[32];
	char toolong[LCF_ID_HEX + 1];
	int first[16] = { 0 }, digit = -1;
	size_t i, j;
	struct built *b;

	for (i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "p%zu", i);
		snprintf(title, sizeof(title), "Practice %zu", i);
		b = simple_practice(f, f->ids[0], key, i + 1, (int64_t)i + 1, title);
		put1(f->s, b);
		memcpy(ids[i], b->rec.id, 32);
		first[ids[i][0] >> 4]++;
	}
	/* Forty ids over sixteen first digits: some digit is shared. */
	for (i = 0; i < 16 && digit < 0; i++)
		if (first[i] >= 2)
			digit = (int)i;
	assert_true(digit >= 0);
	snprintf(pre, sizeof(pre), "%x", digit);
	assert_int_equal(store_resolve_id(f->s, pre, got), LCF_EAMBIGUOUS);

	for (i = 0; i < N; i++) {
		hex_encode(ids[i], 32, hex);
		memset(got, 0, sizeof(got));
		assert_int_equal(store_resolve_id(f->s, hex, got), 0);
		assert_memory_equal(got, ids[i], 32);
		/* 12 digits are unique among forty random ids (checked). */
		for (j = 0; j < N; j++)
			if (j != i)
				assert_memory_not_equal(ids[i], ids[j], 6);
		prefix_of(hex, 12, pre);
		memset(got, 0, sizeof(got));
		assert_int_equal(store_resolve_id(f->s, pre, got), 0);
		assert_memory_equal(got, ids[i], 32);
		/* An odd number of digits, upper case. */
		prefix_of(hex, 13, pre);
		for (j = 0; pre[j]; j++)
			if (pre[j] >= 'a' && pre[j] <= 'f')
				pre[j] = (char)(pre[j] - 'a' + 'A');
		memset(got, 0, sizeof(got));
		assert_int_equal(store_resolve_id(f->s, pre, got), 0);
		assert_memory_equal(got, ids[i], 32);
	}

	unused_prefix(ids, N, pre);
	assert_int_equal(store_resolve_id(f->s, pre, got), LCF_ENOTFOUND);
	/* A full id one bit away from a stored one. */
	memcpy(got, ids[0], 32);
	got[31] ^= 1;
	hex_encode(got, 32, hex);
	assert_int_equal(store_resolve_id(f->s, hex, got), LCF_ENOTFOUND);
	assert_int_equal(store_resolve_id(f->s, "", got), LCF_EINVAL);
	assert_int_equal(store_resolve_id(f->s, "12xz", got), LCF_EINVAL);
	/* 65 digits: longer than any id. */
	memset(toolong, 'a', sizeof(toolong) - 1);
	toolong[sizeof(toolong) - 1] = '\0';
	assert_int_equal(store_resolve_id(f->s, toolong, got), LCF_EINVAL);
}

static void
test_resolve_author(void **state)
{
	struct fix *f = *state;
	uint8_t pks[NIDS][32], got[32];
	char hex[LCF_ID_HEX], pre[LCF_ID_HEX];
	int first[16] = { 0 }, digit = -1;
	size_t i, j;

	assert_int_equal(store_resolve_author(f->s, "ab", got), LCF_ENOTFOUND);
	/* Two records per author, so resolving must skip an author's own
	 * entries rather than call them a second match. */
	for (i = 0; i < NIDS; i++) {
		put1(f->s, city(f, f->ids[i], 1, 10, "City", "FI", 0));
		put1(f->s, simple_practice(f, f->ids[i], "p", 2, 20, "Practice"));
		memcpy(pks[i], f->ids[i]->pk, 32);
		first[pks[i][0] >> 4]++;
	}
	for (i = 0; i < 16 && digit < 0; i++)
		if (first[i] >= 2)
			digit = (int)i;
	assert_true(digit >= 0);
	snprintf(pre, sizeof(pre), "%x", digit);
	assert_int_equal(store_resolve_author(f->s, pre, got), LCF_EAMBIGUOUS);

	for (i = 0; i < NIDS; i++) {
		hex_encode(pks[i], 32, hex);
		memset(got, 0, sizeof(got));
		assert_int_equal(store_resolve_author(f->s, hex, got), 0);
		assert_memory_equal(got, pks[i], 32);
		for (j = 0; j < NIDS; j++)
			if (j != i)
				assert_memory_not_equal(pks[i], pks[j], 4);
		prefix_of(hex, 8, pre);
		memset(got, 0, sizeof(got));
		assert_int_equal(store_resolve_author(f->s, pre, got), 0);
		assert_memory_equal(got, pks[i], 32);
	}
	unused_prefix(pks, NIDS, pre);
	assert_int_equal(store_resolve_author(f->s, pre, got), LCF_ENOTFOUND);
	memcpy(got, pks[3], 32);
	got[31] ^= 0x80;
	hex_encode(got, 32, hex);
	assert_int_equal(store_resolve_author(f->s, hex, got), LCF_ENOTFOUND);
	assert_int_equal(store_resolve_author(f->s, "g", got), LCF_EINVAL);
	/* A record id is not an author. */
	hex_encode(f->built[0]->rec.id, 32, hex);
	assert_int_equal(store_resolve_author(f->s, hex, got), LCF_ENOTFOUND);
}

/* The query data set: city A in Finland, city B in Romania, five practices. */
struct dataset {
	struct built *ca, *cb;
	struct built *pa1, *pa2, *pa3, *pb1, *pb2;
};

static void
load_dataset(struct fix *f, struct dataset *d)
{
	const struct identity *a = f->ids[0], *b = f->ids[1];
	struct pspec pa1 = { .key = "reading-circles", .seq = 2, .ts = 1000,
	    .title = "Family reading circles",
	    .summary = "Parents and children read together in libraries.",
	    .areas = { "1.1", "2.2" }, .clusters = { "literacy" } };
	struct pspec pa2 = { .key = "green-walks", .seq = 3, .ts = 2000,
	    .title = "Green walks",
	    .summary = "Learning outdoors in the city parks.",
	    .areas = { "1.3" }, .clusters = { "climate", "esd" } };
	struct pspec pa3 = { .key = "coding-club", .seq = 4, .ts = 3000,
	    .title = "Coding club for seniors",
	    .summary = "Digital skills, taught in LIBRARIES.",
	    .areas = { "1.1", "2.4" }, .clusters = { "literacy", "esd" } };
	struct pspec pb1 = { .key = "river-school", .seq = 2, .ts = 1500,
	    .title = "River school",
	    .summary = "Reading the river: ecology for all ages.",
	    .areas = { "1.3", "1.1" }, .clusters = { "climate" } };
	struct pspec pb2 = { .key = "maker-space", .seq = 3, .ts = 2500,
	    .title = "Maker space",
	    .summary = "Digital fabrication for young people in libraries.",
	    .areas = { "2.4" }, .clusters = { "entrepreneurship" } };
	struct store_item items[7];
	struct built **all[7] = { &d->ca, &d->cb, &d->pa1, &d->pb1, &d->pa2,
	    &d->pb2, &d->pa3 };
	size_t i;

	d->ca = city(f, a, 1, 500, "Tampere", "FI", 0);
	d->cb = city(f, b, 1, 600, "Cluj-Napoca", "RO", 0);
	/* Stored in timestamp order, as a city publishes: the store lists the
	 * most recently stored first, so both orders agree here. */
	d->pa1 = practice(f, a, &pa1);
	d->pb1 = practice(f, b, &pb1);
	d->pa2 = practice(f, a, &pa2);
	d->pb2 = practice(f, b, &pb2);
	d->pa3 = practice(f, a, &pa3);
	/* Practices before profiles: the country must still reach them. */
	for (i = 0; i < 7; i++) {
		struct built *x = *all[(i + 2) % 7];

		items[i].raw = x->raw;
		items[i].len = x->len;
		items[i].rec = &x->rec;
		items[i].result = -1;
	}
	assert_int_equal(store_put(f->s, items, 7), 0);
	for (i = 0; i < 7; i++)
		expect_flags(items[i].result, STORE_CURRENT, "data set");
}

static void
test_queries(void **state)
{
	struct fix *f = *state;
	struct dataset d;
	const uint8_t *a = f->ids[0]->pk, *b = f->ids[1]->pk;
	uint8_t lineab[2][32], linec[1][32];
	struct store_query q;
	struct seen sn;
	int trunc, i;

	load_dataset(f, &d);
	memcpy(lineab[0], a, 32);
	memcpy(lineab[1], b, 32);
	memcpy(linec[0], f->ids[2]->pk, 32);
	QCHECK(f, "all practices, most recently stored first", PQ(.limit = 0),
	    d.pa3, d.pb2, d.pa2, d.pb1, d.pa1);
	QCHECK(f, "area 1.1", PQ(.areas = { "1.1" }, .nareas = 1),
	    d.pa3, d.pb1, d.pa1);
	QCHECK(f, "area 2.4", PQ(.areas = { "2.4" }, .nareas = 1), d.pa3, d.pb2);
	QCHECK_NONE(f, "area nobody uses", PQ(.areas = { "3.3" }, .nareas = 1));
	QCHECK(f, "cluster literacy", PQ(.clusters = { "literacy" },
	    .nclusters = 1), d.pa3, d.pa1);
	QCHECK(f, "cluster climate", PQ(.clusters = { "climate" },
	    .nclusters = 1), d.pa2, d.pb1);
	QCHECK(f, "areas 1.1 and 2.4", PQ(.areas = { "1.1", "2.4" },
	    .nareas = 2), d.pa3);
	QCHECK(f, "areas 1.3 and 1.1", PQ(.areas = { "1.3", "1.1" },
	    .nareas = 2), d.pb1);
	QCHECK_NONE(f, "areas 2.2 and 2.4", PQ(.areas = { "2.2", "2.4" },
	    .nareas = 2));
	QCHECK(f, "clusters literacy and esd", PQ(.clusters = { "literacy",
	    "esd" }, .nclusters = 2), d.pa3);
	QCHECK(f, "country FI", PQ(.country = "FI"), d.pa3, d.pa2, d.pa1);
	QCHECK(f, "country RO", PQ(.country = "RO"), d.pb2, d.pb1);
	QCHECK_NONE(f, "country DE", PQ(.country = "DE"));
	QCHECK(f, "author A", PQ(.author = a), d.pa3, d.pa2, d.pa1);
	QCHECK(f, "author B", PQ(.author = b), d.pb2, d.pb1);
	QCHECK_NONE(f, "author C", PQ(.author = f->ids[2]->pk));
	/* A city's line of keys: any of the authors matches. */
	QCHECK(f, "authors A and B", PQ(.author = a, .authors = lineab + 1,
	    .nauthors = 1), d.pa3, d.pb2, d.pa2, d.pb1, d.pa1);
	QCHECK(f, "authors only in the set", PQ(.authors = lineab,
	    .nauthors = 2), d.pa3, d.pb2, d.pa2, d.pb1, d.pa1);
	QCHECK(f, "authors B and C", PQ(.author = b, .authors = linec,
	    .nauthors = 1), d.pb2, d.pb1);
	QCHECK(f, "authors A and B + text libraries", PQ(.author = a,
	    .authors = lineab + 1, .nauthors = 1, .text = "libraries"), d.pa3,
	    d.pb2, d.pa1);
	QCHECK(f, "text libraries", PQ(.text = "libraries"), d.pa3, d.pb2, d.pa1);
	QCHECK(f, "text reading", PQ(.text = "reading"), d.pb1, d.pa1);
	QCHECK(f, "text digital libraries", PQ(.text = "digital libraries"),
	    d.pa3, d.pb2);
	QCHECK(f, "text upper and mixed case", PQ(.text = "LIBRARIES Digital"),
	    d.pa3, d.pb2);
	QCHECK(f, "text with punctuation", PQ(.text = "  digital, LIBRARIES! "),
	    d.pa3, d.pb2);
	QCHECK_NONE(f, "text reading digital", PQ(.text = "reading digital"));
	QCHECK_NONE(f, "text absent word", PQ(.text = "zeppelin"));
	QCHECK(f, "area 1.1 + country RO", PQ(.areas = { "1.1" }, .nareas = 1,
	    .country = "RO"), d.pb1);
	QCHECK(f, "cluster literacy + text seniors", PQ(.clusters = { "literacy" },
	    .nclusters = 1, .text = "seniors"), d.pa3);
	QCHECK(f, "country FI + cluster literacy + text libraries",
	    PQ(.country = "FI", .clusters = { "literacy" }, .nclusters = 1,
	    .text = "libraries"), d.pa3, d.pa1);
	QCHECK(f, "author B + text libraries + area 2.4", PQ(.author = b,
	    .text = "libraries", .areas = { "2.4" }, .nareas = 1), d.pb2);
	QCHECK_NONE(f, "author A + country RO", PQ(.author = a, .country = "RO"));
	QCHECK(f, "cities", CQ(.limit = 0), d.cb, d.ca);
	QCHECK(f, "cities in FI", CQ(.country = "FI"), d.ca);
	QCHECK_NONE(f, "indicators", IQ(.limit = 0));

	/* The data set was stored in timestamp order, so most recently stored
	 * first is also newest first here; the indicator test below checks a
	 * record stored late with an old timestamp. */
	memset(&q, 0, sizeof(q));
	q.kind = LCF__KIND__KIND_PRACTICE;
	query(f, &q, &sn, NULL);
	for (i = 1; i < (int)sn.n; i++)
		assert_true(sn.ts[i - 1] > sn.ts[i]);

	/* Limits. */
	q.limit = 2;
	query(f, &q, &sn, &trunc);
	EXPECT("limit 2", &sn, d.pa3, d.pb2);
	assert_int_equal(trunc, 1);
	q.limit = 4;
	query(f, &q, &sn, &trunc);
	EXPECT("limit 4", &sn, d.pa3, d.pb2, d.pa2, d.pb1);
	assert_int_equal(trunc, 1);
	q.limit = 5;
	query(f, &q, &sn, &trunc);
	assert_int_equal(sn.n, 5);
	assert_int_equal(trunc, 0);
	q.limit = 6;
	query(f, &q, &sn, &trunc);
	assert_int_equal(sn.n, 5);
	assert_int_equal(trunc, 0);
	q.limit = 1;
	q.text = "libraries";
	query(f, &q, &sn, &trunc);
	EXPECT("text libraries, limit 1", &sn, d.pa3);
	assert_int_equal(trunc, 1);
	q.limit = 3;
	query(f, &q, &sn, &trunc);
	assert_int_equal(sn.n, 3);
	assert_int_equal(trunc, 0);
}

static int
stop_fn(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	int *calls = arg;

	(void)id;
	(void)raw;
	(void)len;
	(*calls)++;
	return 42;
}

static void
test_query_errors(void **state)
{
	struct fix *f = *state;
	struct dataset d;
	struct store_query q;
	struct seen sn;
	int trunc = -1, calls = 0;
	size_t i;

	load_dataset(f, &d);
	memset(&q, 0, sizeof(q));
	q.kind = LCF__KIND__KIND_PRACTICE;
	for (i = 0; i < STORE_MAX_TERMS; i++)
		q.areas[i] = "1.1";
	q.nareas = STORE_MAX_TERMS + 1;
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(store_query(f->s, &q, seen_fn, &sn, &trunc), LCF_EINVAL);
	q.nareas = 0;
	q.nclusters = STORE_MAX_TERMS + 1;
	assert_int_equal(store_query(f->s, &q, seen_fn, &sn, &trunc), LCF_EINVAL);
	q.nclusters = 0;
	q.text = "one two three four five six seven eight nine ten eleven "
	    "twelve thirteen fourteen fifteen sixteen seventeen";
	assert_int_equal(store_query(f->s, &q, seen_fn, &sn, &trunc), LCF_EINVAL);
	/* Text without a single index word cannot match anything useful. */
	q.text = "a . !";
	assert_int_equal(store_query(f->s, &q, seen_fn, &sn, &trunc), LCF_EINVAL);
	assert_int_equal(sn.n, 0);
	/* The maximum number of areas is fine. */
	q.text = NULL;
	q.nareas = STORE_MAX_TERMS;
	query(f, &q, &sn, NULL);
	EXPECT("16 times area 1.1", &sn, d.pa3, d.pb1, d.pa1);
	/* A visitor's non-zero return stops the query and is returned. */
	q.nareas = 0;
	assert_int_equal(store_query(f->s, &q, stop_fn, &calls, &trunc), 42);
	assert_int_equal(calls, 1);
}

static void
test_country_change(void **state)
{
	struct fix *f = *state;
	struct dataset d;
	struct built *ca2, *pa2b, *pa4, *ca3, *ca4, *ca5, *ind;
	struct pspec p2b = { .key = "green-walks", .seq = 11, .ts = 6000,
	    .title = "Green walks, renewed", .areas = { "1.3" } };

	load_dataset(f, &d);
	ind = indicator(f, f->ids[0], 9, 900, "1.1-volunteering", "2024", 5);
	expect_flags(put1(f->s, ind), STORE_CURRENT, "indicator value");
	QCHECK(f, "FI before", PQ(.country = "FI"), d.pa3, d.pa2, d.pa1);
	QCHECK(f, "FI values before", IQ(.country = "FI"), ind);

	ca2 = city(f, f->ids[0], 10, 5000, "Tampere", "SE", 0);
	expect_flags(put1(f->s, ca2), STORE_CURRENT, "profile moves to SE");
	QCHECK_NONE(f, "FI after the move", PQ(.country = "FI"));
	QCHECK(f, "SE after the move", PQ(.country = "SE"), d.pa3, d.pa2, d.pa1);
	QCHECK(f, "RO unchanged", PQ(.country = "RO"), d.pb2, d.pb1);
	QCHECK(f, "SE + area 1.1", PQ(.country = "SE", .areas = { "1.1" },
	    .nareas = 1), d.pa3, d.pa1);
	QCHECK_NONE(f, "FI + area 1.1", PQ(.country = "FI", .areas = { "1.1" },
	    .nareas = 1));
	QCHECK(f, "cities in SE", CQ(.country = "SE"), ca2);
	QCHECK(f, "SE values after the move", IQ(.country = "SE"), ind);
	QCHECK_NONE(f, "FI values after the move", IQ(.country = "FI"));
	QCHECK_NONE(f, "cities in FI", CQ(.country = "FI"));

	/* A new version and a new practice after the move land in SE only. */
	pa2b = practice(f, f->ids[0], &p2b);
	expect_flags(put1(f->s, pa2b), STORE_CURRENT, "green walks v2");
	pa4 = simple_practice(f, f->ids[0], "new-one", 12, 7000, "New one");
	expect_flags(put1(f->s, pa4), STORE_CURRENT, "new practice");
	QCHECK(f, "SE after updates", PQ(.country = "SE"), pa4, pa2b,
	    d.pa3, d.pa1);
	QCHECK_NONE(f, "FI after updates", PQ(.country = "FI"));

	/* A stale profile naming the old country changes nothing. */
	ca3 = city(f, f->ids[0], 8, 4000, "Tampere", "FI", 0);
	expect_flags(put1(f->s, ca3), STORE_STALE, "stale profile");
	QCHECK_NONE(f, "FI after a stale profile", PQ(.country = "FI"));
	QCHECK(f, "SE after a stale profile", PQ(.country = "SE"), pa4, pa2b,
	    d.pa3, d.pa1);

	/* A deleted profile leaves the practices without a country. */
	ca4 = city(f, f->ids[0], 13, 8000, NULL, NULL, 1);
	expect_flags(put1(f->s, ca4), STORE_CURRENT, "profile deleted");
	QCHECK_NONE(f, "SE after the profile's deletion", PQ(.country = "SE"));
	QCHECK(f, "author A still finds them", PQ(.author = f->ids[0]->pk), pa4,
	    pa2b, d.pa3, d.pa1);
	QCHECK(f, "RO still unchanged", PQ(.country = "RO"), d.pb2, d.pb1);
	QCHECK_NONE(f, "SE values after the deletion", IQ(.country = "SE"));

	/* A new profile after the deletion gives them a country again. */
	ca5 = city(f, f->ids[0], 14, 9000, "Tampere", "FI", 0);
	expect_flags(put1(f->s, ca5), STORE_CURRENT, "profile again");
	QCHECK(f, "FI after the new profile", PQ(.country = "FI"), pa4, pa2b,
	    d.pa3, d.pa1);
	QCHECK(f, "FI values after the new profile", IQ(.country = "FI"), ind);
	QCHECK_NONE(f, "SE after the new profile", PQ(.country = "SE"));
	QCHECK(f, "cities in FI at the end", CQ(.country = "FI"), ca5);
}

static int
count_fn(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	size_t *n = arg;

	(void)id;
	(void)raw;
	(void)len;
	(*n)++;
	return 0;
}

/* Re-indexing a country walks posting lists long enough to leave LMDB's
 * in-page duplicate storage. */
static void
test_country_change_many(void **state)
{
	struct fix *f = *state;
	enum { N = 300 };
	struct store_item items[N];
	struct built *b;
	struct seen *sn = calloc(1, sizeof(*sn));
	struct store_query q = { .kind = LCF__KIND__KIND_PRACTICE, .limit = 1 };
	char key[16];
	size_t i, count = 0;
	int trunc;

	assert_non_null(sn);
	for (i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "many-%zu", i);
		b = simple_practice(f, f->ids[0], key, 2 + i, 1000 + (int64_t)i,
		    "Many practices");
		items[i].raw = b->raw;
		items[i].len = b->len;
		items[i].rec = &b->rec;
	}
	assert_int_equal(store_put(f->s, items, N), 0);
	put1(f->s, simple_practice(f, f->ids[1], "other", 1, 5, "Many too"));
	put1(f->s, city(f, f->ids[0], 1, 1, "Tampere", "FI", 0));
	put1(f->s, city(f, f->ids[1], 2, 2, "Cluj-Napoca", "RO", 0));

	q.country = "FI";
	query(f, &q, sn, &trunc);
	assert_int_equal(sn->n, 1);
	assert_int_equal(trunc, 1);
	q.limit = 0;
	assert_int_equal(store_query(f->s, &q, count_fn, &count, &trunc), 0);
	assert_int_equal(count, N);
	put1(f->s, city(f, f->ids[0], 1000, 3, "Tampere", "SE", 0));
	count = 0;
	assert_int_equal(store_query(f->s, &q, count_fn, &count, &trunc), 0);
	assert_int_equal(count, 0);
	q.country = "SE";
	assert_int_equal(store_query(f->s, &q, count_fn, &count, &trunc), 0);
	assert_int_equal(count, N);
	q.country = "SE";
	q.limit = MAX_SEEN;
	query(f, &q, sn, &trunc);
	assert_int_equal(sn->n, MAX_SEEN);
	assert_int_equal(trunc, N > MAX_SEEN);
	for (i = 0; i < sn->n; i++)
		assert_int_equal(sn->ts[i], 1000 + N - 1 - (int64_t)i);
	q.text = "many";
	q.country = "RO";
	query(f, &q, sn, NULL);
	assert_int_equal(sn->n, 1);
	free(sn);
}

static void
test_tombstone(void **state)
{
	struct fix *f = *state;
	struct dataset d;
	struct built *gone, *back;
	struct pspec ps = { .key = "green-walks", .seq = 9, .ts = 9000,
	    .deleted = 1 };
	struct store_stats st;

	load_dataset(f, &d);
	stats(f, &st);
	assert_int_equal(st.kinds[LCF__KIND__KIND_PRACTICE].current, 5);
	assert_int_equal(st.kinds[LCF__KIND__KIND_PRACTICE].deleted, 0);
	gone = practice(f, f->ids[0], &ps);
	expect_flags(put1(f->s, gone), STORE_CURRENT, "tombstone");
	expect_current(f, gone);
	expect_get(f, d.pa2);
	QCHECK(f, "unfiltered without the deleted", PQ(.limit = 0), d.pa3,
	    d.pb2, d.pb1, d.pa1);
	QCHECK(f, "unfiltered, deleted included", PQ(.include_deleted = 1), gone,
	    d.pa3, d.pb2, d.pb1, d.pa1);
	QCHECK(f, "area 1.3", PQ(.areas = { "1.3" }, .nareas = 1), d.pb1);
	QCHECK(f, "cluster climate", PQ(.clusters = { "climate" },
	    .nclusters = 1), d.pb1);
	QCHECK(f, "author A", PQ(.author = f->ids[0]->pk), d.pa3, d.pa1);
	QCHECK(f, "country FI", PQ(.country = "FI"), d.pa3, d.pa1);
	QCHECK_NONE(f, "text green", PQ(.text = "green"));
	stats(f, &st);
	assert_int_equal(st.kinds[LCF__KIND__KIND_PRACTICE].current, 5);
	assert_int_equal(st.kinds[LCF__KIND__KIND_PRACTICE].deleted, 1);
	assert_int_equal(st.kinds[LCF__KIND__KIND_CITY].current, 2);
	assert_int_equal(st.kinds[LCF__KIND__KIND_CITY].deleted, 0);
	assert_int_equal(st.records, 8);
	/* With limits, the skipped tombstone does not count. */
	{
		struct store_query q = { .kind = LCF__KIND__KIND_PRACTICE,
		    .limit = 4 };
		struct seen sn;
		int trunc;

		query(f, &q, &sn, &trunc);
		EXPECT("limit 4 without the deleted", &sn, d.pa3, d.pb2, d.pb1,
		    d.pa1);
		assert_int_equal(trunc, 0);
	}

	/* A live version after the tombstone brings the practice back. */
	ps.seq = 10;
	ps.ts = 10000;
	ps.deleted = 0;
	ps.title = "Green walks are back";
	ps.areas[0] = "1.3";
	back = practice(f, f->ids[0], &ps);
	expect_flags(put1(f->s, back), STORE_CURRENT, "undeleted");
	QCHECK(f, "area 1.3 after the undelete", PQ(.areas = { "1.3" },
	    .nareas = 1), back, d.pb1);
	QCHECK(f, "unfiltered after the undelete", PQ(.limit = 0), back, d.pa3,
	    d.pb2, d.pb1, d.pa1);
	stats(f, &st);
	assert_int_equal(st.kinds[LCF__KIND__KIND_PRACTICE].current, 5);
	assert_int_equal(st.kinds[LCF__KIND__KIND_PRACTICE].deleted, 0);
}

static void
test_indicator_queries(void **state)
{
	struct fix *f = *state;
	const struct identity *a = f->ids[0], *b = f->ids[1];
	struct built *i1, *i2, *i3, *i4, *i2b;

	put1(f->s, city(f, a, 1, 10, "Tampere", "FI", 0));
	put1(f->s, city(f, b, 1, 11, "Cluj-Napoca", "RO", 0));
	i1 = indicator(f, a, 2, 1000, "1.1-volunteering", "2023", 10);
	i2 = indicator(f, a, 3, 2000, "1.1-volunteering", "2024", 12);
	i3 = indicator(f, a, 4, 3000, "1.2-employment-rate", "2024", 70.5);
	i4 = indicator(f, b, 2, 2500, "1.1-volunteering", "2024", 8);
	put1(f->s, i1);
	put1(f->s, i2);
	put1(f->s, i3);
	put1(f->s, i4);
	/* Lists show the most recently stored first: i4 arrived after i3 although
	 * its author's clock says it is older. */
	QCHECK(f, "all values", IQ(.limit = 0), i4, i3, i2, i1);
	QCHECK(f, "by indicator", IQ(.indicator = "1.1-volunteering"), i4, i2,
	    i1);
	QCHECK(f, "by period", IQ(.period = "2024"), i4, i3, i2);
	QCHECK(f, "by indicator and period", IQ(.indicator = "1.1-volunteering",
	    .period = "2024"), i4, i2);
	QCHECK(f, "indicator, period, author", IQ(.indicator = "1.1-volunteering",
	    .period = "2024", .author = a->pk), i2);
	QCHECK(f, "indicator, country RO", IQ(.indicator = "1.1-volunteering",
	    .country = "RO"), i4);
	QCHECK_NONE(f, "unknown indicator", IQ(.indicator = "9.9-nothing"));
	QCHECK_NONE(f, "period 2022", IQ(.period = "2022"));
	QCHECK_NONE(f, "indicator id is not a practice area", PQ(
	    .areas = { "1.1" }, .nareas = 1));

	/* A revised value replaces the old one in every list. */
	i2b = indicator(f, a, 5, 4000, "1.1-volunteering", "2024", 13);
	expect_flags(put1(f->s, i2b), STORE_CURRENT, "revised value");
	QCHECK(f, "by indicator and period after the revision",
	    IQ(.indicator = "1.1-volunteering", .period = "2024"), i2b, i4);
	QCHECK(f, "by period after the revision", IQ(.period = "2024"), i2b, i4,
	    i3);
}

/* Everything the test put, with how often a scan visited it. */
struct tally {
	struct fix *f;
	int count[MAX_BUILT];
	int unknown;
	uint8_t lo, hi;
	int out_of_range;
};

static int
tally_fn(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct tally *t = arg;
	size_t i;

	(void)raw;
	(void)len;
	if (id[0] < t->lo || id[0] > t->hi)
		t->out_of_range++;
	for (i = 0; i < t->f->nbuilt; i++)
		if (memcmp(t->f->built[i]->rec.id, id, RECORD_ID_LEN) == 0) {
			t->count[i]++;
			return 0;
		}
	t->unknown++;
	return 0;
}

static void
test_scan_current(void **state)
{
	struct fix *f = *state;
	struct dataset d;
	struct built *v2, *gone, *stale;
	struct pspec ps = { .key = "river-school", .seq = 8, .ts = 8000,
	    .deleted = 1 };
	uint8_t cursor[STORE_CURSOR_MAX];
	size_t len = 0, i, k, visits = 0;
	struct tally *t = calloc(1, sizeof(*t));
	int done = 0, calls = 0, rc;

	assert_non_null(t);
	load_dataset(f, &d);
	v2 = simple_practice(f, f->ids[0], "reading-circles", 6, 6000,
	    "Family reading circles, second edition");
	gone = practice(f, f->ids[1], &ps);
	stale = simple_practice(f, f->ids[0], "reading-circles", 5, 100, "Old");
	put1(f->s, v2);
	put1(f->s, gone);
	expect_flags(put1(f->s, stale), STORE_STALE, "stale");
	put1(f->s, indicator(f, f->ids[1], 9, 9000, "1.1-volunteering", "2024",
	    3));

	t->f = f;
	t->hi = 0xff;
	while (!done) {
		assert_true(calls < 100);
		rc = store_scan_current(f->s, NULL, cursor, &len, 2, &done, tally_fn, t);
		assert_int_equal(rc, 0);
		assert_true(len > 0 && len <= STORE_CURSOR_MAX);
		calls++;
	}
	/* Current: 2 profiles, 5 practices (one is now v2, one a tombstone),
	 * 1 indicator value. */
	assert_int_equal(t->unknown, 0);
	for (i = 0; i < f->nbuilt; i++) {
		struct built *b = f->built[i];
		int want = b == d.pa1 || b == d.pb1 || b == stale ? 0 : 1;

		if (t->count[i] != want) {
			print_error("%s visited %d times, want %d\n", b->label,
			    t->count[i], want);
			fail();
		}
		visits += (size_t)t->count[i];
	}
	assert_int_equal(visits, 8);
	assert_true(calls >= 4);

	/* One call with room for everything finishes at once. */
	memset(t->count, 0, sizeof(t->count));
	len = 0;
	done = 0;
	assert_int_equal(store_scan_current(f->s, NULL, cursor, &len, 1000, &done,
	    tally_fn, t), 0);
	assert_int_equal(done, 1);
	for (visits = 0, i = 0; i < f->nbuilt; i++)
		visits += (size_t)t->count[i];
	assert_int_equal(visits, 8);
	/* A visitor's non-zero return stops the scan and is returned. */
	len = 0;
	calls = 0;
	assert_int_equal(store_scan_current(f->s, NULL, cursor, &len, 1000, &done,
	    stop_fn, &calls), 42);
	assert_int_equal(calls, 1);

	/* Narrowed to city B, then to its practices, one version per call so
	 * that every resumption goes through the filter. */
	for (k = 0; k < 2; k++) {
		struct store_scan_filter sf = { f->ids[1]->pk, 0 };

		if (k == 1)
			sf.kinds = 1u << LCF__KIND__KIND_PRACTICE;
		memset(t->count, 0, sizeof(t->count));
		len = 0;
		done = 0;
		for (calls = 0; !done; calls++) {
			assert_true(calls < 100);
			assert_int_equal(store_scan_current(f->s, &sf, cursor, &len,
			    1, &done, tally_fn, t), 0);
		}
		for (visits = 0, i = 0; i < f->nbuilt; i++) {
			struct built *b = f->built[i];
			int want = b != d.pa1 && b != d.pb1 && b != stale &&
			    memcmp(b->rec.c->author.data, f->ids[1]->pk, 32) == 0 &&
			    (k == 0 || b->rec.c->kind == LCF__KIND__KIND_PRACTICE);

			if (t->count[i] != want) {
				print_error("filter %zu: %s visited %d times, want "
				    "%d\n", k, b->label, t->count[i], want);
				fail();
			}
			visits += (size_t)t->count[i];
		}
		/* B's profile, its new practice, the tombstone of the other and
		 * its indicator value; then the two practices. */
		assert_int_equal(visits, k == 0 ? 4 : 2);
	}
	/* An author with nothing of a kind: done at once, nothing visited. */
	{
		struct store_scan_filter sf = { f->ids[0]->pk,
		    1u << LCF__KIND__KIND_INDICATOR };

		memset(t->count, 0, sizeof(t->count));
		len = 0;
		assert_int_equal(store_scan_current(f->s, &sf, cursor, &len, 1000,
		    &done, tally_fn, t), 0);
		assert_int_equal(done, 1);
		for (visits = 0, i = 0; i < f->nbuilt; i++)
			visits += (size_t)t->count[i];
		assert_int_equal(visits, 0);
	}
	free(t);
}

static void
test_scan_all(void **state)
{
	struct fix *f = *state;
	struct tally *t = calloc(1, sizeof(*t));
	struct dataset d;
	struct store_stats st;
	size_t i, total = 0;
	int calls = 0;

	assert_non_null(t);
	load_dataset(f, &d);
	for (i = 0; i < 30; i++) {
		char key[16];

		snprintf(key, sizeof(key), "x%zu", i);
		/* Every third one is an older version of the one before. */
		put1(f->s, simple_practice(f, f->ids[2], i % 3 == 2 ? "x" : key,
		    100 - i, (int64_t)i, "Extra"));
	}
	t->f = f;
	t->lo = 0;
	t->hi = 127;
	assert_int_equal(store_scan_all(f->s, 0, 127, tally_fn, t), 0);
	assert_int_equal(t->out_of_range, 0);
	t->lo = 128;
	t->hi = 255;
	assert_int_equal(store_scan_all(f->s, 128, 255, tally_fn, t), 0);
	assert_int_equal(t->out_of_range, 0);
	assert_int_equal(t->unknown, 0);
	for (i = 0; i < f->nbuilt; i++) {
		if (t->count[i] != 1) {
			print_error("%s visited %d times, want 1\n",
			    f->built[i]->label, t->count[i]);
			fail();
		}
		total++;
	}
	stats(f, &st);
	assert_int_equal(st.records, total);
	assert_int_equal(total, 37);
	/* Single-byte slices cover the same ground. */
	memset(t->count, 0, sizeof(t->count));
	for (i = 0; i < 256; i++) {
		t->lo = t->hi = (uint8_t)i;
		assert_int_equal(store_scan_all(f->s, (uint8_t)i, (uint8_t)i,
		    tally_fn, t), 0);
	}
	assert_int_equal(t->out_of_range, 0);
	for (i = 0; i < f->nbuilt; i++)
		assert_int_equal(t->count[i], 1);
	assert_int_equal(store_scan_all(f->s, 0, 255, stop_fn, &calls), 42);
	assert_int_equal(calls, 1);
	free(t);
}

static void
test_stats(void **state)
{
	struct fix *f = *state;
	static const uint64_t seqs[] = { 5, 3, 9, 1 };
	struct store_stats st;
	size_t i, j;
	char key[16];

	stats(f, &st);
	assert_int_equal(st.records, 0);
	assert_int_equal(st.authors, 0);
	assert_int_equal(st.forks, 0);
	/* Every author's seqs arrive out of order, interleaved with others'. */
	for (j = 0; j < 4; j++)
		for (i = 0; i < NIDS; i++) {
			snprintf(key, sizeof(key), "k%llu",
			    (unsigned long long)seqs[j]);
			put1(f->s, simple_practice(f, f->ids[i], key, seqs[j],
			    (int64_t)(j * 100 + i + 1), "Counted"));
		}
	stats(f, &st);
	assert_int_equal(st.records, 4 * NIDS);
	assert_int_equal(st.authors, NIDS);
	assert_int_equal(st.forks, 0);
	assert_int_equal(st.kinds[LCF__KIND__KIND_PRACTICE].current, 4 * NIDS);
	assert_int_equal(st.kinds[LCF__KIND__KIND_CITY].current, 0);
	for (i = 0; i < NIDS; i++)
		assert_int_equal(last_seq(f->s, f->ids[i]->pk), 9);
}

static void
test_durable(void **state)
{
	struct fix *f = *state;
	struct dataset d;
	struct store_stats before, after;
	char err[256] = "";
	int rc;

	load_dataset(f, &d);
	stats(f, &before);
	store_close(f->s);
	f->s = NULL;
	rc = store_open(f->db, TEST_MAP_SIZE, &f->s, err, sizeof(err));
	if (rc != 0)
		print_error("store_open again: %s\n", err);
	assert_int_equal(rc, 0);
	stats(f, &after);
	assert_int_equal(after.records, before.records);
	assert_int_equal(after.authors, before.authors);
	assert_int_equal(after.kinds[LCF__KIND__KIND_PRACTICE].current, 5);
	assert_int_equal(after.kinds[LCF__KIND__KIND_CITY].current, 2);
	expect_get(f, d.pa1);
	expect_get(f, d.cb);
	expect_current(f, d.pb2);
	assert_int_equal(last_seq(f->s, f->ids[0]->pk), 4);
	QCHECK(f, "area 1.1 after reopening", PQ(.areas = { "1.1" }, .nareas = 1),
	    d.pa3, d.pb1, d.pa1);
	QCHECK(f, "country RO after reopening", PQ(.country = "RO"), d.pb2,
	    d.pb1);
	/* And it still takes writes. */
	expect_flags(put1(f->s, simple_practice(f, f->ids[0], "later", 10, 10,
	    "Later")), STORE_CURRENT, "put after reopening");
}

struct reader {
	struct store *s;
	int *stop;
	int errors;
	unsigned long rounds;
	size_t bad;              /* records that did not open or verify */
	char first[160];         /* what went wrong first */
};

static void
reader_fail(struct reader *r, const char *what, int rc, size_t n)
{
	if (r->errors++ == 0)
		snprintf(r->first, sizeof(r->first), "%s: rc %d (%s), %zu records",
		    what, rc, lcf_strerror(rc), n);
}

/* Counts visits; a record that does not open, verify and match its id is
 * counted in the reader's bad total. */
struct verify_count {
	struct reader *r;
	size_t n;
};

static int
verify_fn(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct verify_count *vc = arg;
	struct record rec;

	if (record_open(raw, len, 1, &rec) != 0)
		vc->r->bad++;
	else {
		if (memcmp(rec.id, id, RECORD_ID_LEN) != 0)
			vc->r->bad++;
		record_release(&rec);
	}
	vc->n++;
	return 0;
}

/*
 * Reads while the main thread writes: every call succeeds and sees whole,
 * verifiable records. Counts are not compared across calls: LMDB may give a
 * read transaction a snapshot one commit newer than the next one gets.
 */
static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	struct store_query all = { .kind = LCF__KIND__KIND_PRACTICE };
	struct store_query area = { .kind = LCF__KIND__KIND_PRACTICE,
	    .areas = { "1.1" }, .nareas = 1, .text = "concurrent" };
	struct verify_count vc = { r, 0 };
	struct store_stats st;
	int trunc, rc;

	while (!__atomic_load_n(r->stop, __ATOMIC_ACQUIRE) || r->rounds < 3) {
		vc.n = 0;
		if ((rc = store_query(r->s, &all, verify_fn, &vc, &trunc)) != 0)
			reader_fail(r, "query all", rc, vc.n);
		vc.n = 0;
		if ((rc = store_query(r->s, &area, verify_fn, &vc, &trunc)) != 0)
			reader_fail(r, "query area", rc, vc.n);
		if ((rc = store_stats(r->s, &st)) != 0)
			reader_fail(r, "stats", rc, 0);
		vc.n = 0;
		if ((rc = store_scan_all(r->s, 0, 255, verify_fn, &vc)) != 0)
			reader_fail(r, "scan_all", rc, vc.n);
		r->rounds++;
	}
	return NULL;
}

static void
test_concurrent_readers(void **state)
{
	struct fix *f = *state;
	enum { NREADERS = 3, NWRITES = 150 };
	struct reader r[NREADERS];
	pthread_t th[NREADERS];
	int stop = 0;
	struct store_stats st;
	char key[16];
	size_t i;

	for (i = 0; i < NREADERS; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].s = f->s;
		r[i].stop = &stop;
		assert_int_equal(pthread_create(&th[i], NULL, reader_main, &r[i]),
		    0);
	}
	for (i = 0; i < NWRITES; i++) {
		snprintf(key, sizeof(key), "c%zu", i);
		put1(f->s, simple_practice(f, f->ids[0], key, i + 1,
		    (int64_t)i + 1, "Concurrent practice"));
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NREADERS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		if (r[i].errors != 0)
			print_error("reader %zu: %d errors, first: %s\n", i,
			    r[i].errors, r[i].first);
		assert_int_equal(r[i].errors, 0);
		assert_int_equal(r[i].bad, 0);
	}
	stats(f, &st);
	assert_int_equal(st.records, NWRITES);
}

static void
test_open_errors(void **state)
{
	struct fix *f = *state;
	struct store *s = (struct store *)1;
	char path[160], err[256] = "";
	FILE *fp;

	/* A regular file where the directory should be. */
	snprintf(path, sizeof(path), "%s/plainfile", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_not_equal(store_open(path, TEST_MAP_SIZE, &s, err,
	    sizeof(err)), 0);
	assert_null(s);
	if (strstr(err, path) == NULL) {
		print_error("error does not name the path: '%s'\n", err);
		fail();
	}
	snprintf(path, sizeof(path), "%s/no/such/dir", f->dir);
	err[0] = '\0';
	s = (struct store *)1;
	assert_int_not_equal(store_open(path, TEST_MAP_SIZE, &s, err,
	    sizeof(err)), 0);
	assert_null(s);
	assert_non_null(strstr(err, path));
	store_close(NULL);
}

/* A database written with another schema version is refused, not used. */
static void
test_schema_version(void **state)
{
	struct fix *f = *state;
	struct stat st;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;
	MDB_val k = { 6, "schema" }, v;
	uint8_t ver[4];
	char err[256] = "";
	struct store *s = (struct store *)1;

	/* The directory is private. */
	assert_int_equal(stat(f->db, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, f->db, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_get(txn, meta, &k, &v), 0);
	assert_int_equal(v.mv_size, 4);
	assert_int_equal(get_be32(v.mv_data), STORE_SCHEMA_VERSION);
	put_be32(ver, STORE_SCHEMA_VERSION + 1);
	v.mv_data = ver;
	v.mv_size = 4;
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	assert_int_equal(store_open(f->db, TEST_MAP_SIZE, &s, err, sizeof(err)),
	    LCF_ESTORE);
	assert_null(s);
	if (strstr(err, "schema") == NULL || strstr(err, f->db) == NULL) {
		print_error("error does not name the schema and path: '%s'\n", err);
		fail();
	}
}

/* A schema 1 database (record bytes under their ids in "records") is upgraded
 * at open: every record is found again, by id and as a current version, new
 * writes carry on, and what an interrupted upgrade left in the new tables is
 * not kept. The schema 1 layout is rebuilt here from a schema 2 store. */
static void
test_upgrade_1(void **state)
{
	struct fix *f = *state;
	struct built *b[4];
	struct built *later;
	struct store_stats st;
	MDB_env *env;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_dbi meta, rows, ids, records;
	MDB_val k = { 6, "schema" }, v, rk, rv;
	uint8_t ver[4], junk[RECORD_ID_LEN], junkrow[8];
	char err[256] = "";
	size_t i, moved = 0;
	int rc;

	b[0] = simple_practice(f, f->ids[0], "one", 1, 1000, "One");
	b[1] = simple_practice(f, f->ids[0], "two", 2, 2000, "Two");
	b[2] = simple_practice(f, f->ids[1], "one", 1, 1500, "Other one");
	b[3] = simple_practice(f, f->ids[0], "one", 3, 3000, "One again");
	for (i = 0; i < 4; i++)
		assert_int_equal(put1(f->s, b[i]) & STORE_DUP, 0);
	store_close(f->s);
	f->s = NULL;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 10), 0);
	assert_int_equal(mdb_env_open(env, f->db, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_dbi_open(txn, "rows", 0, &rows), 0);
	assert_int_equal(mdb_dbi_open(txn, "ids", 0, &ids), 0);
	assert_int_equal(mdb_dbi_open(txn, "records", MDB_CREATE, &records), 0);
	assert_int_equal(mdb_cursor_open(txn, ids, &cur), 0);
	for (rc = mdb_cursor_get(cur, &rk, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &rk, &v, MDB_NEXT)) {
		assert_int_equal(mdb_get(txn, rows, &v, &rv), 0);
		assert_int_equal(mdb_put(txn, records, &rk, &rv, 0), 0);
		moved++;
	}
	assert_int_equal(rc, MDB_NOTFOUND);
	mdb_cursor_close(cur);
	assert_int_equal(moved, 4);
	/* Empty the new tables, then leave one stray entry in each, as an
	 * upgrade stopped half way would. */
	assert_int_equal(mdb_drop(txn, rows, 0), 0);
	assert_int_equal(mdb_drop(txn, ids, 0), 0);
	memset(junk, 0xee, sizeof(junk));
	put_be64(junkrow, 77);
	rk.mv_data = junk;
	rk.mv_size = sizeof(junk);
	rv.mv_data = junkrow;
	rv.mv_size = sizeof(junkrow);
	assert_int_equal(mdb_put(txn, ids, &rk, &rv, 0), 0);
	assert_int_equal(mdb_put(txn, rows, &rv, &rk, 0), 0);
	put_be32(ver, 1);
	v.mv_data = ver;
	v.mv_size = 4;
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	if (store_open(f->db, TEST_MAP_SIZE, &f->s, err, sizeof(err)) != 0) {
		print_error("store_open: %s\n", err);
		fail();
	}
	for (i = 0; i < 4; i++) {
		expect_get(f, b[i]);
		assert_int_equal(store_has(f->s, b[i]->rec.id), 1);
	}
	assert_int_equal(store_has(f->s, junk), 0);
	expect_current(f, b[3]);
	expect_current(f, b[1]);
	expect_current(f, b[2]);
	stats(f, &st);
	assert_int_equal(st.records, 4);
	/* Writes carry on after the moved rows; known ids stay known. */
	for (i = 0; i < 4; i++)
		expect_flags(put1(f->s, b[i]), STORE_DUP, "put after the upgrade");
	later = simple_practice(f, f->ids[1], "two", 2, 4000, "Written later");
	expect_flags(put1(f->s, later), STORE_CURRENT, "new after the upgrade");
	expect_get(f, later);
	expect_get(f, b[0]);
	stats(f, &st);
	assert_int_equal(st.records, 5);
	store_close(f->s);
	f->s = NULL;

	/* The old table is gone and the schema is the current one. */
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 10), 0);
	assert_int_equal(mdb_env_open(env, f->db, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "records", 0, &records), MDB_NOTFOUND);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_get(txn, meta, &k, &v), 0);
	assert_int_equal(get_be32(v.mv_data), STORE_SCHEMA_VERSION);
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

struct words {
	size_t n;
	char w[32][40];
};

static void
word_fn(void *arg, const char *w, size_t n)
{
	struct words *ws = arg;

	assert_true(ws->n < 32);
	assert_true(n < sizeof(ws->w[0]));
	memcpy(ws->w[ws->n], w, n);
	ws->w[ws->n][n] = '\0';
	ws->n++;
}

static void
expect_words(const char *text, const char *const *want, size_t nwant)
{
	struct words ws;
	size_t i;
	int ok;

	memset(&ws, 0, sizeof(ws));
	store_words(text, word_fn, &ws);
	ok = ws.n == nwant;
	for (i = 0; ok && i < nwant; i++)
		ok = strcmp(ws.w[i], want[i]) == 0;
	if (ok)
		return;
	print_error("store_words(\"%s\"):\n  got:", text ? text : "(null)");
	for (i = 0; i < ws.n; i++)
		print_error(" [%s]", ws.w[i]);
	print_error("\n want:");
	for (i = 0; i < nwant; i++)
		print_error(" [%s]", want[i]);
	print_error("\n");
	fail();
}

#define WORDS(text, ...)                                                       \
	expect_words((text), (const char *const[]){ __VA_ARGS__ },             \
	    sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *))

static void
test_words(void **state)
{
	char w32[40], w33[40], text[100];

	(void)state;
	WORDS("Family-reading, in Tampere's libraries!", "family", "reading",
	    "in", "tampere", "libraries");
	WORDS("A b cd E2 2024-Q3", "cd", "e2", "2024", "q3");
	WORDS("Käpylä LIBRARY", "k\xc3\xa4pyl\xc3\xa4", "library");
	memset(w32, 'x', 32);
	w32[32] = '\0';
	memset(w33, 'Y', 33);
	w33[33] = '\0';
	snprintf(text, sizeof(text), "%s %s ok", w33, w32);
	WORDS(text, w32, "ok");
	expect_words("", NULL, 0);
	expect_words(" -- ! ", NULL, 0);
	expect_words(NULL, NULL, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_txn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_authors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_older_after_newer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fork, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_seq_read_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_resolve_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_author, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_queries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_country_change, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_country_change_many, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tombstone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indicator_queries, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scan_current, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_durable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_readers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_version, setup,
		    teardown),
		cmocka_unit_test(test_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
