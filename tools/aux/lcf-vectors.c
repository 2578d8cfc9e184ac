// SPDX-License-Identifier: Apache-2.0
// lcf-vectors: writes the conformance vectors of docs/vectors/ (a Noise handshake, records, a set digest and an IBLT exchange) from fixed keys, byte for byte the same at every run.
//
// Usage: lcf-vectors DIR
// Writes DIR/noise.json, DIR/records.json and DIR/sets.json (docs/vectors/
// README.md says what each holds). Every key, seed, ephemeral key and
// timestamp is fixed here; nothing depends on the clock or on randomness.
// `make vectors` runs it into docs/vectors/, and tests/blackbox/vectors.sh
// checks that a run gives the committed files exactly.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "lcf.pb-c.h"
#include "peer.pb-c.h"
#include "base/error.h"
#include "base/xmalloc.h"
#include "model/iblt.h"
#include "model/identity.h"
#include "model/kinds.h"
#include "model/record.h"
#include "wire/noise.h"

#define VEC_TIMESTAMP 1767225600000LL	/* 2026-01-01T00:00:00Z */
#define VEC_FUTURE 4102444800000LL	/* 2100-01-01T00:00:00Z */
#define VEC_PROLOGUE "lcf-peer/1"

/* A key pair from a fixed seed: 32 bytes of the byte b. */
struct vkey {
	uint8_t seed[32];
	uint8_t pk[32];
	uint8_t sk[64];
};

static void
vkey_make(struct vkey *k, uint8_t b)
{
	memset(k->seed, b, sizeof(k->seed));
	crypto_sign_seed_keypair(k->pk, k->sk, k->seed);
}

static json_t *
hexj(const uint8_t *p, size_t len)
{
	char *s = xmalloc(2 * len + 1);
	json_t *j;

	sodium_bin2hex(s, 2 * len + 1, p, len);
	j = json_string(s);
	free(s);
	return j;
}

static void
die(const char *what)
{
	fprintf(stderr, "lcf-vectors: %s\n", what);
	exit(2);
}

static void
write_json(const char *dir, const char *name, json_t *j)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (json_dump_file(j, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER |
	    JSON_ENSURE_ASCII) != 0)
		die("cannot write a file");
	/* json_dump_file ends without a newline: add one. */
	FILE *f = fopen(path, "a");
	if (f == NULL || fputc('\n', f) == EOF || fclose(f) != 0)
		die("cannot write a file");
	json_decref(j);
}

/* ---- Noise ---- */

static json_t *
hello_bytes(const struct vkey *k, const char *name, uint8_t **out, size_t *len)
{
	Lcf__Hello h = LCF__HELLO__INIT;

	h.has_identity = 1;
	h.identity.data = (uint8_t *)k->pk;
	h.identity.len = 32;
	h.has_version = 1;
	h.version = 2;
	h.has_protocol = 1;
	h.protocol = 3;
	h.city_name = (char *)name;
	*len = lcf__hello__get_packed_size(&h);
	*out = xmalloc(*len);
	lcf__hello__pack(&h, *out);
	return hexj(*out, *len);
}

/* The frame of one handshake message: 2-byte big-endian length, then it. */
static json_t *
framej(const uint8_t *msg, size_t len)
{
	uint8_t *f = xmalloc(len + 2);
	json_t *j;

	f[0] = (uint8_t)(len >> 8);
	f[1] = (uint8_t)len;
	memcpy(f + 2, msg, len);
	j = hexj(f, len + 2);
	free(f);
	return j;
}

/* One transport frame of a PeerMsg in one fragment. */
static json_t *
transport_msg(struct noise_cipher *c, const Lcf__PeerMsg *m, const char *what)
{
	size_t plen = lcf__peer_msg__get_packed_size(m);
	uint8_t *plain = xmalloc(plen + 1), *ct = xmalloc(plen + 1 + NOISE_TAG);
	json_t *j = json_object();

	plain[0] = 0;	/* flags: no fragment follows */
	lcf__peer_msg__pack(m, plain + 1);
	if (noise_encrypt(c, plain, plen + 1, ct) != 0)
		die("noise_encrypt");
	json_object_set_new(j, "what", json_string(what));
	json_object_set_new(j, "nonce", json_integer((json_int_t)(c->n - 1)));
	json_object_set_new(j, "peermsg", hexj(plain + 1, plen));
	json_object_set_new(j, "plaintext", hexj(plain, plen + 1));
	json_object_set_new(j, "frame", framej(ct, plen + 1 + NOISE_TAG));
	free(plain);
	free(ct);
	return j;
}

static json_t *
keyobj(const struct vkey *k, const uint8_t *e_priv)
{
	json_t *j = json_object();
	uint8_t x[32], xp[32], ep[32];

	json_object_set_new(j, "ed25519_seed", hexj(k->seed, 32));
	json_object_set_new(j, "ed25519_public", hexj(k->pk, 32));
	if (noise_static_from_ed25519(k->sk, x) != 0 ||
	    noise_pub_from_ed25519(k->pk, xp) != 0)
		die("key conversion");
	json_object_set_new(j, "static_private", hexj(x, 32));
	json_object_set_new(j, "static_public", hexj(xp, 32));
	crypto_scalarmult_base(ep, e_priv);
	json_object_set_new(j, "ephemeral_private", hexj(e_priv, 32));
	json_object_set_new(j, "ephemeral_public", hexj(ep, 32));
	sodium_memzero(x, sizeof(x));
	return j;
}

