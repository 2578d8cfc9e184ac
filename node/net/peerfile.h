/* SPDX-License-Identifier: Apache-2.0 */
/* DIR/peers.json: what persists of the peer table, read and written with jansson. */
#ifndef LCF_PEERFILE_H
#define LCF_PEERFILE_H

#include <stddef.h>
#include <stdint.h>

#include "net/peer.h"

#define PEERFILE_VERSION	1

/* What persists of one peer. Text is valid UTF-8 without control characters
 * (peerfile_copy_text); ids are valid only when their has_ flag is set. */
struct peer_saved {
	char address[PEER_ADDR_MAX];	/* as HOST:PORT; "" when inbound-only */
	int has_pin, has_id;
	uint8_t pin[32], id[32];
	char city_name[PEER_TEXT_MAX];
	char listen[PEER_ADDR_MAX];
	uint64_t bytes_in, bytes_out, records_in, records_out, refused;
	int64_t last_handshake_ms;
	int64_t rtt_ms;			/* -1 when not measured */
	char last_error[PEER_TEXT_MAX];
	int64_t last_error_ms;
	int64_t last_sync_ms;
	int last_sync_result;
	char last_sync_message[PEER_TEXT_MAX];
	uint64_t last_sync_records_in, last_sync_records_out;
};

/*
 * Reads path (at most PEERS_FILE_MAX bytes). A missing file is an empty table:
 * *out NULL, *count 0. Otherwise *out is a new array the caller frees, in file
 * order, without repeated addresses (a repeat is logged and dropped). On a
 * malformed file returns LCF_ECONFIG, on another failure LCF_EIO, with a
 * sentence naming the file (and the peer) in err.
 */
int peerfile_load(const char *path, struct peer_saved **out, size_t *count,
    char *err, size_t errlen);

/* Writes count entries to path atomically (mode 0600). 0, or LCF_EIO with a
 * sentence in err. */
int peerfile_save(const char *path, const struct peer_saved *peers,
    size_t count, char *err, size_t errlen);

/*
 * Copies text that came from a peer or a file, at most size-1 bytes: control
 * characters and invalid UTF-8 become '?', and no character is cut, so the
 * result is valid UTF-8 for JSON and safe for logs. src may be NULL.
 */
void peerfile_copy_text(char *dst, size_t size, const char *src);

/* A host name and its NUL: the longest a connection accepts (conn.h). */
#define PEERFILE_HOST_MAX 254

/* Normalised "HOST:PORT" ("[v6]:PORT") of an address, with its parts; 0 or
 * LCF_EINVAL (also for a host longer than a connection accepts). */
int peerfile_parse_address(const char *address, char out[PEER_ADDR_MAX],
    char host[PEERFILE_HOST_MAX], uint16_t *port);

#endif
