// SPDX-License-Identifier: Apache-2.0
// Drafts for a publish: built from options or import files, validated locally, errors traced to their origin.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "lcctl.h"
#include "model/kinds.h"
#include "model/pbjson.h"
#include "model/pbstream.h"
#include "base/util.h"
#include "model/validate.h"
#include "base/xmalloc.h"

/* An import file's problems are listed up to this many, then it stops. */
#define MAX_REPORTED 20

/* The kind of d when lcctl drafts it (a city's own content), else NULL. Its
 * name is the Content member, the prefix of field paths. */
static const struct kinds_def *
kind_info(Lcf__Kind kind)
{
	const struct kinds_def *ki = kinds_by_kind(kind);

	return ki != NULL && (ki->flags & KINDS_CONTENT) ? ki : NULL;
}

/* Positional arguments are named in capitals ("VALUE") and have no option. */
static int
is_positional(const struct optfield *f)
{
	return f->opt[0] >= 'A' && f->opt[0] <= 'Z';
}

/* How messages name a field's option: "--unit", or "VALUE". */
static const char *
dashes(const struct optfield *f)
{
	return is_positional(f) ? "" : "--";
}

struct option *
optfield_longopts(const struct optfield *fields, size_t n,
    const struct option *extra)
{
	struct option *o;
	size_t nextra = 0, i, k = 0;

	while (extra[nextra].name != NULL)
		nextra++;
	o = xcalloc(n + nextra + 1, sizeof(*o));
	for (i = 0; i < n; i++) {
		if (is_positional(&fields[i]))
			continue;
		o[k].name = fields[i].opt;
		o[k].has_arg = required_argument;
		o[k++].val = OPTF_BASE + (int)i;
	}
	memcpy(o + k, extra, nextra * sizeof(*o));
	return o;
}

/* The JSON value of one option argument, or NULL after a usage message. */
static json_t *
option_value(const struct lcctl *ctx, const struct optfield *f, const char *value)
{
	json_t *v = NULL;
	int64_t i;
	double d;

	switch (f->type) {
	case OPTF_INT:
	case OPTF_INT_LIST:
		if (lcctl_parse_i64(value, &i) < 0)
			lcctl_bad_usage(ctx, "%s%s: '%s' is not a whole number",
			    dashes(f), f->opt, value);
		else
			v = json_integer(i);
		break;
	case OPTF_REAL:
		if (lcctl_parse_double(value, &d) < 0)
			lcctl_bad_usage(ctx, "%s%s: '%s' is not a number",
			    dashes(f), f->opt, value);
		else
			v = json_real(d);
		break;
	default:
		if ((v = json_string(value)) == NULL)
			lcctl_bad_usage(ctx, "%s%s: the value is not valid UTF-8",
			    dashes(f), f->opt);
		break;
	}
	return v;
}

int
optfield_apply(const struct lcctl *ctx, json_t *obj,
    const struct optfield *fields, size_t i, const char *value,
    unsigned char *touched)
{
	const struct optfield *f = &fields[i];
	json_t *parent = obj, *child, *v = NULL, *list;
	char name[64], *dot;
	const char *leaf;
	int ret = LCCTL_EXIT_USAGE;

	snprintf(name, sizeof(name), "%s", f->path);
	leaf = name;
	/* Options reach at most one nested message ("contact.name"). */
	if ((dot = strchr(name, '.')) != NULL) {
		*dot = '\0';
		leaf = dot + 1;
		child = json_object_get(obj, name);
		if (!json_is_object(child)) {
			child = json_object();
			json_object_set_new(obj, name, child);
		}
		parent = child;
	}
	if (value[0] == '\0') {
		/* An empty value removes the member. */
		json_object_del(parent, leaf);
		if (parent != obj && json_object_size(parent) == 0)
			json_object_del(obj, name);
		touched[i] = 1;
		ret = LCCTL_EXIT_OK;
		goto out;
	}
	if ((v = option_value(ctx, f, value)) == NULL)
		goto out;
	if (f->type == OPTF_TEXT_LIST || f->type == OPTF_INT_LIST) {
		list = json_object_get(parent, leaf);
		/* The first use replaces the list held, later uses add to it. */
		if (!touched[i] || !json_is_array(list)) {
			list = json_array();
			json_object_set_new(parent, leaf, list);
		}
		json_array_append_new(list, v);
	} else {
		json_object_set_new(parent, leaf, v);
	}
	v = NULL;
	touched[i] = 1;
	ret = LCCTL_EXIT_OK;
out:
	json_decref(v);
	return ret;
}