static void
hs_start(struct noise_handshake *hs, int initiator, const struct vkey *k,
    const uint8_t *e_priv)
{
	uint8_t x[32];

	if (noise_static_from_ed25519(k->sk, x) != 0 ||
	    noise_hs_init(hs, NOISE_XX, initiator, (const uint8_t *)VEC_PROLOGUE,
	    strlen(VEC_PROLOGUE), x, NULL) != 0 ||
	    noise_hs_set_ephemeral(hs, e_priv) != 0)
		die("noise_hs_init");
}

/* One handshake message from w to r: its bytes, and r's payload checked. */
static json_t *
hs_step(struct noise_handshake *w, struct noise_handshake *r, int n,
    const char *pattern, const uint8_t *payload, size_t plen)
{
	uint8_t msg[NOISE_MAX_MSG], got[NOISE_MAX_MSG];
	size_t mlen, glen;
	json_t *j = json_object();

	if (noise_hs_write_message(w, payload, plen, msg, sizeof(msg), &mlen) != 0 ||
	    noise_hs_read_message(r, msg, mlen, got, sizeof(got), &glen) != 0 ||
	    glen != plen || (plen && memcmp(got, payload, plen) != 0))
		die("handshake message");
	json_object_set_new(j, "message", json_integer(n));
	json_object_set_new(j, "pattern", json_string(pattern));
	json_object_set_new(j, "payload", hexj(payload, plen));
	json_object_set_new(j, "noise", hexj(msg, mlen));
	json_object_set_new(j, "frame", framej(msg, mlen));
	return j;
}

static json_t *
noise_vectors(void)
{
	struct vkey ik, rk;
	uint8_t ie[32], re[32], h[64], *hello_r, *hello_i;
	size_t lr, li;
	struct noise_handshake ih, rh;
	struct noise_cipher isend, irecv, rsend, rrecv;
	Lcf__PeerMsg m1 = LCF__PEER_MSG__INIT, m2 = LCF__PEER_MSG__INIT;
	Lcf__SyncStart ss = LCF__SYNC_START__INIT;
	Lcf__SyncSketch sk = LCF__SYNC_SKETCH__INIT;
	uint8_t digest[IBLT_DIGEST_BYTES];
	struct iblt_digest d;
	json_t *j = json_object(), *msgs = json_array(), *tr = json_array(), *t;

	vkey_make(&ik, 0x11);
	vkey_make(&rk, 0x22);
	memset(ie, 0x33, sizeof(ie));
	memset(re, 0x44, sizeof(re));
	json_object_set_new(j, "protocol",
	    json_string("Noise_XX_25519_ChaChaPoly_BLAKE2b"));
	json_object_set_new(j, "prologue", hexj((const uint8_t *)VEC_PROLOGUE,
	    strlen(VEC_PROLOGUE)));
	json_object_set_new(j, "initiator", keyobj(&ik, ie));
	json_object_set_new(j, "responder", keyobj(&rk, re));
	hs_start(&ih, 1, &ik, ie);
	hs_start(&rh, 0, &rk, re);
	json_object_set_new(j, "hello_responder",
	    hello_bytes(&rk, "Responderville", &hello_r, &lr));
	json_object_set_new(j, "hello_initiator",
	    hello_bytes(&ik, "Initiatorville", &hello_i, &li));
	json_array_append_new(msgs, hs_step(&ih, &rh, 1, "-> e", NULL, 0));
	json_array_append_new(msgs, hs_step(&rh, &ih, 2, "<- e, ee, s, es",
	    hello_r, lr));
	json_array_append_new(msgs, hs_step(&ih, &rh, 3, "-> s, se",
	    hello_i, li));
	json_object_set_new(j, "messages", msgs);
	if (noise_hs_split(&ih, &isend, &irecv) != 0 ||
	    noise_hs_split(&rh, &rsend, &rrecv) != 0 ||
	    memcmp(isend.k, rrecv.k, 32) != 0 || memcmp(irecv.k, rsend.k, 32) != 0)
		die("split");
	noise_hs_hash(&ih, h);
	json_object_set_new(j, "handshake_hash", hexj(h, 64));
	json_object_set_new(j, "initiator_to_responder_key", hexj(isend.k, 32));
	json_object_set_new(j, "responder_to_initiator_key", hexj(rsend.k, 32));

	/* The initiator opens a reconciliation of an empty set; the responder,
	 * empty too, answers equal. */
	memset(&d, 0, sizeof(d));
	iblt_digest_bytes(&d, digest);
	ss.has_session = ss.has_count = ss.has_digest = 1;
	ss.session = 0x0102030405060708ULL;
	ss.count = 0;
	ss.digest.data = digest;
	ss.digest.len = sizeof(digest);
	m1.msg_case = LCF__PEER_MSG__MSG_SYNC_START;
	m1.sync_start = &ss;
	sk.has_session = sk.has_equal = sk.has_count = 1;
	sk.session = ss.session;
	sk.equal = 1;
	sk.count = 0;
	m2.msg_case = LCF__PEER_MSG__MSG_SYNC_SKETCH;
	m2.sync_sketch = &sk;
	t = transport_msg(&isend, &m1, "initiator: SyncStart{session, count 0, "
	    "digest of the empty set}");
	json_array_append_new(tr, t);
	t = transport_msg(&rsend, &m2, "responder: SyncSketch{session, equal, "
	    "count 0}");
	json_array_append_new(tr, t);
	json_object_set_new(j, "transport", tr);
	free(hello_r);
	free(hello_i);
	noise_hs_wipe(&ih);
	noise_hs_wipe(&rh);
	return j;
}

/* ---- records ---- */

struct vrec {
	uint8_t *raw;
	size_t len;
};

