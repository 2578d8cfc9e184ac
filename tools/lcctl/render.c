// SPDX-License-Identifier: Apache-2.0
// lcctl's human output: aligned tables fitted to the terminal, field views, ids, dates, sizes.
#include <sys/ioctl.h>

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "base/codes.h"
#include "lcctl.h"
#include "model/pbjson.h"
#include "model/record.h"
#include "base/util.h"
#include "base/xmalloc.h"

#define ELLIPSIS "\xe2\x80\xa6"     /* U+2026, one column wide */
#define COL_GAP 2                   /* spaces between table columns */
#define COL_MIN 8                   /* a shortened column keeps this much */
#define LABEL_WIDTH 19              /* "Participants/year: " */
#define WRAP_DEFAULT 80             /* a terminal that does not say its width */
#define WRAP_MIN 24                 /* narrowest text column for wrapping */
#define MAX_WIDTH 1000              /* ignore absurd COLUMNS values */

struct table {
	const struct table_col *cols;
	size_t ncols;
	char **cells;                   /* nrows * ncols cleaned copies */
	unsigned char *hidden;          /* per column: left out when printed */
	size_t nrows, cap;
};

/* Decodes one UTF-8 sequence at s (n bytes left). Returns its length, or 0 for
 * an invalid sequence; *cp receives the code point. */
static size_t
utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len = 0, i;
	uint32_t c = 0;

	if (s[0] < 0x80) {
		len = 1;
		c = s[0];
	} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	}
	if (len > n)
		len = 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			len = 0;
		else
			c = c << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		len = 0;
	*cp = c;
	return len;
}

/* Columns a code point takes; 1 when the locale cannot tell (C locale). */
static int
cp_width(uint32_t cp)
{
	int w = 1;

	if (cp >= 0x80 && (w = wcwidth((wchar_t)cp)) < 0)
		w = 1;
	return w;
}

/* Display width of cleaned (valid UTF-8) text. */
static size_t
text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), w = 0, len;
	uint32_t cp;

	while (n > 0) {
		len = utf8_next(p, n, &cp);
		if (len == 0)
			len = 1;
		else
			w += (size_t)cp_width(cp);
		p += len;
		n -= len;
	}
	return w;
}

/* Bytes of s that fit in width columns. */
static size_t
fit_bytes(const char *s, size_t width)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), used = 0, w = 0, len, cw;
	uint32_t cp;

	while (used < n) {
		len = utf8_next(p + used, n - used, &cp);
		cw = len ? (size_t)cp_width(cp) : 1;
		if (len == 0)
			len = 1;
		if (w + cw > width)
			break;
		w += cw;
		used += len;
	}
	return used;
}

static char *
clean(const char *s, int keep_newlines)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0, len;
	char *out = xmalloc(n + 1);
	uint32_t cp;

	/* Every replacement is one byte for at least one byte: out fits. */
	while (i < n) {
		len = utf8_next(p + i, n - i, &cp);
		if (len == 0) {
			out[o++] = '?';
			i++;
		} else if (cp == '\n' && keep_newlines) {
			out[o++] = '\n';
			i++;
		} else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
			out[o++] = ' ';
			i += len;
		} else {
			memcpy(out + o, p + i, len);
			o += len;
			i += len;
		}
	}
	out[o] = '\0';
	return out;
}

char *
render_clean(const char *s)
{
	return clean(s ? s : "", 0);
}

int
render_width(void)
{
	struct winsize ws;
	const char *env;
	uint64_t v;
	int w = 0;

	if (!isatty(STDOUT_FILENO))
		goto out;
	env = getenv("COLUMNS");
	if (env != NULL && lcctl_parse_u64(env, MAX_WIDTH, &v) == 0 && v > 0)
		w = (int)v;
	else if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		w = ws.ws_col;
	else
		w = WRAP_DEFAULT;
out:
	return w;
}

struct table *
table_new(const struct table_col *cols, size_t ncols)
{
	struct table *t = xcalloc(1, sizeof(*t));

	t->cols = cols;
	t->ncols = ncols;
	t->hidden = xcalloc(ncols, 1);
	return t;
}

void
table_add(struct table *t, const char *const *cells)
{
	size_t i;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->cells = xreallocarray(t->cells, t->cap, t->ncols * sizeof(char *));
	}
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = render_clean(cells[i]);
	t->nrows++;
}

void
table_hide(struct table *t, size_t col)
{
	if (col < t->ncols)
		t->hidden[col] = 1;
}

size_t
table_rows(const struct table *t)
{
	return t->nrows;
}

