// SPDX-License-Identifier: Apache-2.0
// lcf-ctl-raw: sends one admin request given as JSON, for tests of what the node checks itself.
//
// Usage: lcf-ctl-raw [--hex] DIR < REQUEST
// REQUEST is a CtlRequest in the JSON form of pbjson.h (proto field names,
// enums by their lower-case names), e.g. {"query": {"areas": ["9.9"]}}; with
// --hex, its serialized bytes in hex, at most 65,535 digits (for values JSON
// cannot name, such as an enum number outside the enum). Its version is set
// here.
// Every response is printed as one JSON line until one comes without `more`.
// Exit 0 when the last response carries no error, 1 when it does, 2 on a
// local problem (bad input, no node). lcctl checks most of what a person
// types before the node sees it; this client sends anything, as any other
// program on the admin socket could.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "control.pb-c.h"
#include "wire/ctlwire.h"
#include "base/error.h"
#include "model/pbjson.h"
#include "model/validate.h"

/* Reads a serialized request given in hex on f. NULL after saying why. */
static Lcf__CtlRequest *
read_hex(FILE *f)
{
	Lcf__CtlRequest *req = NULL;
	unsigned char *bin = NULL;
	char buf[65536];
	size_t n, len = 0;

	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	if (n == sizeof(buf) - 1 && fgetc(f) != EOF) {
		fprintf(stderr, "lcf-ctl-raw: standard input holds more than %zu "
		    "hex digits\n", sizeof(buf) - 1);
		return NULL;
	}
	bin = malloc(n / 2 + 1);
	if (bin == NULL || sodium_hex2bin(bin, n / 2 + 1, buf, n, " \n", &len,
	    NULL) != 0)
		fprintf(stderr, "lcf-ctl-raw: standard input is not hex\n");
	else if ((req = lcf__ctl_request__unpack(NULL, len, bin)) == NULL)
		fprintf(stderr, "lcf-ctl-raw: the bytes are not a CtlRequest\n");
	free(bin);
	return req;
}

int
main(int argc, char **argv)
{
	Lcf__CtlRequest *req = NULL;
	Lcf__CtlResponse *resp = NULL;
	ProtobufCMessage *m = NULL;
	struct verr verr = { 0 };
	json_error_t jerr;
	json_t *in = NULL, *out;
	char err[512], *line;
	int fd = -1, more = 1, ret = 2, rc, hex;

	hex = argc == 3 && strcmp(argv[1], "--hex") == 0;
	if (argc != 2 + hex) {
		fprintf(stderr, "usage: lcf-ctl-raw [--hex] DIR < REQUEST\n");
		return 2;
	}
	if (hex) {
		if ((req = read_hex(stdin)) == NULL)
			goto out;
	} else if ((in = json_loadf(stdin, 0, &jerr)) == NULL) {
		fprintf(stderr, "lcf-ctl-raw: standard input: line %d: %s\n",
		    jerr.line, jerr.text);
		goto out;
	} else if (pbjson_decode(in, &lcf__ctl_request__descriptor, "", &m,
	    &verr) != 0) {
		fprintf(stderr, "lcf-ctl-raw: field %s: %s\n", verr.field, verr.msg);
		goto out;
	} else {
		req = (Lcf__CtlRequest *)m;
	}
	if ((fd = ctlwire_connect(argv[1 + hex], NULL, err, sizeof(err))) < 0) {
		fprintf(stderr, "lcf-ctl-raw: %s\n", err);
		goto out;
	}
	if ((rc = ctlwire_send(fd, req)) != 0) {
		fprintf(stderr, "lcf-ctl-raw: cannot send: %s\n", lcf_strerror(rc));
		goto out;
	}
	while (more) {
		if ((rc = ctlwire_recv(fd, &resp)) != 0) {
			fprintf(stderr, "lcf-ctl-raw: no answer: %s\n", lcf_strerror(rc));
			ret = 2;
			goto out;
		}
		out = pbjson_encode(&resp->base);
		line = json_dumps(out, JSON_COMPACT);
		printf("%s\n", line != NULL ? line : "null");
		free(line);
		json_decref(out);
		more = resp->has_more && resp->more;
		ret = resp->has_error && resp->error != 0 ? 1 : 0;
		lcf__ctl_response__free_unpacked(resp, NULL);
		resp = NULL;
	}
out:
	if (fd >= 0)
		close(fd);
	if (req != NULL)
		lcf__ctl_request__free_unpacked(req, NULL);
	json_decref(in);
	return ret;
}
