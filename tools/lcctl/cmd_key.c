// SPDX-License-Identifier: Apache-2.0
// lcctl key: rotate the city key (a succession record signed by both keys).
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "core/config.h"
#include "base/error.h"
#include "model/identity.h"
#include "lcctl.h"
#include "base/util.h"
#include "model/validate.h"
#include "base/xmalloc.h"

static const char rotate_usage[] =
    "Usage: lcctl [-d DIR] key rotate [--json]\n"
    "\n"
    "Starts replacing this city's key (a lost laptop, a leaving operator, a key\n"
    "that is simply old). With lcnode running, it makes a new key, writes it as\n"
    "KEY.next beside the key file (mode 0600, never overwritten), and has the\n"
    "node publish a succession record: signed by the current key, carrying the\n"
    "new key's signature of the hand-over. The new secret key never goes to\n"
    "the node. From then on the current key publishes nothing more; every node\n"
    "treats both ids as one city and keeps its history.\n"
    "\n"
    "Then:\n"
    "  1. in a federation, send the new id to the secretariat, which admits it\n"
    "     (`lcctl federation admit`); publish the admission here\n"
    "     (`lcctl publish FILE`);\n"
    "  2. restart lcnode: it switches to the new key (the old one is kept as\n"
    "     KEY.retired-ID; delete it once the new key works).\n"
    "\n"
    "Options:\n"
    "  --json       print the old and new ids and the succession record id\n"
    "  -h, --help   show this help\n";

/* The key file's path from DIR/lcnode.conf (the node's own reading of it). */
static int
key_path(const struct lcctl *ctx, char **out)
{
	struct config cfg;
	char err[1024], *abs = NULL;
	int ret = LCF_ECONFIG;

	memset(&cfg, 0, sizeof(cfg));
	*out = NULL;
	if ((abs = realpath(ctx->dir, NULL)) == NULL) {
		lcctl_err("%s: %s", ctx->dir, strerror(errno));
		goto out;
	}
	if (config_load(&cfg, abs, err, sizeof(err)) != 0) {
		lcctl_err("%s", err);
		goto out;
	}
	*out = xstrdup(cfg.key_path);
	ret = 0;
out:
	config_free(&cfg);
	free(abs);
	return ret;
}

/* Has the node publish the succession from its key to next. */
static int
publish_succession(const struct lcctl *ctx, const uint8_t old[32],
    const struct identity *next, Lcf__CtlResponse **resp)
{
	Lcf__CtlRequest req = LCF__CTL_REQUEST__INIT;
	Lcf__PublishRequest pr = LCF__PUBLISH_REQUEST__INIT;
	Lcf__Content c = LCF__CONTENT__INIT, *cp = &c;
	Lcf__Succession body = LCF__SUCCESSION__INIT;
	uint8_t msg[SUCCESSION_MSG_LEN], sig[IDENTITY_SIG_LEN];
	uint8_t pk[IDENTITY_PK_LEN];

	/* The new key accepts the hand-over from exactly this old key. */
	memcpy(pk, next->pk, sizeof(pk));
	validate_succession_message(old, pk, msg);
	identity_sign(next, msg, sizeof(msg), sig);
	body.has_successor = 1;
	body.successor.data = pk;
	body.successor.len = sizeof(pk);
	body.has_successor_signature = 1;
	body.successor_signature.data = sig;
	body.successor_signature.len = sizeof(sig);
	c.has_kind = 1;
	c.kind = LCF__KIND__KIND_SUCCESSION;
	c.key = "succession";
	c.body_case = LCF__CONTENT__BODY_SUCCESSION;
	c.succession = &body;
	pr.drafts = &cp;
	pr.n_drafts = 1;
	req.op_case = LCF__CTL_REQUEST__OP_PUBLISH;
	req.publish = &pr;
	return client_call(ctx, &req, LCF__CTL_RESPONSE__REPLY_PUBLISH, NULL, 0,
	    resp);
}

