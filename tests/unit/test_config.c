// SPDX-License-Identifier: Apache-2.0
// Unit tests for config: lcnode.conf parsing, errors with file:line, the template.
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/addr.h"
#include "core/config.h"
#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "unit_util.h"

struct fix {
	char dir[64];
	char path[128];
};

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/lcf-test-config-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, CONFIG_FILE_NAME);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	if (f == NULL)
		return 0;
	unit_rm_tree(f->dir);
	free(f);
	return 0;
}

/* Replaces DIR/lcnode.conf with text. */
static void
write_conf(const struct fix *f, const char *text)
{
	FILE *fp;

	unlink(f->path);
	fp = fopen(f->path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);
}

/* Loads text as DIR/lcnode.conf; cfg must be freed by the caller. */
static int
load_text(const struct fix *f, const char *text, struct config *cfg, char *err,
    size_t errlen)
{
	write_conf(f, text);
	err[0] = '\0';
	return config_load(cfg, f->dir, err, errlen);
}

static void
expect_str(const char *got, const char *want, const char *what)
{
	if (got == NULL || strcmp(got, want) != 0) {
		print_error("%s: got '%s', want '%s'\n", what, got ? got : "(null)",
		    want);
		fail();
	}
}

static void
expect_path(const char *got, const char *dir, const char *name, const char *what)
{
	char want[512];

	snprintf(want, sizeof(want), "%s/%s", dir, name);
	expect_str(got, want, what);
}

/* ---- loading ---- */

static void
test_full_file(void **state)
{
	struct fix *f = *state;
	struct config cfg;
	char err[600];
	int rc;

	rc = load_text(f,
	    "; lcnode configuration\n"
	    "# another comment style\n"
	    "\n"
	    "[node]\n"
	    "city = Tampere\n"
	    "country = FI\n"
	    "listen = 0.0.0.0:7400\n"
	    "key = keys/city.key\n"
	    "catalog = share/catalog.json   ; the local catalog\n"
	    "log_level = debug\n"
	    "\n"
	    "[store]\n"
	    "map_size = 512M\n", &cfg, err, sizeof(err));
	if (rc != 0)
		print_error("config_load: %s\n", err);
	assert_int_equal(rc, 0);
	expect_str(cfg.dir, f->dir, "dir");
	expect_str(cfg.path, f->path, "path");
	expect_str(cfg.city, "Tampere", "city");
	expect_str(cfg.country, "FI", "country");
	expect_str(cfg.listen_host, "0.0.0.0", "listen host");
	assert_int_equal(cfg.listen_port, 7400);
	expect_path(cfg.key_path, f->dir, "keys/city.key", "key");
	expect_path(cfg.catalog_path, f->dir, "share/catalog.json", "catalog");
	assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(cfg.map_size, 512ULL << 20);
	config_free(&cfg);
	assert_null(cfg.city);
	config_free(&cfg);
	config_free(NULL);
}

static void
test_values(void **state)
{
	struct fix *f = *state;
	static const struct {
		const char *value;
		uint64_t want;
	} sizes[] = {
		{ "512M", 512ULL << 20 },
		{ "2G", 2ULL << 30 },
		{ "2g", 2ULL << 30 },
		{ "1TiB", 1ULL << 40 },
		{ "3GB", 3ULL << 30 },
		{ "4096K", 4ULL << 20 },
		{ "1048576", 1ULL << 20 },
		{ "1M", 1ULL << 20 },
	};
	static const struct {
		const char *value;
		int want;
	} levels[] = {
		{ "warn", LOG_LEVEL_WARN },
		{ "info", LOG_LEVEL_INFO },
		{ "debug", LOG_LEVEL_DEBUG },
	};
	struct config cfg;
	char text[512], err[600];
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(text, sizeof(text), "[node]\nlisten = 127.0.0.1:1\n"
		    "[store]\nmap_size = %s\n", sizes[i].value);
		if (load_text(f, text, &cfg, err, sizeof(err)) != 0) {
			print_error("map_size = %s: %s\n", sizes[i].value, err);
			fail();
		}
		if (cfg.map_size != sizes[i].want) {
			print_error("map_size = %s: got %llu, want %llu\n",
			    sizes[i].value, (unsigned long long)cfg.map_size,
			    (unsigned long long)sizes[i].want);
			fail();
		}
		config_free(&cfg);
	}
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		snprintf(text, sizeof(text), "[node]\nlog_level = %s\n"
		    "listen = 127.0.0.2:65535\n", levels[i].value);
		assert_int_equal(load_text(f, text, &cfg, err, sizeof(err)), 0);
		assert_int_equal(cfg.log_level, levels[i].want);
		expect_str(cfg.listen_host, "127.0.0.2", "listen host");
		assert_int_equal(cfg.listen_port, 65535);
		config_free(&cfg);
	}
	/* IPv6 in brackets; absolute paths stay as they are. (A second line
	 * for the same setting is an error since issue 17: test_errors.) */
	assert_int_equal(load_text(f, "[node]\nlisten = [::1]:7400\n"
	    "key = /etc/lcf/city.key\ncatalog = /usr/share/lcf/catalog.json\n"
	    "city = Second\n", &cfg, err, sizeof(err)), 0);
	expect_str(cfg.listen_host, "::1", "IPv6 listen host");
	assert_int_equal(cfg.listen_port, 7400);
	expect_str(cfg.key_path, "/etc/lcf/city.key", "absolute key");
	expect_str(cfg.catalog_path, "/usr/share/lcf/catalog.json",
	    "absolute catalog");
	expect_str(cfg.city, "Second", "repeated city");
	config_free(&cfg);
	/* A file without a final newline. */
	assert_int_equal(load_text(f, "[node]\ncity = Cluj-Napoca\n"
	    "listen = 10.0.0.1:9000", &cfg, err, sizeof(err)), 0);
	expect_str(cfg.city, "Cluj-Napoca", "city");
	assert_int_equal(cfg.listen_port, 9000);
	config_free(&cfg);
}

