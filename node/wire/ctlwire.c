// SPDX-License-Identifier: Apache-2.0
// Admin-socket framing (4-byte big-endian length + protobuf) and lcctl's blocking client side.
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire/ctlwire.h"
#include "base/error.h"
#include "base/util.h"
#include "base/xmalloc.h"

#define FRAME_HDR 4

int
ctlwire_pack(const ProtobufCMessage *m, uint8_t **buf, size_t *len)
{
	int ret = LCF_ETOOBIG;
	size_t size;
	uint8_t *p;

	*buf = NULL;
	*len = 0;
	size = protobuf_c_message_get_packed_size(m);
	if (size > CTL_MAX_FRAME)
		goto out;
	p = xmalloc_big(FRAME_HDR + size);
	put_be32(p, (uint32_t)size);
	protobuf_c_message_pack(m, p + FRAME_HDR);
	*buf = p;
	*len = FRAME_HDR + size;
	ret = 0;
out:
	return ret;
}

/* Whether dir holds a file named conf_name (a node's configuration). */
static int
is_node_dir(const char *dir, const char *conf_name)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/%s", dir, conf_name);

	return n > 0 && (size_t)n < sizeof(path) && access(path, F_OK) == 0;
}

int
ctlwire_connect(const char *dir, const char *conf_name, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	char path[sizeof(sun.sun_path) + 64];
	int fd = -1, ret = LCF_ECONNECT, n;

	n = snprintf(path, sizeof(path), "%s/%s", dir, CTL_SOCKET_NAME);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	/* sun_path is about 108 bytes: a deep data directory cannot hold the
	 * socket, and silently truncating would reach some other path. */
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path %s/%s is too long (at most %zu "
		    "bytes): use a shorter data directory path", dir,
		    CTL_SOCKET_NAME, sizeof(sun.sun_path) - 1);
		ret = LCF_EINVAL;
		goto out;
	}
	memcpy(sun.sun_path, path, (size_t)n + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto out;
	}
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == ENOENT && conf_name != NULL &&
		    !is_node_dir(dir, conf_name)) {
			snprintf(err, errlen, "%s is not a node directory (no %s "
			    "there): check -d, or set one up with `lcctl -d %s "
			    "init`", dir, conf_name, dir);
		} else if (errno == ENOENT || errno == ECONNREFUSED) {
			snprintf(err, errlen, "cannot reach lcnode at %s: is it "
			    "running? start it with `lcnode -d %s`", path, dir);
		} else if (errno == EACCES || errno == EPERM) {
			snprintf(err, errlen, "permission denied on %s: run lcctl "
			    "as the user that runs lcnode", path);
			ret = LCF_EPERM;
		} else {
			snprintf(err, errlen, "cannot connect to %s: %s", path,
			    strerror(errno));
		}
		goto out;
	}
	ret = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Writes all of buf, across short writes and signals. MSG_NOSIGNAL turns a
 * node that went away into EPIPE instead of killing lcctl with SIGPIPE. */
static int
write_all(int fd, const uint8_t *buf, size_t len)
{
	int ret = LCF_EIO;
	ssize_t n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno == EPIPE || errno == ECONNRESET)
				ret = LCF_ECLOSED;
			goto out;
		}
		buf += n;
		len -= (size_t)n;
	}
	ret = 0;
out:
	return ret;
}

/* Reads exactly len bytes. LCF_ECLOSED when the peer closes first. */
static int
read_all(int fd, uint8_t *buf, size_t len)
{
	int ret = LCF_EIO;
	ssize_t n;

	while (len > 0) {
		n = read(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno == ECONNRESET)
				ret = LCF_ECLOSED;
			goto out;
		}
		if (n == 0) {
			ret = LCF_ECLOSED;
			goto out;
		}
		buf += n;
		len -= (size_t)n;
	}
	ret = 0;
out:
	return ret;
}

int
ctlwire_send(int fd, Lcf__CtlRequest *req)
{
	uint8_t *buf = NULL;
	size_t len;
	int ret;

	req->has_version = 1;
	req->version = CTL_VERSION;
	if ((ret = ctlwire_pack(&req->base, &buf, &len)) < 0)
		goto out;
	ret = write_all(fd, buf, len);
out:
	free(buf);
	return ret;
}

/* Unpacking an answer of megabytes copies its text into memory of its own:
 * huge pages there too (xmalloc.h says why). */
static void *
big_alloc(void *data, size_t size)
{
	(void)data;
	return malloc_big(size);
}

static void
big_free(void *data, void *p)
{
	(void)data;
	free(p);
}

static ProtobufCAllocator big_allocator = { big_alloc, big_free, NULL };

int
ctlwire_recv(int fd, Lcf__CtlResponse **resp)
{
	uint8_t hdr[FRAME_HDR], *buf = NULL;
	Lcf__CtlResponse *r = NULL;
	uint32_t len;
	int ret;

	*resp = NULL;
	if ((ret = read_all(fd, hdr, sizeof(hdr))) < 0)
		goto out;
	len = get_be32(hdr);
	if (len > CTL_MAX_FRAME) {
		ret = LCF_ETOOBIG;
		goto out;
	}
	/* The length comes from the socket: bounded above, and a failed
	 * allocation is reported rather than aborting. */
	if ((buf = malloc_big(len)) == NULL) {
		ret = LCF_ENOMEM;
		goto out;
	}
	if ((ret = read_all(fd, buf, len)) < 0)
		goto out;
	r = lcf__ctl_response__unpack(&big_allocator, len, buf);
	if (r == NULL) {
		ret = LCF_EPROTO;
		goto out;
	}
	if (!r->has_version || r->version != CTL_VERSION) {
		ret = LCF_EVERSION;
		goto out;
	}
	*resp = r;
	r = NULL;
	ret = 0;
out:
	if (r != NULL)
		lcf__ctl_response__free_unpacked(r, NULL);
	free(buf);
	return ret;
}
