// SPDX-License-Identifier: Apache-2.0
// Interop peer: Noise XX over TCP with interop.js, then a report of it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "base/error.h"
#include "wire/noise.h"

/*
 * The exchange, which interop.js follows too. Every Noise message goes on
 * the wire after its length as 2 bytes big-endian.
 *   1. XX handshake with prologue PROLOGUE. Payloads: message 1 is
 *      "lcf-interop msg1 from <impl>"; messages 2 and 3 are the sender's
 *      Ed25519 public key followed by "lcf-interop msgN from <impl>". The
 *      receiver checks the text and that the key converts to the remote
 *      static key the handshake delivered.
 *   2. For each length in lengths[], the initiator sends that many random
 *      bytes and the responder answers with them reversed; the initiator
 *      checks the answer.
 *   3. Each side reports the handshake hash, keys and a BLAKE2b-256 digest
 *      of every plaintext it received; interop.js compares the reports.
 */
#define PROLOGUE	"lcf-interop/1"
#define IMPL		"C"
#define PEER_IMPL	"JS"

static const size_t lengths[] = { 0, 1, 15, 16, 17, 1000, 4096,
	NOISE_MAX_PAYLOAD };
#define NLENGTHS	(sizeof(lengths) / sizeof(lengths[0]))
#define NDIGESTS	(3 + NLENGTHS)

static uint8_t msg[NOISE_MAX_MSG], plain[NOISE_MAX_MSG], sent[NOISE_MAX_MSG];

/* Digests of what this side received, in order, as hex. */
static char digests[NDIGESTS][65];
static int ndigests;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "noise_peer (" IMPL "): ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
record(const uint8_t *p, size_t len)
{
	uint8_t d[32];

	crypto_generichash(d, sizeof(d), p, len, NULL, 0);
	sodium_bin2hex(digests[ndigests++], 65, d, sizeof(d));
}

