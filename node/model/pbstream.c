// SPDX-License-Identifier: Apache-2.0
// JSON text -> protobuf-c message straight from yajl's parse events, by pbjson's rules.
//
// pbjson_decode walks a json_t that jansson built; for a large import that tree
// (and jansson's lexer, a function call per byte) costs more than the rest of
// lcctl together. Here yajl's callbacks fill the message as the text is read:
// a stack of frames follows the open objects (messages) and lists (repeated
// fields), and each scalar goes through pbjson_decode_scalar, so a value is
// taken, refused and described exactly as pbjson does it. What jansson checks
// while parsing (duplicate keys, "\u0000", integers that overflow) is checked
// here as the text is read, and like jansson's errors stops the parse. The
// first field problem does not: the rest of the text is still read, so that a
// syntax error later in it wins as it does with jansson, a bad record key wins
// as lcctl's take_key did, and a list found to be too long wins over a problem
// inside it. Paths are only built when there is a problem to report.
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "base/error.h"
#include "base/log.h"
#include "model/pbjson.h"
#include "model/pbstream.h"
#include "base/util.h"
#include "base/xmalloc.h"

/* pbjson's bounds: nesting of messages, items of one list, a dotted path. */
#define PBSTREAM_MAX_DEPTH	16
#define PBSTREAM_MAX_LIST	10000
#define PBSTREAM_PATH_MAX	256
/* A longer key names no field (the schema's names are short). */
#define PBSTREAM_KEY_MAX	128
/* A message and a list frame per level of nesting, and the record's. */
#define PBSTREAM_MAX_FRAMES	(2 * (PBSTREAM_MAX_DEPTH + 2))
/* Duplicate keys are caught by field index below this many fields. */
#define PBSTREAM_SEEN_FIELDS	256
/* Numbers are copied to be NUL-terminated; longer ones go to the heap. */
#define PBSTREAM_NUM_MAX	64

enum frame_kind {
	FRAME_MSG,       /* an object that is a message */
	FRAME_LIST,      /* a list that is a repeated field */
};

struct frame {
	enum frame_kind kind;
	const ProtobufCFieldDescriptor *f;  /* MSG: the current key's field
	                                       (NULL if unknown); LIST: its field */
	/* FRAME_MSG */
	const ProtobufCMessageDescriptor *d;
	ProtobufCMessage *m;
	int depth;                          /* 0 for the record itself */
	int is_key;                         /* the current key is the record key */
	int seen_key;
	uint64_t seen[PBSTREAM_SEEN_FIELDS / 64];
	/* FRAME_LIST */
	uint8_t *base;                      /* the message holding the field */
	size_t n;                           /* items begun */
	size_t cur;                         /* index of the current item */
	size_t cap;                         /* slots allocated */
};

/* Field problems by precedence (pbjson_decode checks a list's length before
 * its items; lcctl took the record key out before decoding the rest). */
enum failure {
	FAIL_NONE,
	FAIL_FIELD,
	FAIL_LIST,
	FAIL_KEY,
};

struct builder {
	const ProtobufCMessageDescriptor *d;
	const char *keyname;
	size_t keylen;
	struct frame frames[PBSTREAM_MAX_FRAMES];
	int nframes;
	size_t skip;               /* containers open inside a value not decoded */
	ProtobufCMessage *root;
	int done;                  /* the record's object has closed */
	size_t end;                /* then: the offset just after it */
	char *key;
	enum failure failed;       /* the first field problem, in err->verr */
	int syntax;                /* a problem that stopped the parse */
	struct pbstream_error *err;
	yajl_handle h;
	const char *text;
	size_t len;
};

/* Stands for the record itself when it is not an object. */
static const ProtobufCFieldDescriptor record_field = {
	.name = "",
	.type = PROTOBUF_C_TYPE_MESSAGE,
};

