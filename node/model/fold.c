// SPDX-License-Identifier: Apache-2.0
// Search words: case and diacritics folding with utf8proc, stemming with
// Snowball's libstemmer, and a per-thread cache of the words already folded.
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>
#include <utf8proc.h>

#include "base/log.h"
#include "base/xmalloc.h"
#include "model/fold.h"

#define LANGS_MAX 48              /* stemmers one thread keeps */
#define CACHE_SLOTS 16384         /* folded words one thread keeps */
#define HOT_SLOTS 1024            /* the most used of them, in front */
#define ENTRY_BYTES 56            /* a word, its fold and its other form */

/* A word folded already: (language, word as written) -> folded stem and
 * other form, back to back in b; one cache line. A longer word (forms over
 * ENTRY_BYTES together) is folded every time. */
struct cached {
	uint32_t hash;
	uint8_t lang;                 /* index in tls.langs, + 1; 0: free */
	uint8_t inlen, outlen, altlen;
	char b[ENTRY_BYTES];
};

_Static_assert(sizeof(struct cached) == 64, "a cached word is one cache line");

/* What fold_one gives: pointers into the cache or the thread's scratch,
 * valid until the thread's next fold. */
struct folded {
	const char *w, *alt;
	size_t n, altn;
};

struct tls {
	struct {
		char code[FOLD_LANG_MAX];
		struct sb_stemmer *st;    /* NULL: the language has none */
	} langs[LANGS_MAX];
	size_t nlangs;
	/* Two levels: hot (64 KiB) stays in a core's cache while an import
	 * writes pages; words are Zipfian, so it answers most lookups. */
	struct cached *hot, *cache;
	char out[FOLD_WORD_MAX + 1], alt[FOLD_WORD_MAX + 1];   /* scratch */
};

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void
tls_free(void *p)
{
	struct tls *t = p;
	size_t i;

	for (i = 0; i < t->nlangs; i++)
		if (t->langs[i].st != NULL)
			sb_stemmer_delete(t->langs[i].st);
	free(t->hot);
	free(t->cache);
	free(t);
}

static void
tls_init(void)
{
	(void)pthread_key_create(&tls_key, tls_free);
}

static struct tls *
tls_get(void)
{
	struct tls *t;

	(void)pthread_once(&tls_once, tls_init);
	if ((t = pthread_getspecific(tls_key)) == NULL) {
		t = xcalloc(1, sizeof(*t));
		/* Aligned, so that an entry is one cache line. */
		if (posix_memalign((void **)&t->cache, 64,
		    CACHE_SLOTS * sizeof(*t->cache)) != 0 ||
		    posix_memalign((void **)&t->hot, 64,
		    HOT_SLOTS * sizeof(*t->hot)) != 0)
			fatalx("fold: out of memory");
		memset(t->cache, 0, CACHE_SLOTS * sizeof(*t->cache));
		memset(t->hot, 0, HOT_SLOTS * sizeof(*t->hot));
		(void)pthread_setspecific(tls_key, t);
	}
	return t;
}

/* The thread's slot for a language code (1-based, for struct cached), its
 * stemmer created on first use; 0 when the table is full (then no stemming). */
static size_t
lang_slot(struct tls *t, const char *code)
{
	size_t i;

	for (i = 0; i < t->nlangs; i++)
		if (strcmp(t->langs[i].code, code) == 0)
			return i + 1;
	if (t->nlangs == LANGS_MAX)
		return 0;
	i = t->nlangs++;
	strncpy(t->langs[i].code, code, FOLD_LANG_MAX - 1);
	t->langs[i].st = strcmp(code, "und") == 0 ? NULL :
	    sb_stemmer_new(code, "UTF_8");
	return i + 1;
}

/* Languages whose BCP 47 subtag is not one of Snowball's own names. */
static const struct {
	const char *tag, *algo;
} lang_alias[] = {
	{ "nb", "no" }, { "nn", "no" },
};

int
fold_lang(const char *tag, char out[FOLD_LANG_MAX])
{
	struct tls *t;
	size_t n = 0, i, slot;

	while (tag != NULL && n < FOLD_LANG_MAX - 1 &&
	    ((tag[n] >= 'a' && tag[n] <= 'z') || (tag[n] >= 'A' && tag[n] <= 'Z'))) {
		out[n] = (char)(tag[n] | 0x20);
		n++;
	}
	out[n] = '\0';
	if (tag == NULL || n < 2 || (tag[n] != '\0' && tag[n] != '-' &&
	    tag[n] != '_')) {
		strcpy(out, "und");
		return 0;
	}
	for (i = 0; i < sizeof(lang_alias) / sizeof(lang_alias[0]); i++)
		if (strcmp(out, lang_alias[i].tag) == 0)
			strcpy(out, lang_alias[i].algo);
	t = tls_get();
	slot = lang_slot(t, out);
	return slot != 0 && t->langs[slot - 1].st != NULL;
}

