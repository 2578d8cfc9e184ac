/* SPDX-License-Identifier: Apache-2.0 */
/* The LMDB store: records, current versions, seq index, query indexes, counters. */
#ifndef LCF_STORE_H
#define LCF_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "model/iblt.h"
#include "model/kinds.h"
#include "lcf.pb-c.h"

struct record;
struct store;

#define STORE_SCHEMA_VERSION 4
#define STORE_MAX_TERMS 16       /* filter terms in one query */
#define STORE_MAX_AUTHORS 16     /* authors in one query (store_query) */
#define STORE_ERROR_MAX 200      /* store_query's error sentence */

/* Orders of store_query: newest first (0, the default), or by relevance to
 * the text (without text, relevance is newest). */
enum {
	STORE_SORT_NEWEST = 0,
	STORE_SORT_RELEVANCE = 1,
};

/* One record to store: raw (the SignedRecord bytes, already verified and
 * validated) and rec, its decoded form; or rec NULL, and store_put decodes raw
 * itself while it writes the item (so a caller need not hold thousands of
 * decoded records at once). */
struct store_item {
	const uint8_t *raw;
	size_t len;
	const struct record *rec;
	int result;                  /* out: STORE_* flags */
	uint8_t id[32];              /* out: the record's id */
};

enum {
	STORE_DUP = 1 << 0,          /* id already held: nothing written */
	STORE_CURRENT = 1 << 1,      /* became the current version of its key */
	STORE_STALE = 1 << 2,        /* stored, but an equal or newer seq is current */
	STORE_FORK = 1 << 3,         /* another record has the same author and seq */
	/* Always with STORE_DUP: a record of a newest-only kind
	 * (KINDS_NEWEST_ONLY, a status beacon) older than the version held,
	 * dropped unstored (PROTOCOL 1.2). Not a refusal: it is valid, only
	 * superseded. */
	STORE_SUPERSEDED = 1 << 4,
};

/* Opens (creating if needed) the database directory path with the given map
 * size. On error err holds a sentence naming the path. */
int store_open(const char *path, uint64_t map_size, struct store **out, char *err,
    size_t errlen);
/* Closes the environment; no transaction may be open. Accepts NULL. */
void store_close(struct store *s);

/* Stores items in one transaction: all or nothing. A record of a kind whose
 * newest version only is kept (KINDS_NEWEST_ONLY) deletes, when it becomes
 * current with a higher seq, every version of its (author, kind, key) held
 * with a lower seq (bytes, id, seq and late entries, and its id from the
 * sketches at commit), and one older than the version held is not stored
 * (STORE_DUP | STORE_SUPERSEDED). Returns 0, LCF_EMAPFULL,
 * LCF_ENOSPC (the disk is full: store_space.c) or LCF_ESTORE. Safe to call
 * from one writer thread while others read. Ids newly stored enter
 * store_sketch() once the transaction has committed. */
int store_put(struct store *s, struct store_item *items, size_t n);

/* A write transaction held across several calls, for a streamed import. Every
 * call on one transaction must come from the thread that began it (LMDB binds a
 * write transaction to its thread), and only one is open at a time: begin waits
 * for any other writer. store_txn_put writes items as store_put does (results in
 * items[i].result); after it fails the transaction can only be aborted. Commit
 * and abort free t (abort accepts NULL); ids written join store_sketch() at
 * commit. 0, LCF_EMAPFULL, LCF_ENOSPC or LCF_ESTORE. */
struct store_txn;
int store_txn_begin(struct store *s, struct store_txn **t);
int store_txn_put(struct store_txn *t, struct store_item *items, size_t n);
int store_txn_commit(struct store_txn *t);
void store_txn_abort(struct store_txn *t);

/* The live digest and IBLTs of every stored record id (all versions), built by
 * store_open and updated by store_put after each commit. Owned by the store and
 * valid until store_close; its functions may be called from any thread. */
struct iblt_set *store_sketch(struct store *s);
/* The table of class cls (into out_table, which the caller frees with
 * iblt_free) and the digest of the set of ids, from one instant, either
 * output may be NULL: with legacy 0 of every stored id (store_sketch); with
 * legacy 1 of the records a peer of the base protocol version takes, every
 * id but those of kinds_late kinds (PROTOCOL 4.10). 0 or LCF_EINVAL for a
 * bad class. Any thread. */
int store_sketch_view(struct store *s, int legacy, int cls,
    struct iblt *out_table, struct iblt_digest *out_digest);

/* Highest seq stored for an author into *seq (0 if none). 0, or LCF_ESTORE when
 * the store cannot be read (then *seq is 0 and means nothing: a caller that
 * numbers records must not go on from it). */
