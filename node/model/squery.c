// SPDX-License-Identifier: Apache-2.0
// Search query parser: a recursive descent over the grammar in README.md
// ("Searching practices"), with errors that name the character.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/xmalloc.h"
#include "model/fold.h"
#include "model/squery.h"

enum tok { T_END, T_WORD, T_PREFIX, T_QUOTE, T_LPAR, T_RPAR, T_MINUS, T_OR };

struct parser {
	const char *s;
	size_t len, i;                /* bytes */
	size_t chars;                 /* characters before i */
	enum tok t;                   /* the current token */
	size_t tpos;                  /* its character, from 1 */
	const char *tw;               /* T_WORD, T_PREFIX: its letters */
	size_t twn;
	int in_phrase, depth;
	struct squery *q;
	char *err;
	size_t errlen;
	int failed;
};

static void
fail(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = 1;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
}

static void
advance(struct parser *p, size_t n)
{
	size_t end = p->i + n;

	for (; p->i < end; p->i++)
		p->chars += ((unsigned char)p->s[p->i] & 0xc0) != 0x80;
}

static int
word_at(const struct parser *p, size_t at)
{
	size_t clen;

	return at < p->len && fold_char(p->s + at, p->len - at, &clen);
}

/* Reads the next token into p->t. */
static void
next(struct parser *p)
{
	size_t clen, start;
	char c;

	for (;;) {
		p->tpos = p->chars + 1;
		if (p->i >= p->len) {
			p->t = T_END;
			return;
		}
		c = p->s[p->i];
		if (fold_char(p->s + p->i, p->len - p->i, &clen))
			break;
		if (c == '"') {
			advance(p, 1);
			p->t = T_QUOTE;
			return;
		}
		if (!p->in_phrase && (c == '(' || c == ')')) {
			advance(p, 1);
			p->t = c == '(' ? T_LPAR : T_RPAR;
			return;
		}
		/* A minus starts an exclusion where a term starts; inside a
		 * word ("e-learning") it is a separator. */
		if (!p->in_phrase && c == '-' && (p->i == 0 ||
		    strchr(" \t\n(", p->s[p->i - 1]) != NULL) &&
		    (word_at(p, p->i + 1) || (p->i + 1 < p->len &&
		    strchr("\"(", p->s[p->i + 1]) != NULL))) {
			advance(p, 1);
			p->t = T_MINUS;
			return;
		}
		if (c == '*' && !p->in_phrase) {
			fail(p, "'*' must follow the letters of a prefix, as in "
			    "literac*, at character %zu", p->tpos);
			p->t = T_END;
			return;
		}
		advance(p, clen);
	}
	start = p->i;
	while (p->i < p->len && fold_char(p->s + p->i, p->len - p->i, &clen))
		advance(p, clen);
	p->tw = p->s + start;
	p->twn = p->i - start;
	p->t = T_WORD;
	if (p->i < p->len && p->s[p->i] == '*') {
		advance(p, 1);
		p->t = T_PREFIX;
	} else if (!p->in_phrase && p->twn == 2 && memcmp(p->tw, "OR", 2) == 0) {
		p->t = T_OR;
	}
}

static struct squery_node *
node_new(enum squery_op op, size_t pos)
{
	struct squery_node *n = xcalloc(1, sizeof(*n));

	n->op = op;
	n->pos = pos;
	n->leaf = -1;
	return n;
}

static void
node_free(struct squery_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nwords; i++)
		free(n->words[i]);
	for (i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n);
}

static void
kid_add(struct squery_node *n, struct squery_node *k)
{
	n->kids = xreallocarray(n->kids, n->nkids + 1, sizeof(*n->kids));
	n->kids[n->nkids++] = k;
}

static char *
dup_word(const char *w, size_t n)
{
	char *s = xmalloc(n + 1);

	memcpy(s, w, n);
	s[n] = '\0';
	return s;
}

/* Counts a leaf: at most SQUERY_MAX_TERMS. */
static struct squery_node *
leaf_add(struct parser *p, struct squery_node *n)
{
	if (p->q->nleaves == SQUERY_MAX_TERMS) {
		fail(p, "more than %d terms, at character %zu", SQUERY_MAX_TERMS,
		    n->pos);
		node_free(n);
		return NULL;
	}
	n->leaf = (int)p->q->nleaves;
	p->q->leaves[p->q->nleaves++] = n;
	if (n->op == SQUERY_PHRASE)
		p->q->has_phrase = 1;
	return n;
}

/* A word or a prefix; NULL when the word is too short to be indexed. */
static struct squery_node *
parse_word(struct parser *p)
{
	char f[FOLD_WORD_MAX + 1];
	struct squery_node *n;
	size_t flen = fold_plain(p->tw, p->twn, f);

	if (p->t == T_PREFIX && flen == 0) {
		fail(p, "a prefix needs at least %d letters before '*', at "
		    "character %zu", FOLD_WORD_MIN, p->tpos);
		return NULL;
	}
	if (flen == 0) {
		next(p);
		return NULL;
	}
	n = node_new(p->t == T_PREFIX ? SQUERY_PREFIX : SQUERY_WORD, p->tpos);
	n->words[n->nwords++] = dup_word(p->tw, p->twn);
	next(p);
	return leaf_add(p, n);
}

