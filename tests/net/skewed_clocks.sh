#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Skewed clocks (libfaketime): Fast runs 2 hours ahead, Slow 2 hours behind,
# beside two honest nodes. docs/PROTOCOL.md 1.3.2 and 3.5: a record dated more
# than 10 minutes ahead of the receiver's clock is refused and the connection
# kept; it is accepted once the receiver's clock has caught up. There is no
# lower bound, so old dates pass. README: the refusal names the offset and
# `status` has a Clock line.
. "$(dirname "$0")/lib.sh"

net_setup 4 || { fail "network namespaces" "setup failed"; exit 1; }
net_node Honest1 1 || exit 1
net_node Honest2 2 || exit 1
# Monotonic time stays true: only the wall clock is skewed. Under ASan
# (make test SANITIZE=1) libfaketime comes before ASan's runtime in the
# library list, which ASan refuses unless told the order does not matter.
FAKE_ENV=(DONT_FAKE_MONOTONIC=1 "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
net_node Fast 3 "" env "${FAKE_ENV[@]}" faketime -f +2h || exit 1
net_node Slow 4 "" env "${FAKE_ENV[@]}" faketime -f -2h || exit 1
for n in Honest2 Fast Slow; do
	ctl "$n" peer add "${IP[Honest1]}:$NET_PORT" --id "${IDS[Honest1]}" >/dev/null
done
for n in Fast Slow; do
	ctl "$n" peer add "${IP[Honest2]}:$NET_PORT" --id "${IDS[Honest2]}" >/dev/null
done
# At least: discovery may add a link between Fast and Slow.
links() { [ "$(ctl "$1" status --json | jq .peers_connected)" -ge "$2" ]; }
check "Fast and Slow link with both honest nodes" wait_for 20 eval 'links Fast 2 && links Slow 2 && links Honest1 3'

for n in Honest1 Honest2 Fast Slow; do publish "$n" "Clock test by $n"; done
key() { ctl "$1" practice list --json --limit 0 | jq -r --arg c "${IDS[$1]}" '.[] | select(.city == $c) | .key'; }
check "the honest nodes share their records" wait_for 20 eval "has_practice Honest2 clock-test-by-honest1 && has_practice Honest1 clock-test-by-honest2"
# Every node reconciles with every peer, so nothing still in flight is missed.
for n in Fast Slow Honest2; do
	ctl "$n" peer sync "${IDS[Honest1]:0:12}" >/dev/null 2>&1
done
sleep 1

# A record 2 h ahead: refused by the honest nodes, and by Slow (4 h ahead).
check "Honest1 refuses Fast's record (2 h ahead)" lacks_practice Honest1 clock-test-by-fast
check "Honest2 refuses Fast's record (2 h ahead)" lacks_practice Honest2 clock-test-by-fast
check "Slow refuses the honest records (2 h ahead of its clock)" lacks_practice Slow clock-test-by-honest1
# No lower bound: old dates pass.
check "Fast takes the honest records (in its past)" has_practice Fast clock-test-by-honest1
check "Fast takes Slow's record (4 h in its past)" has_practice Fast clock-test-by-slow
check "the honest nodes take Slow's record (2 h old)" has_practice Honest1 clock-test-by-slow
# Refusals for the date keep the connection.
check "Fast stays linked" links Fast 2
check "Slow stays linked" links Slow 2
expect_eq "no link was dropped for a date" "x" "$(grep -h 'disconnected' "${DIRS[Fast]}/node.log" "${DIRS[Slow]}/node.log" "${DIRS[Honest1]}/node.log")x"
w=$(ctl Honest1 status --json | jq -r '.clock_warning // empty')
echo "# Honest1's Clock line: $w"
expect_contains "Honest1's status names the offset of Fast's records" "$w" "2 h"
w=$(ctl Slow status --json | jq -r '.clock_warning // empty')
echo "# Slow's Clock line: $w"
# Slow refuses Fast's records too (4 h ahead of it, found by discovery).
expect_contains "Slow's status names the offset of the records it refused" "$w" "h 0 min ahead of this node's clock"
expect_contains "the refusal is logged with a hint to check the clock" \
	"$(cat "${DIRS[Honest1]}/node.log")" "clock right?"
