// SPDX-License-Identifier: Apache-2.0
// lcctl init: creates a node's data directory, city key and lcnode.conf, offline.
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "base/addr.h"
#include "base/codes.h"
#include "core/config.h"
#include "base/error.h"
#include "model/identity.h"
#include "lcctl.h"
#include "base/util.h"
#include "base/xmalloc.h"

#define KEY_FILE_NAME "identity.key"
#define DEFAULT_LISTEN "127.0.0.1:7400"
#define CITY_NAME_MAX 200

static const char usage[] =
    "Usage: lcctl -d DIR init --city NAME --country CC [--listen IP:PORT]\n"
    "                         [--federation FEDID] [--http IP:PORT|off]\n"
    "                         [--config FILE]\n"
    "\n"
    "Creates the data directory of a new node (mode 0700 if missing): a fresh\n"
    "city key in DIR/identity.key (mode 0600) and DIR/lcnode.conf. Needs no\n"
    "running node and never overwrites a key or a configuration. Prints the\n"
    "city id, which identifies the city in the federation.\n"
    "\n"
    "Options:\n"
    "  --city NAME          the city's name (published as its profile at the\n"
    "                       node's first start)\n"
    "  --country CC         ISO 3166-1 alpha-2 code, e.g. SE\n"
    "  --listen IP:PORT     the address of this machine where the node accepts\n"
    "                       peer cities: 0.0.0.0:7400 for every IPv4 address,\n"
    "                       [::]:7400 for IPv6 (default " DEFAULT_LISTEN ":\n"
    "                       this machine only, no other city can connect)\n"
    "  --federation FEDID   the federation to join (64 hex digits, from its\n"
    "                       secretariat); the node then takes records only\n"
    "                       from admitted cities. Default: an open node\n"
    "  --http IP:PORT|off   where the node serves its HTTP face (JSON API,\n"
    "                       events, /metrics, /healthz, /readyz), or off for\n"
    "                       none. Default 127.0.0.1:8380: give each node on\n"
    "                       one machine its own port\n"
    "  --config FILE        write the configuration to FILE (an absolute path,\n"
    "                       e.g. /etc/lcf/lcnode.conf) and make DIR/lcnode.conf\n"
    "                       a symbolic link to it\n"
    "  -h, --help           show this help\n"
    "\n"
    "Run as root on a directory owned by another user (the Debian package's\n"
    "/var/lib/lcf, owned by lcf), it gives the key to that user; the\n"
    "configuration stays root's (mode 0644).\n";

