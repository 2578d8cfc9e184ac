// SPDX-License-Identifier: Apache-2.0
// Records as people read them: cities named from their profiles, lcctl's JSON
// form, personal data left out unless the caller may see it, lists that hide
// revoked cities and versions a later key replaced.
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/xmalloc.h"
#include "core/lineage.h"
#include "core/member.h"
#include "core/node.h"
#include "model/catalog.h"
#include "model/pbjson.h"
#include "model/record.h"
#include "store/store.h"
#include "view/records.h"
#include "view/view.h"

void
view_records_init(struct view_records *v, struct node *n, unsigned flags)
{
	memset(v, 0, sizeof(*v));
	v->n = n;
	v->lin = lineage_snapshot(n);
	v->personal = (flags & VIEW_PERSONAL) != 0;
}

void
view_records_free(struct view_records *v)
{
	size_t i;

	for (i = 0; i < v->nnames; i++) {
		free(v->names[i].name);
		free(v->names[i].country);
	}
	lineage_free(v->lin);
}

/* The city profile in stored record bytes (its id given), when they hold
 * one not deleted: rec is open then (release it); else NULL. */
static const Lcf__CityProfile *
profile_open(const uint8_t id[32], const uint8_t *raw, size_t len,
    struct record *rec)
{
	if (record_open_stored(raw, len, id, rec) != 0)
		return NULL;
	if (!rec->c->deleted && rec->c->city != NULL && rec->c->author.len == 32)
		return rec->c->city;
	record_release(rec);
	return NULL;
}

static int
name_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	const Lcf__CityProfile *p;
	char **nc = arg;
	struct record rec;

	if ((p = profile_open(id, raw, len, &rec)) == NULL)
		return 0;
	if (p->name != NULL)
		nc[0] = xstrdup(p->name);
	if (p->country != NULL)
		nc[1] = xstrdup(p->country);
	record_release(&rec);
	return 0;
}

struct profiles {
	const struct lineage *lin;
	view_profile_fn fn;
	void *arg;
};

static int
profiles_visit(void *arg, const uint8_t id[32], const uint8_t *raw, size_t len)
{
	struct profiles *w = arg;
	const Lcf__CityProfile *p;
	struct record rec;
	uint8_t head[32];
	int ret = 0;

	if ((p = profile_open(id, raw, len, &rec)) == NULL)
		return 0;
	/* An older key's profile: its line's newest key stands for the city. */
	lineage_head(w->lin, rec.c->author.data, head);
	if (memcmp(head, rec.c->author.data, 32) == 0)
		ret = w->fn(w->arg, head, p);
	record_release(&rec);
	return ret;
}

int
view_profiles(struct node *n, const struct lineage *lin, view_profile_fn fn,
    void *arg)
{
	struct profiles w = { lin, fn, arg };
	struct store_query q;
	int truncated;

	memset(&q, 0, sizeof(q));
	q.kind = LCF__KIND__KIND_CITY;
	q.keep = members_visible;
	q.keep_arg = n;
	return store_query(n->store, &q, profiles_visit, &w, &truncated);
}

/* The name and country of a city from its current profile (either NULL). */
void
view_records_name(struct view_records *v, const uint8_t author[32],
    const char **name, const char **country)
{
	char *nc[2] = { NULL, NULL };
	size_t i;

	for (i = 0; i < v->nnames; i++)
		if (memcmp(v->names[i].author, author, 32) == 0)
			goto found;
	store_get_current(v->n->store, author, LCF__KIND__KIND_CITY, "profile",
	    name_visit, nc);
	if (v->nnames == VIEW_NAME_CACHE) {
		free(nc[0]);
		free(nc[1]);
		*name = *country = NULL;
		return;
	}
	i = v->nnames++;
	memcpy(v->names[i].author, author, 32);
	v->names[i].name = nc[0];
	v->names[i].country = nc[1];
found:
	*name = v->names[i].name;
	*country = v->names[i].country;
}

json_t *
view_hex(const uint8_t *b, size_t n)
{
	char hex[2 * 64 + 1];

	return json_string(hex_encode(b, n, hex));
}

/* Contact names and e-mail addresses out of a public answer. */
static void
strip_personal(json_t *rec)
{
	const char *k;
	json_t *body, *contact;

	json_object_foreach(rec, k, body) {
		if (!json_is_object(body) ||
		    (contact = json_object_get(body, "contact")) == NULL)
			continue;
		json_object_del(contact, "name");
		json_object_del(contact, "email");
		if (json_object_size(contact) == 0)
			json_object_del(body, "contact");
	}
}

/* The JSON of a stored record as lcctl shows it, with its city named. */
json_t *
view_record_json(struct view_records *v, const uint8_t id[32],
    const Lcf__Content *c)
{
	const char *name = NULL, *country = NULL;
	uint8_t head[32];
	json_t *j;

	lineage_head(v->lin, c->author.data, head);
	view_records_name(v, head, &name, &country);
	if (name == NULL && memcmp(head, c->author.data, 32) != 0)
		view_records_name(v, c->author.data, &name, &country);
	j = pbjson_record(id, c, name);
	json_object_set_new(j, "city_id", view_hex(head, 32));
	if (country != NULL)
		json_object_set_new(j, "city_country", json_string(country));
	if (c->body_case == LCF__CONTENT__BODY_INDICATOR &&
	    c->indicator->indicator != NULL &&
	    catalog_find(v->n->catalog, c->indicator->indicator) == NULL)
		json_object_set_new(j, "unknown_indicator", json_true());
	if (!v->personal)
		strip_personal(j);
	return j;
}

void
view_keep_drop(struct view_keep *ka)
{
	if (ka != NULL && ka->raw != NULL) {
		record_release(&ka->rec);
		ka->raw = NULL;
	}
}

int
view_keep_open(struct view_keep *ka, const uint8_t id[32], const uint8_t *raw,
    size_t len, struct record *rec)
{
	if (ka != NULL && ka->raw != NULL && ka->raw == raw) {
		*rec = ka->rec;
		ka->raw = NULL;
		return 0;
	}
	return record_open_stored(raw, len, id, rec);
}

int
view_records_keep(void *arg, const uint8_t *raw, size_t len)
{
	struct view_keep *ka = arg;
	struct member_info mi;
	struct record rec;
	int keep = 1;

	view_keep_drop(ka);
	if ((!ka->revoked && lineage_empty(ka->lin) && !ka->observers) ||
	    record_open(raw, len, 0, &rec) != 0)
		return 1;
	/* One decoding for every test, and for the visitor (view_keep_open). */
	if (ka->revoked && members_any_revoked(ka->n) &&
	    members_get(ka->n, rec.c->author.data, &mi) == 0 && mi.revoked)
		keep = 0;
	else if (ka->observers && members_is_observer(ka->n, rec.c->author.data))
		keep = 0;
	else if (!lineage_empty(ka->lin) &&
	    lineage_shadowed(ka->lin, ka->n->store, rec.c))
		keep = 0;
	if (!keep) {
		record_release(&rec);
		return 0;
	}
	ka->rec = rec;
	ka->raw = raw;
	return 1;
}
