// SPDX-License-Identifier: Apache-2.0
// The dashboard's files ([http] web_root), read into memory at start and served with validators, gzip and cache rules.
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "http/http_int.h"

#define WEB_FILES_MAX 512             /* files under web_root */
#define WEB_FILE_MAX (8u << 20)       /* one file */
#define WEB_TOTAL_MAX (64u << 20)     /* all of them */
#define WEB_DEPTH_MAX 8               /* folders inside folders */
#define WEB_IMMUTABLE_DIR "assets/"   /* names the build makes from content */

struct web_file {
	char *name;                   /* relative to the root: "assets/app-X.js" */
	const char *type;             /* Content-Type */
	char *body;
	size_t len;
	char *gz;                     /* NAME.gz beside it, or NULL */
	size_t gzlen;
	char etag[24];                /* "HASH" of body */
	char gzetag[28];              /* "HASH-gz" */
};

struct web {
	struct web_file *files;       /* sorted by name */
	size_t n;
	size_t total;
};

/* Content types by file name ending; anything else is not served. */
static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".map", "application/json" },
	{ ".woff2", "font/woff2" },
};

/* The page answered when no dashboard is built. */
static const char no_dashboard[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width\">"
    "<title>lcnode: no dashboard</title></head>\n<body><main>"
    "<h1>This node serves no dashboard yet</h1>\n"
    "<p>The web dashboard is built from the source tree with <code>make web</code> "
    "(it needs Node.js and npm), into <code>build/web/</code>; or set "
    "<code>web_root = DIR</code> in the <code>[http]</code> section of "
    "<code>lcnode.conf</code> to a built dashboard, and restart the node.</p>\n"
    "<p>The JSON API answers meanwhile: <a href=\"/api/v1/status\">/api/v1/status</a>, "
    "documented at <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>.</p>\n"
    "</main></body></html>\n";

static const char *
type_of(const char *name)
{
	size_t i, n = strlen(name), k;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		k = strlen(types[i].ext);
		if (n > k && strcmp(name + n - k, types[i].ext) == 0)
			return types[i].type;
	}
	return NULL;
}

static void
tag_of(const char *body, size_t len, const char *suffix, char *out, size_t outlen)
{
	uint8_t h[8];
	char hex[17];

	crypto_generichash(h, sizeof(h), (const uint8_t *)body, len, NULL, 0);
	snprintf(out, outlen, "\"%s%s\"", hex_encode(h, sizeof(h), hex), suffix);
}

static int
cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct web_file *)a)->name,
	    ((const struct web_file *)b)->name);
}

static struct web_file *
find(const struct web *w, const char *name)
{
	struct web_file key = { 0 };

	if (w == NULL || w->n == 0)
		return NULL;
	key.name = (char *)name;
	return bsearch(&key, w->files, w->n, sizeof(key), cmp_file);
}

/* Reads the regular file name (relative to dirfd) without following a
 * symbolic link. 0, or a negative code with err set. */
