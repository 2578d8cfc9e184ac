// SPDX-License-Identifier: Apache-2.0
// lcnode.conf: an INI file read with libinih through an init/line/finish parser.
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <ini.h>

#include "base/addr.h"
#include "base/codes.h"
#include "core/config.h"
#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xmalloc.h"

#define DEFAULT_MAP_SIZE (8ULL << 30)
#define MIN_MAP_SIZE (1ULL << 20)

void
config_init(struct config *cfg, const char *dir)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->dir = xstrdup(dir);
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->map_size = DEFAULT_MAP_SIZE;
	cfg->fanout = CONFIG_DEFAULT_FANOUT;
	cfg->sync_interval = CONFIG_DEFAULT_SYNC_INTERVAL;
	cfg->stall_timeout = CONFIG_DEFAULT_STALL_TIMEOUT;
	cfg->keepalive = CONFIG_DEFAULT_KEEPALIVE;
	cfg->keepalive_timeout = CONFIG_DEFAULT_KEEPALIVE_TIMEOUT;
	cfg->peer_queue = CONFIG_DEFAULT_PEER_QUEUE;
	cfg->peers_queue = CONFIG_DEFAULT_PEERS_QUEUE;
	cfg->receive_queue = CONFIG_DEFAULT_RECEIVE_QUEUE;
	cfg->handshakes_per_address = CONFIG_DEFAULT_HANDSHAKES_PER_ADDRESS;
	cfg->offender_backoff = CONFIG_DEFAULT_OFFENDER_BACKOFF;
	cfg->offender_backoff_max = CONFIG_DEFAULT_OFFENDER_BACKOFF_MAX;
	/* The addresses a local proxy or tunnel shows for every peer. */
	cfg->shared[0].family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", cfg->shared[0].addr);
	cfg->shared[1].family = AF_INET6;
	inet_pton(AF_INET6, "::1", cfg->shared[1].addr);
	cfg->nshared = 2;
	cfg->hold_time = CONFIG_DEFAULT_HOLD_TIME;
	cfg->beacon_interval = CONFIG_DEFAULT_BEACON_INTERVAL;
	cfg->max_peers = CONFIG_DEFAULT_MAX_PEERS;
	cfg->http_enabled = 1;
	cfg->http_host = xstrdup(CONFIG_DEFAULT_HTTP_HOST);
	cfg->http_port = CONFIG_DEFAULT_HTTP_PORT;
	cfg->http_operator_loopback = 1;
	cfg->http_max_connections = CONFIG_DEFAULT_HTTP_MAX_CONNECTIONS;
	cfg->http_idle_timeout = CONFIG_DEFAULT_HTTP_IDLE_TIMEOUT;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->dir);
	free(cfg->path);
	free(cfg->city);
	free(cfg->country);
	free(cfg->listen_host);
	free(cfg->key_path);
	free(cfg->catalog_path);
	free(cfg->http_host);
	free(cfg->http_web_root);
	while (cfg->nannounce > 0)
		free(cfg->announce[--cfg->nannounce]);
	memset(cfg, 0, sizeof(*cfg));
}

static int
perr(struct config_parser *p, int line, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (!p->failed) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		if (line > 0)
			snprintf(p->err, sizeof(p->err), "%s:%d: %s", p->file, line, msg);
		else
			snprintf(p->err, sizeof(p->err), "%s: %s", p->file, msg);
	}
	p->failed = 1;
	return LCF_ECONFIG;
}

int
config_is_ip(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

static int
parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	/* strtoull would take "-1" and wrap it to the largest size. */
	if (*s < '0' || *s > '9')
		return LCF_EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno != 0)
		return LCF_EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default:
		return LCF_EINVAL;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end != '\0' || (shift && v > (UINT64_MAX >> shift)))
		return LCF_EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* A whole decimal number in [min, max]: no sign, spaces or suffix. */
static int
parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return LCF_EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || errno != 0 || v < min || v > max)
		return LCF_EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* A size in [min, max] bytes, as parse_size reads it. */