int store_last_seq(struct store *s, const uint8_t author[32], uint64_t *seq);

/* Called for each record found; raw points into the map and is valid only during
 * the call. Return non-zero to stop (that value is returned by the scan). */
typedef int (*store_visit_fn)(void *arg, const uint8_t id[32], const uint8_t *raw,
    size_t len);

/* 1 when a record with this id is stored, else 0. */
int store_has(struct store *s, const uint8_t id[32]);
/* For each of the n ids (32 bytes each, back to back), found[i] = 1 when a
 * record with that id is stored, else 0, all from one read transaction. ids
 * with skip[i] set (skip may be NULL) are not looked up: found[i] = 0. 0 or a
 * negative code (then every found[i] is 0). */
int store_has_many(struct store *s, const uint8_t *ids, const uint8_t *skip,
    size_t n, uint8_t *found);
/* Record by id. LCF_ENOTFOUND if absent. */
int store_get(struct store *s, const uint8_t id[32], store_visit_fn fn, void *arg);
/* Resolves a hex id prefix (1..64 digits) to a full id: LCF_ENOTFOUND,
 * LCF_EAMBIGUOUS. */
int store_resolve_id(struct store *s, const char *hex, uint8_t id[32]);
/* Resolves a hex prefix of an author (a city id) among authors with records. */
int store_resolve_author(struct store *s, const char *hex, uint8_t author[32]);
/* The current version of (author, kind, key). LCF_ENOTFOUND if none. */
int store_get_current(struct store *s, const uint8_t author[32], Lcf__Kind kind,
    const char *key, store_visit_fn fn, void *arg);

struct store_query {
	Lcf__Kind kind;
	const char *areas[STORE_MAX_TERMS];
	size_t nareas;
	const char *clusters[STORE_MAX_TERMS];
	size_t nclusters;
	const char *country;          /* of the author's city profile */
	const uint8_t *author;        /* 32 bytes */
	/* More authors: a record of author or of any of these matches (a city's
	 * line of keys, member.h); at most STORE_MAX_AUTHORS. */
	const uint8_t (*authors)[32];
	size_t nauthors;
	/* A search (README "Searching practices"): words, prefixes, phrases,
	 * OR, -word; a syntax error returns LCF_EINVAL with the reason in
	 * error. */
	const char *text;
	const char *lang;             /* BCP 47: the text's or a translation's
	                               * language; narrows text to it */
	unsigned sdgs[STORE_MAX_TERMS];   /* 1..17, all must match */
	size_t nsdgs;
	const char *since;            /* YYYY-MM-DD: records dated (author's
	                               * clock, UTC) that day or later */
	int sort;                     /* STORE_SORT_* */
	char *error;                  /* STORE_ERROR_MAX bytes, or NULL */
	const char *indicator;
	const char *period;
	int include_deleted;          /* only without other filters */
	size_t limit;                 /* 0: all */
	/* When set, a record for which keep returns 0 is skipped and not counted
	 * (hidden cities); raw is valid during the call only. */
	int (*keep)(void *arg, const uint8_t *raw, size_t len);
	void *keep_arg;
	/* Pages: 0, or only records stored before the one this cursor names
	 * (a value *next gave); next (may be NULL) receives the cursor of the
	 * page after this one when *truncated is set. In relevance order the
	 * cursor is an offset into the ranked answer instead. */
	uint32_t before;
	uint32_t *next;
	/* Tests: the text searched the plain way (every list loaded and
	 * joined on its own), to compare the faster one with. */
	int search_reference;
};

/* Visits matching current records, newest first (the order a record was
 * stored in: stable, so pages follow on with q->before/next; a record given a
 * new version meanwhile moves to the front), or by relevance to q->text (BM25,
 * then newest). *truncated is set when more than limit matched. LCF_EINVAL
 * for a query with too many terms or a text in bad syntax (q->error says
 * why, naming the character). */
int store_query(struct store *s, const struct store_query *q, store_visit_fn fn,
    void *arg, int *truncated);

/* Counts without reading records: for the candidates of q (its filter lists
 * intersected; q->text, q->since, keep, limit and paging are not allowed),
 * counts[i] is how many authors[i] wrote; with nlangs > 0, in_lang[i] is how
 * many of those are indexed under one of langs (fold_lang codes: a
 * practice's language and its translations', model/fold.h). nauthors at most
 * STORE_MAX_COUNT_AUTHORS. 0, LCF_EINVAL or LCF_ESTORE. */