/* The option that sets a field path ("languages[1]" -> --language). */
static const struct optfield *
option_for(const struct drafts *d, const char *field)
{
	char plain[sizeof(((struct verr *)0)->field)];
	const struct optfield *opt = NULL;
	size_t i, o = 0;
	int skip = 0;

	for (i = 0; field[i] != '\0' && o + 1 < sizeof(plain); i++) {
		if (field[i] == '[')
			skip = 1;
		else if (field[i] == ']')
			skip = 0;
		else if (!skip)
			plain[o++] = field[i];
	}
	plain[o] = '\0';
	for (i = 0; i < d->nopts && opt == NULL; i++)
		if (strcmp(d->opts[i].path, plain) == 0)
			opt = &d->opts[i];
	return opt;
}

void
drafts_error(const struct drafts *d, long index, const char *field,
    const char *msg)
{
	const struct kinds_def *ki = kind_info(d->kind);
	const struct tab_item *it = NULL;
	char where[512] = "", what[160] = "";
	const struct optfield *opt = NULL;
	size_t blen;

	if (field == NULL)
		field = "";
	if (msg == NULL || msg[0] == '\0')
		msg = lcf_strerror(LCF_EVALIDATE);
	/* Paths from validation start at the body ("practice.title"); the file
	 * and the options name the body's own members. */
	blen = ki ? strlen(ki->name) : 0;
	if (ki && strncmp(field, ki->name, blen) == 0 &&
	    (field[blen] == '.' || field[blen] == '\0'))
		field += field[blen] == '.' ? blen + 1 : blen;
	if (d->file != NULL) {
		if (d->loaded && index >= 0 && (size_t)index < d->tab.n)
			it = &d->tab.items[index];
		if (index >= 0 && (size_t)index < d->nlines && d->lines[index] > 0)
			snprintf(where, sizeof(where), "%s: record %ld (line %d): ",
			    d->file, index + 1, d->lines[index]);
		else if (it != NULL && it->line > 0)
			snprintf(where, sizeof(where), "%s: record %ld (line %d): ",
			    d->file, index + 1, it->line);
		else
			snprintf(where, sizeof(where), "%s: record %ld: ", d->file,
			    index + 1);
	}
	if (d->file == NULL && field[0] != '\0')
		opt = option_for(d, field);
	/* The node may already have put the field at the head of its message. */
	if (field[0] != '\0' && strncmp(msg, field, strlen(field)) == 0 &&
	    msg[strlen(field)] == ':')
		field = "";
	if (opt != NULL)
		snprintf(what, sizeof(what), "%s%s: ", dashes(opt), opt->opt);
	else if (field[0] != '\0')
		snprintf(what, sizeof(what), "field %s: ", field);
	lcctl_err("%s%s%s", where, what, msg);
}

static void
origin_error(const void *arg, long index, const char *field, const char *msg)
{
	drafts_error(arg, index, field, msg);
}

void
drafts_origin(const struct drafts *d, struct client_origin *o)
{
	o->fn = origin_error;
	o->arg = d;
	o->n = d->n > d->nlines ? d->n : d->nlines;
}

void
drafts_init(struct drafts *d, Lcf__Kind kind)
{
	memset(d, 0, sizeof(*d));
	d->kind = kind;
}

void
drafts_free(struct drafts *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++)
		lcf__content__free_unpacked(d->v[i], NULL);
	free(d->v);
	d->v = NULL;
	d->n = 0;
	if (d->loaded)
		tab_free(&d->tab);
	d->loaded = 0;
	free(d->lines);
	d->lines = NULL;
	d->nlines = 0;
}

/* Wraps body (taken over) in a draft with key (NULL: the kind's default) and
 * validates it; problems are reported against index. */
