// SPDX-License-Identifier: Apache-2.0
// lcctl's streamed import: records read, checked and sent in chunks as the file is read.
//
// A JSON file is read one record at a time (tab_stream), a CSV file is loaded
// whole (it is parsed row by row anyway). Each record becomes a validated draft,
// serialized at once into the current chunk, and a full chunk goes to the node
// while the next one is read, so lcctl's parsing overlaps the node's checking,
// signing and writing. The node stores nothing before the last chunk: when
// lcctl finds a problem it closes the connection and goes on reading only to
// report further problems, and the node keeps nothing of what it was sent.
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wire/ctlwire.h"
#include "base/error.h"
#include "lcctl.h"
#include "model/tabular.h"
#include "base/xmalloc.h"

/* A chunk is sent when it holds this many drafts or bytes, whichever first
 * (the node takes up to 4,096 drafts in 8 MiB). */
#define CHUNK_DRAFTS 1000
#define CHUNK_BYTES (2u << 20)
/* An import file's problems are listed up to this many, then it stops. */
#define MAX_REPORTED 20

/* Keys seen so far and the record that used each first (open addressing;
 * each slot keeps its key's hash, so probing past other keys compares no
 * strings). */
struct keyset {
	char **keys;
	uint64_t *hash;
	size_t *index;
	size_t n, cap;
};

struct importer {
	const struct lcctl *ctx;
	struct drafts *d;
	struct client cl;            /* fd -1 until the first chunk */
	uint8_t *chunk;              /* a DraftBatch being built */
	size_t clen, ccap, ccount;
	size_t records;              /* records read */
	size_t failed;               /* records with problems */
	int node_failed;             /* the node refused: its reason is printed */
	struct keyset keys;
};

static uint64_t
key_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* Adds key for record index; when it was used before, returns 1 with *first the
 * earlier record, else 0. */
static int
keyset_add(struct keyset *ks, const char *key, size_t index, size_t *first)
{
	size_t i, j, oldcap;
	char **oldkeys;
	uint64_t *oldhash, h = key_hash(key);
	size_t *oldindex;

	if (2 * (ks->n + 1) > ks->cap) {
		oldkeys = ks->keys;
		oldhash = ks->hash;
		oldindex = ks->index;
		oldcap = ks->cap;
		ks->cap = oldcap ? 2 * oldcap : 1024;
		ks->keys = xcalloc(ks->cap, sizeof(*ks->keys));
		ks->hash = xcalloc(ks->cap, sizeof(*ks->hash));
		ks->index = xcalloc(ks->cap, sizeof(*ks->index));
		for (i = 0; i < oldcap; i++) {
			if (oldkeys[i] == NULL)
				continue;
			j = oldhash[i] & (ks->cap - 1);
			while (ks->keys[j] != NULL)
				j = (j + 1) & (ks->cap - 1);
			ks->keys[j] = oldkeys[i];
			ks->hash[j] = oldhash[i];
			ks->index[j] = oldindex[i];
		}
		free(oldkeys);
		free(oldhash);
		free(oldindex);
	}
	j = h & (ks->cap - 1);
	while (ks->keys[j] != NULL) {
		if (ks->hash[j] == h && strcmp(ks->keys[j], key) == 0) {
			*first = ks->index[j];
			return 1;
		}
		j = (j + 1) & (ks->cap - 1);
	}
	ks->keys[j] = xstrdup(key);
	ks->hash[j] = h;
	ks->index[j] = index;
	ks->n++;
	return 0;
}

static void
keyset_free(struct keyset *ks)
{
	size_t i;

	for (i = 0; i < ks->cap; i++)
		free(ks->keys[i]);
	free(ks->keys);
	free(ks->hash);
	free(ks->index);
}

/* Two records of one file with one key would overwrite each other in a single
 * import: name both. */
static int
check_key(struct importer *im, const Lcf__Content *c, size_t index)
{
	struct drafts *d = im->d;
	char msg[sizeof(((struct verr *)0)->msg)];
	size_t first;

	if (!keyset_add(&im->keys, c->key, index, &first))
		return 0;
	if (first < d->nlines && d->lines[first] > 0)
		snprintf(msg, sizeof(msg), "key '%s' is also used by record %zu "
		    "(line %d): give one of them another \"key\"", c->key,
		    first + 1, d->lines[first]);
	else
		snprintf(msg, sizeof(msg), "key '%s' is also used by record %zu: "
		    "give one of them another \"key\"", c->key, first + 1);
	drafts_error(d, (long)index, "key", msg);
	return LCF_EEXIST;
}

