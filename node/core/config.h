/* SPDX-License-Identifier: Apache-2.0 */
/* lcnode.conf: an INI file read with libinih through an init/line/finish parser. */
#ifndef LCF_CONFIG_H
#define LCF_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define CONFIG_FILE_NAME "lcnode.conf"
#define CONFIG_MAX_PEERS 256         /* entries in the peer table, and max_peers */
#define CONFIG_DEFAULT_FANOUT 16
#define CONFIG_MAX_FANOUT 64
#define CONFIG_DEFAULT_SYNC_INTERVAL 60
#define CONFIG_MAX_SYNC_INTERVAL 86400
#define CONFIG_DEFAULT_MAX_PEERS 16
#define CONFIG_DEFAULT_STALL_TIMEOUT 60
#define CONFIG_MAX_STALL_TIMEOUT 3600
#define CONFIG_DEFAULT_KEEPALIVE 5
#define CONFIG_MAX_KEEPALIVE 300
#define CONFIG_DEFAULT_KEEPALIVE_TIMEOUT 15
#define CONFIG_MIN_KEEPALIVE_TIMEOUT 2
#define CONFIG_MAX_KEEPALIVE_TIMEOUT 3600
#define CONFIG_DEFAULT_PEER_QUEUE (4u << 20)
#define CONFIG_MIN_PEER_QUEUE (64u << 10)
#define CONFIG_MAX_PEER_QUEUE (64u << 20)
#define CONFIG_DEFAULT_PEERS_QUEUE (32u << 20)
#define CONFIG_MIN_PEERS_QUEUE (64u << 10)
#define CONFIG_MAX_PEERS_QUEUE (1u << 30)
#define CONFIG_DEFAULT_RECEIVE_QUEUE (128u << 20)
#define CONFIG_MIN_RECEIVE_QUEUE (64u << 10)
#define CONFIG_MAX_RECEIVE_QUEUE (1u << 30)
#define CONFIG_DEFAULT_HANDSHAKES_PER_ADDRESS 8
#define CONFIG_MAX_HANDSHAKES_PER_ADDRESS 64
#define CONFIG_DEFAULT_OFFENDER_BACKOFF 1
#define CONFIG_DEFAULT_OFFENDER_BACKOFF_MAX 600
#define CONFIG_MAX_OFFENDER_BACKOFF 86400
#define CONFIG_MAX_SHARED 8           /* shared_addresses */
#define CONFIG_DEFAULT_HOLD_TIME 3600
#define CONFIG_MAX_HOLD_TIME (7 * 24 * 3600)
#define CONFIG_DEFAULT_BEACON_INTERVAL 3600
#define CONFIG_MIN_BEACON_INTERVAL 600
#define CONFIG_MAX_BEACON_INTERVAL 86400
#define CONFIG_MAX_ANNOUNCE 8
#define CONFIG_DEFAULT_HTTP_HOST "127.0.0.1"
#define CONFIG_DEFAULT_HTTP_PORT 8380
#define CONFIG_DEFAULT_HTTP_MAX_CONNECTIONS 2048
#define CONFIG_MAX_HTTP_CONNECTIONS 65536
#define CONFIG_DEFAULT_HTTP_IDLE_TIMEOUT 15
#define CONFIG_MAX_HTTP_IDLE_TIMEOUT 3600
#define CONFIG_HTTP_TOKEN_FILE "http.token"

/*
 * [node]  city = NAME          bootstrap city name, published as the profile at
 *                              first start if the node has none
 *         country = CC         ISO 3166-1 alpha-2, likewise
 *         listen = HOST:PORT   peer listener (loopback or any address)
 *         key = FILE           identity key, relative to DIR (default identity.key)
 *         catalog = FILE       indicator catalog (default: installed catalog.json)
 *         log_level = warn|info|debug
 *         federation = FEDID   the federation this node belongs to (64 hex
 *                              digits); unset: an open node that takes records
 *                              from anyone
 *         announce = HOST:PORT an address peers can dial this node on, published
 *                              in its endpoint record; repeatable, at most 8
 * [store] map_size = SIZE      LMDB map size, with K/M/G/T suffix (default 8G)
 * [federation] fanout = N      peers each new record is pushed to (default 16)
 *         sync_interval = SECS reconciliation with a random peer this often,
 *                              jittered by +-25% (default 60)
 *         max_peers = N        connected peers at most; inbound connections from
 *                              cities the operator did not add are refused
 *                              beyond it, and discovery aims for 3/4 of it
 *                              (default 16)
 *         stall_timeout = SECS a peer that takes none of the bytes sent to it
 *                              for this long is disconnected (default 60)
 *         keepalive = SECS     on an idle link, a Keepalive this often to peers
 *                              that announce keepalives too (0: none, and no
 *                              dead-link timeout; default 5)
 *         keepalive_timeout = SECS   a link to such a peer that brings nothing
 *                              for this long (and at least 3 of the peer's
 *                              periods) is closed as dead (2 to 3600; default 15)
 *         peer_queue = SIZE    bytes queued to one peer before sending to it
 *                              waits (64K to 64M, default 4M)
 *         peers_queue = SIZE   bytes queued to all peers together before
 *                              sending waits (64K to 1G, default 32M)
 *         receive_queue = SIZE bytes received from all peers and waiting to be
 *                              verified and stored before reading from peers
 *                              waits (64K to 1G, default 128M)
 *         handshakes_per_address = N   handshakes under way from one IP
 *                              address; more are refused (1 to 64, default 8;
 *                              64: no bound but the 64 handshakes in all)
 *         offender_backoff = SECS  an address or key that breaks the
 *                              protocol is refused this long, doubled at each
 *                              new offence (0: never; default 1) ...
 *         offender_backoff_max = SECS  ... up to this, and forgiven after
 *                              this long without one (default 600)
 *         shared_addresses = IP...|none  addresses many cities may share (a
 *                              local proxy or tunnel): neither bound above
 *                              applies to them (default 127.0.0.1 ::1; at
 *                              most 8)
 *         hold_time = SECS     records of cities not admitted (yet) are held this
 *                              long for their admission (default 3600)
 *         beacon_interval = SECS   this node's status beacon is published this
 *                              often, and on a material change at most every
 *                              600 s (600 to 86400; default 3600)
 * [http]  listen = HOST:PORT|off   the HTTP API, events, metrics and health
 *                              (default 127.0.0.1:8380; off: none)
 *         operator_loopback = yes|no   requests from loopback may read
 *                              operator data without the token (default yes;
 *                              never one that carries Forwarded or
 *                              X-Forwarded-For)
 *         personal_data = yes|no   contact names and e-mail addresses in
 *                              public answers (default no)
 *         max_connections = N  open HTTP connections at most (default 2048)
 *         idle_timeout = SECS  a connection that sends no request, or not a
 *                              whole one, for this long is closed (default 15)
 * Peers themselves live in DIR/peers.json (lcctl peer add/rm), not here.
 */