static void
print_cell(FILE *out, const char *s, size_t width, unsigned flags, int last)
{
	size_t w = text_width(s), pad;

	if (w > width) {
		/* Leave one column for the ellipsis. */
		fwrite(s, 1, fit_bytes(s, width ? width - 1 : 0), out);
		if (width > 0)
			fputs(ELLIPSIS, out);
		w = width;
		pad = 0;
	} else {
		pad = width - w;
		if (flags & COL_RIGHT) {
			fprintf(out, "%*s", (int)pad, "");
			pad = 0;
		}
		fputs(s, out);
	}
	if (!last)
		fprintf(out, "%*s", (int)(pad + COL_GAP), "");
}

/* Shortens flexible columns, widest first, until the table fits. */
static void
fit(const struct table *t, size_t *w, size_t width)
{
	size_t i, total = 0, best = 0, minw, shown = 0;
	int found = 1;

	for (i = 0; i < t->ncols; i++) {
		if (t->hidden[i])
			continue;
		total += w[i] + (shown++ ? COL_GAP : 0);
	}
	while (total > width && found) {
		found = 0;
		for (i = 0; i < t->ncols; i++) {
			if (t->hidden[i] || !(t->cols[i].flags & COL_FLEX))
				continue;
			minw = text_width(t->cols[i].name);
			if (minw < COL_MIN)
				minw = COL_MIN;
			if (w[i] > minw && (!found || w[i] > w[best])) {
				best = i;
				found = 1;
			}
		}
		if (found) {
			w[best]--;
			total--;
		}
	}
}

static void
print_row(const struct table *t, FILE *out, const size_t *w, char *const *cells,
    int header)
{
	size_t i, last = 0;

	/* Trailing empty cells are not padded: no spaces at line ends. */
	for (i = 0; i < t->ncols; i++)
		if (!t->hidden[i] && (header || cells[i][0] != '\0'))
			last = i;
	for (i = 0; i <= last; i++) {
		if (t->hidden[i])
			continue;
		print_cell(out, header ? t->cols[i].name : cells[i], w[i],
		    t->cols[i].flags, i == last);
	}
	fputc('\n', out);
}

void
table_print(const struct table *t, FILE *out)
{
	size_t *w = xcalloc(t->ncols, sizeof(*w));
	size_t i, r, cw;
	int width = out == stdout ? render_width() : 0;

	for (i = 0; i < t->ncols; i++)
		w[i] = text_width(t->cols[i].name);
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			cw = text_width(t->cells[r * t->ncols + i]);
			if (cw > w[i])
				w[i] = cw;
		}
	}
	if (width > 0)
		fit(t, w, (size_t)width);
	print_row(t, out, w, NULL, 1);
	for (r = 0; r < t->nrows; r++)
		print_row(t, out, w, t->cells + r * t->ncols, 0);
	free(w);
}

void
table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->hidden);
	free(t);
}

char *
render_short_id(const uint8_t *id, size_t len, char *out)
{
	char hex[LCF_ID_HEX];

	if (id == NULL || len != LCF_ID_LEN) {
		snprintf(out, 13, "?");
	} else {
		hex_encode(id, len, hex);
		snprintf(out, 13, "%.12s", hex);
	}
	return out;
}

char *
render_id(const uint8_t *id, size_t len, char *out)
{
	if (id == NULL || len != LCF_ID_LEN)
		snprintf(out, LCF_ID_HEX, "?");
	else
		hex_encode(id, len, out);
	return out;
}

static char *
format_utc(int64_t ms, int with_time, char *out, size_t max)
{
	time_t secs;
	struct tm tm;

	/* Floor division, so that times before 1970 stay on their day. */
	secs = (time_t)(ms / 1000 - (ms % 1000 < 0));
	if (gmtime_r(&secs, &tm) == NULL || strftime(out, max,
	    with_time ? "%Y-%m-%d %H:%M UTC" : "%Y-%m-%d", &tm) == 0)
		snprintf(out, max, "?");
	return out;
}

char *
render_date(int64_t ms, char *out, size_t max)
{
	return format_utc(ms, 0, out, max);
}

char *
render_time(int64_t ms, char *out, size_t max)
{
	return format_utc(ms, 1, out, max);
}