static int
parse_size_in(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (parse_size(s, &v) != 0 || v < min || v > max)
		return LCF_EINVAL;
	*out = v;
	return 0;
}

static char *
abs_path(const char *dir, const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	return xasprintf("%s/%s", dir, path);
}

static void
set_str(char **slot, const char *value)
{
	free(*slot);
	*slot = xstrdup(value);
}

static int
parse_bool(const char *s, int *out)
{
	if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0 || strcmp(s, "on") == 0)
		*out = 1;
	else if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0 || strcmp(s, "off") == 0)
		*out = 0;
	else
		return LCF_EINVAL;
	return 0;
}

/* shared_addresses: IP literals separated by spaces, or none. */
static int
shared_line(struct config_parser *p, const char *value, int line)
{
	struct config *cfg = p->cfg;
	char buf[512], *tok, *save = NULL;

	cfg->nshared = 0;
	if (strcmp(value, "none") == 0)
		return 0;
	if (strlen(value) >= sizeof(buf))
		return perr(p, line, "shared_addresses: too long");
	snprintf(buf, sizeof(buf), "%s", value);
	for (tok = strtok_r(buf, " \t", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t", &save)) {
		struct config_ip *ip = &cfg->shared[cfg->nshared];

		if (cfg->nshared == CONFIG_MAX_SHARED)
			return perr(p, line, "shared_addresses: at most %d addresses", CONFIG_MAX_SHARED);
		if (inet_pton(AF_INET, tok, ip->addr) == 1)
			ip->family = AF_INET;
		else if (inet_pton(AF_INET6, tok, ip->addr) == 1)
			ip->family = AF_INET6;
		else
			return perr(p, line, "shared_addresses: expected IP addresses separated by spaces, or none, got '%s'", tok);
		cfg->nshared++;
	}
	if (cfg->nshared == 0)
		return perr(p, line, "shared_addresses: expected IP addresses separated by spaces, or none");
	return 0;
}

int
config_is_shared(const struct config *cfg, const char *ip)
{
	uint8_t a[16];
	int family;
	size_t i;

	if (inet_pton(AF_INET, ip, a) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, ip, a) == 1)
		family = AF_INET6;
	else
		return 0;
	for (i = 0; i < cfg->nshared; i++)
		if (cfg->shared[i].family == family &&
		    memcmp(cfg->shared[i].addr, a, family == AF_INET ? 4 : 16) == 0)
			return 1;
	return 0;
}

/* [federation]'s bounds on what peers may hold (*known: 0 for another
 * setting). 0 or LCF_ECONFIG. */
static int
bounds_line(struct config_parser *p, const char *name, const char *value,
    int line, int *known)
{
	struct config *cfg = p->cfg;

	*known = 1;
	if (strcmp(name, "peer_queue") == 0) {
		if (parse_size_in(value, CONFIG_MIN_PEER_QUEUE, CONFIG_MAX_PEER_QUEUE, &cfg->peer_queue) != 0)
			return perr(p, line, "peer_queue: expected a size from 64K to 64M, got '%s'", value);
	} else if (strcmp(name, "peers_queue") == 0) {
		if (parse_size_in(value, CONFIG_MIN_PEERS_QUEUE, CONFIG_MAX_PEERS_QUEUE, &cfg->peers_queue) != 0)
			return perr(p, line, "peers_queue: expected a size from 64K to 1G, got '%s'", value);
	} else if (strcmp(name, "receive_queue") == 0) {
		if (parse_size_in(value, CONFIG_MIN_RECEIVE_QUEUE, CONFIG_MAX_RECEIVE_QUEUE, &cfg->receive_queue) != 0)
			return perr(p, line, "receive_queue: expected a size from 64K to 1G, got '%s'", value);
	} else if (strcmp(name, "handshakes_per_address") == 0) {
		if (parse_uint(value, 1, CONFIG_MAX_HANDSHAKES_PER_ADDRESS, &cfg->handshakes_per_address) != 0)
			return perr(p, line, "handshakes_per_address: expected a number from 1 to %d, got '%s'", CONFIG_MAX_HANDSHAKES_PER_ADDRESS, value);
	} else if (strcmp(name, "offender_backoff") == 0) {
		if (parse_uint(value, 0, CONFIG_MAX_OFFENDER_BACKOFF, &cfg->offender_backoff) != 0)
			return perr(p, line, "offender_backoff: expected seconds from 0 (never) to %d, got '%s'", CONFIG_MAX_OFFENDER_BACKOFF, value);
	} else if (strcmp(name, "shared_addresses") == 0) {
		return shared_line(p, value, line);
	} else if (strcmp(name, "offender_backoff_max") == 0) {
		if (parse_uint(value, 1, CONFIG_MAX_OFFENDER_BACKOFF, &cfg->offender_backoff_max) != 0)
			return perr(p, line, "offender_backoff_max: expected seconds from 1 to %d, got '%s'", CONFIG_MAX_OFFENDER_BACKOFF, value);
	} else {
		*known = 0;
	}
	return 0;
}