/* Copies the string src into dst (len bytes), cut short if need be. */
static void
copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int fail_syntax(struct builder *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records a problem that ends the parse, as jansson's would; returns 0 for
 * the callback to stop yajl. */
static int
fail_syntax(struct builder *b, const char *fmt, ...)
{
	va_list ap;

	b->syntax = 1;
	b->err->verr.field[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(b->err->verr.msg, sizeof(b->err->verr.msg), fmt, ap);
	va_end(ap);
	return 0;
}

/*
 * The dotted path of frames[0..upto]: each message frame adds its current
 * key's field (at upto, name instead when given: an unknown key), each list
 * frame below upto the index of its current item, and a list frame at upto
 * too when index_last is set.
 */
static void
path_of(const struct builder *b, int upto, const char *name, int index_last,
    char *out, size_t len)
{
	char tmp[PBSTREAM_PATH_MAX];
	const struct frame *fr;
	int i;

	out[0] = '\0';
	for (i = 0; i <= upto; i++) {
		fr = &b->frames[i];
		if (fr->kind == FRAME_MSG) {
			verr_path(tmp, sizeof(tmp), out, i == upto && name != NULL ?
			    name : fr->f != NULL ? fr->f->name : "", -1);
		} else if (i < upto || index_last) {
			verr_path(tmp, sizeof(tmp), NULL, out, (long)fr->cur);
		} else {
			continue;
		}
		copy_str(out, len, tmp);
	}
}

/* Records the first field problem (or one that takes precedence over it):
 * the message is already in err->verr.msg, its path is the value's. */
static void
fail_field(struct builder *b, enum failure kind, const char *path)
{
	b->failed = kind;
	copy_str(b->err->verr.field, sizeof(b->err->verr.field), path);
}

/* Path of the value now being read (the top frame's current key or item). */
static void
value_path(const struct builder *b, char *out, size_t len)
{
	path_of(b, b->nframes - 1, NULL, 1, out, len);
}

static struct frame *
push(struct builder *b, enum frame_kind kind)
{
	struct frame *fr = &b->frames[b->nframes++];

	memset(fr, 0, sizeof(*fr));
	fr->kind = kind;
	return fr;
}

/* The slot after the filled ones of repeated field f of the message at base,
 * growing its array (cap: slots allocated so far). */
static void *
next_slot(uint8_t *base, const ProtobufCFieldDescriptor *f, size_t *cap)
{
	size_t count = *(size_t *)(base + f->quantifier_offset);
	uint8_t **arr = (uint8_t **)(base + f->offset);
	size_t esz = pbjson_element_size(f->type);

	if (count == *cap) {
		*cap = *cap > 0 ? 2 * *cap : 4;
		*arr = xreallocarray(*arr, *cap, esz);
	}
	return *arr + count * esz;
}

/*
 * Puts value v of field f at dst. An object of a message field starts a new
 * message there (returns 1: a frame was pushed); a scalar is decoded (returns
 * 0). Anything else is a problem at the value's path (returns -1; a container
 * is then skipped).
 */
static int
put_value(struct builder *b, struct frame *parent, const ProtobufCFieldDescriptor *f,
    const struct pbjson_value *v, void *dst)
{
	const ProtobufCMessageDescriptor *sd;
	char path[PBSTREAM_PATH_MAX];
	ProtobufCMessage *sub;
	struct frame *fr;
	int depth = parent != NULL ? parent->depth + 1 : 0;

	if (v->type == PBJSON_OBJECT && f->type == PROTOBUF_C_TYPE_MESSAGE) {
		if (depth > PBSTREAM_MAX_DEPTH) {
			verr_set(&b->err->verr, "", "nested more than %d levels deep",
			    PBSTREAM_MAX_DEPTH);
			goto fail;
		}
		sd = f->descriptor;
		sub = xmalloc(sd->sizeof_message);
		protobuf_c_message_init(sd, sub);
		*(ProtobufCMessage **)dst = sub;
		fr = push(b, FRAME_MSG);
		fr->d = sd;
		fr->m = sub;
		fr->depth = depth;
		return 1;
	}
	/* An object or list where a scalar belongs is a type error too. */
	if (pbjson_decode_scalar(f, v, dst, "", &b->err->verr) == 0)
		return 0;
fail:
	value_path(b, path, sizeof(path));
	fail_field(b, FAIL_FIELD, path);
	if (v->type == PBJSON_OBJECT || v->type == PBJSON_LIST)
		b->skip = 1;
	return -1;
}

/* A value for the current key of message frame fr. */
static int
member_value(struct builder *b, struct frame *fr, const struct pbjson_value *v)
{
	const ProtobufCFieldDescriptor *f = fr->f, *other;
	uint8_t *base = (uint8_t *)fr->m;
	char path[PBSTREAM_PATH_MAX];
	struct frame *list;
	uint32_t *oneof_case;
	size_t cap = 0;
	int container = v->type == PBJSON_OBJECT || v->type == PBJSON_LIST, r;

	if (fr->is_key) {
		if (v->type == PBJSON_STRING) {
			if (b->failed == FAIL_NONE)
				b->key = xstrndup(v->str, v->len);
		} else if (b->failed != FAIL_KEY) {
			verr_set(&b->err->verr, "", "must be a string");
			fail_field(b, FAIL_KEY, b->keyname);
		}
		if (container)
			b->skip = 1;
		return 1;
	}
	if (b->failed != FAIL_NONE || f == NULL) {
		if (container)
			b->skip = 1;
		return 1;
	}
	if (v->type == PBJSON_NULL)
		return 1;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		if (v->type == PBJSON_LIST) {
			list = push(b, FRAME_LIST);
			list->f = f;
			list->base = base;
			return 1;
		}
		/* A single value stands for a one-item list. */
		r = put_value(b, fr, f, v, next_slot(base, f, &cap));
		if (r >= 0)
			(*(size_t *)(base + f->quantifier_offset))++;
		return 1;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		oneof_case = (uint32_t *)(base + f->quantifier_offset);
		if (*oneof_case != 0 && *oneof_case != f->id) {
			other = protobuf_c_message_descriptor_get_field(fr->d,
			    *oneof_case);
			verr_set(&b->err->verr, "", "cannot be set together with '%s'",
			    other != NULL ? other->name : "another field");
			value_path(b, path, sizeof(path));
			fail_field(b, FAIL_FIELD, path);
			if (container)
				b->skip = 1;
			return 1;
		}
		if (put_value(b, fr, f, v, base + f->offset) >= 0)
			*oneof_case = f->id;
		return 1;
	}
	if (put_value(b, fr, f, v, base + f->offset) >= 0 &&
	    f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		*(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
	return 1;
}

/* An item of the list frame fr. */
static int
list_item(struct builder *b, struct frame *fr, const struct pbjson_value *v)
{
	const ProtobufCFieldDescriptor *f = fr->f;
	char path[PBSTREAM_PATH_MAX];
	int container = v->type == PBJSON_OBJECT || v->type == PBJSON_LIST;
	struct frame *parent = &b->frames[b->nframes - 2];

	fr->cur = fr->n++;
	if (b->failed == FAIL_NONE && fr->cur == PBSTREAM_MAX_LIST) {
		/* Stands until the list ends and its length is known. */
		verr_set(&b->err->verr, "", "too many items");
		path_of(b, b->nframes - 2, NULL, 0, path, sizeof(path));
		fail_field(b, FAIL_LIST, path);
	}
	if (b->failed != FAIL_NONE) {
		if (container)
			b->skip = 1;
		return 1;
	}
	if (put_value(b, parent, f, v, next_slot(fr->base, f, &fr->cap)) >= 0)
		(*(size_t *)(fr->base + f->quantifier_offset))++;
	return 1;
}

/* A value begins: a scalar, or an object or list opening. */
static int
on_value(struct builder *b, const struct pbjson_value *v)
{
	struct frame *fr;

	if (b->skip > 0) {
		if (v->type == PBJSON_OBJECT || v->type == PBJSON_LIST)
			b->skip++;
		return 1;
	}
	if (b->nframes == 0) {
		/* Jansson takes only a container as a whole text. */
		if (v->type != PBJSON_OBJECT && v->type != PBJSON_LIST)
			return fail_syntax(b, "'[' or '{' expected");
		if (v->type == PBJSON_LIST) {
			pbjson_decode_scalar(&record_field, v, NULL, "", &b->err->verr);
			fail_field(b, FAIL_FIELD, "");
			b->skip = 1;
			return 1;
		}
		b->root = xmalloc(b->d->sizeof_message);
		protobuf_c_message_init(b->d, b->root);
		fr = push(b, FRAME_MSG);
		fr->d = b->d;
		fr->m = b->root;
		return 1;
	}
	fr = &b->frames[b->nframes - 1];
	if (fr->kind == FRAME_LIST)
		return list_item(b, fr, v);
	return member_value(b, fr, v);
}

static int
on_null(void *ctx)
{
	struct pbjson_value v = { .type = PBJSON_NULL };

	return on_value(ctx, &v);
}

static int
on_boolean(void *ctx, int value)
{
	struct pbjson_value v = { .type = value ? PBJSON_TRUE : PBJSON_FALSE };

	return on_value(ctx, &v);
}

/* Numbers arrive as text and are read as jansson reads them: without a
 * fraction or exponent an integer (strtoll, out of range is an error), else
 * a real (strtod, overflow is an error). */
static int
on_number(void *ctx, const char *s, size_t len)
{
	struct builder *b = ctx;
	struct pbjson_value v = { .type = PBJSON_INTEGER };
	char small[PBSTREAM_NUM_MAX], *buf = small, *end;
	int ret;

	if (len >= sizeof(small))
		buf = xmalloc(len + 1);
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	if (strpbrk(buf, ".eE") == NULL) {
		v.integer = strtoll(buf, &end, 10);
		if (errno == ERANGE) {
			ret = fail_syntax(b, "too big %sinteger",
			    v.integer < 0 ? "negative " : "");
			goto out;
		}
	} else {
		v.type = PBJSON_REAL;
		v.real = strtod(buf, &end);
		if (errno == ERANGE && isinf(v.real)) {
			ret = fail_syntax(b, "real number overflow");
			goto out;
		}
	}
	ret = on_value(b, &v);
out:
	if (buf != small)
		free(buf);
	return ret;
}

static int
hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	int i, c;

	for (i = 0; i < 4; i++) {
		if ((c = hex_digit((unsigned char)p[i])) < 0)
			return -1;
		v = v << 4 | (unsigned)c;
	}
	*out = v;
	return 0;
}

/* Whether yajl decoded escapes in s into a buffer of its own: a string
 * without them points into the text. Only then can it hold a NUL (the lexer
 * refuses raw control characters) or half a surrogate pair. */
static int
unescaped(const struct builder *b, const unsigned char *s)
{
	const char *p = (const char *)s;

	return p < b->text || p > b->text + b->len;
}

/*
 * yajl turns a "\u" escape of half a surrogate pair into '?' or into bytes
 * that are no UTF-8, where jansson refuses it. For a string with escapes
 * (unescaped()) yajl has read just past its closing quote, so the escapes
 * are looked up in the text: back to the opening quote
 * (the first one not escaped), then forward through every escape. Returns 0,
 * or -1 with the problem recorded as jansson words it.
 */
static int
check_escapes(struct builder *b)
{
	const char *t = b->text, *p, *end;
	size_t close = yajl_get_bytes_consumed(b->h), k;
	unsigned hi, lo;

	if (close == 0 || close > b->len || t[close - 1] != '"')
		return 0;
	for (p = t + close - 1; p > t; ) {
		p--;
		if (*p != '"')
			continue;
		for (k = 0; p - k > t && p[-(long)k - 1] == '\\'; k++)
			;
		if (k % 2 == 0)
			break;
	}
	end = t + close - 1;
	for (p++; p < end; p++) {
		if (*p != '\\')
			continue;
		p++;
		if (*p != 'u' || end - p < 5 || hex4(p + 1, &hi) != 0)
			continue;
		p += 4;
		if (hi >= 0xdc00 && hi <= 0xdfff) {
			fail_syntax(b, "invalid Unicode '\\u%04X'", hi);
			return -1;
		}
		if (hi < 0xd800 || hi > 0xdbff)
			continue;
		if (end - p < 7 || p[1] != '\\' || p[2] != 'u' ||
		    hex4(p + 3, &lo) != 0) {
			fail_syntax(b, "invalid Unicode '\\u%04X'", hi);
			return -1;
		}
		if (lo < 0xdc00 || lo > 0xdfff) {
			fail_syntax(b, "invalid Unicode '\\u%04X\\u%04X'", hi, lo);
			return -1;
		}
		p += 6;
	}
	return 0;
}

/*
 * yajl's own UTF-8 check lets overlong forms, surrogates and code points past
 * U+10FFFF through, which jansson refuses; it is turned off for this one,
 * which skips ASCII eight bytes at a time. Returns 0, or -1 with the problem
 * recorded as jansson words it.
 */
static int
check_utf8(struct builder *b, const unsigned char *s, size_t len)
{
	const uint64_t high = 0x8080808080808080ULL;
	size_t i = 0, k;
	uint64_t w;

	while (i < len) {
		if (len - i >= 8) {
			memcpy(&w, s + i, sizeof(w));
			if ((w & high) == 0) {
				i += 8;
				continue;
			}
		}
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = pbjson_utf8_len(s + i, len - i)) == 0) {
			fail_syntax(b, "unable to decode byte 0x%x", s[i]);
			return -1;
		}
		i += k;
	}
	return 0;
}

