// SPDX-License-Identifier: Apache-2.0
// Semantic validation of a record's Content: the envelope, then the body of its kind.
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/catalog.h"
#include "base/addr.h"
#include "base/codes.h"
#include "base/error.h"
#include "model/identity.h"
#include "base/util.h"
#include "model/period.h"
#include "model/validate.h"

/* Text limits, counted in characters (Unicode code points). */
#define MAX_NAME	200	/* titles, names, organisations, list items */
#define MAX_SUMMARY	2000	/* DATA-MODEL.md: summary <= 2,000 */
#define MAX_LONG	20000	/* description, objectives, lessons, ... */
#define MAX_OTHER	500	/* any other free text (source, ...) */
#define MAX_UNIT	64
#define MAX_URL		2000
#define MAX_EMAIL	254	/* RFC 5321 path limit */
/* Limits counted in bytes. */
#define MAX_KEY_BYTES	200
#define MAX_ID_BYTES	64	/* indicator ids */
#define MAX_DISAGG	32	/* each disaggregation value; keeps keys <= 200 bytes */
#define MAX_QUOTE	60	/* how much of a bad value an error message repeats */
/* Other bounds. */
#define MAX_ITEMS	64	/* entries in any list field */
#define YEAR_MIN	1800
#define YEAR_MAX	2200
#define MAX_POPULATION	100000000ULL	/* above the largest city on Earth */
#define MAX_PARTICIPANTS 1000000000ULL
#define MAX_COST	1e15	/* room for currencies with large nominal units */
#define MAX_AREA_KM2	1e6

#define STR_(x)		#x
#define STR(x)		STR_(x)

/* check_text() flags. */
#define T_REQUIRED	0x1
#define T_MULTILINE	0x2	/* tab, line feed and carriage return allowed */

int
verr_set(struct verr *err, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
		err->msg[0] = '\0';
		if (fmt != NULL) {
			va_start(ap, fmt);
			vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
			va_end(ap);
		}
	}
	return LCF_EVALIDATE;
}

/* Appends s (n bytes) at buf[*o], keeping room for the NUL of a buf of len. */
static void
path_put(char *buf, size_t len, size_t *o, const char *s, size_t n)
{
	if (n > len - 1 - *o)
		n = len - 1 - *o;
	memcpy(buf + *o, s, n);
	*o += n;
}

const char *
verr_path(char *buf, size_t len, const char *base, const char *name, long idx)
{
	char num[24];
	size_t o = 0, d = sizeof(num);
	unsigned long v = idx < 0 ? 0 : (unsigned long)idx;

	if (base != NULL && base[0] != '\0') {
		path_put(buf, len, &o, base, strlen(base));
		path_put(buf, len, &o, ".", 1);
	}
	path_put(buf, len, &o, name, strlen(name));
	if (idx >= 0) {
		num[--d] = ']';
		do {
			num[--d] = (char)('0' + v % 10);
			v /= 10;
		} while (v > 0);
		num[--d] = '[';
		path_put(buf, len, &o, num + d, sizeof(num) - d);
	}
	buf[o] = '\0';
	return buf;
}

/*
 * Copies at most MAX_QUOTE bytes of s into buf (at least MAX_QUOTE + 4 bytes)
 * for quoting in a message, never cutting a UTF-8 sequence, and marks a cut with
 * "...". Only called on text that check_text() accepted, so the copy holds no
 * control characters.
 */
const char *
validate__quote(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);

	if (n <= MAX_QUOTE && n < len) {
		memcpy(buf, s, n + 1);
	} else {
		n = MAX_QUOTE < len - 4 ? MAX_QUOTE : len - 4;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		memcpy(buf, s, n);
		memcpy(buf + n, "...", 4);
	}
	return buf;
}

/*
 * Decodes one UTF-8 sequence at s. Returns its length and stores the code point,
 * or returns 0 for an invalid sequence: truncated, overlong, a surrogate or
 * beyond U+10FFFF.
 */
static size_t
utf8_next(const unsigned char *s, uint32_t *cp)
{
	uint32_t c = s[0], min = 0;
	size_t len = 0, i;

	if (c < 0x80) {
		len = 1;
	} else if ((c & 0xe0) == 0xc0) {
		len = 2;
		c &= 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3;
		c &= 0x0f;
		min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	}
	/* A NUL terminator fails the continuation test, so no read runs past it. */
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			len = 0;
			break;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (len > 1 && (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)))
		len = 0;
	*cp = c;
	return len;
}