static int
wrap_draft(const struct drafts *d, long index, ProtobufCMessage *body,
    const char *key, Lcf__Content **out)
{
	Lcf__Content *c = NULL;
	char keybuf[LCCTL_KEY_MAX];
	struct verr err;
	int ret;

	*out = NULL;
	memset(&err, 0, sizeof(err));
	c = xmalloc(sizeof(*c));
	lcf__content__init(c);
	c->has_kind = 1;
	c->kind = d->kind;
	kinds_set_body(c, kind_info(d->kind), body);
	kinds_default_key(c, keybuf, sizeof(keybuf));
	c->key = xstrdup(key ? key : keybuf);
	if ((ret = validate_content(c, NULL, VALIDATE_DRAFT, &err)) < 0) {
		drafts_error(d, index, err.field, err.msg);
		goto out;
	}
	*out = c;
	c = NULL;
	ret = 0;
out:
	if (c != NULL)
		lcf__content__free_unpacked(c, NULL);
	return ret;
}

/* Builds and validates one draft; problems are reported against index. */
static int
build_draft(const struct drafts *d, long index, json_t *obj, const char *key,
    Lcf__Content **out)
{
	const struct kinds_def *ki = kind_info(d->kind);
	ProtobufCMessage *body = NULL;
	struct verr err;
	int ret = LCF_EINVAL;

	*out = NULL;
	memset(&err, 0, sizeof(err));
	if (ki == NULL)
		goto out;
	if (!json_is_object(obj)) {
		drafts_error(d, index, "", "a record must be a JSON object");
		ret = LCF_EVALIDATE;
		goto out;
	}
	if ((ret = pbjson_decode(obj, ki->body, "", &body, &err)) < 0) {
		drafts_error(d, index, err.field, err.msg);
		goto out;
	}
	ret = wrap_draft(d, index, body, key, out);
out:
	return ret;
}

int
drafts_add_json(struct drafts *d, json_t *obj, const char *key)
{
	Lcf__Content *c;
	int ret;

	if ((ret = build_draft(d, (long)d->n, obj, key, &c)) < 0)
		goto out;
	d->v = xreallocarray(d->v, d->n + 1, sizeof(*d->v));
	d->v[d->n++] = c;
out:
	return ret;
}

struct keyref {
	const char *key;
	size_t index;
};

static int
keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	if (r == 0)
		r = x->index < y->index ? -1 : x->index > y->index;
	return r;
}

/* Two records of one file with one key would overwrite each other in a
 * single publish: name both. Sorting keeps this n log n for big files. */
static int
check_unique_keys(const struct drafts *d)
{
	struct keyref *refs = xcalloc(d->n, sizeof(*refs));
	const struct tab_item *first;
	size_t i, reported = 0;
	char msg[sizeof(((struct verr *)0)->msg)];
	int ret = 0;

	for (i = 0; i < d->n; i++) {
		refs[i].key = d->v[i]->key;
		refs[i].index = i;
	}
	qsort(refs, d->n, sizeof(*refs), keyref_cmp);
	for (i = 1; i < d->n && reported < MAX_REPORTED; i++) {
		if (strcmp(refs[i].key, refs[i - 1].key) != 0)
			continue;
		first = &d->tab.items[refs[i - 1].index];
		if (first->line > 0)
			snprintf(msg, sizeof(msg), "key '%s' is also used by record "
			    "%zu (line %d): give one of them another \"key\"",
			    refs[i].key, refs[i - 1].index + 1, first->line);
		else
			snprintf(msg, sizeof(msg), "key '%s' is also used by record "
			    "%zu: give one of them another \"key\"", refs[i].key,
			    refs[i - 1].index + 1);
		drafts_error(d, (long)refs[i].index, "key", msg);
		reported++;
		ret = LCF_EEXIST;
	}
	free(refs);
	return ret;
}

/* Takes a practice's own "key" member out of the object (it is the record's
 * key, not a body field). *key is NULL when absent; caller frees. */