/* The canonical SignedRecord of content signed by sk (or the signature sig
 * when not NULL). */
static void
seal(const uint8_t *content, size_t clen, const uint8_t *sk,
    const uint8_t *sig, struct vrec *out)
{
	Lcf__SignedRecord sr = LCF__SIGNED_RECORD__INIT;
	uint8_t s[64];

	if (sig == NULL)
		crypto_sign_detached(s, NULL, content, clen, sk);
	else
		memcpy(s, sig, 64);
	sr.has_content = sr.has_signature = 1;
	sr.content.data = (uint8_t *)content;
	sr.content.len = clen;
	sr.signature.data = s;
	sr.signature.len = 64;
	out->len = lcf__signed_record__get_packed_size(&sr);
	out->raw = xmalloc(out->len);
	lcf__signed_record__pack(&sr, out->raw);
}

static void
content_init(Lcf__Content *c, const struct vkey *k, uint64_t seq,
    Lcf__Kind kind, const char *key)
{
	lcf__content__init(c);
	c->has_author = c->has_seq = c->has_kind = c->has_timestamp = 1;
	c->author.data = (uint8_t *)k->pk;
	c->author.len = 32;
	c->seq = seq;
	c->kind = kind;
	c->key = (char *)key;
	c->timestamp = VEC_TIMESTAMP;
}

static uint8_t *
pack(const Lcf__Content *c, size_t *len)
{
	uint8_t *b;

	*len = lcf__content__get_packed_size(c);
	b = xmalloc(*len ? *len : 1);
	lcf__content__pack(c, b);
	return b;
}

/* The valid records, for their summaries. */
#define VEC_MAX_VALID 32
static struct valid {
	uint8_t id[RECORD_ID_LEN];
	uint8_t author[32];
	uint64_t seq;
	int kind;
} valid[VEC_MAX_VALID];
static size_t nvalid;

/* Appends one vector: the record's bytes and what a receiver does with it. */
static void
add_vec(json_t *arr, const char *name, const char *about, const struct vrec *v,
    const char *verdict, const char *reason)
{
	json_t *j = json_object();
	uint8_t id[RECORD_ID_LEN];
	struct record rec;

	json_object_set_new(j, "name", json_string(name));
	json_object_set_new(j, "about", json_string(about));
	json_object_set_new(j, "record", hexj(v->raw, v->len));
	json_object_set_new(j, "length", json_integer((json_int_t)v->len));
	if (record_open(v->raw, v->len, 0, &rec) == 0) {
		json_object_set_new(j, "id", hexj(rec.id, RECORD_ID_LEN));
		json_object_set_new(j, "author", hexj(rec.c->author.data,
		    rec.c->author.len));
		json_object_set_new(j, "content", hexj(rec.sr->content.data,
		    rec.sr->content.len));
		json_object_set_new(j, "signature", hexj(rec.sr->signature.data,
		    rec.sr->signature.len));
		if (strcmp(verdict, "accept") == 0) {
			if (nvalid == VEC_MAX_VALID)
				die("too many valid records");
			memcpy(valid[nvalid].id, rec.id, RECORD_ID_LEN);
			memcpy(valid[nvalid].author, rec.c->author.data, 32);
			valid[nvalid].seq = rec.c->seq;
			valid[nvalid].kind = (int)rec.c->kind;
			nvalid++;
		}
		record_release(&rec);
	} else if (record_peek_id(v->raw, v->len, id) == 0) {
		json_object_set_new(j, "id", hexj(id, RECORD_ID_LEN));
	} else {
		json_object_set_new(j, "id", json_null());
	}
	json_object_set_new(j, "verdict", json_string(verdict));
	json_object_set_new(j, "reason", reason ? json_string(reason) :
	    json_null());
	json_array_append_new(arr, j);
	free(v->raw);
}

static void
seal_content(const Lcf__Content *c, const struct vkey *k, struct vrec *v)
{
	size_t len;
	uint8_t *b = pack(c, &len);

	seal(b, len, k->sk, NULL, v);
	free(b);
}