static void
remember_line(struct drafts *d, size_t index, int line)
{
	if (index >= d->nlines) {
		size_t cap = d->nlines ? 2 * d->nlines : 1024;

		d->lines = xreallocarray(d->lines, cap, sizeof(*d->lines));
		memset(d->lines + d->nlines, 0, (cap - d->nlines) * sizeof(*d->lines));
		d->nlines = cap;
	}
	d->lines[index] = line;
}

/* Appends a draft to the chunk as DraftBatch field 1. */
static void
chunk_add(struct importer *im, const Lcf__Content *c)
{
	size_t len = lcf__content__get_packed_size(c), v;

	if (im->ccap - im->clen < len + 11) {
		im->ccap = 2 * (im->clen + len + 11);
		im->chunk = xreallocarray(im->chunk, im->ccap, 1);
	}
	im->chunk[im->clen++] = 0x0a;
	for (v = len; v >= 0x80; v >>= 7)
		im->chunk[im->clen++] = (uint8_t)(v | 0x80);
	im->chunk[im->clen++] = (uint8_t)v;
	im->clen += lcf__content__pack(c, im->chunk + im->clen);
	im->ccount++;
}

/* Reads the node's answer: the import's end, or why it stopped early. */
static int
read_answer(struct importer *im, Lcf__CtlResponse **resp)
{
	struct client_origin o;
	int ret;

	drafts_origin(im->d, &o);
	ret = client_recv(&im->cl, &o, 0, resp);
	if (ret < 0) {
		im->node_failed = 1;
	} else if ((*resp)->reply_case != LCF__CTL_RESPONSE__REPLY_PUBLISH ||
	    (*resp)->publish == NULL) {
		lcctl_err("lcnode sent an unexpected answer");
		lcf__ctl_response__free_unpacked(*resp, NULL);
		*resp = NULL;
		im->node_failed = 1;
		ret = LCF_EPROTO;
	}
	return ret;
}

/* Sends the chunk. The node answers only at the end, or early when it refuses
 * the import: an answer waiting before the send is that refusal. */
static int
send_chunk(struct importer *im, int last)
{
	Lcf__ImportChunk ic = LCF__IMPORT_CHUNK__INIT;
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__CtlResponse *resp = NULL;
	struct pollfd pfd;
	int ret;

	if (im->cl.fd < 0 && (ret = client_open(im->ctx, &im->cl)) < 0) {
		im->node_failed = 1;
		return ret;
	}
	pfd.fd = im->cl.fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) > 0) {
		if ((ret = read_answer(im, &resp)) == 0) {
			lcctl_err("lcnode ended the import early");
			im->node_failed = 1;
			ret = LCF_EPROTO;
		}
		goto out;
	}
	ic.has_drafts = 1;
	ic.drafts.data = im->chunk;
	ic.drafts.len = im->clen;
	ic.has_count = 1;
	ic.count = (uint32_t)im->ccount;
	ic.has_last = last;
	ic.last = last;
	req.op_case = LCF__CTL_REQUEST__OP_IMPORT_CHUNK;
	req.import_chunk = &ic;
	ret = ctlwire_send(im->cl.fd, &req);
	if (ret == LCF_ECLOSED) {
		/* The node refused the import and closed: say why. */
		if (read_answer(im, &resp) == 0)
			lcctl_err("lcnode ended the import early");
		im->node_failed = 1;
	} else if (ret < 0) {
		lcctl_err("cannot send to lcnode: %s", strerror(errno));
		im->node_failed = 1;
	}
	im->clen = 0;
	im->ccount = 0;
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret < 0 ? ret : 0;
}

/* A record of the file: a CSV row as a JSON object, or the JSON text of one
 * (text, len bytes at line, column col). Returns < 0 when the import must
 * stop; a syntax error is then in err. */