static int
http_line(struct config_parser *p, const char *name, const char *value, int line)
{
	struct config *cfg = p->cfg;
	char host[256];
	uint16_t port;

	if (strcmp(name, "listen") == 0) {
		if (strcmp(value, "off") == 0) {
			cfg->http_enabled = 0;
			return 0;
		}
		if (addr_parse_hostport(value, host, sizeof(host), &port) != 0 ||
		    !config_is_ip(host))
			return perr(p, line, "listen: expected an IP address and port such as 127.0.0.1:8380, or off, got '%s'", value);
		free(cfg->http_host);
		cfg->http_host = xstrdup(host);
		cfg->http_port = port;
		cfg->http_enabled = 1;
	} else if (strcmp(name, "operator_loopback") == 0) {
		if (parse_bool(value, &cfg->http_operator_loopback) != 0)
			return perr(p, line, "operator_loopback: expected yes or no, got '%s'", value);
	} else if (strcmp(name, "personal_data") == 0) {
		if (parse_bool(value, &cfg->http_personal_data) != 0)
			return perr(p, line, "personal_data: expected yes or no, got '%s'", value);
	} else if (strcmp(name, "max_connections") == 0) {
		if (parse_uint(value, 1, CONFIG_MAX_HTTP_CONNECTIONS, &cfg->http_max_connections) != 0)
			return perr(p, line, "max_connections: expected a number from 1 to %d, got '%s'", CONFIG_MAX_HTTP_CONNECTIONS, value);
	} else if (strcmp(name, "idle_timeout") == 0) {
		if (parse_uint(value, 1, CONFIG_MAX_HTTP_IDLE_TIMEOUT, &cfg->http_idle_timeout) != 0)
			return perr(p, line, "idle_timeout: expected seconds from 1 to %d, got '%s'", CONFIG_MAX_HTTP_IDLE_TIMEOUT, value);
	} else if (strcmp(name, "web_root") == 0) {
		if (value[0] == '\0')
			return perr(p, line, "web_root: expected a folder holding the built dashboard (index.html)");
		free(cfg->http_web_root);
		cfg->http_web_root = abs_path(cfg->dir, value);
	} else {
		return perr(p, line, "unknown setting '%s' in section [http]", name);
	}
	return 0;
}

static int set_line(struct config_parser *p, const char *section,
    const char *name, const char *value, int line);

/* The entry of a setting set before, or NULL. */
static const struct config_seen *
seen_find(const struct config_parser *p, const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < p->nseen; i++)
		if (strcmp(p->seen[i].section, section) == 0 &&
		    strcmp(p->seen[i].name, name) == 0)
			return &p->seen[i];
	return NULL;
}