#define STORE_MAX_COUNT_AUTHORS 100000
int store_count_authors(struct store *s, const struct store_query *q,
    const uint8_t (*authors)[32], size_t nauthors, const char *const *langs,
    size_t nlangs, size_t *counts, size_t *in_lang);

/* Visits each distinct period of kind's current records (the indicator
 * values' period strings the index holds), in byte order; fn returns non-zero
 * to stop (that value is returned). 0 or LCF_ESTORE. */
int store_periods(struct store *s, Lcf__Kind kind,
    int (*fn)(void *arg, const char *period), void *arg);

/* The order named ("relevance", "newest"; NULL: relevance with text, else
 * newest): a STORE_SORT_* value, or -1 for another name. */
int store_sort_parse(const char *name, const char *text);
/* 1 when s is a date YYYY-MM-DD (a real one), else 0: for q->since. */
int store_since_valid(const char *s);

/* Which current versions a scan visits: NULL, or all fields 0, for every one. */
struct store_scan_filter {
	const uint8_t *author;       /* 32 bytes: only this author's */
	uint32_t kinds;              /* bit 1 << kind set for each kind wanted */
};

/* Visits current versions in key order (author, kind, key), starting after the
 * opaque cursor (len 0 to start), at most max of them, passed over ones
 * included; *cursor/len are advanced for the next call and *done set at the
 * end. cursor must hold STORE_CURSOR_MAX bytes. f (may be NULL) narrows the
 * walk: an author's versions are found by seeking, not by reading every other
 * author's. */
#define STORE_CURSOR_MAX 512
int store_scan_current(struct store *s, const struct store_scan_filter *f,
    uint8_t *cursor, size_t *cursor_len, size_t max, int *done,
    store_visit_fn fn, void *arg);
/* Visits every stored record (all versions) whose id's first byte is in
 * [lo, hi]: used to verify in parallel slices. */
int store_scan_all(struct store *s, uint8_t lo, uint8_t hi, store_visit_fn fn,
    void *arg);

/* Ids whose first 8 bytes are one of the n prefixes (8 bytes each, back to
 * back), prefix by prefix in the given order, in one read transaction. fn may
 * return non-zero to stop (that value is returned); *consumed is the number of
 * prefixes whose records were all visited, so a caller that stopped resumes at
 * prefixes + 8 * *consumed (records of a prefix that was cut short are then
 * visited again). At most STORE_PREFIX_MATCHES records per prefix, so that
 * all of one prefix's records fit in one sync batch. */
#define STORE_PREFIX_MATCHES 16
int store_get_prefixes(struct store *s, const uint8_t *prefixes, size_t n,
    size_t *consumed, store_visit_fn fn, void *arg);

/* One author's stored records: every version and every fork counted. digest is
 * the set digest (iblt.h) of their ids. */
struct store_author_summary {
	uint8_t author[32];
	uint64_t count;
	uint64_t max_seq;
	uint8_t digest[IBLT_DIGEST_BYTES];
};

/* The summary of one author (count 0 when it has no records; with legacy,
 * its records of kinds_late kinds are left out of count and digest) and, when runs is
 * not NULL, the seqs it holds as runs: runs[2i] .. runs[2i+1] inclusive,
 * ascending, at most max_runs runs in *nruns (seqs beyond a full list are left
 * out: a caller may only claim fewer seqs than it holds). */
int store_author_summary(struct store *s, int legacy, const uint8_t author[32],
    struct store_author_summary *out, uint64_t *runs, size_t max_runs,
    size_t *nruns);

typedef int (*store_summary_fn)(void *arg, const struct store_author_summary *sum);
/* Visits the summaries of the authors after `after` (32 bytes; NULL to start at
 * the first; legacy as for store_author_summary), in ascending author order: at most max_authors, and no new author
 * once max_records records were walked in this call. *done is set when no
 * author remains. fn may return non-zero to stop (that value is returned). */
int store_author_summaries(struct store *s, int legacy, const uint8_t *after,
    size_t max_authors, size_t max_records, int *done, store_summary_fn fn,
    void *arg);

/* Called with seq as well; raw is valid only during the call. */
typedef int (*store_seq_visit_fn)(void *arg, uint64_t seq, const uint8_t id[32],
    const uint8_t *raw, size_t len);
/* Visits an author's records with from_seq <= seq <= to_seq in (seq, id) order;
 * with after_id (32 bytes, may be NULL), records of from_seq whose id is not
 * greater than it are skipped, so a caller resumes exactly where it stopped. fn
 * may return non-zero to stop (that value is returned). */
int store_scan_author(struct store *s, const uint8_t author[32], uint64_t from_seq,
    const uint8_t *after_id, uint64_t to_seq, store_seq_visit_fn fn, void *arg);

