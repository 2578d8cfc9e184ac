// SPDX-License-Identifier: Apache-2.0
// Import files: a JSON array (or object) of records, or CSV rows through libcsv.
#include <sys/stat.h>

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "model/tabular.h"
#include "base/xmalloc.h"

/* At most this many records per file, JSON or CSV. */
#define TAB_MAX_ROWS		1000000
/* One CSV cell holds at most this many bytes (a record's content is 64 KiB). */
#define TAB_MAX_CELL		(64 * 1024)
/* A dotted column name reaches at most this many levels down. */
#define TAB_MAX_PARTS		16

/* One CSV column: the member path in each row's object, from the header name. */
struct column {
	char *name;                  /* header text, for messages and duplicates */
	char *parts[TAB_MAX_PARTS];  /* "contact", "name" */
	size_t nparts;
	int repeated;                /* cells split on ';' into a list */
};

struct csvctx {
	const char *path;
	const ProtobufCMessageDescriptor *d;
	char *err;
	size_t errlen;
	int ret;                     /* first error; callbacks do nothing after it */
	int line;                    /* line of the bytes being fed */
	int row_open;                /* a row has started and not ended */
	int row_line;                /* line the current row started on */
	int have_header;
	struct column *cols;
	size_t ncols;
	size_t ncells;               /* cells seen in the current row */
	int row_empty;               /* every cell of the current row is empty */
	json_t *row;
	json_t *array;
	struct tab_item *items;
	size_t n, cap;
};

static void tab_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
tab_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
}

/* Jansson fails only for lack of memory here, which we treat like xmalloc does. */
static json_t *
jnew(json_t *j)
{
	if (j == NULL)
		fatalx("tabular: out of memory");
	return j;
}

/*
 * Opens a file to read, refusing a directory and a file over max bytes (by
 * fstat: a reader checks again as it reads, since the file may grow). On
 * success *fdp is open and *sizep is the size fstat gave (0 if unknown).
 */
static int
open_bounded(const char *path, size_t max, int *fdp, size_t *sizep, char *err,
    size_t errlen)
{
	struct stat st;
	int fd;

	*fdp = -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		tab_error(err, errlen, "%s: %s", path, strerror(errno));
		return LCF_EIO;
	}
	if (fstat(fd, &st) == -1) {
		tab_error(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return LCF_EIO;
	}
	if (S_ISDIR(st.st_mode)) {
		tab_error(err, errlen, "%s: is a directory", path);
		close(fd);
		return LCF_EIO;
	}
	if (st.st_size > 0 && (uintmax_t)st.st_size > max) {
		tab_error(err, errlen, "%s: file is %jd bytes, more than the limit of %zu",
		    path, (intmax_t)st.st_size, max);
		close(fd);
		return LCF_ETOOBIG;
	}
	*fdp = fd;
	*sizep = st.st_size > 0 ? (size_t)st.st_size : 0;
	return 0;
}

/*
 * Reads the whole file, refusing more than max bytes. The size is checked with
 * fstat first and again while reading, since the file may grow in between.
 */
