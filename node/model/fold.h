/* SPDX-License-Identifier: Apache-2.0 */
/* Search words: Unicode case and diacritics folding (utf8proc) and stemming in
 * a language (Snowball's libstemmer), the same for the index and for queries. */
#ifndef LCF_FOLD_H
#define LCF_FOLD_H

#include <stddef.h>

#define FOLD_LANG_MAX 9        /* a language code and its NUL: "sv", "und" */
#define FOLD_WORD_MAX 64       /* bytes of a folded word, at most */
#define FOLD_WORD_MIN 2        /* characters of an indexed word, at least */

/* The index language of a BCP 47 tag: its primary subtag in lower case
 * ("sv-SE" -> "sv", "pt-BR" -> "pt"; "nb" and "nn" -> "no", Snowball's), or
 * "und" when tag is NULL or has no primary language subtag. Writes out
 * (FOLD_LANG_MAX bytes); returns 1 when Snowball has a stemmer for it, else 0
 * (its words are folded, not stemmed). */
int fold_lang(const char *tag, char out[FOLD_LANG_MAX]);
/* 1 when tags of more than one primary language fold to code ("no": nb, nn
 * and no), else 0: the index cannot tell them apart. */
int fold_lang_shared(const char *code);

/* Called for each word of a text: w (n bytes, not NUL-terminated, valid
 * during the call only) is its folded stem, pos its number in the text from 0
 * (words too long to index are counted but not given). alt (altn bytes; 0
 * when there is none) is the stem of the word stripped of its diacritics
 * first, when that differs ("alfabetización" in "es": w "alfabetiz", alt
 * "alfabetizacion"): the stem of the same word typed without them. */
typedef void (*fold_word_fn)(void *arg, const char *w, size_t n,
    const char *alt, size_t altn, size_t pos);

/* Splits text (UTF-8; NULL is empty) into words: runs of letters, marks and
 * digits. Each is case-folded, stemmed in lang (a fold_lang code) when stem is
 * set, then stripped of diacritics ("Malmö" -> "malmo", "läsningen" in "sv"
 * -> "lasning"). Words under FOLD_WORD_MIN characters or over FOLD_WORD_MAX
 * bytes folded are left out. Returns how many words were counted. Safe from
 * any thread (stemmers are kept per thread). */
size_t fold_words(const char *lang, const char *text, int stem, fold_word_fn fn,
    void *arg);

/* Folds one word (n bytes) as fold_words does, into out (FOLD_WORD_MAX + 1
 * bytes, NUL-terminated) and, when alt is not NULL, its alternative form into
 * alt (same size; "" when none). Returns the length of out, or 0 when it is
 * not a word that is indexed (too short or too long, or not one word). */
size_t fold_word(const char *lang, const char *w, size_t n, int stem,
    char out[FOLD_WORD_MAX + 1], char *alt);

/* Looks at the character at s (avail bytes, avail >= 1): *clen receives its
 * length in bytes (1 for a byte that is not UTF-8). Returns 1 for a character
 * of words (letter, mark, digit), else 0. */
int fold_char(const char *s, size_t avail, size_t *clen);

/* Folds without stemming (case and diacritics only): for prefix terms. */
size_t fold_plain(const char *w, size_t n, char out[FOLD_WORD_MAX + 1]);

#endif