char *
render_duration(uint64_t ms, char *out, size_t max)
{
	uint64_t s = ms / 1000;

	if (s >= 86400)
		snprintf(out, max, "%" PRIu64 "d %" PRIu64 "h", s / 86400,
		    s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(out, max, "%" PRIu64 "h %" PRIu64 "m", s / 3600,
		    s % 3600 / 60);
	else if (s >= 60)
		snprintf(out, max, "%" PRIu64 "m %" PRIu64 "s", s / 60, s % 60);
	else
		snprintf(out, max, "%" PRIu64 "s", s);
	return out;
}

char *
render_size(uint64_t bytes, char *out, size_t max)
{
	if (bytes >= (1ull << 40))
		snprintf(out, max, "%.1f TiB", (double)bytes / (double)(1ull << 40));
	else if (bytes >= (1ull << 30))
		snprintf(out, max, "%.1f GiB", (double)bytes / (double)(1ull << 30));
	else
		snprintf(out, max, "%.1f MiB", (double)bytes / (double)(1ull << 20));
	return out;
}

/* Writes one paragraph wrapped to width columns; continuation lines are
 * indented by indent. *col is the current column. */
static void
wrap_paragraph(FILE *out, const char *p, size_t len, size_t width, size_t indent,
    size_t *col)
{
	size_t i = 0, start, wlen, ww;
	char *word;

	while (i < len) {
		while (i < len && p[i] == ' ')
			i++;
		start = i;
		while (i < len && p[i] != ' ')
			i++;
		if ((wlen = i - start) == 0)
			break;
		word = xmalloc(wlen + 1);
		memcpy(word, p + start, wlen);
		word[wlen] = '\0';
		ww = text_width(word);
		/* A word longer than the line gets a line of its own. */
		if (*col > indent && *col + 1 + ww > indent + width) {
			fprintf(out, "\n%*s", (int)indent, "");
			*col = indent;
		}
		if (*col > indent) {
			fputc(' ', out);
			(*col)++;
		}
		fputs(word, out);
		*col += ww;
		free(word);
	}
}

void
render_field(FILE *out, const char *label, const char *value)
{
	char *text = clean(value ? value : "", 1), *lab = render_clean(label);
	size_t width, col, lw;
	const char *p, *nl;
	int w = render_width();

	/* Wrapped only for a person at a terminal: piped output keeps each
	 * paragraph on one line for grep and friends. */
	width = w <= 0 ? SIZE_MAX / 2 : (size_t)w > LABEL_WIDTH + WRAP_MIN ?
	    (size_t)w - LABEL_WIDTH : WRAP_MIN;
	lw = text_width(lab) + 1;
	fprintf(out, "%s:%*s", lab, lw < LABEL_WIDTH ? (int)(LABEL_WIDTH - lw) : 1, "");
	col = LABEL_WIDTH;
	for (p = text; ; p = nl + 1) {
		nl = strchr(p, '\n');
		if (p != text) {
			fprintf(out, "\n%*s", LABEL_WIDTH, "");
			col = LABEL_WIDTH;
		}
		wrap_paragraph(out, p, nl ? (size_t)(nl - p) : strlen(p), width,
		    LABEL_WIDTH, &col);
		if (nl == NULL)
			break;
	}
	fputc('\n', out);
	free(lab);
	free(text);
}

static const struct {
	const char *name;
	const char *label;
} labels[] = {
	{ "kflc_areas", "Sub-areas" },
	{ "sdgs", "SDGs" },
	{ "participants_per_year", "Participants/year" },
	{ "url", "URL" },
	{ "area_km2", "Area (km2)" },
	{ "network_member_since", "Member since" },
	{ "geo_level", "Geographic level" },
	{ "review_due", "Review due" },
};

static void
label_of(const char *name, char *out, size_t max)
{
	const char *label = NULL;
	size_t i;

	for (i = 0; i < sizeof(labels) / sizeof(labels[0]) && label == NULL; i++)
		if (strcmp(labels[i].name, name) == 0)
			label = labels[i].label;
	snprintf(out, max, "%s", label ? label : name);
	if (label == NULL) {
		/* "population_year" reads "Population year". */
		for (i = 0; out[i] != '\0'; i++)
			if (out[i] == '_')
				out[i] = ' ';
		if (out[0] >= 'a' && out[0] <= 'z')
			out[0] = (char)(out[0] - 'a' + 'A');
	}
}

/* Lists of sub-area ids read better with the sub-area names. */
static int
is_subarea_list(const char *name)
{
	return strcmp(name, "kflc_areas") == 0 || strcmp(name, "challenges") == 0 ||
	    strcmp(name, "strengths") == 0;
}

/* acc + sep + s, or a copy of s when acc is NULL; frees acc. */
static char *
append(char *acc, const char *sep, const char *s)
{
	char *r = acc ? xasprintf("%s%s%s", acc, sep, s) : xstrdup(s);

	free(acc);
	return r;
}

static char *
value_text(const char *name, const json_t *v)
{
	const char *k, *sep, *sub;
	char *acc = NULL, *s, *item;
	json_t *m;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_STRING:
		acc = xstrdup(json_string_value(v));
		break;
	case JSON_INTEGER:
		acc = xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		acc = xasprintf("%.15g", json_real_value(v));
		break;
	case JSON_TRUE:
		acc = xstrdup("yes");
		break;
	case JSON_FALSE:
		acc = xstrdup("no");
		break;
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, k, m) {
			s = value_text(k, m);
			item = xasprintf("%s: %s", k, s);
			acc = append(acc, "; ", item);
			free(item);
			free(s);
		}
		break;
	case JSON_ARRAY:
		/* Objects and sub-areas one per line, plain lists inline. */
		sep = is_subarea_list(name) ? "\n" : ", ";
		json_array_foreach(v, i, m) {
			if (json_is_object(m))
				sep = "\n";
			s = value_text(name, m);
			if (is_subarea_list(name) && json_is_string(m) &&
			    (sub = code_subarea_name(json_string_value(m))) != NULL) {
				item = xasprintf("%s %s", s, sub);
				free(s);
				s = item;
			}
			acc = append(acc, sep, s);
			free(s);
		}
		break;
	default:
		break;
	}
	return acc ? acc : xstrdup("");
}