int
config_line(struct config_parser *p, const char *section, const char *name,
    const char *value, int line)
{
	const struct config_seen *first;
	struct config_seen *e;
	int rc;

	/* announce is the one setting that repeats (config.h). */
	if (strcmp(name, "announce") != 0 &&
	    (first = seen_find(p, section, name)) != NULL)
		return perr(p, line, "duplicate key \"%s\" in [%s] (first set "
		    "on line %d): keep one", name, section, first->line);
	if ((rc = set_line(p, section, name, value, line)) != 0)
		return rc;
	/* Known settings only come here, and each once: the table holds
	 * them all, and their names fit. */
	if (p->nseen < CONFIG_MAX_SEEN &&
	    strlen(section) < sizeof(e->section) && strlen(name) < sizeof(e->name)) {
		e = &p->seen[p->nseen++];
		snprintf(e->section, sizeof(e->section), "%s", section);
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->line = line;
	}
	return 0;
}

static int
set_line(struct config_parser *p, const char *section, const char *name,
    const char *value, int line)
{
	struct config *cfg = p->cfg;
	char host[256];
	uint16_t port;
	int known;

	if (strcmp(section, "node") == 0) {
		if (strcmp(name, "city") == 0) {
			if (value[0] == '\0' || strlen(value) > 200)
				return perr(p, line, "city: expected a name of 1 to 200 characters");
			set_str(&cfg->city, value);
		} else if (strcmp(name, "country") == 0) {
			if (!code_country_valid(value))
				return perr(p, line, "country: expected an ISO 3166-1 alpha-2 code such as RO, got '%s'", value);
			set_str(&cfg->country, value);
		} else if (strcmp(name, "listen") == 0) {
			if (addr_parse_hostport(value, host, sizeof(host), &port) != 0)
				return perr(p, line, "listen: expected HOST:PORT (port 1-65535), got '%s'", value);
			if (!config_is_ip(host))
				return perr(p, line, "listen: '%s' is not an IP address: give an address of this machine such as 0.0.0.0 (every IPv4 address), [::] or 192.0.2.10, not a host name", host);
			set_str(&cfg->listen_host, host);
			cfg->listen_port = port;
		} else if (strcmp(name, "key") == 0) {
			if (value[0] == '\0')
				return perr(p, line, "key: expected a file name");
			free(cfg->key_path);
			cfg->key_path = abs_path(cfg->dir, value);
		} else if (strcmp(name, "catalog") == 0) {
			if (value[0] == '\0')
				return perr(p, line, "catalog: expected a file name");
			free(cfg->catalog_path);
			cfg->catalog_path = abs_path(cfg->dir, value);
		} else if (strcmp(name, "federation") == 0) {
			if (strlen(value) != 64 ||
			    hex_decode(value, cfg->federation, 32) != 0)
				return perr(p, line, "federation: expected a federation id of 64 hex digits (from `lcctl federation create`), got '%s'", value);
			cfg->has_federation = 1;
		} else if (strcmp(name, "announce") == 0) {
			if (addr_parse_hostport(value, host, sizeof(host), &port) != 0)
				return perr(p, line, "announce: expected HOST:PORT (port 1-65535), got '%s'", value);
			if (cfg->nannounce == CONFIG_MAX_ANNOUNCE)
				return perr(p, line, "announce: at most %d addresses", CONFIG_MAX_ANNOUNCE);
			cfg->announce[cfg->nannounce++] = addr_format_dup(host, port);
		} else if (strcmp(name, "log_level") == 0) {
			if (strcmp(value, "warn") == 0)
				cfg->log_level = LOG_LEVEL_WARN;
			else if (strcmp(value, "info") == 0)
				cfg->log_level = LOG_LEVEL_INFO;
			else if (strcmp(value, "debug") == 0)
				cfg->log_level = LOG_LEVEL_DEBUG;
			else
				return perr(p, line, "log_level: expected warn, info or debug, got '%s'", value);
		} else {
			return perr(p, line, "unknown setting '%s' in section [node]", name);
		}
	} else if (strcmp(section, "store") == 0) {
		if (strcmp(name, "map_size") == 0) {
			if (parse_size(value, &cfg->map_size) != 0 ||
			    cfg->map_size < MIN_MAP_SIZE)
				return perr(p, line, "map_size: expected a size such as 8G (at least 1M), got '%s'", value);
		} else {
			return perr(p, line, "unknown setting '%s' in section [store]", name);
		}
	} else if (strcmp(section, "federation") == 0) {
		if (strcmp(name, "fanout") == 0) {
			if (parse_uint(value, 1, CONFIG_MAX_FANOUT, &cfg->fanout) != 0)
				return perr(p, line, "fanout: expected a number of peers from 1 to %d, got '%s'", CONFIG_MAX_FANOUT, value);
		} else if (strcmp(name, "sync_interval") == 0) {
			if (parse_uint(value, 1, CONFIG_MAX_SYNC_INTERVAL, &cfg->sync_interval) != 0)
				return perr(p, line, "sync_interval: expected seconds from 1 to %d, got '%s'", CONFIG_MAX_SYNC_INTERVAL, value);
		} else if (strcmp(name, "stall_timeout") == 0) {
			if (parse_uint(value, 1, CONFIG_MAX_STALL_TIMEOUT, &cfg->stall_timeout) != 0)
				return perr(p, line, "stall_timeout: expected seconds from 1 to %d, got '%s'", CONFIG_MAX_STALL_TIMEOUT, value);
		} else if (strcmp(name, "keepalive") == 0) {
			if (parse_uint(value, 0, CONFIG_MAX_KEEPALIVE, &cfg->keepalive) != 0)
				return perr(p, line, "keepalive: expected seconds from 0 (none) to %d, got '%s'", CONFIG_MAX_KEEPALIVE, value);
		} else if (strcmp(name, "keepalive_timeout") == 0) {
			if (parse_uint(value, CONFIG_MIN_KEEPALIVE_TIMEOUT, CONFIG_MAX_KEEPALIVE_TIMEOUT, &cfg->keepalive_timeout) != 0)
				return perr(p, line, "keepalive_timeout: expected seconds from %d to %d, got '%s'", CONFIG_MIN_KEEPALIVE_TIMEOUT, CONFIG_MAX_KEEPALIVE_TIMEOUT, value);
		} else if (strcmp(name, "hold_time") == 0) {
			if (parse_uint(value, 1, CONFIG_MAX_HOLD_TIME, &cfg->hold_time) != 0)
				return perr(p, line, "hold_time: expected seconds from 1 to %d, got '%s'", CONFIG_MAX_HOLD_TIME, value);
		} else if (strcmp(name, "beacon_interval") == 0) {
			if (parse_uint(value, CONFIG_MIN_BEACON_INTERVAL, CONFIG_MAX_BEACON_INTERVAL, &cfg->beacon_interval) != 0)
				return perr(p, line, "beacon_interval: expected seconds from %d to %d, got '%s'", CONFIG_MIN_BEACON_INTERVAL, CONFIG_MAX_BEACON_INTERVAL, value);
		} else if (strcmp(name, "max_peers") == 0) {
			if (parse_uint(value, 1, CONFIG_MAX_PEERS, &cfg->max_peers) != 0)
				return perr(p, line, "max_peers: expected a number from 1 to %d, got '%s'", CONFIG_MAX_PEERS, value);
		} else if (bounds_line(p, name, value, line, &known) != 0) {
			return LCF_ECONFIG;
		} else if (!known) {
			return perr(p, line, "unknown setting '%s' in section [federation]", name);
		}
	} else if (strcmp(section, "http") == 0) {
		return http_line(p, name, value, line);
	} else {
		return perr(p, line, "unknown section [%s]", section);
	}
	return 0;
}

