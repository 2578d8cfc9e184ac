// SPDX-License-Identifier: Apache-2.0
// lcctl members: the federation's cities as its signed records describe them.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/csvout.h"
#include "lcctl.h"
#include "base/util.h"
#include "base/xmalloc.h"

static const char usage[] =
    "Usage: lcctl [-d DIR] members [--json | --csv]\n"
    "\n"
    "Lists the cities the federation admitted or revoked, as this node knows\n"
    "them: id, city, country, admitted, expires, revoked, whether a link to it\n"
    "is up now (reachable), when it was last seen (its newest record or last\n"
    "handshake), forks (records sharing an author and seq) and key hand-overs.\n"
    "\n"
    "Options:\n"
    "  --json       one JSON object\n"
    "  --csv        one row per city (RFC 4180, UTF-8)\n"
    "  -h, --help   show this help\n";

static json_t *
id_json(int has, const ProtobufCBinaryData *b)
{
	char hex[LCF_ID_HEX];

	return has ? json_string(render_id(b->data, b->len, hex)) : json_null();
}

static json_t *
ms_json(int has, int64_t v)
{
	return has && v != 0 ? json_integer((json_int_t)v) : json_null();
}

static const char *
state_of(const Lcf__MemberInfo *m)
{
	if (m->revoked)
		return "revoked";
	if (!m->has_admitted_ms)
		return "withdrawn";
	/* The key writes no more, whatever its membership says. */
	if (m->has_successor)
		return "handed over";
	if (!m->valid)
		return "expired";
	return "member";
}

static json_t *
members_json(const Lcf__MembersReply *mr)
{
	json_t *o = json_object(), *a = json_array(), *m;
	size_t i;

	json_object_set_new(o, "federation", id_json(mr->has_federation,
	    &mr->federation));
	json_object_set_new(o, "federation_name", mr->federation_name ?
	    json_string(mr->federation_name) : json_null());
	for (i = 0; i < mr->n_members; i++) {
		const Lcf__MemberInfo *x = mr->members[i];

		m = json_object();
		json_object_set_new(m, "id", id_json(x->has_id, &x->id));
		json_object_set_new(m, "city", x->name ? json_string(x->name) :
		    json_null());
		json_object_set_new(m, "country", x->country ?
		    json_string(x->country) : json_null());
		json_object_set_new(m, "state", json_string(state_of(x)));
		json_object_set_new(m, "role", json_string(x->observer ?
		    "observer" : "city"));
		json_object_set_new(m, "valid", json_boolean(x->valid));
		json_object_set_new(m, "admitted", ms_json(x->has_admitted_ms,
		    x->admitted_ms));
		json_object_set_new(m, "expires", ms_json(x->has_expires_ms,
		    x->expires_ms));
		json_object_set_new(m, "revoked", json_boolean(x->revoked));
		json_object_set_new(m, "revoked_at", ms_json(x->has_revoked_ms,
		    x->revoked_ms));
		json_object_set_new(m, "reason", x->reason ? json_string(x->reason) :
		    json_null());
		json_object_set_new(m, "reachable", json_boolean(x->reachable));
		json_object_set_new(m, "last_seen", ms_json(x->has_last_seen_ms,
		    x->last_seen_ms));
		json_object_set_new(m, "forks", json_integer((json_int_t)x->forks));
		json_object_set_new(m, "held", json_integer((json_int_t)x->held));
		json_object_set_new(m, "successor", id_json(x->has_successor,
		    &x->successor));
		json_object_set_new(m, "predecessor", id_json(x->has_predecessor,
		    &x->predecessor));
		json_object_set_new(m, "self", json_boolean(x->self));
		json_array_append_new(a, m);
	}
	json_object_set_new(o, "members", a);
	return o;
}

