// SPDX-License-Identifier: Apache-2.0
// lcf-fill: writes signed records of many generated cities straight into stopped nodes' stores, for benchmarks.
//
// Record i (counting from 0 over every run with the same seed) is written by
// author i mod AUTHORS with seq 1 + i / AUTHORS: seq 1 is the author's city
// profile (placed at a latitude and longitude drawn from the author), later
// seqs are practices (three in four) and indicator values of
// about 300 bytes. Authors' keys, contents and timestamps follow from the seed
// alone, so two runs (or two outputs of one run) produce the same record ids:
// a later run with -f continues every author's seqs, and an output may leave
// out a random set of records to make scattered differences between stores.

#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/config.h"
#include "base/error.h"
#include "model/identity.h"
#include "lcf.pb-c.h"
#include "base/log.h"
#include "model/record.h"
#include "store/store.h"
#include "base/util.h"
#include "model/validate.h"
#include "base/xmalloc.h"

#define MAX_RECORDS	100000000ULL
#define MAX_AUTHORS	1000000ULL
#define MAX_OUTPUTS	8
#define MAX_THREADS	64
#define MAX_BATCH	1000000ULL
/* The default base of timestamps: 2023-11-14, in the past of any run. */
#define BASE_MS		1700000000000LL
#define TEXT_MAX	256

static const char usage_text[] =
    "Usage: lcf-fill [-n COUNT] [-a AUTHORS] [-f FIRST] [-s SEED] [-j THREADS]\n"
    "                [-b BATCH] [-t BASE_MS] DIR[:SKIP[:SKIPSEED]]...\n"
    "\n"
    "Generates records FIRST .. FIRST+COUNT-1 (default 0 .. 999) of AUTHORS\n"
    "cities (default 100) from SEED (default 1), signs them on THREADS threads\n"
    "(default: every CPU) and stores them with store_put, BATCH records per\n"
    "transaction (default 50000), into the store of each node directory DIR\n"
    "(made by `lcctl init`; its lcnode must be stopped). With SKIP, that store\n"
    "leaves out SKIP of the records chosen at random by SKIPSEED (default 1).\n"
    "Timestamps are BASE_MS (default 1700000000000) plus one minute per seq.\n"
    "\n"
    "Prints NAME VALUE lines: what was generated, and for each output K\n"
    "out.K.records, out.K.bytes, out.K.skipped, out.K.skipped_bytes; for each\n"
    "pair of outputs K < L, the records only one of them holds\n"
    "(differences.K.L, difference_bytes.K.L).\n";

static const char *const words[] = {
	"learning", "community", "library", "families", "reading", "adults",
	"young", "people", "schools", "skills", "digital", "workshops", "local",
	"neighbourhood", "volunteers", "mentors", "migrants", "language",
	"culture", "museum", "garden", "health", "climate", "green", "jobs",
	"training", "parents", "children", "older", "women", "youth", "network",
	"festival", "evening", "weekend", "circles", "courses", "centre",
	"citizens", "council", "partners", "university", "teachers", "literacy",
	"numeracy", "coding", "repair", "cooking", "music", "theatre", "sport",
	"heritage", "stories", "writing", "science", "nature", "river", "park",
	"market", "cafe", "housing", "energy", "waste", "water", "transport",
	"employment", "apprentices", "careers", "enterprise", "cooperative",
	"dialogue", "peace", "rights", "inclusion", "wellbeing", "access",
	"weekly", "free", "open", "mobile", "online", "together", "support",
	"every", "season", "district", "public", "school", "classes", "clubs",
};

static const char *const areas[] = {
	"1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.1",
	"3.2", "3.3",
};

static const char *const clusters[] = {
	"esd", "equity_inclusion", "monitoring_evaluation", "global_citizenship",
	"entrepreneurship", "health_wellbeing", "literacy", "climate",
};

static const char *const languages[] = {
	"en", "en", "en", "en", "fr", "es", "de", "pt", "it", "sv", "fi", "pl",
};

