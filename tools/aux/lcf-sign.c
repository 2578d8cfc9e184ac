// SPDX-License-Identifier: Apache-2.0
// lcf-sign: signs one record of any kind number, known to lcf or not, as a signed JSON line for `lcctl publish` (tests of kinds from later versions).
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "base/util.h"
#include "base/xmalloc.h"
#include "model/identity.h"
#include "model/recfile.h"
#include "model/record.h"
#include "lcf.pb-c.h"

static const char usage[] =
    "Usage: lcf-sign -K KEYFILE -k KIND -s SEQ [-n KEY] [-t MS] [-b HEX [-f FIELD]] [-d]\n"
    "Writes one signed record (the form of `lcctl export --signed`) on\n"
    "standard output: kind KIND (a number, any of 1-2^31), seq SEQ, key KEY\n"
    "(default \"test\"), timestamp MS (default now); -b adds HEX as the bytes\n"
    "of Content field 15 + KIND (the body field a later kind would use,\n"
    "field 24 for kind 9), or of field FIELD; -d marks it deleted.\n";

/* Appends a protobuf varint. */
static size_t
put_varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

int
main(int argc, char **argv)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	struct identity *id = NULL;
	uint8_t *content = NULL, *body = NULL, rid[32], sig[64];
	const char *keyfile = NULL, *key = "test", *bodyhex = NULL;
	size_t len = 0, blen = 0, plen, hl;
	long long kind = 0, field = 0;
	json_t *j;
	char *line;
	int opt, ret = 2;

	if (sodium_init() < 0 || (id = identity_new()) == NULL) {
		fprintf(stderr, "lcf-sign: cannot start libsodium\n");
		return 1;
	}
	while ((opt = getopt(argc, argv, "K:k:s:n:t:b:f:d")) != -1) {
		switch (opt) {
		case 'K': keyfile = optarg; break;
		case 'k': kind = strtoll(optarg, NULL, 10); break;
		case 's': c.has_seq = 1; c.seq = strtoull(optarg, NULL, 10); break;
		case 'n': key = optarg; break;
		case 't': c.has_timestamp = 1; c.timestamp = strtoll(optarg, NULL, 10); break;
		case 'b': bodyhex = optarg; break;
		case 'f': field = strtoll(optarg, NULL, 10); break;
		case 'd': c.has_deleted = 1; c.deleted = 1; break;
		default: fputs(usage, stderr); goto out;
		}
	}
	if (field == 0)
		field = 15 + kind;
	if (keyfile == NULL || kind <= 0 || kind > INT32_MAX || !c.has_seq ||
	    field <= 0 || field > 536870911) {
		fputs(usage, stderr);
		goto out;
	}
	ret = 1;
	if (identity_load(id, keyfile) != 0) {
		fprintf(stderr, "lcf-sign: cannot read the key %s\n", keyfile);
		goto out;
	}
	c.has_author = 1;
	c.author.data = id->pk;
	c.author.len = 32;
	c.has_kind = 1;
	c.kind = (Lcf__Kind)kind;
	c.key = (char *)key;
	if (!c.has_timestamp) {
		c.has_timestamp = 1;
		c.timestamp = now_ms();
	}
	plen = lcf__content__get_packed_size(&c);
	hl = bodyhex != NULL ? strlen(bodyhex) / 2 : 0;
	content = xmalloc(plen + 16 + hl);
	lcf__content__pack(&c, content);
	len = plen;
	if (bodyhex != NULL) {
		body = xmalloc(hl + 1);
		if (hex_decode(bodyhex, body, hl) != 0) {
			fprintf(stderr, "lcf-sign: -b takes hex digits\n");
			goto out;
		}
		blen = hl;
		len += put_varint(content + len, ((uint64_t)field << 3) | 2);
		len += put_varint(content + len, blen);
		memcpy(content + len, body, blen);
		len += blen;
	}
	record_id(content, len, rid);
	identity_sign(id, content, len, sig);
	j = recfile_json(rid, id->pk, content, len, sig, sizeof(sig));
	line = json_dumps(j, JSON_COMPACT);
	printf("%s\n", line);
	free(line);
	json_decref(j);
	ret = 0;
out:
	free(content);
	free(body);
	identity_free(id);
	return ret;
}