/* The name goes into an INI file line: one line of printable text. */
static int
city_name_ok(const char *s)
{
	size_t i, n = strlen(s);
	int ok = n > 0 && n <= CITY_NAME_MAX && s[0] != ' ' && s[n - 1] != ' ';

	for (i = 0; i < n && ok; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			ok = 0;
	return ok;
}

/* Creates dir (mode 0700) unless it is already a directory. */
static int
make_dir(const char *dir)
{
	struct stat st;
	int ret = LCF_EIO;

	if (mkdir(dir, 0700) == 0) {
		ret = 0;
	} else if (errno == EEXIST && stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			ret = 0;
		else
			lcctl_err("%s exists and is not a directory", dir);
	} else {
		lcctl_err("cannot create %s: %s", dir, strerror(errno));
	}
	return ret;
}

/* Run as root on a directory another user owns: the key becomes that user's,
 * as lcnode runs as them; the configuration (and the link to it) stays root's.
 * 0, or LCF_EIO after saying why. */
static int
hand_over_key(const char *dir, const char *keypath)
{
	struct stat st;
	int ret = 0;

	if (geteuid() != 0 || stat(dir, &st) != 0 || st.st_uid == 0)
		return 0;
	if (chown(keypath, st.st_uid, st.st_gid) != 0) {
		lcctl_err("cannot give %s to the owner of %s (uid %u): %s", keypath,
		    dir, (unsigned)st.st_uid, strerror(errno));
		ret = LCF_EIO;
	}
	return ret;
}

/* --listen must be IP:PORT and --http IP:PORT or off, as lcnode reads
 * `listen` and [http] listen (config.c). 0, or -1 after saying why. */
static int
check_addresses(const struct lcctl *ctx, const char *listen, const char *http)
{
	char host[256];
	uint16_t port;

	if (addr_parse_hostport(listen, host, sizeof(host), &port) < 0 ||
	    !config_is_ip(host)) {
		lcctl_bad_usage(ctx, "--listen '%s' is not IP:PORT, an address of "
		    "this machine and a port (e.g. 0.0.0.0:7400 or [::]:7400; "
		    "not a host name)", listen);
		return -1;
	}
	if (http != NULL && strcmp(http, "off") != 0 &&
	    (addr_parse_hostport(http, host, sizeof(host), &port) < 0 ||
	    !config_is_ip(host))) {
		lcctl_bad_usage(ctx, "--http '%s' is not IP:PORT or off: an address "
		    "of this machine and a port (e.g. 127.0.0.1:8380 or [::]:8380; "
		    "not a host name), or off for no HTTP", http);
		return -1;
	}
	return 0;
}

/* After the configuration is written: with --config, DIR/lcnode.conf links
 * to it; run as root, the key goes to the directory's owner. 0, or -1 after
 * saying why and removing the configuration (the caller removes the key). */
static int
finish_files(const char *dir, const char *config, const char *confpath,
    const char *linkpath, const char *keypath)
{
	if (config != NULL && symlink(config, linkpath) != 0) {
		lcctl_err("cannot link %s to %s: %s", linkpath, config,
		    strerror(errno));
		unlink(confpath);
		return -1;
	}
	if (hand_over_key(dir, keypath) != 0) {
		unlink(confpath);
		if (config != NULL)
			unlink(linkpath);
		return -1;
	}
	return 0;
}

/* 1 when path names anything, even a dangling link. */
static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

int
cmd_init(struct lcctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "city", required_argument, NULL, 'c' },
		{ "country", required_argument, NULL, 'C' },
		{ "listen", required_argument, NULL, 'l' },
		{ "federation", required_argument, NULL, 'f' },
		{ "http", required_argument, NULL, 'H' },
		{ "config", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *city = NULL, *country = NULL, *listen = DEFAULT_LISTEN;
	const char *const default_listen = listen;
	const char *federation = NULL, *http = NULL, *config = NULL;
	uint8_t fed[32];
	char *keypath = NULL, *confpath = NULL, *linkpath = NULL;
	char hex[LCF_ID_HEX];
	struct identity *id = NULL;
	int c, ret = -1, saved_key = 0;

	while (ret < 0 && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			city = optarg;
			break;
		case 'C':
			country = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'f':
			federation = optarg;
			break;
		case 'H':
			http = optarg;
			break;
		case 'F':
			config = optarg;
			break;
		default:
			ret = lcctl_common_opt(c, usage);
			break;
		}
	}
	if (ret >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, NULL, NULL)) != LCCTL_EXIT_OK)
		goto out;
	if (city == NULL || country == NULL) {
		fprintf(stderr, "%s: --city and --country are required\n", ctx->name);
		ret = lcctl_usage(usage, LCCTL_EXIT_USAGE);
		goto out;
	}
	ret = LCCTL_EXIT_USAGE;
	if (config != NULL && config[0] != '/') {
		lcctl_bad_usage(ctx, "--config '%s': give an absolute path (DIR/%s "
		    "links to it)", config, CONFIG_FILE_NAME);
		goto out;
	}
	if (!city_name_ok(city)) {
		lcctl_bad_usage(ctx, "--city '%s': give one line of 1 to %d "
		    "characters, without leading or trailing spaces", city,
		    CITY_NAME_MAX);
		goto out;
	}
	if (!code_country_valid(country)) {
		lcctl_bad_usage(ctx, "--country '%s' is not an ISO 3166-1 alpha-2 "
		    "code (two capital letters, e.g. SE, RO, KR)", country);
		goto out;
	}
	if (check_addresses(ctx, listen, http) != 0)
		goto out;
	if (federation != NULL && (strlen(federation) != 64 ||
	    hex_decode(federation, fed, sizeof(fed)) != 0)) {
		lcctl_bad_usage(ctx, "--federation '%s' is not a federation id (64 "
		    "hex digits, printed by `lcctl federation create`)", federation);
		goto out;
	}
	ret = LCCTL_EXIT_ERR;
	if (sodium_init() < 0) {
		lcctl_err("cannot initialise libsodium");
		goto out;
	}
	if (make_dir(ctx->dir) < 0)
		goto out;
	keypath = xasprintf("%s/%s", ctx->dir, KEY_FILE_NAME);
	linkpath = xasprintf("%s/%s", ctx->dir, CONFIG_FILE_NAME);
	confpath = xstrdup(config != NULL ? config : linkpath);
	if (exists(keypath)) {
		lcctl_err("%s already exists: lcctl init never overwrites a key",
		    keypath);
		goto out;
	}
	/* Checked before the key is written so that a refused init leaves the
	 * directory as it was. */
	if (exists(confpath) || exists(linkpath)) {
		lcctl_err("%s already exists: lcctl init never overwrites a "
		    "configuration: move it away first", exists(confpath) ?
		    confpath : linkpath);
		goto out;
	}
	if ((id = identity_new()) == NULL) {
		lcctl_err("cannot allocate secure memory for the key");
		goto out;
	}
	identity_generate(id);
	if ((c = identity_save(id, keypath)) < 0) {
		if (c == LCF_EEXIST)
			lcctl_err("%s already exists: lcctl init never overwrites a "
			    "key", keypath);
		else
			lcctl_err("cannot write %s: %s", keypath, strerror(errno));
		goto out;
	}
	saved_key = 1;
	if ((c = config_write_template(confpath, city, country, listen,
	    federation, http)) < 0) {
		if (c == LCF_EEXIST)
			lcctl_err("%s already exists: lcctl init never overwrites a "
			    "configuration", confpath);
		else
			lcctl_err("cannot write %s: %s", confpath, strerror(errno));
		goto out;
	}
	if (finish_files(ctx->dir, config, confpath, linkpath, keypath) != 0)
		goto out;
	saved_key = 0;
	fprintf(stderr, "created %s and %s\n", keypath, confpath);
	if (listen == default_listen)
		fprintf(stderr, "note: the node listens on %s, this machine only: "
		    "for other cities to connect, set `listen` in lcnode.conf "
		    "(e.g. 0.0.0.0:7400)\n", DEFAULT_LISTEN);
	fprintf(stderr, "next: lcnode -d %s\n", ctx->dir);
	printf("%s\n", hex_encode(id->pk, IDENTITY_PK_LEN, hex));
	ret = LCCTL_EXIT_OK;
out:
	/* A key nobody has seen yet is removed when its configuration could not
	 * be written, so that init can simply be run again. */
	if (saved_key)
		unlink(keypath);
	identity_free(id);
	free(keypath);
	free(confpath);
	free(linkpath);
	return ret;
}
