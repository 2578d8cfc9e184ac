// SPDX-License-Identifier: Apache-2.0
// JSON <-> protobuf-c messages by reflection over the runtime descriptors.
#include <ctype.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "model/kinds.h"
#include "model/pbjson.h"
#include "model/record.h"
#include "base/util.h"
#include "base/xmalloc.h"

/* Our schema is not recursive, but the code is generic, so nesting is bounded. */
#define PBJSON_MAX_DEPTH	16
/* One list holds at most this many items; CSV and import files stay far below. */
#define PBJSON_MAX_LIST		10000
/* Room for a dotted path; verr_set truncates to what struct verr holds. */
#define PBJSON_PATH_MAX		256
/* Numbers given as strings are at most this long (digits, sign, exponent). */
#define PBJSON_NUM_MAX		64
/* Room for an enum's upper-snake prefix; longer names are not stripped. */
#define PBJSON_PREFIX_MAX	128

static json_t *encode_message(const ProtobufCMessage *m, int depth);
static int decode_message(const json_t *obj, const ProtobufCMessageDescriptor *d,
    const char *path, int depth, ProtobufCMessage **out, struct verr *err);

/*
 * Jansson returns NULL only when it cannot allocate (callers check the other
 * failure causes first), which we treat like xmalloc does.
 */
static json_t *
jnew(json_t *j)
{
	if (j == NULL)
		fatalx("pbjson: out of memory");
	return j;
}

static void
jset(json_t *obj, const char *key, json_t *val)
{
	if (json_object_set_new(obj, key, jnew(val)) != 0)
		fatalx("pbjson: cannot set member '%s'", key);
}

static void
hex_lower(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

static json_t *
hex_json(const uint8_t *in, size_t len)
{
	json_t *j;
	char *buf;

	buf = xmalloc(2 * len + 1);
	hex_lower(in, len, buf);
	j = jnew(json_stringn(buf, 2 * len));
	free(buf);
	return j;
}

/* Large uint64 values do not fit json_int_t, so they travel as decimal strings. */
static json_t *
u64_json(uint64_t v)
{
	char buf[24];

	if (v <= (uint64_t)INT64_MAX)
		return jnew(json_integer((json_int_t)v));
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return jnew(json_string(buf));
}

size_t
pbjson_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len = 0, want, i;

	if (c < 0x80) {
		len = 1;
		goto out;
	}
	if (c >= 0xc2 && c <= 0xdf)
		want = 2;
	else if (c >= 0xe0 && c <= 0xef)
		want = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		want = 4;
	else
		goto out;
	if (n < want)
		goto out;
	/* The second byte's range excludes overlong forms, surrogates and > U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		goto out;
	for (i = 2; i < want; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			goto out;
	len = want;
out:
	return len;
}

/*
 * A string from the network is not checked for UTF-8 by protobuf-c; JSON must be
 * valid, so invalid bytes become U+FFFD rather than losing the whole field.
 */
static json_t *
string_json(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0, k;
	json_t *j;
	char *buf;

	if ((j = json_stringn(s, n)) != NULL)
		goto out;
	buf = xmalloc(3 * n + 1);
	while (i < n) {
		k = pbjson_utf8_len(p + i, n - i);
		if (k == 0) {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(buf + o, p + i, k);
			o += k;
			i += k;
		}
	}
	j = jnew(json_stringn(buf, o));
	free(buf);
out:
	return j;
}

/*
 * The JSON prefix of an enum is the upper-snake form of its short name plus '_'
 * (PracticeStatus -> PRACTICE_STATUS_), the protobuf style for value names.
 */
static void
enum_prefix(const ProtobufCEnumDescriptor *ed, char *out, size_t max)
{
	const char *s = ed->short_name;
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		int boundary = 0;

		if (i > 0 && isupper(c)) {
			unsigned char prev = (unsigned char)s[i - 1];
			unsigned char next = (unsigned char)s[i + 1];

			boundary = islower(prev) || isdigit(prev) ||
			    (isupper(prev) && islower(next));
		}
		/* Two bytes now plus '_' and NUL at the end must fit. */
		if (o + 3 >= max) {
			out[0] = '\0';
			goto out;
		}
		if (boundary)
			out[o++] = '_';
		out[o++] = (char)toupper(c);
	}
	out[o++] = '_';
	out[o] = '\0';
out:
	return;
}