static void
test_defaults(void **state)
{
	struct fix *f = *state;
	struct config cfg;
	char err[600];

	assert_int_equal(load_text(f, "[node]\nlisten = 127.0.0.1:7400\n", &cfg,
	    err, sizeof(err)), 0);
	expect_path(cfg.key_path, f->dir, "identity.key", "default key");
	assert_int_equal(cfg.map_size, 8ULL << 30);
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
	assert_null(cfg.catalog_path);
	assert_null(cfg.city);
	assert_null(cfg.country);
	expect_str(cfg.listen_host, "127.0.0.1", "listen host");
	assert_int_equal(cfg.listen_port, 7400);
	assert_int_equal(cfg.stall_timeout, 60);
	assert_int_equal(cfg.keepalive, 5);
	assert_int_equal(cfg.keepalive_timeout, 15);
	assert_int_equal(cfg.hold_time, 3600);
	assert_int_equal(cfg.beacon_interval, 3600);
	config_free(&cfg);
	assert_int_equal(load_text(f, "[node]\nlisten = 127.0.0.1:7400\n"
	    "[federation]\nstall_timeout = 3600\nhold_time = 604800\n"
	    "beacon_interval = 600\nkeepalive = 0\nkeepalive_timeout = 3600\n",
	    &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.keepalive, 0);
	assert_int_equal(cfg.keepalive_timeout, 3600);
	assert_int_equal(cfg.stall_timeout, 3600);
	assert_int_equal(cfg.hold_time, 604800);
	assert_int_equal(cfg.beacon_interval, 600);
	config_free(&cfg);
	/* The bounds on peers: defaults, then set. */
	assert_int_equal(load_text(f, "[node]\nlisten = 127.0.0.1:7400\n", &cfg,
	    err, sizeof(err)), 0);
	assert_int_equal(cfg.peer_queue, 4u << 20);
	assert_int_equal(cfg.peers_queue, 32u << 20);
	assert_int_equal(cfg.receive_queue, 128u << 20);
	assert_int_equal(cfg.handshakes_per_address, 8);
	assert_int_equal(cfg.offender_backoff, 1);
	assert_int_equal(cfg.offender_backoff_max, 600);
	assert_true(config_is_shared(&cfg, "127.0.0.1"));
	assert_true(config_is_shared(&cfg, "::1"));
	assert_false(config_is_shared(&cfg, "127.0.0.2"));
	config_free(&cfg);
	assert_int_equal(load_text(f, "[node]\nlisten = 127.0.0.1:7400\n"
	    "[federation]\npeer_queue = 1M\npeers_queue = 64K\n"
	    "receive_queue = 2M\nhandshakes_per_address = 64\noffender_backoff = 0\n"
	    "offender_backoff_max = 86400\n"
	    "shared_addresses = 192.0.2.1  2001:db8::1\n", &cfg, err,
	    sizeof(err)), 0);
	assert_int_equal(cfg.peer_queue, 1u << 20);
	assert_int_equal(cfg.peers_queue, 64u << 10);
	assert_int_equal(cfg.receive_queue, 2u << 20);
	assert_int_equal(cfg.handshakes_per_address, 64);
	assert_int_equal(cfg.offender_backoff, 0);
	assert_int_equal(cfg.offender_backoff_max, 86400);
	assert_true(config_is_shared(&cfg, "2001:db8:0::1"));
	assert_true(config_is_shared(&cfg, "192.0.2.1"));
	assert_false(config_is_shared(&cfg, "127.0.0.1"));
	assert_false(config_is_shared(&cfg, "not an address"));
	config_free(&cfg);
	assert_int_equal(load_text(f, "[node]\nlisten = 127.0.0.1:7400\n"
	    "[federation]\nshared_addresses = none\n", &cfg, err,
	    sizeof(err)), 0);
	assert_false(config_is_shared(&cfg, "127.0.0.1"));
	config_free(&cfg);
}

struct bad {
	const char *text;
	int line;                /* 0: no line number in the message */
	const char *msg;         /* expected start of the message */
};

static void
test_errors(void **state)
{
	struct fix *f = *state;
	static const struct bad cases[] = {
		{ "[node]\nlisten = 127.0.0.1:7400\n\n[bogus]\nx = 1\n", 5,
		    "unknown section [bogus]" },
		{ "x = 1\n[node]\nlisten = 127.0.0.1:7400\n", 1,
		    "unknown section []" },
		{ "[node]\nlisten = 127.0.0.1:7400\ncolour = blue\n", 3,
		    "unknown setting 'colour' in section [node]" },
		{ "[node]\nlisten = localhost:7400\n", 2,
		    "listen: 'localhost' is not an IP address" },
		{ "[store]\nmap = 1G\n[node]\nlisten = 127.0.0.1:7400\n", 2,
		    "unknown setting 'map' in section [store]" },
		{ "[node]\ncity = X\nlisten = 127.0.0.1\n", 3,
		    "listen: expected HOST:PORT (port 1-65535), got '127.0.0.1'" },
		{ "[node]\nlisten = 127.0.0.1:0\n", 2,
		    "listen: expected HOST:PORT (port 1-65535), got '127.0.0.1:0'" },
		{ "[node]\n\n\nlisten = 127.0.0.1:70000\n", 4,
		    "listen: expected HOST:PORT" },
		{ "[node]\nlisten = ::1:7400\n", 2, "listen: expected HOST:PORT" },
		{ "[node]\nlisten = :7400\n", 2, "listen: expected HOST:PORT" },
		{ "[node]\nlisten = 127.0.0.1:7400\ncountry = fi\n", 3,
		    "country: expected an ISO 3166-1 alpha-2 code such as RO, got 'fi'" },
		{ "[node]\nlisten = 127.0.0.1:7400\ncountry = FIN\n", 3,
		    "country: expected an ISO 3166-1 alpha-2 code" },
		{ "[node]\nlisten = 127.0.0.1:7400\nlog_level = verbose\n", 3,
		    "log_level: expected warn, info or debug, got 'verbose'" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[store]\nmap_size = 12X\n", 4,
		    "map_size: expected a size such as 8G (at least 1M), got '12X'" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[store]\nmap_size = 512K\n", 4,
		    "map_size: expected a size" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[store]\nmap_size = 0\n", 4,
		    "map_size: expected a size" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[store]\nmap_size = G\n", 4,
		    "map_size: expected a size" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[store]\nmap_size = -1G\n", 4,
		    "map_size: expected a size" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[store]\n"
		    "map_size = 99999999999999999999999\n", 4,
		    "map_size: expected a size" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[store]\nmap_size = 16777216T\n",
		    4, "map_size: expected a size" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[store]\nmap_size = 1 G\n", 4,
		    "map_size: expected a size" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[store]\nmap_size = -1\n", 4,
		    "map_size: expected a size" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[store]\nmap_size = +8G\n", 4,
		    "map_size: expected a size" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[federation]\npeer_queue = 65M\n",
		    4, "peer_queue: expected a size from 64K to 64M, got '65M'" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[federation]\npeers_queue = 1K\n",
		    4, "peers_queue: expected a size from 64K to 1G" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[federation]\nreceive_queue = 2G\n",
		    4, "receive_queue: expected a size from 64K to 1G, got '2G'" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[federation]\n"
		    "handshakes_per_address = 0\n", 4,
		    "handshakes_per_address: expected a number from 1 to 64" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[federation]\n"
		    "offender_backoff = -1\n", 4, "offender_backoff: expected seconds" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[federation]\n"
		    "offender_backoff_max = 0\n", 4,
		    "offender_backoff_max: expected seconds from 1" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[federation]\n"
		    "shared_addresses = 10.0.0.1 example.org\n", 4,
		    "shared_addresses: expected IP addresses separated by spaces, or none, got 'example.org'" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[federation]\n"
		    "shared_addresses = 1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 "
		    "1.1.1.6 1.1.1.7 1.1.1.8 1.1.1.9\n", 4,
		    "shared_addresses: at most 8 addresses" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[federation]\nstall_timeout = 0\n",
		    4, "stall_timeout: expected seconds from 1 to 3600, got '0'" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[federation]\nstall_timeout = 3601\n",
		    4, "stall_timeout: expected seconds from 1 to 3600" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[federation]\nkeepalive = 301\n",
		    4, "keepalive: expected seconds from 0 (none) to 300, got '301'" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[federation]\nkeepalive_timeout = 1\n",
		    4, "keepalive_timeout: expected seconds from 2 to 3600, got '1'" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[federation]\nkeepalive_timeout = 3601\n",
		    4, "keepalive_timeout: expected seconds from 2 to 3600" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[federation]\nhold_time = 0\n",
		    4, "hold_time: expected seconds from 1 to 604800, got '0'" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[federation]\nhold_time = 604801\n",
		    4, "hold_time: expected seconds from 1 to 604800" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[federation]\nbeacon_interval = 599\n",
		    4, "beacon_interval: expected seconds from 600 to 86400, got '599'" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[federation]\nbeacon_interval = 86401\n",
		    4, "beacon_interval: expected seconds from 600 to 86400" },
		{ "[node]\ncity = Tampere\ncountry = FI\n", 0,
		    "missing setting 'listen' in section [node]" },
		{ "", 0, "missing setting 'listen' in section [node]" },
		{ "[node]\nlisten = 127.0.0.1:7400\nthis line is wrong\n", 3,
		    "syntax error (expected [section] or name = value)" },
		{ "[node\nlisten = 127.0.0.1:7400\n", 1, "syntax error" },
		{ "; comment\n\n[node]\n; comment\nlisten = 127.0.0.1:7400\n"
		    "\n; more\n\n[store]\nmap_size = lots\n", 10,
		    "map_size: expected a size" },
		/* The first error is the one reported. */
		{ "[node]\nlisten = 127.0.0.1:7400\ncountry = xx\ncolour = red\n", 3,
		    "country:" },
		{ "[node]\nlisten = 127.0.0.1:7400\ngarbage\ncolour = red\n", 3,
		    "syntax error" },
		{ "[node]\ncolour = red\ngarbage\n", 2, "unknown setting 'colour'" },
		/* A bad last line without a final newline keeps its number. */
		{ "[node]\nlisten = 127.0.0.1:7400\ncountry = xx", 3, "country:" },
		{ "[node]\nlisten = 127.0.0.1:7400\nnonsense", 3, "syntax error" },
		{ "[node]\ncity = \nlisten = 127.0.0.1:7400\n", 2,
		    "city: expected a name of 1 to 200 characters" },
		{ "[node]\nkey = \nlisten = 127.0.0.1:7400\n", 2,
		    "key: expected a file name" },
		/* A setting given twice in one section names both lines. */
		{ "[node]\nlisten = 127.0.0.1:7400\ncity = A\n\ncity = B\n", 5,
		    "duplicate key \"city\" in [node] (first set on line 3)" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\nlisten = off\n"
		    "[node]\nlisten = 127.0.0.1:7401\n", 6,
		    "duplicate key \"listen\" in [node] (first set on line 2)" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[store]\nmap_size = 1G\n"
		    "map_size = 2G\n", 5,
		    "duplicate key \"map_size\" in [store] (first set on line 4)" },
		/* A map_size no mmap can give names map_size and its line. */
		{ "[node]\nlisten = 127.0.0.1:7400\n[store]\nmap_size = 4096T\n", 4,
		    "map_size: 4294967296 MiB is more than this system can map" },
	};
	struct config cfg;
	char err[600], want[600];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = load_text(f, cases[i].text, &cfg, err, sizeof(err));
		if (cases[i].line > 0)
			snprintf(want, sizeof(want), "%s:%d: %s", f->path,
			    cases[i].line, cases[i].msg);
		else
			snprintf(want, sizeof(want), "%s: %s", f->path,
			    cases[i].msg);
		if (rc != LCF_ECONFIG || strncmp(err, want, strlen(want)) != 0) {
			print_error("case %zu:\n%s\n  got: %d '%s'\n want: %d '%s...'\n",
			    i, cases[i].text, rc, err, LCF_ECONFIG, want);
			fail();
		}
		config_free(&cfg);
	}
}