static const char *const countries[] = {
	"SE", "FI", "RO", "CO", "PT", "ES", "DE", "FR", "IT", "PL", "NL", "BE",
	"IE", "GR", "KE", "GH", "BR", "MX", "JP", "KR", "CN", "IN", "AU", "CA",
};

static const char *const indicators[] = {
	"1.1-adult-learning-participation", "1.1-volunteering",
	"1.2-employment-rate", "1.2-youth-neet", "1.3-environmental-learning",
	"2.1-early-childhood-enrolment", "2.1-early-school-leaving",
	"2.2-family-learning", "2.2-library-loans", "2.3-apprenticeship-starts",
	"2.4-basic-digital-skills", "2.6-older-adult-learning",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* One generated record: its bytes and decoded form. */
struct slot {
	uint8_t *raw;
	size_t len;
	struct record rec;
};

struct gen {
	struct identity *authors;    /* bench keys: plain memory, wiped at exit */
	uint64_t nauthors;
	uint64_t seed;
	int64_t base_ms;
};

/* One output store. */
struct out {
	const char *arg;
	char *dir;
	struct store *st;
	int lockfd;                  /* DIR/lcnode.lock, held: no lcnode meanwhile */
	uint64_t skip_count, skip_seed;
	uint8_t *skip;               /* bitmap over the records of this run */
	struct store_item *items;
	uint64_t records, bytes, skipped, skipped_bytes, dups;
	double put_seconds;
	int rc;
	/* The batch being stored by this output's thread. */
	struct slot *slots;
	uint64_t lo, hi, first;
	pthread_t th;
};

struct seal_arg {
	const struct gen *g;
	struct slot *slots;
	uint64_t base, lo, hi;       /* slots[i - base] for i in [lo, hi) */
	int failed;
	char err[TEXT_MAX * 3];
};

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* SplitMix64: a small, well-mixed generator for deterministic choices. */
static uint64_t
mix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Author a's key pair from the seed alone. */
static void
author_key(uint64_t seed, uint64_t a, struct identity *id)
{
	uint8_t in[16], s[crypto_sign_SEEDBYTES];
	static const uint8_t tag[] = "lcf-fill";

	memcpy(in, &seed, 8);
	memcpy(in + 8, &a, 8);
	crypto_generichash(s, sizeof(s), in, sizeof(in), tag, sizeof(tag) - 1);
	crypto_sign_seed_keypair(id->pk, id->sk, s);
	sodium_memzero(s, sizeof(s));
}

/* Appends n words to buf (space-separated), the first capitalised. */
static void
append_words(char *buf, size_t max, uint64_t *rng, unsigned n, int cap)
{
	size_t len = strlen(buf);
	unsigned k;
	int w;

	for (k = 0; k < n; k++) {
		w = snprintf(buf + len, max - len, "%s%s", len > 0 ? " " : "",
		    words[mix64(rng) % NELEM(words)]);
		if (w < 0 || (size_t)w >= max - len)
			break;
		if (cap && k == 0)
			buf[len + (len > 0)] = (char)(buf[len + (len > 0)] - 'a' + 'A');
		len += (size_t)w;
	}
}

/* Builds, validates, packs, signs and decodes record i into sl. */
static int
make_record(const struct gen *g, uint64_t i, struct slot *sl, char *err,
    size_t errlen)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__Practice p = LCF__PRACTICE__INIT;
	Lcf__IndicatorValue v = LCF__INDICATOR_VALUE__INIT;
	Lcf__CityProfile cp = LCF__CITY_PROFILE__INIT;
	char title[TEXT_MAX], summary[TEXT_MAX], key[TEXT_MAX], name[64];
	char period[16], *ar[2], *cl[1], *langs[1];
	uint64_t a = i % g->nauthors, seq = 1 + i / g->nauthors, q;
	uint64_t rng = g->seed * 0x9e3779b97f4a7c15ULL ^ (i + 1), place;
	uint8_t *content = NULL, rid[RECORD_ID_LEN];
	size_t clen;
	struct verr ve;
	int ret = LCF_EINVAL;

	c.has_author = 1;
	c.author.data = g->authors[a].pk;
	c.author.len = IDENTITY_PK_LEN;
	c.has_seq = 1;
	c.seq = seq;
	c.has_kind = 1;
	c.has_timestamp = 1;
	c.timestamp = g->base_ms + (int64_t)seq * 60000 + (int64_t)(a % 60000);
	if (seq == 1) {
		snprintf(name, sizeof(name), "Bench City %llu", (unsigned long long)a);
		langs[0] = (char *)languages[a % NELEM(languages)];
		cp.name = name;
		cp.country = (char *)countries[a % NELEM(countries)];
		cp.languages = langs;
		cp.n_languages = 1;
		cp.has_population = 1;
		cp.population = 20000 + mix64(&rng) % 2000000;
		/* A place of its own (from the author alone, so the other
		 * fields keep their values): the dashboard draws a marker. */
		place = g->seed * 0x9e3779b97f4a7c15ULL ^ ~a;
		cp.has_latitude = cp.has_longitude = 1;
		cp.latitude = -55.0 + (double)(mix64(&place) % 12500) / 100.0;
		cp.longitude = -180.0 + (double)(mix64(&place) % 36000) / 100.0;
		c.kind = LCF__KIND__KIND_CITY;
		c.key = "profile";
		c.body_case = LCF__CONTENT__BODY_CITY;
		c.city = &cp;
	} else if (mix64(&rng) % 4 == 0) {
		q = seq / NELEM(indicators);
		snprintf(period, sizeof(period), "%llu-Q%llu",
		    (unsigned long long)(1990 + (q / 4) % 211),
		    (unsigned long long)(q % 4 + 1));
		v.indicator = (char *)indicators[seq % NELEM(indicators)];
		v.period = period;
		v.has_value = 1;
		v.value = (double)(mix64(&rng) % 10000) / 100.0;
		v.unit = "%";
		v.source = "Municipal statistics office, annual survey";
		v.has_geo_level = 1;
		v.geo_level = LCF__GEO_LEVEL__GEO_LEVEL_CITY;
		v.has_status = 1;
		v.status = LCF__VALUE_STATUS__VALUE_STATUS_FINAL;
		validate_indicator_key(&v, key, sizeof(key));
		c.kind = LCF__KIND__KIND_INDICATOR;
		c.key = key;
		c.body_case = LCF__CONTENT__BODY_INDICATOR;
		c.indicator = &v;
	} else {
		title[0] = '\0';
		append_words(title, sizeof(title), &rng,
		    3 + (unsigned)(mix64(&rng) % 3), 1);
		snprintf(title + strlen(title), sizeof(title) - strlen(title),
		    " %llu", (unsigned long long)seq);
		summary[0] = '\0';
		append_words(summary, sizeof(summary) - 1, &rng,
		    9 + (unsigned)(mix64(&rng) % 6), 1);
		strcat(summary, ".");
		slugify(title, key, sizeof(key));
		ar[0] = (char *)areas[mix64(&rng) % NELEM(areas)];
		ar[1] = (char *)areas[mix64(&rng) % NELEM(areas)];
		cl[0] = (char *)clusters[mix64(&rng) % NELEM(clusters)];
		p.title = title;
		p.summary = summary;
		p.language = (char *)languages[mix64(&rng) % NELEM(languages)];
		p.kflc_areas = ar;
		p.n_kflc_areas = strcmp(ar[0], ar[1]) != 0 ? 2 : 1;
		p.clusters = cl;
		p.n_clusters = mix64(&rng) % 2;
		c.kind = LCF__KIND__KIND_PRACTICE;
		c.key = key;
		c.body_case = LCF__CONTENT__BODY_PRACTICE;
		c.practice = &p;
	}
	memset(&ve, 0, sizeof(ve));
	if (validate_content(&c, NULL, 0, &ve) != 0) {
		snprintf(err, errlen, "record %llu does not validate: %s: %s",
		    (unsigned long long)i, ve.field, ve.msg);
		goto out;
	}
	if ((ret = record_pack_content(&c, &content, &clen)) != 0 ||
	    (ret = record_seal(content, clen, &g->authors[a], &sl->raw,
	    &sl->len, rid)) != 0 ||
	    (ret = record_open(sl->raw, sl->len, 0, &sl->rec)) != 0) {
		snprintf(err, errlen, "record %llu: %s", (unsigned long long)i,
		    lcf_strerror(ret));
		goto out;
	}
	ret = 0;
out:
	free(content);
	return ret;
}

