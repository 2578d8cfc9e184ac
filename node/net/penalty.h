/* SPDX-License-Identifier: Apache-2.0 */
/* A growing back-off for addresses and keys that keep breaking the protocol:
 * each offence doubles how long they are refused, up to a bound, and a quiet
 * while forgives them. */
#ifndef LCF_PENALTY_H
#define LCF_PENALTY_H

#include <stddef.h>
#include <stdint.h>

/* Offenders remembered at most: a new one takes the place of the one whose
 * back-off ended longest ago, so the table's memory is bounded (about
 * 100 KiB) however many addresses offend. */
#define PENALTY_SLOTS		1024
/* Longest name of an offender: "key " and 64 hex digits, or "address " and
 * an IPv6 literal. */
#define PENALTY_NAME_MAX	72

struct penalty_entry {
	char		name[PENALTY_NAME_MAX];	/* "" for a free slot */
	unsigned	offences;	/* since it was last forgiven */
	uint64_t	until_ms;	/* refused until (monotonic ms) */
};

/*
 * The table. Loop thread only; the caller owns it (penalty_init, then
 * penalty_free). first_ms 0 turns back-off off: offences are still counted,
 * nobody is refused.
 */
struct penalty {
	struct penalty_entry	*v;		/* PENALTY_SLOTS of them */
	uint64_t		 first_ms;	/* the first offence's back-off */
	uint64_t		 max_ms;	/* the longest, and the quiet while */
	uint64_t		 offences;	/* every offence counted */
};

void penalty_init(struct penalty *pt, unsigned first_s, unsigned max_s);
/* Releases the table's memory. Accepts a zeroed or freed table. */
void penalty_free(struct penalty *pt);

/*
 * One offence by name (cut to PENALTY_NAME_MAX - 1 characters) at now (a
 * monotonic clock, ms): the n-th since it was forgiven refuses it for
 * first_ms * 2^(n-1), at most max_ms, from now; max_ms without one after its
 * back-off ended forgives it. Returns the back-off (0 when off); *n (may be
 * NULL) gets n. A NULL or empty name is counted in offences and refused
 * nothing (an offence that cannot be pinned on anyone).
 */
uint64_t penalty_offend(struct penalty *pt, const char *name, uint64_t now,
    unsigned *n);
/* How long name is still refused at now (ms), 0 when it is not. */
uint64_t penalty_left(const struct penalty *pt, const char *name, uint64_t now);
/* Offenders refused at now. */
size_t penalty_active(const struct penalty *pt, uint64_t now);

#endif
