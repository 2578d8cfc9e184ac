// SPDX-License-Identifier: Apache-2.0
// DIR/peers.json: what persists of the peer table, read and written with jansson.
//
// The file is {"version": 1, "peers": [ENTRY...]}, each ENTRY an object with
// "address" (HOST:PORT, absent for a peer known from its connections only),
// "pinned_id" and "id" (64 hex digits), "inbound", "city_name", "listen", the
// counters "bytes_in", "bytes_out", "records_in", "records_out", "refused", and
// "last_handshake_ms", "rtt_ms", "last_error", "last_error_ms", "last_sync_ms",
// "last_sync_result", "last_sync_message", "last_sync_records_in",
// "last_sync_records_out". The node writes it; a person may edit it while the
// node is stopped, so everything read is checked.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/addr.h"
#include "core/config.h"
#include "base/error.h"
#include "base/log.h"
#include "net/peerfile.h"
#include "base/util.h"
#include "base/xmalloc.h"

#define HOST_MAX PEERFILE_HOST_MAX

void
peerfile_copy_text(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)(src != NULL ? src : "");
	size_t o = 0, len, i;
	uint32_t cp;

	while (*s != '\0' && o + 1 < size) {
		if (*s < 0x80) {
			dst[o++] = *s < 0x20 || *s == 0x7f ? '?' : (char)*s;
			s++;
			continue;
		}
		len = 0;
		cp = 0;
		if (*s >= 0xc2 && *s <= 0xdf) {
			len = 2;
			cp = *s & 0x1f;
		} else if (*s >= 0xe0 && *s <= 0xef) {
			len = 3;
			cp = *s & 0x0f;
		} else if (*s >= 0xf0 && *s <= 0xf4) {
			len = 4;
			cp = *s & 0x07;
		}
		for (i = 1; i < len; i++) {
			if ((s[i] & 0xc0) != 0x80) {
				len = 0;
				break;
			}
			cp = cp << 6 | (s[i] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			len = 0;
		/* C1 controls (U+0080..U+009F; U+009B is CSI) are replaced too. */
		if (len == 2 && cp <= 0x9f)
			len = 0;
		if (len == 0) {
			dst[o++] = '?';
			s++;
			continue;
		}
		if (o + len + 1 > size)
			break;
		memcpy(dst + o, s, len);
		o += len;
		s += len;
	}
	dst[o] = '\0';
}

int
peerfile_parse_address(const char *address, char out[PEER_ADDR_MAX],
    char host[HOST_MAX], uint16_t *port)
{
	int ret = LCF_EINVAL;

	if (address == NULL ||
	    addr_parse_hostport(address, host, HOST_MAX, port) != 0)
		goto out;
	addr_format(out, PEER_ADDR_MAX, host, *port);
	ret = 0;
out:
	return ret;
}

/* ---- writing ---- */

static void
set_id(json_t *o, const char *key, int has, const uint8_t *id)
{
	char hex[LCF_ID_HEX];

	if (has)
		json_object_set_new(o, key, json_string(hex_encode(id, 32, hex)));
}

static void
set_u64(json_t *o, const char *key, uint64_t v)
{
	json_object_set_new(o, key, json_integer(v > INT64_MAX ? INT64_MAX :
	    (json_int_t)v));
}

/* Text is cleaned when it enters a peer_saved; json_string refuses only
 * invalid UTF-8, so an empty member is the worst case. */
static void
set_text(json_t *o, const char *key, const char *s)
{
	json_t *j;

	if (s[0] == '\0')
		return;
	if ((j = json_string(s)) != NULL)
		json_object_set_new(o, key, j);
}

static json_t *
entry_json(const struct peer_saved *p)
{
	json_t *o = json_object();

	set_text(o, "address", p->address);
	set_id(o, "pinned_id", p->has_pin, p->pin);
	set_id(o, "id", p->has_id, p->id);
	json_object_set_new(o, "inbound", json_boolean(p->address[0] == '\0'));
	set_text(o, "city_name", p->city_name);
	set_text(o, "listen", p->listen);
	set_u64(o, "bytes_in", p->bytes_in);
	set_u64(o, "bytes_out", p->bytes_out);
	set_u64(o, "records_in", p->records_in);
	set_u64(o, "records_out", p->records_out);
	set_u64(o, "refused", p->refused);
	json_object_set_new(o, "last_handshake_ms", json_integer(p->last_handshake_ms));
	if (p->rtt_ms >= 0)
		json_object_set_new(o, "rtt_ms", json_integer(p->rtt_ms));
	if (p->last_error[0] != '\0') {
		set_text(o, "last_error", p->last_error);
		json_object_set_new(o, "last_error_ms", json_integer(p->last_error_ms));
	}
	if (p->last_sync_ms > 0) {
		json_object_set_new(o, "last_sync_ms", json_integer(p->last_sync_ms));
		json_object_set_new(o, "last_sync_result",
		    json_integer(p->last_sync_result));
		set_text(o, "last_sync_message", p->last_sync_message);
		set_u64(o, "last_sync_records_in", p->last_sync_records_in);
		set_u64(o, "last_sync_records_out", p->last_sync_records_out);
	}
	return o;
}

int
peerfile_save(const char *path, const struct peer_saved *peers, size_t count,
    char *err, size_t errlen)
{
	json_t *root = json_object(), *arr = json_array();
	char *data = NULL;
	size_t i;
	int ret = LCF_EIO;

	json_object_set_new(root, "version", json_integer(PEERFILE_VERSION));
	for (i = 0; i < count; i++)
		json_array_append_new(arr, entry_json(&peers[i]));
	json_object_set_new(root, "peers", arr);
	if ((data = json_dumps(root, JSON_INDENT(2))) == NULL) {
		snprintf(err, errlen, "cannot encode %s", path);
		goto out;
	}
	if (write_file_atomic(path, data, strlen(data), 0600) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(data);
	json_decref(root);
	return ret;
}

/* ---- reading ---- */

static int
get_u64(const json_t *o, const char *key, uint64_t *out)
{
	const json_t *v = json_object_get(o, key);
	int ret = 0;

	if (v == NULL || json_is_null(v))
		goto out;
	ret = LCF_EINVAL;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		goto out;
	*out = (uint64_t)json_integer_value(v);
	ret = 0;
out:
	return ret;
}

static int
get_i64(const json_t *o, const char *key, int64_t *out)
{
	const json_t *v = json_object_get(o, key);
	int ret = 0;

	if (v == NULL || json_is_null(v))
		goto out;
	ret = LCF_EINVAL;
	if (!json_is_integer(v))
		goto out;
	*out = json_integer_value(v);
	ret = 0;
out:
	return ret;
}

static int
get_text(const json_t *o, const char *key, char *dst, size_t size)
{
	const json_t *v = json_object_get(o, key);
	int ret = 0;

	if (v == NULL || json_is_null(v))
		goto out;
	ret = LCF_EINVAL;
	if (!json_is_string(v))
		goto out;
	peerfile_copy_text(dst, size, json_string_value(v));
	ret = 0;
out:
	return ret;
}

static int
get_id(const json_t *o, const char *key, int *has, uint8_t *id)
{
	const json_t *v = json_object_get(o, key);
	int ret = 0;

	if (v == NULL || json_is_null(v))
		goto out;
	ret = LCF_EINVAL;
	if (!json_is_string(v) || strlen(json_string_value(v)) != 64 ||
	    hex_decode(json_string_value(v), id, 32) != 0)
		goto out;
	*has = 1;
	ret = 0;
out:
	return ret;
}

/* Fills p from o; returns NULL or what is wrong with it. */
static const char *
parse_entry(const json_t *o, struct peer_saved *p)
{
	const json_t *addr = json_object_get(o, "address");
	char host[HOST_MAX];
	const char *bad = NULL;
	uint16_t port;
	int64_t result = 0;

	memset(p, 0, sizeof(*p));
	p->rtt_ms = -1;
	if (!json_is_object(o))
		bad = "not an object";
	else if (addr != NULL && !json_is_null(addr) && (!json_is_string(addr) ||
	    peerfile_parse_address(json_string_value(addr), p->address, host,
	    &port) != 0))
		bad = "'address' is not HOST:PORT";
	else if (get_id(o, "pinned_id", &p->has_pin, p->pin) != 0)
		bad = "'pinned_id' is not 64 hex digits";
	else if (get_id(o, "id", &p->has_id, p->id) != 0)
		bad = "'id' is not 64 hex digits";
	else if (p->address[0] == '\0' && !p->has_id)
		bad = "it has neither an address nor an id";
	else if (get_u64(o, "bytes_in", &p->bytes_in) != 0 ||
	    get_u64(o, "bytes_out", &p->bytes_out) != 0 ||
	    get_u64(o, "records_in", &p->records_in) != 0 ||
	    get_u64(o, "records_out", &p->records_out) != 0 ||
	    get_u64(o, "refused", &p->refused) != 0 ||
	    get_u64(o, "last_sync_records_in", &p->last_sync_records_in) != 0 ||
	    get_u64(o, "last_sync_records_out", &p->last_sync_records_out) != 0)
		bad = "a counter is not a non-negative integer";
	else if (get_i64(o, "last_handshake_ms", &p->last_handshake_ms) != 0 ||
	    get_i64(o, "rtt_ms", &p->rtt_ms) != 0 ||
	    get_i64(o, "last_error_ms", &p->last_error_ms) != 0 ||
	    get_i64(o, "last_sync_ms", &p->last_sync_ms) != 0)
		bad = "a time is not an integer";
	else if (get_text(o, "city_name", p->city_name, sizeof(p->city_name)) != 0 ||
	    get_text(o, "listen", p->listen, sizeof(p->listen)) != 0 ||
	    get_text(o, "last_error", p->last_error, sizeof(p->last_error)) != 0 ||
	    get_text(o, "last_sync_message", p->last_sync_message,
	    sizeof(p->last_sync_message)) != 0)
		bad = "a name or message is not a string";
	else if (get_i64(o, "last_sync_result", &result) != 0 || result > 0 ||
	    result < -1000)
		bad = "'last_sync_result' is not an error code";
	p->last_sync_result = (int)result;
	return bad;
}

int
peerfile_load(const char *path, struct peer_saved **out, size_t *count,
    char *err, size_t errlen)
{
	struct peer_saved *v = NULL;
	json_error_t jerr;
	json_t *root = NULL, *arr, *item;
	const char *bad;
	char *buf = NULL;
	size_t len, i, j, n = 0;
	int rc, ret = LCF_ECONFIG;

	*out = NULL;
	*count = 0;
	rc = read_file(path, PEERS_FILE_MAX, &buf, &len);
	if (rc == LCF_EIO && errno == ENOENT) {
		ret = 0;
		goto out;
	}
	if (rc == LCF_ETOOBIG) {
		snprintf(err, errlen, "%s is larger than %u MiB", path,
		    PEERS_FILE_MAX >> 20);
		goto out;
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		ret = LCF_EIO;
		goto out;
	}
	if ((root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(err, errlen, "%s:%d: %s (fix or remove the file)", path,
		    jerr.line, jerr.text);
		goto out;
	}
	arr = json_object_get(root, "peers");
	if (!json_is_object(root) || !json_is_array(arr)) {
		snprintf(err, errlen, "%s: expected an object with a \"peers\" array "
		    "(fix or remove the file)", path);
		goto out;
	}
	if (json_array_size(arr) > CONFIG_MAX_PEERS) {
		snprintf(err, errlen, "%s: more than %d peers", path,
		    CONFIG_MAX_PEERS);
		goto out;
	}
	v = xcalloc(json_array_size(arr) + 1, sizeof(*v));
	json_array_foreach(arr, i, item) {
		if ((bad = parse_entry(item, &v[n])) != NULL) {
			snprintf(err, errlen, "%s: peer %zu: %s (fix or remove the "
			    "file; `lcctl peer add` rebuilds it)", path, i + 1, bad);
			goto out;
		}
		for (j = 0; j < n && (v[n].address[0] == '\0' ||
		    strcmp(v[j].address, v[n].address) != 0); j++)
			;
		if (j < n) {
			log_warnx("peers: %s: peer %zu repeats address %s: ignored",
			    path, i + 1, v[n].address);
			continue;
		}
		n++;
	}
	*out = v;
	*count = n;
	v = NULL;
	ret = 0;
out:
	free(v);
	json_decref(root);
	free(buf);
	return ret;
}