struct store_kind_count {
	uint64_t current;            /* current versions, tombstones included */
	uint64_t deleted;            /* current versions that are tombstones */
};

struct store_stats {
	uint64_t records;            /* every stored version */
	uint64_t forks;
	uint64_t authors;
	uint64_t used_bytes;
	uint64_t map_size;
	struct store_kind_count kinds[KINDS_LIMIT];   /* indexed by Lcf__Kind */
};

int store_stats(struct store *s, struct store_stats *st);
/* The bytes the map can still give a write: past the last page in use, and
 * the free pages (some may wait for older readers to end). For a full map's
 * check whether room was made (core/space.h). 0, or LCF_ESTORE (*room 0). */
int store_map_room(struct store *s, uint64_t *room);
/* The id of the last committed write transaction: it changes with every
 * write, so an answer built from the store stays true while it is the same.
 * Cheap (no transaction); 0 when the environment cannot be read. */
uint64_t store_generation(struct store *s);
/* Forks (records sharing this author and a seq) stored so far. */
uint64_t store_author_forks(struct store *s, const uint8_t author[32]);
/* How many authors have records here into *n (a counter: cheap, unlike
 * store_stats). 0, or LCF_ESTORE when the store cannot be read (*n is 0). */
int store_authors(struct store *s, uint64_t *n);

/* Splits text into index words (ASCII lower-cased, 2..32 bytes, UTF-8 bytes kept
 * inside words), calling fn for each word in order, repeats included. Exposed
 * for tests. */
void store_words(const char *text, void (*fn)(void *arg, const char *w, size_t n),
    void *arg);

/* Small named values in the meta table (store_meta.c), names chosen so they
 * never clash with the store's counters ("city", "restore"). get copies the
 * value into buf (cap bytes) and its size into *len: 0, LCF_ENOTFOUND,
 * LCF_ETOOBIG or LCF_ESTORE. put writes it (val NULL: deletes it) in a
 * transaction of its own: 0, LCF_ENOSPC, LCF_EMAPFULL or LCF_ESTORE. Any
 * thread. */
int store_meta_get(struct store *s, const char *name, void *buf, size_t cap,
    size_t *len);
int store_meta_put(struct store *s, const char *name, const void *val,
    size_t len);
/* Quarantine (store_quarantine.c): records whose stored bytes no longer
 * hash to their id are never served. Every read that hands records to a
 * visitor (store_get, store_get_current, store_scan_current, store_query,
 * store_get_prefixes, store_scan_author; not store_scan_all, which verify
 * uses) checks the id first, skips a damaged record and notes it; the
 * records noted are moved aside by store_quarantine_flush. */
enum {
	STORE_QUAR_ID = 1,           /* the bytes do not hash to the id */
	STORE_QUAR_SIGNATURE = 2,    /* the signature does not verify */
};
/* Why a record was quarantined, in words ("its bytes no longer hash to its
 * id"); static. */
const char *store_quarantine_why(int why);
/* Notes a damaged record (why: STORE_QUAR_*) to be moved aside at the next
 * flush. Any thread, inside a read or not. */
void store_quarantine_note(struct store *s, const uint8_t id[32], int why);
/* How many records are noted and not yet moved: cheap, any thread. */
size_t store_quarantine_pending(struct store *s);
/* Moves every noted record aside in one write transaction: out of "rows",
 * "ids", "seq" and "late" and the live sketches (so digests no longer hold
 * it and peers send it again), into "quarantine" with its damaged bytes,
 * when and why; each is logged once. *moved: how many. Blocks like a write:
 * call it from a pool thread. 0 or a project code (the noted ids are then
 * dropped; a later read notes them again). */
int store_quarantine_flush(struct store *s, size_t *moved);
/* Visits the first max quarantined records (id, when in ms since the epoch,
 * why, size of the bytes kept); *total is how many there are. fn may be NULL
 * (only the count) and returns non-zero to stop. 0 or LCF_ESTORE. */
typedef int (*store_quarantine_fn)(void *arg, const uint8_t id[32],
    uint64_t when_ms, int why, size_t len);
int store_quarantine_list(struct store *s, size_t max, store_quarantine_fn fn,
    void *arg, uint64_t *total);

/* Writes a compacted copy of the whole store (LMDB's data file, free pages
 * left out) to fd from its current offset, from one read transaction: writers
 * go on meanwhile. Blocks for as long as the copy takes: call it from a pool
 * thread. 0 or LCF_ESTORE (errno may say why). */
int store_copy_compact(struct store *s, int fd);

#endif