/* Enums whose prefix was worked out last, per thread (a handful of enums is
 * decoded over and over in a large import). */
#define PBJSON_PREFIX_CACHE	8

/* enum_prefix(ed), kept for later calls in this thread. The result stays
 * valid until the thread's next call. */
static const char *
enum_prefix_cached(const ProtobufCEnumDescriptor *ed)
{
	static _Thread_local struct {
		const ProtobufCEnumDescriptor *ed;
		char prefix[PBJSON_PREFIX_MAX];
	} cache[PBJSON_PREFIX_CACHE];
	size_t slot = ((uintptr_t)ed >> 4) % PBJSON_PREFIX_CACHE;

	if (cache[slot].ed != ed) {
		enum_prefix(ed, cache[slot].prefix, sizeof(cache[slot].prefix));
		cache[slot].ed = ed;
	}
	return cache[slot].prefix;
}

/* The value's name without the enum prefix (upper case, points into v->name). */
static const char *
enum_short(const ProtobufCEnumValue *v, const char *prefix)
{
	size_t plen = strlen(prefix);
	int strip = plen > 0 && strncmp(v->name, prefix, plen) == 0 &&
	    v->name[plen] != '\0';

	return strip ? v->name + plen : v->name;
}

static json_t *
enum_json(const ProtobufCEnumDescriptor *ed, int value)
{
	const ProtobufCEnumValue *v;
	char prefix[PBJSON_PREFIX_MAX];
	const char *s;
	json_t *j;
	char *buf;
	size_t i, n;

	v = protobuf_c_enum_descriptor_get_value(ed, value);
	if (v == NULL)
		return jnew(json_integer(value));
	enum_prefix(ed, prefix, sizeof(prefix));
	s = enum_short(v, prefix);
	n = strlen(s);
	buf = xmalloc(n + 1);
	for (i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[n] = '\0';
	j = jnew(json_string(buf));
	free(buf);
	return j;
}

/* One element of field f stored at p. */
static json_t *
encode_value(const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
	const ProtobufCBinaryData *bd;
	const char *s;
	double d;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return jnew(json_integer(*(const int32_t *)p));
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return jnew(json_integer(*(const uint32_t *)p));
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return jnew(json_integer(*(const int64_t *)p));
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return u64_json(*(const uint64_t *)p);
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		d = f->type == PROTOBUF_C_TYPE_FLOAT ?
		    (double)*(const float *)p : *(const double *)p;
		/* JSON has no NaN or infinity; null reads back as unset. */
		if (!isfinite(d))
			return jnew(json_null());
		return jnew(json_real(d));
	case PROTOBUF_C_TYPE_BOOL:
		return jnew(json_boolean(*(const protobuf_c_boolean *)p));
	case PROTOBUF_C_TYPE_ENUM:
		return enum_json(f->descriptor, *(const int *)p);
	case PROTOBUF_C_TYPE_STRING:
		s = *(char *const *)p;
		return s != NULL ? string_json(s) : jnew(json_null());
	case PROTOBUF_C_TYPE_BYTES:
		bd = p;
		return hex_json(bd->data, bd->data != NULL ? bd->len : 0);
	case PROTOBUF_C_TYPE_MESSAGE:
		return encode_message(*(ProtobufCMessage *const *)p, depth + 1);
	}
	return jnew(json_null());
}