static int
read_at(int dirfd, const char *rel, const char *name, struct web *w, char **body,
    size_t *len, char *err, size_t errlen)
{
	struct stat st;
	ssize_t r;
	size_t got = 0;
	int fd, ret = LCF_EIO;

	*body = NULL;
	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) != 0) {
		snprintf(err, errlen, "web_root: %s: %s", rel, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > WEB_FILE_MAX ||
	    w->total + (size_t)st.st_size > WEB_TOTAL_MAX) {
		snprintf(err, errlen, "web_root: %s: not a regular file, or over the "
		    "%u MiB a file or %u MiB in all a dashboard may hold", rel,
		    WEB_FILE_MAX >> 20, WEB_TOTAL_MAX >> 20);
		ret = LCF_ETOOBIG;
		goto out;
	}
	*body = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size &&
	    (r = read(fd, *body + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	if (got != (size_t)st.st_size) {
		snprintf(err, errlen, "web_root: %s: short read", rel);
		goto out;
	}
	*len = got;
	w->total += got;
	ret = 0;
out:
	if (ret != 0) {
		free(*body);
		*body = NULL;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

static int load_dir(struct web *w, int dirfd, const char *prefix, int depth,
    char *err, size_t errlen);

/* One entry of a folder: a folder to walk, a file to keep (its .gz twin is
 * attached afterwards), or something skipped (symbolic links, unknown types). */
static int
load_entry(struct web *w, int dirfd, const char *prefix, const char *name,
    int depth, char *err, size_t errlen)
{
	char rel[PATH_MAX];
	struct stat st;
	struct web_file *f;
	int sub, ret;

	if (name[0] == '.')
		return 0;
	if (snprintf(rel, sizeof(rel), "%s%s", prefix, name) >= (int)sizeof(rel) - 1)
		return 0;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		snprintf(err, errlen, "web_root: %s: %s", rel, strerror(errno));
		return LCF_EIO;
	}
	if (S_ISDIR(st.st_mode)) {
		if (depth >= WEB_DEPTH_MAX)
			return 0;
		if ((sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC)) < 0) {
			snprintf(err, errlen, "web_root: %s: %s", rel, strerror(errno));
			return LCF_EIO;
		}
		strcat(rel, "/");
		ret = load_dir(w, sub, rel, depth + 1, err, errlen);
		close(sub);
		return ret;
	}
	/* Symbolic links are never followed: nothing outside the root is served. */
	if (!S_ISREG(st.st_mode) || (type_of(rel) == NULL &&
	    (strlen(rel) < 4 || strcmp(rel + strlen(rel) - 3, ".gz") != 0)))
		return 0;
	if (w->n == WEB_FILES_MAX) {
		snprintf(err, errlen, "web_root: more than %d files", WEB_FILES_MAX);
		return LCF_ETOOBIG;
	}
	f = &w->files[w->n];
	memset(f, 0, sizeof(*f));
	if ((ret = read_at(dirfd, rel, name, w, &f->body, &f->len, err, errlen)) != 0)
		return ret;
	f->name = xstrdup(rel);
	f->type = type_of(rel);
	w->n++;
	return 0;
}

static int
load_dir(struct web *w, int dirfd, const char *prefix, int depth, char *err,
    size_t errlen)
{
	DIR *d;
	struct dirent *de;
	int fd, ret = 0;

	if ((fd = dup(dirfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "web_root: %s: %s", prefix, strerror(errno));
		return LCF_EIO;
	}
	while (ret == 0 && (de = readdir(d)) != NULL)
		ret = load_entry(w, dirfd, prefix, de->d_name, depth, err, errlen);
	closedir(d);
	return ret;
}

/* Pairs each NAME.gz with NAME (the gzip of the same bytes) and drops the
 * .gz entries from the table. */
static void
pair_gzip(struct web *w)
{
	struct web_file *f, *plain;
	size_t i, j = 0, n;
	char *base;

	qsort(w->files, w->n, sizeof(*w->files), cmp_file);
	for (i = 0; i < w->n; i++) {
		f = &w->files[i];
		n = strlen(f->name);
		if (f->type != NULL || n < 4)
			continue;
		base = xstrndup(f->name, n - 3);
		if ((plain = find(w, base)) != NULL && plain->gz == NULL) {
			plain->gz = f->body;
			plain->gzlen = f->len;
			f->body = NULL;
		}
		free(base);
	}
	for (i = 0; i < w->n; i++) {
		f = &w->files[i];
		if (f->type == NULL) {
			free(f->name);
			free(f->body);
			continue;
		}
		tag_of(f->body, f->len, "", f->etag, sizeof(f->etag));
		tag_of(f->body, f->len, "-gz", f->gzetag, sizeof(f->gzetag));
		w->files[j++] = *f;
	}
	w->n = j;
}

int
web_load(const char *root, struct web **out, char *err, size_t errlen)
{
	struct web *w;
	int fd, ret;

	*out = NULL;
	if (root == NULL)
		return 0;
	if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "web_root %s: %s", root, strerror(errno));
		return LCF_ECONFIG;
	}
	w = xcalloc(1, sizeof(*w));
	w->files = xcalloc(WEB_FILES_MAX, sizeof(*w->files));
	ret = load_dir(w, fd, "", 0, err, errlen);
	close(fd);
	if (ret != 0) {
		web_free(w);
		return ret;
	}
	pair_gzip(w);
	if (find(w, "index.html") == NULL) {
		log_warnx("http: %s holds no index.html: the dashboard is not served "
		    "(build it with `make web`)", root);
		web_free(w);
		return 0;
	}
	log_info("http: the dashboard from %s (%zu files, %zu bytes)", root, w->n,
	    w->total);
	*out = w;
	return 0;
}

void
web_free(struct web *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->n; i++) {
		free(w->files[i].name);
		free(w->files[i].body);
		free(w->files[i].gz);
	}
	free(w->files);
	free(w);
}

/* 1 when the request's Accept-Encoding takes gzip: named, and not with
 * q=0. */
static int
takes_gzip(h2o_req_t *req)
{
	ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_ACCEPT_ENCODING, -1);
	char v[256], *p;

	if (i < 0)
		return 0;
	snprintf(v, sizeof(v), "%.*s", (int)(req->headers.entries[i].value.len <
	    sizeof(v) ? req->headers.entries[i].value.len : sizeof(v) - 1),
	    req->headers.entries[i].value.base);
	if ((p = strcasestr(v, "gzip")) == NULL)
		return 0;
	p += strspn(p + 4, " ") + 4;
	if (*p != ';')
		return 1;
	p += 1 + strspn(p + 1, " ");
	return !((p[0] == 'q' || p[0] == 'Q') && p[1] == '=' && strtod(p + 2, NULL) == 0);
}

