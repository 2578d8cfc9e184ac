// SPDX-License-Identifier: Apache-2.0
// lcctl export: every current record as one JSON object per line, plain or signed.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "lcctl.h"
#include "model/kinds.h"
#include "model/pbjson.h"
#include "model/recfile.h"
#include "base/util.h"
#include "base/xmalloc.h"

/* The usage around the list of kinds, which comes from the table. */
static const char usage_head[] =
    "Usage: lcctl [-d DIR] export [--city ID] [--kind KIND[,KIND...]] [--signed]\n"
    "                             [--include-deleted]\n"
    "\n"
    "Writes every current record the node holds, one JSON object per line:\n"
    "one version per key of a city, the one its newest key wrote, as lists show.\n"
    "Plain lines are the records' JSON form (id, author, city, seq, kind, key,\n"
    "timestamp, deleted and the body). With --signed each line is\n"
    "{\"id\", \"author\", \"content\", \"signature\"}: the exact signed bytes in\n"
    "base64, which anyone can check against the author's key.\n"
    "\n"
    "Options:\n"
    "  --city ID           only this city's records, under every key it has had\n"
    "                      (id or unique prefix of 6+ hex digits)\n"
    "  --kind KIND         only records of these kinds (repeat or separate with\n"
    "                      commas):";
static const char usage_tail[] =
    "  --signed            the signed form\n"
    "  --include-deleted   also tombstones of removed records\n"
    "  -h, --help          show this help\n";

#define USAGE_INDENT 22         /* where option descriptions start */
#define USAGE_WIDTH 80          /* no usage line is longer */

/* The usage text, built once; static. */
static const char *
usage(void)
{
	static char buf[sizeof(usage_head) + sizeof(usage_tail) + 512];
	const struct kinds_def *k;
	size_t i, o, col, w;
	const char *nl;

	if (buf[0] != '\0')
		return buf;
	o = (size_t)snprintf(buf, sizeof(buf), "%s", usage_head);
	nl = strrchr(usage_head, '\n');
	col = strlen(nl != NULL ? nl + 1 : usage_head);
	for (i = 0; (k = kinds_at(i)) != NULL && o < sizeof(buf); i++) {
		w = strlen(k->name) + (kinds_at(i + 1) != NULL);
		if (col + 1 + w > USAGE_WIDTH) {
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\n%*s",
			    USAGE_INDENT, "");
			col = USAGE_INDENT;
		} else {
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, " ");
			col++;
		}
		if (o < sizeof(buf))
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
			    k->name, kinds_at(i + 1) != NULL ? "," : "");
		col += w;
	}
	if (o < sizeof(buf))
		snprintf(buf + o, sizeof(buf) - o, "\n%s", usage_tail);
	return buf;
}

/* Adds the kinds named in arg (comma-separated) to kinds, once each.
 * LCCTL_EXIT_USAGE after saying which name is wrong, else -1. */
static int
add_kinds(const struct lcctl *ctx, const char *arg, Lcf__Kind *kinds,
    size_t *nkinds)
{
	char *copy = xstrdup(arg), *save = NULL, *w, names[512];
	const struct kinds_def *k;
	size_t i;
	int ret = -1;

	for (w = strtok_r(copy, ",", &save); w != NULL && ret < 0;
	    w = strtok_r(NULL, ",", &save)) {
		if ((k = kinds_by_name(w)) == NULL) {
			ret = lcctl_bad_usage(ctx, "--kind '%s' is not a record kind: "
			    "one of %s", w, kinds_names(names, sizeof(names), ", "));
			break;
		}
		for (i = 0; i < *nkinds && kinds[i] != k->kind; i++)
			;
		if (i == *nkinds && *nkinds < KINDS_LIMIT)
			kinds[(*nkinds)++] = k->kind;
	}
	if (ret < 0 && *nkinds == 0)
		ret = lcctl_bad_usage(ctx, "--kind needs at least one kind");
	free(copy);
	return ret;
}

static json_t *
signed_json(const Lcf__RecordItem *it, const Lcf__Content *c)
{
	const Lcf__SignedRecord *sr = it->record;

	return recfile_json(it->id.data, c->author.data, sr->content.data,
	    sr->content.len, sr->signature.data,
	    sr->has_signature ? sr->signature.len : 0);
}

/* Writes one line. LCF_ECLOSED when the reader has gone away. */
static int
write_line(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	int ret = LCF_EIO;

	if (s == NULL) {
		lcctl_err("cannot encode a record as JSON");
		goto out;
	}
	if (fputs(s, stdout) == EOF || putchar('\n') == EOF) {
		if (errno == EPIPE) {
			ret = LCF_ECLOSED;
		} else {
			lcctl_err("cannot write to standard output: %s",
			    strerror(errno));
		}
		goto out;
	}
	ret = 0;
out:
	free(s);
	return ret;
}

/* Writes the records of one chunk. */
static int
write_items(const Lcf__QueryReply *q, int sign)
{
	Lcf__Content *c = NULL;
	const Lcf__RecordItem *it;
	json_t *j;
	size_t i;
	int ret = 0;

	for (i = 0; q != NULL && i < q->n_items && ret == 0; i++) {
		it = q->items[i];
		if ((ret = client_item_content(it, &c)) < 0)
			break;
		j = sign ? signed_json(it, c) : pbjson_record(it->id.data, c,
		    it->city_name);
		ret = write_line(j);
		json_decref(j);
		lcf__content__free_unpacked(c, NULL);
		c = NULL;
	}
	return ret;
}

int
cmd_export(struct lcctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "city", required_argument, NULL, 'y' },
		{ "kind", required_argument, NULL, 'k' },
		{ "signed", no_argument, NULL, 's' },
		{ "include-deleted", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Lcf__ExportRequest er = LCF__EXPORT_REQUEST__INIT;
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__CtlResponse *resp = NULL;
	struct client cl = { -1 };
	Lcf__Kind kinds[KINDS_LIMIT];
	size_t nkinds = 0;
	int c, ret = -1, sign = 0, more = 1, rc;

	while (ret < 0 && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'y')
			er.city = optarg;
		else if (c == 'k')
			ret = add_kinds(ctx, optarg, kinds, &nkinds);
		else if (c == 's')
			sign = 1;
		else if (c == 'd')
			er.has_include_deleted = er.include_deleted = 1;
		else
			ret = lcctl_common_opt(c, usage());
	}
	if (ret >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, NULL, NULL)) != LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	er.kinds = kinds;
	er.n_kinds = nkinds;
	req.op_case = LCF__CTL_REQUEST__OP_EXPORT;
	req.export = &er;
	if (client_open(ctx, &cl) < 0 || client_send(&cl, &req) < 0)
		goto out;
	/* The answer streams in chunks; each is written and released before
	 * the next is read, so memory stays at one chunk. */
	while (more) {
		if (client_recv(&cl, NULL, 0, &resp) < 0)
			goto out;
		if (resp->reply_case != LCF__CTL_RESPONSE__REPLY_QUERY) {
			lcctl_err("lcnode sent an unexpected answer");
			goto out;
		}
		rc = write_items(resp->query, sign);
		if (rc == LCF_ECLOSED) {
			/* The reader had enough (export | head): stop quietly. */
			clearerr(stdout);
			ret = LCCTL_EXIT_OK;
			goto out;
		}
		if (rc < 0)
			goto out;
		more = resp->has_more && resp->more;
		lcf__ctl_response__free_unpacked(resp, NULL);
		resp = NULL;
	}
	ret = LCCTL_EXIT_OK;
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	client_close(&cl);
	return ret;
}