static void
test_long_line(void **state)
{
	struct fix *f = *state;
	struct config cfg;
	char text[1024], err[600], want[600];
	int rc;

	/* 300 characters on line 3. */
	snprintf(text, sizeof(text), "[node]\nlisten = 127.0.0.1:7400\n"
	    "city = %0300d\ncountry = FI\n", 0);
	rc = load_text(f, text, &cfg, err, sizeof(err));
	snprintf(want, sizeof(want), "%s:3: line longer than", f->path);
	if (rc != LCF_ECONFIG || strncmp(err, want, strlen(want)) != 0 ||
	    strstr(err, "characters (the most libinih reads in one line)") == NULL) {
		print_error("got %d '%s', want '%s...'\n", rc, err, want);
		fail();
	}
	config_free(&cfg);
	/* Just under the limit is fine. */
	snprintf(text, sizeof(text), "[node]\nlisten = 127.0.0.1:7400\n"
	    "city = %0191d\ncountry = FI\n", 0);
	rc = load_text(f, text, &cfg, err, sizeof(err));
	if (rc != 0)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
	assert_int_equal(strlen(cfg.city), 191);
	expect_str(cfg.country, "FI", "country after a long line");
	config_free(&cfg);
}

/* The same key in two sections is two settings; announce repeats. */
static void
test_repeats_allowed(void **state)
{
	struct fix *f = *state;
	struct config cfg;
	char err[600];
	int rc;

	rc = load_text(f, "[node]\nlisten = 127.0.0.1:7400\n"
	    "announce = 192.0.2.1:7400\nannounce = 192.0.2.2:7400\n"
	    "[http]\nlisten = 127.0.0.1:8380\n", &cfg, err, sizeof(err));
	if (rc != 0)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
	assert_int_equal(cfg.nannounce, 2);
	assert_int_equal(cfg.listen_port, 7400);
	assert_int_equal(cfg.http_port, 8380);
	config_free(&cfg);
}

