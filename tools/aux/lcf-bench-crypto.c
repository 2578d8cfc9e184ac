// SPDX-License-Identifier: Apache-2.0
// lcf-bench-crypto: this machine's crypto ceilings (Ed25519 sign/verify, BLAKE2b), from libsodium.
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/log.h"
#include "base/xmalloc.h"

#define MAX_THREADS 64
#define MAX_MSG (1u << 20)
/* Operations between clock reads: small enough to stop close to the deadline,
 * large enough that reading the clock costs nothing measurable. */
#define BATCH 32
#define ROUNDS 4

enum op { OP_SIGN, OP_VERIFY, OP_HASH };

struct job {
	enum op op;
	const uint8_t *msg;
	size_t len;
	const uint8_t *pk;
	const uint8_t *sk;
	const uint8_t *sig;
	double seconds;
	pthread_barrier_t *start;
	uint64_t count;              /* out: operations done */
	double elapsed;              /* out: seconds this thread ran */
	int failed;                  /* out: a verification failed */
};

static const char usage[] =
    "Usage: lcf-bench-crypto [-t SECONDS] [-s BYTES] [-j THREADS]\n"
    "\n"
    "Measures Ed25519 sign and verify (crypto_sign_detached and\n"
    "crypto_sign_verify_detached) on 1 thread and on THREADS threads (default 2),\n"
    "and BLAKE2b-256 (crypto_generichash) on 1 thread, each for about SECONDS\n"
    "(default 1) over messages of BYTES bytes (default 300). The time is split\n"
    "into 4 rounds and the best round counts, so that a short burst of other\n"
    "work on the machine does not lower the ceiling.\n"
    "Prints the libsodium version, then one line per figure:\n"
    "NAME RATE /s  description.\n";

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs one operation BATCH times; returns nonzero if a verification failed. */
static int
run_batch(struct job *j, uint8_t *sig, uint8_t *hash)
{
	int i, bad = 0;

	for (i = 0; i < BATCH; i++) {
		switch (j->op) {
		case OP_SIGN:
			crypto_sign_detached(sig, NULL, j->msg, j->len, j->sk);
			break;
		case OP_VERIFY:
			if (crypto_sign_verify_detached(j->sig, j->msg, j->len,
			    j->pk) != 0)
				bad = 1;
			break;
		case OP_HASH:
			crypto_generichash(hash, 32, j->msg, j->len, NULL, 0);
			break;
		}
	}
	return bad;
}

static void *
worker(void *arg)
{
	struct job *j = arg;
	uint8_t sig[crypto_sign_BYTES], hash[32];
	double t0, t;

	pthread_barrier_wait(j->start);
	t0 = mono_now();
	do {
		if (run_batch(j, sig, hash))
			j->failed = 1;
		j->count += BATCH;
		t = mono_now();
	} while (t - t0 < j->seconds);
	j->elapsed = t - t0;
	return NULL;
}

/* Runs op on nthreads threads at once for about seconds; returns the total
 * rate in operations per second, or a negative value on failure. */
static double
measure_round(const struct job *tmpl, int nthreads)
{
	pthread_t th[MAX_THREADS];
	struct job jobs[MAX_THREADS];
	pthread_barrier_t start;
	double rate = -1, longest = 0;
	uint64_t total = 0;
	int i, rc, started = 0, failed = 0;

	if (pthread_barrier_init(&start, NULL, (unsigned)nthreads) != 0)
		goto out;
	for (i = 0; i < nthreads; i++) {
		jobs[i] = *tmpl;
		jobs[i].start = &start;
		if ((rc = pthread_create(&th[i], NULL, worker, &jobs[i])) != 0) {
			/* The threads started wait at the barrier for the
			 * missing ones: a failure here is fatal. */
			fatalx("pthread_create: %s", strerror(rc));
		}
		started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		total += jobs[i].count;
		failed |= jobs[i].failed;
		if (jobs[i].elapsed > longest)
			longest = jobs[i].elapsed;
	}
	pthread_barrier_destroy(&start);
	if (failed) {
		fprintf(stderr, "lcf-bench-crypto: a signature failed to verify\n");
		goto out;
	}
	/* The threads run concurrently: the total over the longest one's time
	 * is the machine's rate. */
	rate = longest > 0 ? (double)total / longest : -1;
out:
	return rate;
}

