// SPDX-License-Identifier: Apache-2.0
// lcf-gen: writes deterministic, realistic practices in the import JSON form.
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"

/* Words of running text and place names (in organisations), each drawn with
 * weight 1/rank: a few words are in every practice, the tail in a few. */
#define VOCAB_SIZE	2000
#define PLACES		500
#define NWORDS		(VOCAB_SIZE + PLACES)
#define WORD_MAX	24
#define MAX_COUNT	10000000UL
/* Per mille of practices whose summary holds the phrase "family reading". */
#define PHRASE_PERMILLE	10
/* The filters the benchmark queries; their match counts go to the stats. */
#define STAT_AREA	"2.2"
#define STAT_CLUSTER	"literacy"
#define PHRASE_A	"family"
#define PHRASE_B	"reading"
#define PHRASE_A2	"families"    /* the same English stems */
#define PHRASE_B2	"read"
/* The sub-area whose name the node indexes with a practice's text, and
 * which holds the first word of the phrase ("... in families and ..."). */
#define PHRASE_AREA	"2.2"

/* -m: practices in several languages. A practice's language is drawn from
 * langs (English most often); in another language, about one word in
 * LEX_PERMILLE/1000 of its text is an inflected form from that language's
 * lexicon, whose groups are forms that share one Snowball stem (checked with
 * libstemmer), so that a search for one form finds the others. */
#define NLANGS		7
#define NGROUPS		4
#define LEX_PERMILLE	150
#define TRANSLATION_PERMILLE	200
static const struct lexicon {
	const char *tag;
	unsigned weight;              /* per mille of practices */
	const char *const groups[NGROUPS][6];   /* NULL-ended */
} langs[NLANGS] = {
	{ "en", 400, { { NULL } } },
	{ "sv", 100, { { "familj", "familjen", "familjer", "familjerna", NULL },
	    { "bibliotek", "biblioteken", NULL },
	    { "läsning", "läsningen", "läsningar", NULL },
	    { "vuxna", "vuxnas", NULL } } },
	{ "es", 100, { { "familia", "familias", NULL },
	    { "biblioteca", "bibliotecas", NULL },
	    { "lectura", "lecturas", NULL },
	    { "adultos", "adulto", NULL } } },
	{ "fr", 100, { { "famille", "familles", NULL },
	    { "bibliothèque", "bibliothèques", NULL },
	    { "lecture", "lectures", NULL },
	    { "adultes", "adulte", NULL } } },
	{ "de", 100, { { "Familie", "Familien", NULL },
	    { "Bibliothek", "Bibliotheken", NULL },
	    { "Lesen", "Lesens", NULL },
	    { "Erwachsene", "Erwachsenen", NULL } } },
	{ "fi", 100, { { "perhe", "perheet", "perheen", "perheiden", NULL },
	    { "kirjasto", "kirjastossa", "kirjastot", "kirjaston", NULL },
	    { "kurssi", "kurssit", "kurssilla", NULL },
	    { "aikuiset", "aikuisille", NULL } } },
	{ "pt-BR", 100, { { "família", "famílias", NULL },
	    { "biblioteca", "bibliotecas", NULL },
	    { "leitura", "leituras", NULL },
	    { "adultos", "adulto", NULL } } },
};

/* Frequent words first: their order is their Zipf rank. No one-letter words,
 * since the node indexes words of two characters or more. */