/* A NUL byte: named by line, not taken for the line's end (which made it
 * "line longer than" before). */
static void
test_nul_byte(void **state)
{
	struct fix *f = *state;
	static const char text[] = "[node]\nlisten = 127.0.0.1:7400\n"
	    "city = Tam\0pere\ncountry = FI\n";
	struct config cfg;
	char err[600], want[600];
	FILE *fp;
	int rc;

	unlink(f->path);
	fp = fopen(f->path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, sizeof(text) - 1, fp), sizeof(text) - 1);
	assert_int_equal(fclose(fp), 0);
	rc = config_load(&cfg, f->dir, err, sizeof(err));
	snprintf(want, sizeof(want), "%s:3: a NUL byte (\\0) in the line",
	    f->path);
	if (rc != LCF_ECONFIG || strncmp(err, want, strlen(want)) != 0) {
		print_error("got %d '%s', want '%s...'\n", rc, err, want);
		fail();
	}
	config_free(&cfg);
}

static void
test_missing_file(void **state)
{
	struct fix *f = *state;
	struct config cfg;
	char err[600], want[600];

	err[0] = '\0';
	assert_int_equal(config_load(&cfg, f->dir, err, sizeof(err)), LCF_ECONFIG);
	snprintf(want, sizeof(want), "%s: %s", f->path, strerror(ENOENT));
	if (strncmp(err, want, strlen(want)) != 0) {
		print_error("got '%s', want '%s...'\n", err, want);
		fail();
	}
	snprintf(want, sizeof(want), "lcctl -d %s init", f->dir);
	if (strstr(err, want) == NULL) {
		print_error("'%s' does not say '%s'\n", err, want);
		fail();
	}
	config_free(&cfg);
}