static int
read_bounded(const char *path, size_t max, char **bufp, size_t *lenp, char *err,
    size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, cap, size;
	ssize_t r;
	int fd = -1, ret;

	/* Keeps cap + 1 below from overflowing. */
	if (max > SIZE_MAX / 2)
		max = SIZE_MAX / 2;
	if ((ret = open_bounded(path, max, &fd, &size, err, errlen)) != 0)
		return ret;
	ret = LCF_EIO;
	cap = size > 0 ? size + 1 : 4096;
	buf = xmalloc(cap + 1);
	for (;;) {
		if (len == cap) {
			if (len > max)
				break;
			cap = cap > max / 2 ? max + 1 : cap * 2;
			buf = xreallocarray(buf, cap + 1, 1);
		}
		r = read(fd, buf + len, cap - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			tab_error(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > max) {
		tab_error(err, errlen, "%s: file is more than the limit of %zu bytes",
		    path, max);
		ret = LCF_ETOOBIG;
		goto out;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	buf = NULL;
	ret = 0;
out:
	if (fd != -1)
		close(fd);
	free(buf);
	return ret;
}

static void
items_push(struct csvctx *c, json_t *obj, int line)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->items = xreallocarray(c->items, c->cap, sizeof(*c->items));
	}
	c->items[c->n].obj = obj;
	c->items[c->n].line = line;
	c->items[c->n].index = (int)c->n;
	c->n++;
}

static int
load_json(const char *path, const char *buf, size_t len, struct csvctx *c)
{
	json_error_t jerr;
	json_t *root = NULL, *el;
	size_t i, n;
	int ret = LCF_EINVAL;

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		tab_error(c->err, c->errlen, "%s:%d: column %d: %s", path, jerr.line,
		    jerr.column, jerr.text);
		goto out;
	}
	if (json_is_object(root)) {
		c->array = jnew(json_array());
		if (json_array_append_new(c->array, root) != 0)
			fatalx("tabular: cannot append to a list");
		root = NULL;
	} else if (json_is_array(root)) {
		c->array = root;
		root = NULL;
	} else {
		tab_error(c->err, c->errlen,
		    "%s: expected an array of objects or an object", path);
		goto out;
	}
	n = json_array_size(c->array);
	if (n > TAB_MAX_ROWS) {
		tab_error(c->err, c->errlen, "%s: %zu records, more than %d", path, n,
		    TAB_MAX_ROWS);
		ret = LCF_ETOOBIG;
		goto out;
	}
	for (i = 0; i < n; i++) {
		el = json_array_get(c->array, i);
		if (!json_is_object(el)) {
			/* Records are numbered from 1 for people, as lcctl does. */
			tab_error(c->err, c->errlen, "%s: record %zu: expected an object",
			    path, i + 1);
			goto out;
		}
		/* Jansson keeps no positions, so JSON items have no line. */
		items_push(c, el, 0);
	}
	ret = 0;
out:
	json_decref(root);
	return ret;
}

static void
column_free(struct column *col)
{
	size_t i;

	if (col == NULL)
		return;
	free(col->name);
	for (i = 0; i < col->nparts; i++)
		free(col->parts[i]);
}

static void
csv_fail(struct csvctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first error of a CSV load with "PATH:LINE: " in front. */
static void
csv_fail(struct csvctx *c, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	/* The first error is the one worth reading; later ones follow from it. */
	if (c->ret == 0) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		tab_error(c->err, c->errlen, "%s:%d: %s", c->path, c->row_line, msg);
		c->ret = code;
	}
}

/* Points s/len at the cell without leading and trailing white space. */
static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && isspace((unsigned char)(*s)[0])) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/*
 * Resolves a header name against the descriptor: each dotted part names a field,
 * every part but the last a single message. "key" is always allowed: it is the
 * record key the importer takes out before decoding.
 */
static void
header_cell(struct csvctx *c, const char *s, size_t len)
{
	const ProtobufCMessageDescriptor *d = c->d;
	const ProtobufCFieldDescriptor *f = NULL;
	struct column col;
	const char *p, *dot, *end;
	size_t i, col_no = c->ncols + 1;

	memset(&col, 0, sizeof(col));
	trim(&s, &len);
	if (len == 0) {
		csv_fail(c, LCF_EINVAL, "column %zu: empty column name", col_no);
		goto out;
	}
	col.name = xmalloc(len + 1);
	memcpy(col.name, s, len);
	col.name[len] = '\0';
	for (i = 0; i < c->ncols; i++) {
		if (strcmp(c->cols[i].name, col.name) == 0) {
			csv_fail(c, LCF_EINVAL, "column %zu: duplicate column '%.64s'"
			    " (also column %zu)", col_no, col.name, i + 1);
			goto out;
		}
	}
	if (strcmp(col.name, "key") == 0 &&
	    protobuf_c_message_descriptor_get_field_by_name(d, "key") == NULL) {
		col.parts[col.nparts++] = xstrdup("key");
		goto add;
	}
	p = col.name;
	end = col.name + len;
	while (p <= end) {
		dot = memchr(p, '.', (size_t)(end - p));
		if (dot == NULL)
			dot = end;
		if (col.nparts == TAB_MAX_PARTS) {
			csv_fail(c, LCF_EINVAL, "column %zu: '%.64s' nests too deeply",
			    col_no, col.name);
			goto out;
		}
		col.parts[col.nparts] = xmalloc((size_t)(dot - p) + 1);
		memcpy(col.parts[col.nparts], p, (size_t)(dot - p));
		col.parts[col.nparts][dot - p] = '\0';
		f = protobuf_c_message_descriptor_get_field_by_name(d,
		    col.parts[col.nparts]);
		col.nparts++;
		if (f == NULL) {
			csv_fail(c, LCF_EINVAL, "column %zu: unknown field '%.64s'",
			    col_no, col.name);
			goto out;
		}
		if (dot == end)
			break;
		if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
			csv_fail(c, LCF_EINVAL, "column %zu: '%.64s': field '%s' has no "
			    "fields of its own", col_no, col.name, f->name);
			goto out;
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			csv_fail(c, LCF_EINVAL, "column %zu: '%.64s': '%s' is a list of "
			    "messages, which a CSV column cannot hold", col_no, col.name,
			    f->name);
			goto out;
		}
		d = f->descriptor;
		p = dot + 1;
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
	    f->label == PROTOBUF_C_LABEL_REPEATED) {
		csv_fail(c, LCF_EINVAL, "column %zu: '%.64s' is a list of messages, "
		    "which a CSV column cannot hold", col_no, col.name);
		goto out;
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		csv_fail(c, LCF_EINVAL, "column %zu: '%.64s' is a message; name its "
		    "fields, as in '%.64s.name'", col_no, col.name, col.name);
		goto out;
	}
	col.repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
