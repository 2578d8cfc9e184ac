#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A large reconciliation in one go: an empty node pulls 60,000 practices of one
# author from its peer in one session, with real lcnodes (issue 13, defect 7).
#
# The count is close to the smallest that shows the old stall: lcf-gen's
# practices are about 1,160 bytes signed, so a Records batch (2 MiB) holds
# about 1,800 of them and a full window of 32 batches, sent in one go, is
# 57,666 records (64.2 MiB on the wire, past the connection's 64 MiB queue).
# The sender's next message was then refused and its session died silently;
# the puller sat at 57,666 records until its own session timed out after 60 s.
# 58,000 stalled as well, 50,000 (a window never full) did not; smaller
# records fill a batch's 4,096 before its 2 MiB, larger ones leave it short.
# It takes about 10 s (import 5 s, transfer 5 s).
# lcf-test: alone (it measures memory or time, or works both cores hard)
. "$(dirname "$0")/lib.sh"

NREC=${SYNC_LARGE_RECORDS:-60000}
LIMIT=${SYNC_LARGE_LIMIT:-30}    # seconds; the no-progress timeout is 60
GEN=$ROOT/$BUILD/lcf-gen

total() {
	ctl "$1" status --json 2>/dev/null | jq -r '.records_total // 0'
}

city_node Big SE 's/^log_level = .*/log_level = debug/'
city_node Empty NO 's/^log_level = .*/log_level = debug/'
"$GEN" -n "$NREC" -s 7 -o "$_root/practices.json"
expect_status "import of $NREC practices" 0 "$LCCTL" -d "${DIRS[Big]}" \
    practice import "$_root/practices.json"
want=$(total Big)
check "Big holds the practices" [ "${want:-0}" -ge "$NREC" ]

start=$SECONDS
expect_status "peer add" 0 "$LCCTL" -d "${DIRS[Empty]}" peer add \
    "127.0.0.1:${PORTS[Big]}"
all_arrived() { [ "$(total Empty)" -ge "$want" ]; }
if wait_for "$LIMIT" all_arrived; then
	ok "every record arrived within $LIMIT s ($((SECONDS - start)) s)"
else
	fail "every record arrived within $LIMIT s" \
	    "Empty holds $(total Empty) of $want records"
fi
# One session did it: the initiator reports the sets equal.
in_sync() { grep -q 'sync [0-9a-f]* (initiator): in sync: received' \
    "${DIRS[Empty]}/node.log"; }
check "one reconciliation brought the sets in sync" wait_for 10 in_sync
log=$(cat "${DIRS[Empty]}/node.log" "${DIRS[Big]}/node.log")
case $log in
*"no progress"* | *"sending to the peer failed"*)
	fail "no session stalled or died" "$(grep -h -e 'no progress' \
	    -e 'sending to the peer failed' "${DIRS[Empty]}/node.log" \
	    "${DIRS[Big]}/node.log" | head -3)" ;;
*) ok "no session stalled or died" ;;
esac

# Big had not reconciled since it started either: Empty's session, which
# takes and gives both ways, catches it up, and Big starts none of its own
# beside it (two sessions side by side had Big send every record twice: the
# puller's CPU per record 1.7 times as much; one started a second after
# Empty's ended still sent 0.9% to 43% again, the records on their way to
# Empty's store, the more the slower the machine).
big_caught_up() { grep -q "caught up through the reconciliation it started" \
    "${DIRS[Big]}/node.log"; }
check "Empty's reconciliation caught Big up" wait_for 10 big_caught_up
out=$(ctl Big peer list --json | jq '.[0].records_out')
check "every record crossed once: Big sent $out records for $want" \
    test "${out:-0}" -ge "$want" -a "${out:-0}" -le $((want + 10))
check "Big started no reconciliation of its own on that link" test \
    "$(ctl Big peer list --json | jq '.[0].last_sync_ms')" = null
