// SPDX-License-Identifier: Apache-2.0
// Unit tests for search: folding and stemming per language, the query parser
// and its errors, BM25 order on a small known corpus, and a schema-2 store
// (made by the lcnode before schema 3) upgraded in place at open.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/error.h"
#include "model/fold.h"
#include "model/identity.h"
#include "model/record.h"
#include "model/squery.h"
#include "store/store.h"
#include "unit_util.h"

#define TEST_MAP_SIZE (64ULL << 20)
#define MAX_SEEN 16

/* ---- folding and stemming ---- */

struct words {
	size_t n;
	char w[16][FOLD_WORD_MAX + 1];
};

static void
word_fn(void *arg, const char *w, size_t n, const char *alt, size_t altn,
    size_t pos)
{
	struct words *ws = arg;

	(void)alt;
	(void)altn;
	(void)pos;
	assert_true(ws->n < 16);
	memcpy(ws->w[ws->n], w, n);
	ws->w[ws->n++][n] = '\0';
}

static void
expect_folded(const char *lang, const char *text, const char *want)
{
	struct words ws;
	char got[512] = "";
	size_t i;

	memset(&ws, 0, sizeof(ws));
	fold_words(lang, text, 1, word_fn, &ws);
	for (i = 0; i < ws.n; i++) {
		strcat(got, i ? " " : "");
		strcat(got, ws.w[i]);
	}
	if (strcmp(got, want) != 0) {
		print_error("fold_words(%s, \"%s\"): got \"%s\", want \"%s\"\n",
		    lang, text, got, want);
		fail();
	}
}

static void
test_fold(void **state)
{
	char code[FOLD_LANG_MAX];

	(void)state;
	/* Case and diacritics, no stemming in an unknown language. */
	expect_folded("und", "Käpylä LIBRARY, Malmö; ÉCOLE x 2024-Q3",
	    "kapyla library malmo ecole 2024 q3");
	expect_folded("und", "Straße ĲSSEL", "strasse ijssel");
	expect_folded("und", "", "");
	/* Tags to Snowball's languages. */
	assert_int_equal(fold_lang("sv-SE", code), 1);
	assert_string_equal(code, "sv");
	assert_int_equal(fold_lang("pt-BR", code), 1);
	assert_string_equal(code, "pt");
	assert_int_equal(fold_lang("nb", code), 1);
	assert_string_equal(code, "no");
	assert_int_equal(fold_lang("EN", code), 1);
	assert_string_equal(code, "en");
	assert_int_equal(fold_lang("tlh", code), 0);
	assert_string_equal(code, "tlh");
	assert_int_equal(fold_lang(NULL, code), 0);
	assert_string_equal(code, "und");
	assert_int_equal(fold_lang("1x", code), 0);
	assert_string_equal(code, "und");
}

/* Words that must share one folded stem in a language. */
static const struct {
	const char *lang, *a, *b;
} same_stem[] = {
	{ "en", "libraries", "library" },
	{ "en", "reading", "reads" },
	{ "sv", "familjer", "familjen" },
	{ "sv", "läsningen", "läsning" },
	{ "es", "bibliotecas", "biblioteca" },
	{ "es", "alfabetización", "Alfabetización" },
	{ "fr", "lectures", "lecture" },
	{ "de", "Kindern", "Kinder" },
	{ "fi", "kirjastossa", "kirjasto" },
	{ "pt", "bibliotecas", "biblioteca" },
	{ "it", "biblioteche", "biblioteca" },
	{ "nl", "bibliotheken", "bibliotheek" },
};