add:
	c->cols = xreallocarray(c->cols, c->ncols + 1, sizeof(*c->cols));
	c->cols[c->ncols++] = col;
	memset(&col, 0, sizeof(col));
out:
	column_free(&col);
}

static json_t *
cell_string(struct csvctx *c, const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);

	if (j == NULL)
		csv_fail(c, LCF_EINVAL, "column %zu: not valid UTF-8", c->ncells + 1);
	return j;
}

/* A list cell: parts between ';', trimmed, empty parts dropped; NULL if none. */
static json_t *
cell_list(struct csvctx *c, const char *s, size_t len)
{
	const char *p = s, *end = s + len, *semi, *part;
	json_t *list, *item;
	size_t plen;

	list = jnew(json_array());
	while (p <= end) {
		semi = memchr(p, ';', (size_t)(end - p));
		if (semi == NULL)
			semi = end;
		part = p;
		plen = (size_t)(semi - p);
		trim(&part, &plen);
		if (plen > 0) {
			if ((item = cell_string(c, part, plen)) == NULL)
				goto out;
			if (json_array_append_new(list, item) != 0)
				fatalx("tabular: cannot append to a list");
		}
		p = semi + 1;
	}
out:
	if (c->ret != 0 || json_array_size(list) == 0) {
		json_decref(list);
		list = NULL;
	}
	return list;
}

/* Puts one data cell into the row's object under its column's member path. */
static void
data_cell(struct csvctx *c, const char *s, size_t len)
{
	const struct column *col;
	json_t *obj, *child, *val = NULL;
	const char *t = s;
	size_t i, tlen = len;

	if (c->ncells >= c->ncols) {
		csv_fail(c, LCF_EINVAL, "row has more cells than the header's %zu",
		    c->ncols);
		goto out;
	}
	col = &c->cols[c->ncells];
	if (memchr(s, '\0', len) != NULL) {
		csv_fail(c, LCF_EINVAL, "column %zu: contains a NUL byte",
		    c->ncells + 1);
		goto out;
	}
	/* Blank cells say "not given", like empty ones; lists also drop blank parts. */
	if (col->repeated) {
		val = cell_list(c, s, len);
	} else {
		trim(&t, &tlen);
		val = tlen > 0 ? cell_string(c, s, len) : NULL;
	}
	if (val == NULL)
		goto out;
	if (c->row == NULL)
		c->row = jnew(json_object());
	obj = c->row;
	for (i = 0; i + 1 < col->nparts; i++) {
		child = json_object_get(obj, col->parts[i]);
		if (child == NULL) {
			child = jnew(json_object());
			if (json_object_set_new(obj, col->parts[i], child) != 0)
				fatalx("tabular: cannot set member");
		}
		obj = child;
	}
	if (json_object_set_new(obj, col->parts[col->nparts - 1], val) != 0)
		fatalx("tabular: cannot set member");
	c->row_empty = 0;
out:
	return;
}