/* The valid records, first part: kinds 1 to 5. */
static void
valid_records_1(json_t *arr, const struct vkey *a, const struct vkey *b,
    const struct vkey *fed)
{
	Lcf__Content c;
	Lcf__CityProfile city = LCF__CITY_PROFILE__INIT;
	Lcf__Practice pr = LCF__PRACTICE__INIT;
	Lcf__IndicatorValue iv = LCF__INDICATOR_VALUE__INIT;
	Lcf__Membership mb = LCF__MEMBERSHIP__INIT;
	Lcf__Revocation rv = LCF__REVOCATION__INIT;
	char *areas[] = { "2.2" };
	char ahex[65], bhex[65];
	struct vrec v;

	sodium_bin2hex(ahex, sizeof(ahex), a->pk, 32);
	sodium_bin2hex(bhex, sizeof(bhex), b->pk, 32);

	content_init(&c, a, 1, LCF__KIND__KIND_CITY, "profile");
	city.name = "Vectorville";
	city.country = "RO";
	c.body_case = LCF__CONTENT__BODY_CITY;
	c.city = &city;
	seal_content(&c, a, &v);
	add_vec(arr, "city", "a city profile (kind 1)", &v, "accept", NULL);

	content_init(&c, a, 2, LCF__KIND__KIND_PRACTICE, "reading-grandparents");
	pr.title = "Reading with grandparents";
	pr.summary = "Grandparents read to children in the city library.";
	pr.language = "en";
	pr.n_kflc_areas = 1;
	pr.kflc_areas = areas;
	c.body_case = LCF__CONTENT__BODY_PRACTICE;
	c.practice = &pr;
	seal_content(&c, a, &v);
	add_vec(arr, "practice", "a practice (kind 2)", &v, "accept", NULL);

	content_init(&c, a, 3, LCF__KIND__KIND_INDICATOR, "2.2-read/2024");
	iv.indicator = "2.2-read";
	iv.period = "2024";
	iv.has_value = 1;
	iv.value = 0.5;
	c.body_case = LCF__CONTENT__BODY_INDICATOR;
	c.indicator = &iv;
	seal_content(&c, a, &v);
	add_vec(arr, "indicator", "an indicator value (kind 3); its key is "
	    "INDICATOR/PERIOD", &v, "accept", NULL);

	content_init(&c, fed, 1, LCF__KIND__KIND_MEMBERSHIP, ahex);
	mb.has_city = 1;
	mb.city.data = (uint8_t *)a->pk;
	mb.city.len = 32;
	mb.name = "Vectorville";
	mb.country = "RO";
	c.body_case = LCF__CONTENT__BODY_MEMBERSHIP;
	c.membership = &mb;
	seal_content(&c, fed, &v);
	add_vec(arr, "membership", "a membership (kind 4) of the city of "
	    "'city', signed by a federation key; its key is the city's id in "
	    "lower-case hex", &v, "accept", NULL);

	content_init(&c, fed, 2, LCF__KIND__KIND_REVOCATION, bhex);
	rv.has_city = 1;
	rv.city.data = (uint8_t *)b->pk;
	rv.city.len = 32;
	rv.reason = "left the network";
	c.body_case = LCF__CONTENT__BODY_REVOCATION;
	c.revocation = &rv;
	seal_content(&c, fed, &v);
	add_vec(arr, "revocation", "a revocation (kind 5) by the same federation "
	    "key", &v, "accept", NULL);
}

/* The valid records, second part: kinds 6 to 9, a tombstone, a kind no
 * node knows yet, and a content with an unknown field. */
static void
valid_records_2(json_t *arr, const struct vkey *a, const struct vkey *b,
    const struct vkey *c3, const struct vkey *fed)
{
	Lcf__Content c;
	Lcf__CityProfile city = LCF__CITY_PROFILE__INIT;
	Lcf__Endpoint ep = LCF__ENDPOINT__INIT;
	Lcf__CatalogIndicator cat = LCF__CATALOG_INDICATOR__INIT;
	Lcf__Succession su = LCF__SUCCESSION__INIT;
	Lcf__Beacon bc = LCF__BEACON__INIT;
	char *addrs[] = { "198.51.100.7:7400" };
	uint8_t ssig[64], smsg[81], inst[16], *body;
	size_t blen;
	struct vrec v;

	content_init(&c, a, 4, LCF__KIND__KIND_ENDPOINT, "endpoint");
	ep.n_addresses = 1;
	ep.addresses = addrs;
	c.body_case = LCF__CONTENT__BODY_ENDPOINT;
	c.endpoint = &ep;
	seal_content(&c, a, &v);
	add_vec(arr, "endpoint", "an endpoint (kind 6)", &v, "accept", NULL);

	content_init(&c, fed, 3, LCF__KIND__KIND_CATALOG, "2.2-read");
	cat.id = "2.2-read";
	cat.sub_area = "2.2";
	cat.name = "Adults who read a book a month";
	cat.unit = "%";
	cat.definition = "Share of adults who read at least one book a month.";
	c.body_case = LCF__CONTENT__BODY_CATALOG;
	c.catalog = &cat;
	seal_content(&c, fed, &v);
	add_vec(arr, "catalog", "a catalog indicator (kind 7)", &v, "accept",
	    NULL);

	memcpy(smsg, "lcf-succession-v1", 17);
	memcpy(smsg + 17, b->pk, 32);
	memcpy(smsg + 49, c3->pk, 32);
	crypto_sign_detached(ssig, NULL, smsg, sizeof(smsg), c3->sk);
	content_init(&c, b, 1, LCF__KIND__KIND_SUCCESSION, "succession");
	su.has_successor = su.has_successor_signature = 1;
	su.successor.data = (uint8_t *)c3->pk;
	su.successor.len = 32;
	su.successor_signature.data = ssig;
	su.successor_signature.len = 64;
	c.body_case = LCF__CONTENT__BODY_SUCCESSION;
	c.succession = &su;
	seal_content(&c, b, &v);
	add_vec(arr, "succession", "a succession (kind 8): 'successor' signed "
	    "the 81 bytes lcf-succession-v1 || author || successor", &v,
	    "accept", NULL);

	memset(inst, 0x5a, sizeof(inst));
	content_init(&c, a, 5, LCF__KIND__KIND_BEACON, "beacon");
	bc.software = "0.1.0";
	bc.has_protocol = bc.has_started = bc.has_instance = 1;
	bc.protocol = 3;
	bc.started = VEC_TIMESTAMP - 60000;
	bc.instance.data = inst;
	bc.instance.len = sizeof(inst);
	c.body_case = LCF__CONTENT__BODY_BEACON;
	c.beacon = &bc;
	seal_content(&c, a, &v);
	add_vec(arr, "beacon", "a status beacon (kind 9, protocol version 3)",
	    &v, "accept", NULL);

	content_init(&c, a, 6, LCF__KIND__KIND_PRACTICE, "reading-grandparents");
	c.has_deleted = 1;
	c.deleted = 1;
	seal_content(&c, a, &v);
	add_vec(arr, "tombstone", "a tombstone of the practice: deleted, no "
	    "body", &v, "accept", NULL);

	/* Kind 29 with its body in field 29 (unknown to every node today). */
	content_init(&c, a, 7, (Lcf__Kind)29, "later");
	body = pack(&c, &blen);
	body = xreallocarray(body, blen + 6, 1);
	memcpy(body + blen, "\xea\x01\x03" "abc", 6);	/* field 29, bytes */
	seal(body, blen + 6, a->sk, NULL, &v);
	free(body);
	add_vec(arr, "unknown_kind", "kind 29, which no node of protocol "
	    "version 3 knows, its body in Content field 29: kept and forwarded "
	    "(section 1.5)", &v, "accept", NULL);

	content_init(&c, a, 8, LCF__KIND__KIND_CITY, "profile");
	city.name = "Vectorville";
	city.country = "RO";
	c.body_case = LCF__CONTENT__BODY_CITY;
	c.city = &city;
	body = pack(&c, &blen);
	body = xreallocarray(body, blen + 2, 1);
	memcpy(body + blen, "\x60\x07", 2);	/* field 12, varint 7 */
	seal(body, blen + 2, a->sk, NULL, &v);
	free(body);
	add_vec(arr, "unknown_content_field", "a city profile whose Content "
	    "carries field 12 (reserved: unknown) = 7: unknown fields inside "
	    "the content are ignored (1.3.1) and signed with it", &v, "accept",
	    NULL);
}