static void *
seal_thread(void *p)
{
	struct seal_arg *s = p;
	uint64_t i;

	for (i = s->lo; i < s->hi && !s->failed; i++)
		if (make_record(s->g, i, &s->slots[i - s->base], s->err,
		    sizeof(s->err)) != 0)
			s->failed = 1;
	return NULL;
}

static void
slots_release(struct slot *slots, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		record_release(&slots[i].rec);
		free(slots[i].raw);
		slots[i].raw = NULL;
	}
}

static int
skipped(const struct out *o, uint64_t i)
{
	uint64_t k = i - o->first;

	return o->skip != NULL && (o->skip[k / 8] >> (k % 8)) & 1;
}

/* Stores this output's share of slots [lo, hi) in one transaction. */
static void *
put_thread(void *p)
{
	struct out *o = p;
	uint64_t i;
	size_t m = 0, k;
	double t0 = mono_s();

	for (i = o->lo; i < o->hi; i++) {
		if (skipped(o, i)) {
			o->skipped++;
			o->skipped_bytes += o->slots[i - o->lo].len;
			continue;
		}
		o->items[m].raw = o->slots[i - o->lo].raw;
		o->items[m].len = o->slots[i - o->lo].len;
		o->items[m].rec = &o->slots[i - o->lo].rec;
		o->items[m].result = 0;
		m++;
	}
	if ((o->rc = store_put(o->st, o->items, m)) == 0) {
		for (k = 0; k < m; k++) {
			if (o->items[k].result & STORE_DUP) {
				o->dups++;
				continue;
			}
			o->records++;
			o->bytes += o->items[k].len;
		}
	}
	o->put_seconds += mono_s() - t0;
	return NULL;
}

