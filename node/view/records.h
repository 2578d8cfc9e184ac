/* SPDX-License-Identifier: Apache-2.0 */
/* Records as people read them (views and the HTTP API): cities named from
 * their profiles, lcctl's JSON form, personal data left out unless allowed,
 * lists that hide revoked cities and versions a later key replaced. */
#ifndef LCF_VIEW_RECORDS_H
#define LCF_VIEW_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lcf.pb-c.h"
#include "model/record.h"

struct lineage;
struct node;

#define VIEW_NAME_CACHE 64

/* One answer's context: a snapshot of the lines of keys and the cities named
 * so far. */
struct view_records {
	struct node *n;
	struct lineage *lin;          /* owned */
	int personal;                 /* contact names and addresses shown */
	struct {
		uint8_t author[32];
		char *name, *country;
	} names[VIEW_NAME_CACHE];
	size_t nnames;
};

/* flags: VIEW_* (view.h); only VIEW_PERSONAL matters here. */
void view_records_init(struct view_records *v, struct node *n, unsigned flags);
void view_records_free(struct view_records *v);
/* The name and country of a city from its current profile (either may be
 * NULL); valid until view_records_free. */
void view_records_name(struct view_records *v, const uint8_t author[32],
    const char **name, const char **country);
/* lcctl's JSON of a stored record (pbjson_record), with its city's newest
 * key as city_id, its name and country, unknown_indicator for a value
 * outside the catalog in force, and no contact name or e-mail unless
 * personal. New reference. */
json_t *view_record_json(struct view_records *v, const uint8_t id[32],
    const Lcf__Content *c);
/* n bytes as lower-case hex (n <= 64). New reference. */
json_t *view_hex(const uint8_t *b, size_t n);

/* Each city's current profile: fn(arg, head, p) for every city profile held
 * that is not deleted, of a city not hidden (members_visible), written by
 * the newest key of its line (head; an older key's profile is passed over).
 * p is valid during the call. fn returns non-zero to stop (returned). 0, a
 * stop value, or the store's code. */
typedef int (*view_profile_fn)(void *arg, const uint8_t head[32],
    const Lcf__CityProfile *p);
int view_profiles(struct node *n, const struct lineage *lin, view_profile_fn fn,
    void *arg);

/* A store_query keep function (arg: struct view_keep, zeroed before its
 * fields are set): hides the records of revoked cities (when revoked is set),
 * of observers (when observers is set: city lists) and versions a later key
 * of their city replaced. A record it had to decode and kept waits for the
 * visitor, which takes it with view_keep_open instead of decoding it again;
 * view_keep_drop after the query releases one no visitor took. */
struct view_keep {
	struct node *n;
	struct lineage *lin;
	int revoked;
	int observers;
	const uint8_t *raw;           /* the kept record's bytes, or NULL */
	struct record rec;            /* decoded, when raw is set */
};
int view_records_keep(void *arg, const uint8_t *raw, size_t len);
/* The decoded record of raw (its id given): the one view_records_keep kept
 * (ka may be NULL), else decoded now. Release it with record_release. */
int view_keep_open(struct view_keep *ka, const uint8_t id[32],
    const uint8_t *raw, size_t len, struct record *rec);
void view_keep_drop(struct view_keep *ka);

#endif