/* A quoted phrase (p->t is its opening quote). */
static struct squery_node *
parse_phrase(struct parser *p)
{
	char f[FOLD_WORD_MAX + 1];
	struct squery_node *n = node_new(SQUERY_PHRASE, p->tpos);
	size_t i, lead;

	p->in_phrase = 1;
	next(p);
	while (!p->failed && (p->t == T_WORD || p->t == T_PREFIX)) {
		if (n->nwords == SQUERY_MAX_PHRASE) {
			fail(p, "a phrase of more than %d words, at character %zu",
			    SQUERY_MAX_PHRASE, n->pos);
			break;
		}
		/* A word too short to be indexed holds its place. */
		n->words[n->nwords++] = fold_plain(p->tw, p->twn, f) == 0 ?
		    dup_word("", 0) : dup_word(p->tw, p->twn);
		next(p);
	}
	p->in_phrase = 0;
	if (!p->failed && p->t != T_QUOTE)
		fail(p, "unclosed quote at character %zu", n->pos);
	if (p->failed) {
		node_free(n);
		return NULL;
	}
	next(p);
	/* Places held at either end constrain nothing. */
	while (n->nwords > 0 && n->words[n->nwords - 1][0] == '\0')
		free(n->words[--n->nwords]);
	for (lead = 0; lead < n->nwords && n->words[lead][0] == '\0'; lead++)
		free(n->words[lead]);
	for (i = lead; i < n->nwords; i++)
		n->words[i - lead] = n->words[i];
	n->nwords -= lead;
	if (n->nwords == 0) {
		node_free(n);
		return NULL;
	}
	if (n->nwords == 1)
		n->op = SQUERY_WORD;
	return leaf_add(p, n);
}

static struct squery_node *parse_or(struct parser *p);

/* unary = [ "-" ] primary; primary = word | prefix | phrase | "(" or ")". */
static struct squery_node *
parse_unary(struct parser *p)
{
	struct squery_node *n = NULL, *k;
	size_t pos = p->tpos;

	switch (p->t) {
	case T_MINUS:
		next(p);
		if ((k = parse_unary(p)) == NULL)
			return NULL;
		n = node_new(SQUERY_NOT, pos);
		kid_add(n, k);
		return n;
	case T_WORD:
	case T_PREFIX:
		return parse_word(p);
	case T_QUOTE:
		return parse_phrase(p);
	case T_LPAR:
		if (++p->depth > SQUERY_MAX_DEPTH) {
			fail(p, "parentheses nested more than %d deep, at character "
			    "%zu", SQUERY_MAX_DEPTH, pos);
			return NULL;
		}
		next(p);
		if (p->t == T_RPAR) {
			fail(p, "empty parentheses at character %zu", pos);
			return NULL;
		}
		n = parse_or(p);
		if (!p->failed && p->t != T_RPAR)
			fail(p, "unclosed '(' at character %zu", pos);
		if (p->failed) {
			node_free(n);
			return NULL;
		}
		p->depth--;
		next(p);
		return n;
	default:
		fail(p, "a term was expected at character %zu", pos);
		return NULL;
	}
}

/* Ends a list node: NULL when it holds nothing, its kid when one. */
static struct squery_node *
collapse(struct squery_node *n)
{
	struct squery_node *k;

	if (n->nkids > 1)
		return n;
	k = n->nkids == 1 ? n->kids[0] : NULL;
	n->nkids = 0;
	node_free(n);
	return k;
}

/* and = unary { unary }: terms side by side must all match. */
static struct squery_node *
parse_and(struct parser *p)
{
	struct squery_node *n = node_new(SQUERY_AND, p->tpos), *k;
	size_t i, pos = p->tpos;
	int positive = 0, any = 0;

	while (!p->failed && p->t != T_END && p->t != T_OR && p->t != T_RPAR) {
		any = 1;
		if ((k = parse_unary(p)) != NULL)
			kid_add(n, k);
	}
	/* Nothing at all is said at the top (no word to search for). */
	if (!p->failed && !any && p->t != T_END)
		fail(p, p->t == T_RPAR ? "')' without '(' at character %zu" :
		    "OR needs a term on each side, at character %zu", p->tpos);
	for (i = 0; i < n->nkids; i++)
		positive |= n->kids[i]->op != SQUERY_NOT;
	if (!p->failed && n->nkids > 0 && !positive)
		fail(p, "an exclusion needs a term beside it to narrow, at "
		    "character %zu", pos);
	if (p->failed) {
		node_free(n);
		return NULL;
	}
	return collapse(n);
}

/* or = and { "OR" and }. */
static struct squery_node *
parse_or(struct parser *p)
{
	struct squery_node *n = node_new(SQUERY_OR, p->tpos), *k;

	for (;;) {
		k = parse_and(p);
		if (p->failed)
			break;
		if (k != NULL)
			kid_add(n, k);
		if (p->t != T_OR)
			break;
		next(p);
		if (p->t == T_END || p->t == T_RPAR || p->t == T_OR)
			fail(p, "OR needs a term on each side, at character %zu",
			    p->tpos);
	}
	if (p->failed) {
		node_free(n);
		return NULL;
	}
	return collapse(n);
}

int
squery_parse(const char *text, struct squery **out, char *err, size_t errlen)
{
	struct parser p;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.s = text != NULL ? text : "";
	p.len = strlen(p.s);
	p.err = err;
	p.errlen = errlen;
	p.q = xcalloc(1, sizeof(*p.q));
	if (p.len > SQUERY_MAX_LEN) {
		fail(&p, "longer than %d bytes", SQUERY_MAX_LEN);
		goto out;
	}
	next(&p);
	p.q->root = parse_or(&p);
	if (!p.failed && p.t == T_RPAR)
		fail(&p, "')' without '(' at character %zu", p.tpos);
	if (!p.failed && p.q->root == NULL)
		fail(&p, "no word of at least %d letters to search for",
		    FOLD_WORD_MIN);
out:
	if (p.failed) {
		squery_free(p.q);
		return LCF_EINVAL;
	}
	*out = p.q;
	return 0;
}

void
squery_free(struct squery *q)
{
	if (q == NULL)
		return;
	node_free(q->root);
	free(q);
}