/* The valid records: one of each kind the protocol defines, a tombstone, a
 * kind no node knows yet, and a content with an unknown field. */
static void
valid_records(json_t *arr, const struct vkey *a, const struct vkey *b,
    const struct vkey *c3, const struct vkey *fed)
{
	valid_records_1(arr, a, b, fed);
	valid_records_2(arr, a, b, c3, fed);
}

/* A practice of a's with seq, for the invalid variants. */
static uint8_t *
base_practice(const struct vkey *a, uint64_t seq, int64_t ts, size_t *len)
{
	Lcf__Content c;
	Lcf__Practice pr = LCF__PRACTICE__INIT;
	char *areas[] = { "2.2" };

	content_init(&c, a, seq, LCF__KIND__KIND_PRACTICE, "invalid-variant");
	c.timestamp = ts;
	pr.title = "A practice";
	pr.summary = "Its summary.";
	pr.language = "en";
	pr.n_kflc_areas = 1;
	pr.kflc_areas = areas;
	c.body_case = LCF__CONTENT__BODY_PRACTICE;
	c.practice = &pr;
	return pack(&c, len);
}

/* Signatures a lenient verifier takes but section 1.1 refuses. */
static void
bad_signatures(json_t *arr, const struct vkey *a)
{
	static const uint8_t L[32] = {
		0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
		0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10 };
	uint8_t sig[64], hash[64], k[32], aa[32], s[32], wide[64], *b;
	struct vkey id0;
	crypto_hash_sha512_state st;
	size_t len;
	struct vrec v;
	unsigned i, carry;

	b = base_practice(a, 101, VEC_TIMESTAMP, &len);
	crypto_sign_detached(sig, NULL, b, len, a->sk);
	sig[10] ^= 0x01;
	seal(b, len, NULL, sig, &v);
	add_vec(arr, "bad_signature", "a practice whose signature has one bit "
	    "changed (R's byte 10)", &v, "close", "bad signature");
	free(b);

	/* S + L: the same point, a non-canonical scalar. */
	b = base_practice(a, 102, VEC_TIMESTAMP, &len);
	crypto_sign_detached(sig, NULL, b, len, a->sk);
	for (i = 0, carry = 0; i < 32; i++) {
		carry += (unsigned)sig[32 + i] + L[i];
		sig[32 + i] = (uint8_t)carry;
		carry >>= 8;
	}
	if (carry != 0 || crypto_sign_verify_detached(sig, b, len, a->pk) == 0)
		die("S + L");
	seal(b, len, NULL, sig, &v);
	add_vec(arr, "non_canonical_s", "a valid signature with L added to S "
	    "(S >= L): the cofactorless equation holds, the scalar is not "
	    "canonical", &v, "close", "bad signature");
	free(b);

	/* A = the neutral element (order 1): R = [S]B verifies for any S. */
	memset(&id0, 0, sizeof(id0));
	id0.pk[0] = 0x01;
	{
		Lcf__Content c;
		Lcf__Practice pr = LCF__PRACTICE__INIT;
		char *areas[] = { "2.2" };

		content_init(&c, &id0, 103, LCF__KIND__KIND_PRACTICE,
		    "invalid-variant");
		pr.title = "A practice";
		pr.summary = "Its summary.";
		pr.language = "en";
		pr.n_kflc_areas = 1;
		pr.kflc_areas = areas;
		c.body_case = LCF__CONTENT__BODY_PRACTICE;
		c.practice = &pr;
		b = pack(&c, &len);
	}
	memset(s, 0, sizeof(s));
	s[0] = 7;
	if (crypto_scalarmult_ed25519_base_noclamp(sig, s) != 0)
		die("[S]B");
	memcpy(sig + 32, s, 32);
	seal(b, len, NULL, sig, &v);
	add_vec(arr, "small_order_key", "author (A) is 01 00..00, the neutral "
	    "point (order 1); R = [7]B and S = 7 satisfy [S]B = R + [k]A for "
	    "any content", &v, "close", "bad signature");
	free(b);

	/* R = the neutral element: S = k * a, so that [S]B - [k]A = 0. */
	b = base_practice(a, 104, VEC_TIMESTAMP, &len);
	memset(sig, 0, 32);
	sig[0] = 0x01;
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, sig, 32);
	crypto_hash_sha512_update(&st, a->pk, 32);
	crypto_hash_sha512_update(&st, b, len);
	crypto_hash_sha512_final(&st, hash);
	crypto_core_ed25519_scalar_reduce(k, hash);
	crypto_hash_sha512(hash, a->seed, 32);
	hash[0] &= 248;
	hash[31] &= 127;
	hash[31] |= 64;
	memset(wide, 0, sizeof(wide));
	memcpy(wide, hash, 32);
	crypto_core_ed25519_scalar_reduce(aa, wide);
	crypto_core_ed25519_scalar_mul(sig + 32, k, aa);
	seal(b, len, NULL, sig, &v);
	add_vec(arr, "small_order_r", "R is 01 00..00, the neutral point (order "
	    "1), S = k * a mod L (a the author's secret scalar): [S]B - [k]A "
	    "encodes to R, the cofactorless equation holds", &v, "close",
	    "bad signature");
	free(b);
}