static void
test_stem(void **state)
{
	char a[FOLD_WORD_MAX + 1], b[FOLD_WORD_MAX + 1], alt[FOLD_WORD_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(same_stem) / sizeof(same_stem[0]); i++) {
		assert_true(fold_word(same_stem[i].lang, same_stem[i].a,
		    strlen(same_stem[i].a), 1, a, NULL) > 0);
		assert_true(fold_word(same_stem[i].lang, same_stem[i].b,
		    strlen(same_stem[i].b), 1, b, NULL) > 0);
		if (strcmp(a, b) != 0) {
			print_error("%s: %s -> %s, %s -> %s\n", same_stem[i].lang,
			    same_stem[i].a, a, same_stem[i].b, b);
			fail();
		}
	}
	/* Unstemmed, the inflections stay apart. */
	fold_word("sv", "familjer", 8, 0, a, NULL);
	fold_word("sv", "familjen", 8, 0, b, NULL);
	assert_string_not_equal(a, b);
	/* A word with diacritics also gives the stem of it typed without. */
	fold_word("es", "alfabetización", strlen("alfabetización"), 1, a, alt);
	fold_word("es", "alfabetizacion", strlen("alfabetizacion"), 1, b, NULL);
	assert_string_equal(alt, b);
	/* Too short or not one word. */
	assert_int_equal(fold_word("en", "a", 1, 1, a, NULL), 0);
	assert_int_equal(fold_word("en", "a b", 3, 1, a, NULL), 0);
}

/* ---- the parser ---- */

static void
expect_error(const char *text, const char *want)
{
	struct squery *q = NULL;
	char err[SQUERY_ERR_MAX] = "";
	int rc = squery_parse(text, &q, err, sizeof(err));

	if (rc != LCF_EINVAL || strcmp(err, want) != 0) {
		print_error("squery_parse(%s): rc %d, \"%s\"; want \"%s\"\n", text,
		    rc, err, want);
		fail();
	}
	assert_null(q);
}

static void
test_parse_errors(void **state)
{
	(void)state;
	expect_error("family \"reading circles", "unclosed quote at character 8");
	expect_error("reading OR", "OR needs a term on each side, at character 11");
	expect_error("OR reading", "OR needs a term on each side, at character 1");
	expect_error("a OR OR b", "OR needs a term on each side, at character 6");
	expect_error("(literacy OR reading", "unclosed '(' at character 1");
	expect_error("literacy)", "')' without '(' at character 9");
	expect_error("x ()", "empty parentheses at character 3");
	expect_error("l*", "a prefix needs at least 2 letters before '*', at "
	    "character 1");
	expect_error("*read", "'*' must follow the letters of a prefix, as in "
	    "literac*, at character 1");
	expect_error("-reading", "an exclusion needs a term beside it to narrow, "
	    "at character 1");
	expect_error("ab OR -cd", "an exclusion needs a term beside it to narrow, "
	    "at character 7");
	expect_error("xy -(-reading)", "an exclusion needs a term beside it to "
	    "narrow, at character 6");
	expect_error("a . !", "no word of at least 2 letters to search for");
	expect_error("", "no word of at least 2 letters to search for");
	/* Positions count characters, not bytes. */
	expect_error("läsning \"familj", "unclosed quote at character 9");
	expect_error("one two three four five six seven eight nine ten eleven "
	    "twelve thirteen fourteen fifteen sixteen seventeen",
	    "more than 16 terms, at character 98");
}

static void
test_parse_tree(void **state)
{
	struct squery *q = NULL;
	struct squery_node *r, *and;
	char err[SQUERY_ERR_MAX];

	(void)state;
	/* OR binds loosest; side by side is AND; a minus excludes. */
	assert_int_equal(squery_parse("literac* OR \"family a reading\" -xx",
	    &q, err, sizeof(err)), 0);
	r = q->root;
	assert_int_equal(r->op, SQUERY_OR);
	assert_int_equal(r->nkids, 2);
	assert_int_equal(r->kids[0]->op, SQUERY_PREFIX);
	assert_string_equal(r->kids[0]->words[0], "literac");
	and = r->kids[1];
	assert_int_equal(and->op, SQUERY_AND);
	assert_int_equal(and->kids[0]->op, SQUERY_PHRASE);
	/* A word too short to index holds its place in the phrase. */
	assert_int_equal(and->kids[0]->nwords, 3);
	assert_string_equal(and->kids[0]->words[1], "");
	assert_int_equal(and->kids[1]->op, SQUERY_NOT);
	assert_string_equal(and->kids[1]->kids[0]->words[0], "xx");
	assert_int_equal(q->nleaves, 3);
	assert_true(q->has_phrase);
	squery_free(q);
	/* e-learning: a minus inside a word separates; short words drop. */
	assert_int_equal(squery_parse("e-learning", &q, err, sizeof(err)), 0);
	assert_int_equal(q->root->op, SQUERY_WORD);
	assert_string_equal(q->root->words[0], "learning");
	squery_free(q);
}

