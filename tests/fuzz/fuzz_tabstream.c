// SPDX-License-Identifier: Apache-2.0
// Fuzz target: an import file (`lcctl import`, JSON) read one record at a
// time by tab_stream, each record's text then decoded by pbstream into a
// practice as lcctl import does.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lcf.pb-c.h"
#include "model/pbstream.h"
#include "model/tabular.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tab_stream *ts;
	struct pbstream_error perr;
	ProtobufCMessage *m;
	const char *text;
	char err[512], *key;
	size_t len, col;
	int fd, line, records = 0;

	if ((fd = memfd_create("import", 0)) < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return 0;
	}
	if ((ts = tab_stream_fd(fd, "import.json", 1u << 20)) == NULL)
		return 0;
	while (records++ < 64 && tab_stream_next_text(ts, &text, &len, &line,
	    &col, err, sizeof(err)) == 0 && text != NULL) {
		m = NULL;
		key = NULL;
		if (pbstream_decode(text, len, &lcf__practice__descriptor, "key",
		    &m, &key, &perr) == 0)
			protobuf_c_message_free_unpacked(m, NULL);
		free(key);
	}
	tab_stream_close(ts);
	return 0;
}