static int
value_is_zero(const ProtobufCFieldDescriptor *f, const void *p)
{
	const ProtobufCBinaryData *bd;
	const char *s;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return *(const uint32_t *)p == 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return *(const uint64_t *)p == 0;
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)p == 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)p == 0;
	case PROTOBUF_C_TYPE_BOOL:
		return *(const protobuf_c_boolean *)p == 0;
	case PROTOBUF_C_TYPE_ENUM:
		return *(const int *)p == 0;
	case PROTOBUF_C_TYPE_STRING:
		s = *(char *const *)p;
		return s == NULL || s[0] == '\0';
	case PROTOBUF_C_TYPE_BYTES:
		bd = p;
		return bd->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(ProtobufCMessage *const *)p == NULL;
	}
	return 1;
}

/* Whether a non-repeated field is set, by the same rules protobuf-c packs by. */
static int
field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const uint8_t *base = (const uint8_t *)m;
	const void *member = base + f->offset;
	int pointer = f->type == PROTOBUF_C_TYPE_STRING ||
	    f->type == PROTOBUF_C_TYPE_MESSAGE;

	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
			return 0;
		return !pointer || *(void *const *)member != NULL;
	}
	switch (f->label) {
	case PROTOBUF_C_LABEL_REQUIRED:
		return !pointer || *(void *const *)member != NULL;
	case PROTOBUF_C_LABEL_OPTIONAL:
		if (pointer)
			return *(void *const *)member != NULL &&
			    *(void *const *)member != f->default_value;
		return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
	case PROTOBUF_C_LABEL_NONE:
		return !value_is_zero(f, member);
	case PROTOBUF_C_LABEL_REPEATED:
		break;
	}
	return 0;
}

size_t
pbjson_element_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM:
		return sizeof(int);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

static json_t *
encode_message(const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d;
	json_t *obj, *list;
	size_t i, k, n, esz;

	if (m == NULL || depth > PBJSON_MAX_DEPTH)
		return jnew(json_null());
	d = m->descriptor;
	obj = jnew(json_object());
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const uint8_t *base = (const uint8_t *)m;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			const uint8_t *arr = *(const uint8_t *const *)(base + f->offset);

			n = *(const size_t *)(base + f->quantifier_offset);
			if (n == 0 || arr == NULL)
				continue;
			esz = pbjson_element_size(f->type);
			list = jnew(json_array());
			for (k = 0; k < n; k++)
				if (json_array_append_new(list,
				    encode_value(f, arr + k * esz, depth)) != 0)
					fatalx("pbjson: cannot append to a list");
			jset(obj, f->name, list);
		} else if (field_present(m, f)) {
			jset(obj, f->name, encode_value(f, base + f->offset, depth));
		}
	}
	return obj;
}

json_t *
pbjson_encode(const ProtobufCMessage *m)
{
	return encode_message(m, 0);
}