/* ---- BM25 order, and the upgrade ---- */

struct seen {
	size_t n;
	char key[MAX_SEEN][64];
};

static int
seen_fn(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct seen *sn = arg;
	struct record rec;

	(void)id;
	assert_true(sn->n < MAX_SEEN);
	assert_int_equal(record_open(raw, len, 0, &rec), 0);
	snprintf(sn->key[sn->n++], sizeof(sn->key[0]), "%s", rec.c->key);
	record_release(&rec);
	return 0;
}

/* The keys a query gives, space-separated, in order. */
static void
expect_keys(struct store *s, const char *text, int sort, const char *lang,
    const char *want)
{
	struct store_query q;
	struct seen sn;
	char got[512] = "", err[STORE_ERROR_MAX] = "";
	size_t i;
	int trunc;

	memset(&q, 0, sizeof(q));
	memset(&sn, 0, sizeof(sn));
	q.kind = LCF__KIND__KIND_PRACTICE;
	q.text = text;
	q.sort = sort;
	q.lang = lang;
	q.error = err;
	assert_int_equal(store_query(s, &q, seen_fn, &sn, &trunc), 0);
	for (i = 0; i < sn.n; i++) {
		strcat(got, i ? " " : "");
		strcat(got, sn.key[i]);
	}
	if (strcmp(got, want) != 0) {
		print_error("%s: got \"%s\", want \"%s\"\n", text, got, want);
		fail();
	}
}

static void
put_practice(struct store *s, const struct identity *id, uint64_t seq,
    const char *key, const char *lang, const char *title, const char *summary)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__Practice p = LCF__PRACTICE__INIT;
	char *areas[] = { "2.1" };
	uint8_t *content = NULL, *raw = NULL, rid[RECORD_ID_LEN];
	size_t clen = 0, len = 0;
	struct store_item it;
	struct record rec;

	c.has_seq = c.has_kind = c.has_timestamp = c.has_author = 1;
	c.seq = seq;
	c.kind = LCF__KIND__KIND_PRACTICE;
	c.key = (char *)key;
	c.timestamp = 1700000000000LL + (int64_t)seq;
	c.author.data = (uint8_t *)id->pk;
	c.author.len = IDENTITY_PK_LEN;
	p.title = (char *)title;
	p.summary = (char *)summary;
	p.language = (char *)lang;
	p.kflc_areas = areas;
	p.n_kflc_areas = 1;
	c.body_case = LCF__CONTENT__BODY_PRACTICE;
	c.practice = &p;
	assert_int_equal(record_pack_content(&c, &content, &clen), 0);
	assert_int_equal(record_seal(content, clen, id, &raw, &len, rid), 0);
	assert_int_equal(record_open(raw, len, 1, &rec), 0);
	memset(&it, 0, sizeof(it));
	it.raw = raw;
	it.len = len;
	it.rec = &rec;
	assert_int_equal(store_put(s, &it, 1), 0);
	record_release(&rec);
	free(content);
	free(raw);
}

static void
test_bm25(void **state)
{
	char dir[64] = "/tmp/lcf-test-search-XXXXXX", db[96], err[256];
	struct identity *id = identity_new();
	struct store *s = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/db", dir);
	assert_int_equal(store_open(db, TEST_MAP_SIZE, &s, err, sizeof(err)), 0);
	identity_generate(id);
	/* The oldest says literacy most, in its title: the best answer. A
	 * title counts more than a summary; a term in a long text counts
	 * less than in a short one. */
	put_practice(s, id, 1, "best", "en", "Literacy for adult literacy",
	    "Literacy classes.");
	put_practice(s, id, 2, "summary-once", "en", "Evening classes",
	    "Classes in literacy, numeracy, languages, computing, budgeting, "
	    "cooking, gardening, painting, music, sport and many other subjects "
	    "for everyone who lives in the city.");
	put_practice(s, id, 3, "title-once", "en", "Literacy circles",
	    "Small groups meet weekly.");
	put_practice(s, id, 4, "none", "en", "Gardening", "Grow food together.");
	put_practice(s, id, 5, "swedish", "sv", "Läsfrämjande för vuxna",
	    "Vuxna läser tillsammans.");
	expect_keys(s, "literacy", STORE_SORT_RELEVANCE, NULL,
	    "best title-once summary-once");
	expect_keys(s, "literacy", STORE_SORT_NEWEST, NULL,
	    "title-once summary-once best");
	/* A rarer word weighs more: "circles" decides among literacy's. */
	expect_keys(s, "literacy OR circles", STORE_SORT_RELEVANCE, NULL,
	    "title-once best summary-once");
	expect_keys(s, "läsa", STORE_SORT_RELEVANCE, NULL, "swedish");
	expect_keys(s, "läsa", STORE_SORT_RELEVANCE, "en", "");
	store_close(s);
	identity_free(id);
	unit_rm_tree(dir);
}

