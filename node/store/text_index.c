// SPDX-License-Identifier: Apache-2.0
// The text of a practice as search terms: every text field, its target
// groups, the names of its sub-areas and clusters in its language, and each
// translation in its own, folded and stemmed (model/fold.h) and counted.
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/codes.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "model/fold.h"
#include "model/squery.h"
#include "store/store_int.h"

#define UNITS_MAX 16              /* languages of one practice counted apart */
#define WEIGHT_TITLE 3            /* a word of a title counts three times */
#define WEIGHT_SUMMARY 2
#define COUNT_MAX 65535           /* frequencies and lengths are 16 bits */
#define CAP_ADD(a, b) ((a) + (b) > COUNT_MAX ? COUNT_MAX : (a) + (b))

/* A practice's text fields and their weights (BM25F-like). */
static const struct {
	size_t off;
	unsigned weight;
} fields[] = {
	{ offsetof(Lcf__Practice, title), WEIGHT_TITLE },
	{ offsetof(Lcf__Practice, summary), WEIGHT_SUMMARY },
	{ offsetof(Lcf__Practice, description), 1 },
	{ offsetof(Lcf__Practice, objectives), 1 },
	{ offsetof(Lcf__Practice, implementation), 1 },
	{ offsetof(Lcf__Practice, outcomes), 1 },
	{ offsetof(Lcf__Practice, lessons), 1 },
	{ offsetof(Lcf__Practice, organisation), 1 },
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))
#define FIELD(pr, i) (*(char *const *)((const char *)(pr) + fields[i].off))

struct term {
	uint32_t hash;
	uint16_t len, tf, pos;        /* pos: positions modulo 16, a bit set */
	uint8_t unit;                 /* index in units + 1; 0: free */
	char w[FOLD_WORD_MAX];
};

/* One practice's terms, gathered per thread and reused. */
struct gather {
	struct term *t;
	size_t nslots, nused;
	uint32_t *used;               /* slots in use, in order of arrival */
	char units[UNITS_MAX][FOLD_LANG_MAX];
	unsigned dl[UNITS_MAX];
	size_t base[UNITS_MAX];       /* position of the next text in each unit */
	size_t nunits;
	size_t cur;                   /* the unit being read */
	unsigned weight;
};

static __thread struct gather *tls_g;
static pthread_key_t gather_key;
static pthread_once_t gather_once = PTHREAD_ONCE_INIT;

/* At a thread's end: its table goes with it. */
static void
gather_free(void *p)
{
	struct gather *g = p;

	free(g->t);
	free(g->used);
	free(g);
	tls_g = NULL;
}

static void
gather_key_init(void)
{
	(void)pthread_key_create(&gather_key, gather_free);
}

static uint32_t
term_hash(const char *w, size_t n, size_t unit)
{
	uint32_t h = 2166136261u ^ (uint32_t)unit;     /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)w[i]) * 16777619u;
	return h;
}

static void
gather_grow(struct gather *g)
{
	struct term *old = g->t;
	size_t i, j, oldn = g->nslots;

	g->nslots = oldn ? 2 * oldn : 1024;
	g->t = xcalloc(g->nslots, sizeof(*g->t));
	g->used = xreallocarray(g->used, g->nslots, sizeof(*g->used));
	g->nused = 0;
	for (i = 0; i < oldn; i++) {
		if (old[i].unit == 0)
			continue;
		j = old[i].hash & (g->nslots - 1);
		while (g->t[j].unit != 0)
			j = (j + 1) & (g->nslots - 1);
		g->t[j] = old[i];
		g->used[g->nused++] = (uint32_t)j;
	}
	free(old);
}

