// SPDX-License-Identifier: Apache-2.0
// lcf-bench-query: latency of practice queries to a running lcnode, or of whole commands.
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wire/ctlwire.h"
#include "base/error.h"
#include "base/util.h"
#include "base/xmalloc.h"

#define MAX_RUNS 1000000UL
#define MAX_FILTERS 8

struct opts {
	const char *dir;
	const char *label;
	unsigned long runs;
	unsigned long warmup;
	unsigned long limit;
	long long expect;            /* matches expected without a limit, or -1 */
	int keep_alive;
	int exec;
	char *areas[MAX_FILTERS];
	size_t n_areas;
	char *clusters[MAX_FILTERS];
	size_t n_clusters;
	const char *country;
	const char *city;            /* hex id, "self", or NULL */
	const char *text;
	const char *lang, *since, *sort;
	uint32_t sdgs[MAX_FILTERS];
	size_t n_sdgs;
	char city_hex[LCF_ID_HEX];
};

/* What one query returned. */
struct answer {
	size_t items;
	int truncated;
};

static const char usage[] =
    "Usage: lcf-bench-query -d DIR [-n RUNS] [-w WARMUP] [-l LIMIT] [-L LABEL]\n"
    "           [--area ID]... [--cluster NAME]... [--country CC]\n"
    "           [--city ID|self] [--text QUERY] [--lang TAG] [--sdg N]...\n"
    "           [--since YYYY-MM-DD] [--sort relevance|newest] [--expect N]\n"
    "           [--keep-alive]\n"
    "       lcf-bench-query -x [-n RUNS] [-w WARMUP] [-L LABEL] -- COMMAND [ARG...]\n"
    "\n"
    "Sends the same practice QueryRequest to the lcnode of DIR RUNS times\n"
    "(default 300) after WARMUP unmeasured ones (default 20), each on a new\n"
    "connection (as lcctl does) unless --keep-alive, and prints the latency from\n"
    "connect to the last response: p50, p99 and max in milliseconds, and what the\n"
    "query returned. LIMIT defaults to 50, as `lcctl practice list`. --city self\n"
    "asks the node for its own city id. With --expect N (matches without a\n"
    "limit), the number of items returned is checked.\n"
    "\n"
    "With -x, runs COMMAND (output and messages discarded) instead and prints the wall time\n"
    "of each run, process start included.\n"
    "\n"
    "The result is one line of NAME=VALUE fields; exit 1 on a failure.\n";

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples, in milliseconds. */
static double
percentile_ms(const uint64_t *v, size_t n, unsigned pct)
{
	size_t rank = (n * pct + 99) / 100;

	if (rank == 0)
		rank = 1;
	return (double)v[rank - 1] / 1e6;
}

/* Reads responses until one without `more`; counts the items. */
static int
read_answer(int fd, struct answer *a)
{
	Lcf__CtlResponse *resp = NULL;
	int ret, more = 1;

	a->items = 0;
	a->truncated = 0;
	while (more) {
		if ((ret = ctlwire_recv(fd, &resp)) < 0) {
			fprintf(stderr, "lcf-bench-query: reading the answer: %s\n",
			    lcf_strerror(ret));
			goto out;
		}
		if (resp->has_error && resp->error != 0) {
			ret = resp->error;
			fprintf(stderr, "lcf-bench-query: the node answered: %s%s%s\n",
			    lcf_strerror(ret), resp->message ? ": " : "",
			    resp->message ? resp->message : "");
			goto out;
		}
		if (resp->reply_case == LCF__CTL_RESPONSE__REPLY_QUERY) {
			a->items += resp->query->n_items;
			if (resp->query->truncated)
				a->truncated = 1;
		}
		more = resp->has_more && resp->more;
		lcf__ctl_response__free_unpacked(resp, NULL);
		resp = NULL;
	}
	ret = 0;
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret;
}

static int
connect_node(const char *dir)
{
	char err[512];
	int fd;

	if ((fd = ctlwire_connect(dir, NULL, err, sizeof(err))) < 0)
		fprintf(stderr, "lcf-bench-query: %s\n", err);
	return fd;
}