/* Encodings section 1.1 refuses, each around a valid content and signature. */
static void
bad_encodings(json_t *arr, const struct vkey *a)
{
	uint8_t *b, *r;
	size_t len, n;
	struct vrec v, ok;

	b = base_practice(a, 201, VEC_TIMESTAMP, &len);
	seal(b, len, a->sk, NULL, &ok);
	free(b);
	v.len = ok.len;
	v.raw = xmalloc(v.len);
	memcpy(v.raw, ok.raw, v.len);
	if (record_normalize(v.raw, v.len) != 0)
		die("normalize");
	/* Swap by hand: signature field first. */
	n = ok.len - 66;
	memcpy(v.raw, ok.raw + n, 66);
	memcpy(v.raw + 66, ok.raw, n);
	add_vec(arr, "signature_first", "a valid record with its two fields "
	    "in the other order: signature (field 2) before content (field 1)",
	    &v, "refuse", "not in canonical form");

	v.len = ok.len + 3;
	v.raw = xmalloc(v.len);
	memcpy(v.raw, ok.raw, ok.len);
	memcpy(v.raw + ok.len, "\x18\x01", 2);	/* field 3, varint 1 */
	v.len = ok.len + 2;
	add_vec(arr, "unknown_field", "a valid record followed by field 3 "
	    "(varint 1), unknown in SignedRecord", &v, "refuse",
	    "not in canonical form");

	/* A content length as a 2-byte varint where 1 byte does. */
	r = xmalloc(ok.len + 1);
	n = ok.len - 66;	/* tag, length, content */
	if (ok.raw[0] != 0x0a || (ok.raw[1] & 0x80) != 0)
		die("expected a one-byte length");
	r[0] = 0x0a;
	r[1] = ok.raw[1] | 0x80;
	r[2] = 0x00;
	memcpy(r + 3, ok.raw + 2, ok.len - 2);
	v.raw = r;
	v.len = ok.len + 1;
	add_vec(arr, "long_length", "a valid record whose content length is "
	    "written in 2 varint bytes where 1 does (a non-minimal varint)", &v,
	    "refuse", "not in canonical form");

	v.len = 2 * ok.len - 66;
	v.raw = xmalloc(v.len);
	memcpy(v.raw, ok.raw, n);
	memcpy(v.raw + n, ok.raw, ok.len);
	add_vec(arr, "content_twice", "the content field twice, then the "
	    "signature (a protobuf library keeps the last)", &v, "refuse",
	    "not in canonical form");
	free(ok.raw);
}

/* Records too large, malformed or invalid. */
static void
bad_records(json_t *arr, const struct vkey *a)
{
	Lcf__Content c;
	Lcf__Practice pr = LCF__PRACTICE__INIT;
	char *areas[] = { "2.2" };
	uint8_t *b, *big;
	size_t len, blen;
	struct vrec v;

	/* A content of 65,537 bytes: 65,536 is the most. */
	b = base_practice(a, 301, VEC_TIMESTAMP, &len);
	blen = RECORD_MAX_CONTENT + 1;
	big = xcalloc(blen, 1);
	memcpy(big, b, len);
	/* Field 30 (unknown), bytes, filling the rest: tag f2 01, 3-byte length. */
	big[len] = 0xf2;
	big[len + 1] = 0x01;
	{
		size_t fl = blen - len - 5;

		big[len + 2] = (uint8_t)(0x80 | (fl & 0x7f));
		big[len + 3] = (uint8_t)(0x80 | ((fl >> 7) & 0x7f));
		big[len + 4] = (uint8_t)(fl >> 14);
	}
	seal(big, blen, a->sk, NULL, &v);
	add_vec(arr, "content_too_large", "a signed content of 65,537 bytes "
	    "(the record is 65,607 bytes): above the content limit", &v,
	    "close", "larger than a record may be");
	free(b);

	/* One content field (tag, 3-byte length) filling 65,633 bytes. */
	v.len = RECORD_MAX_SIGNED + 1;
	v.raw = xcalloc(v.len, 1);
	blen = v.len - 4;
	v.raw[0] = 0x0a;
	v.raw[1] = (uint8_t)(0x80 | (blen & 0x7f));
	v.raw[2] = (uint8_t)(0x80 | ((blen >> 7) & 0x7f));
	v.raw[3] = (uint8_t)(blen >> 14);
	memcpy(v.raw + 4, big, RECORD_MAX_CONTENT + 1);
	free(big);
	add_vec(arr, "record_too_large", "65,633 bytes: above the record limit, "
	    "refused before it is decoded", &v, "close",
	    "larger than a record may be");

	content_init(&c, a, 302, LCF__KIND__KIND_PRACTICE, "invalid-variant");
	c.author.len = 31;
	b = pack(&c, &len);
	seal(b, len, a->sk, NULL, &v);
	free(b);
	add_vec(arr, "short_author", "a Content whose author is 31 bytes", &v,
	    "close", "malformed record");

	content_init(&c, a, 303, LCF__KIND__KIND_PRACTICE, "invalid-variant");
	pr.summary = "No title.";
	pr.language = "en";
	pr.n_kflc_areas = 1;
	pr.kflc_areas = areas;
	c.body_case = LCF__CONTENT__BODY_PRACTICE;
	c.practice = &pr;
	seal_content(&c, a, &v);
	add_vec(arr, "invalid_content", "a well-signed practice without its "
	    "required title (1.3.5)", &v, "refuse", "invalid: practice.title");

	content_init(&c, a, 304, (Lcf__Kind)40, "far");
	seal_content(&c, a, &v);
	add_vec(arr, "kind_out_of_range", "kind 40: kinds are 1 to 31", &v,
	    "refuse", "unknown kind 40");

	b = base_practice(a, 305, VEC_FUTURE, &len);
	seal(b, len, a->sk, NULL, &v);
	free(b);
	add_vec(arr, "from_the_future", "a valid practice dated 2100-01-01: "
	    "more than 10 minutes ahead of any receiver's clock today", &v,
	    "refuse", "ahead of this node's clock");
}