/* Counts one form of a word, at position pos of its unit. */
static void
count_term(struct gather *g, const char *w, size_t n, size_t pos)
{
	struct term *t;
	uint32_t h;
	size_t j;

	if (g->nused * 2 >= g->nslots)
		gather_grow(g);
	h = term_hash(w, n, g->cur);
	j = h & (g->nslots - 1);
	while ((t = &g->t[j])->unit != 0) {
		if (t->hash == h && t->unit == g->cur + 1 && t->len == n &&
		    memcmp(t->w, w, n) == 0)
			break;
		j = (j + 1) & (g->nslots - 1);
	}
	if (t->unit == 0) {
		t->hash = h;
		t->unit = (uint8_t)(g->cur + 1);
		t->len = (uint16_t)n;
		t->tf = 0;
		t->pos = 0;
		memcpy(t->w, w, n);
		g->used[g->nused++] = (uint32_t)j;
	}
	t->tf = (uint16_t)CAP_ADD((unsigned)t->tf, g->weight);
	t->pos |= (uint16_t)(1u << (pos % 16));
}

static void
on_word(void *arg, const char *w, size_t n, const char *alt, size_t altn,
    size_t pos)
{
	struct gather *g = arg;

	pos += g->base[g->cur];
	count_term(g, w, n, pos);
	if (altn > 0)
		count_term(g, alt, altn, pos);
	g->dl[g->cur] = CAP_ADD(g->dl[g->cur], g->weight);
}

/* Makes the unit of language tag current: 0, or -1 when there are too many. */
static int
unit_enter(struct gather *g, const char *tag, int *stem)
{
	char code[FOLD_LANG_MAX];
	size_t i;

	*stem = fold_lang(tag, code);
	for (i = 0; i < g->nunits; i++)
		if (strcmp(g->units[i], code) == 0)
			break;
	if (i == g->nunits) {
		if (g->nunits == UNITS_MAX)
			return -1;
		strcpy(g->units[g->nunits], code);
		g->base[g->nunits] = 0;
		g->dl[g->nunits++] = 0;
	}
	g->cur = i;
	return 0;
}

static void
read_text(struct gather *g, const char *lang, int stem, const char *text,
    unsigned weight)
{
	g->weight = weight;
	/* Texts follow each other in the unit's positions with a gap, so that
	 * the last word of one and the first of the next are not adjacent. */
	g->base[g->cur] += fold_words(lang, text, stem, on_word, g) + 2;
}

void
store__text_terms(const Lcf__Practice *pr, const struct text_sink *sink)
{
	struct gather *g;
	const char *name, *lang;
	size_t i;
	int stem;

	if ((g = tls_g) == NULL) {
		g = tls_g = xcalloc(1, sizeof(*g));
		(void)pthread_once(&gather_once, gather_key_init);
		(void)pthread_setspecific(gather_key, g);
	}
	g->nunits = 0;
	if (unit_enter(g, pr->language, &stem) != 0)
		return;
	lang = g->units[g->cur];
	for (i = 0; i < NFIELDS; i++)
		read_text(g, lang, stem, FIELD(pr, i), fields[i].weight);
	for (i = 0; i < pr->n_target_groups; i++)
		read_text(g, lang, stem, pr->target_groups[i], 1);
	/* The names of its sub-areas and clusters (English), stemmed as the
	 * practice's own words: a query term is stemmed the same way. */
	for (i = 0; i < pr->n_kflc_areas; i++)
		if ((name = code_subarea_name(pr->kflc_areas[i])) != NULL)
			read_text(g, lang, stem, name, 1);
	for (i = 0; i < pr->n_clusters; i++)
		read_text(g, lang, stem, pr->clusters[i], 1);
	for (i = 0; i < pr->n_translations; i++) {
		const Lcf__Translation *tr = pr->translations[i];

		if (unit_enter(g, tr->language, &stem) != 0)
			continue;
		lang = g->units[g->cur];
		read_text(g, lang, stem, tr->title, WEIGHT_TITLE);
		read_text(g, lang, stem, tr->summary, WEIGHT_SUMMARY);
	}
	for (i = 0; i < g->nused; i++) {
		struct term *t = &g->t[g->used[i]];

		sink->term(sink->arg, g->units[t->unit - 1], t->w, t->len, t->tf,
		    g->dl[t->unit - 1], t->pos);
		t->unit = 0;
	}
	g->nused = 0;
	for (i = 0; i < g->nunits; i++)
		sink->unit(sink->arg, g->units[i], g->dl[i]);
}