/*
 * Whether this process can map map_size bytes at all, as LMDB will at
 * start: above SIZE_MAX, RLIMIT_AS (ulimit -v) or the address space left
 * (2^62 on x86-64, whose user space is 2^47), mdb_env_open fails with a
 * bare "File too large" or "Cannot allocate memory". A reserved mapping
 * (PROT_NONE, MAP_NORESERVE) takes no memory and is released at once.
 */
static int
check_map_size(struct config_parser *p)
{
	const struct config_seen *at = seen_find(p, "store", "map_size");
	uint64_t size = p->cfg->map_size;
	int line = at != NULL ? at->line : 0;
	const char *how = at != NULL ? "" : " (the default: none is set)";
	struct rlimit rl;
	void *m;

	if (size > SIZE_MAX)
		return perr(p, line, "map_size: %llu bytes%s is more than this "
		    "system can address (%zu): lower map_size in [store]",
		    (unsigned long long)size, how, (size_t)SIZE_MAX);
	if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    size > (uint64_t)rl.rlim_cur)
		return perr(p, line, "map_size: %llu MiB%s is more than the "
		    "address space lcnode may use (RLIMIT_AS, ulimit -v: %llu "
		    "MiB): lower map_size in [store], or raise the limit",
		    (unsigned long long)(size >> 20), how,
		    (unsigned long long)(rl.rlim_cur >> 20));
	m = mmap(NULL, (size_t)size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return perr(p, line, "map_size: %llu MiB%s is more than this "
		    "system can map (mmap: %s): lower map_size in [store]",
		    (unsigned long long)(size >> 20), how, strerror(errno));
	munmap(m, (size_t)size);
	return 0;
}