static int
is_control(uint32_t cp, int multiline)
{
	if (multiline && (cp == '\t' || cp == '\n' || cp == '\r'))
		return 0;
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/*
 * Checks a string field: present when T_REQUIRED, valid UTF-8, no control
 * characters (line breaks and tabs only in T_MULTILINE text), at most max
 * characters. An empty optional string counts as absent. A C string cannot hold
 * NUL: a NUL inside a wire value ends the string as every later reader sees it.
 */
/* Whether any byte of w is below 0x20 or above 0x7e: b - 0x20 sets the top
 * bit of a byte that was clear only where b < 0x20, b + 1 where b == 0x7f,
 * and the top bit itself marks b >= 0x80 (borrows and carries only start at
 * a byte that is out of range itself, so they change no answer). */
static int
word_has_nonprintable(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL;

	return ((((w - ones * 0x20) & ~w) | (w + ones) | w) & (ones * 0x80)) != 0;
}

static int
check_text(const char *s, const char *field, size_t max, int flags, struct verr *err)
{
	const unsigned char *p = (const unsigned char *)s, *end;
	size_t chars = 0, len;
	uint64_t w;
	uint32_t cp;
	int ret = LCF_EVALIDATE;

	if (s == NULL || *s == '\0') {
		if (flags & T_REQUIRED)
			verr_set(err, field, "is required");
		else
			ret = 0;
		goto out;
	}
	end = p + strlen(s);
	while (*p != '\0') {
		/* Printable ASCII, most of any text, needs no decoding: eight
		 * bytes at a time while none is below 0x20 or above 0x7e. */
		if (end - p >= 8) {
			memcpy(&w, p, sizeof(w));
			if (!word_has_nonprintable(w)) {
				p += 8;
				chars += 8;
				continue;
			}
		}
		if (*p >= 0x20 && *p < 0x7f) {
			p++;
			chars++;
			continue;
		}
		len = utf8_next(p, &cp);
		if (len == 0) {
			verr_set(err, field, "is not valid UTF-8 (byte %zu)",
			    (size_t)(p - (const unsigned char *)s) + 1);
			goto out;
		}
		if (is_control(cp, flags & T_MULTILINE)) {
			verr_set(err, field,
			    "contains a control character (U+%04X) at character %zu%s",
			    (unsigned)cp, chars + 1, (flags & T_MULTILINE) ? "" :
			    "; line breaks and tabs are not allowed here");
			goto out;
		}
		p += len;
		chars++;
	}
	if (chars > max) {
		verr_set(err, field, "is too long: %zu characters (at most %zu)",
		    chars, max);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

static int
check_count(size_t n, const char *field, struct verr *err)
{
	int ret = 0;

	if (n > MAX_ITEMS)
		ret = verr_set(err, field, "has %zu entries (at most %d)", n, MAX_ITEMS);
	return ret;
}

/* Index of the first entry before i equal to v[i] (case-insensitively when
 * nocase), or -1. Lists are at most MAX_ITEMS long, so quadratic is fine. */
static long
earlier_dup(char *const *v, size_t i, int nocase)
{
	long found = -1;
	size_t j;

	for (j = 0; j < i && found < 0; j++)
		if (nocase ? strcasecmp(v[j], v[i]) == 0 : strcmp(v[j], v[i]) == 0)
			found = (long)j;
	return found;
}

static int
check_year(int has, uint32_t y, const char *field, struct verr *err)
{
	int ret = 0;

	if (has && (y < YEAR_MIN || y > YEAR_MAX))
		ret = verr_set(err, field, "%u is not a plausible year (%d..%d)",
		    (unsigned)y, YEAR_MIN, YEAR_MAX);
	return ret;
}

static int
check_finite(int has, double v, const char *field, struct verr *err)
{
	int ret = 0;

	if (has && !isfinite(v))
		ret = verr_set(err, field, "must be a finite number");
	return ret;
}

static int
check_enum(int has, int v, int max, const char *names, const char *field,
    struct verr *err)
{
	int ret = 0;

	if (has && (v < 1 || v > max))
		ret = verr_set(err, field, "unknown value %d (valid: %s)", v, names);
	return ret;
}

/* Upper-cases s into up (size len) when that makes a valid code, for a hint. */
static int
upper_hint(const char *s, char *up, size_t len, int (*valid)(const char *))
{
	size_t i, n = strlen(s);
	int hint = 0;

	if (n < len) {
		for (i = 0; i <= n; i++)
			up[i] = (s[i] >= 'a' && s[i] <= 'z') ?
			    (char)(s[i] - 'a' + 'A') : s[i];
		hint = strcmp(up, s) != 0 && valid(up);
	}
	return hint;
}

/* A code from a list (country, currency): what names the list in messages,
 * expected says what a valid code looks like. */
static int
check_code(const char *s, const char *field, int (*valid)(const char *),
    const char *what, const char *expected, struct verr *err)
{
	char q[MAX_QUOTE + 4], up[4];
	int ret = LCF_EVALIDATE;

	if (check_text(s, field, MAX_NAME, T_REQUIRED, err) < 0)
		goto out;
	if (!valid(s)) {
		if (upper_hint(s, up, sizeof(up), valid))
			verr_set(err, field, "%s codes are upper case: write '%s'",
			    what, up);
		else
			verr_set(err, field, "unknown %s '%s': expected %s", what,
			    validate__quote(s, q, sizeof(q)), expected);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

static int
check_language(const char *s, const char *field, struct verr *err)
{
	char q[MAX_QUOTE + 4];
	int ret = LCF_EVALIDATE;

	if (check_text(s, field, MAX_NAME, T_REQUIRED, err) < 0)
		goto out;
	if (!code_bcp47_valid(s)) {
		verr_set(err, field, "'%s' is not a BCP 47 language tag with an "
		    "ISO 639 language (examples: en, pt-BR, zh-Hant-TW, es-419)",
		    validate__quote(s, q, sizeof(q)));
		goto out;
	}
	ret = 0;
out:
	return ret;
}

/* Checks one entry of a list; field is its path ("practice.clusters[1]"). */
typedef int (*item_check)(const char *s, const char *field, struct verr *err);

static int
item_text(const char *s, const char *field, struct verr *err)
{
	return check_text(s, field, MAX_NAME, T_REQUIRED, err);
}

static int
item_subarea(const char *s, const char *field, struct verr *err)
{
	char q[MAX_QUOTE + 4];

	if (item_text(s, field, err) < 0)
		return LCF_EVALIDATE;
	if (!code_subarea_valid(s))
		return verr_set(err, field, "unknown sub-area '%s' (valid: %s)",
		    validate__quote(s, q, sizeof(q)), code_subarea_list());
	return 0;
}

static int
item_cluster(const char *s, const char *field, struct verr *err)
{
	char q[MAX_QUOTE + 4];

	if (item_text(s, field, err) < 0)
		return LCF_EVALIDATE;
	if (!code_cluster_valid(s))
		return verr_set(err, field, "unknown cluster '%s' (valid: %s)",
		    validate__quote(s, q, sizeof(q)), code_cluster_list());
	return 0;
}

/* A list of strings: a bounded count, each entry passing item, none twice
 * (compared without case when nocase). */
static int
check_list(char *const *v, size_t n, const char *base, const char *name,
    item_check item, int nocase, struct verr *err)
{
	char f[96], q[MAX_QUOTE + 4];
	size_t i;
	long j;
	int ret = LCF_EVALIDATE;

	if (n > MAX_ITEMS) {
		check_count(n, verr_path(f, sizeof(f), base, name, -1), err);
		goto out;
	}
	/* Item paths are only written out for a problem: the checks are run
	 * on every record of an import. */
	for (i = 0; i < n; i++) {
		if (item(v[i], "", err) < 0) {
			if (err != NULL)
				verr_path(err->field, sizeof(err->field), base, name,
				    (long)i);
			goto out;
		}
		if ((j = earlier_dup(v, i, nocase)) >= 0) {
			verr_set(err, verr_path(f, sizeof(f), base, name, (long)i),
			    "'%s' is listed twice (also at [%ld])",
			    validate__quote(v[i], q, sizeof(q)), j);
			goto out;
		}
	}
	ret = 0;
out:
	return ret;
}

/* A list of KFLC sub-area ids: each known, none twice, at least min entries. */
static int
check_subareas(char *const *v, size_t n, size_t min, const char *base,
    const char *name, struct verr *err)
{
	char f[96];

	if (n < min)
		return verr_set(err, verr_path(f, sizeof(f), base, name, -1),
		    "needs at least %zu sub-area id (valid: %s)", min,
		    code_subarea_list());
	return check_list(v, n, base, name, item_subarea, 0, err);
}

static int
is_host_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c >= 0x80;
}

/* Where the host of an http(s) URL ends, or NULL if it is malformed: a DNS name
 * (internationalised names allowed) or a bracketed IPv6 address. */
static const char *
url_host_end(const char *host)
{
	const char *p = host;

	if (*p == '[') {
		p++;
		while (*p != '\0' && strchr("0123456789abcdefABCDEF:.", *p) != NULL)
			p++;
		p = (*p == ']' && p > host + 1) ? p + 1 : NULL;
	} else {
		while (is_host_char((unsigned char)*p))
			p++;
		if (p == host || *host == '.' || *host == '-' || p[-1] == '-' ||
		    memmem(host, (size_t)(p - host), "..", 2) != NULL)
			p = NULL;
	}
	return p;
}

/*
 * An http(s) URL: scheme, "://", a host, an optional port, then an optional
 * path, query or fragment. No white space anywhere. Credentials in the
 * authority are refused: a public record must not carry them. Returns NULL or
 * what is wrong.
 */
static const char *
url_problem(const char *s)
{
	const char *p = NULL, *why = NULL;
	unsigned long port;
	char *end;

	if (strncasecmp(s, "http://", 7) == 0)
		p = s + 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		p = s + 8;
	if (p == NULL)
		why = "must start with http:// or https://";
	else if (strpbrk(s, " \t\r\n") != NULL)
		why = "must not contain spaces (write them as %20)";
	else if (memchr(p, '@', strcspn(p, "/?#")) != NULL)
		why = "must not contain a user name or password";
	else if ((p = url_host_end(p)) == NULL)
		why = "has no host name or a malformed one";
	else if (*p == ':') {
		port = (p[1] >= '0' && p[1] <= '9') ? strtoul(p + 1, &end, 10) : 0;
		if (port == 0 || port > 65535)
			why = "has a port outside 1..65535";
		else
			p = end;
	}
	if (why == NULL && *p != '\0' && *p != '/' && *p != '?' && *p != '#')
		why = "has a malformed host name or port";
	return why;
}

static int
check_url(const char *s, const char *field, struct verr *err)
{
	const char *why;
	int ret = LCF_EVALIDATE;

	if (check_text(s, field, MAX_URL, 0, err) < 0)
		goto out;
	if (s != NULL && *s != '\0' && (why = url_problem(s)) != NULL) {
		verr_set(err, field, "is not a web address: it %s", why);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

/* One '@' with text on both sides, no white space, and a domain with an inner
 * dot: enough to catch typing mistakes without rejecting real addresses. */
static int
check_email(const char *s, const char *field, struct verr *err)
{
	const char *at, *dot, *why = NULL;
	int ret = LCF_EVALIDATE;

	if (check_text(s, field, MAX_EMAIL, 0, err) < 0)
		goto out;
	if (s == NULL || *s == '\0') {
		ret = 0;
		goto out;
	}
	at = strchr(s, '@');
	dot = at != NULL ? strrchr(at, '.') : NULL;
	if (strpbrk(s, " \t") != NULL)
		why = "it contains a space";
	else if (at == NULL || strchr(at + 1, '@') != NULL)
		why = "it needs exactly one '@'";
	else if (at == s || at[1] == '\0')
		why = "text is needed before and after the '@'";
	else if (dot == NULL || dot == at + 1 || dot[1] == '\0' || at[1] == '.')
		why = "the domain after '@' needs a dot, as in example.org";
	if (why != NULL) {
		verr_set(err, field, "is not an e-mail address: %s", why);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

static int
check_contact(const Lcf__Contact *c, const char *base, struct verr *err)
{
	char f[96];
	int ret = 0;

	if (c != NULL &&
	    (check_text(c->name, verr_path(f, sizeof(f), base, "name", -1),
	    MAX_NAME, 0, err) < 0 ||
	    check_text(c->role, verr_path(f, sizeof(f), base, "role", -1),
	    MAX_NAME, 0, err) < 0 ||
	    check_email(c->email, verr_path(f, sizeof(f), base, "email", -1),
	    err) < 0))
		ret = LCF_EVALIDATE;
	return ret;
}

/* Parses exactly n decimal digits into *out; returns 1 on success. */
static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		v = v * 10 + (s[i] - '0');
	*out = v;
	return i == n;
}

static int
days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

static int
check_date(const char *s, const char *field, struct verr *err)
{
	char q[MAX_QUOTE + 4];
	int y, m, d, ret = LCF_EVALIDATE;

	if (check_text(s, field, MAX_NAME, 0, err) < 0)
		goto out;
	if (s == NULL || *s == '\0') {
		ret = 0;
		goto out;
	}
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) ||
	    !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d)) {
		verr_set(err, field, "'%s' is not a date written YYYY-MM-DD",
		    validate__quote(s, q, sizeof(q)));
		goto out;
	}
	if (y < YEAR_MIN || y > YEAR_MAX || m < 1 || m > 12 || d < 1 ||
	    d > days_in_month(y, m)) {
		verr_set(err, field, "'%s' is not a calendar date (years %d..%d)", s,
		    YEAR_MIN, YEAR_MAX);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

/* A reporting period (model/period.h). */
static int
check_period(const char *s, const char *field, struct verr *err)
{
	char q[MAX_QUOTE + 4];
	struct period p;
	const char *why;

	if (check_text(s, field, MAX_NAME, T_REQUIRED, err) < 0)
		return LCF_EVALIDATE;
	if (period_parse(s, &p, &why) != 0) {
		verr_set(err, field, "'%s' is not a period: %s",
		    validate__quote(s, q, sizeof(q)), why);
		return LCF_EVALIDATE;
	}
	return 0;
}

static int
is_id_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Indicator ids: 1..64 of [A-Za-z0-9._-]. */
static int
check_indicator_id(const char *s, const char *field, struct verr *err)
{
	char q[MAX_QUOTE + 4];
	size_t i = 0, len;
	int ret = LCF_EVALIDATE;

	if (check_text(s, field, MAX_NAME, T_REQUIRED, err) < 0)
		goto out;
	len = strlen(s);
	while (i < len && is_id_char((unsigned char)s[i]))
		i++;
	if (i < len || len > MAX_ID_BYTES) {
		verr_set(err, field, "'%s' is not an indicator id: use 1..%d "
		    "letters, digits, '.', '_' or '-'",
		    validate__quote(s, q, sizeof(q)), MAX_ID_BYTES);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

/* Appends the ids of sub-area area to msg; returns how many fitted. */
static size_t
suggest_area(const struct catalog *cat, const char *area, char *msg, size_t len)
{
	size_t used = strlen(msg), i, shown = 0;
	const char *cid;

	for (i = 0; i < cat->n; i++) {
		cid = cat->items[i]->id;
		if (strcmp(cat->items[i]->sub_area, area) != 0)
			continue;
		/* Room for this id, its separator and the closing ")". */
		if (used + strlen(cid) + 24 >= len)
			break;
		used += (size_t)snprintf(msg + used, len - used, "%s%s",
		    shown++ ? ", " : " (valid in sub-area: ", cid);
	}
	if (shown > 0)
		snprintf(msg + used, len - used, ")");
	return shown;
}

/*
 * Appends to msg the ids an author probably meant: those of the same sub-area
 * when the unknown id starts with a sub-area id, as the default catalog's ids
 * do, else the whole catalog, cut at an id boundary before msg is full.
 */
static void
suggest_ids(const struct catalog *cat, const char *id, char *msg, size_t len)
{
	char area[4] = "";
	char *all = NULL;
	size_t used = strlen(msg), room;

	if (strlen(id) > 3 && (id[3] == '-' || id[3] == '.')) {
		memcpy(area, id, 3);
		area[3] = '\0';
	}
	if (code_subarea_valid(area) && suggest_area(cat, area, msg, len) > 0)
		goto out;
	all = catalog_id_list(cat);
	if (all == NULL || used + 64 >= len)
		goto out;
	/* Leave room for the tail that says where the whole list is. */
	room = len - used - 64;
	if (strlen(all) <= room) {
		snprintf(msg + used, len - used, " (valid: %s)", all);
	} else {
		while (room > 0 && all[room] != ',')
			room--;
		snprintf(msg + used, len - used, " (valid: %.*s, ... %zu in all; "
		    "`lcctl catalog list` shows them)", (int)room, all, cat->n);
	}
out:
	free(all);
}

/* With VALIDATE_CATALOG: the indicator is in the catalog, and a unit, if given,
 * is the catalog's, so that values stay comparable across cities. */
static int
check_catalog_ref(const Lcf__IndicatorValue *v, const struct catalog *cat,
    struct verr *err)
{
	const Lcf__CatalogIndicator *ci;
	char q[MAX_QUOTE + 4];
	int ret = LCF_EVALIDATE;

	if (cat == NULL) {
		verr_set(err, "indicator.indicator", "no indicator catalog is loaded "
		    "to check '%s' against",
		    validate__quote(v->indicator, q, sizeof(q)));
		goto out;
	}
	if ((ci = catalog_find(cat, v->indicator)) == NULL) {
		verr_set(err, "indicator.indicator", "'%s' is not in the indicator "
		    "catalog", v->indicator);
		if (err != NULL)
			suggest_ids(cat, v->indicator, err->msg, sizeof(err->msg));
		goto out;
	}
	if (v->unit != NULL && *v->unit != '\0' && ci->unit != NULL &&
	    strcmp(v->unit, ci->unit) != 0) {
		verr_set(err, "indicator.unit", "'%s' differs from the catalog's unit "
		    "'%s' for %s; leave unit out or write it as the catalog does",
		    validate__quote(v->unit, q, sizeof(q)), ci->unit, ci->id);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

/* Each disaggregation value becomes part of the record key, so it is short and
 * holds none of the key's own separators. */
static int
check_disagg_value(const char *s, const char *field, struct verr *err)
{
	char q[MAX_QUOTE + 4];
	int ret = LCF_EVALIDATE;

	if (check_text(s, field, MAX_DISAGG, 0, err) < 0)
		goto out;
	if (s != NULL && strlen(s) > MAX_DISAGG) {
		verr_set(err, field, "is too long: %zu bytes (at most %d)", strlen(s),
		    MAX_DISAGG);
		goto out;
	}
	if (s != NULL && strpbrk(s, "/,=") != NULL) {
		verr_set(err, field, "'%s' must not contain '/', ',' or '='",
		    validate__quote(s, q, sizeof(q)));
		goto out;
	}
	ret = 0;
out:
	return ret;
}

static int
check_city(const Lcf__CityProfile *c, struct verr *err)
{
	int ret = LCF_EVALIDATE;

	if (check_text(c->name, "city.name", MAX_NAME, T_REQUIRED, err) < 0 ||
	    check_code(c->country, "city.country", code_country_valid, "country",
	    "an ISO 3166-1 alpha-2 code such as 'RO' or 'FI'", err) < 0 ||
	    check_text(c->region, "city.region", MAX_NAME, 0, err) < 0)
		goto out;
	if (c->has_population && (c->population < 1 || c->population > MAX_POPULATION)) {
		verr_set(err, "city.population", "%llu is not a plausible population "
		    "(1..%llu)", (unsigned long long)c->population, MAX_POPULATION);
		goto out;
	}
	if (check_year(c->has_population_year, c->population_year,
	    "city.population_year", err) < 0)
		goto out;
	if (c->has_area_km2 && (!isfinite(c->area_km2) || c->area_km2 <= 0 ||
	    c->area_km2 > MAX_AREA_KM2)) {
		verr_set(err, "city.area_km2", "must be above 0 and at most %.0f "
		    "square kilometres", MAX_AREA_KM2);
		goto out;
	}
	if (check_list(c->languages, c->n_languages, "city", "languages",
	    check_language, 1, err) < 0 ||
	    check_url(c->website, "city.website", err) < 0 ||
	    check_contact(c->contact, "city.contact", err) < 0)
		goto out;
	/* A point needs both coordinates; half of one cannot be placed on a map. */
	if (c->has_latitude != c->has_longitude) {
		verr_set(err, c->has_latitude ? "city.longitude" : "city.latitude",
		    "is required when %s is given",
		    c->has_latitude ? "latitude" : "longitude");
		goto out;
	}
	if (c->has_latitude && (!isfinite(c->latitude) || c->latitude < -90 ||
	    c->latitude > 90)) {
		verr_set(err, "city.latitude", "must be -90..90 degrees");
		goto out;
	}
	if (c->has_longitude && (!isfinite(c->longitude) || c->longitude < -180 ||
	    c->longitude > 180)) {
		verr_set(err, "city.longitude", "must be -180..180 degrees");
		goto out;
	}
	if (check_year(c->has_network_member_since, c->network_member_since,
	    "city.network_member_since", err) < 0 ||
	    check_subareas(c->challenges, c->n_challenges, 0, "city", "challenges",
	    err) < 0 ||
	    check_subareas(c->strengths, c->n_strengths, 0, "city", "strengths",
	    err) < 0)
		goto out;
	ret = 0;
out:
	return ret;
}

static int
check_translation(const Lcf__Practice *p, size_t i, struct verr *err)
{
	const Lcf__Translation *t = p->translations[i];
	char base[64], f[96], q[MAX_QUOTE + 4];
	size_t j;
	int ret = LCF_EVALIDATE;

	snprintf(base, sizeof(base), "practice.translations[%zu]", i);
	verr_path(f, sizeof(f), base, "language", -1);
	if (check_language(t->language, f, err) < 0)
		goto out;
	if (p->language != NULL && strcasecmp(t->language, p->language) == 0) {
		verr_set(err, f, "'%s' is the practice's own language; a translation "
		    "must be into another one",
		    validate__quote(t->language, q, sizeof(q)));
		goto out;
	}
	for (j = 0; j < i; j++) {
		if (strcasecmp(p->translations[j]->language, t->language) == 0) {
			verr_set(err, f, "a second translation into '%s' (also at "
			    "[%zu])", validate__quote(t->language, q, sizeof(q)), j);
			goto out;
		}
	}
	if (check_text(t->title, verr_path(f, sizeof(f), base, "title", -1), MAX_NAME,
	    T_REQUIRED, err) < 0 ||
	    check_text(t->summary, verr_path(f, sizeof(f), base, "summary", -1),
	    MAX_SUMMARY, T_MULTILINE, err) < 0)
		goto out;
	ret = 0;
out:
	return ret;
}

static int
check_sdgs(const Lcf__Practice *p, struct verr *err)
{
	char f[96];
	size_t i, j;
	int ret = LCF_EVALIDATE;

	if (check_count(p->n_sdgs, "practice.sdgs", err) < 0)
		goto out;
	for (i = 0; i < p->n_sdgs; i++) {
		verr_path(f, sizeof(f), "practice", "sdgs", (long)i);
		if (p->sdgs[i] < 1 || p->sdgs[i] > 17) {
			verr_set(err, f, "%u is not a Sustainable Development Goal "
			    "(1..17)", (unsigned)p->sdgs[i]);
			goto out;
		}
		for (j = 0; j < i; j++) {
			if (p->sdgs[j] == p->sdgs[i]) {
				verr_set(err, f, "SDG %u is listed twice (also at [%zu])",
				    (unsigned)p->sdgs[i], j);
				goto out;
			}
		}
	}
	ret = 0;
out:
	return ret;
}

/* Start and end years, participants, cost and currency. */
static int
check_practice_figures(const Lcf__Practice *p, struct verr *err)
{
	int ret = LCF_EVALIDATE;

	if (check_year(p->has_start_year, p->start_year, "practice.start_year",
	    err) < 0 ||
	    check_year(p->has_end_year, p->end_year, "practice.end_year", err) < 0)
		goto out;
	if (p->has_start_year && p->has_end_year && p->start_year > p->end_year) {
		verr_set(err, "practice.end_year", "%u is before start_year %u",
		    (unsigned)p->end_year, (unsigned)p->start_year);
		goto out;
	}
	if (p->has_participants_per_year && p->participants_per_year > MAX_PARTICIPANTS) {
		verr_set(err, "practice.participants_per_year", "%llu is not plausible "
		    "(at most %llu)", (unsigned long long)p->participants_per_year,
		    MAX_PARTICIPANTS);
		goto out;
	}
	if (p->has_annual_cost && (!isfinite(p->annual_cost) || p->annual_cost < 0 ||
	    p->annual_cost > MAX_COST)) {
		verr_set(err, "practice.annual_cost", "must be a number from 0 to %.0f",
		    MAX_COST);
		goto out;
	}
	if (p->has_annual_cost && (p->currency == NULL || *p->currency == '\0')) {
		verr_set(err, "practice.currency", "is required when annual_cost is "
		    "given (an ISO 4217 code such as EUR)");
		goto out;
	}
	if (p->currency != NULL && *p->currency != '\0' &&
	    check_code(p->currency, "practice.currency", code_currency_valid,
	    "currency", "an ISO 4217 code such as 'EUR' or 'USD'", err) < 0)
		goto out;
	ret = 0;
out:
	return ret;
}

static int
check_practice(const Lcf__Practice *p, struct verr *err)
{
	static const char *const long_names[] = {
		"description", "objectives", "implementation", "outcomes", "lessons",
	};
	const char *long_values[] = {
		p->description, p->objectives, p->implementation, p->outcomes,
		p->lessons,
	};
	char f[96], q[MAX_QUOTE + 4];
	size_t i;
	int ret = LCF_EVALIDATE;

	if (check_text(p->title, "practice.title", MAX_NAME, T_REQUIRED, err) < 0 ||
	    check_text(p->summary, "practice.summary", MAX_SUMMARY,
	    T_REQUIRED | T_MULTILINE, err) < 0 ||
	    check_language(p->language, "practice.language", err) < 0 ||
	    check_subareas(p->kflc_areas, p->n_kflc_areas, 1, "practice",
	    "kflc_areas", err) < 0)
		goto out;
	for (i = 0; i < sizeof(long_names) / sizeof(long_names[0]); i++)
		if (check_text(long_values[i], verr_path(f, sizeof(f), "practice",
		    long_names[i], -1), MAX_LONG, T_MULTILINE, err) < 0)
			goto out;
	if (check_list(p->clusters, p->n_clusters, "practice", "clusters",
	    item_cluster, 0, err) < 0 || check_sdgs(p, err) < 0 ||
	    check_list(p->target_groups, p->n_target_groups, "practice",
	    "target_groups", item_text, 0, err) < 0 ||
	    check_enum(p->has_setting, (int)p->setting, 3,
	    "formal non_formal informal", "practice.setting", err) < 0 ||
	    check_enum(p->has_status, (int)p->status, 3, "active ended archived",
	    "practice.status", err) < 0 ||
	    check_practice_figures(p, err) < 0 ||
	    check_text(p->organisation, "practice.organisation", MAX_NAME, 0, err) < 0 ||
	    check_list(p->partners, p->n_partners, "practice", "partners",
	    item_text, 0, err) < 0 ||
	    check_url(p->url, "practice.url", err) < 0 ||
	    check_text(p->licence, "practice.licence", MAX_UNIT, 0, err) < 0)
		goto out;
	if (p->licence != NULL && *p->licence != '\0' && !code_spdx_valid(p->licence)) {
		verr_set(err, "practice.licence", "'%s' is not an SPDX licence id "
		    "(examples: CC-BY-4.0, CC0-1.0, LicenseRef-city-terms)",
		    validate__quote(p->licence, q, sizeof(q)));
		goto out;
	}
	if (check_contact(p->contact, "practice.contact", err) < 0 ||
	    check_count(p->n_translations, "practice.translations", err) < 0)
		goto out;
	for (i = 0; i < p->n_translations; i++)
		if (check_translation(p, i, err) < 0)
			goto out;
	if (check_date(p->review_due, "practice.review_due", err) < 0)
		goto out;
	ret = 0;
out:
	return ret;
}

static int
check_indicator(const Lcf__IndicatorValue *v, const struct catalog *cat,
    unsigned flags, struct verr *err)
{
	const Lcf__Disaggregation *d = v->disaggregation;
	int ret = LCF_EVALIDATE;

	if (check_indicator_id(v->indicator, "indicator.indicator", err) < 0 ||
	    check_text(v->unit, "indicator.unit", MAX_UNIT, 0, err) < 0 ||
	    ((flags & VALIDATE_CATALOG) && check_catalog_ref(v, cat, err) < 0) ||
	    check_period(v->period, "indicator.period", err) < 0)
		goto out;
	if (!v->has_value) {
		verr_set(err, "indicator.value", "is required");
		goto out;
	}
	if (check_finite(1, v->value, "indicator.value", err) < 0 ||
	    check_finite(v->has_numerator, v->numerator, "indicator.numerator",
	    err) < 0 ||
	    check_finite(v->has_denominator, v->denominator, "indicator.denominator",
	    err) < 0 ||
	    check_finite(v->has_baseline, v->baseline, "indicator.baseline", err) < 0 ||
	    check_finite(v->has_target, v->target, "indicator.target", err) < 0)
		goto out;
	if (v->has_denominator && v->denominator == 0) {
		verr_set(err, "indicator.denominator", "must not be zero");
		goto out;
	}
	if (check_text(v->source, "indicator.source", MAX_OTHER, 0, err) < 0 ||
	    check_enum(v->has_geo_level, (int)v->geo_level, 3,
	    "city district national_proxy", "indicator.geo_level", err) < 0 ||
	    check_enum(v->has_status, (int)v->status, 3, "provisional final revised",
	    "indicator.status", err) < 0 ||
	    check_text(v->note, "indicator.note", MAX_SUMMARY, T_MULTILINE, err) < 0)
		goto out;
	if (d != NULL &&
	    (check_disagg_value(d->sex, "indicator.disaggregation.sex", err) < 0 ||
	    check_disagg_value(d->age_band, "indicator.disaggregation.age_band",
	    err) < 0 ||
	    check_disagg_value(d->group, "indicator.disaggregation.group", err) < 0))
		goto out;
	ret = 0;
out:
	return ret;
}

static int
check_catalog_entry(const Lcf__CatalogIndicator *ci, struct verr *err)
{
	char q[MAX_QUOTE + 4];
	int ret = LCF_EVALIDATE;

	if (check_indicator_id(ci->id, "catalog.id", err) < 0 ||
	    check_text(ci->sub_area, "catalog.sub_area", MAX_NAME, T_REQUIRED, err) < 0)
		goto out;
	if (!code_subarea_valid(ci->sub_area)) {
		verr_set(err, "catalog.sub_area", "unknown sub-area '%s' (valid: %s)",
		    validate__quote(ci->sub_area, q, sizeof(q)), code_subarea_list());
		goto out;
	}
	if (check_text(ci->name, "catalog.name", MAX_NAME, T_REQUIRED, err) < 0 ||
	    check_text(ci->unit, "catalog.unit", MAX_UNIT, T_REQUIRED, err) < 0 ||
	    check_text(ci->definition, "catalog.definition", MAX_SUMMARY,
	    T_REQUIRED | T_MULTILINE, err) < 0)
		goto out;
	ret = 0;
out:
	return ret;
}

/* key must be the 64 hex digits (lower case) of the 32-byte city id. */
static int
check_city_ref(const ProtobufCBinaryData *city, int has, const char *key,
    const char *field, struct verr *err)
{
	char hex[LCF_ID_HEX];
	int ret = LCF_EVALIDATE;

	if (!has || city->len != 32) {
		verr_set(err, field, "must be a 32-byte city id, got %zu bytes",
		    has ? city->len : (size_t)0);
		goto out;
	}
	hex_encode(city->data, 32, hex);
	if (key != NULL && *key != '\0' && strcmp(key, hex) != 0) {
		verr_set(err, "key", "must be the city id in lower-case hex (%s)", hex);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

static int
check_membership(const Lcf__Membership *m, const char *key, struct verr *err)
{
	char q[MAX_QUOTE + 4];
	int ret = LCF_EVALIDATE;

	if (check_city_ref(&m->city, m->has_city, key, "membership.city", err) < 0 ||
	    check_text(m->name, "membership.name", MAX_NAME, T_REQUIRED, err) < 0 ||
	    check_text(m->country, "membership.country", 2, T_REQUIRED, err) < 0)
		goto out;
	if (!code_country_valid(m->country)) {
		verr_set(err, "membership.country", "'%s' is not an ISO 3166-1 "
		    "alpha-2 code", validate__quote(m->country, q, sizeof(q)));
		goto out;
	}
	if ((m->has_admitted && m->admitted < 0) ||
	    (m->has_expires && m->expires < 0)) {
		verr_set(err, m->has_admitted && m->admitted < 0 ?
		    "membership.admitted" : "membership.expires",
		    "must be a Unix time in milliseconds");
		goto out;
	}
	if (m->has_expires && m->expires > 0 && m->has_admitted &&
	    m->expires <= m->admitted) {
		verr_set(err, "membership.expires", "must be later than admitted");
		goto out;
	}
	ret = 0;
out:
	return ret;
}

static int
check_revocation(const Lcf__Revocation *r, const char *key, struct verr *err)
{
	int ret = LCF_EVALIDATE;

	if (check_city_ref(&r->city, r->has_city, key, "revocation.city", err) < 0 ||
	    check_text(r->reason, "revocation.reason", MAX_OTHER,
	    T_REQUIRED | T_MULTILINE, err) < 0)
		goto out;
	if (r->has_effective && r->effective < 0) {
		verr_set(err, "revocation.effective",
		    "must be a Unix time in milliseconds");
		goto out;
	}
	ret = 0;
out:
	return ret;
}

#define MAX_ENDPOINTS 8

static int
item_address(const char *s, const char *field, struct verr *err)
{
	char host[256];
	uint16_t port;
	int ret = LCF_EVALIDATE;

	if (check_text(s, field, MAX_NAME, T_REQUIRED, err) < 0)
		goto out;
	if (addr_parse_hostport(s, host, sizeof(host), &port) != 0 || port == 0) {
		verr_set(err, field, "'%s' is not HOST:PORT", s);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

static int
check_endpoint(const Lcf__Endpoint *e, struct verr *err)
{
	int ret = LCF_EVALIDATE;

	if (e->n_addresses == 0) {
		verr_set(err, "endpoint.addresses", "needs at least one HOST:PORT");
		goto out;
	}
	if (e->n_addresses > MAX_ENDPOINTS) {
		verr_set(err, "endpoint.addresses", "has %zu addresses (at most %d)",
		    e->n_addresses, MAX_ENDPOINTS);
		goto out;
	}
	if (check_list(e->addresses, e->n_addresses, "endpoint", "addresses",
	    item_address, 0, err) < 0)
		goto out;
	ret = 0;
out:
	return ret;
}

/* The bytes the successor signs: the label, the old key, the new key. */
void
validate_succession_message(const uint8_t old_key[32], const uint8_t new_key[32],
    uint8_t out[SUCCESSION_MSG_LEN])
{
	memcpy(out, SUCCESSION_LABEL, SUCCESSION_LABEL_LEN);
	memcpy(out + SUCCESSION_LABEL_LEN, old_key, 32);
	memcpy(out + SUCCESSION_LABEL_LEN + 32, new_key, 32);
}

static int
check_succession(const Lcf__Succession *s, const Lcf__Content *c, unsigned flags,
    struct verr *err)
{
	uint8_t msg[SUCCESSION_MSG_LEN];
	int ret = LCF_EVALIDATE;

	if (!s->has_successor || s->successor.len != 32) {
		verr_set(err, "succession.successor", "must be a 32-byte city id");
		goto out;
	}
	if (!s->has_successor_signature || s->successor_signature.len != 64) {
		verr_set(err, "succession.successor_signature",
		    "must be a 64-byte Ed25519 signature");
		goto out;
	}
	/* A draft has no author yet: the node checks it once it fills it in. */
	if (flags & VALIDATE_DRAFT)
		goto ok;
	if (memcmp(s->successor.data, c->author.data, 32) == 0) {
		verr_set(err, "succession.successor", "is the author itself");
		goto out;
	}
	validate_succession_message(c->author.data, s->successor.data, msg);
	if (identity_verify(s->successor.data, msg, sizeof(msg),
	    s->successor_signature.data) != 0) {
		verr_set(err, "succession.successor_signature", "is not the "
		    "successor's signature of this hand-over");
		goto out;
	}
ok:
	ret = 0;
out:
	return ret;
}

int
validate_key(const char *key, struct verr *err)
{
	int ret = LCF_EVALIDATE;

	if (check_text(key, "key", MAX_KEY_BYTES, T_REQUIRED, err) < 0)
		goto out;
	if (strlen(key) > MAX_KEY_BYTES) {
		verr_set(err, "key", "is too long: %zu bytes (at most %d)",
		    strlen(key), MAX_KEY_BYTES);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

/*
 * Each kind's body validator, as the table of kinds (kinds.c) calls it: the
 * body, then the key where it follows from the body.
 */
int
validate_city(const Lcf__Content *c, const struct catalog *cat, unsigned flags,
    struct verr *err)
{
	(void)cat;
	(void)flags;
	return check_city(c->city, err);
}

int
validate_practice(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err)
{
	(void)cat;
	(void)flags;
	return check_practice(c->practice, err);
}

int
validate_indicator(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err)
{
	char want[MAX_KEY_BYTES + 64], q[MAX_QUOTE + 4];
	int ret = LCF_EVALIDATE;

	if (check_indicator(c->indicator, cat, flags, err) < 0)
		goto out;
	/* After the body, so a bad period is reported as such and not as a key
	 * mismatch. */
	validate_indicator_key(c->indicator, want, sizeof(want));
	if (c->key != NULL && *c->key != '\0' && strcmp(c->key, want) != 0) {
		verr_set(err, "key", "'%s' does not match the value: it must be '%s'",
		    validate__quote(c->key, q, sizeof(q)), want);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

int
validate_catalog(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err)
{
	char q[MAX_QUOTE + 4];
	int ret = LCF_EVALIDATE;

	(void)cat;
	(void)flags;
	if (check_catalog_entry(c->catalog, err) < 0)
		goto out;
	if (c->key != NULL && *c->key != '\0' && c->catalog->id != NULL &&
	    strcmp(c->key, c->catalog->id) != 0) {
		verr_set(err, "key", "must be the indicator id '%s'",
		    validate__quote(c->catalog->id, q, sizeof(q)));
		goto out;
	}
	ret = 0;
out:
	return ret;
}

int
validate_membership(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err)
{
	(void)cat;
	(void)flags;
	return check_membership(c->membership, c->key, err);
}

int
validate_revocation(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err)
{
	(void)cat;
	(void)flags;
	return check_revocation(c->revocation, c->key, err);
}

int
validate_endpoint(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err)
{
	(void)cat;
	(void)flags;
	return check_endpoint(c->endpoint, err);
}

int
validate_succession(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err)
{
	(void)cat;
	return check_succession(c->succession, c, flags, err);
}

/* A beacon's body (PROTOCOL 1.3.15): bounded so that the signed record stays
 * within 1 KiB. */
int
validate_beacon(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err)
{
	const Lcf__Beacon *b = c->beacon;
	unsigned prev = 0;
	size_t i, size;
	int ret = LCF_EVALIDATE;

	(void)cat;
	(void)flags;
	if (check_text(b->software, "software", VALIDATE_BEACON_SOFTWARE,
	    T_REQUIRED, err) < 0)
		goto out;
	if (!b->has_protocol || b->protocol < 2) {
		verr_set(err, "protocol", "required, 2 or more");
		goto out;
	}
	if (!b->has_started || b->started <= 0) {
		verr_set(err, "started", "required, a time after 1970 (Unix ms)");
		goto out;
	}
	if (!b->has_instance || b->instance.len != VALIDATE_BEACON_INSTANCE) {
		verr_set(err, "instance", "required, exactly %d bytes",
		    VALIDATE_BEACON_INSTANCE);
		goto out;
	}
	if (b->has_set_digest && b->set_digest.len != 16) {
		verr_set(err, "set_digest", "must be 16 bytes");
		goto out;
	}
	if (b->has_last_sync && b->last_sync < 0) {
		verr_set(err, "last_sync", "must be 0 or more");
		goto out;
	}
	for (i = 0; i < b->n_kinds; i++) {
		const Lcf__BeaconKindCount *k = b->kinds[i];

		if (!k->has_kind || k->kind < 1 || k->kind > 31 || k->kind <= prev) {
			verr_set(err, "kinds", "kinds[%zu]: a kind from 1 to 31, "
			    "ascending and once each", i);
			goto out;
		}
		prev = k->kind;
	}
	/* Canonical form is checked before, so this is the signed size. */
	size = lcf__content__get_packed_size(c);
	if (size > VALIDATE_BEACON_MAX_CONTENT) {
		verr_set(err, "", "a beacon's content is at most %d bytes, this "
		    "one %zu", VALIDATE_BEACON_MAX_CONTENT, size);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

/* Appends s to out (size max, used bytes *len), truncating at the end. */
static void
kappend(char *out, size_t max, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (*len + 1 >= max)
		return;
	if (n > max - 1 - *len)
		n = max - 1 - *len;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
}

static void
kappend_part(char *out, size_t max, size_t *len, const char *name,
    const char *value, int *first)
{
	if (value == NULL || *value == '\0')
		return;
	kappend(out, max, len, *first ? "/" : ",");
	kappend(out, max, len, name);
	kappend(out, max, len, "=");
	kappend(out, max, len, value);
	*first = 0;
}

void
validate_indicator_key(const Lcf__IndicatorValue *v, char *out, size_t max)
{
	const Lcf__Disaggregation *d;
	size_t len = 0;
	int first = 1;

	if (out == NULL || max == 0)
		return;
	out[0] = '\0';
	if (v == NULL)
		return;
	kappend(out, max, &len, v->indicator ? v->indicator : "");
	kappend(out, max, &len, "/");
	kappend(out, max, &len, v->period ? v->period : "");
	d = v->disaggregation;
	if (d != NULL) {
		kappend_part(out, max, &len, "sex", d->sex, &first);
		kappend_part(out, max, &len, "age_band", d->age_band, &first);
		kappend_part(out, max, &len, "group", d->group, &first);
	}
}