/* A field's folded words with their positions, for phrase checks. */
struct field_words {
	struct {
		size_t pos;
		uint8_t len, altlen;
		char w[FOLD_WORD_MAX], alt[FOLD_WORD_MAX];
	} *e;
	size_t n, cap;
};

static void
on_field_word(void *arg, const char *w, size_t n, const char *alt, size_t altn,
    size_t pos)
{
	struct field_words *fw = arg;

	if (fw->n == fw->cap) {
		fw->cap = fw->cap ? 2 * fw->cap : 64;
		fw->e = xreallocarray(fw->e, fw->cap, sizeof(*fw->e));
	}
	fw->e[fw->n].pos = pos;
	fw->e[fw->n].len = (uint8_t)n;
	memcpy(fw->e[fw->n].w, w, n);
	fw->e[fw->n].altlen = (uint8_t)altn;
	memcpy(fw->e[fw->n].alt, alt, altn);
	fw->n++;
}

/* Whether entry i is the folded word want (either of its forms). */
static int
entry_is(const struct field_words *fw, size_t i, const char *want)
{
	size_t n = strlen(want);

	return (fw->e[i].len == n && memcmp(fw->e[i].w, want, n) == 0) ||
	    (fw->e[i].altlen == n && memcmp(fw->e[i].alt, want, n) == 0);
}

/* Whether the folded phrase (ph[k] "" for any word) runs in text. */
static int
text_has(struct field_words *fw, const char *lang, int stem, const char *text,
    char ph[][FOLD_WORD_MAX + 1], size_t n)
{
	size_t i, j, k;
	int ok;

	fw->n = 0;
	fold_words(lang, text, stem, on_field_word, fw);
	for (i = 0; i < fw->n; i++) {
		if (!entry_is(fw, i, ph[0]))
			continue;
		ok = 1;
		for (k = 1, j = i + 1; ok && k < n; k++) {
			size_t want = fw->e[i].pos + k;

			while (j < fw->n && fw->e[j].pos < want)
				j++;
			if (ph[k][0] == '\0')
				continue;
			ok = j < fw->n && fw->e[j].pos == want &&
			    entry_is(fw, j, ph[k]);
		}
		if (ok)
			return 1;
	}
	return 0;
}

/* The phrase in one language unit: the texts given, folded in tag. */
static int
unit_has(struct field_words *fw, const char *tag, const char *want,
    const char *const *texts, size_t ntexts, char *const *words, size_t nwords)
{
	char code[FOLD_LANG_MAX], ph[SQUERY_MAX_PHRASE][FOLD_WORD_MAX + 1];
	size_t i;
	int stem = fold_lang(tag, code);

	if (want != NULL && strcmp(want, code) != 0)
		return 0;
	for (i = 0; i < nwords && i < SQUERY_MAX_PHRASE; i++)
		if (words[i][0] == '\0')
			ph[i][0] = '\0';
		else if (fold_word(code, words[i], strlen(words[i]), stem, ph[i],
		    NULL) == 0)
			return 0;
	for (i = 0; i < ntexts; i++)
		if (texts[i] != NULL && text_has(fw, code, stem, texts[i], ph, nwords))
			return 1;
	return 0;
}

int
store__text_has_phrase(const Lcf__Practice *pr, const char *lang,
    char *const *words, size_t nwords)
{
	const char *texts[NFIELDS];
	struct field_words fw;
	size_t i;
	int found = 0;

	if (nwords == 0 || nwords > SQUERY_MAX_PHRASE)
		return 0;
	memset(&fw, 0, sizeof(fw));
	for (i = 0; i < NFIELDS; i++)
		texts[i] = FIELD(pr, i);
	found = unit_has(&fw, pr->language, lang, texts, NFIELDS, words,
	    nwords) || unit_has(&fw, pr->language, lang,
	    (const char *const *)pr->target_groups, pr->n_target_groups, words,
	    nwords);
	for (i = 0; !found && i < pr->n_translations; i++) {
		const Lcf__Translation *tr = pr->translations[i];
		const char *tt[2] = { tr->title, tr->summary };

		found = unit_has(&fw, tr->language, lang, tt, 2, words, nwords);
	}
	free(fw.e);
	return found;
}
