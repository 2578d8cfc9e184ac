#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Faults around the store and the admin socket: a data directory whose path is
# too long for a Unix socket, and a disk that fills up during an import.
. "$(dirname "$0")/lib.sh"

# ---- a data directory too long for the admin socket ----
# sockaddr_un holds 108 bytes: DIR/admin.sock must fit in 107 of them.
P=$(tmpdir)
LONG=$P/$(printf 'd%.0s' $(seq 1 110))
init_city "$LONG" "Longville" PT >/dev/null
# Under valgrind, when there is one, a use of freed memory in the shutdown
# that follows the failure is an error (status 99); without it only a crash
# shows.
VG=()
if command -v valgrind >/dev/null 2>&1; then
	VG=(valgrind -q --error-exitcode=99)
fi
expect_status "lcnode on a too-long directory fails cleanly" 1 "${VG[@]}" "$LCNODE" -d "$LONG"
expect_contains "and says the socket path is too long" "$OUT" "longer than a Unix socket path may be"
expect_contains "and what to do" "$OUT" "use a data directory with a shorter path"
expect_eq "no socket is made at a shortened path" 0 "$(find "$P" -maxdepth 1 -type s | wc -l)"
