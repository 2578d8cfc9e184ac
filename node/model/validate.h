/* SPDX-License-Identifier: Apache-2.0 */
/* Semantic validation of record contents against DATA-MODEL.md. */
#ifndef LCF_VALIDATE_H
#define LCF_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "lcf.pb-c.h"

struct catalog;

/* Where validation failed: a dotted field path ("practice.kflc_areas[1]") and a
 * sentence for a person ("unknown sub-area '2.9'; valid: 1.1 ... 3.3"). */
struct verr {
	char field[96];
	char msg[512];
};

/* Fills err (either string may be empty) and returns LCF_EVALIDATE; for use by
 * every validator so messages have one shape. */
int verr_set(struct verr *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes "base.name", "name" when base is empty, plus "[idx]" when idx >= 0,
 * into buf (len >= 1), cut to fit. Returns buf. It builds the path of every
 * field of every imported record, so it uses no printf. */
const char *verr_path(char *buf, size_t len, const char *base, const char *name,
    long idx);

enum {
	/* A draft from lcctl: author, seq and timestamp are not set yet. */
	VALIDATE_DRAFT = 1 << 0,
	/* Indicator ids must be in the catalog (local writes; the network keeps
	 * values against unknown ids). Needs a catalog. */
	VALIDATE_CATALOG = 1 << 1,
};

/* validate_envelope.c. Checks envelope (author 32 bytes, seq >= 1, kind known, key 1..200 bytes of
 * printable UTF-8, body matches kind, tombstone has no body) and body fields.
 * cat may be NULL unless VALIDATE_CATALOG is set. Returns 0 or LCF_EVALIDATE. */
int validate_content(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err);

/* Each kind's body validator (model/kinds.h, kinds_validate_fn): the body of
 * a record that is not a tombstone and whose envelope validate_content checked,
 * and the key where it follows from the body. 0 or LCF_EVALIDATE. */
int validate_city(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err);
int validate_practice(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err);
int validate_indicator(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err);
int validate_membership(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err);
int validate_revocation(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err);
int validate_endpoint(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err);
int validate_catalog(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err);
int validate_succession(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err);
/* A beacon (PROTOCOL 1.3.15): software T(32), protocol >= 2, started > 0, a
 * 16-byte instance, kinds 1..31 ascending, a 16-byte set_digest if any, and
 * the whole content at most VALIDATE_BEACON_MAX_CONTENT bytes, so that the
 * signed record stays within 1 KiB. */
#define VALIDATE_BEACON_SOFTWARE 32
#define VALIDATE_BEACON_INSTANCE 16
#define VALIDATE_BEACON_MAX_CONTENT 950
int validate_beacon(const Lcf__Content *c, const struct catalog *cat,
    unsigned flags, struct verr *err);

/* A record key: 1..200 bytes of printable UTF-8. 0 or LCF_EVALIDATE. */
int validate_key(const char *key, struct verr *err);

/* Internal to validate*.c: copies at most 60 bytes of s (text that passed the
 * checks) into buf (VALIDATE__QUOTE_BUF bytes or more) for a message, marking a cut with
 * "..."; returns buf. */
#define VALIDATE__QUOTE_BUF 64
const char *validate__quote(const char *s, char *buf, size_t len);

/* The key an indicator value is stored under: INDICATOR/PERIOD, plus
 * "/sex=..,age_band=..,group=.." when disaggregated. Writes at most max bytes. */
void validate_indicator_key(const Lcf__IndicatorValue *v, char *out, size_t max);

/* What a successor key signs to accept a hand-over (proto/lcf.proto,
 * Succession): the label, the old key, the new key. */
#define SUCCESSION_LABEL "lcf-succession-v1"
#define SUCCESSION_LABEL_LEN 17
#define SUCCESSION_MSG_LEN (SUCCESSION_LABEL_LEN + 64)
void validate_succession_message(const uint8_t old_key[32], const uint8_t new_key[32],
    uint8_t out[SUCCESSION_MSG_LEN]);

#endif