int
config_finish(struct config_parser *p)
{
	struct config *cfg = p->cfg;

	if (p->failed)
		return LCF_ECONFIG;
	if (cfg->listen_host == NULL)
		return perr(p, 0, "missing setting 'listen' in section [node]");
	if (cfg->key_path == NULL)
		cfg->key_path = abs_path(cfg->dir, "identity.key");
	return check_map_size(p);
}

/* libinih reads through this so each handler call knows its line number,
 * and so that what libinih cannot say (a NUL byte, a line longer than its
 * buffer) is told by line. */
struct line_reader {
	FILE *f;
	int line;                /* number of the line the last chunk belongs to */
	int partial;             /* the last chunk did not end its line */
	int toolong;             /* the first line longer than the buffer */
	int nul;                 /* the first line holding a NUL byte */
	int max;                 /* libinih's buffer, as built (INI_MAX_LINE) */
};

/* As fgets, byte by byte: a NUL byte, which fgets would pass on as the end
 * of the line, is noted and read as a space. */
static char *
reader(char *str, int num, void *stream)
{
	struct line_reader *r = stream;
	int c = EOF, i = 0;

	r->max = num;
	while (i < num - 1 && (c = getc(r->f)) != EOF) {
		if (!r->partial && i == 0)
			r->line++;
		if (c == '\0') {
			if (!r->nul)
				r->nul = r->line;
			c = ' ';
		}
		str[i++] = (char)c;
		if (c == '\n')
			break;
	}
	if (i == 0)
		return NULL;
	str[i] = '\0';
	r->partial = str[i - 1] != '\n';
	if (r->partial && c != EOF && !r->toolong) {
		/* The buffer is full before the line's end: is there more? */
		if ((c = getc(r->f)) != EOF) {
			ungetc(c, r->f);
			r->toolong = r->line;
		}
	}
	return str;
}

struct handler_ctx {
	struct config_parser *p;
	struct line_reader *r;
	int fail_line;           /* line of the first setting refused */
};

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct handler_ctx *h = user;

	if (config_line(h->p, section, name, value, h->r->line) != 0) {
		if (h->fail_line == 0)
			h->fail_line = h->r->line;
		return 0;
	}
	return 1;
}

int
config_load(struct config *cfg, const char *dir, char *err, size_t errlen)
{
	char *path = xasprintf("%s/%s", dir, CONFIG_FILE_NAME);
	FILE *f;
	int ret;

	if ((f = fopen(path, "re")) == NULL) {
		config_init(cfg, dir);
		cfg->path = xstrdup(path);
		snprintf(err, errlen, "%s: %s (create it with `lcctl -d %s init`)",
		    path, strerror(errno), dir);
		free(path);
		return LCF_ECONFIG;
	}
	ret = config_read(cfg, dir, path, f, err, errlen);
	fclose(f);
	free(path);
	return ret;
}