/* ---- host:port ---- */

static void
test_hostport(void **state)
{
	static const struct {
		const char *in;
		const char *host;        /* NULL: refused */
		uint16_t port;
	} cases[] = {
		{ "127.0.0.1:7400", "127.0.0.1", 7400 },
		{ "0.0.0.0:1", "0.0.0.0", 1 },
		{ "localhost:65535", "localhost", 65535 },
		{ "node.example.org:443", "node.example.org", 443 },
		{ "[::1]:7400", "::1", 7400 },
		{ "[::]:80", "::", 80 },
		{ "[fe80::1%eth0]:9", "fe80::1%eth0", 9 },
		{ "127.0.0.1", NULL, 0 },
		{ "127.0.0.1:", NULL, 0 },
		{ "127.0.0.1:0", NULL, 0 },
		{ "127.0.0.1:65536", NULL, 0 },
		{ "127.0.0.1:70000", NULL, 0 },
		{ "127.0.0.1:-1", NULL, 0 },
		{ "127.0.0.1:+80", NULL, 0 },
		{ "127.0.0.1: 80", NULL, 0 },
		{ "127.0.0.1:80x", NULL, 0 },
		{ "127.0.0.1:x80", NULL, 0 },
		{ "127.0.0.1:99999999999999999999", NULL, 0 },
		{ ":7400", NULL, 0 },
		{ "", NULL, 0 },
		{ ":", NULL, 0 },
		{ "::1:7400", NULL, 0 },
		{ "::1", NULL, 0 },
		{ "[::1]7400", NULL, 0 },
		{ "[::1]:", NULL, 0 },
		{ "[::1]:0", NULL, 0 },
		{ "[::1", NULL, 0 },
		{ "[]:7400", NULL, 0 },
		{ "a:b:7400", NULL, 0 },
	};
	char host[64];
	uint16_t port;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(host, 'z', sizeof(host));
		host[sizeof(host) - 1] = '\0';
		port = 12345;
		rc = addr_parse_hostport(cases[i].in, host, sizeof(host), &port);
		if (cases[i].host == NULL) {
			if (rc != LCF_EINVAL) {
				print_error("'%s': got %d (host '%s', port %u), want "
				    "LCF_EINVAL\n", cases[i].in, rc, host, port);
				fail();
			}
			continue;
		}
		if (rc != 0 || strcmp(host, cases[i].host) != 0 ||
		    port != cases[i].port) {
			print_error("'%s': got %d '%s' %u, want 0 '%s' %u\n",
			    cases[i].in, rc, host, port, cases[i].host,
			    cases[i].port);
			fail();
		}
	}
	/* A host that does not fit the buffer is refused, not truncated. */
	assert_int_equal(addr_parse_hostport("abcdefgh:80", host, 8, &port),
	    LCF_EINVAL);
	assert_int_equal(addr_parse_hostport("abcdefg:80", host, 8, &port), 0);
	expect_str(host, "abcdefg", "host filling the buffer");
	assert_int_equal(addr_parse_hostport("[abcdefgh]:80", host, 8, &port),
	    LCF_EINVAL);
}

/* ---- template ---- */