static int
on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct pbjson_value v = { .type = PBJSON_STRING };

	/* Escapes first: yajl made bytes of half a surrogate pair. */
	if (unescaped(ctx, s) && check_escapes(ctx) != 0)
		return 0;
	if (check_utf8(ctx, s, len) != 0)
		return 0;
	if (unescaped(ctx, s) && memchr(s, '\0', len) != NULL)
		return fail_syntax(ctx, "\\u0000 is not allowed");
	v.str = (const char *)s;
	v.len = len;
	return on_value(ctx, &v);
}

static int
on_start_map(void *ctx)
{
	struct pbjson_value v = { .type = PBJSON_OBJECT };

	return on_value(ctx, &v);
}

static int
on_start_array(void *ctx)
{
	struct pbjson_value v = { .type = PBJSON_LIST };

	return on_value(ctx, &v);
}

static int
on_map_key(void *ctx, const unsigned char *k, size_t len)
{
	struct builder *b = ctx;
	const ProtobufCFieldDescriptor *f = NULL;
	char name[PBSTREAM_KEY_MAX + 1], path[PBSTREAM_PATH_MAX], *full;
	struct frame *fr;
	size_t idx;

	/* Escapes first: yajl made bytes of half a surrogate pair. */
	if (unescaped(b, k) && check_escapes(b) != 0)
		return 0;
	if (check_utf8(b, k, len) != 0)
		return 0;
	if (unescaped(b, k) && memchr(k, '\0', len) != NULL)
		return fail_syntax(b, "\\u0000 is not allowed");
	if (b->skip > 0 || b->nframes == 0)
		return 1;
	fr = &b->frames[b->nframes - 1];
	fr->f = NULL;
	fr->is_key = 0;
	if (b->keyname != NULL && fr->depth == 0 && len == b->keylen &&
	    memcmp(k, b->keyname, len) == 0) {
		if (fr->seen_key)
			return fail_syntax(b, "duplicate object key '%s'", b->keyname);
		fr->seen_key = 1;
		fr->is_key = 1;
		return 1;
	}
	if (len <= PBSTREAM_KEY_MAX) {
		memcpy(name, k, len);
		name[len] = '\0';
		f = protobuf_c_message_descriptor_get_field_by_name(fr->d, name);
	}
	if (f != NULL) {
		idx = (size_t)(f - fr->d->fields);
		if (idx < PBSTREAM_SEEN_FIELDS) {
			if (fr->seen[idx / 64] & (1ull << (idx % 64)))
				return fail_syntax(b, "duplicate object key '%s'",
				    f->name);
			fr->seen[idx / 64] |= 1ull << (idx % 64);
		}
		fr->f = f;
		return 1;
	}
	if (b->failed == FAIL_NONE) {
		full = xstrndup((const char *)k, len);
		verr_set(&b->err->verr, "", "unknown field '%.64s'", full);
		path_of(b, b->nframes - 1, full, 0, path, sizeof(path));
		fail_field(b, FAIL_FIELD, path);
		free(full);
	}
	return 1;
}

