/* SPDX-License-Identifier: Apache-2.0 */
/* The table of record kinds: what every part of lcf needs to know per kind. */
#ifndef LCF_KINDS_H
#define LCF_KINDS_H

#include <stddef.h>

#include "lcf.pb-c.h"

struct catalog;
struct verr;

/* Kind numbers are below this bound (proto/lcf.proto keeps body fields under
 * 32), so a set of kinds fits a uint32_t bitmask (bit 1u << kind) and an array
 * indexed by kind has this many slots. A capacity, not the number of kinds. */
#define KINDS_LIMIT 32

/*
 * Peer protocol versions (docs/PROTOCOL.md sections 1.5 and 3.1). A peer's
 * version is what its Hello announces. KINDS_PROTO_BASE is the oldest version
 * this node links with: such a peer refuses a kind it does not know.
 * KINDS_PROTO_OPEN is the first version that stores and forwards kinds it
 * does not know, so a peer of that version or later takes a record of any
 * kind. KINDS_PROTO_VERSION is the version this node speaks.
 */
#define KINDS_PROTO_BASE 2
#define KINDS_PROTO_OPEN 3
#define KINDS_PROTO_VERSION 3

/* Who may sign a record of a kind. */
enum kinds_signer {
	KINDS_SIGNER_AUTHOR,        /* the city or node whose namespace it is */
	KINDS_SIGNER_FEDERATION,    /* only the federation key (a city may not) */
};

/* kinds_def.flags */
enum {
	/* A city's own published content (profile, practices, indicator
	 * values): lcctl drafts it and status always counts it. */
	KINDS_CONTENT = 1 << 0,
	/* The key is the author's choice (default_key only proposes one), so
	 * an import record may name it in a "key" member. */
	KINDS_FREE_KEY = 1 << 1,
	/* Listed by the country of its author's city: indexed under the country
	 * of the author's profile, and moved when that country changes. */
	KINDS_BY_COUNTRY = 1 << 2,
	/* Only the newest version is kept (docs/PROTOCOL.md 1.2, "Newest
	 * only"): a node holds, per (author, kind, key), only the records of
	 * the highest seq it has seen; an older one is dropped unstored, and
	 * storing a newer one deletes the older ones. Every node of the
	 * version that introduced the kind must do so, or sets never agree;
	 * so only a kind outside the base version (kinds_late) may carry it. */
	KINDS_NEWEST_ONLY = 1 << 3,
};

/* Checks the body of a record of this kind (the envelope is checked already
 * and the record is not a tombstone), and the key where it depends on the
 * body. Returns 0 or LCF_EVALIDATE with err filled. */
typedef int (*kinds_validate_fn)(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err);
/* Writes the key a draft's body gets when it names none (at most max bytes). */
typedef void (*kinds_key_fn)(const Lcf__Content *c, char *out, size_t max);

struct kinds_def {
	Lcf__Kind kind;
	/* The name in JSON and on the command line, also the name of the body's
	 * field in Content ("practice"). */
	const char *name;
	/* What a person calls one record of it ("indicator value"). */
	const char *noun;
	Lcf__Content__BodyCase body_case;
	const ProtobufCMessageDescriptor *body;
	kinds_validate_fn validate;
	const char *fixed_key;          /* the one key it is stored under, or NULL */
	kinds_key_fn default_key;       /* NULL when a draft must name its key */
	enum kinds_signer signer;
	unsigned flags;                 /* KINDS_* */
	/* The peer protocol version that introduced the kind: a peer whose
	 * Hello announces an older one is never sent a record of it. */
	unsigned since;
};

/* The i-th kind of the table (in kind order), or NULL past the end: loop with
 * for (i = 0; (k = kinds_at(i)) != NULL; i++). Entries are static. */
const struct kinds_def *kinds_at(size_t i);
/* The kind with this number, or NULL (unspecified and unknown kinds). */
const struct kinds_def *kinds_by_kind(int kind);
/* The kind whose body is this Content body case, or NULL. */
const struct kinds_def *kinds_by_case(Lcf__Content__BodyCase body_case);
/* The kind with this name (any letter case), or NULL. */
const struct kinds_def *kinds_by_name(const char *name);
/* The name of kind, or "unknown". Static. */
const char *kinds_name(int kind);
/* Writes every kind's name joined by sep into out (size len >= 1), cut to fit;
 * returns out. */
char *kinds_names(char *out, size_t len, const char *sep);
/* 1 when a peer speaking protocol version peer_version may be sent a record
 * of this kind (known to this node or not), else 0: the peer knows the kind,
 * or it stores and forwards kinds it does not know (KINDS_PROTO_OPEN). A kind
 * missing from the table counts as newer than this node. */
int kinds_peer_takes(int kind, unsigned peer_version);
/* 1 when a record of this kind is outside what a KINDS_PROTO_BASE peer takes
 * (the store keeps such records apart for reconciliation with those peers). */
int kinds_late(int kind);
/* 1 when this node keeps only the newest version of a record of this kind
 * (KINDS_NEWEST_ONLY; a kind it does not know: 0). */
int kinds_newest_only(int kind);
/* 1 when kind may be the kind of a record this node does not know but stores
 * and forwards: not in the table, and 1 to KINDS_LIMIT - 1. */
int kinds_unknown_ok(int kind);
/* Sets c's body to body (c takes it over) and c's body case to its kind's. */
void kinds_set_body(Lcf__Content *c, const struct kinds_def *k,
    ProtobufCMessage *body);
/* The key a draft of c's kind gets from its body; "" when the kind derives
 * none. Writes at most max bytes (max >= 1). */
void kinds_default_key(const Lcf__Content *c, char *out, size_t max);

#endif