/* Points at the text of a JSON string without leading and trailing white space. */
static void
trimmed(const struct pbjson_value *v, const char **s, size_t *len)
{
	const char *p = v->str;
	size_t n = v->len;

	while (n > 0 && isspace((unsigned char)p[0])) {
		p++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	*s = p;
	*len = n;
}

/*
 * Parses a whole string as a finite decimal number. strtod alone would also take
 * "nan", "inf" and hexadecimal, which no CSV author means, so only digits, signs,
 * a point and an exponent are let through. Returns 0, or -1 if it is not one.
 */
static int
parse_real(const char *s, size_t len, double *out)
{
	char buf[PBJSON_NUM_MAX];
	char *end;
	double d;
	int ret = -1;

	if (len == 0 || len >= sizeof(buf) ||
	    strspn(s, "0123456789+-.eE") < len)
		goto out;
	memcpy(buf, s, len);
	buf[len] = '\0';
	d = strtod(buf, &end);
	if (end == buf || *end != '\0' || !isfinite(d))
		goto out;
	*out = d;
	ret = 0;
out:
	return ret;
}

/*
 * An integer as sign and magnitude, so one reader serves every width and both
 * signednesses; *big is set when the magnitude exceeds 64 bits.
 */
struct intval {
	int neg;
	int big;
	uint64_t mag;
};

static int
real_to_int(double d, struct intval *iv)
{
	int ret = -1;

	if (!isfinite(d) || d != trunc(d))
		goto out;
	iv->neg = d < 0;
	iv->big = fabs(d) >= 18446744073709551616.0;
	iv->mag = iv->big ? UINT64_MAX : (uint64_t)fabs(d);
	ret = 0;
out:
	return ret;
}

static int
string_to_int(const struct pbjson_value *v, struct intval *iv)
{
	const char *s;
	size_t len, i = 0;
	double d;
	int ret = -1;

	trimmed(v, &s, &len);
	memset(iv, 0, sizeof(*iv));
	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		iv->neg = s[0] == '-';
		i = 1;
	}
	if (i == len)
		goto out;
	for (; i < len && isdigit((unsigned char)s[i]); i++) {
		unsigned digit = (unsigned)(s[i] - '0');

		if (iv->mag > (UINT64_MAX - digit) / 10)
			iv->big = 1;
		else
			iv->mag = iv->mag * 10 + digit;
	}
	if (i == len) {
		ret = 0;
		goto out;
	}
	/* Spreadsheets write "2020.0" or "1e3"; take them when they are integral. */
	memset(iv, 0, sizeof(*iv));
	if (parse_real(s, len, &d) != 0)
		goto out;
	ret = real_to_int(d, iv);
out:
	return ret;
}

static void
describe(const struct pbjson_value *v, char *out, size_t max)
{
	const char *s;
	size_t len;

	switch (v->type) {
	case PBJSON_STRING:
		trimmed(v, &s, &len);
		snprintf(out, max, "'%.*s'", (int)(len > 40 ? 40 : len), s);
		break;
	case PBJSON_INTEGER:
		snprintf(out, max, "%lld", v->integer);
		break;
	case PBJSON_REAL:
		snprintf(out, max, "%.17g", v->real);
		break;
	case PBJSON_TRUE:
		snprintf(out, max, "true");
		break;
	case PBJSON_FALSE:
		snprintf(out, max, "false");
		break;
	case PBJSON_NULL:
		snprintf(out, max, "null");
		break;
	case PBJSON_LIST:
		snprintf(out, max, "a list");
		break;
	case PBJSON_OBJECT:
		snprintf(out, max, "an object");
		break;
	}
}

/* The decoders' view of a jansson value (containers only by their type). */
static void
value_of(const json_t *j, struct pbjson_value *v)
{
	memset(v, 0, sizeof(*v));
	switch (json_typeof(j)) {
	case JSON_STRING:
		v->type = PBJSON_STRING;
		v->str = json_string_value(j);
		v->len = json_string_length(j);
		break;
	case JSON_INTEGER:
		v->type = PBJSON_INTEGER;
		v->integer = json_integer_value(j);
		break;
	case JSON_REAL:
		v->type = PBJSON_REAL;
		v->real = json_real_value(j);
		break;
	case JSON_TRUE:
		v->type = PBJSON_TRUE;
		break;
	case JSON_FALSE:
		v->type = PBJSON_FALSE;
		break;
	case JSON_NULL:
		v->type = PBJSON_NULL;
		break;
	case JSON_ARRAY:
		v->type = PBJSON_LIST;
		break;
	case JSON_OBJECT:
		v->type = PBJSON_OBJECT;
		break;
	}
}

/* Reports "expected WHAT, got VALUE" at path; returns LCF_EVALIDATE. */
static int
type_error(const struct pbjson_value *v, const char *path, struct verr *err,
    const char *what)
{
	char shown[64];

	describe(v, shown, sizeof(shown));
	return verr_set(err, path, "expected %s, got %s", what, shown);
}

/*
 * Reads an integer field: JSON integer, integral JSON real, or a string holding
 * one, then checks it against the field type's range.
 */