static int
matches(h2o_req_t *req, const char *etag)
{
	ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_IF_NONE_MATCH, -1);
	h2o_iovec_t v;

	if (i < 0)
		return 0;
	v = req->headers.entries[i].value;
	return memmem(v.base, v.len, etag, strlen(etag)) != NULL ||
	    (v.len == 1 && v.base[0] == '*');
}

static void
hdr(h2o_req_t *req, const h2o_token_t *t, const char *v)
{
	h2o_add_header(&req->pool, &req->res.headers, t, NULL, v, strlen(v));
}

/* Sends status with body (not copied: it lives as long as the server). */
static void
send_body(struct http_call *c, int status, const char *body, size_t len)
{
	static h2o_generator_t gen = { NULL, NULL };
	h2o_req_t *req = c->req;
	h2o_iovec_t buf = h2o_iovec_init(body, len);

	req->res.status = status;
	req->res.reason = answer_reason(status);
	if (status < HTTP_STATUS_MAX)
		c->h->stats.requests[status]++;
	req->res.content_length = status == 304 ? 0 : len;
	h2o_start_response(req, &gen);
	if (c->head || status == 304)
		h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
	else
		h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
}

/* The dashboard's pages (the first segment of their paths, as in the table of
 * pages in web/src/main.js): the browser routes them, the node answers
 * index.html. Any other path names a file or is a 404. */
static const char *const app_pages[] = { "practices", "city", "coverage",
    "partners", "node", "report", NULL };

static int
app_page(char **segs, size_t nsegs)
{
	size_t i;

	if (nsegs == 0)
		return 1;
	for (i = 0; app_pages[i] != NULL; i++)
		if (strcmp(segs[0], app_pages[i]) == 0)
			return 1;
	return 0;
}

/* The file a path names: itself, or index.html for the dashboard's pages. */
static const struct web_file *
resolve(const struct web *w, char **segs, size_t nsegs)
{
	char name[HTTP_URL_MAX];
	size_t i, off = 0;
	int k;

	if (nsegs == 0)
		return find(w, "index.html");
	for (i = 0; i < nsegs; i++) {
		/* Names in the table are plain: "..", ".", or a '/' decoded from
		 * %2F never match one, but say so rather than trust it. */
		if (segs[i][0] == '.' || strchr(segs[i], '/') != NULL)
			return NULL;
		k = snprintf(name + off, sizeof(name) - off, "%s%s", i ? "/" : "", segs[i]);
		if (k < 0 || (size_t)k >= sizeof(name) - off)
			return NULL;
		off += (size_t)k;
	}
	if (find(w, name) != NULL)
		return find(w, name);
	return app_page(segs, nsegs) ? find(w, "index.html") : NULL;
}

int
web_answer(struct http_call *c, const struct web *w, char **segs, size_t nsegs)
{
	h2o_req_t *req = c->req;
	const struct web_file *f;
	int gz;

	if (w == NULL) {
		if (!app_page(segs, nsegs))
			return LCF_ENOTFOUND;
		hdr(req, H2O_TOKEN_CONTENT_TYPE, "text/html; charset=utf-8");
		hdr(req, H2O_TOKEN_CACHE_CONTROL, "no-store");
		send_body(c, 200, no_dashboard, sizeof(no_dashboard) - 1);
		return 0;
	}
	if ((f = resolve(w, segs, nsegs)) == NULL)
		return LCF_ENOTFOUND;
	gz = f->gz != NULL && takes_gzip(req);
	hdr(req, H2O_TOKEN_CONTENT_TYPE, f->type);
	hdr(req, H2O_TOKEN_ETAG, gz ? f->gzetag : f->etag);
	hdr(req, H2O_TOKEN_CACHE_CONTROL, strncmp(f->name, WEB_IMMUTABLE_DIR,
	    strlen(WEB_IMMUTABLE_DIR)) == 0 ? "public, max-age=31536000, immutable" :
	    "no-cache");
	h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT(
	    "x-content-type-options"), 0, NULL, H2O_STRLIT("nosniff"));
	if (f->gz != NULL)
		hdr(req, H2O_TOKEN_VARY, "Accept-Encoding");
	if (gz)
		hdr(req, H2O_TOKEN_CONTENT_ENCODING, "gzip");
	if (matches(req, gz ? f->gzetag : f->etag))
		send_body(c, 304, NULL, 0);
	else if (gz)
		send_body(c, 200, f->gz, f->gzlen);
	else
		send_body(c, 200, f->body, f->len);
	return 0;
}