static void
on_cell(void *s, size_t len, void *data)
{
	struct csvctx *c = data;
	const char *cell = s != NULL ? s : "";

	if (c->ret != 0)
		goto out;
	/* Only a row of blanks that libcsv still reports gets here unopened. */
	if (!c->row_open) {
		c->row_open = 1;
		c->row_line = c->line;
	}
	if (len > TAB_MAX_CELL) {
		csv_fail(c, LCF_ETOOBIG, "column %zu: cell of %zu bytes, more than %d",
		    c->ncells + 1, len, TAB_MAX_CELL);
		goto out;
	}
	if (!c->have_header)
		header_cell(c, cell, len);
	else
		data_cell(c, cell, len);
	c->ncells++;
out:
	return;
}

static void
on_row(int term, void *data)
{
	struct csvctx *c = data;

	(void)term;
	if (c->ret != 0)
		goto out;
	if (!c->row_open)
		c->row_line = c->line;
	if (!c->have_header) {
		c->have_header = 1;
		goto out;
	}
	if (c->ncells != c->ncols) {
		csv_fail(c, LCF_EINVAL, "row has %zu cells, the header has %zu",
		    c->ncells, c->ncols);
		goto out;
	}
	/* Spreadsheets export trailing rows of bare commas; they hold no record. */
	if (c->row_empty || c->row == NULL)
		goto out;
	if (c->n >= TAB_MAX_ROWS) {
		csv_fail(c, LCF_ETOOBIG, "more than %d rows", TAB_MAX_ROWS);
		goto out;
	}
	if (json_array_append_new(c->array, c->row) != 0)
		fatalx("tabular: cannot append to a list");
	items_push(c, c->row, c->row_line);
	c->row = NULL;
out:
	json_decref(c->row);
	c->row = NULL;
	c->ncells = 0;
	c->row_open = 0;
	c->row_empty = 1;
}

/*
 * Feeds libcsv one physical line at a time (up to and including each CR or LF),
 * so the line counter is right for every callback, also inside quoted cells
 * that span lines. A row starts at its first byte that is not blank.
 */
static int
load_csv(const char *buf, size_t len, struct csvctx *c)
{
	struct csv_parser p;
	size_t pos = 0, end, i;
	int parser = 0;

	if (c->d == NULL) {
		tab_error(c->err, c->errlen, "%s: CSV needs a record type", c->path);
		c->ret = LCF_EINVAL;
		goto out;
	}
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		fatalx("tabular: csv_init failed");
	parser = 1;
	c->array = jnew(json_array());
	c->line = 1;
	c->row_empty = 1;
	while (pos < len && c->ret == 0) {
		for (end = pos; end < len && buf[end] != '\n' && buf[end] != '\r'; end++)
			;
		if (end < len)
			end++;
		for (i = pos; !c->row_open && i < end; i++) {
			if (!isspace((unsigned char)buf[i])) {
				c->row_open = 1;
				c->row_line = c->line;
			}
		}
		if (csv_parse(&p, buf + pos, end - pos, on_cell, on_row, c) != end - pos) {
			c->row_line = c->line;
			csv_fail(c, LCF_EINVAL, "malformed CSV (%s): a quoted cell must "
			    "end at a comma or the end of a line, and quotes inside it "
			    "are doubled", csv_strerror(csv_error(&p)));
		}
		if (c->line < INT_MAX && (buf[end - 1] == '\n' ||
		    (buf[end - 1] == '\r' && (end == len || buf[end] != '\n'))))
			c->line++;
		pos = end;
	}
	if (c->ret == 0 && csv_fini(&p, on_cell, on_row, c) != 0)
		csv_fail(c, LCF_EINVAL, "quoted cell not closed before the end of "
		    "the file");
	if (c->ret == 0 && !c->have_header) {
		tab_error(c->err, c->errlen, "%s: empty file, expected a header row",
		    c->path);
		c->ret = LCF_EINVAL;
	}
out:
	if (parser)
		csv_free(&p);
	return c->ret;
}

static int
is_csv_path(const char *path)
{
	size_t n = strlen(path);

	return n >= 4 && strcasecmp(path + n - 4, ".csv") == 0;
}