/* Asks the node for its city id, printed as hex into o->city_hex. */
static int
own_city(struct opts *o)
{
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__StatusRequest st = LCF__STATUS_REQUEST__INIT;
	Lcf__CtlResponse *resp = NULL;
	int fd, ret = LCF_EPROTO;

	if ((fd = connect_node(o->dir)) < 0) {
		ret = fd;
		goto out;
	}
	req.op_case = LCF__CTL_REQUEST__OP_STATUS;
	req.status = &st;
	if ((ret = ctlwire_send(fd, &req)) < 0 ||
	    (ret = ctlwire_recv(fd, &resp)) < 0) {
		fprintf(stderr, "lcf-bench-query: status: %s\n", lcf_strerror(ret));
		goto out;
	}
	if (resp->reply_case != LCF__CTL_RESPONSE__REPLY_STATUS ||
	    !resp->status->has_city_id ||
	    resp->status->city_id.len != LCF_ID_LEN) {
		ret = LCF_EPROTO;
		fprintf(stderr, "lcf-bench-query: the status answer has no city id\n");
		goto out;
	}
	hex_encode(resp->status->city_id.data, LCF_ID_LEN, o->city_hex);
	ret = 0;
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* One query: connect unless *fd is open (keep-alive), send, read the whole
 * answer. Closes the connection unless keep_alive. */
static int
one_query(const struct opts *o, Lcf__CtlRequest *req, int *fd,
    struct answer *a)
{
	int ret;

	if (*fd < 0 && (*fd = connect_node(o->dir)) < 0) {
		ret = *fd;
		goto out;
	}
	if ((ret = ctlwire_send(*fd, req)) < 0) {
		fprintf(stderr, "lcf-bench-query: sending: %s\n", lcf_strerror(ret));
		goto out;
	}
	ret = read_answer(*fd, a);
out:
	if (*fd >= 0 && (!o->keep_alive || ret < 0)) {
		close(*fd);
		*fd = -1;
	}
	return ret;
}

/* Runs argv once with its output (and its messages: lcctl says "no practices
 * match" on stderr) discarded; 0 when it exits 0. */
static int
one_exec(char **argv)
{
	pid_t pid;
	int st, fd, ret = LCF_EIO;

	if ((pid = fork()) < 0) {
		fprintf(stderr, "lcf-bench-query: fork: %s\n", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "lcf-bench-query: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "lcf-bench-query: waitpid: %s\n",
			    strerror(errno));
			goto out;
		}
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "lcf-bench-query: %s failed (status %d): run it "
		    "by hand to see why\n", argv[0],
		    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

/* Runs warmup + runs rounds, timing the last runs. */
static int
measure(struct opts *o, Lcf__CtlRequest *req, char **cmd, uint64_t *lat,
    struct answer *a)
{
	unsigned long i;
	uint64_t t0;
	int fd = -1, ret = 0;

	for (i = 0; i < o->warmup + o->runs && ret == 0; i++) {
		t0 = mono_ns();
		if (cmd != NULL)
			ret = one_exec(cmd);
		else
			ret = one_query(o, req, &fd, a);
		if (i >= o->warmup)
			lat[i - o->warmup] = mono_ns() - t0;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

static int
parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	int ret = LCF_EINVAL;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno == 0 && *end == '\0' && s[0] >= '0' && s[0] <= '9' &&
	    *out <= max)
		ret = 0;
	return ret;
}

static int
add_filter(char **v, size_t *n, char *s)
{
	int ret = LCF_EINVAL;

	if (*n < MAX_FILTERS) {
		v[(*n)++] = s;
		ret = 0;
	}
	return ret;
}

/* Parses the command line into o. Returns 0; 1 after printing the help that
 * was asked for; 2 after printing the usage for a bad command line. */
static int
parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "area", required_argument, NULL, 'a' },
		{ "cluster", required_argument, NULL, 'c' },
		{ "country", required_argument, NULL, 'C' },
		{ "city", required_argument, NULL, 'y' },
		{ "text", required_argument, NULL, 't' },
		{ "lang", required_argument, NULL, 'G' },
		{ "sdg", required_argument, NULL, 'g' },
		{ "since", required_argument, NULL, 's' },
		{ "sort", required_argument, NULL, 'o' },
		{ "expect", required_argument, NULL, 'e' },
		{ "keep-alive", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c, ret = 2;

	while ((c = getopt_long(argc, argv, "+hd:n:w:l:L:xk", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'd':
			o->dir = optarg;
			break;
		case 'n':
			if (parse_ulong(optarg, MAX_RUNS, &o->runs) < 0 ||
			    o->runs == 0)
				goto out;
			break;
		case 'w':
			if (parse_ulong(optarg, MAX_RUNS, &o->warmup) < 0)
				goto out;
			break;
		case 'l':
			if (parse_ulong(optarg, UINT32_MAX, &o->limit) < 0)
				goto out;
			break;
		case 'L':
			o->label = optarg;
			break;
		case 'x':
			o->exec = 1;
			break;
		case 'k':
			o->keep_alive = 1;
			break;
		case 'a':
			if (add_filter(o->areas, &o->n_areas, optarg) < 0)
				goto out;
			break;
		case 'c':
			if (add_filter(o->clusters, &o->n_clusters, optarg) < 0)
				goto out;
			break;
		case 'C':
			o->country = optarg;
			break;
		case 'y':
			o->city = optarg;
			break;
		case 't':
			o->text = optarg;
			break;
		case 'G':
			o->lang = optarg;
			break;
		case 'g':
			if (parse_ulong(optarg, 17, &v) < 0 || o->n_sdgs == MAX_FILTERS)
				goto out;
			o->sdgs[o->n_sdgs++] = (uint32_t)v;
			break;
		case 's':
			o->since = optarg;
			break;
		case 'o':
			o->sort = optarg;
			break;
		case 'e':
			if (parse_ulong(optarg, UINT32_MAX, &v) < 0)
				goto out;
			o->expect = (long long)v;
			break;
		case 'h':
			fputs(usage, stdout);
			ret = 1;
			goto out;
		default:
			goto out;
		}
	}
	if (o->exec ? optind >= argc : (optind != argc || o->dir == NULL))
		goto out;
	ret = 0;
out:
	if (ret == 2)
		fputs(usage, stderr);
	return ret;
}

/* Prints the result line, and checks the item count against --expect. */
static int
report(const struct opts *o, uint64_t *lat, const struct answer *a)
{
	size_t want = 0;
	int ret = 0, want_trunc = 0;

	qsort(lat, o->runs, sizeof(lat[0]), cmp_u64);
	printf("%s %s p50=%.3f p99=%.3f max=%.3f runs=%lu", o->exec ? "exec" :
	    "query", o->label ? o->label : "-", percentile_ms(lat, o->runs, 50),
	    percentile_ms(lat, o->runs, 99), (double)lat[o->runs - 1] / 1e6,
	    o->runs);
	if (!o->exec) {
		printf(" items=%zu truncated=%d", a->items, a->truncated);
		if (o->expect >= 0) {
			want = (size_t)o->expect;
			if (o->limit > 0 && want > o->limit) {
				want = o->limit;
				want_trunc = 1;
			}
			ret = a->items == want && a->truncated == want_trunc ? 0 :
			    LCF_EINVAL;
			printf(" matches=%lld check=%s", o->expect,
			    ret == 0 ? "ok" : "WRONG");
		}
		printf(" conn=%s", o->keep_alive ? "kept" : "new");
	}
	printf("\n");
	return ret;
}

int
main(int argc, char **argv)
{
	struct opts o;
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__QueryRequest q = LCF__QUERY_REQUEST__INIT;
	struct answer a = { 0, 0 };
	uint64_t *lat = NULL;
	int ret = 1;

	memset(&o, 0, sizeof(o));
	o.runs = 300;
	o.warmup = 20;
	o.limit = 50;
	o.expect = -1;
	if ((ret = parse_args(&o, argc, argv)) != 0) {
		/* Asking for help is a success. */
		if (ret == 1)
			ret = 0;
		goto out;
	}
	ret = 1;
	if (!o.exec) {
		if (o.city != NULL && strcmp(o.city, "self") == 0) {
			if (own_city(&o) < 0)
				goto out;
			o.city = o.city_hex;
		}
		q.has_kind = 1;
		q.kind = LCF__KIND__KIND_PRACTICE;
		q.n_areas = o.n_areas;
		q.areas = o.areas;
		q.n_clusters = o.n_clusters;
		q.clusters = o.clusters;
		q.country = (char *)o.country;
		q.city = (char *)o.city;
		q.text = (char *)o.text;
		q.lang = (char *)o.lang;
		q.since = (char *)o.since;
		q.sort = (char *)o.sort;
		q.sdgs = o.sdgs;
		q.n_sdgs = o.n_sdgs;
		q.has_limit = 1;
		q.limit = (uint32_t)o.limit;
		req.op_case = LCF__CTL_REQUEST__OP_QUERY;
		req.query = &q;
	}
	lat = xcalloc(o.runs, sizeof(*lat));
	if (measure(&o, &req, o.exec ? argv + optind : NULL, lat, &a) < 0)
		goto out;
	if (report(&o, lat, &a) < 0)
		goto out;
	ret = 0;
out:
	free(lat);
	return ret;
}