static void
read_full(int fd, uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = recv(fd, p, len, 0);
		if (n == 0)
			die("peer closed the connection");
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("recv: %s", strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
}

static void
write_full(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("send: %s", strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
}

static void
send_frame(int fd, const uint8_t *p, size_t len)
{
	uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };

	if (len > NOISE_MAX_MSG)
		die("frame of %zu bytes", len);
	write_full(fd, hdr, 2);
	write_full(fd, p, len);
}

static size_t
recv_frame(int fd, uint8_t *p)
{
	uint8_t hdr[2];
	size_t len;

	read_full(fd, hdr, 2);
	len = (size_t)hdr[0] << 8 | hdr[1];
	read_full(fd, p, len);
	return len;
}

static int
connect_to(int port)
{
	struct sockaddr_in sin;
	struct timeval tv = { .tv_sec = 20 };
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	/* Never hang: the JS side has its own deadline too. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
		die("setsockopt: %s", strerror(errno));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		die("connect to 127.0.0.1:%d: %s", port, strerror(errno));
	return fd;
}

/* Builds the payload of handshake message n (1-based) into p. */
static size_t
make_payload(int n, const uint8_t ed_pk[32], uint8_t *p)
{
	size_t off = 0;

	if (n > 1) {
		memcpy(p, ed_pk, 32);
		off = 32;
	}
	off += (size_t)sprintf((char *)p + off, "lcf-interop msg%d from %s", n,
	    IMPL);
	return off;
}

/* Checks the peer's payload of handshake message n. */
static void
check_payload(int n, const uint8_t *p, size_t len,
    const struct noise_handshake *hs)
{
	char want[64];
	uint8_t x_pub[32];
	const uint8_t *rs;
	size_t off = n > 1 ? 32 : 0;
	int wlen;

	wlen = snprintf(want, sizeof(want), "lcf-interop msg%d from %s", n,
	    PEER_IMPL);
	if (len != off + (size_t)wlen || memcmp(p + off, want, wlen) != 0)
		die("handshake payload %d is not \"%s\"", n, want);
	if (n == 1)
		return;
	rs = noise_hs_remote_static(hs);
	if (rs == NULL)
		die("no remote static key after message %d", n);
	if (noise_pub_from_ed25519(p, x_pub) != 0)
		die("peer's Ed25519 key is invalid");
	if (memcmp(x_pub, rs, 32) != 0)
		die("peer's Ed25519 key is not its Noise static key");
}

static void
print_hex_field(const char *name, const uint8_t *p, size_t len, int last)
{
	char hex[129];

	sodium_bin2hex(hex, sizeof(hex), p, len);
	printf("\"%s\":\"%s\"%s", name, hex, last ? "" : ",");
}

int
main(int argc, char **argv)
{
	struct noise_handshake hs;
	struct noise_cipher tx, rx;
	uint8_t ed_pk[32], ed_sk[64], x_priv[32], x_pub[32], h[64];
	size_t len, plen, i, j;
	int fd, initiator, n, ret, port;

	if (argc != 3 || (strcmp(argv[1], "initiator") != 0 &&
	    strcmp(argv[1], "responder") != 0)) {
		fprintf(stderr, "Usage: noise_peer initiator|responder port\n");
		return 2;
	}
	initiator = strcmp(argv[1], "initiator") == 0;
	port = atoi(argv[2]);
	if (sodium_init() < 0)
		die("sodium_init failed");

	/* The static key is an Ed25519 identity converted, as in lcnode. */
	crypto_sign_keypair(ed_pk, ed_sk);
	if (noise_static_from_ed25519(ed_sk, x_priv) != 0 ||
	    noise_pub_from_ed25519(ed_pk, x_pub) != 0)
		die("key conversion failed");
	sodium_memzero(ed_sk, sizeof(ed_sk));

	fd = connect_to(port);
	ret = noise_hs_init(&hs, NOISE_XX, initiator,
	    (const uint8_t *)PROLOGUE, strlen(PROLOGUE), x_priv, NULL);
	sodium_memzero(x_priv, sizeof(x_priv));
	if (ret != 0)
		die("noise_hs_init: %s", lcf_strerror(ret));

	for (n = 1; !noise_hs_is_done(&hs); n++) {
		if (noise_hs_needs_write(&hs)) {
			plen = make_payload(n, ed_pk, plain);
			ret = noise_hs_write_message(&hs, plain, plen, msg,
			    sizeof(msg), &len);
			if (ret != 0)
				die("write message %d: %s", n,
				    lcf_strerror(ret));
			send_frame(fd, msg, len);
		} else {
			len = recv_frame(fd, msg);
			ret = noise_hs_read_message(&hs, msg, len, plain,
			    sizeof(plain), &plen);
			if (ret != 0)
				die("read message %d: %s", n,
				    lcf_strerror(ret));
			check_payload(n, plain, plen, &hs);
			record(plain, plen);
		}
	}
	ret = noise_hs_split(&hs, &tx, &rx);
	if (ret != 0)
		die("split: %s", lcf_strerror(ret));

	for (i = 0; i < NLENGTHS; i++) {
		len = lengths[i];
		if (initiator) {
			randombytes_buf(sent, len);
			if ((ret = noise_encrypt(&tx, sent, len, msg)) != 0)
				die("encrypt: %s", lcf_strerror(ret));
			send_frame(fd, msg, len + NOISE_TAG);
			plen = recv_frame(fd, msg);
			if ((ret = noise_decrypt(&rx, msg, plen, plain)) != 0)
				die("decrypt reply %zu: %s", i,
				    lcf_strerror(ret));
			plen -= NOISE_TAG;
			record(plain, plen);
			if (plen != len)
				die("reply %zu has %zu bytes, want %zu", i,
				    plen, len);
			for (j = 0; j < len; j++)
				if (plain[j] != sent[len - 1 - j])
					die("reply %zu is not the reverse", i);
		} else {
			plen = recv_frame(fd, msg);
			/* In place, as the connection module will do. */
			if ((ret = noise_decrypt(&rx, msg, plen, msg)) != 0)
				die("decrypt message %zu: %s", i,
				    lcf_strerror(ret));
			plen -= NOISE_TAG;
			record(msg, plen);
			for (j = 0; j < plen; j++)
				sent[j] = msg[plen - 1 - j];
			if ((ret = noise_encrypt(&tx, sent, plen, msg)) != 0)
				die("encrypt: %s", lcf_strerror(ret));
			send_frame(fd, msg, plen + NOISE_TAG);
		}
	}
	close(fd);

	noise_hs_hash(&hs, h);
	printf("{\"impl\":\"" IMPL "\",\"role\":\"%s\",", argv[1]);
	print_hex_field("hash", h, sizeof(h), 0);
	print_hex_field("ed_pk", ed_pk, sizeof(ed_pk), 0);
	print_hex_field("static", x_pub, sizeof(x_pub), 0);
	print_hex_field("remote_static", noise_hs_remote_static(&hs), 32, 0);
	printf("\"received\":[");
	for (n = 0; n < ndigests; n++)
		printf("\"%s\"%s", digests[n], n + 1 < ndigests ? "," : "");
	printf("]}\n");

	noise_hs_wipe(&hs);
	noise_cipher_wipe(&tx);
	noise_cipher_wipe(&rx);
	return 0;
}
