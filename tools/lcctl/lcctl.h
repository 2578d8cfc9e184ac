/* SPDX-License-Identifier: Apache-2.0 */
/* Declarations shared by the files of lcctl: context, commands, client, drafts, output. */
#ifndef LCCTL_H
#define LCCTL_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "control.pb-c.h"
#include "lcf.pb-c.h"
#include "model/tabular.h"

/* Exit statuses of lcctl and of every command function. */
enum {
	LCCTL_EXIT_OK = 0,
	LCCTL_EXIT_ERR = 1,      /* the request failed: the reason was printed */
	LCCTL_EXIT_USAGE = 2,    /* bad command line: the usage was printed */
};

/* The data directory of the packaged node (Debian package, user lcf): the
 * default when neither -d nor LCF_DIR is given and it exists. */
#define LCCTL_SYSTEM_DIR "/var/lib/lcf"

/* Largest import file read into memory. */
#define LCCTL_MAX_IMPORT (256u << 20)
/* Longest record key (validate.c refuses longer), plus its NUL. */
#define LCCTL_KEY_MAX 201

/* What every command sees. */
struct lcctl {
	const char *dir;         /* data directory (-d or $LCF_DIR), or NULL */
	int json;                /* --json given to the current command */
	int csv;                 /* --csv given to it (csvout.h) */
	char name[64];           /* "lcctl practice add", for messages and getopt */
};

/* A command table entry. fn gets the arguments from its own name on
 * (argv[0] is replaced by ctx->name) and returns an LCCTL_EXIT_ status. */
struct lcctl_cmd {
	const char *name;
	int (*fn)(struct lcctl *ctx, int argc, char **argv);
	const char *help;
};

/* cli.c: dispatch, usage and option values. */

/* Prints "  NAME  help" for each of the n entries of cmds, names aligned. */
void lcctl_print_table(FILE *out, const struct lcctl_cmd *cmds, size_t n);
/* The entry of cmds named name, or NULL. */
const struct lcctl_cmd *lcctl_find(const struct lcctl_cmd *cmds, size_t n,
    const char *name);
/* Calls cmd with "PREFIX NAME" as argv[0] and ctx->name, so that getopt's
 * messages and ours name the whole command, and getopt starts afresh. */
int lcctl_run(struct lcctl *ctx, const struct lcctl_cmd *cmd, const char *prefix,
    int argc, char **argv);
/* Runs the subcommand argv[1] of group argv[0] from table cmds. */
int lcctl_dispatch(struct lcctl *ctx, const struct lcctl_cmd *cmds, size_t n,
    int argc, char **argv);