int
config_read(struct config *cfg, const char *dir, const char *path, FILE *f,
    char *err, size_t errlen)
{
	struct config_parser p;
	struct line_reader r = { NULL, 0, 0, 0, 0, 0 };
	struct handler_ctx h = { &p, &r, 0 };
	int rc;

	config_init(cfg, dir);
	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.file = path;
	cfg->path = xstrdup(path);
	r.f = f;
	rc = ini_parse_stream(reader, &r, handler, &h);
	/*
	 * libinih carries on after a syntax error, so a later setting may have
	 * been refused already: report whichever problem comes first in the
	 * file. The pieces of an over-long line cause the errors after it.
	 */
	if (r.toolong && (!p.failed || r.toolong <= h.fail_line)) {
		p.failed = 0;
		perr(&p, r.toolong, "line longer than %d characters (the most "
		    "libinih reads in one line): shorten it", r.max - 2);
		h.fail_line = r.toolong;
	}
	if (r.nul && (!p.failed || r.nul <= h.fail_line)) {
		p.failed = 0;
		perr(&p, r.nul, "a NUL byte (\\0) in the line: lcnode.conf must "
		    "be text; remove it");
		h.fail_line = r.nul;
	}
	if (rc > 0 && (!p.failed || rc < h.fail_line)) {
		p.failed = 0;
		perr(&p, rc, "syntax error (expected [section] or name = value)");
	} else if (rc < 0 && !p.failed) {
		perr(&p, 0, "cannot read the file");
	}
	if (config_finish(&p) != 0) {
		snprintf(err, errlen, "%s", p.err);
		return LCF_ECONFIG;
	}
	return 0;
}