void
render_body(FILE *out, const json_t *body)
{
	char label[64], *text;
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)body, k, v) {
		label_of(k, label, sizeof(label));
		text = value_text(k, v);
		render_field(out, label, text);
		free(text);
	}
}

void
render_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
}

json_t *
render_body_json(const Lcf__Content *c)
{
	const ProtobufCMessage *body = record_body(c, NULL);

	return body != NULL ? pbjson_encode(body) : NULL;
}

void
render_record(FILE *out, const Lcf__RecordItem *it, const Lcf__Content *c)
{
	char hex[LCF_ID_HEX], when[64], *s;
	json_t *body;

	render_field(out, "Record", render_id(it->id.data, it->id.len, hex));
	if (c->key != NULL)
		render_field(out, "Key", c->key);
	if (it->city_name != NULL && it->city_country != NULL)
		s = xasprintf("%s (%s)", it->city_name, it->city_country);
	else
		s = xstrdup(it->city_name ? it->city_name : "(unknown)");
	render_field(out, "City", s);
	free(s);
	render_field(out, "City id", render_id(c->author.data, c->author.len, hex));
	if (it->has_city_id)
		render_field(out, "Now", render_id(it->city_id.data, it->city_id.len,
		    hex));
	if (it->unknown_indicator)
		render_field(out, "Warning", "the indicator is not in this node's "
		    "catalog (`lcctl catalog list`)");
	render_time(c->timestamp, when, sizeof(when));
	s = xasprintf("%s (seq %" PRIu64 ")", when, c->seq);
	render_field(out, "Updated", s);
	free(s);
	if (c->has_deleted && c->deleted)
		render_field(out, "Deleted", "yes: this version is a tombstone");
	if ((body = render_body_json(c)) != NULL)
		render_body(out, body);
	json_decref(body);
}

/* A record's JSON form plus what the node says about it: the city's newest
 * key when the author's key handed over, and a value against an indicator
 * outside the catalog. */
static json_t *
item_json(const Lcf__RecordItem *it, const Lcf__Content *c)
{
	json_t *j = pbjson_record(it->id.data, c, it->city_name);
	char hex[LCF_ID_HEX];

	if (it->has_city_id)
		json_object_set_new(j, "city_id", json_string(render_id(
		    it->city_id.data, it->city_id.len, hex)));
	if (c->body_case == LCF__CONTENT__BODY_INDICATOR)
		json_object_set_new(j, "unknown_indicator",
		    json_boolean(it->unknown_indicator));
	if (it->membership != NULL)
		json_object_set_new(j, "membership", json_string(it->membership));
	return j;
}

void
render_items_json(const Lcf__QueryReply *q, Lcf__Content *const *contents)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < q->n_items; i++)
		json_array_append_new(arr, item_json(q->items[i], contents[i]));
	render_json(arr);
	json_decref(arr);
}

void
render_item(const struct lcctl *ctx, const Lcf__RecordItem *it,
    const Lcf__Content *c)
{
	json_t *j;

	if (ctx->json) {
		j = item_json(it, c);
		render_json(j);
		json_decref(j);
	} else {
		render_record(stdout, it, c);
	}
}
