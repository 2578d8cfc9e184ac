// SPDX-License-Identifier: Apache-2.0
// lcctl publish: hands signed records made elsewhere (the federation's
// admissions, revocations and catalog) to the node, which spreads them.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/error.h"
#include "write/ingest.h"
#include "lcctl.h"
#include "model/recfile.h"
#include "model/record.h"
#include "base/util.h"
#include "model/validate.h"
#include "base/xmalloc.h"

static const char usage[] =
    "Usage: lcctl [-d DIR] publish FILE\n"
    "\n"
    "Publishes signed records made elsewhere: one JSON object per line as\n"
    "`lcctl federation` and `export --signed` write them (\"-\" reads standard\n"
    "input). Every record is checked here first (its signature, its fields);\n"
    "if any line is bad nothing is sent. The node then judges each record like\n"
    "one from a peer, stores it and spreads it to its peers.\n"
    "\n"
    "Options:\n"
    "  -h, --help   show this help\n";

struct recs {
	uint8_t **raw;
	size_t *len;
	size_t *line;
	size_t n, cap;
};

static void
recs_free(struct recs *r)
{
	while (r->n > 0)
		free(r->raw[--r->n]);
	free(r->raw);
	free(r->len);
	free(r->line);
}

/* Parses and checks every line of buf; prints FILE:LINE: why on the first bad one. */
static int
parse_all(const char *file, const char *buf, size_t blen, struct recs *r)
{
	const char *p = buf, *end = buf + blen, *nl;
	struct record rec;
	struct verr verr;
	char err[512];
	size_t lineno = 0, llen;
	uint8_t *raw;
	size_t rawlen;
	int rc;

	for (; p < end; p = nl + 1) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		llen = (size_t)(nl - p);
		while (llen > 0 && (p[llen - 1] == '\r' || p[llen - 1] == ' '))
			llen--;
		if (llen == 0)
			continue;
		if (recfile_parse(p, llen, &raw, &rawlen, err, sizeof(err)) < 0) {
			lcctl_err("%s:%zu: %s", file, lineno, err);
			return LCF_EINVAL;
		}
		if ((rc = record_open(raw, rawlen, 1, &rec)) != 0) {
			lcctl_err("%s:%zu: %s", file, lineno, rc == LCF_EBADSIG ?
			    "bad signature: the record was changed after it was "
			    "signed, or signed with another key" :
			    "not a signed record");
			free(raw);
			return LCF_EINVAL;
		}
		rc = validate_content(rec.c, NULL, 0, &verr);
		record_release(&rec);
		if (rc != 0) {
			lcctl_err("%s:%zu: field %s: %s", file, lineno,
			    verr.field[0] ? verr.field : "content", verr.msg);
			free(raw);
			return LCF_EINVAL;
		}
		if (r->n == r->cap) {
			r->cap = r->cap ? 2 * r->cap : 64;
			r->raw = xreallocarray(r->raw, r->cap, sizeof(*r->raw));
			r->len = xreallocarray(r->len, r->cap, sizeof(*r->len));
			r->line = xreallocarray(r->line, r->cap, sizeof(*r->line));
		}
		r->raw[r->n] = raw;
		r->len[r->n] = rawlen;
		r->line[r->n++] = lineno;
	}
	if (r->n == 0) {
		lcctl_err("%s: no records in it", file);
		return LCF_EINVAL;
	}
	return 0;
}

/* "record N (ID): why" from the node, with N turned into the file's line. */
static void
print_refusal(const char *file, const struct recs *r, size_t base,
    const char *reason)
{
	unsigned long idx;
	char *rest;

	if (strncmp(reason, "record ", 7) == 0 &&
	    (idx = strtoul(reason + 7, &rest, 10)) >= 1 && base + idx <= r->n)
		lcctl_err("%s:%zu: refused%s", file, r->line[base + idx - 1], rest);
	else
		lcctl_err("%s: refused: %s", file, reason);
}

int
cmd_publish(struct lcctl *ctx, int argc, char **argv)
{
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__SubmitRequest sub = LCF__SUBMIT_REQUEST__INIT;
	Lcf__CtlResponse *resp = NULL;
	ProtobufCBinaryData *bins = NULL;
	struct recs r = { 0 };
	uint64_t stored = 0, known = 0, held = 0, refused = 0;
	const char *file;
	char *buf = NULL;
	size_t blen, i, k;
	int ret;

	if ((ret = lcctl_simple_opts(ctx, argc, argv, usage, 0)) >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, "FILE", usage)) != LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	file = argv[optind];
	if (sodium_init() < 0) {
		lcctl_err("cannot initialise libsodium");
		goto out;
	}
	if (read_file(strcmp(file, "-") == 0 ? "/dev/stdin" : file,
	    LCCTL_MAX_IMPORT, &buf, &blen) < 0) {
		lcctl_err("cannot read %s: %s", file, strerror(errno));
		goto out;
	}
	if (parse_all(file, buf, blen, &r) < 0)
		goto out;
	bins = xcalloc(INGEST_MAX_BATCH, sizeof(*bins));
	for (i = 0; i < r.n; i += k) {
		for (k = 0; k < INGEST_MAX_BATCH && i + k < r.n; k++) {
			bins[k].data = r.raw[i + k];
			bins[k].len = r.len[i + k];
		}
		sub.records = bins;
		sub.n_records = k;
		req.op_case = LCF__CTL_REQUEST__OP_SUBMIT;
		req.submit = &sub;
		if (client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY_SUBMIT, NULL, 0,
		    &resp) < 0)
			goto out;
		stored += resp->submit->stored;
		known += resp->submit->known;
		held += resp->submit->held;
		refused += resp->submit->refused;
		if (resp->submit->refused > 0 && resp->submit->reason != NULL)
			print_refusal(file, &r, i, resp->submit->reason);
		lcf__ctl_response__free_unpacked(resp, NULL);
		resp = NULL;
	}
	printf("%zu records: %llu stored, %llu already stored, %llu waiting for "
	    "their city's admission, %llu refused\n", r.n, (unsigned long long)stored,
	    (unsigned long long)known, (unsigned long long)held,
	    (unsigned long long)refused);
	ret = refused > 0 ? LCCTL_EXIT_ERR : LCCTL_EXIT_OK;
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	free(bins);
	recs_free(&r);
	free(buf);
	return ret;
}
