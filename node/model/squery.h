/* SPDX-License-Identifier: Apache-2.0 */
/* Search query syntax: words, prefixes (literac*), quoted phrases, OR, -word
 * and parentheses, parsed into a tree; the grammar is in README.md
 * ("Searching practices"). */
#ifndef LCF_SQUERY_H
#define LCF_SQUERY_H

#include <stddef.h>

#define SQUERY_MAX_TERMS 16      /* words, prefixes and phrases in a query */
#define SQUERY_MAX_PHRASE 8      /* words in a phrase */
#define SQUERY_MAX_LEN 1000      /* bytes of a query */
#define SQUERY_MAX_DEPTH 8       /* nested parentheses */
#define SQUERY_ERR_MAX 160

enum squery_op {
	SQUERY_WORD,                 /* words[0] */
	SQUERY_PREFIX,               /* words[0], unstemmed */
	SQUERY_PHRASE,               /* words[0..nwords), adjacent, in order */
	SQUERY_AND,                  /* every kid; NOT kids exclude */
	SQUERY_OR,                   /* any kid */
	SQUERY_NOT,                  /* kids[0] excluded (only under AND) */
};

struct squery_node {
	enum squery_op op;
	/* WORD, PREFIX, PHRASE: the words as typed (NUL-terminated); a phrase
	 * word too short to be indexed is "" and stands for any one word. */
	char *words[SQUERY_MAX_PHRASE];
	size_t nwords;
	struct squery_node **kids;   /* AND, OR, NOT */
	size_t nkids;
	size_t pos;                  /* character where it starts, from 1 */
	int leaf;                    /* out of squery_parse: leaf number, or -1 */
};

struct squery {
	struct squery_node *root;
	struct squery_node *leaves[SQUERY_MAX_TERMS];   /* WORD, PREFIX, PHRASE */
	size_t nleaves;
	int has_phrase;
};

/* Parses text into *out (free it with squery_free). On bad syntax returns
 * LCF_EINVAL and writes to err (errlen bytes) a sentence that names the
 * character, from 1: "unclosed quote at character 14". */
int squery_parse(const char *text, struct squery **out, char *err, size_t errlen);
/* Frees a parsed query; accepts NULL. */
void squery_free(struct squery *q);

#endif
