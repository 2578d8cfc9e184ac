// SPDX-License-Identifier: Apache-2.0
// Signed records as JSON lines, the form of `export --signed`, of the records
// `lcctl federation` writes and of what `lcctl publish` reads.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "base/error.h"
#include "lcf.pb-c.h"
#include "model/recfile.h"
#include "model/record.h"
#include "base/util.h"
#include "base/xmalloc.h"

static json_t *
b64_json(const uint8_t *data, size_t len)
{
	size_t max = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *b = xmalloc(max);
	json_t *j;

	sodium_bin2base64(b, max, data, len, sodium_base64_VARIANT_ORIGINAL);
	j = json_string(b);
	free(b);
	return j;
}

json_t *
recfile_json(const uint8_t id[32], const uint8_t author[32],
    const uint8_t *content, size_t content_len, const uint8_t *sig,
    size_t sig_len)
{
	json_t *o = json_object();
	char hex[LCF_ID_HEX];

	json_object_set_new(o, "id", json_string(hex_encode(id, 32, hex)));
	json_object_set_new(o, "author", json_string(hex_encode(author, 32, hex)));
	json_object_set_new(o, "content", b64_json(content, content_len));
	json_object_set_new(o, "signature", b64_json(sig, sig_len));
	return o;
}

static int
errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return LCF_EINVAL;
}

/* Decodes base64 member name of o into a new buffer of at most max bytes. */
static int
b64_member(json_t *o, const char *name, size_t max, uint8_t **out, size_t *len,
    char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, name);
	const char *s;
	size_t slen;

	if (!json_is_string(v))
		return errf(err, errlen, "field %s: missing or not a string", name);
	s = json_string_value(v);
	slen = json_string_length(v);
	if (slen / 4 * 3 > max + 3)
		return errf(err, errlen, "field %s: longer than %zu bytes", name, max);
	*out = xmalloc(slen / 4 * 3 + 3);
	if (sodium_base642bin(*out, slen / 4 * 3 + 3, s, slen, NULL, len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || *len > max || *len == 0) {
		free(*out);
		*out = NULL;
		return errf(err, errlen, "field %s: not base64 of 1 to %zu bytes",
		    name, max);
	}
	return 0;
}

/* A hex id member, when present, must equal want. */
static int
hex_member(json_t *o, const char *name, const uint8_t *want, char *err,
    size_t errlen)
{
	const json_t *v = json_object_get(o, name);
	char hex[LCF_ID_HEX];

	if (v == NULL)
		return 0;
	hex_encode(want, 32, hex);
	if (!json_is_string(v) || strcasecmp(json_string_value(v), hex) != 0)
		return errf(err, errlen, "field %s: does not match the content "
		    "(it is %s)", name, hex);
	return 0;
}

int
recfile_parse(const char *line, size_t len, uint8_t **raw, size_t *raw_len,
    char *err, size_t errlen)
{
	Lcf__SignedRecord sr = LCF__SIGNED_RECORD__INIT;
	Lcf__Content *c = NULL;
	json_error_t je;
	json_t *o;
	uint8_t *content = NULL, *sig = NULL, id[32];
	size_t clen = 0, slen = 0;
	int ret = LCF_EINVAL;

	*raw = NULL;
	*raw_len = 0;
	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL) {
		errf(err, errlen, "not JSON: %s (column %d)", je.text, je.column);
		goto out;
	}
	if (!json_is_object(o)) {
		errf(err, errlen, "not a JSON object");
		goto out;
	}
	if (b64_member(o, "content", RECORD_MAX_CONTENT, &content, &clen, err,
	    errlen) < 0 ||
	    b64_member(o, "signature", 64, &sig, &slen, err, errlen) < 0)
		goto out;
	if (slen != 64) {
		errf(err, errlen, "field signature: %zu bytes, an Ed25519 "
		    "signature has 64", slen);
		goto out;
	}
	c = lcf__content__unpack(NULL, clen, content);
	if (c == NULL || !c->has_author || c->author.len != 32) {
		errf(err, errlen, "field content: not a record's content (no "
		    "32-byte author)");
		goto out;
	}
	record_id(content, clen, id);
	if (hex_member(o, "id", id, err, errlen) < 0 ||
	    hex_member(o, "author", c->author.data, err, errlen) < 0)
		goto out;
	sr.has_content = sr.has_signature = 1;
	sr.content.data = content;
	sr.content.len = clen;
	sr.signature.data = sig;
	sr.signature.len = slen;
	*raw_len = lcf__signed_record__get_packed_size(&sr);
	*raw = xmalloc(*raw_len);
	lcf__signed_record__pack(&sr, *raw);
	ret = 0;
out:
	if (c != NULL)
		lcf__content__free_unpacked(c, NULL);
	json_decref(o);
	free(content);
	free(sig);
	return ret;
}