static void
test_template(void **state)
{
	struct fix *f = *state;
	struct config cfg;
	char err[600], *before = NULL, *after = NULL;
	size_t blen = 0, alen = 0;
	struct stat st;
	mode_t old;
	int rc;

	old = umask(0);
	rc = config_write_template(f->path, "Cluj-Napoca", "RO", "[::1]:7401", NULL, NULL);
	umask(old);
	assert_int_equal(rc, 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	err[0] = '\0';
	rc = config_load(&cfg, f->dir, err, sizeof(err));
	if (rc != 0)
		print_error("template does not load: %s\n", err);
	assert_int_equal(rc, 0);
	expect_str(cfg.city, "Cluj-Napoca", "city");
	expect_str(cfg.country, "RO", "country");
	expect_str(cfg.listen_host, "::1", "listen host");
	assert_int_equal(cfg.listen_port, 7401);
	expect_path(cfg.key_path, f->dir, "identity.key", "key");
	assert_null(cfg.catalog_path);
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
	assert_int_equal(cfg.map_size, 8ULL << 30);
	config_free(&cfg);

	/* Never overwritten. */
	assert_int_equal(read_file(f->path, 1 << 20, &before, &blen), 0);
	assert_int_equal(config_write_template(f->path, "Other", "FI",
	    "127.0.0.1:1", NULL, NULL), LCF_EEXIST);
	assert_int_equal(read_file(f->path, 1 << 20, &after, &alen), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	free(before);
	free(after);

	/* Another city, to be sure the values are the ones given. */
	unlink(f->path);
	assert_int_equal(config_write_template(f->path, "Tampere", "FI",
	    "0.0.0.0:7400", NULL, NULL), 0);
	assert_int_equal(config_load(&cfg, f->dir, err, sizeof(err)), 0);
	expect_str(cfg.city, "Tampere", "city");
	expect_str(cfg.country, "FI", "country");
	expect_str(cfg.listen_host, "0.0.0.0", "listen host");
	assert_int_equal(cfg.listen_port, 7400);
	config_free(&cfg);
	assert_int_equal(config_write_template("/nonexistent-dir/lcnode.conf",
	    "X", "FI", "127.0.0.1:1", NULL, NULL), LCF_EIO);
}

/* ---- [http] ---- */

static void
test_http(void **state)
{
	struct fix *f = *state;
	static const struct {
		const char *value;
		int want;
	} bools[] = {
		{ "yes", 1 }, { "true", 1 }, { "on", 1 },
		{ "no", 0 }, { "false", 0 }, { "off", 0 },
	};
	static const struct bad cases[] = {
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\nlisten = localhost:8380\n",
		    4, "listen: expected an IP address and port such as "
		    "127.0.0.1:8380, or off, got 'localhost:8380'" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\nlisten = 127.0.0.1\n",
		    4, "listen: expected an IP address and port" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\nlisten = 127.0.0.1:0\n",
		    4, "listen: expected an IP address and port" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\nlisten = 127.0.0.1:65536\n",
		    4, "listen: expected an IP address and port" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\nlisten = Off\n",
		    4, "listen: expected an IP address and port" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\nlisten = ::1:8380\n",
		    4, "listen: expected an IP address and port" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\nlisten = \n",
		    4, "listen: expected an IP address and port" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\noperator_loopback = 1\n",
		    4, "operator_loopback: expected yes or no, got '1'" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\npersonal_data = maybe\n",
		    4, "personal_data: expected yes or no, got 'maybe'" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\npersonal_data = YES\n",
		    4, "personal_data: expected yes or no" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\nmax_connections = 0\n",
		    4, "max_connections: expected a number from 1 to 65536, got '0'" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\nmax_connections = 65537\n",
		    4, "max_connections: expected a number from 1 to 65536" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\nmax_connections = -1\n",
		    4, "max_connections: expected a number" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\nmax_connections = 10k\n",
		    4, "max_connections: expected a number" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\n"
		    "max_connections = 99999999999999999999\n",
		    4, "max_connections: expected a number" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\nidle_timeout = 0\n",
		    4, "idle_timeout: expected seconds from 1 to 3600, got '0'" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\nidle_timeout = 3601\n",
		    4, "idle_timeout: expected seconds from 1 to 3600" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\nidle_timeout = 1.5\n",
		    4, "idle_timeout: expected seconds" },
		{ "[node]\nlisten = 127.0.0.1:7400\n[http]\nport = 8380\n",
		    4, "unknown setting 'port' in section [http]" },
	};
	struct config cfg;
	char text[512], err[600], want[600];
	size_t i;
	int rc;

	/* Defaults: served on loopback, operator data to loopback callers. */
	assert_int_equal(load_text(f, "[node]\nlisten = 127.0.0.1:7400\n", &cfg,
	    err, sizeof(err)), 0);
	assert_int_equal(cfg.http_enabled, 1);
	expect_str(cfg.http_host, CONFIG_DEFAULT_HTTP_HOST, "default http host");
	expect_str(cfg.http_host, "127.0.0.1", "default http host");
	assert_int_equal(cfg.http_port, 8380);
	assert_int_equal(cfg.http_operator_loopback, 1);
	assert_int_equal(cfg.http_personal_data, 0);
	assert_int_equal(cfg.http_max_connections, 2048);
	assert_int_equal(cfg.http_idle_timeout, 15);
	config_free(&cfg);

	/* Every setting, at its bounds; IPv6 in brackets. */
	assert_int_equal(load_text(f, "[node]\nlisten = 127.0.0.1:7400\n[http]\n"
	    "listen = [::1]:65535\noperator_loopback = no\npersonal_data = yes\n"
	    "max_connections = 65536\nidle_timeout = 3600\n", &cfg, err,
	    sizeof(err)), 0);
	assert_int_equal(cfg.http_enabled, 1);
	expect_str(cfg.http_host, "::1", "http host");
	assert_int_equal(cfg.http_port, 65535);
	assert_int_equal(cfg.http_operator_loopback, 0);
	assert_int_equal(cfg.http_personal_data, 1);
	assert_int_equal(cfg.http_max_connections, 65536);
	assert_int_equal(cfg.http_idle_timeout, 3600);
	config_free(&cfg);
	assert_int_equal(load_text(f, "[node]\nlisten = 127.0.0.1:7400\n[http]\n"
	    "listen = 0.0.0.0:1\nmax_connections = 1\nidle_timeout = 1\n", &cfg,
	    err, sizeof(err)), 0);
	expect_str(cfg.http_host, "0.0.0.0", "http host");
	assert_int_equal(cfg.http_port, 1);
	assert_int_equal(cfg.http_max_connections, 1);
	assert_int_equal(cfg.http_idle_timeout, 1);
	config_free(&cfg);

	/* off; a second listen line after it is an error naming both (it
	 * won before issue 17). */
	assert_int_equal(load_text(f, "[node]\nlisten = 127.0.0.1:7400\n[http]\n"
	    "listen = off\n", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.http_enabled, 0);
	config_free(&cfg);
	assert_int_equal(load_text(f, "[node]\nlisten = 127.0.0.1:7400\n[http]\n"
	    "listen = off\nlisten = 127.0.0.2:9000\n", &cfg, err, sizeof(err)),
	    LCF_ECONFIG);
	assert_non_null(strstr(err, ":5: duplicate key \"listen\" in [http] "
	    "(first set on line 4)"));
	config_free(&cfg);
	assert_int_equal(load_text(f, "[node]\nlisten = 127.0.0.1:7400\n[http]\n"
	    "listen = 127.0.0.2:9000\nlisten = off\n", &cfg, err, sizeof(err)),
	    LCF_ECONFIG);
	assert_non_null(strstr(err, ":5: duplicate key \"listen\" in [http] "
	    "(first set on line 4)"));
	config_free(&cfg);

	for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		snprintf(text, sizeof(text), "[node]\nlisten = 127.0.0.1:7400\n"
		    "[http]\noperator_loopback = %s\npersonal_data = %s\n",
		    bools[i].value, bools[i].value);
		if (load_text(f, text, &cfg, err, sizeof(err)) != 0) {
			print_error("%s: %s\n", bools[i].value, err);
			fail();
		}
		if (cfg.http_operator_loopback != bools[i].want ||
		    cfg.http_personal_data != bools[i].want) {
			print_error("%s: got %d %d, want %d\n", bools[i].value,
			    cfg.http_operator_loopback, cfg.http_personal_data,
			    bools[i].want);
			fail();
		}
		config_free(&cfg);
	}

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = load_text(f, cases[i].text, &cfg, err, sizeof(err));
		snprintf(want, sizeof(want), "%s:%d: %s", f->path, cases[i].line,
		    cases[i].msg);
		if (rc != LCF_ECONFIG || strncmp(err, want, strlen(want)) != 0) {
			print_error("case %zu:\n%s\n  got: %d '%s'\n want: %d '%s...'\n",
			    i, cases[i].text, rc, err, LCF_ECONFIG, want);
			fail();
		}
		config_free(&cfg);
	}
}