int
tab_load(const char *path, const ProtobufCMessageDescriptor *d, size_t max_bytes,
    struct tab_file *out, char *err, size_t errlen)
{
	struct csvctx c;
	char *buf = NULL;
	const char *text;
	size_t len = 0, i;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.path = path;
	c.d = d;
	c.err = err;
	c.errlen = errlen;
	if ((ret = read_bounded(path, max_bytes, &buf, &len, err, errlen)) != 0)
		goto out;
	text = buf;
	/* Spreadsheet programs often start UTF-8 files with a byte order mark. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	if (is_csv_path(path))
		ret = load_csv(text, len, &c);
	else
		ret = load_json(path, text, len, &c);
	if (ret != 0)
		goto out;
	out->array = c.array;
	out->items = c.items;
	out->n = c.n;
	c.array = NULL;
	c.items = NULL;
	ret = 0;
out:
	for (i = 0; i < c.ncols; i++)
		column_free(&c.cols[i]);
	free(c.cols);
	json_decref(c.row);
	json_decref(c.array);
	free(c.items);
	free(buf);
	return ret;
}

void
tab_free(struct tab_file *f)
{
	if (f == NULL)
		return;
	json_decref(f->array);
	free(f->items);
	memset(f, 0, sizeof(*f));
}

/* ---- streamed JSON ---- */

#define STREAM_BLOCK (1u << 20)          /* bytes read at a time */
#define STREAM_MAX_RECORD (4u << 20)     /* JSON of one record */

enum stream_state {
	ST_START,          /* before the top-level '[' or '{' */
	ST_FIRST,          /* after '[': a record or ']' */
	ST_VALUE,          /* a record must follow */
	ST_AFTER,          /* after a record: ',' or ']' */
	ST_END,            /* after the top-level value: only white space */
	ST_DONE,
};

struct tab_stream {
	int fd;
	char *path;
	size_t max_bytes;
	size_t total;                /* bytes read from the file */
	char *buf;
	size_t cap, pos, len;        /* unread bytes: buf[pos, len) */
	size_t base;                 /* file offset of buf[0] */
	int eof;
	int line;                    /* line of buf[pos] */
	size_t line_off;             /* file offset where that line starts */
	enum stream_state state;
	int single;                  /* the file is one object */
	size_t records;
	size_t block;                /* bytes read at a time */
};

struct tab_stream *
tab_stream_fd(int fd, const char *path, size_t max_bytes)
{
	struct tab_stream *ts = xcalloc(1, sizeof(*ts));
	struct stat st;

	ts->fd = fd;
	ts->path = xstrdup(path);
	ts->max_bytes = max_bytes;
	ts->block = STREAM_BLOCK;
	/* A small file is read in one block of its size (and a byte to see its
	 * end), not in a 1 MiB buffer: an import of a few records stays small. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
	    (uintmax_t)st.st_size < STREAM_BLOCK / 2)
		ts->block = 2 * ((size_t)st.st_size + 1);
	ts->cap = ts->block;
	ts->buf = xmalloc(ts->cap);
	ts->line = 1;
	return ts;
}

int
tab_stream_open(const char *path, size_t max_bytes, struct tab_stream **out,
    char *err, size_t errlen)
{
	size_t size;
	int fd, ret;

	*out = NULL;
	if ((ret = open_bounded(path, max_bytes, &fd, &size, err, errlen)) != 0)
		return ret;
	*out = tab_stream_fd(fd, path, max_bytes);
	return 0;
}

void
tab_stream_close(struct tab_stream *ts)
{
	if (ts == NULL)
		return;
	if (ts->fd != -1)
		close(ts->fd);
	free(ts->path);
	free(ts->buf);
	free(ts);
}

static int stream_fail(struct tab_stream *ts, int code, char *err, size_t errlen,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Ends the stream with an error "PATH:LINE: column C: ..." at the read position. */
static int
stream_fail(struct tab_stream *ts, int code, char *err, size_t errlen,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tab_error(err, errlen, "%s:%d: column %zu: %s", ts->path, ts->line,
	    ts->base + ts->pos - ts->line_off + 1, msg);
	ts->state = ST_DONE;
	return code;
}

/* Moves the unread bytes to the front and reads more of the file after them.
 * Returns 0 (with ts->eof set at the end), or a negative code with err
 * written. */
static int
stream_fill(struct tab_stream *ts, char *err, size_t errlen)
{
	ssize_t r;

	if (ts->pos > 0) {
		memmove(ts->buf, ts->buf + ts->pos, ts->len - ts->pos);
		ts->base += ts->pos;
		ts->len -= ts->pos;
		ts->pos = 0;
	}
	if (ts->cap - ts->len < ts->block / 2) {
		ts->cap = ts->len + ts->block;
		ts->buf = xreallocarray(ts->buf, ts->cap, 1);
	}
	for (;;) {
		r = read(ts->fd, ts->buf + ts->len, ts->cap - ts->len);
		if (r == -1 && errno == EINTR)
			continue;
		break;
	}
	if (r == -1) {
		tab_error(err, errlen, "%s: %s", ts->path, strerror(errno));
		ts->state = ST_DONE;
		return LCF_EIO;
	}
	if (r == 0)
		ts->eof = 1;
	ts->len += (size_t)r;
	ts->total += (size_t)r;
	if (ts->total > ts->max_bytes) {
		tab_error(err, errlen, "%s: file is more than the limit of %zu bytes",
		    ts->path, ts->max_bytes);
		ts->state = ST_DONE;
		return LCF_ETOOBIG;
	}
	return 0;
}

/* The next byte that is not white space (lines counted), or -1 at the end of
 * the file; it stays unread. */
static int
stream_peek(struct tab_stream *ts, int *c, char *err, size_t errlen)
{
	unsigned char ch;
	int rc;

	for (;;) {
		if (ts->pos == ts->len) {
			if (ts->eof) {
				*c = -1;
				return 0;
			}
			if ((rc = stream_fill(ts, err, errlen)) != 0)
				return rc;
			continue;
		}
		ch = (unsigned char)ts->buf[ts->pos];
		if (ch == '\n') {
			ts->line++;
			ts->line_off = ts->base + ts->pos + 1;
		} else if (ch != ' ' && ch != '\t' && ch != '\r') {
			*c = ch;
			return 0;
		}
		ts->pos++;
	}
}

/* Finds the end of the object starting at buf[pos] (a '{'): *end is the offset
 * just after its closing brace. Brackets are only counted; the parser checks
 * the rest. Lines inside are counted into ts->line. */
static int
stream_scan(struct tab_stream *ts, size_t *end, char *err, size_t errlen)
{
	size_t i = ts->pos, depth = 0, j, k, line_off = ts->line_off;
	int in_str = 0, rc, line = ts->line;
	const char *q;
	char ch;

	for (;;) {
		if (i == ts->len) {
			if (ts->eof) {
				/* Where the record starts, not where the scan
				 * stopped. */
				ts->line = line;
				ts->line_off = line_off;
				return stream_fail(ts, LCF_EINVAL, err, errlen,
				    "record %zu does not end before the end of the "
				    "file", ts->records + 1);
			}
			if (i - ts->pos > STREAM_MAX_RECORD) {
				tab_error(err, errlen, "%s: record %zu (line %d) is "
				    "more than %u MiB of JSON", ts->path,
				    ts->records + 1, ts->line, STREAM_MAX_RECORD >> 20);
				ts->state = ST_DONE;
				return LCF_ETOOBIG;
			}
			i -= ts->pos;
			if ((rc = stream_fill(ts, err, errlen)) != 0)
				return rc;
			i += ts->pos;
			continue;
		}
		if (in_str) {
			/* Most of a record is inside strings: jump to the next
			 * quote; it ends the string unless an odd number of
			 * backslashes escapes it. The whole record stays in the
			 * buffer, so they can be counted backwards. */
			q = memchr(ts->buf + i, '"', ts->len - i);
			if (q == NULL) {
				i = ts->len;
				continue;
			}
			j = (size_t)(q - ts->buf);
			for (k = j; k > ts->pos && ts->buf[k - 1] == '\\'; k--)
				;
			if ((j - k) % 2 == 0)
				in_str = 0;
			i = j + 1;
			continue;
		}
		ch = ts->buf[i++];
		if (ch == '"') {
			in_str = 1;
		} else if (ch == '{' || ch == '[') {
			depth++;
		} else if (ch == '}' || ch == ']') {
			if (--depth == 0) {
				*end = i;
				return 0;
			}
		}
		/* JSON strings cannot hold a raw line break: a newline is always
		 * between tokens or an error the parser reports. */
		if (ch == '\n') {
			ts->line++;
			ts->line_off = ts->base + i;
		}
	}
}

/* Finds the end of the record at buf[pos] and hands out its text, which
 * stays in the buffer until the next call. */
static int
stream_record(struct tab_stream *ts, const char **text, size_t *len, char *err,
    size_t errlen)
{
	size_t end = 0;
	int rc;

	if ((rc = stream_scan(ts, &end, err, errlen)) != 0)
		return rc;
	*text = ts->buf + ts->pos;
	*len = end - ts->pos;
	ts->pos = end;
	ts->records++;
	return 0;
}

int
tab_stream_next_text(struct tab_stream *ts, const char **text, size_t *len,
    int *line, size_t *col, char *err, size_t errlen)
{
	int c, rc;

	*text = NULL;
	*len = 0;
	*line = 0;
	*col = 0;
	for (;;) {
		if (ts->state == ST_DONE)
			return 0;
		if ((rc = stream_peek(ts, &c, err, errlen)) != 0)
			return rc;
		/* Spreadsheet programs often start UTF-8 files with a byte
		 * order mark. */
		if (ts->state == ST_START && ts->base + ts->pos == 0 && c == 0xef &&
		    ts->len >= 3 && memcmp(ts->buf, "\xef\xbb\xbf", 3) == 0) {
			ts->pos = 3;
			ts->line_off = 3;
			continue;
		}
		switch (ts->state) {
		case ST_START:
			if (c == '[') {
				ts->pos++;
				ts->state = ST_FIRST;
			} else if (c == '{') {
				ts->single = 1;
				ts->state = ST_VALUE;
			} else {
				return stream_fail(ts, LCF_EINVAL, err, errlen,
				    "expected an array of objects or an object");
			}
			break;
		case ST_FIRST:
			if (c == ']') {
				ts->pos++;
				ts->state = ST_END;
			} else {
				ts->state = ST_VALUE;
			}
			break;
		case ST_VALUE:
			if (c != '{') {
				if (c == -1)
					return stream_fail(ts, LCF_EINVAL, err, errlen,
					    "the file ends inside the array");
				tab_error(err, errlen, "%s: record %zu (line %d): "
				    "expected an object", ts->path, ts->records + 1,
				    ts->line);
				ts->state = ST_DONE;
				return LCF_EINVAL;
			}
			if (ts->records >= TAB_MAX_ROWS) {
				tab_error(err, errlen, "%s: more than %d records",
				    ts->path, TAB_MAX_ROWS);
				ts->state = ST_DONE;
				return LCF_ETOOBIG;
			}
			*line = ts->line;
			*col = ts->base + ts->pos - ts->line_off + 1;
			if ((rc = stream_record(ts, text, len, err, errlen)) != 0)
				return rc;
			ts->state = ts->single ? ST_END : ST_AFTER;
			return 0;
		case ST_AFTER:
			if (c == ',') {
				ts->pos++;
				ts->state = ST_VALUE;
			} else if (c == ']') {
				ts->pos++;
				ts->state = ST_END;
			} else {
				return stream_fail(ts, LCF_EINVAL, err, errlen,
				    "expected ',' or ']' after record %zu",
				    ts->records);
			}
			break;
		case ST_END:
			if (c != -1)
				return stream_fail(ts, LCF_EINVAL, err, errlen,
				    "text after the end of the JSON value");
			ts->state = ST_DONE;
			return 0;
		default:
			return 0;
		}
	}
}

int
tab_stream_next(struct tab_stream *ts, json_t **obj, int *line, char *err,
    size_t errlen)
{
	json_error_t jerr;
	const char *text;
	size_t len, col;
	int rc;

	*obj = NULL;
	if ((rc = tab_stream_next_text(ts, &text, &len, line, &col, err,
	    errlen)) != 0 || text == NULL)
		return rc;
	*obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (*obj == NULL) {
		/* Jansson counts from the record's first byte. */
		tab_error(err, errlen, "%s:%d: column %zu: %s", ts->path,
		    *line + jerr.line - 1, jerr.line <= 1 ?
		    col + (size_t)(jerr.column > 0 ? jerr.column : 1) - 1 :
		    (size_t)(jerr.column > 0 ? jerr.column : 1), jerr.text);
		ts->state = ST_DONE;
		return LCF_EINVAL;
	}
	return 0;
}