/* Chooses o->skip_count distinct records of [first, first + n) to leave out. */
static void
choose_skips(struct out *o, uint64_t first, uint64_t n)
{
	uint64_t rng = o->skip_seed * 0xd1b54a32d192ed03ULL, k, chosen = 0;

	o->first = first;
	if (o->skip_count > 0)
		o->skip = xcalloc((size_t)(n + 7) / 8, 1);
	while (chosen < o->skip_count) {
		k = mix64(&rng) % n;
		if ((o->skip[k / 8] >> (k % 8)) & 1)
			continue;
		o->skip[k / 8] |= (uint8_t)(1u << (k % 8));
		chosen++;
	}
}

static int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int ret = LCF_EINVAL;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		goto out;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		goto out;
	*out = v;
	ret = 0;
out:
	return ret;
}

/* DIR[:SKIP[:SKIPSEED]] into o; opens the store of DIR. */
static int
open_output(struct out *o, const char *arg, uint64_t n)
{
	struct config cfg;
	char *copy = xstrdup(arg), *c1, *c2, *abs = NULL, *db = NULL, err[512];
	int ret = LCF_EINVAL;

	memset(&cfg, 0, sizeof(cfg));
	o->arg = arg;
	o->skip_seed = 1;
	if ((c1 = strchr(copy, ':')) != NULL) {
		*c1++ = '\0';
		if ((c2 = strchr(c1, ':')) != NULL) {
			*c2++ = '\0';
			if (parse_u64(c2, 0, UINT64_MAX, &o->skip_seed) != 0)
				goto bad;
		}
		if (parse_u64(c1, 0, n, &o->skip_count) != 0)
			goto bad;
	}
	if ((abs = realpath(copy, NULL)) == NULL) {
		fprintf(stderr, "lcf-fill: %s: %s (make it with lcctl init)\n", copy,
		    strerror(errno));
		goto out;
	}
	/* The lock lcnode takes: a running node would never see the records
	 * (its sketch is built at start), so it must be stopped. */
	db = xasprintf("%s/lcnode.lock", abs);
	if ((o->lockfd = open(db, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(o->lockfd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr, "lcf-fill: %s: %s\n", abs, errno == EWOULDBLOCK ?
		    "an lcnode is serving it: stop it first" : strerror(errno));
		goto out;
	}
	free(db);
	db = NULL;
	if (config_load(&cfg, abs, err, sizeof(err)) != 0) {
		fprintf(stderr, "lcf-fill: %s\n", err);
		goto out;
	}
	db = xasprintf("%s/db", abs);
	if (store_open(db, cfg.map_size, &o->st, err, sizeof(err)) != 0) {
		fprintf(stderr, "lcf-fill: %s\n", err);
		goto out;
	}
	o->dir = abs;
	abs = NULL;
	ret = 0;
	goto out;
bad:
	fprintf(stderr, "lcf-fill: %s: expected DIR[:SKIP[:SKIPSEED]] with SKIP "
	    "at most the record count\n", arg);
out:
	config_free(&cfg);
	free(abs);
	free(db);
	free(copy);
	return ret;
}

/* Seals records [lo, hi) into slots on nthreads threads. */
static int
seal_batch(const struct gen *g, struct slot *slots, uint64_t lo, uint64_t hi,
    int nthreads)
{
	struct seal_arg args[MAX_THREADS];
	pthread_t th[MAX_THREADS];
	uint64_t n = hi - lo;
	int t, ret = 0, rc;

	for (t = 0; t < nthreads; t++) {
		memset(&args[t], 0, sizeof(args[t]));
		args[t].g = g;
		args[t].slots = slots;
		args[t].base = lo;
		args[t].lo = lo + n * (uint64_t)t / (uint64_t)nthreads;
		args[t].hi = lo + n * (uint64_t)(t + 1) / (uint64_t)nthreads;
		if ((rc = pthread_create(&th[t], NULL, seal_thread, &args[t])) != 0)
			fatalx("pthread_create: %s", strerror(rc));
	}
	for (t = 0; t < nthreads; t++) {
		pthread_join(th[t], NULL);
		if (args[t].failed && ret == 0) {
			fprintf(stderr, "lcf-fill: %s\n", args[t].err);
			ret = LCF_EINVAL;
		}
	}
	return ret;
}

/* Joins the put threads of the batch in flight; 0 when every one stored it. */
static int
join_puts(struct out *outs, int nout)
{
	int k, ret = 0;

	for (k = 0; k < nout; k++) {
		pthread_join(outs[k].th, NULL);
		if (outs[k].rc != 0) {
			fprintf(stderr, "lcf-fill: %s: store_put: %s\n", outs[k].dir,
			    lcf_strerror(outs[k].rc));
			ret = outs[k].rc;
		}
	}
	return ret;
}

/* One run: the generator, the outputs and what is counted for the report. */
struct fill {
	struct gen g;
	struct out outs[MAX_OUTPUTS];
	int nout;
	struct slot *slots[2];        /* sealing one while the other is stored */
	uint64_t n, first, batch, nthreads, bytes;
	uint64_t diffs[MAX_OUTPUTS][MAX_OUTPUTS];
	uint64_t diff_bytes[MAX_OUTPUTS][MAX_OUTPUTS];
	double seal_s;
	int inflight;                 /* put threads are running */
};

/* Reads the options into f: 0, 1 after -h (usage printed), or 2 for a bad
 * command line. optind is left at the first output. */
static int
parse_args(struct fill *f, int argc, char **argv)
{
	uint64_t v;
	int c;

	while ((c = getopt(argc, argv, "hn:a:f:s:j:b:t:")) != -1) {
		switch (c) {
		case 'n':
			if (parse_u64(optarg, 1, MAX_RECORDS, &f->n) != 0)
				return 2;
			break;
		case 'a':
			if (parse_u64(optarg, 1, MAX_AUTHORS, &f->g.nauthors) != 0)
				return 2;
			break;
		case 'f':
			if (parse_u64(optarg, 0, MAX_RECORDS, &f->first) != 0)
				return 2;
			break;
		case 's':
			if (parse_u64(optarg, 0, UINT64_MAX, &f->g.seed) != 0)
				return 2;
			break;
		case 'j':
			if (parse_u64(optarg, 1, MAX_THREADS, &f->nthreads) != 0)
				return 2;
			break;
		case 'b':
			if (parse_u64(optarg, 1, MAX_BATCH, &f->batch) != 0)
				return 2;
			break;
		case 't':
			if (parse_u64(optarg, 0, (uint64_t)now_ms(), &v) != 0)
				return 2;
			f->g.base_ms = (int64_t)v;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		default:
			return 2;
		}
	}
	if (optind == argc || argc - optind > MAX_OUTPUTS)
		return 2;
	return 0;
}

/* Opens every output and makes the authors' keys and the two slot arrays. */
static int
fill_setup(struct fill *f, int argc, char **argv)
{
	uint64_t v;

	for (; optind < argc; optind++, f->nout++) {
		struct out *o = &f->outs[f->nout];

		if (open_output(o, argv[optind], f->n) != 0)
			return -1;
		choose_skips(o, f->first, f->n);
		o->items = xcalloc((size_t)f->batch, sizeof(*o->items));
	}
	f->g.authors = xcalloc((size_t)f->g.nauthors, sizeof(*f->g.authors));
	for (v = 0; v < f->g.nauthors; v++)
		author_key(f->g.seed, v, &f->g.authors[v]);
	if (f->batch > f->n)
		f->batch = f->n;
	f->slots[0] = xcalloc((size_t)f->batch, sizeof(*f->slots[0]));
	f->slots[1] = xcalloc((size_t)f->batch, sizeof(*f->slots[1]));
	return 0;
}

/* Counts the bytes of records lo..hi (in slots) and which outputs differ. */
static void
count_batch(struct fill *f, const struct slot *slots, uint64_t lo, uint64_t hi)
{
	uint64_t i;
	int k, l;

	for (i = lo; i < hi; i++) {
		f->bytes += slots[i - lo].len;
		for (k = 0; k < f->nout; k++)
			for (l = k + 1; l < f->nout; l++)
				if (skipped(&f->outs[k], i) !=
				    skipped(&f->outs[l], i)) {
					f->diffs[k][l]++;
					f->diff_bytes[k][l] += slots[i - lo].len;
				}
	}
}

/* Starts one put thread per output on records lo..hi of slots. */
static void
start_puts(struct fill *f, struct slot *slots, uint64_t lo, uint64_t hi)
{
	int k, c;

	for (k = 0; k < f->nout; k++) {
		f->outs[k].slots = slots;
		f->outs[k].lo = lo;
		f->outs[k].hi = hi;
		if ((c = pthread_create(&f->outs[k].th, NULL, put_thread,
		    &f->outs[k])) != 0)
			fatalx("pthread_create: %s", strerror(c));
	}
	f->inflight = 1;
}

/* Seals and stores every batch; signing the next batch overlaps with storing
 * the previous one. */
static int
fill_run(struct fill *f)
{
	uint64_t lo, hi, prev_lo = 0, prev_hi = 0;
	double t;
	int cur = 0;

	for (lo = f->first; lo < f->first + f->n; lo = hi) {
		hi = lo + f->batch < f->first + f->n ? lo + f->batch :
		    f->first + f->n;
		t = mono_s();
		if (seal_batch(&f->g, f->slots[cur], lo, hi, (int)f->nthreads) != 0)
			return -1;
		f->seal_s += mono_s() - t;
		count_batch(f, f->slots[cur], lo, hi);
		if (f->inflight) {
			f->inflight = 0;
			if (join_puts(f->outs, f->nout) != 0)
				return -1;
			slots_release(f->slots[!cur], (size_t)(prev_hi - prev_lo));
		}
		start_puts(f, f->slots[cur], lo, hi);
		prev_lo = lo;
		prev_hi = hi;
		cur = !cur;
	}
	f->inflight = 0;
	return join_puts(f->outs, f->nout) != 0 ? -1 : 0;
}

static void
fill_report(const struct fill *f, double seconds)
{
	int k, l;

	printf("records %llu\nfirst %llu\nauthors %llu\nbytes %llu\n"
	    "mean_bytes %llu\nseal_seconds %.2f\nseal_rate %.0f\nseconds %.2f\n",
	    (unsigned long long)f->n, (unsigned long long)f->first,
	    (unsigned long long)f->g.nauthors, (unsigned long long)f->bytes,
	    (unsigned long long)(f->bytes / f->n), f->seal_s,
	    f->seal_s > 0 ? (double)f->n / f->seal_s : 0.0, seconds);
	for (k = 0; k < f->nout; k++)
		printf("out.%d.dir %s\nout.%d.records %llu\nout.%d.bytes %llu\n"
		    "out.%d.skipped %llu\nout.%d.skipped_bytes %llu\n"
		    "out.%d.dups %llu\nout.%d.put_seconds %.2f\n",
		    k, f->outs[k].dir, k, (unsigned long long)f->outs[k].records,
		    k, (unsigned long long)f->outs[k].bytes,
		    k, (unsigned long long)f->outs[k].skipped,
		    k, (unsigned long long)f->outs[k].skipped_bytes,
		    k, (unsigned long long)f->outs[k].dups, k,
		    f->outs[k].put_seconds);
	for (k = 0; k < f->nout; k++)
		for (l = k + 1; l < f->nout; l++)
			printf("differences.%d.%d %llu\ndifference_bytes.%d.%d %llu\n",
			    k, l, (unsigned long long)f->diffs[k][l], k, l,
			    (unsigned long long)f->diff_bytes[k][l]);
}

static void
fill_free(struct fill *f)
{
	int k;

	if (f->inflight)
		join_puts(f->outs, f->nout);
	if (f->slots[0] != NULL)
		slots_release(f->slots[0], (size_t)f->batch);
	if (f->slots[1] != NULL)
		slots_release(f->slots[1], (size_t)f->batch);
	free(f->slots[0]);
	free(f->slots[1]);
	for (k = 0; k <= f->nout && k < MAX_OUTPUTS; k++) {
		store_close(f->outs[k].st);
		if (f->outs[k].lockfd >= 0)
			close(f->outs[k].lockfd);
		free(f->outs[k].dir);
		free(f->outs[k].skip);
		free(f->outs[k].items);
	}
	if (f->g.authors != NULL) {
		sodium_memzero(f->g.authors,
		    (size_t)f->g.nauthors * sizeof(*f->g.authors));
		free(f->g.authors);
	}
}

int
main(int argc, char **argv)
{
	static struct fill f;        /* large: not on the stack */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	double t0;
	int k, ret = 1;

	for (k = 0; k < MAX_OUTPUTS; k++)
		f.outs[k].lockfd = -1;
	f.n = 1000;
	f.batch = 50000;
	f.g.nauthors = 100;
	f.g.seed = 1;
	f.g.base_ms = BASE_MS;
	f.nthreads = ncpu > 0 ? (uint64_t)ncpu : 1;
	if (f.nthreads > MAX_THREADS)
		f.nthreads = MAX_THREADS;
	switch (parse_args(&f, argc, argv)) {
	case 0:
		break;
	case 1:
		ret = 0;
		goto out;
	default:
		fputs(usage_text, stderr);
		ret = 2;
		goto out;
	}
	log_init("lcf-fill", LOG_LEVEL_WARN);
	if (sodium_init() < 0) {
		fprintf(stderr, "lcf-fill: sodium_init failed\n");
		goto out;
	}
	t0 = mono_s();
	if (fill_setup(&f, argc, argv) != 0 || fill_run(&f) != 0)
		goto out;
	fill_report(&f, mono_s() - t0);
	ret = 0;
out:
	fill_free(&f);
	return ret;
}
