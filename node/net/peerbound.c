// SPDX-License-Identifier: Apache-2.0
// Peers that keep breaking the protocol: their address or key is refused for a growing while (penalty.h).
//
// An offence before the handshake ended (garbage, a failed handshake) can only
// be pinned on the address it came from; one after it (bad signatures, broken
// messages) on the key that signed the handshake, so that other cities
// behind the same address (a NAT, a shared host) are not refused for it.
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/ratelimit.h"
#include "base/util.h"
#include "core/config.h"
#include "net/peer_int.h"
#include "net/penalty.h"

#define NAME_ADDRESS	"address "
#define NAME_KEY	"key "

void
peer__bounds_init(struct peers *ps)
{
	penalty_init(&ps->penalty, ps->n->cfg.offender_backoff,
	    ps->n->cfg.offender_backoff_max);
	ps->budget.limit = (size_t)ps->n->cfg.peers_queue;
}

void
peer__bounds_free(struct peers *ps)
{
	penalty_free(&ps->penalty);
}

static void
key_name(const uint8_t key[32], char *out, size_t len)
{
	char hex[LCF_ID_HEX];

	snprintf(out, len, NAME_KEY "%s", hex_encode(key, 32, hex));
}

/* Logs an offence and its back-off, a few lines a minute. */
static void
log_offence(struct peers *ps, const char *who, unsigned n, uint64_t ms,
    const char *reason)
{
	unsigned long held;
	char more[96] = "";

	if (!ratelimit_pass(&ps->offence_log, mono_ms(), &held))
		return;
	if (held > 0)
		snprintf(more, sizeof(more), " (and %lu more offences not logged "
		    "since the last line)", held);
	if (ms > 0)
		log_warnx("peers: %s broke the protocol (%s): offence %u, refused "
		    "for %.0f s (offender_backoff)%s", who, reason, n,
		    (double)ms / 1000, more);
	else
		log_warnx("peers: %s broke the protocol (%s): offence %u%s", who,
		    reason, n, more);
}

void
peer__offence_address(struct peers *ps, const char *ip, const char *reason)
{
	char name[PENALTY_NAME_MAX];
	unsigned n = 0;
	uint64_t ms;

	/* Many cities may be behind a shared address: their keys answer.
	 * The offence is counted all the same (lcf_peer_offences_total). */
	if (ip == NULL || ip[0] == '\0' || config_is_shared(&ps->n->cfg, ip)) {
		penalty_offend(&ps->penalty, NULL, mono_ms(), NULL);
		return;
	}
	snprintf(name, sizeof(name), NAME_ADDRESS "%s", ip);
	ms = penalty_offend(&ps->penalty, name, mono_ms(), &n);
	log_offence(ps, name, n, ms, reason);
}

void
peer__offence_key(struct peers *ps, const uint8_t key[32], const char *reason)
{
	char name[PENALTY_NAME_MAX];
	unsigned n = 0;
	uint64_t ms;

	key_name(key, name, sizeof(name));
	ms = penalty_offend(&ps->penalty, name, mono_ms(), &n);
	log_offence(ps, name, n, ms, reason);
}

int
peer__key_barred(struct peers *ps, const uint8_t key[32], char *why,
    size_t whylen)
{
	char name[PENALTY_NAME_MAX];
	uint64_t left;

	key_name(key, name, sizeof(name));
	if ((left = penalty_left(&ps->penalty, name, mono_ms())) == 0)
		return 0;
	snprintf(why, whylen, "refused: this key broke the protocol lately; "
	    "refused for %.1f s more (offender_backoff)", (double)left / 1000);
	return 1;
}

int
peer__admit(void *arg, const char *ip, char *why, size_t whylen)
{
	struct link *l = arg;
	char name[PENALTY_NAME_MAX];
	uint64_t left;

	if (config_is_shared(&l->ps->n->cfg, ip))
		return CONN_ADMIT_SHARED;
	snprintf(name, sizeof(name), NAME_ADDRESS "%s", ip);
	if ((left = penalty_left(&l->ps->penalty, name, mono_ms())) == 0)
		return CONN_ADMIT;
	snprintf(why, whylen, "refused before the handshake: %s broke the "
	    "protocol lately; refused for %.1f s more (offender_backoff)", ip,
	    (double)left / 1000);
	return CONN_REFUSE;
}