static int
cmp_valid(const void *a, const void *b)
{
	const struct valid *x = a, *y = b;
	int c = memcmp(x->author, y->author, 32);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static json_t *
digest_json(const struct iblt_digest *d)
{
	json_t *j = json_object();
	uint8_t out[IBLT_DIGEST_BYTES];

	iblt_digest_bytes(d, out);
	json_object_set_new(j, "count", json_integer((json_int_t)d->count));
	json_object_set_new(j, "digest", hexj(out, sizeof(out)));
	return j;
}

/* The summaries of the valid records as one node holding them all would
 * give them (PROTOCOL 4.1, 4.5, 4.10): the set's digest, whole and base,
 * and each author's summary and runs, authors ascending. */
static json_t *
summaries(void)
{
	struct iblt_digest whole, base, aw, ab;
	json_t *j = json_object(), *arr = json_array(), *a, *runs;
	uint64_t max_seq, run_lo = 0, run_hi = 0;
	size_t i, k;

	memset(&whole, 0, sizeof(whole));
	memset(&base, 0, sizeof(base));
	qsort(valid, nvalid, sizeof(valid[0]), cmp_valid);
	for (i = 0; i < nvalid; i++) {
		iblt_digest_add(&whole, valid[i].id);
		if (!kinds_late(valid[i].kind))
			iblt_digest_add(&base, valid[i].id);
	}
	json_object_set_new(j, "whole_set", digest_json(&whole));
	json_object_set_new(j, "base_set", digest_json(&base));
	for (i = 0; i < nvalid; i = k) {
		memset(&aw, 0, sizeof(aw));
		memset(&ab, 0, sizeof(ab));
		runs = json_array();
		max_seq = 0;
		for (k = i; k < nvalid &&
		    memcmp(valid[k].author, valid[i].author, 32) == 0; k++) {
			iblt_digest_add(&aw, valid[k].id);
			if (!kinds_late(valid[k].kind))
				iblt_digest_add(&ab, valid[k].id);
			max_seq = valid[k].seq;
			if (k > i && valid[k].seq <= run_hi + 1) {
				if (valid[k].seq > run_hi)
					run_hi = valid[k].seq;
				continue;
			}
			if (k > i) {
				json_array_append_new(runs, json_integer((json_int_t)run_lo));
				json_array_append_new(runs, json_integer((json_int_t)run_hi));
			}
			run_lo = run_hi = valid[k].seq;
		}
		json_array_append_new(runs, json_integer((json_int_t)run_lo));
		json_array_append_new(runs, json_integer((json_int_t)run_hi));
		a = json_object();
		json_object_set_new(a, "author", hexj(valid[i].author, 32));
		json_object_set_new(a, "count", json_integer((json_int_t)aw.count));
		json_object_set_new(a, "max_seq", json_integer((json_int_t)max_seq));
		{
			uint8_t out[IBLT_DIGEST_BYTES];

			iblt_digest_bytes(&aw, out);
			json_object_set_new(a, "digest", hexj(out, sizeof(out)));
			iblt_digest_bytes(&ab, out);
			json_object_set_new(a, "base_count",
			    json_integer((json_int_t)ab.count));
			json_object_set_new(a, "base_digest", hexj(out, sizeof(out)));
		}
		json_object_set_new(a, "have", runs);
		json_array_append_new(arr, a);
	}
	json_object_set_new(j, "authors", arr);
	return j;
}

static json_t *
record_vectors(void)
{
	struct vkey a, b, c3, fed;
	json_t *j = json_object(), *arr = json_array(), *keys = json_object();

	vkey_make(&a, 0xa1);
	vkey_make(&b, 0xb2);
	vkey_make(&c3, 0xc3);
	vkey_make(&fed, 0xfe);
	json_object_set_new(keys, "city", hexj(a.seed, 32));
	json_object_set_new(keys, "retiring", hexj(b.seed, 32));
	json_object_set_new(keys, "successor", hexj(c3.seed, 32));
	json_object_set_new(keys, "federation", hexj(fed.seed, 32));
	json_object_set_new(j, "seeds", keys);
	json_object_set_new(j, "timestamp", json_integer(VEC_TIMESTAMP));
	valid_records(arr, &a, &b, &c3, &fed);
	bad_signatures(arr, &a);
	bad_encodings(arr, &a);
	bad_records(arr, &a);
	json_object_set_new(j, "records", arr);
	json_object_set_new(j, "summaries", summaries());
	return j;
}

/* ---- set digest and IBLT ---- */

static void
vec_id(unsigned i, uint8_t id[32])
{
	uint8_t in[8] = { 'l', 'c', 'f', '-', 'i', 'd', 0, 0 };

	in[6] = (uint8_t)(i >> 8);
	in[7] = (uint8_t)i;
	crypto_generichash(id, 32, in, sizeof(in), NULL, 0);
}

struct collect {
	json_t *mine, *theirs;
};

static int
collect_key(void *arg, uint64_t key, int side)
{
	struct collect *c = arg;
	uint8_t p[8];

	iblt_key_prefix(key, p);
	json_array_append_new(side > 0 ? c->mine : c->theirs, hexj(p, 8));
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts an array of hex strings (ascending bytes: hex of equal length). */
static void
sort_hex(json_t *arr)
{
	size_t i, n = json_array_size(arr);
	char **v = xcalloc(n ? n : 1, sizeof(*v));

	for (i = 0; i < n; i++)
		v[i] = xstrdup(json_string_value(json_array_get(arr, i)));
	qsort(v, n, sizeof(*v), cmp_str);
	json_array_clear(arr);
	for (i = 0; i < n; i++) {
		json_array_append_new(arr, json_string(v[i]));
		free(v[i]);
	}
	free(v);
}

static json_t *
digest_obj(const struct iblt_digest *d)
{
	json_t *j = json_object();
	uint8_t out[IBLT_DIGEST_BYTES];

	iblt_digest_bytes(d, out);
	json_object_set_new(j, "count", json_integer((json_int_t)d->count));
	json_object_set_new(j, "sum", hexj(d->sum, 32));
	json_object_set_new(j, "digest", hexj(out, sizeof(out)));
	return j;
}

static json_t *
table_hex(const struct iblt *t)
{
	uint8_t *b = xmalloc(iblt_size(t));
	json_t *j;

	iblt_serialize(t, b);
	j = hexj(b, iblt_size(t));
	free(b);
	return j;
}

/* Set A holds ids 0..11, set B ids 4..14: 4 only in A, 3 only in B. */
static json_t *
set_vectors(void)
{
	struct iblt ta, tb;
	struct iblt_digest da, db;
	struct collect col;
	json_t *j = json_object(), *ia = json_array(), *ib = json_array(), *k;
	uint8_t id[32], p[8];
	uint32_t pos[3];
	unsigned i;

	memset(&da, 0, sizeof(da));
	memset(&db, 0, sizeof(db));
	if (iblt_init(&ta, 0) != 0 || iblt_init(&tb, 0) != 0)
		die("iblt_init");
	for (i = 0; i < 15; i++) {
		vec_id(i, id);
		if (i < 12) {
			json_array_append_new(ia, hexj(id, 32));
			iblt_digest_add(&da, id);
			iblt_add(&ta, id);
		}
		if (i >= 4) {
			json_array_append_new(ib, hexj(id, 32));
			iblt_digest_add(&db, id);
			iblt_add(&tb, id);
		}
	}
	json_object_set_new(j, "ids_a", ia);
	json_object_set_new(j, "ids_b", ib);
	json_object_set_new(j, "digest_a", digest_obj(&da));
	json_object_set_new(j, "digest_b", digest_obj(&db));
	memset(&da, 0, sizeof(da));
	json_object_set_new(j, "digest_empty", digest_obj(&da));

	/* The key, check and cells of the first id, every class. */
	vec_id(0, id);
	k = json_object();
	iblt_key_prefix(iblt_key(id), p);
	json_object_set_new(k, "prefix", hexj(p, 8));
	json_object_set_new(k, "check", json_integer(iblt_check(iblt_key(id))));
	{
		json_t *cells = json_array();
		int cls;

		for (cls = 0; cls < IBLT_NCLASSES; cls++) {
			json_t *c = json_array();

			iblt_positions(cls, iblt_key(id), pos);
			for (i = 0; i < 3; i++)
				json_array_append_new(c, json_integer(pos[i]));
			json_array_append_new(cells, c);
		}
		json_object_set_new(k, "cells_by_class", cells);
	}
	json_object_set_new(j, "first_id_key", k);

	json_object_set_new(j, "cells", json_integer(iblt_class_cells(0)));
	json_object_set_new(j, "table_a", table_hex(&ta));
	json_object_set_new(j, "table_b", table_hex(&tb));
	if (iblt_subtract(&ta, &tb) != 0)
		die("iblt_subtract");
	json_object_set_new(j, "table_a_minus_b", table_hex(&ta));
	col.mine = json_array();
	col.theirs = json_array();
	if (iblt_decode(&ta, collect_key, &col) != 0)
		die("iblt_decode");
	sort_hex(col.mine);
	sort_hex(col.theirs);
	json_object_set_new(j, "only_a", col.mine);
	json_object_set_new(j, "only_b", col.theirs);
	iblt_free(&ta);
	iblt_free(&tb);
	return j;
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: lcf-vectors DIR\n");
		return 2;
	}
	if (sodium_init() < 0)
		die("sodium_init");
	write_json(argv[1], "noise.json", noise_vectors());
	write_json(argv[1], "records.json", record_vectors());
	write_json(argv[1], "sets.json", set_vectors());
	return 0;
}