static int
on_end_map(void *ctx)
{
	struct builder *b = ctx;

	if (b->skip > 0) {
		b->skip--;
		return 1;
	}
	if (b->nframes > 0 && --b->nframes == 0) {
		b->done = 1;
		b->end = yajl_get_bytes_consumed(b->h);
	}
	return 1;
}

static int
on_end_array(void *ctx)
{
	struct builder *b = ctx;
	char path[PBSTREAM_PATH_MAX];
	struct frame *fr;

	if (b->skip > 0) {
		b->skip--;
		return 1;
	}
	fr = &b->frames[b->nframes - 1];
	if (fr->n > PBSTREAM_MAX_LIST && b->failed != FAIL_KEY) {
		verr_set(&b->err->verr, "", "too many items: %zu (at most %d)", fr->n,
		    PBSTREAM_MAX_LIST);
		path_of(b, b->nframes - 2, NULL, 0, path, sizeof(path));
		fail_field(b, FAIL_LIST, path);
	}
	b->nframes--;
	return 1;
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_boolean,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = on_end_map,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end_array,
};

/* Line and column (1-based, in bytes) of the byte at off in text. */
static void
position(const char *text, size_t off, int *line, size_t *column)
{
	const char *p = text, *nl, *end = text + off;

	*line = 1;
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		(*line)++;
		p = nl + 1;
	}
	*column = (size_t)(end - p) + 1;
}