static int
decode_int(const ProtobufCFieldDescriptor *f, const struct pbjson_value *v, void *dst,
    const char *path, struct verr *err)
{
	struct intval iv = { 0, 0, 0 };
	const char *tname;
	uint64_t negmax, posmax;
	char shown[64];
	int ret = -1, is_signed = 1;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		tname = "int32";
		negmax = (uint64_t)INT32_MAX + 1;
		posmax = INT32_MAX;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		tname = "uint32";
		is_signed = 0;
		negmax = 0;
		posmax = UINT32_MAX;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		tname = "int64";
		negmax = (uint64_t)INT64_MAX + 1;
		posmax = INT64_MAX;
		break;
	default:
		tname = "uint64";
		is_signed = 0;
		negmax = 0;
		posmax = UINT64_MAX;
		break;
	}
	if (v->type == PBJSON_INTEGER) {
		long long x = v->integer;

		iv.neg = x < 0;
		iv.mag = x < 0 ? (uint64_t)(-(x + 1)) + 1 : (uint64_t)x;
	} else if (v->type == PBJSON_REAL) {
		if (real_to_int(v->real, &iv) != 0) {
			ret = type_error(v, path, err, "an integer");
			goto out;
		}
	} else if (v->type == PBJSON_STRING) {
		if (string_to_int(v, &iv) != 0) {
			ret = type_error(v, path, err, "an integer");
			goto out;
		}
	} else {
		ret = type_error(v, path, err, "an integer");
		goto out;
	}
	if (iv.neg && iv.mag == 0)
		iv.neg = 0;
	if (!is_signed && iv.neg) {
		describe(v, shown, sizeof(shown));
		ret = verr_set(err, path, "must not be negative, got %s", shown);
		goto out;
	}
	if (iv.big || (iv.neg ? iv.mag > negmax : iv.mag > posmax)) {
		describe(v, shown, sizeof(shown));
		ret = verr_set(err, path, "out of range for %s, got %s", tname, shown);
		goto out;
	}
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*(int32_t *)dst = iv.neg ? (int32_t)(-(int64_t)(iv.mag - 1) - 1) :
		    (int32_t)iv.mag;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)dst = (uint32_t)iv.mag;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*(int64_t *)dst = iv.neg ? -(int64_t)(iv.mag - 1) - 1 :
		    (int64_t)iv.mag;
		break;
	default:
		*(uint64_t *)dst = iv.mag;
		break;
	}
	ret = 0;
out:
	return ret;
}

static int
decode_real(const ProtobufCFieldDescriptor *f, const struct pbjson_value *v, void *dst,
    const char *path, struct verr *err)
{
	const char *s;
	char shown[64];
	size_t len;
	double d = 0;
	int ret = -1;

	if (v->type == PBJSON_INTEGER) {
		d = (double)v->integer;
	} else if (v->type == PBJSON_REAL) {
		d = v->real;
	} else if (v->type == PBJSON_STRING) {
		/* parse_real refuses "nan", "inf" and overflow to infinity. */
		trimmed(v, &s, &len);
		if (parse_real(s, len, &d) != 0) {
			ret = type_error(v, path, err, "a finite number");
			goto out;
		}
	} else {
		ret = type_error(v, path, err, "a number");
		goto out;
	}
	if (!isfinite(d)) {
		ret = type_error(v, path, err, "a finite number");
		goto out;
	}
	if (f->type == PROTOBUF_C_TYPE_FLOAT) {
		if (fabs(d) > FLT_MAX) {
			describe(v, shown, sizeof(shown));
			ret = verr_set(err, path, "out of range for float, got %s",
			    shown);
			goto out;
		}
		*(float *)dst = (float)d;
	} else {
		*(double *)dst = d;
	}
	ret = 0;
out:
	return ret;
}

