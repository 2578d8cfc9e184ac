#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Interop test of node/wire/noise.c against the npm noise-protocol package, with the C side as initiator and as responder, and of docs/vectors/ against a second implementation (vectors.js).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CC=${CC:-cc}

fail() {
	echo "not ok - noise interop: $*"
	exit 1
}

command -v node >/dev/null 2>&1 || fail "node is not installed (apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || fail "npm is not installed (apt-get install npm)"
if [ ! -d "$here/node_modules/noise-protocol" ]; then
	(cd "$here" && npm ci --no-audit --no-fund) >&2 ||
	    fail "npm ci failed in $here"
fi

tmp=$(mktemp -d) || fail "mktemp failed"
trap 'rm -rf "$tmp"' EXIT INT TERM

$CC -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
    -Wformat=2 -D_GNU_SOURCE -I"$root/node" -o "$tmp/noise_peer" \
    "$here/noise_peer.c" "$root/node/wire/noise.c" "$root/node/base/error.c" \
    $(pkg-config --cflags --libs libsodium 2>/dev/null || echo -lsodium) ||
    fail "cannot compile noise_peer.c"

passed=0
failed=0
for role in initiator responder; do
	if node "$here/interop.js" "$tmp/noise_peer" "$role"; then
		echo "ok - noise interop C $role"
		passed=$((passed + 1))
	else
		echo "not ok - noise interop C $role"
		failed=$((failed + 1))
	fi
done
# The conformance vectors, checked by noise-protocol and by digests, tables
# and records written in JavaScript from docs/PROTOCOL.md.
if node "$here/vectors.js" "$root/docs/vectors"; then
	echo "ok - docs/vectors checked by a second implementation"
	passed=$((passed + 1))
else
	echo "not ok - docs/vectors checked by a second implementation"
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
