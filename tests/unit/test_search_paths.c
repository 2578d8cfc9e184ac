// SPDX-License-Identifier: Apache-2.0
// Unit tests for search: on a generated corpus in several languages, every
// class of query answers the same practices in the same order by the faster
// evaluation (lists summed from LMDB's pages) as by the plain one (each list
// loaded and joined on its own).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/error.h"
#include "model/identity.h"
#include "model/record.h"
#include "store/store.h"
#include "unit_util.h"

#define TEST_MAP_SIZE (256ULL << 20)
#define PRACTICES 2400            /* lists of several LMDB pages */
#define BATCH 200
#define TEXT_MAX 4096
#define KEY_MAX 16

/* Words of each language: shared prefixes (le*, lib*, fam*), inflections,
 * a word in nearly every text ("the" and its like). */
static const struct {
	const char *lang;
	const char *words[16];
} vocab[] = {
	{ "en", { "the", "family", "families", "reading", "reads", "library",
	    "libraries", "learning", "lesson", "level", "letters", "legal",
	    "leisure", "adult", "literacy", "city" } },
	{ "sv", { "och", "familjen", "familjerna", "läsning", "läser",
	    "bibliotek", "biblioteket", "lärande", "lektion", "nivå", "brev",
	    "lag", "fritid", "vuxna", "läskunnighet", "staden" } },
	{ "es", { "la", "familia", "familias", "lectura", "lee", "biblioteca",
	    "bibliotecas", "aprendizaje", "lección", "nivel", "letras", "legal",
	    "leer", "adultos", "alfabetización", "ciudad" } },
	{ "fr", { "le", "famille", "familles", "lecture", "lit",
	    "bibliothèque", "bibliothèques", "apprentissage", "leçon", "niveau",
	    "lettres", "légal", "loisir", "adultes", "littératie", "ville" } },
	{ "de", { "der", "Familie", "Familien", "Lesen", "liest", "Bibliothek",
	    "Bibliotheken", "Lernen", "Lektion", "Ebene", "Briefe", "legal",
	    "Freizeit", "Erwachsene", "Lesekompetenz", "Stadt" } },
};

#define NLANGS (sizeof(vocab) / sizeof(vocab[0]))

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* A text of about n words of language li: the first word often, the rest
 * with a skew, so frequencies and lengths vary (some over 16). */
static void
gen_text(char *out, size_t li, unsigned n)
{
	size_t len = 0;
	unsigned i, w;

	out[0] = '\0';
	for (i = 0; i < n && len + 32 < TEXT_MAX; i++) {
		w = rnd(4) == 0 ? 0 : rnd(1 + rnd(16));
		len += (size_t)snprintf(out + len, TEXT_MAX - len, "%s%s",
		    i ? " " : "", vocab[li].words[w]);
	}
}

static void
make_item(const struct identity *id, uint64_t seq, struct store_item *it,
    uint8_t **raw, struct record *rec)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__Practice p = LCF__PRACTICE__INIT;
	Lcf__Translation t = LCF__TRANSLATION__INIT, *tp = &t;
	char *areas[] = { seq % 3 ? "2.2" : "1.1" };
	char key[KEY_MAX], title[TEXT_MAX], summary[TEXT_MAX], desc[TEXT_MAX];
	char ttitle[TEXT_MAX], tsummary[TEXT_MAX];
	uint8_t *content = NULL, rid[RECORD_ID_LEN];
	size_t clen = 0, len = 0, li = rnd(NLANGS), tl = rnd(NLANGS);

	snprintf(key, sizeof(key), "p%05u", (unsigned)seq);
	gen_text(title, li, 2 + rnd(5));
	gen_text(summary, li, 5 + rnd(20));
	gen_text(desc, li, 10 + rnd(rnd(3) == 0 ? 400 : 60));
	c.has_seq = c.has_kind = c.has_timestamp = c.has_author = 1;
	c.seq = seq;
	c.kind = LCF__KIND__KIND_PRACTICE;
	c.key = key;
	c.timestamp = 1700000000000LL + (int64_t)seq;
	c.author.data = (uint8_t *)id->pk;
	c.author.len = IDENTITY_PK_LEN;
	p.title = title;
	p.summary = summary;
	p.description = desc;
	p.language = (char *)vocab[li].lang;
	p.kflc_areas = areas;
	p.n_kflc_areas = 1;
	if (tl != li && rnd(3) == 0) {
		gen_text(ttitle, tl, 2 + rnd(4));
		gen_text(tsummary, tl, 4 + rnd(10));
		t.language = (char *)vocab[tl].lang;
		t.title = ttitle;
		t.summary = tsummary;
		p.translations = &tp;
		p.n_translations = 1;
	}
	c.body_case = LCF__CONTENT__BODY_PRACTICE;
	c.practice = &p;
	assert_int_equal(record_pack_content(&c, &content, &clen), 0);
	assert_int_equal(record_seal(content, clen, id, raw, &len, rid), 0);
	assert_int_equal(record_open(*raw, len, 1, rec), 0);
	memset(it, 0, sizeof(*it));
	it->raw = *raw;
	it->len = len;
	it->rec = rec;
	free(content);
}

