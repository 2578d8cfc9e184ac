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
# A use of freed memory in the shutdown that follows the failure is an error
# (status 99) under valgrind, when there is one. The freed handle is touched
# inside libuv, which AddressSanitizer does not see, and valgrind cannot run
# an ASan build (make test SANITIZE=1): there only a crash would show.
VG=()
if ! nm "$LCNODE" 2>/dev/null | grep -q __asan_init &&
    command -v valgrind >/dev/null 2>&1; then
	VG=(valgrind -q --error-exitcode=99)
fi
expect_status "lcnode on a too-long directory fails cleanly" 1 "${VG[@]}" "$LCNODE" -d "$LONG"
expect_contains "and says the socket path is too long" "$OUT" "longer than a Unix socket path may be"
expect_contains "and what to do" "$OUT" "use a data directory with a shorter path"
expect_eq "no socket is made at a shortened path" 0 "$(find "$P" -maxdepth 1 -type s | wc -l)"

# ---- a full disk ----
# The database on an 8 MiB tmpfs; the node's log outside it (a log on the full
# disk could not say anything). Filling the disk during an import must fail
# the import cleanly, keep the node answering, and writes resume once space
# is freed.
GEN=$ROOT/$BUILD/lcf-gen
M=$(tmpdir)/disk
mkdir -p "$M"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=8m tmpfs "$M" 2>/dev/null; then
	# Not counted as passed: nothing was checked.
	echo "# the full-disk checks were not run: they need root to mount a tmpfs" >&2
	exit 0
fi
trap 'umount -l "$M" 2>/dev/null; _cleanup' EXIT
W=$(tmpdir)
D=$M/city
init_city "$D" "Fullham" GB >/dev/null
sed -i 's/^map_size = .*/map_size = 64M/' "$D/lcnode.conf"
"$GEN" -n 1500 -s 3 -o "$W/big.json" >/dev/null 2>&1
"$GEN" -n 200 -s 4 -o "$W/small.json" >/dev/null 2>&1
# Keys of their own: lcf-gen numbers every file's keys from 1.
"$GEN" -n 300 -s 5 2>/dev/null | jq 'map(.key |= "more-" + .)' >"$W/more.json"
"$LCNODE" -d "$D" >>"$W/node.log" 2>&1 &
PID=$!
_nodes+=("$PID")
wait_for 10 "$LCCTL" -d "$D" status || fail "lcnode starts on the tmpfs" "$(tail -5 "$W/node.log")"
expect_status "an import while there is room" 0 "$LCCTL" -d "$D" practice import "$W/small.json"
N0=$("$LCCTL" -d "$D" practice list --json --limit 0 | jq length)
# Leave about 256 KiB: less than the big import needs.
avail=$(df --output=avail -k "$M" | tail -1 | tr -d ' ')
dd if=/dev/zero of="$M/filler" bs=1k count=$((avail - 256)) 2>/dev/null
expect_status "an import that fills the disk fails" 1 "$LCCTL" -d "$D" practice import "$W/big.json"
expect_contains "and lcctl says the disk is full" "$OUT" "disk holding the database is full"
check "lcnode is still running" kill -0 "$PID"
expect_contains "the log says what happened and what to do" "$(cat "$W/node.log")" "free some space on that disk"
expect_status "status still answers" 0 "$LCCTL" -d "$D" status
expect_eq "practice list still answers, with the records stored before" "$N0" \
	"$("$LCCTL" -d "$D" practice list --json --limit 0 | jq length)"
rm -f "$M/filler"
expect_status "once space is freed, an import succeeds" 0 "$LCCTL" -d "$D" practice import "$W/more.json"
expect_eq "and its records are there beside the others" "$((N0 + 300))" \
	"$("$LCCTL" -d "$D" practice list --json --limit 0 | jq length)"
kill "$PID"
wait "$PID"
expect_eq "lcnode stops cleanly afterwards" 0 "$?"