static int
decode_bool(const struct pbjson_value *v, void *dst, const char *path,
    struct verr *err)
{
	static const struct {
		const char *word;
		protobuf_c_boolean value;
	} words[] = {
		{ "true", 1 }, { "false", 0 }, { "1", 1 }, { "0", 0 },
		{ "yes", 1 }, { "no", 0 },
	};
	const char *s;
	size_t len, i;
	int ret = -1;

	if (v->type == PBJSON_TRUE || v->type == PBJSON_FALSE) {
		*(protobuf_c_boolean *)dst = v->type == PBJSON_TRUE;
		ret = 0;
		goto out;
	}
	if (v->type == PBJSON_STRING) {
		trimmed(v, &s, &len);
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			if (strlen(words[i].word) == len &&
			    strncasecmp(words[i].word, s, len) == 0) {
				*(protobuf_c_boolean *)dst = words[i].value;
				ret = 0;
				goto out;
			}
		}
	}
	ret = type_error(v, path, err, "a boolean");
out:
	return ret;
}

static int
enum_is_unspecified(const char *shortname)
{
	size_t n = strlen(shortname), k = strlen("UNSPECIFIED");

	return n >= k && strcmp(shortname + n - k, "UNSPECIFIED") == 0;
}

static int
decode_enum(const ProtobufCFieldDescriptor *f, const struct pbjson_value *v, void *dst,
    const char *path, struct verr *err)
{
	const ProtobufCEnumDescriptor *ed = f->descriptor;
	char valid[256], shown[64];
	const char *s, *name, *prefix;
	size_t len, i, o = 0;
	int ret = -1;

	if (v->type != PBJSON_STRING) {
		ret = type_error(v, path, err, "a string");
		goto out;
	}
	trimmed(v, &s, &len);
	prefix = enum_prefix_cached(ed);
	valid[0] = '\0';
	for (i = 0; i < ed->n_values; i++) {
		name = enum_short(&ed->values[i], prefix);
		if (enum_is_unspecified(name))
			continue;
		if (strlen(name) == len && strncasecmp(name, s, len) == 0) {
			*(int *)dst = ed->values[i].value;
			ret = 0;
			goto out;
		}
		/* The list of valid names is for the message; it may be cut short. */
		if (o < sizeof(valid)) {
			int w = snprintf(valid + o, sizeof(valid) - o, "%s%s",
			    o > 0 ? ", " : "", name);

			o += w > 0 ? (size_t)w : 0;
		}
	}
	for (i = 0; valid[i] != '\0'; i++)
		valid[i] = (char)tolower((unsigned char)valid[i]);
	describe(v, shown, sizeof(shown));
	ret = verr_set(err, path, "unknown value %s; valid: %s", shown, valid);
out:
	return ret;
}

static int
decode_string(const struct pbjson_value *v, void *dst, const char *path,
    struct verr *err)
{
	const char *s;
	size_t len;
	char *copy;
	int ret = -1;

	if (v->type != PBJSON_STRING) {
		ret = type_error(v, path, err, "a string");
		goto out;
	}
	s = v->str;
	len = v->len;
	/* Jansson checks UTF-8 but lets "\u0000" through, which a C string cannot hold. */
	if (memchr(s, '\0', len) != NULL) {
		ret = verr_set(err, path, "contains a NUL character");
		goto out;
	}
	/* A streaming parser's strings are not NUL-terminated. */
	copy = xmalloc(len + 1);
	memcpy(copy, s, len);
	copy[len] = '\0';
	*(char **)dst = copy;
	ret = 0;
out:
	return ret;
}

static int
decode_bytes(const struct pbjson_value *v, void *dst, const char *path,
    struct verr *err)
{
	ProtobufCBinaryData *bd = dst;
	const char *s;
	uint8_t *data = NULL;
	size_t len, i;
	int ret = -1, hi, lo;