/* The template's [http] listen: the default commented out, or the one given. */
static void
test_template_http(void **state)
{
	struct fix *f = *state;
	struct config cfg;
	char err[600], *text = NULL;
	size_t len = 0;

	assert_int_equal(config_write_template(f->path, "Tampere", "FI",
	    "127.0.0.1:7400", NULL, "off"), 0);
	assert_int_equal(read_file(f->path, 1 << 20, &text, &len), 0);
	if (strstr(text, "\n[http]\n") == NULL ||
	    strstr(strstr(text, "\n[http]\n"), "\nlisten = off\n") == NULL) {
		print_error("no 'listen = off' under [http] in:\n%s\n", text);
		fail();
	}
	free(text);
	assert_int_equal(config_load(&cfg, f->dir, err, sizeof(err)), 0);
	assert_int_equal(cfg.http_enabled, 0);
	config_free(&cfg);

	unlink(f->path);
	assert_int_equal(config_write_template(f->path, "Tampere", "FI",
	    "127.0.0.1:7400", NULL, "[::1]:8381"), 0);
	assert_int_equal(config_load(&cfg, f->dir, err, sizeof(err)), 0);
	assert_int_equal(cfg.http_enabled, 1);
	expect_str(cfg.http_host, "::1", "template http host");
	assert_int_equal(cfg.http_port, 8381);
	config_free(&cfg);

	unlink(f->path);
	assert_int_equal(config_write_template(f->path, "Tampere", "FI",
	    "127.0.0.1:7400", NULL, NULL), 0);
	assert_int_equal(read_file(f->path, 1 << 20, &text, &len), 0);
	if (strstr(text, "\n; listen = 127.0.0.1:8380\n") == NULL) {
		print_error("the default is not written commented out:\n%s\n", text);
		fail();
	}
	free(text);
	assert_int_equal(config_load(&cfg, f->dir, err, sizeof(err)), 0);
	assert_int_equal(cfg.http_enabled, 1);
	assert_int_equal(cfg.http_port, CONFIG_DEFAULT_HTTP_PORT);
	config_free(&cfg);
}

/* ---- the parser driven directly, as a fuzz target does ---- */