/* The keys a query gives, in order. */
struct keys {
	char (*k)[KEY_MAX];
	size_t n, cap;
};

static int
keys_fn(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct keys *ks = arg;
	struct record rec;

	(void)id;
	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? 2 * ks->cap : 256;
		ks->k = realloc(ks->k, ks->cap * sizeof(*ks->k));
		assert_non_null(ks->k);
	}
	assert_int_equal(record_open(raw, len, 0, &rec), 0);
	snprintf(ks->k[ks->n++], KEY_MAX, "%s", rec.c->key);
	record_release(&rec);
	return 0;
}

static size_t
run(struct store *s, const char *text, const char *lang, int sort,
    int reference, size_t limit, struct keys *ks)
{
	struct store_query q;
	char err[STORE_ERROR_MAX] = "";
	int trunc;

	memset(&q, 0, sizeof(q));
	q.kind = LCF__KIND__KIND_PRACTICE;
	q.text = text;
	q.lang = lang;
	q.sort = sort;
	q.limit = limit;
	q.error = err;
	q.search_reference = reference;
	if (strcmp(text, "famil*") == 0)
		q.areas[q.nareas++] = "2.2";
	ks->n = 0;
	assert_int_equal(store_query(s, &q, keys_fn, ks, &trunc), 0);
	return ks->n;
}

/* Both ways give the same answer, and it is not empty. */
static void
expect_same(struct store *s, const char *text, const char *lang, size_t limit)
{
	struct keys a = { 0 }, b = { 0 };
	size_t i;
	int sort;

	for (sort = STORE_SORT_NEWEST; sort <= STORE_SORT_RELEVANCE; sort++) {
		run(s, text, lang, sort, 1, limit, &a);
		run(s, text, lang, sort, 0, limit, &b);
		if (a.n == 0 || a.n != b.n) {
			print_error("%s (sort %d): %zu practices the plain way, "
			    "%zu the faster\n", text, sort, a.n, b.n);
			fail();
		}
		for (i = 0; i < a.n; i++) {
			if (strcmp(a.k[i], b.k[i]) == 0)
				continue;
			print_error("%s (sort %d): at %zu %s the plain way, "
			    "%s the faster\n", text, sort, i, a.k[i], b.k[i]);
			fail();
		}
	}
	free(a.k);
	free(b.k);
}

static const char *const queries[] = {
	"the", "family", "familjerna", "familias", "Lesekompetenz", "le*",
	"lib*", "famil*", "bibliot*", "\"family reading\"", "\"the family\"",
	"family OR familia", "familjerna OR familias OR Familien",
	"family -reading", "family reading", "le* OR lesson",
	"\"reading the\" OR library", "lecture -le", "lit* lib*",
};

static void
test_paths_agree(void **state)
{
	char dir[64] = "/tmp/lcf-test-search-paths-XXXXXX", db[96], err[256];
	struct identity *id = identity_new();
	struct store_item items[BATCH];
	struct record recs[BATCH];
	uint8_t *raws[BATCH];
	struct store *s = NULL;
	size_t i, j;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/db", dir);
	assert_int_equal(store_open(db, TEST_MAP_SIZE, &s, err, sizeof(err)), 0);
	identity_generate(id);
	for (i = 0; i < PRACTICES; i += BATCH) {
		for (j = 0; j < BATCH; j++)
			make_item(id, i + j + 1, &items[j], &raws[j], &recs[j]);
		assert_int_equal(store_put(s, items, BATCH), 0);
		for (j = 0; j < BATCH; j++) {
			record_release(&recs[j]);
			free(raws[j]);
		}
	}
	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		expect_same(s, queries[i], NULL, 0);
		expect_same(s, queries[i], NULL, 50);
	}
	expect_same(s, "le*", "fr", 0);
	expect_same(s, "the OR la", "en", 0);
	store_close(s);
	identity_free(id);
	unit_rm_tree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_agree),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