/* Prints usage (stdout for status 0, else stderr) and returns status. */
int lcctl_usage(const char *usage, int status);
/* Prints "NAME: message" and a hint to -h on stderr; returns LCCTL_EXIT_USAGE. */
int lcctl_bad_usage(const struct lcctl *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "lcctl: message" on stderr. */
void lcctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* LCCTL_EXIT_OK when a data directory is known, else says how to give one and
 * returns LCCTL_EXIT_USAGE. */
int lcctl_need_dir(const struct lcctl *ctx);
/* Handles a getopt_long result common to every command ('h', '?', ':'):
 * returns the exit status to leave with, or -1 when c is not one of them. */
int lcctl_common_opt(int c, const char *usage);
/* Parses the options of a command that takes only -h and, with json, --json
 * (setting ctx->json). Returns -1 to go on, else the exit status. */
int lcctl_simple_opts(struct lcctl *ctx, int argc, char **argv,
    const char *usage, int json);
/* The same for a list that also takes --csv (setting ctx->csv; not both). */
int lcctl_list_opts(struct lcctl *ctx, int argc, char **argv,
    const char *usage);
/* An option of a view command (coverage, partners, report, ...): --OPT VALUE
 * (has_arg) or the flag --OPT sets member (OPT when NULL) of the view's
 * arguments to VALUE, or to value ("true" when NULL). */
struct lcctl_viewopt {
	const char *opt;
	int has_arg;
	const char *member;
	const char *value;
};
/* Parses a view command's options: the n of opts into args, --json, --csv
 * when csv, -h; then checks the arguments as lcctl_args does (none may
 * follow). Returns -1 to go on, else the exit status. */
int lcctl_view_opts(struct lcctl *ctx, int argc, char **argv, const char *usage,
    const struct lcctl_viewopt *opts, size_t n, int csv, json_t *args);
/* After the options: LCCTL_EXIT_OK when no argument follows (what == NULL) or
 * exactly one does (what names it), and a data directory is known; else says
 * what is wrong and returns LCCTL_EXIT_USAGE (also for --json with --csv). */
int lcctl_args(const struct lcctl *ctx, int argc, char **argv, const char *what,
    const char *usage);
/* Strict numbers: the whole string, in range, finite. 0 or LCF_EINVAL. */
int lcctl_parse_u64(const char *s, uint64_t max, uint64_t *out);
int lcctl_parse_i64(const char *s, int64_t *out);
int lcctl_parse_double(const char *s, double *out);

/* draft.c: drafts built from options or import files, validated locally. */

enum optfield_type {
	OPTF_TEXT,           /* JSON string */
	OPTF_INT,            /* JSON integer */
	OPTF_REAL,           /* JSON number */
	OPTF_TEXT_LIST,      /* repeatable: JSON array of strings */
	OPTF_INT_LIST,       /* repeatable: JSON array of integers */
};

/* A long option that sets one member of a record body. An opt in capitals
 * ("VALUE") stands for a positional argument: it gets no long option, and
 * messages name it as written. */
struct optfield {
	const char *opt;         /* long option name without dashes */
	const char *path;        /* member, "contact.name" for a nested one */
	enum optfield_type type;
};

/* getopt_long values of optfield options are OPTF_BASE + table index. */
#define OPTF_BASE 1000

/* Builds a NULL-terminated long option table: every field of fields, then
 * extra (terminated by a zero entry). Caller frees. */
struct option *optfield_longopts(const struct optfield *fields, size_t n,
    const struct option *extra);
/* Sets member fields[i] of obj from an option value. A repeatable option's
 * first use replaces the list, later uses append; an empty value removes the
 * member. touched has one byte per field. Returns 0, or LCCTL_EXIT_USAGE after
 * printing why the value is malformed. */
int optfield_apply(const struct lcctl *ctx, json_t *obj,
    const struct optfield *fields, size_t i, const char *value,
    unsigned char *touched);

/* Drafts for one PublishRequest and where each came from, for messages. */
struct drafts {
	Lcf__Kind kind;
	Lcf__Content **v;            /* owned */
	size_t n;
	const char *file;            /* import file, or NULL */
	struct tab_file tab;         /* the loaded file: v[i] is tab.items[i] */
	int loaded;                  /* tab is set */
	const struct optfield *opts; /* options the drafts were built from */
	size_t nopts;
	int *lines;                  /* streamed import: line of each record
	                              * read (0 if unknown); owned */
	size_t nlines;
};

void drafts_init(struct drafts *d, Lcf__Kind kind);
void drafts_free(struct drafts *d);
/* Decodes a body of d's kind from obj, wraps it in a draft with key (NULL: the
 * kind's default key), validates it and appends it. On a problem prints it
 * against draft index d->n and returns LCF_EVALIDATE. */
int drafts_add_json(struct drafts *d, json_t *obj, const char *key);
/* Loads an import file of d's kind (practices may carry a "key" member),
 * validates every record and checks keys are unique. Prints every problem
 * (file, record, line, field) and returns a negative code if any. */
int drafts_load_file(struct drafts *d, const char *path);
/* Loads the rows of an import file (JSON or CSV, tabular.h) into d->tab
 * without building drafts. On error err says why. 0 or a negative code. */
int drafts_load_rows(struct drafts *d, const char *path, char *err,
    size_t errlen);
/* Builds and validates the draft of import record index (0-based) from obj; a
 * practice's "key" member is taken out as its key. Problems are printed against
 * the record. 0 or a negative code; *out is freed with
 * lcf__content__free_unpacked. */
int drafts_build_record(const struct drafts *d, long index, json_t *obj,
    Lcf__Content **out);
/* The same from the JSON text of one record (an object, len bytes) that
 * starts at line, byte column col of d->file, parsed straight into the draft
 * (pbstream.h). A syntax error is not printed but written into errbuf as
 * "FILE:LINE: column C: message" and returned as LCF_EINVAL: the file cannot
 * be read on. */
int drafts_build_text(const struct drafts *d, long index, const char *text, size_t len,
    int line, size_t col, Lcf__Content **out, char *errbuf, size_t errlen);
/* Prints "lcctl: ORIGIN: field F: msg" for draft index; field may be empty. */
void drafts_error(const struct drafts *d, long index, const char *field,
    const char *msg);
/* Fills o so that the node's errors about d's records go to drafts_error; o
 * refers to d and holds the records d has now. */
struct client_origin;
void drafts_origin(const struct drafts *d, struct client_origin *o);
/* Sends the drafts in one PublishRequest. On success *reply is the node's
 * answer (free with lcf__ctl_response__free_unpacked). */
int drafts_publish(const struct lcctl *ctx, struct drafts *d,
    Lcf__CtlResponse **reply);
/* Removes one of this city's records: the current version of kind under ref
 * (a key in this city's namespace, a record id or a unique prefix) must be
 * this city's and not removed already; a signed tombstone replaces it. noun
 * names the kind in messages. On success key holds the record's key and hex
 * (LCF_ID_HEX bytes) the tombstone's id. Prints any failure; 0 or a negative code. */
int drafts_remove(const struct lcctl *ctx, Lcf__Kind kind, const char *ref,
    const char *noun, char *key, size_t keylen, char *hex);
/* import.c: `KIND import FILE`: reads, validates and sends the file's records
 * in chunks of one streamed import (one transaction in the node) and reports
 * the count ("imported 3 practices ..."). Returns an exit status. */
int drafts_import_command(struct lcctl *ctx, int argc, char **argv, Lcf__Kind kind,
    const char *usage, const char *noun, const char *nouns);

/* client.c: requests to the node. Every function prints its failure as one
 * "lcctl: ..." line and returns a negative code. */

enum {
	CLIENT_QUIET_NOTFOUND = 1 << 0,   /* LCF_ENOTFOUND is returned unprinted */
};

struct client {
	int fd;
};

/* Where the records of a request came from, so that the node's error about
 * record index (below n) is printed against it by fn(arg, ...). */
struct client_origin {
	void (*fn)(const void *arg, long index, const char *field, const char *msg);
	const void *arg;
	size_t n;
};

int client_open(const struct lcctl *ctx, struct client *c);
int client_send(struct client *c, Lcf__CtlRequest *req);
/* Reads one response; node errors are printed (publish errors against
 * origin when given) and returned. */
int client_recv(struct client *c, const struct client_origin *origin, unsigned flags,
    Lcf__CtlResponse **resp);
void client_close(struct client *c);
/* One request, one answer of reply case expect; streamed query chunks are
 * merged into the first response. */
int client_call(const struct lcctl *ctx, Lcf__CtlRequest *req,
    Lcf__CtlResponse__ReplyCase expect, const struct client_origin *origin,
    unsigned flags, Lcf__CtlResponse **resp);
/* GetRequest{ref, kind, city}. On success *resp holds at least one item. */
int client_get(const struct lcctl *ctx, const char *ref, Lcf__Kind kind,
    unsigned flags, Lcf__CtlResponse **resp);
int client_status(const struct lcctl *ctx, Lcf__CtlResponse **resp);
/* Runs the node's view name (node/view/view.h) with args (a JSON object of
 * strings or lists of strings): *out the view's JSON (new reference). 0, or a
 * negative code once the reason was printed. */
int client_view(const struct lcctl *ctx, const char *name, const json_t *args,
    json_t **out);
/* Runs the view and prints its JSON as render_json does (the node indents
 * it; lcctl does not parse it). 0, or a negative code once printed. */
int client_view_print(const struct lcctl *ctx, const char *name,
    const json_t *args);
/* Decodes a returned item's content (the node verified it); checks the id is
 * 32 bytes. *c is freed with lcf__content__free_unpacked. */
int client_item_content(const Lcf__RecordItem *it, Lcf__Content **c);
/* Sends a query; on success *resp is the (merged) answer and *contents[i] the
 * decoded content of resp->query->items[i], freed with client_contents_free(
 * contents, resp->query->n_items). Errors are printed; returns 0 or < 0. */
int client_query(const struct lcctl *ctx, Lcf__QueryRequest *q,
    Lcf__CtlResponse **resp, Lcf__Content ***contents);
void client_contents_free(Lcf__Content **contents, size_t n);

/* render.c: human output. */

struct table;

enum {
	COL_FLEX = 1 << 0,    /* may be shortened with "…" to fit a terminal */
	COL_RIGHT = 1 << 1,   /* right-aligned (numbers) */
};

struct table_col {
	const char *name;
	unsigned flags;
};

struct table *table_new(const struct table_col *cols, size_t ncols);
/* Adds a row of ncols cells (NULL prints as empty); the cells are copied. */
void table_add(struct table *t, const char *const *cells);
/* Leaves column col out when the table is printed. */
void table_hide(struct table *t, size_t col);
size_t table_rows(const struct table *t);
/* Prints aligned columns; on a terminal, flexible columns are shortened to
 * the width (COLUMNS or the tty's), otherwise nothing is cut. */
void table_print(const struct table *t, FILE *out);
void table_free(struct table *t);

/* Terminal width of stdout, or 0 when stdout is not a terminal. */
int render_width(void);
/* A copy of s safe to print: control characters become spaces (data comes
 * from other cities and must not drive the terminal). Caller frees. */
char *render_clean(const char *s);
/* First 12 hex digits of an id (out: 13 bytes). */
char *render_short_id(const uint8_t *id, size_t len, char *out);
/* 64 hex digits of a 32-byte id (out: 65 bytes); "?" for another length. */
char *render_id(const uint8_t *id, size_t len, char *out);
/* "2025-11-21" (UTC) of Unix milliseconds. */
char *render_date(int64_t ms, char *out, size_t max);
/* "2025-11-21 10:22 UTC". */
char *render_time(int64_t ms, char *out, size_t max);
/* "3h 12m", "2d 4h", "42s". */
char *render_duration(uint64_t ms, char *out, size_t max);
/* "12.3 MiB", "8.0 GiB". */
char *render_size(uint64_t bytes, char *out, size_t max);
/* "Label:  value" with value wrapped to the terminal (or 80 columns). */
void render_field(FILE *out, const char *label, const char *value);
/* Every member of a record body, one render_field each, in body order. */
void render_body(FILE *out, const json_t *body);
/* The body of a content as JSON (new reference), or NULL for a tombstone. */
json_t *render_body_json(const Lcf__Content *c);
/* A record's envelope (id, key, city, time) and then its body's fields. */
void render_record(FILE *out, const Lcf__RecordItem *it, const Lcf__Content *c);
/* Pretty JSON and a newline on stdout. */
void render_json(const json_t *j);
/* Query answers as one JSON array of record objects (pbjson_record). */
void render_items_json(const Lcf__QueryReply *q, Lcf__Content *const *contents);
/* One record: its JSON form with --json, else the readable view. */
void render_item(const struct lcctl *ctx, const Lcf__RecordItem *it,
    const Lcf__Content *c);

/* Command groups, one per cmd_*.c file. */
int cmd_init(struct lcctl *ctx, int argc, char **argv);
int cmd_status(struct lcctl *ctx, int argc, char **argv);
int cmd_city(struct lcctl *ctx, int argc, char **argv);
int cmd_practice(struct lcctl *ctx, int argc, char **argv);
int cmd_indicator(struct lcctl *ctx, int argc, char **argv);
/* lcctl indicator summary (cmd_summary.c). */
int indicator_summary(struct lcctl *ctx, int argc, char **argv);
int cmd_catalog(struct lcctl *ctx, int argc, char **argv);
int cmd_export(struct lcctl *ctx, int argc, char **argv);
int cmd_verify(struct lcctl *ctx, int argc, char **argv);
int cmd_peer(struct lcctl *ctx, int argc, char **argv);
int cmd_publish(struct lcctl *ctx, int argc, char **argv);
int cmd_key(struct lcctl *ctx, int argc, char **argv);
int cmd_members(struct lcctl *ctx, int argc, char **argv);
int cmd_federation(struct lcctl *ctx, int argc, char **argv);
int cmd_coverage(struct lcctl *ctx, int argc, char **argv);
int cmd_federation_status(struct lcctl *ctx, int argc, char **argv);
int cmd_health(struct lcctl *ctx, int argc, char **argv);
int cmd_http(struct lcctl *ctx, int argc, char **argv);
int cmd_report(struct lcctl *ctx, int argc, char **argv);
int cmd_partners(struct lcctl *ctx, int argc, char **argv);
int cmd_backup(struct lcctl *ctx, int argc, char **argv);
int cmd_compact(struct lcctl *ctx, int argc, char **argv);
int cmd_restore(struct lcctl *ctx, int argc, char **argv);
/* cmd_safe.c: the restore state in status (rs may be NULL: not restoring). */
json_t *restore_json(const Lcf__RestoreStatus *rs);
void restore_text(const Lcf__RestoreStatus *rs);

#endif
