// SPDX-License-Identifier: Apache-2.0
// validate_content: a record's envelope, then its body through the table of kinds.
#include <string.h>

#include "base/error.h"
#include "model/kinds.h"
#include "model/validate.h"

/* Author, seq and timestamp unless a draft; a known kind; a body of that kind
 * unless a tombstone, which carries none. */
static int
check_envelope(const Lcf__Content *c, unsigned flags, struct verr *err)
{
	const struct kinds_def *k = NULL, *bk = NULL;
	int kind = c->has_kind ? (int)c->kind : 0;
	int ret = LCF_EVALIDATE;

	if (kind == LCF__KIND__KIND_UNSPECIFIED) {
		verr_set(err, "kind", "is required");
		goto out;
	}
	/* A kind this node does not know is a later version's: a received
	 * record of it is checked as far as the envelope goes and kept
	 * (PROTOCOL 1.5); what the operator writes here (drafts, checked
	 * against the catalog) must be of known kinds. */
	if ((k = kinds_by_kind(kind)) == NULL &&
	    ((flags & (VALIDATE_DRAFT | VALIDATE_CATALOG)) ||
	    !kinds_unknown_ok(kind))) {
		verr_set(err, "kind", "unknown kind %d", kind);
		goto out;
	}
	/* The body pointers share a union, so any member tells whether a body
	 * message is there; a case set without one counts as no body. */
	if (c->city != NULL)
		bk = kinds_by_case(c->body_case);
	if (!(flags & VALIDATE_DRAFT)) {
		if (!c->has_author || c->author.len != 32) {
			verr_set(err, "author", "must be a 32-byte Ed25519 public key, "
			    "got %zu bytes", c->has_author ? c->author.len : (size_t)0);
			goto out;
		}
		if (!c->has_seq || c->seq < 1) {
			verr_set(err, "seq", "must be 1 or more");
			goto out;
		}
		if (!c->has_timestamp || c->timestamp <= 0) {
			verr_set(err, "timestamp", "must be a positive Unix time in "
			    "milliseconds");
			goto out;
		}
	}
	if (k == NULL) {
		/* Its body, if any, is in a field this node does not know: only
		 * a body of a known kind can be seen, and it cannot match. */
		if (bk != NULL) {
			verr_set(err, bk->name, "a record of kind %d must not "
			    "carry a body of kind %s", kind, bk->name);
			goto out;
		}
	} else if (c->has_deleted && c->deleted) {
		if (bk != NULL) {
			verr_set(err, bk->name, "a deleted record must not carry "
			    "a body");
			goto out;
		}
	} else if (bk == NULL) {
		verr_set(err, k->name, "is required: a %s record needs its body",
		    k->name);
		goto out;
	} else if (bk != k) {
		verr_set(err, bk->name, "a record of kind %s must carry a body of "
		    "that kind, not %s", k->name, bk->name);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

int
validate_content(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err)
{
	const struct kinds_def *k;
	char q[VALIDATE__QUOTE_BUF];
	int deleted, has_key, ret = LCF_EVALIDATE;

	if (err != NULL)
		err->field[0] = err->msg[0] = '\0';
	if (c == NULL) {
		verr_set(err, "", "no content");
		goto out;
	}
	if (check_envelope(c, flags, err) < 0)
		goto out;
	k = kinds_by_kind((int)c->kind);
	deleted = c->has_deleted && c->deleted;
	has_key = c->key != NULL && *c->key != '\0';
	/*
	 * A draft may leave the key to the node, which derives it ("profile", the
	 * title's slug, validate_indicator_key()). A tombstone has no body to derive it
	 * from, so it always names its key.
	 */
	if ((has_key || deleted || !(flags & VALIDATE_DRAFT)) &&
	    validate_key(c->key, err) < 0)
		goto out;
	if (k != NULL && k->fixed_key != NULL && has_key && strcmp(c->key, k->fixed_key) != 0) {
		verr_set(err, "key", "a %s's key must be '%s', not '%s'", k->noun,
		    k->fixed_key, validate__quote(c->key, q, sizeof(q)));
		goto out;
	}
	if (k != NULL && !deleted && k->validate(c, cat, flags, err) < 0)
		goto out;
	ret = 0;
out:
	return ret;
}