int
config_write_template(const char *path, const char *city, const char *country,
    const char *listen, const char *federation, const char *http)
{
	int ret = LCF_EIO, fd, saved;
	FILE *f = NULL;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
		return errno == EEXIST ? LCF_EEXIST : LCF_EIO;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		goto out;
	}
	fprintf(f,
	    "; lcnode configuration, written by `lcctl init`. Lines starting with ';'\n"
	    "; are comments. `lcnode -d DIR -n` checks this file and the key.\n"
	    "\n"
	    "[node]\n"
	    "; The city's name and ISO 3166-1 alpha-2 country code. At its first start the\n"
	    "; node publishes them as the city profile; later changes go through\n"
	    "; `lcctl city set`.\n"
	    "city = %s\n"
	    "country = %s\n"
	    "\n"
	    "; Address (HOST:PORT) where the node accepts peer cities.\n"
	    "listen = %s\n"
	    "\n"
	    "; The city's Ed25519 key, relative to this directory. Mode 0600: lcnode\n"
	    "; refuses a key that group or others can read.\n"
	    "key = identity.key\n"
	    "\n"
	    "; Indicator catalog (JSON). Default: the catalog installed with lcf.\n"
	    "; catalog = /usr/local/share/lcf/catalog.json\n"
	    "\n"
	    "; warn, info or debug.\n"
	    "log_level = info\n"
	    "\n"
	    "; The federation this node belongs to: the id `lcctl federation create`\n"
	    "; printed for its secretariat. A node of a federation takes and forwards\n"
	    "; only records of admitted cities. Unset: an open node.\n"
	    "%sfederation = %s\n"
	    "\n"
	    "; Addresses other cities can dial this node on, published in its signed\n"
	    "; endpoint record so that members find each other from one bootstrap\n"
	    "; peer. Repeatable. Default: the listen address unless it is a wildcard.\n"
	    "; announce = node.example.org:7400\n"
	    "\n"
	    "[store]\n"
	    "; Largest size the database may grow to (LMDB map size). The file grows as\n"
	    "; needed up to this; raise it if the node reports that the map is full.\n"
	    "map_size = 8G\n"
	    "\n"
	    "[federation]\n"
	    "; Peers are added with `lcctl peer add HOST:PORT` and kept in peers.json.\n"
	    "; How many connected peers each new record is pushed to at once. With\n"
	    "; fanout >= max_peers every link carries it (a peer that has it already\n"
	    "; drops it by id); a lower fanout leaves some nodes to reconciliation.\n"
	    "fanout = %d\n"
	    "; Seconds between reconciliations with a peer chosen at random (+-25%%).\n"
	    "sync_interval = %d\n"
	    "; Connected peers at most; further inbound connections are refused.\n"
	    "; Discovery dials cities found in endpoint records up to 3/4 of it.\n"
	    "max_peers = %d\n"
	    "; Seconds a peer may leave what is sent to it unread before the link is\n"
	    "; closed (raise it for very slow links); a quarter of it while\n"
	    "; peers_queue is reached.\n"
	    "; stall_timeout = %d\n"
	    "; Seconds between keepalives on an idle link (0: none), and the silence\n"
	    "; after which a link is closed as dead and its peer redialed.\n"
	    "; keepalive = %d\n"
	    "; keepalive_timeout = %d\n"
	    "; Bytes queued to one peer, and to all together, before sending waits.\n"
	    "; peer_queue = 4M\n"
	    "; peers_queue = 32M\n"
	    "; Bytes received from all peers and waiting to be verified and stored\n"
	    "; before reading from peers waits.\n"
	    "; receive_queue = 128M\n"
	    "; Handshakes under way at once from one address; more are refused.\n"
	    "; handshakes_per_address = 8\n"
	    "; Seconds an address or key that breaks the protocol is refused, doubled\n"
	    "; at each offence up to offender_backoff_max (0: never).\n"
	    "; offender_backoff = 1\n"
	    "; offender_backoff_max = 600\n"
	    "; Addresses many cities may share (a local proxy or tunnel): no bound per\n"
	    "; address or back-off of an address for them.\n"
	    "; shared_addresses = 127.0.0.1 ::1\n"
	    "; In a federation, seconds the records of a city not admitted (yet) are\n"
	    "; held, unstored, waiting for its admission to arrive.\n"
	    "; hold_time = %d\n"
	    "; Seconds between this node's status beacons (600 to 86400); a\n"
	    "; material change brings one sooner, never two within 600 s.\n"
	    "; beacon_interval = %d\n"
	    "\n"
	    "[http]\n"
	    "; The node's HTTP face: the read-only JSON API under /api/v1/, live\n"
	    "; events, /metrics, /healthz and /readyz. HOST:PORT, or off. Serve it\n"
	    "; publicly through a reverse proxy that adds TLS (see the README).\n"
	    "%slisten = %s\n"
	    "; Operator data (peers, sync state, metrics, link events) needs the\n"
	    "; token in http.token (`lcctl http token`), or a request from loopback\n"
	    "; while this is yes; never one carrying Forwarded or X-Forwarded-For.\n"
	    "; operator_loopback = yes\n"
	    "; Contact names and e-mail addresses in public answers.\n"
	    "; personal_data = no\n"
	    "; max_connections = %d\n"
	    "; Seconds a connection may stay silent, or send half a request.\n"
	    "; idle_timeout = %d\n"
	    "; The web dashboard's folder, served at /. Default: the one installed\n"
	    "; with lcf, else the one `make web` built in the source tree.\n"
	    "; web_root = /usr/local/share/lcf/web\n",
	    city, country, listen, federation != NULL ? "" : "; ",
	    federation != NULL ? federation : "FEDID", CONFIG_DEFAULT_FANOUT,
	    CONFIG_DEFAULT_SYNC_INTERVAL, CONFIG_DEFAULT_MAX_PEERS,
	    CONFIG_DEFAULT_STALL_TIMEOUT, CONFIG_DEFAULT_KEEPALIVE,
	    CONFIG_DEFAULT_KEEPALIVE_TIMEOUT, CONFIG_DEFAULT_HOLD_TIME,
	    CONFIG_DEFAULT_BEACON_INTERVAL,
	    http != NULL ? "" : "; ",
	    http != NULL ? http : CONFIG_DEFAULT_HTTP_HOST ":8380",
	    CONFIG_DEFAULT_HTTP_MAX_CONNECTIONS, CONFIG_DEFAULT_HTTP_IDLE_TIMEOUT);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		goto out;
	ret = 0;
out:
	saved = errno;
	if (f != NULL && fclose(f) != 0 && ret == 0)
		ret = LCF_EIO;
	if (ret != 0)
		unlink(path);
	errno = saved;
	return ret;
}