/* The offset of the first byte at or after off that is not JSON white
 * space, or len. */
static size_t
skip_space(const char *text, size_t off, size_t len)
{
	while (off < len && (text[off] == ' ' || text[off] == '\t' ||
	    text[off] == '\r' || text[off] == '\n'))
		off++;
	return off;
}

/* The offset of the first byte in text that yajl lets through between
 * tokens and jansson refuses anywhere (vertical tab, form feed), or len. */
static size_t
first_stray(const char *text, size_t len)
{
	static const char stray[] = { '\v', '\f' };
	const char *p;
	size_t i, first = len;

	for (i = 0; i < sizeof(stray); i++)
		if ((p = memchr(text, stray[i], first)) != NULL)
			first = (size_t)(p - text);
	return first;
}

/* yajl's message without its trailing line break. */
static void
yajl_message(yajl_handle h, char *out, size_t len)
{
	unsigned char *msg = yajl_get_error(h, 0, NULL, 0);
	size_t n;

	snprintf(out, len, "%s", msg != NULL ? (const char *)msg : "syntax error");
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	if (msg != NULL)
		yajl_free_error(h, msg);
}

int
pbstream_decode(const char *text, size_t len, const ProtobufCMessageDescriptor *d,
    const char *keyname, ProtobufCMessage **out, char **key,
    struct pbstream_error *err)
{
	struct builder *b = xcalloc(1, sizeof(*b));
	yajl_handle h = NULL;
	yajl_status st;
	size_t off, vt;
	int ret = LCF_EINVAL;