static void
test_parser_direct(void **state)
{
	struct config cfg;
	struct config_parser p;

	(void)state;
	config_init(&cfg, "/data/lcf");
	memset(&p, 0, sizeof(p));
	p.cfg = &cfg;
	p.file = "fuzz.conf";
	assert_int_equal(config_line(&p, "node", "listen", "[::1]:7400", 3), 0);
	assert_int_equal(config_line(&p, "node", "key", "k/id.key", 4), 0);
	assert_int_equal(config_line(&p, "node", "city", "Tampere", 5), 0);
	assert_int_equal(config_line(&p, "store", "map_size", "1G", 9), 0);
	assert_int_equal(config_finish(&p), 0);
	assert_int_equal(p.failed, 0);
	expect_str(cfg.key_path, "/data/lcf/k/id.key", "key");
	expect_str(cfg.listen_host, "::1", "listen host");
	assert_int_equal(cfg.map_size, 1ULL << 30);
	config_free(&cfg);

	/* The first error is kept; finish fails without touching it. */
	config_init(&cfg, "/data/lcf");
	memset(&p, 0, sizeof(p));
	p.cfg = &cfg;
	p.file = "fuzz.conf";
	assert_int_equal(config_line(&p, "node", "country", "Finland", 7),
	    LCF_ECONFIG);
	assert_int_equal(p.failed, 1);
	assert_int_equal(config_line(&p, "node", "nope", "x", 9), LCF_ECONFIG);
	assert_int_equal(config_line(&p, "node", "listen", "127.0.0.1:1", 10), 0);
	assert_int_equal(config_finish(&p), LCF_ECONFIG);
	expect_str(p.err, "fuzz.conf:7: country: expected an ISO 3166-1 alpha-2 "
	    "code such as RO, got 'Finland'", "first error");
	config_free(&cfg);

	/* A second listen in [node] is refused, naming the first line. */
	config_init(&cfg, "/d");
	memset(&p, 0, sizeof(p));
	p.cfg = &cfg;
	p.file = "f.conf";
	assert_int_equal(config_line(&p, "node", "listen", "127.0.0.1:1", 5), 0);
	assert_int_equal(config_line(&p, "http", "listen", "127.0.0.1:2", 9), 0);
	assert_int_equal(config_line(&p, "node", "listen", "127.0.0.1:3", 12),
	    LCF_ECONFIG);
	expect_str(p.err, "f.conf:12: duplicate key \"listen\" in [node] (first "
	    "set on line 5): keep one", "duplicate");
	assert_int_equal(cfg.listen_port, 1);
	config_free(&cfg);

	/* Missing listen: no line number. */
	config_init(&cfg, "/d");
	memset(&p, 0, sizeof(p));
	p.cfg = &cfg;
	p.file = "f.conf";
	assert_int_equal(config_finish(&p), LCF_ECONFIG);
	expect_str(p.err, "f.conf: missing setting 'listen' in section [node]",
	    "missing listen");
	config_free(&cfg);
}

/* Many generated inputs: every call returns 0 or LCF_ECONFIG, failure is
 * sticky, and ASan sees no leak when settings repeat. */
static void
test_parser_fuzz(void **state)
{
	static const char *const sections[] = { "node", "store", "", "federation",
	    "NODE", "node ", "peers", "http" };
	static const char *const names[] = { "city", "country", "listen", "key",
	    "catalog", "log_level", "map_size", "", "City", "listen ",
	    "operator_loopback", "personal_data", "max_connections",
	    "idle_timeout" };
	static const char *const values[] = { "", "x", "FI", "fi", "127.0.0.1:1",
	    "[::1]:7400", "[::1]", ":", "[", "]", "1G", "1TiB", "18446744073709551615",
	    "18446744073709551616K", "debug", "/abs/path", "rel/path", "%s%n",
	    "\xff\xfe", "1KiBB", "4096k", "99T", "0x10M", "off", "yes", "no",
	    "65536", "3600" };
	char longval[600], random[64];
	struct config cfg;
	struct config_parser p;
	uint32_t seed = 99;
	size_t i, j, k, n, round;
	int rc, failed;

	(void)state;
	memset(longval, 'A', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	for (round = 0; round < 400; round++) {
		config_init(&cfg, "/fuzz");
		memset(&p, 0, sizeof(p));
		p.cfg = &cfg;
		p.file = "fuzz.conf";
		failed = 0;
		for (n = 0; n < 12; n++) {
			const char *value;

			seed = seed * 1103515245u + 12345u;
			i = (seed >> 8) % (sizeof(sections) / sizeof(sections[0]));
			j = (seed >> 12) % (sizeof(names) / sizeof(names[0]));
			k = (seed >> 16) % (sizeof(values) / sizeof(values[0]) + 2);
			if (k == sizeof(values) / sizeof(values[0])) {
				value = longval;
			} else if (k > sizeof(values) / sizeof(values[0])) {
				size_t m, len = (seed >> 20) % sizeof(random);

				for (m = 0; m < len; m++) {
					seed = seed * 1103515245u + 12345u;
					random[m] = (char)(1 + (seed >> 16) % 255);
				}
				random[len] = '\0';
				value = random;
			} else {
				value = values[k];
			}
			/* Bias towards the section each name belongs in. */
			if (round % 2 == 0)
				i = j == 6 ? 1 : 0;
			rc = config_line(&p, sections[i], names[j], value, (int)n + 1);
			assert_true(rc == 0 || rc == LCF_ECONFIG);
			if (rc != 0)
				failed = 1;
			assert_int_equal(p.failed, failed);
		}
		rc = config_finish(&p);
		assert_true(rc == 0 || rc == LCF_ECONFIG);
		if (rc == 0) {
			assert_false(failed);
			assert_non_null(cfg.listen_host);
			assert_non_null(cfg.key_path);
			assert_true(cfg.listen_port >= 1);
			assert_true(cfg.map_size >= (1ULL << 20));
		} else {
			assert_true(strncmp(p.err, "fuzz.conf", 9) == 0);
		}
		config_free(&cfg);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test_setup_teardown(test_template, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http, setup, teardown),
		cmocka_unit_test_setup_teardown(test_template_http, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repeats_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
		cmocka_unit_test(test_parser_direct),
		cmocka_unit_test(test_parser_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
