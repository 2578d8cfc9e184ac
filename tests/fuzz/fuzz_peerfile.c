// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the peer table file (DIR/peers.json) as peerfile_load reads
// it at start-up, and the addresses in it through peerfile_parse_address.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "net/peerfile.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peer_saved *peers = NULL;
	char path[64], err[512], addr[PEER_ADDR_MAX], host[PEERFILE_HOST_MAX];
	size_t count = 0, i;
	uint16_t port;
	int fd;

	if ((fd = memfd_create("peers", 0)) < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (peerfile_load(path, &peers, &count, err, sizeof(err)) == 0) {
			for (i = 0; i < count; i++)
				(void)peerfile_parse_address(peers[i].address, addr,
				    host, &port);
			free(peers);
		}
	}
	close(fd);
	return 0;
}