	*out = NULL;
	if (key != NULL)
		*key = NULL;
	memset(err, 0, sizeof(*err));
	b->d = d;
	b->keyname = keyname;
	b->keylen = keyname != NULL ? strlen(keyname) : 0;
	b->err = err;
	b->text = text;
	b->len = len;
	if ((h = yajl_alloc(&callbacks, NULL, b)) == NULL)
		fatalx("pbstream: out of memory");
	b->h = h;
	yajl_config(h, yajl_dont_validate_strings, 1);
	st = yajl_parse(h, (const unsigned char *)text, len);
	off = yajl_get_bytes_consumed(h);
	if (st == yajl_status_ok) {
		st = yajl_complete_parse(h);
		off = len;
	}
	/* yajl keeps an unfinished token after the value to itself, and its
	 * end-of-text check then lets it pass. */
	if (st == yajl_status_ok && b->done &&
	    (off = skip_space(text, b->end, len)) < len) {
		fail_syntax(b, "end of file expected");
		off++;
		st = yajl_status_client_canceled;
	}
	/* yajl takes vertical tab and form feed for white space; to jansson
	 * they are errors anywhere (raw control characters in strings too). */
	if ((vt = first_stray(text, len)) < len &&
	    (st == yajl_status_ok || (off > 0 ? off - 1 : 0) > vt)) {
		fail_syntax(b, "invalid character 0x%02x", (unsigned char)text[vt]);
		off = vt + 1;
		st = yajl_status_client_canceled;
	}
	if (st != yajl_status_ok) {
		if (st == yajl_status_error)
			yajl_message(h, err->verr.msg, sizeof(err->verr.msg));
		err->verr.field[0] = '\0';
		err->syntax = 1;
		/* yajl counts past the token it stopped at: point into it. */
		if (off > len)
			off = len;
		position(text, off > 0 ? off - 1 : 0, &err->line, &err->column);
		goto out;
	}
	if (b->failed != FAIL_NONE || !b->done) {
		if (b->failed == FAIL_NONE)
			verr_set(&err->verr, "", "expected an object");
		ret = LCF_EVALIDATE;
		goto out;
	}
	*out = b->root;
	b->root = NULL;
	if (key != NULL) {
		*key = b->key;
		b->key = NULL;
	}
	ret = 0;
out:
	if (h != NULL)
		yajl_free(h);
	if (b->root != NULL)
		protobuf_c_message_free_unpacked(b->root, NULL);
	free(b->key);
	free(b);
	return ret;
}
