// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the messages a linked peer sends after the handshake, as a
// node takes them: each input is a byte of mode (below), then a sequence of
// messages (a 2-byte big-endian length, then a serialized PeerMsg; 16 at
// most), unpacked as peer.c does
// and handed to sync_on_message of a real node (a real store holding 200
// signed records of 4 authors, real ingest), the loop run after each so that
// sessions move on; then the peer goes away (sync_peer_gone). What the node
// sends back is packed, as a link would, and dropped.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <uv.h>

#include "base/util.h"
#include "core/node.h"
#include "model/identity.h"
#include "model/record.h"
#include "net/sync.h"
#include "peer.pb-c.h"
#include "store/store.h"
#include "write/ingest.h"

#define MAP_SIZE (256ULL << 20)
#define AUTHORS 4
#define RECORDS 200
#define MSGS_MAX 16

static uv_loop_t loop;
static struct node node;
static struct sync_io io;
static uint64_t our_session;      /* the SyncStart this node sent, if any */

static int
drop_send(void *arg, const Lcf__PeerMsg *m, size_t *wire_bytes)
{
	size_t len = lcf__peer_msg__get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);

	(void)arg;
	if (buf == NULL)
		return -1;
	if (m->msg_case == LCF__PEER_MSG__MSG_SYNC_START)
		our_session = m->sync_start->session;
	lcf__peer_msg__pack(m, buf);
	free(buf);
	*wire_bytes = len;
	return 0;
}

static void
on_done(void *arg, const struct sync_stats *st)
{
	(void)arg;
	(void)st;
}

/* Session 1 in the input stands for the session this node chose (random:
 * a fuzzer would never hit it). */
static void
patch_session(Lcf__PeerMsg *m)
{
	uint64_t *s = NULL;

	switch (m->msg_case) {
	case LCF__PEER_MSG__MSG_SYNC_SKETCH:
		s = &m->sync_sketch->session;
		break;
	case LCF__PEER_MSG__MSG_SYNC_WANT:
		s = &m->sync_want->session;
		break;
	case LCF__PEER_MSG__MSG_SYNC_DONE:
		s = &m->sync_done->session;
		break;
	case LCF__PEER_MSG__MSG_RECORDS:
		s = &m->records->session;
		break;
	default:
		break;
	}
	if (s != NULL && *s == 1 && our_session != 0)
		*s = our_session;
}

static void
on_violation(void *arg, const char *reason)
{
	(void)arg;
	(void)reason;
}

/* A signed practice of author a with this seq. */
static void
put_record(struct identity *a, uint64_t seq)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__Practice p = LCF__PRACTICE__INIT;
	char key[32], *areas[] = { "1.1" };
	struct store_item item;
	struct record rec;
	uint8_t *content = NULL, *raw = NULL, id[RECORD_ID_LEN];
	size_t clen = 0, len = 0;

	snprintf(key, sizeof(key), "practice-%llu", (unsigned long long)seq);
	c.has_author = 1;
	c.author.data = a->pk;
	c.author.len = IDENTITY_PK_LEN;
	c.has_seq = 1;
	c.seq = seq;
	c.has_kind = 1;
	c.kind = LCF__KIND__KIND_PRACTICE;
	c.key = key;
	c.has_timestamp = 1;
	c.timestamp = now_ms() - 86400000 + (int64_t)seq;
	p.title = key;
	p.summary = "Grandparents read with children at the library.";
	p.language = "en";
	p.kflc_areas = areas;
	p.n_kflc_areas = 1;
	c.body_case = LCF__CONTENT__BODY_PRACTICE;
	c.practice = &p;
	if (record_pack_content(&c, &content, &clen) != 0 ||
	    record_seal(content, clen, a, &raw, &len, id) != 0 ||
	    record_open(raw, len, 0, &rec) != 0)
		abort();
	memset(&item, 0, sizeof(item));
	item.raw = raw;
	item.len = len;
	item.rec = &rec;
	if (store_put(node.store, &item, 1) != 0)
		abort();
	record_release(&rec);
	free(content);
	free(raw);
}

static void
setup(void)
{
	char dir[] = "/tmp/lcf-fuzz-peermsg-XXXXXX", db[64], err[256];
	struct identity *a;
	int i, k;

	if (sodium_init() < 0 || uv_loop_init(&loop) != 0 ||
	    mkdtemp(dir) == NULL)
		abort();
	snprintf(db, sizeof(db), "%s/db", dir);
	node.loop = &loop;
	if (store_open(db, MAP_SIZE, &node.store, err, sizeof(err)) != 0 ||
	    (node.id = identity_new()) == NULL)
		abort();
	identity_generate(node.id);
	for (i = 0; i < AUTHORS; i++) {
		if ((a = identity_new()) == NULL)
			abort();
		identity_generate(a);
		for (k = 1; k <= RECORDS / AUTHORS; k++)
			put_record(a, (uint64_t)k);
		identity_free(a);
	}
	io.send = drop_send;
	io.violation = on_violation;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	Lcf__PeerMsg *m;
	size_t off, len;
	int n, i;

	if (!ready) {
		setup();
		ready = 1;
	}
	memset(&io.start_due, 0, sizeof(io.start_due));
	/* The first byte: the peer's protocol version (2 or 3), and whether
	 * this node begins a reconciliation first (the input then answers
	 * it, as a responder would). */
	if (size == 0)
		return 0;
	io.version = 2 + data[0] % 2;
	our_session = 0;
	if (data[0] & 2)
		(void)sync_begin(&node, &io, on_done, NULL);
	off = 1;
	for (n = 0; n < MSGS_MAX && off + 2 <= size; n++) {
		len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		m = lcf__peer_msg__unpack(NULL, len, data + off);
		off += len;
		if (m == NULL)
			continue;
		patch_session(m);
		(void)sync_on_message(&node, &io, m, len);
		lcf__peer_msg__free_unpacked(m, NULL);
		for (i = 0; i < 4; i++)
			uv_run(&loop, UV_RUN_NOWAIT);
	}
	sync_peer_gone(&node, &io);
	for (i = 0; i < 4; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	return 0;
}