/* The best of ROUNDS rounds sharing the time: other work on the machine only
 * ever lowers a rate, so the best round is the nearest to the ceiling. */
static double
measure(const struct job *tmpl, int nthreads)
{
	struct job j = *tmpl;
	double rate, best = -1;
	int i;

	j.seconds = tmpl->seconds / ROUNDS;
	for (i = 0; i < ROUNDS; i++) {
		if ((rate = measure_round(&j, nthreads)) < 0) {
			best = -1;
			break;
		}
		if (rate > best)
			best = rate;
	}
	return best;
}

static void
report(const char *name, double rate, const char *what)
{
	printf("%-10s %12.0f /s  %s\n", name, rate, what);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	uint8_t sig[crypto_sign_BYTES];
	struct job j;
	uint8_t *msg = NULL;
	char what[128], name[32], *end;
	double rate, seconds = 1.0;
	unsigned long len = 300, threads = 2;
	int c, ret = 1;

	while ((c = getopt(argc, argv, "ht:s:j:")) != -1) {
		switch (c) {
		case 't':
			seconds = strtod(optarg, &end);
			if (*end != '\0' || !(seconds > 0 && seconds <= 60))
				goto bad_usage;
			break;
		case 's':
			len = strtoul(optarg, &end, 10);
			if (*end != '\0' || len < 1 || len > MAX_MSG)
				goto bad_usage;
			break;
		case 'j':
			threads = strtoul(optarg, &end, 10);
			if (*end != '\0' || threads < 1 || threads > MAX_THREADS)
				goto bad_usage;
			break;
		case 'h':
			fputs(usage, stdout);
			ret = 0;
			goto out;
		default:
			goto bad_usage;
		}
	}
	if (optind != argc)
		goto bad_usage;
	log_init("lcf-bench-crypto", LOG_LEVEL_WARN);
	if (sodium_init() < 0) {
		fprintf(stderr, "lcf-bench-crypto: sodium_init failed\n");
		goto out;
	}
	printf("%-10s %12s     libsodium version in use\n", "libsodium",
	    sodium_version_string());
	msg = xmalloc(len);
	randombytes_buf(msg, len);
	crypto_sign_keypair(pk, sk);
	crypto_sign_detached(sig, NULL, msg, len, sk);

	memset(&j, 0, sizeof(j));
	j.msg = msg;
	j.len = len;
	j.pk = pk;
	j.sk = sk;
	j.sig = sig;
	j.seconds = seconds;

	j.op = OP_SIGN;
	if ((rate = measure(&j, 1)) < 0)
		goto out;
	snprintf(what, sizeof(what), "Ed25519 sign, %lu-byte message, 1 thread", len);
	report("sign.1", rate, what);
	if ((rate = measure(&j, (int)threads)) < 0)
		goto out;
	snprintf(name, sizeof(name), "sign.%lu", threads);
	snprintf(what, sizeof(what), "Ed25519 sign, %lu-byte message, %lu threads",
	    len, threads);
	report(name, rate, what);

	j.op = OP_VERIFY;
	if ((rate = measure(&j, 1)) < 0)
		goto out;
	snprintf(what, sizeof(what), "Ed25519 verify, %lu-byte message, 1 thread",
	    len);
	report("verify.1", rate, what);
	if ((rate = measure(&j, (int)threads)) < 0)
		goto out;
	snprintf(name, sizeof(name), "verify.%lu", threads);
	snprintf(what, sizeof(what), "Ed25519 verify, %lu-byte message, %lu threads",
	    len, threads);
	report(name, rate, what);

	j.op = OP_HASH;
	if ((rate = measure(&j, 1)) < 0)
		goto out;
	snprintf(what, sizeof(what), "BLAKE2b-256, %lu-byte input, 1 thread", len);
	report("blake2b.1", rate, what);
	ret = 0;
	goto out;
bad_usage:
	fputs(usage, stderr);
	ret = 2;
out:
	sodium_memzero(sk, sizeof(sk));
	free(msg);
	return ret;
}