	if (v->type != PBJSON_STRING) {
		ret = type_error(v, path, err, "a string of hex digits");
		goto out;
	}
	s = v->str;
	len = v->len;
	if (len % 2 != 0) {
		ret = verr_set(err, path,
		    "expected an even number of hex digits, got %zu", len);
		goto out;
	}
	if (len > 0)
		data = xmalloc(len / 2);
	for (i = 0; i < len / 2; i++) {
		hi = hex_digit((unsigned char)s[2 * i]);
		lo = hex_digit((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			ret = verr_set(err, path, "expected hex digits, found '%c'",
			    hi < 0 ? s[2 * i] : s[2 * i + 1]);
			goto out;
		}
		data[i] = (uint8_t)(hi << 4 | lo);
	}
	bd->data = data;
	bd->len = len / 2;
	data = NULL;
	ret = 0;
out:
	free(data);
	return ret;
}

int
pbjson_decode_scalar(const ProtobufCFieldDescriptor *f, const struct pbjson_value *v,
    void *dst, const char *path, struct verr *err)
{
	int ret = -1;

	switch (f->type) {
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		ret = decode_real(f, v, dst, path, err);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		ret = decode_bool(v, dst, path, err);
		break;
	case PROTOBUF_C_TYPE_ENUM:
		ret = decode_enum(f, v, dst, path, err);
		break;
	case PROTOBUF_C_TYPE_STRING:
		ret = decode_string(v, dst, path, err);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		ret = decode_bytes(v, dst, path, err);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		/* Only an object makes a message; the caller decodes those. */
		ret = type_error(v, path, err, "an object");
		break;
	default:
		ret = decode_int(f, v, dst, path, err);
		break;
	}
	return ret;
}

/*
 * Decodes one element of field f into dst. Writes dst only on success, so a
 * failure never leaves a half-built value for the caller to free.
 */
static int
decode_value(const ProtobufCFieldDescriptor *f, const json_t *v, void *dst,
    const char *path, int depth, struct verr *err)
{
	ProtobufCMessage *sub = NULL;
	struct pbjson_value sv;
	int ret = -1;

	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		ret = decode_message(v, f->descriptor, path, depth + 1, &sub, err);
		if (ret == 0)
			*(ProtobufCMessage **)dst = sub;
	} else {
		value_of(v, &sv);
		ret = pbjson_decode_scalar(f, &sv, dst, path, err);
	}
	return ret;
}

static int
decode_repeated(const ProtobufCFieldDescriptor *f, const json_t *v, uint8_t *base,
    const char *path, int depth, struct verr *err)
{
	size_t *count = (size_t *)(base + f->quantifier_offset);
	uint8_t **arr = (uint8_t **)(base + f->offset);
	char ipath[PBJSON_PATH_MAX + 24];	/* path plus "[index]" */
	size_t n, i, esz = pbjson_element_size(f->type);
	const json_t *item;
	int ret = -1, list = json_is_array(v);

	/* A single value stands for a one-item list (CSV cells, hand-written JSON). */
	n = list ? json_array_size(v) : 1;
	if (n > PBJSON_MAX_LIST) {
		ret = verr_set(err, path, "too many items: %zu (at most %d)", n,
		    PBJSON_MAX_LIST);
		goto out;
	}
	if (n == 0) {
		ret = 0;
		goto out;
	}
	/* The count only grows past filled slots, so the message frees cleanly. */
	*arr = xcalloc(n, esz);
	*count = 0;
	for (i = 0; i < n; i++) {
		item = list ? json_array_get(v, i) : v;
		if (list)
			verr_path(ipath, sizeof(ipath), NULL, path, (long)i);
		if (decode_value(f, item, *arr + i * esz, list ? ipath : path,
		    depth, err) != 0)
			goto out;
		(*count)++;
	}
	ret = 0;
out:
	return ret;
}