int
fold_lang_shared(const char *code)
{
	size_t i;

	for (i = 0; i < sizeof(lang_alias) / sizeof(lang_alias[0]); i++)
		if (strcmp(code, lang_alias[i].algo) == 0)
			return 1;
	return 0;
}

int
fold_char(const char *s, size_t avail, size_t *clen)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t n;
	unsigned char c = (unsigned char)*s;
	utf8proc_category_t cat;

	if (c < 0x80) {
		*clen = 1;
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');
	}
	n = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)avail,
	    &cp);
	if (n <= 0) {
		*clen = 1;
		return 0;
	}
	*clen = (size_t)n;
	cat = utf8proc_category(cp);
	return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_ME) ||
	    (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

static uint32_t
word_hash(const char *w, size_t n, size_t lang)
{
	uint32_t h = 2166136261u ^ (uint32_t)lang;    /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)w[i]) * 16777619u;
	return h;
}

static size_t
count_chars(const char *w, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += ((unsigned char)w[i] & 0xc0) != 0x80;
	return c;
}

/* Case-folds w into out (NFKC: ligatures and full-width forms become their
 * letters): 0 or its length when it fits. */
static size_t
case_fold(const char *w, size_t n, char *out)
{
	utf8proc_uint8_t *m = NULL;
	utf8proc_ssize_t r;
	size_t i;
	int ascii = 1;

	for (i = 0; i < n && ascii; i++)
		ascii = (unsigned char)w[i] < 0x80;
	if (ascii) {
		if (n > FOLD_WORD_MAX)
			return 0;
		for (i = 0; i < n; i++)
			out[i] = (char)(w[i] >= 'A' && w[i] <= 'Z' ? w[i] | 0x20 : w[i]);
		return n;
	}
	r = utf8proc_map((const utf8proc_uint8_t *)w, (utf8proc_ssize_t)n, &m,
	    UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_STABLE);
	if (r <= 0 || r > FOLD_WORD_MAX) {
		free(m);
		return 0;
	}
	memcpy(out, m, (size_t)r);
	free(m);
	return (size_t)r;
}

/* Strips diacritics from w in place: the new length. */
static size_t
strip_marks(char *w, size_t n)
{
	utf8proc_uint8_t *m = NULL;
	utf8proc_ssize_t r;
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)w[i] >= 0x80)
			break;
	if (i == n)
		return n;
	r = utf8proc_map((const utf8proc_uint8_t *)w, (utf8proc_ssize_t)n, &m,
	    UTF8PROC_COMPOSE | UTF8PROC_STRIPMARK | UTF8PROC_STABLE);
	if (r > 0 && r <= (utf8proc_ssize_t)n) {
		memcpy(w, m, (size_t)r);
		n = (size_t)r;
	}
	free(m);
	return n;
}

/* The folded stem of the case-folded word cf (n bytes) into out. */
static size_t
stem_fold(struct tls *t, size_t slot, const char *cf, size_t n, char *out)
{
	struct sb_stemmer *st = slot ? t->langs[slot - 1].st : NULL;
	const sb_symbol *s;
	size_t len = n;

	memcpy(out, cf, n);
	if (st != NULL && (s = sb_stemmer_stem(st, (const sb_symbol *)cf,
	    (int)n)) != NULL) {
		len = (size_t)sb_stemmer_length(st);
		if (len == 0 || len > FOLD_WORD_MAX)
			len = n;
		else
			memcpy(out, s, len);
	}
	return strip_marks(out, len);
}

/* The entry for (slot, w) in a table of nslots (sets of two ways), or NULL. */
static struct cached *
lookup(struct cached *tab, size_t nslots, uint32_t h, size_t slot, const char *w,
    size_t n)
{
	struct cached *c = &tab[h & (nslots - 2)];
	int way;

	for (way = 0; way < 2; way++, c++)
		if (c->lang == slot + 1 && c->hash == h && c->inlen == n &&
		    memcmp(c->b, w, n) == 0)
			return c;
	return NULL;
}

/* Puts a copy of e first in its set (the older way goes second): the copy. */
static struct cached *
insert(struct cached *tab, size_t nslots, const struct cached *e)
{
	struct cached *c = &tab[e->hash & (nslots - 2)];

	if (c != e)
		c[1] = c[0];
	c[0] = *e;
	return c;
}