static int
take_record(struct importer *im, json_t *obj, const char *text, size_t len,
    int line, size_t col, char *err, size_t errlen)
{
	struct drafts *d = im->d;
	Lcf__Content *c = NULL;
	size_t index = im->records++;
	int ret = 0;

	remember_line(d, index, line);
	if (obj != NULL)
		ret = drafts_build_record(d, (long)index, obj, &c);
	else
		ret = drafts_build_text(d, (long)index, text, len, line, col, &c,
		    err, errlen);
	if (ret == LCF_EINVAL && err[0] != '\0')
		goto out;
	ret = 0;
	if (c == NULL || check_key(im, c, index) < 0) {
		/* Nothing will be stored: the node must not wait for more. */
		client_close(&im->cl);
		if (++im->failed >= MAX_REPORTED)
			ret = LCF_EVALIDATE;
		goto out;
	}
	if (im->failed > 0 || im->node_failed)
		goto out;
	chunk_add(im, c);
	if (im->ccount >= CHUNK_DRAFTS || im->clen >= CHUNK_BYTES)
		ret = send_chunk(im, 0);
out:
	lcf__content__free_unpacked(c, NULL);
	return ret;
}

/* Reads every record of the file into take_record. */
static int
read_file(struct importer *im, const char *path)
{
	struct drafts *d = im->d;
	const struct tab_item *it;
	struct tab_stream *ts = NULL;
	const char *text;
	char err[1024] = "";
	size_t i, len, col, nlen = strlen(path);
	int line, ret;

	if (nlen >= 4 && strcasecmp(path + nlen - 4, ".csv") == 0) {
		ret = drafts_load_rows(d, path, err, sizeof(err));
		for (i = 0; ret == 0 && i < d->tab.n; i++) {
			it = &d->tab.items[i];
			ret = take_record(im, it->obj, NULL, 0, it->line, 0, err,
			    sizeof(err));
		}
		goto out;
	}
	if ((ret = tab_stream_open(path, LCCTL_MAX_IMPORT, &ts, err,
	    sizeof(err))) < 0)
		goto out;
	/* Each record's text goes straight into its draft, with no JSON tree
	 * in between (pbstream.h). */
	for (;;) {
		if ((ret = tab_stream_next_text(ts, &text, &len, &line, &col, err,
		    sizeof(err))) < 0 || text == NULL)
			break;
		if ((ret = take_record(im, NULL, text, len, line, col, err,
		    sizeof(err))) < 0)
			break;
	}
out:
	if (ret < 0 && err[0] != '\0') {
		client_close(&im->cl);
		lcctl_err("%s", err);
	}
	if (ret < 0 && im->failed >= MAX_REPORTED)
		lcctl_err("%s: stopped after %d records with errors", path,
		    MAX_REPORTED);
	tab_stream_close(ts);
	return ret;
}

int
drafts_import_command(struct lcctl *ctx, int argc, char **argv, Lcf__Kind kind,
    const char *usage, const char *noun, const char *nouns)
{
	Lcf__CtlResponse *resp = NULL;
	struct importer im;
	struct drafts d;
	const char *path;
	int ret;

	drafts_init(&d, kind);
	memset(&im, 0, sizeof(im));
	im.cl.fd = -1;
	im.ctx = ctx;
	im.d = &d;
	if ((ret = lcctl_simple_opts(ctx, argc, argv, usage, 0)) >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, "FILE", usage)) != LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	path = argv[optind];
	d.file = path;
	if (read_file(&im, path) < 0 || im.failed > 0 || im.node_failed)
		goto out;
	if (im.records == 0) {
		lcctl_err("%s: no records", path);
		goto out;
	}
	if (send_chunk(&im, 1) < 0 || im.node_failed)
		goto out;
	if (read_answer(&im, &resp) < 0)
		goto out;
	printf("imported %zu %s from %s (%" PRIu64 " new or changed version%s)\n",
	    im.records, im.records == 1 ? noun : nouns, path, resp->publish->stored,
	    resp->publish->stored == 1 ? "" : "s");
	ret = LCCTL_EXIT_OK;
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	client_close(&im.cl);
	keyset_free(&im.keys);
	free(im.chunk);
	drafts_free(&d);
	return ret;
}