static const char *const common_words[] = {
	"the", "and", "of", "to", "in", "for", "with", "learning", "on", "is",
	"by", "as", "their", "are", "city", "people", "from", "community", "at",
	"an", "this", "programme", "education", "which", "adults", "local",
	"young", "be", "through", "skills", "has", "or", "new", "who", "they",
	"have", "all", "its", "library", "support", "schools", "more", "was",
	"children", "each", "project", "public", "also", "training", "centre",
	"workshops", "partners", "digital", "participants", "year", "families",
	"network", "citizens", "courses", "work", "can", "open", "council",
	"volunteers", "access", "development", "lifelong", "services", "social",
	"activities", "culture", "groups", "residents", "school", "health",
	"women", "our", "we", "free", "other", "into", "been", "over", "neighbourhood",
	"district", "cities", "adult", "literacy", "youth", "older", "teachers",
	"time", "first", "help", "that", "use", "practice", "family", "week",
	"online", "after", "between", "build", "based", "where", "languages",
	"migrants", "employment", "green", "environment", "climate", "students",
	"university", "museum", "parents", "reading", "books", "each", "month",
	"evening", "weekend", "festival", "study", "circles", "mentors", "peer",
	"evaluation", "results", "outcomes", "survey", "feedback", "staff",
	"funding", "budget", "municipality", "region", "national", "policy",
	"strategy", "plan", "goals", "quality", "inclusion", "equity",
	"participation", "wellbeing", "sport", "music", "arts", "theatre",
	"garden", "food", "cooking", "repair", "cafe", "market", "housing",
	"transport", "safety", "water", "energy", "waste", "recycling",
	"nature", "park", "river", "heritage", "history", "stories", "writing",
	"mathematics", "science", "technology", "coding", "computers", "phones",
	"internet", "media", "news", "radio", "video", "photography", "design",
	"craft", "making", "building", "tools", "jobs", "careers", "business",
	"entrepreneurs", "startups", "enterprise", "cooperative", "finance",
	"money", "savings", "rights", "citizenship", "democracy", "dialogue",
	"peace", "conflict", "refugees", "newcomers", "integration", "language",
	"conversation", "mother", "tongue", "bilingual", "early", "childhood",
	"kindergarten", "preschool", "primary", "secondary", "vocational",
	"apprenticeship", "college", "academy", "institute", "association",
	"foundation", "ministry", "office", "department", "team", "leaders",
	"coordinators", "facilitators", "trainers", "tutors", "coaches",
	"seniors", "retirees", "grandparents", "disabilities", "accessible",
	"rural", "urban", "villages", "suburbs", "streets", "homes", "spaces",
	"rooms", "buses", "mobile", "van", "kiosk", "corners", "points",
	"hubs", "labs", "studios", "clubs", "circle", "forum", "assembly",
	"meeting", "events", "sessions", "classes", "lessons", "modules",
	"curriculum", "materials", "resources", "guide", "handbook", "toolkit",
	"platform", "app", "website", "portal", "map", "database", "data",
	"indicators", "monitoring", "report", "review", "assessment",
	"certificate", "recognition", "validation", "credits", "badges",
	"awards", "prize", "campaign", "awareness", "week", "day", "night",
	"summer", "winter", "spring", "autumn", "morning", "afternoon",
	"together", "shared", "joint", "common", "across", "within", "around",
	"every", "many", "most", "some", "few", "several", "three", "two",
	"hundred", "thousand", "percent", "increase", "growth", "reduced",
	"improved", "better", "stronger", "confidence", "trust", "belonging",
	"motivation", "interest", "curiosity", "creativity", "critical",
	"thinking", "problem", "solving", "collaboration", "communication",
	"intergenerational", "sustainable", "resilient", "healthy", "inclusive",
	"equitable", "vibrant", "smart", "learners", "learner", "teach",
	"learn", "grow", "share", "connect", "engage", "empower", "celebrate",
	"explore", "discover", "create", "develop", "improve", "reach",
	"offer", "provide", "organise", "host", "run", "lead", "join",
	"visit", "meet", "talk", "listen", "read", "write", "play", "sing",
	"dance", "walk", "cycle", "swim", "cook", "plant", "fix",
};

/* Syllables for the rest of the vocabulary and for place names: invented
 * words keep the vocabulary large without a dictionary. */
static const char *const onsets[] = {
	"b", "br", "c", "ch", "d", "dr", "f", "g", "gr", "h", "j", "k", "l", "m",
	"n", "p", "pl", "r", "s", "sh", "st", "t", "tr", "v", "w", "z",
};
static const char *const vowels[] = {
	"a", "e", "i", "o", "u", "ai", "ea", "io", "ou",
};
static const char *const codas[] = {
	"", "", "", "n", "r", "l", "s", "m", "nd", "rk", "st", "x",
};

