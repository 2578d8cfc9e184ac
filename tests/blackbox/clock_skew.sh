#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A node whose clock is behind is told so: records dated more than 10
# minutes ahead of its clock are refused (PROTOCOL 1.3.13), and the refusal,
# the log and status name the clock, the offset and what to check, instead
# of "no membership record for this city" alone. The clock is set 2 hours
# back with libfaketime (the wall clock only: timers keep the real one).
. "$(dirname "$0")/lib.sh"

FAKE=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
if [ ! -r "$FAKE" ]; then
	fail "libfaketime" "$FAKE is missing: install the faketime package"
	exit 1
fi
W=$(tmpdir)
cd "$W" || exit 1
FED=$("$LCCTL" federation create -k fed.key --name "Skewed" 2>/dev/null)
fed_conf="s/^; federation = FEDID/federation = $FED/"
city_node B FI "$fed_conf"

# A: its clock two hours behind.
DA=$(tmpdir)/A
PA=$(free_port)
IDA=$(init_city "$DA" A SE "$PA")
sed -i "$fed_conf" "$DA/lcnode.conf"
LD_PRELOAD=$FAKE FAKETIME="-2h" DONT_FAKE_MONOTONIC=1 \
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	"$LCNODE" -d "$DA" >>"$DA/node.log" 2>&1 &
_nodes+=("$!")
check "the node with a clock 2 h behind starts" wait_for 10 "$LCCTL" -d "$DA" status

for id in "$IDA" "${IDS[B]}"; do
	"$LCCTL" federation admit -k fed.key "$id" --city "City ${id:0:4}" --country SE
done >admits.rec 2>/dev/null
ctl B publish admits.rec >/dev/null
expect_status "A refuses admissions made now by the secretariat's clock" 1 "$LCCTL" -d "$DA" publish admits.rec
expect_contains "the refusal gives the offset and names the clock" "$OUT" "2 h 0 min ahead of this node's clock"
expect_contains "and asks whether it is right, with the limit" "$OUT" "(at most 10 min): is this node's clock right?"

S=$("$LCCTL" -d "$DA" status --json)
expect_contains "status --json: clock_warning counts the records refused and their signers (the federation key)" "$(jq -r .clock_warning <<<"$S")" "2 records from 1 key refused in the last hour"
expect_contains "with the offset" "$(jq -r .clock_warning <<<"$S")" "dated up to 2 h 0 min ahead of this node's clock"
expect_contains "and what to check" "$(jq -r .clock_warning <<<"$S")" "timedatectl"
expect_contains "the membership line points at the clock" "$(jq -r .membership <<<"$S")" "see Clock"
expect_contains "lcctl status shows a Clock line" "$("$LCCTL" -d "$DA" status)" "Clock:"

# B, whose clock is right, took the same admissions: nothing to say.
S=$(ctl B status --json)
expect_eq "B, whose clock is right, has no clock warning" null "$(jq -r .clock_warning <<<"$S")"
expect_eq "and is a member" member "$(jq -r .membership <<<"$S")"