/* Folds the word w (n bytes, as written) in language slot (0: no stemming)
 * into *f; f->n is 0 when it is not a word that is indexed. */
static void
fold_one(struct tls *t, size_t slot, const char *w, size_t n, struct folded *f)
{
	char cf[FOLD_WORD_MAX], bare[FOLD_WORD_MAX];
	struct cached *c, e;
	size_t cn, len, bn, altn = 0;
	uint32_t h;

	h = word_hash(w, n, slot);
	if ((c = lookup(t->hot, HOT_SLOTS, h, slot, w, n)) != NULL ||
	    ((c = lookup(t->cache, CACHE_SLOTS, h, slot, w, n)) != NULL &&
	    (c = insert(t->hot, HOT_SLOTS, c)) != NULL)) {
		f->w = c->b + n;
		f->n = c->outlen;
		f->alt = c->b + n + c->outlen;
		f->altn = c->altlen;
		return;
	}
	len = 0;
	if ((cn = case_fold(w, n, cf)) > 0) {
		len = stem_fold(t, slot, cf, cn, t->out);
		if (count_chars(t->out, len) < FOLD_WORD_MIN)
			len = 0;
	}
	/* Stemmers know words with their diacritics; the same word typed
	 * without them may stem otherwise. */
	if (len > 0 && slot != 0) {
		memcpy(bare, cf, cn);
		bn = strip_marks(bare, cn);
		if (bn != cn || memcmp(bare, cf, cn) != 0) {
			altn = stem_fold(t, slot, bare, bn, t->alt);
			if (count_chars(t->alt, altn) < FOLD_WORD_MIN ||
			    (altn == len && memcmp(t->alt, t->out, len) == 0))
				altn = 0;
		}
	}
	f->w = t->out;
	f->n = len;
	f->alt = t->alt;
	f->altn = altn;
	if (n + len + altn > ENTRY_BYTES)
		return;
	e.hash = h;
	e.lang = (uint8_t)(slot + 1);
	e.inlen = (uint8_t)n;
	e.outlen = (uint8_t)len;
	e.altlen = (uint8_t)altn;
	memcpy(e.b, w, n);
	memcpy(e.b + n, t->out, len);
	memcpy(e.b + n + len, t->alt, altn);
	insert(t->cache, CACHE_SLOTS, &e);
	insert(t->hot, HOT_SLOTS, &e);
}

static int
ascii_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* fold_char at p, which is NUL-terminated: a character is at most 4 bytes,
 * and the NUL ends a truncated one as any byte that is not a continuation. */
static int
word_at(const char *p, size_t *clen)
{
	if ((unsigned char)*p < 0x80) {
		*clen = 1;
		return ascii_word((unsigned char)*p);
	}
	return fold_char(p, 4, clen);
}

size_t
fold_words(const char *lang, const char *text, int stem, fold_word_fn fn,
    void *arg)
{
	struct tls *t;
	struct folded f;
	const char *p = text, *start;
	size_t slot, pos = 0, clen;

	if (text == NULL)
		return 0;
	t = tls_get();
	slot = stem ? lang_slot(t, lang) : 0;
	while (*p != '\0') {
		if (!word_at(p, &clen)) {
			p += clen;
			continue;
		}
		start = p;
		do {
			p += clen;
		} while (*p != '\0' && word_at(p, &clen));
		if ((size_t)(p - start) <= 4 * FOLD_WORD_MAX) {
			fold_one(t, slot, start, (size_t)(p - start), &f);
			if (f.n > 0)
				fn(arg, f.w, f.n, f.alt, f.altn, pos);
		}
		pos++;
	}
	return pos;
}

size_t
fold_word(const char *lang, const char *w, size_t n, int stem,
    char out[FOLD_WORD_MAX + 1], char *alt)
{
	struct tls *t = tls_get();
	struct folded f;
	size_t i, clen;

	out[0] = '\0';
	if (alt != NULL)
		alt[0] = '\0';
	for (i = 0; i < n; i += clen)
		if (!fold_char(w + i, n - i, &clen))
			return 0;
	if (n > 4 * FOLD_WORD_MAX)
		return 0;
	fold_one(t, stem ? lang_slot(t, lang) : 0, w, n, &f);
	memcpy(out, f.w, f.n);
	out[f.n] = '\0';
	if (alt != NULL && f.n > 0) {
		memcpy(alt, f.alt, f.altn);
		alt[f.altn] = '\0';
	}
	return f.n;
}

size_t
fold_plain(const char *w, size_t n, char out[FOLD_WORD_MAX + 1])
{
	return fold_word("und", w, n, 0, out, NULL);
}