/* Counts the practices a query gives. */
static size_t
count(struct store *s, struct store_query *q)
{
	struct seen sn;
	int trunc;

	memset(&sn, 0, sizeof(sn));
	q->kind = LCF__KIND__KIND_PRACTICE;
	assert_int_equal(store_query(s, q, seen_fn, &sn, &trunc), 0);
	return sn.n;
}

static void
copy_file(const char *from, const char *to)
{
	char buf[8192];
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	size_t n;

	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

/* A store written by the lcnode of schema 2 (tests/unit/fixtures/schema2:
 * how it was made) is upgraded at open: its text indexed again, folded and
 * stemmed, with the new filters; nothing else changes. */
static void
test_upgrade_schema2(void **state)
{
	char dir[64] = "/tmp/lcf-test-search-XXXXXX", db[96], file[128], err[256];
	struct store *s = NULL;
	struct store_query q;
	struct store_stats st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/db", dir);
	assert_int_equal(mkdir(db, 0700), 0);
	snprintf(file, sizeof(file), "%s/data.mdb", db);
	copy_file(LCF_SRCDIR "/tests/unit/fixtures/schema2/data.mdb", file);
	if (store_open(db, TEST_MAP_SIZE, &s, err, sizeof(err)) != 0) {
		print_error("store_open: %s\n", err);
		fail();
	}
	assert_int_equal(store_stats(s, &st), 0);
	assert_int_equal(st.kinds[LCF__KIND__KIND_PRACTICE].current, 3);
	assert_int_equal(st.kinds[LCF__KIND__KIND_PRACTICE].deleted, 1);
	/* Inflections and diacritics: schema 2 knew neither. */
	expect_keys(s, "familjerna", STORE_SORT_RELEVANCE, NULL, "lasecirklar");
	expect_keys(s, "Malmo", STORE_SORT_RELEVANCE, NULL, "lasecirklar");
	expect_keys(s, "households", STORE_SORT_RELEVANCE, "en", "lasecirklar");
	expect_keys(s, "reading", STORE_SORT_NEWEST, NULL,
	    "family-reading lasecirklar");
	expect_keys(s, "removed", STORE_SORT_NEWEST, NULL, "");
	memset(&q, 0, sizeof(q));
	assert_int_equal(count(s, &q), 2);
	q.include_deleted = 1;
	assert_int_equal(count(s, &q), 3);
	memset(&q, 0, sizeof(q));
	q.sdgs[q.nsdgs++] = 10;
	assert_int_equal(count(s, &q), 1);
	memset(&q, 0, sizeof(q));
	q.areas[q.nareas++] = "2.2";
	q.country = "SE";
	assert_int_equal(count(s, &q), 2);
	memset(&q, 0, sizeof(q));
	q.lang = "sv";
	assert_int_equal(count(s, &q), 1);
	store_close(s);
	/* Opened again: schema 3 already, nothing to do. */
	assert_int_equal(store_open(db, TEST_MAP_SIZE, &s, err, sizeof(err)), 0);
	expect_keys(s, "familjerna", STORE_SORT_RELEVANCE, NULL, "lasecirklar");
	store_close(s);
	unit_rm_tree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_stem),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_tree),
		cmocka_unit_test(test_bm25),
		cmocka_unit_test(test_upgrade_schema2),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
