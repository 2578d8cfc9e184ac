// SPDX-License-Identifier: Apache-2.0
// The table of record kinds; adding a kind is one entry here plus its body's code.
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "model/kinds.h"
#include "model/validate.h"

static void
practice_key(const Lcf__Content *c, char *out, size_t max)
{
	slugify(c->practice != NULL && c->practice->title != NULL ?
	    c->practice->title : "", out, max);
}

static void
indicator_value_key(const Lcf__Content *c, char *out, size_t max)
{
	validate_indicator_key(c->indicator, out, max);
}

/* In kind order; proto/lcf.proto's Kind and Content.body list the same kinds.
 * The last column is the peer protocol version that introduced the kind: a
 * kind that older peers must not be sent names a later version there. */
static const struct kinds_def table[] = {
	{ LCF__KIND__KIND_CITY, "city", "city profile", LCF__CONTENT__BODY_CITY,
	    &lcf__city_profile__descriptor, validate_city, "profile", NULL,
	    KINDS_SIGNER_AUTHOR, KINDS_CONTENT | KINDS_BY_COUNTRY,
	    KINDS_PROTO_BASE },
	{ LCF__KIND__KIND_PRACTICE, "practice", "practice",
	    LCF__CONTENT__BODY_PRACTICE, &lcf__practice__descriptor,
	    validate_practice, NULL, practice_key, KINDS_SIGNER_AUTHOR,
	    KINDS_CONTENT | KINDS_FREE_KEY | KINDS_BY_COUNTRY, KINDS_PROTO_BASE },
	{ LCF__KIND__KIND_INDICATOR, "indicator", "indicator value",
	    LCF__CONTENT__BODY_INDICATOR, &lcf__indicator_value__descriptor,
	    validate_indicator, NULL, indicator_value_key, KINDS_SIGNER_AUTHOR,
	    KINDS_CONTENT | KINDS_BY_COUNTRY, KINDS_PROTO_BASE },
	{ LCF__KIND__KIND_MEMBERSHIP, "membership", "membership record",
	    LCF__CONTENT__BODY_MEMBERSHIP, &lcf__membership__descriptor,
	    validate_membership, NULL, NULL, KINDS_SIGNER_FEDERATION, 0,
	    KINDS_PROTO_BASE },
	{ LCF__KIND__KIND_REVOCATION, "revocation", "revocation record",
	    LCF__CONTENT__BODY_REVOCATION, &lcf__revocation__descriptor,
	    validate_revocation, NULL, NULL, KINDS_SIGNER_FEDERATION, 0,
	    KINDS_PROTO_BASE },
	{ LCF__KIND__KIND_ENDPOINT, "endpoint", "endpoint record",
	    LCF__CONTENT__BODY_ENDPOINT, &lcf__endpoint__descriptor,
	    validate_endpoint, "endpoint", NULL, KINDS_SIGNER_AUTHOR, 0,
	    KINDS_PROTO_BASE },
	{ LCF__KIND__KIND_CATALOG, "catalog", "catalog entry",
	    LCF__CONTENT__BODY_CATALOG, &lcf__catalog_indicator__descriptor,
	    validate_catalog, NULL, NULL, KINDS_SIGNER_FEDERATION, 0,
	    KINDS_PROTO_BASE },
	{ LCF__KIND__KIND_SUCCESSION, "succession", "succession record",
	    LCF__CONTENT__BODY_SUCCESSION, &lcf__succession__descriptor,
	    validate_succession, "succession", NULL, KINDS_SIGNER_AUTHOR, 0,
	    KINDS_PROTO_BASE },
	{ LCF__KIND__KIND_BEACON, "beacon", "status beacon",
	    LCF__CONTENT__BODY_BEACON, &lcf__beacon__descriptor,
	    validate_beacon, "beacon", NULL, KINDS_SIGNER_AUTHOR,
	    KINDS_NEWEST_ONLY, 3 },
};

#define NTABLE (sizeof(table) / sizeof(table[0]))

const struct kinds_def *
kinds_at(size_t i)
{
	return i < NTABLE ? &table[i] : NULL;
}

const struct kinds_def *
kinds_by_kind(int kind)
{
	const struct kinds_def *k = NULL;
	size_t i;

	for (i = 0; i < NTABLE && k == NULL; i++)
		if ((int)table[i].kind == kind)
			k = &table[i];
	return k;
}

const struct kinds_def *
kinds_by_case(Lcf__Content__BodyCase body_case)
{
	const struct kinds_def *k = NULL;
	size_t i;

	for (i = 0; i < NTABLE && k == NULL; i++)
		if (table[i].body_case == body_case)
			k = &table[i];
	return k;
}

const struct kinds_def *
kinds_by_name(const char *name)
{
	const struct kinds_def *k = NULL;
	size_t i;

	for (i = 0; name != NULL && i < NTABLE && k == NULL; i++)
		if (strcasecmp(table[i].name, name) == 0)
			k = &table[i];
	return k;
}

const char *
kinds_name(int kind)
{
	const struct kinds_def *k = kinds_by_kind(kind);

	return k != NULL ? k->name : "unknown";
}

char *
kinds_names(char *out, size_t len, const char *sep)
{
	size_t i, o = 0;
	int n;

	out[0] = '\0';
	for (i = 0; i < NTABLE && o < len; i++) {
		n = snprintf(out + o, len - o, "%s%s", i > 0 ? sep : "",
		    table[i].name);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	return out;
}

int
kinds_peer_takes(int kind, unsigned peer_version)
{
	const struct kinds_def *k = kinds_by_kind(kind);

	if (peer_version >= KINDS_PROTO_OPEN)
		return 1;
	return k != NULL && k->since <= peer_version;
}

int
kinds_late(int kind)
{
	return !kinds_peer_takes(kind, KINDS_PROTO_BASE);
}

int
kinds_newest_only(int kind)
{
	const struct kinds_def *k = kinds_by_kind(kind);

	return k != NULL && (k->flags & KINDS_NEWEST_ONLY) != 0;
}

int
kinds_unknown_ok(int kind)
{
	return kind > 0 && kind < KINDS_LIMIT && kinds_by_kind(kind) == NULL;
}

void
kinds_set_body(Lcf__Content *c, const struct kinds_def *k, ProtobufCMessage *body)
{
	const ProtobufCFieldDescriptor *f;

	f = protobuf_c_message_descriptor_get_field(&lcf__content__descriptor,
	    (unsigned)k->body_case);
	c->body_case = k->body_case;
	/* The bodies share one union: any member's field offset is the union's. */
	*(ProtobufCMessage **)(void *)((char *)c + f->offset) = body;
}

void
kinds_default_key(const Lcf__Content *c, char *out, size_t max)
{
	const struct kinds_def *k = kinds_by_kind(c->has_kind ? (int)c->kind : 0);

	out[0] = '\0';
	if (k != NULL && k->fixed_key != NULL)
		snprintf(out, max, "%s", k->fixed_key);
	else if (k != NULL && k->default_key != NULL && c->city != NULL)
		k->default_key(c, out, max);
}