static int
take_key(const struct drafts *d, long index, json_t *obj, char **key)
{
	const struct kinds_def *ki = kind_info(d->kind);
	json_t *k;
	int ret = 0;

	*key = NULL;
	if (ki == NULL || !(ki->flags & KINDS_FREE_KEY) || !json_is_object(obj))
		goto out;
	if ((k = json_object_get(obj, "key")) == NULL)
		goto out;
	if (!json_is_string(k)) {
		drafts_error(d, index, "key", "must be a string");
		ret = LCF_EVALIDATE;
		goto out;
	}
	*key = xstrdup(json_string_value(k));
	json_object_del(obj, "key");
out:
	return ret;
}

int
drafts_load_rows(struct drafts *d, const char *path, char *err, size_t errlen)
{
	const struct kinds_def *ki = kind_info(d->kind);
	int ret;

	if (ki == NULL)
		return LCF_EINVAL;
	ret = tab_load(path, ki->body, LCCTL_MAX_IMPORT, &d->tab, err, errlen);
	if (ret == 0)
		d->loaded = 1;
	else if (err[0] == '\0')
		snprintf(err, errlen, "%s: %s", path, lcf_strerror(ret));
	return ret;
}

int
drafts_build_record(const struct drafts *d, long index, json_t *obj,
    Lcf__Content **out)
{
	char *key = NULL;
	int ret;

	*out = NULL;
	if ((ret = take_key(d, index, obj, &key)) == 0)
		ret = build_draft(d, index, obj, key, out);
	free(key);
	return ret;
}

int
drafts_build_text(const struct drafts *d, long index, const char *text, size_t len,
    int line, size_t col, Lcf__Content **out, char *errbuf, size_t errlen)
{
	const struct kinds_def *ki = kind_info(d->kind);
	ProtobufCMessage *body = NULL;
	struct pbstream_error err;
	char *key = NULL;
	int ret = LCF_EINVAL;

	*out = NULL;
	if (ki == NULL)
		goto out;
	ret = pbstream_decode(text, len, ki->body,
	    (ki->flags & KINDS_FREE_KEY) ? "key" : NULL, &body, &key, &err);
	if (ret == LCF_EINVAL) {
		/* As tab_stream_next reports a syntax error: where in the file. */
		snprintf(errbuf, errlen, "%s:%d: column %zu: %s", d->file,
		    line + err.line - 1, err.line <= 1 ? col + err.column - 1 :
		    err.column, err.verr.msg);
		goto out;
	}
	if (ret < 0) {
		drafts_error(d, index, err.verr.field, err.verr.msg);
		goto out;
	}
	ret = wrap_draft(d, index, body, key, out);
out:
	free(key);
	return ret;
}

int
drafts_load_file(struct drafts *d, const char *path)
{
	const struct kinds_def *ki = kind_info(d->kind);
	Lcf__Content *c;
	char err[1024] = "", *key = NULL;
	size_t i, failed = 0;
	int ret = LCF_EINVAL;

	d->file = path;
	if (ki == NULL)
		goto out;
	if ((ret = tab_load(path, ki->body, LCCTL_MAX_IMPORT, &d->tab, err,
	    sizeof(err))) < 0) {
		if (err[0] != '\0')
			lcctl_err("%s", err);
		else
			lcctl_err("%s: %s", path, lcf_strerror(ret));
		goto out;
	}
	d->loaded = 1;
	ret = LCF_EINVAL;
	if (d->tab.n == 0) {
		lcctl_err("%s: no records", path);
		goto out;
	}
	/* A kind with one fixed key has one record per city. */
	if (ki->fixed_key != NULL && d->tab.n != 1) {
		lcctl_err("%s: a %s is one record, this file has %zu", path, ki->noun,
		    d->tab.n);
		goto out;
	}
	d->v = xcalloc(d->tab.n, sizeof(*d->v));
	for (i = 0; i < d->tab.n && failed < MAX_REPORTED; i++) {
		if (take_key(d, (long)i, d->tab.items[i].obj, &key) < 0 ||
		    build_draft(d, (long)i, d->tab.items[i].obj, key, &c) < 0) {
			failed++;
		} else if (failed == 0) {
			d->v[d->n++] = c;
		} else {
			/* Nothing will be sent: only keep looking for errors. */
			lcf__content__free_unpacked(c, NULL);
		}
		free(key);
		key = NULL;
	}
	if (failed >= MAX_REPORTED && i < d->tab.n)
		lcctl_err("%s: stopped after %d records with errors", path,
		    MAX_REPORTED);
	if (failed > 0) {
		ret = LCF_EVALIDATE;
		goto out;
	}
	if ((ret = check_unique_keys(d)) < 0)
		goto out;
	ret = 0;
out:
	return ret;
}