struct config {
	char *dir;               /* data directory (absolute) */
	char *path;              /* the file read */
	char *city;
	char *country;
	char *listen_host;
	uint16_t listen_port;
	char *key_path;          /* absolute */
	char *catalog_path;      /* absolute, or NULL for the default search */
	int log_level;
	int has_federation;
	uint8_t federation[32];  /* federation id, when has_federation */
	char *announce[CONFIG_MAX_ANNOUNCE];   /* normalised HOST:PORT */
	size_t nannounce;
	uint64_t map_size;
	unsigned fanout;         /* [federation] */
	unsigned sync_interval;  /* seconds */
	unsigned max_peers;
	unsigned stall_timeout;  /* seconds */
	unsigned keepalive;      /* seconds, 0: off */
	unsigned keepalive_timeout;  /* seconds */
	uint64_t peer_queue;     /* bytes */
	uint64_t peers_queue;    /* bytes */
	uint64_t receive_queue;  /* bytes */
	unsigned handshakes_per_address;
	unsigned offender_backoff;       /* seconds, 0: off */
	unsigned offender_backoff_max;   /* seconds */
	struct config_ip {
		int family;              /* AF_INET or AF_INET6 */
		uint8_t addr[16];
	} shared[CONFIG_MAX_SHARED];
	size_t nshared;
	unsigned hold_time;      /* seconds */
	unsigned beacon_interval;    /* seconds */
	int http_enabled;        /* [http] listen is not off */
	char *http_host;
	uint16_t http_port;
	int http_operator_loopback;
	int http_personal_data;
	unsigned http_max_connections;
	unsigned http_idle_timeout;  /* seconds */
	char *http_web_root;     /* the dashboard's folder: [http] web_root, else
	                          * the one main.c finds built or installed; NULL
	                          * when none is (freed by config_free) */
};

/* Settings a file may set, at most (each once, announce aside): a bound
 * for the parser's record of the lines that set them. */
#define CONFIG_MAX_SEEN 64

/* Parser state, exposed so a fuzz target can drive config_line directly.
 * Zero it and set cfg and file before the first config_line. */
struct config_parser {
	struct config *cfg;
	const char *file;
	char err[512];           /* "FILE:LINE: message" of the first error */
	int failed;
	/* The settings set so far (known ones only: their names are short)
	 * and their lines: a second one is an error naming both. */
	struct config_seen {
		char section[16], name[32];
		int line;
	} seen[CONFIG_MAX_SEEN];
	size_t nseen;
};

void config_init(struct config *cfg, const char *dir);
/* Handles one name=value in a section; line for messages. A setting given
 * twice in one section (announce aside, which repeats) is an error naming
 * both lines. 0 or LCF_ECONFIG. */
int config_line(struct config_parser *p, const char *section, const char *name,
    const char *value, int line);
/* Checks required settings and fills defaults; a map_size this process
 * cannot map (above SIZE_MAX, RLIMIT_AS or the address space: tried with a
 * reserved mapping that is released at once) is an error naming map_size
 * and its line. 0 or LCF_ECONFIG (message in p->err). */
int config_finish(struct config_parser *p);
/* Reads DIR/lcnode.conf. On error err holds "FILE:LINE: message": besides
 * the settings' own, a NUL byte in a line, a line longer than libinih reads
 * (its INI_MAX_LINE, as built), and a syntax error. */
int config_load(struct config *cfg, const char *dir, char *err, size_t errlen);
/* config_load's parse of an open stream f (read to its end; the caller
 * closes it), with path for messages: the fuzz target reads from memory. */
int config_read(struct config *cfg, const char *dir, const char *path, FILE *f,
    char *err, size_t errlen);
void config_free(struct config *cfg);

/* Whether host is an IPv4 or IPv6 address (what `listen` must be), not a name. */
int config_is_ip(const char *host);
/* 1 when ip (a numeric IPv4 or IPv6 address) is one of shared_addresses. */
int config_is_shared(const struct config *cfg, const char *ip);
/* Writes a commented configuration file for `lcctl init` (mode 0644, exclusive);
 * federation is 64 hex digits or NULL (written commented out); http is the
 * [http] listen value, HOST:PORT or "off", or NULL for the default (written
 * commented out). */
int config_write_template(const char *path, const char *city, const char *country,
    const char *listen, const char *federation, const char *http);

#endif