static const char *const areas[] = {
	"1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.1",
	"3.2", "3.3",
};
static const char *const clusters[] = {
	"esd", "equity_inclusion", "monitoring_evaluation", "global_citizenship",
	"entrepreneurship", "health_wellbeing", "literacy", "climate",
};
static const char *const target_groups[] = {
	"adults", "children", "young people", "parents", "older adults",
	"migrants and refugees", "job seekers", "teachers", "women",
	"people with disabilities", "low-literate adults", "families",
};
static const char *const settings[] = { "formal", "non_formal", "informal" };
static const char *const statuses[] = { "active", "ended", "archived" };
/* Kinds of organisation: every word is in common_words, so that the stats
 * count organisation words like any other. */
static const char *const org_types[] = {
	"library", "council", "association", "foundation", "learning centre",
	"adult education centre", "university", "museum", "community college",
	"youth forum", "cooperative", "learning network",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define ORG_WORDS 3

struct rng {
	uint64_t s[4];
};

struct gen {
	struct rng rng;
	char words[NWORDS][WORD_MAX];
	double cum[VOCAB_SIZE];       /* cumulative 1/rank weights */
	double place_cum[PLACES];
	size_t org_ids[NELEM(org_types)][ORG_WORDS + 1]; /* word ids, SIZE_MAX-ended */
	uint32_t df[NWORDS];          /* practices each word occurs in */
	uint32_t seen[NWORDS];        /* last practice (1-based) that counted it */
	uint32_t doc;                 /* current practice, 1-based */
	size_t id_a, id_b;            /* word ids of the phrase */
	/* Words the node's search takes for them (English stems): families
	 * for family, read for reading; SIZE_MAX when not in the vocabulary. */
	size_t id_a2, id_b2;
	FILE *out;
	uint64_t bytes;
	/* Practices matching the benchmark's filters. */
	uint64_t n_area, n_cluster, n_phrase_words, n_phrase, n_combined;
	/* -m: practices in several languages. */
	int multi;
	size_t lang;                  /* of the text being written */
	uint64_t n_lang[NLANGS];      /* practices with text in each language */
	uint64_t df_group[NLANGS][NGROUPS];
	uint32_t group_seen[NLANGS][NGROUPS];
	uint64_t n_translated;
};

static const char usage[] =
    "Usage: lcf-gen [-m] [-n COUNT] [-s SEED] [-o FILE] [-S STATSFILE]\n"
    "\n"
    "Writes COUNT (default 1000) practices as a JSON array in the import form\n"
    "(`lcctl practice import`) to FILE (default stdout). The same SEED (default 1)\n"
    "gives the same file. Words come from a vocabulary of " "2000 words drawn with\n"
    "weight 1/rank; about 1% of summaries hold the phrase \"family reading\";\n"
    "every practice has a unique \"key\".\n"
    "\n"
    "With -m, practices are in several languages (en 40%, sv es fr de fi pt-BR\n"
    "10% each); in a language other than English about 15% of the words are\n"
    "inflected forms of that language (forms of one group share a stem), and 20%\n"
    "of practices carry a translation (title and summary) into another one.\n"
    "\n"
    "STATSFILE receives NAME VALUE lines: how many practices match the filters\n"
    "the benchmark queries (area " STAT_AREA ", cluster " STAT_CLUSTER ", the words\n"
    "of the phrase as the node's search finds them in English: family or\n"
    "families, reading or read, the first also in sub-area " PHRASE_AREA "'s name;\n"
    "all three), and the most and least frequent indexed words;\n"
    "with -m also practices per language (\"lang TAG N\", a translation's\n"
    "counting) and per group of forms (\"group TAG FIRST-FORM N\").\n";

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
rng_seed(struct rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256**: fast, and the same stream on every platform for a seed. */
static uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* Uniform in [0, n). The modulo bias is negligible for the small n used. */
static size_t
rng_below(struct rng *r, size_t n)
{
	return (size_t)(rng_next(r) % n);
}

/* Uniform in [lo, hi]. */
static unsigned
rng_range(struct rng *r, unsigned lo, unsigned hi)
{
	return lo + (unsigned)rng_below(r, (size_t)(hi - lo + 1));
}

static double
rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

/* A rank drawn with weight 1/rank: the first cumulative weight above a
 * uniform point of the total. */
static size_t
zipf_pick(struct rng *r, const double *cum, size_t n)
{
	double u = rng_unit(r) * cum[n - 1];
	size_t lo = 0, hi = n - 1, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cum[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static void
zipf_table(double *cum, size_t n)
{
	double total = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		total += 1.0 / (double)(i + 1);
		cum[i] = total;
	}
}

/* Index of word w among the first n, or SIZE_MAX. Linear: it only runs while
 * the few thousand words are built. */
static size_t
find_word(const struct gen *g, size_t n, const char *w)
{
	size_t i, found = SIZE_MAX;

	for (i = 0; i < n && found == SIZE_MAX; i++)
		if (strcmp(g->words[i], w) == 0)
			found = i;
	return found;
}

/* An invented word of 2..4 syllables. */
static void
invent(struct rng *r, char *out, size_t max)
{
	unsigned i, n = rng_range(r, 2, 4);
	size_t len = 0;
	int k;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		k = snprintf(out + len, max - len, "%s%s%s",
		    onsets[rng_below(r, NELEM(onsets))],
		    vowels[rng_below(r, NELEM(vowels))],
		    i + 1 == n ? codas[rng_below(r, NELEM(codas))] : "");
		if (k < 0 || (size_t)k >= max - len) {
			out[len] = '\0';
			break;
		}
		len += (size_t)k;
	}
}

/* Finds the vocabulary ids of the words of an organisation type. */
static int
split_org(struct gen *g, size_t t)
{
	char buf[64], *save = NULL, *w;
	size_t n = 0, id;
	int ret = -1;

	snprintf(buf, sizeof(buf), "%s", org_types[t]);
	for (w = strtok_r(buf, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		id = find_word(g, VOCAB_SIZE, w);
		if (id == SIZE_MAX || n == ORG_WORDS) {
			fprintf(stderr, "lcf-gen: organisation word '%s' is not "
			    "in the vocabulary\n", w);
			goto out;
		}
		g->org_ids[t][n++] = id;
	}
	g->org_ids[t][n] = SIZE_MAX;
	ret = 0;
out:
	return ret;
}

/* Fills the vocabulary (frequent real words, then invented ones) and the
 * place names from a fixed seed, so that every file shares them. */
static int
build_words(struct gen *g)
{
	struct rng r;
	size_t n = 0, i;
	char w[WORD_MAX];
	int ret = -1;

	rng_seed(&r, 0x6c6366u);
	for (i = 0; i < NELEM(common_words) && n < VOCAB_SIZE; i++) {
		if (find_word(g, n, common_words[i]) == SIZE_MAX)
			snprintf(g->words[n++], WORD_MAX, "%s", common_words[i]);
	}
	while (n < NWORDS) {
		invent(&r, w, sizeof(w));
		if (strlen(w) >= 3 && find_word(g, n, w) == SIZE_MAX)
			snprintf(g->words[n++], WORD_MAX, "%s", w);
	}
	zipf_table(g->cum, VOCAB_SIZE);
	zipf_table(g->place_cum, PLACES);
	g->id_a = find_word(g, VOCAB_SIZE, PHRASE_A);
	g->id_b = find_word(g, VOCAB_SIZE, PHRASE_B);
	g->id_a2 = find_word(g, VOCAB_SIZE, PHRASE_A2);
	g->id_b2 = find_word(g, VOCAB_SIZE, PHRASE_B2);
	for (i = 0; i < NELEM(org_types); i++)
		if (split_org(g, i) < 0)
			goto out;
	ret = 0;
out:
	return ret;
}

static void
emit(struct gen *g, const char *s)
{
	size_t n = strlen(s);

	fwrite(s, 1, n, g->out);
	g->bytes += n;
}

/* Writes word id (capitalised if asked) and counts it for the stats. */
static void
emit_word(struct gen *g, size_t id, int cap)
{
	char w[WORD_MAX];

	snprintf(w, sizeof(w), "%s", g->words[id]);
	if (cap && w[0] >= 'a' && w[0] <= 'z')
		w[0] = (char)(w[0] - 'a' + 'A');
	emit(g, w);
	if (g->seen[id] != g->doc) {
		g->seen[id] = g->doc;
		g->df[id]++;
	}
}

/* An inflected form of the current language, counted for its group. */
static void
emit_form(struct gen *g)
{
	const struct lexicon *lx = &langs[g->lang];
	size_t grp = rng_below(&g->rng, NGROUPS), n = 0;

	while (lx->groups[grp][n] != NULL)
		n++;
	emit(g, lx->groups[grp][rng_below(&g->rng, n)]);
	if (g->group_seen[g->lang][grp] != g->doc) {
		g->group_seen[g->lang][grp] = g->doc;
		g->df_group[g->lang][grp]++;
	}
}

/* A language drawn with the weights of langs. */
static size_t
pick_lang(struct gen *g)
{
	size_t u = rng_below(&g->rng, 1000), i, acc = 0;

	for (i = 0; i < NLANGS - 1; i++) {
		acc += langs[i].weight;
		if (u < acc)
			break;
	}
	return i;
}

/* Running text of nwords words in sentences of 6..14 words. With phrase, the
 * two words of the phrase take the place of two words at a random spot. */
static void
emit_text(struct gen *g, unsigned nwords, int phrase)
{
	unsigned i, left = 0, at = phrase ? rng_range(&g->rng, 0, nwords - 2) : 0;
	size_t id;
	int start;

	for (i = 0; i < nwords; i++) {
		start = left == 0;
		if (start)
			left = rng_range(&g->rng, 6, 14);
		if (phrase && i == at)
			id = g->id_a;
		else if (phrase && i == at + 1)
			id = g->id_b;
		else
			id = zipf_pick(&g->rng, g->cum, VOCAB_SIZE);
		if (i > 0)
			emit(g, " ");
		if (g->multi && g->lang != 0 &&
		    rng_below(&g->rng, 1000) < LEX_PERMILLE)
			emit_form(g);
		else
			emit_word(g, id, start);
		if (--left == 0 || i + 1 == nwords) {
			emit(g, ".");
			left = 0;
		}
	}
}

/* A title: 4..9 words, the first capitalised, no full stop. */
static void
emit_title(struct gen *g)
{
	unsigned i, n = rng_range(&g->rng, 4, 9);

	for (i = 0; i < n; i++) {
		if (i > 0)
			emit(g, " ");
		if (g->multi && g->lang != 0 &&
		    rng_below(&g->rng, 1000) < LEX_PERMILLE)
			emit_form(g);
		else
			emit_word(g, zipf_pick(&g->rng, g->cum, VOCAB_SIZE), i == 0);
	}
}

/* -m: the language of the practice, and maybe a translation into another. */
static void
emit_languages(struct gen *g, size_t own)
{
	size_t tr;

	emit(g, "\"language\":\"");
	emit(g, langs[own].tag);
	emit(g, "\",");
	g->n_lang[own]++;
	if (rng_below(&g->rng, 1000) >= TRANSLATION_PERMILLE)
		return;
	tr = (own + 1 + rng_below(&g->rng, NLANGS - 1)) % NLANGS;
	g->lang = tr;
	g->n_lang[tr]++;
	g->n_translated++;
	emit(g, "\"translations\":[{\"language\":\"");
	emit(g, langs[tr].tag);
	emit(g, "\",\"title\":\"");
	emit_title(g);
	emit(g, "\",\"summary\":\"");
	emit_text(g, rng_range(&g->rng, 15, 30), 0);
	emit(g, "\",\"machine_translated\":true}],");
	g->lang = own;
}

/* "Place Learning Centre": a place name and a kind of organisation. */
static void
emit_organisation(struct gen *g)
{
	size_t t = rng_below(&g->rng, NELEM(org_types)), i;

	emit_word(g, VOCAB_SIZE + zipf_pick(&g->rng, g->place_cum, PLACES), 1);
	for (i = 0; g->org_ids[t][i] != SIZE_MAX; i++) {
		emit(g, " ");
		emit_word(g, g->org_ids[t][i], 1);
	}
}

/* Picks k distinct indexes below n (k <= n, n <= 32) in increasing order, as
 * a bit set. */
static uint32_t
pick_set(struct rng *r, unsigned n, unsigned k)
{
	uint32_t set = 0;
	unsigned got = 0, i;

	while (got < k) {
		i = (unsigned)rng_below(r, n);
		if (!(set & (1u << i))) {
			set |= 1u << i;
			got++;
		}
	}
	return set;
}

/* Writes a JSON array of strings: the members of set among names. */
static void
emit_string_set(struct gen *g, const char *const *names, unsigned n,
    uint32_t set)
{
	unsigned i;
	int first = 1;

	emit(g, "[");
	for (i = 0; i < n; i++) {
		if (!(set & (1u << i)))
			continue;
		emit(g, first ? "\"" : ",\"");
		emit(g, names[i]);
		emit(g, "\"");
		first = 0;
	}
	emit(g, "]");
}

static void
emit_practice(struct gen *g, unsigned long index)
{
	char buf[160];
	uint32_t area_set, cluster_set, sdg_set, group_set;
	unsigned i, area_bit = 0, cluster_bit = 0, phrase_area_bit = 0;
	int phrase = rng_below(&g->rng, 1000) < PHRASE_PERMILLE, first = 1;
	int both;
	size_t own;

	for (i = 0; i < NELEM(areas); i++) {
		if (strcmp(areas[i], STAT_AREA) == 0)
			area_bit = 1u << i;
		if (strcmp(areas[i], PHRASE_AREA) == 0)
			phrase_area_bit = 1u << i;
	}
	for (i = 0; i < NELEM(clusters); i++)
		if (strcmp(clusters[i], STAT_CLUSTER) == 0)
			cluster_bit = 1u << i;
	g->doc++;
	own = g->multi ? pick_lang(g) : 0;
	g->lang = own;
	snprintf(buf, sizeof(buf), "{\"key\":\"bench-%07lu\",\"title\":\"", index);
	emit(g, buf);
	emit_title(g);
	emit(g, "\",\"summary\":\"");
	emit_text(g, rng_range(&g->rng, 30, 60), phrase);
	emit(g, "\",\"description\":\"");
	emit_text(g, rng_range(&g->rng, 60, 120), 0);
	emit(g, "\",");
	if (g->multi)
		emit_languages(g, own);
	else
		emit(g, "\"language\":\"en\",");
	emit(g, "\"kflc_areas\":");
	area_set = pick_set(&g->rng, NELEM(areas), rng_range(&g->rng, 1, 3));
	emit_string_set(g, areas, NELEM(areas), area_set);
	emit(g, ",\"clusters\":");
	cluster_set = pick_set(&g->rng, NELEM(clusters), rng_range(&g->rng, 0, 2));
	emit_string_set(g, clusters, NELEM(clusters), cluster_set);
	emit(g, ",\"sdgs\":[");
	sdg_set = pick_set(&g->rng, 17, rng_range(&g->rng, 1, 3));
	for (i = 0; i < 17; i++) {
		if (!(sdg_set & (1u << i)))
			continue;
		snprintf(buf, sizeof(buf), "%s%u", first ? "" : ",", i + 1);
		emit(g, buf);
		first = 0;
	}
	emit(g, "],\"target_groups\":");
	group_set = pick_set(&g->rng, NELEM(target_groups),
	    rng_range(&g->rng, 1, 3));
	emit_string_set(g, target_groups, NELEM(target_groups), group_set);
	snprintf(buf, sizeof(buf), ",\"setting\":\"%s\",\"status\":\"%s\","
	    "\"start_year\":%u,\"organisation\":\"",
	    settings[rng_below(&g->rng, NELEM(settings))],
	    statuses[rng_below(&g->rng, NELEM(statuses))],
	    rng_range(&g->rng, 2000, 2025));
	emit(g, buf);
	emit_organisation(g);
	emit(g, "\"}");

	/* As the node's search finds the two words: either form, and the
	 * first in the name of sub-area 2.2 (indexed with the text). */
	both = (g->seen[g->id_a] == g->doc || (g->id_a2 != SIZE_MAX &&
	    g->seen[g->id_a2] == g->doc) || (area_set & phrase_area_bit)) &&
	    (g->seen[g->id_b] == g->doc || (g->id_b2 != SIZE_MAX &&
	    g->seen[g->id_b2] == g->doc));
	g->n_area += (area_set & area_bit) != 0;
	g->n_cluster += (cluster_set & cluster_bit) != 0;
	g->n_phrase += phrase;
	g->n_phrase_words += both;
	g->n_combined += both && (area_set & area_bit) && (cluster_set & cluster_bit);
}

/* NAME VALUE lines for the benchmark: expected match counts per filter. */
static int
write_stats(const struct gen *g, const char *path, unsigned long count)
{
	FILE *f;
	size_t i, hi = 0, lo = SIZE_MAX;
	int ret = -1;

	if ((f = fopen(path, "w")) == NULL) {
		fprintf(stderr, "lcf-gen: %s: %s\n", path, strerror(errno));
		goto out;
	}
	for (i = 0; i < NWORDS; i++) {
		if (g->df[i] > g->df[hi])
			hi = i;
		if (g->df[i] > 0 && (lo == SIZE_MAX || g->df[i] < g->df[lo]))
			lo = i;
	}
	fprintf(f, "practices %lu\n", count);
	fprintf(f, "bytes %llu\n", (unsigned long long)g->bytes);
	fprintf(f, "area " STAT_AREA " %llu\n", (unsigned long long)g->n_area);
	fprintf(f, "cluster " STAT_CLUSTER " %llu\n",
	    (unsigned long long)g->n_cluster);
	fprintf(f, "phrase %llu\n", (unsigned long long)g->n_phrase);
	fprintf(f, "phrase_words %llu\n", (unsigned long long)g->n_phrase_words);
	fprintf(f, "combined %llu\n", (unsigned long long)g->n_combined);
	fprintf(f, "common %s %u\n", g->words[hi], g->df[hi]);
	if (lo != SIZE_MAX)
		fprintf(f, "rare %s %u\n", g->words[lo], g->df[lo]);
	for (i = 0; g->multi && i < NLANGS; i++) {
		size_t k;

		fprintf(f, "lang %s %llu\n", langs[i].tag,
		    (unsigned long long)g->n_lang[i]);
		for (k = 0; k < NGROUPS && langs[i].groups[k][0] != NULL; k++)
			fprintf(f, "group %s %s %llu\n", langs[i].tag,
			    langs[i].groups[k][0],
			    (unsigned long long)g->df_group[i][k]);
	}
	if (g->multi)
		fprintf(f, "translated %llu\n", (unsigned long long)g->n_translated);
	if (fclose(f) != 0) {
		fprintf(stderr, "lcf-gen: %s: %s\n", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	return ret;
}

int
main(int argc, char **argv)
{
	struct gen *g = NULL;
	const char *path = NULL, *stats = NULL;
	unsigned long count = 1000, i;
	unsigned long long seed = 1;
	char *end;
	int c, ret = 1, multi = 0;

	while ((c = getopt(argc, argv, "hmn:s:o:S:")) != -1) {
		switch (c) {
		case 'm':
			multi = 1;
			break;
		case 'n':
			errno = 0;
			count = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || count < 1 ||
			    count > MAX_COUNT)
				goto bad_usage;
			break;
		case 's':
			errno = 0;
			seed = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0')
				goto bad_usage;
			break;
		case 'o':
			path = optarg;
			break;
		case 'S':
			stats = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			ret = 0;
			goto out;
		default:
			goto bad_usage;
		}
	}
	if (optind != argc)
		goto bad_usage;
	g = xcalloc(1, sizeof(*g));
	g->multi = multi;
	if (build_words(g) < 0)
		goto out;
	rng_seed(&g->rng, (uint64_t)seed);
	g->out = stdout;
	if (path != NULL && (g->out = fopen(path, "w")) == NULL) {
		fprintf(stderr, "lcf-gen: %s: %s\n", path, strerror(errno));
		goto out;
	}
	setvbuf(g->out, NULL, _IOFBF, 1 << 20);
	emit(g, "[\n");
	for (i = 0; i < count; i++) {
		emit_practice(g, i + 1);
		emit(g, i + 1 < count ? ",\n" : "\n");
	}
	emit(g, "]\n");
	if (fflush(g->out) != 0 || ferror(g->out)) {
		fprintf(stderr, "lcf-gen: write: %s\n", strerror(errno));
		goto out;
	}
	if (stats != NULL && write_stats(g, stats, count) < 0)
		goto out;
	ret = 0;
	goto out;
bad_usage:
	fputs(usage, stderr);
	ret = 2;
out:
	if (g != NULL && g->out != NULL && g->out != stdout && fclose(g->out) != 0
	    && ret == 0) {
		fprintf(stderr, "lcf-gen: %s: %s\n", path, strerror(errno));
		ret = 1;
	}
	free(g);
	return ret;
}