static int
key_rotate(struct lcctl *ctx, int argc, char **argv)
{
	Lcf__CtlResponse *st = NULL, *resp = NULL;
	struct identity *next = NULL;
	char *path = NULL, *next_path = NULL, old_hex[LCF_ID_HEX];
	char new_hex[LCF_ID_HEX], rec_hex[LCF_ID_HEX];
	uint8_t old[32];
	json_t *j;
	int ret, rc, written = 0;

	if ((ret = lcctl_simple_opts(ctx, argc, argv, rotate_usage, 1)) >= 0)
		goto out;
	if ((ret = lcctl_args(ctx, argc, argv, NULL, NULL)) != LCCTL_EXIT_OK)
		goto out;
	ret = LCCTL_EXIT_ERR;
	if (sodium_init() < 0) {
		lcctl_err("libsodium cannot be initialised");
		goto out;
	}
	if (key_path(ctx, &path) < 0)
		goto out;
	next_path = xasprintf("%s%s", path, IDENTITY_NEXT_SUFFIX);
	if (access(next_path, F_OK) == 0) {
		lcctl_err("a key rotation is already under way: %s exists. Restart "
		    "lcnode to switch to it (in a federation, once the secretariat "
		    "has admitted it)", next_path);
		goto out;
	}
	if (client_status(ctx, &st) < 0)
		goto out;
	if (!st->status->has_city_id || st->status->city_id.len != 32) {
		lcctl_err("lcnode did not say its city id");
		goto out;
	}
	memcpy(old, st->status->city_id.data, 32);
	if ((next = identity_new()) == NULL) {
		lcctl_err("cannot allocate guarded memory for the key");
		goto out;
	}
	identity_generate(next);
	/* The key is on disk before the old one hands over: a succession to a
	 * key nobody holds would leave the city unable to write. */
	if ((rc = identity_save(next, next_path)) != 0) {
		lcctl_err("cannot write %s: %s", next_path, rc == LCF_EEXIST ?
		    "it exists" : strerror(errno));
		goto out;
	}
	written = 1;
	if (publish_succession(ctx, old, next, &resp) < 0) {
		lcctl_err("the node did not publish the succession; %s is removed "
		    "and the current key stays in use", next_path);
		goto out;
	}
	written = 0;
	hex_encode(old, 32, old_hex);
	hex_encode(next->pk, 32, new_hex);
	if (resp->publish->n_ids > 0 && resp->publish->ids[0].len == 32)
		hex_encode(resp->publish->ids[0].data, 32, rec_hex);
	else
		snprintf(rec_hex, sizeof(rec_hex), "?");
	if (ctx->json) {
		j = json_pack("{s:s, s:s, s:s, s:s, s:I}", "old_id", old_hex,
		    "new_id", new_hex, "record", rec_hex, "next_key", next_path,
		    "seq", (json_int_t)resp->publish->first_seq);
		render_json(j);
		json_decref(j);
	} else {
		printf("Key rotation started.\n"
		    "  old city id:  %s\n"
		    "  new city id:  %s\n"
		    "  new key:      %s (0600)\n"
		    "  succession:   record %s (seq %" PRIu64 ")\n"
		    "\n"
		    "The old key publishes nothing more. Next:\n"
		    "  1. In a federation, send the new city id to the secretariat:\n"
		    "       lcctl federation admit -k FED.key %s --city NAME --country CC\n"
		    "     and publish the admission it sends back here:\n"
		    "       lcctl -d %s publish ADMISSION.jsonl\n"
		    "  2. Restart lcnode. It switches to the new key once the\n"
		    "     admission is stored (an open node switches at once), keeps\n"
		    "     the old key as %s%s%.12s, and republishes the city profile\n"
		    "     under the new key. Delete that file once the new key works.\n",
		    old_hex, new_hex, next_path, rec_hex, resp->publish->first_seq,
		    new_hex, ctx->dir, path, IDENTITY_RETIRED_SUFFIX, old_hex);
	}
	ret = LCCTL_EXIT_OK;
out:
	if (written && unlink(next_path) != 0)
		lcctl_err("cannot remove %s: %s", next_path, strerror(errno));
	identity_free(next);
	if (st != NULL)
		lcf__ctl_response__free_unpacked(st, NULL);
	if (resp != NULL)
		lcf__ctl_response__free_unpacked(resp, NULL);
	free(next_path);
	free(path);
	return ret;
}

static const struct lcctl_cmd key_cmds[] = {
	{ "rotate", key_rotate, "replace the city key: new key, succession record" },
};

int
cmd_key(struct lcctl *ctx, int argc, char **argv)
{
	return lcctl_dispatch(ctx, key_cmds, sizeof(key_cmds) / sizeof(key_cmds[0]),
	    argc, argv);
}