int
drafts_publish(const struct lcctl *ctx, struct drafts *d,
    Lcf__CtlResponse **reply)
{
	Lcf__PublishRequest pr = LCF__PUBLISH_REQUEST__INIT;
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	struct client_origin o;

	pr.n_drafts = d->n;
	pr.drafts = d->v;
	req.op_case = LCF__CTL_REQUEST__OP_PUBLISH;
	req.publish = &pr;
	drafts_origin(d, &o);
	return client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY_PUBLISH, &o, 0,
	    reply);
}

/* 0 when this city may remove the record: it wrote it (under this key, or an
 * earlier key of its line, which the node names as the record's city) and it
 * is not removed already. Else says why and returns a negative code. */
static int
check_removable(const struct lcctl *ctx, const char *noun, const char *ref,
    const Lcf__RecordItem *it, const Lcf__Content *content)
{
	Lcf__CtlResponse *st = NULL;
	const Lcf__StatusReply *s;
	char author[13];
	int ret;

	if ((ret = client_status(ctx, &st)) < 0)
		goto out;
	s = st->status;
	ret = LCF_EPERM;
	if (!content->has_author || !s->has_city_id ||
	    content->author.len != s->city_id.len ||
	    (memcmp(content->author.data, s->city_id.data, s->city_id.len) != 0 &&
	    !(it->has_city_id && it->city_id.len == s->city_id.len &&
	    memcmp(it->city_id.data, s->city_id.data, s->city_id.len) == 0))) {
		lcctl_err("%s %s belongs to city %s (%s): only its author can "
		    "remove it", noun, ref, it->city_name ? it->city_name : "unknown",
		    render_short_id(content->author.data, content->author.len, author));
		goto out;
	}
	if (content->has_deleted && content->deleted) {
		lcctl_err("%s %s is already removed", noun, content->key ?
		    content->key : ref);
		ret = LCF_ENOTFOUND;
		goto out;
	}
	ret = 0;
out:
	if (st != NULL)
		lcf__ctl_response__free_unpacked(st, NULL);
	return ret;
}

int
drafts_remove(const struct lcctl *ctx, Lcf__Kind kind, const char *ref,
    const char *noun, char *key, size_t keylen, char *hex)
{
	Lcf__CtlResponse *resp = NULL, *pub = NULL;
	Lcf__Content *content = NULL, *tomb;
	Lcf__RecordItem *it;
	struct drafts d;
	int ret;

	drafts_init(&d, kind);
	ret = client_get(ctx, ref, kind, CLIENT_QUIET_NOTFOUND, &resp);
	if (ret == LCF_ENOTFOUND)
		lcctl_err("this city has no %s '%s' (give its key, or a record id "
		    "or a unique prefix of at least 6 hex digits)", noun, ref);
	if (ret < 0)
		goto out;
	it = resp->query->items[0];
	if ((ret = client_item_content(it, &content)) < 0 ||
	    (ret = check_removable(ctx, noun, ref, it, content)) < 0)
		goto out;
	tomb = xmalloc(sizeof(*tomb));
	lcf__content__init(tomb);
	tomb->has_kind = 1;
	tomb->kind = kind;
	tomb->key = xstrdup(content->key ? content->key : "");
	tomb->has_deleted = 1;
	tomb->deleted = 1;
	d.v = xcalloc(1, sizeof(*d.v));
	d.v[d.n++] = tomb;
	if ((ret = drafts_publish(ctx, &d, &pub)) < 0)
		goto out;
	snprintf(key, keylen, "%s", tomb->key);
	if (pub->publish->n_ids > 0)
		render_id(pub->publish->ids[0].data, pub->publish->ids[0].len, hex);
	else
		snprintf(hex, LCF_ID_HEX, "?");
out:
	lcf__content__free_unpacked(content, NULL);
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	if (pub != NULL)
		lcf__ctl_response__free_unpacked(pub, NULL);
	drafts_free(&d);
	return ret;
}