static void
members_text(const Lcf__MembersReply *mr)
{
	static const struct table_col cols[] = {
		{ "ID", 0 }, { "CITY", COL_FLEX }, { "CC", 0 }, { "STATE", 0 },
		{ "ADMITTED", 0 }, { "EXPIRES", 0 }, { "REACHABLE", 0 },
		{ "LAST SEEN", 0 }, { "FORKS", COL_RIGHT },
	};
	struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
	char id[16], role[40], adm[32], exp[32], seen[40], forks[24], hex[LCF_ID_HEX];
	char *name;
	size_t i;

	if (!mr->has_federation) {
		printf("This node belongs to no federation (an open node): set "
		    "`federation = FEDID` in lcnode.conf to join one.\n");
		table_free(t);
		return;
	}
	name = render_clean(mr->federation_name ? mr->federation_name : "");
	printf("Federation %s%s%s\n", render_id(mr->federation.data,
	    mr->federation.len, hex), name[0] ? ": " : "", name);
	free(name);
	for (i = 0; i < mr->n_members; i++) {
		const Lcf__MemberInfo *x = mr->members[i];
		char *city = render_clean(x->name ? x->name : "");
		const char *cells[9];

		render_short_id(x->id.data, x->id.len, id);
		if (x->self)
			strncat(id, "*", sizeof(id) - strlen(id) - 1);
		/* An observer is no city: its state says so. */
		if (x->observer && strcmp(state_of(x), "member") == 0)
			snprintf(role, sizeof(role), "observer");
		else if (x->observer)
			snprintf(role, sizeof(role), "%s observer", state_of(x));
		else
			snprintf(role, sizeof(role), "%s", state_of(x));
		if (x->has_admitted_ms)
			render_date(x->admitted_ms, adm, sizeof(adm));
		else
			snprintf(adm, sizeof(adm), "-");
		if (x->has_expires_ms && x->expires_ms != 0)
			render_date(x->expires_ms - 1, exp, sizeof(exp));
		else
			snprintf(exp, sizeof(exp), "never");
		if (x->has_last_seen_ms)
			render_time(x->last_seen_ms, seen, sizeof(seen));
		else
			snprintf(seen, sizeof(seen), "never");
		snprintf(forks, sizeof(forks), "%" PRIu64, x->forks);
		cells[0] = id;
		cells[1] = city;
		cells[2] = x->country ? x->country : "";
		cells[3] = role;
		cells[4] = adm;
		cells[5] = exp;
		cells[6] = x->reachable ? "yes" : "no";
		cells[7] = seen;
		cells[8] = forks;
		table_add(t, cells);
		free(city);
	}
	if (table_rows(t) == 0)
		printf("No city admitted yet: the secretariat signs admissions "
		    "with `lcctl federation admit` and any node publishes them "
		    "with `lcctl publish FILE`.\n");
	else
		table_print(t, stdout);
	for (i = 0; i < mr->n_members; i++) {
		const Lcf__MemberInfo *x = mr->members[i];

		if (x->revoked && x->reason != NULL) {
			char *r = render_clean(x->reason);

			printf("revoked %s: %s\n", render_short_id(x->id.data,
			    x->id.len, id), r);
			free(r);
		}
	}
	table_free(t);
}

int
cmd_members(struct lcctl *ctx, int argc, char **argv)
{
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__MembersRequest mq = LCF__MEMBERS_REQUEST__INIT;
	Lcf__CtlResponse *resp = NULL;
	json_t *j;
	int ret;

	if ((ret = lcctl_list_opts(ctx, argc, argv, usage)) >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, NULL, NULL)) != LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	req.op_case = LCF__CTL_REQUEST__OP_MEMBERS;
	req.members = &mq;
	if (client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY_MEMBERS, NULL, 0,
	    &resp) < 0)
		goto out;
	if (ctx->json || ctx->csv) {
		j = members_json(resp->members);
		if (ctx->csv)
			csvout_json_rows(stdout, json_object_get(j, "members"));
		else
			render_json(j);
		json_decref(j);
	} else {
		members_text(resp->members);
	}
	ret = LCCTL_EXIT_OK;
out:
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	return ret;
}