static int
decode_field(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f,
    const json_t *v, ProtobufCMessage *m, const char *path, int depth,
    struct verr *err)
{
	uint8_t *base = (uint8_t *)m;
	const ProtobufCFieldDescriptor *other;
	uint32_t *oneof_case;
	int ret = -1;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		ret = decode_repeated(f, v, base, path, depth, err);
		goto out;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		oneof_case = (uint32_t *)(base + f->quantifier_offset);
		if (*oneof_case != 0 && *oneof_case != f->id) {
			other = protobuf_c_message_descriptor_get_field(d, *oneof_case);
			ret = verr_set(err, path, "cannot be set together with '%s'",
			    other != NULL ? other->name : "another field");
			goto out;
		}
		if (decode_value(f, v, base + f->offset, path, depth, err) != 0)
			goto out;
		*oneof_case = f->id;
		ret = 0;
		goto out;
	}
	if (decode_value(f, v, base + f->offset, path, depth, err) != 0)
		goto out;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		*(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
	ret = 0;
out:
	return ret;
}

static int
decode_message(const json_t *obj, const ProtobufCMessageDescriptor *d,
    const char *path, int depth, ProtobufCMessage **out, struct verr *err)
{
	const ProtobufCFieldDescriptor *f;
	ProtobufCMessage *m = NULL;
	char fpath[PBJSON_PATH_MAX];
	struct pbjson_value sv;
	const char *key;
	json_t *val;
	int ret = -1;

	*out = NULL;
	if (depth > PBJSON_MAX_DEPTH) {
		ret = verr_set(err, path, "nested more than %d levels deep",
		    PBJSON_MAX_DEPTH);
		goto out;
	}
	if (!json_is_object(obj)) {
		value_of(obj, &sv);
		ret = type_error(&sv, path, err, "an object");
		goto out;
	}
	m = xmalloc(d->sizeof_message);
	protobuf_c_message_init(d, m);
	json_object_foreach((json_t *)obj, key, val) {
		verr_path(fpath, sizeof(fpath), path, key, -1);
		f = protobuf_c_message_descriptor_get_field_by_name(d, key);
		if (f == NULL) {
			ret = verr_set(err, fpath, "unknown field '%.64s'", key);
			goto out;
		}
		if (json_is_null(val))
			continue;
		if ((ret = decode_field(d, f, val, m, fpath, depth, err)) != 0)
			goto out;
	}
	*out = m;
	m = NULL;
	ret = 0;
out:
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
	return ret;
}

int
pbjson_decode(const json_t *obj, const ProtobufCMessageDescriptor *d,
    const char *prefix, ProtobufCMessage **out, struct verr *err)
{
	struct verr scratch;

	/* Callers that only want a yes or no may pass no verr. */
	if (err == NULL)
		err = &scratch;
	return decode_message(obj, d, prefix != NULL ? prefix : "", 0, out, err) == 0 ?
	    0 : LCF_EVALIDATE;
}

json_t *
pbjson_record(const uint8_t *id, const Lcf__Content *c, const char *city_name)
{
	const ProtobufCMessage *body = NULL;
	const char *body_name = NULL;
	json_t *r;

	body = record_body(c, &body_name);
	r = jnew(json_object());
	jset(r, "id", hex_json(id, 32));
	if (c->has_author)
		jset(r, "author", hex_json(c->author.data, c->author.len));
	/* "city_name", not "city": a city profile's body is named "city". */
	if (city_name != NULL)
		jset(r, "city_name", string_json(city_name));
	if (c->has_seq)
		jset(r, "seq", u64_json(c->seq));
	/* A kind this node does not know is shown by its number. */
	if (c->has_kind && kinds_by_kind(c->kind) != NULL)
		jset(r, "kind", json_string(kinds_name(c->kind)));
	else if (c->has_kind)
		jset(r, "kind", json_integer(c->kind));
	if (c->key != NULL)
		jset(r, "key", string_json(c->key));
	if (c->has_timestamp)
		jset(r, "timestamp", json_integer(c->timestamp));
	jset(r, "deleted", json_boolean(c->has_deleted && c->deleted));
	if (body != NULL)
		jset(r, body_name, encode_message(body, 0));
	return r;
}
