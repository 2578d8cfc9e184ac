#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# lcctl federation status --measure and GET /api/v1/federation/status?measure=true:
# A measures its linked peers with reconciliations that transfer nothing. B and
# C lag behind A (A pushes each new record to one peer only, and nobody
# reconciles again): their rows give exactly the records only A holds and only
# they hold, as their exports show, and measuring moves no record. A node of
# protocol version 2 (commit 4ec577e) is not measured; a member not linked
# keeps the lower bound of its beacon.
. "$(dirname "$0")/lib.sh"

if ! build_old; then
	fail "build the node of commit $OLD_COMMIT" "cannot build it: this test cannot run"
	exit 1
fi
W=$(tmpdir)
cd "$W" || exit 1
FED=$("$LCCTL" federation create -k fed.key --name "Measured" 2>/dev/null)
# One push per new record, and no reconciliation but the first of each link.
conf="s/^; federation = FEDID/federation = $FED/; s/^fanout = .*/fanout = 1/; s/^sync_interval = .*/sync_interval = 86400/"
city_node A SE "$conf"
city_node B FI "$conf"
city_node C NO "$conf"
old_city_node O Oldtown EE "$conf"
for c in A B C O; do
	"$LCCTL" federation admit -k fed.key "${IDS[$c]}" --city "City $c" --country SE
done >admits.rec 2>/dev/null
for c in A B C; do ctl "$c" publish admits.rec >/dev/null; done
"$OLDCTL" -d "${DIRS[O]}" publish admits.rec >/dev/null
for c in B C O; do ctl A peer add "127.0.0.1:${PORTS[$c]}" >/dev/null; done
for c in B C O; do check "A links with $c" wait_for 10 connected A "$c"; done

# ids NODE: every record id it holds, sorted (the old node: by its own lcctl).
ids() {
	local c=$LCCTL
	[ "$1" != O ] || c=$OLDCTL
	"$c" -d "${DIRS[$1]}" export --signed --include-deleted | jq -r .id | sort
}
# truth X: "only-on-A only-on-X", from the two exports.
truth() { echo "$(comm -23 <(ids A) <(ids "$1") | wc -l) $(comm -13 <(ids A) <(ids "$1") | wc -l)"; }
mrow() { jq -c --arg id "${IDS[$2]}" '.items[] | select(.id == $id)' <<<"$1"; }
counts() { mrow "$1" "$2" | jq -r '"\(.measured) \(.apart) \(.only_here) \(.only_there)"'; }
# The first reconciliations (and beacons) settle: B and C measure 0 and 0.
settled() {
	local j
	j=$(ctl A federation status --measure --json) || return 1
	[ "$(counts "$j" B)" = "true exact 0 0" ] && [ "$(counts "$j" C)" = "true exact 0 0" ] &&
	    [ "$(truth B) $(truth C)" = "0 0 0 0" ]
}
# A node's first beacon comes after its first good reconciliation, or 30 s
# after its start; with fanout 1 and the links discovery adds, it may not
# reach A by push. So: every node has published its first beacon, A
# reconciles with B and C, then the sets agree, twice a second apart.
own_beacon() { [ "$(ctl "$1" federation status --json | jq -r '.items[] | select(.self) | .beacon_ms != null')" = true ]; }
for c in A B C; do check "$c has published its first beacon" wait_for 45 own_beacon "$c"; done
settled_still() {
	ctl A peer sync "${IDS[B]}" >/dev/null && ctl A peer sync "${IDS[C]}" >/dev/null &&
	    settled && sleep 1 && settled
}
check "once linked, B and C measure 0 and 0, exactly" wait_for 40 settled_still
expect_eq "as their exports say (B)" "0 0" "$(truth B)"
expect_eq "as their exports say (C)" "0 0" "$(truth C)"

# New records on A: each goes to one of B, C and O, none further.
for i in $(seq 1 12); do publish A "Measured $i"; done
# (Records only a peer holds cannot be made here: A is every peer's only
# link, so it gets them all; tests/unit/test_sync.c measures both ways.)
check "A holds them" wait_for 10 has_practice A measured-12
sleep 1
TB=$(truth B)
TC=$(truth C)
IB=$(ids B | md5sum)
IC=$(ids C | md5sum)
echo "# only on A, only on the peer: B $TB, C $TC"
# Each of the 12 went to one of B, C and O: B and C lack some of them.
check "B and C lag behind A" test "$(( ${TB% *} + ${TC% *} ))" -ge 1
IO=$(ids O | md5sum)

T0=$(date +%s%3N)
J=$(ctl A federation status --measure --json)
expect_eq "B measured exactly as the exports differ" "true exact $TB" "$(counts "$J" B)"
expect_eq "C measured exactly as the exports differ" "true exact $TC" "$(counts "$J" C)"
expect_eq "measured just now" true "$(mrow "$J" C | jq --argjson t "$T0" '.apart_ms >= $t - 1000')"
expect_eq "no measure error" null "$(mrow "$J" C | jq -r .measure_error)"
# The one that lags (discovery may link B and C, and a record can then
# reach one of them by the other: either may end up holding all 12).
if [ "$TC" != "0 0" ]; then LAG=C; TL=$TC; else LAG=B; TL=$TB; fi
expect_eq "a differing measure says the sets differ ($LAG)" false "$(mrow "$J" "$LAG" | jq -r .agrees)"
expect_eq "A's own row carries no distance" "false null" "$(mrow "$J" A | jq -r '"\(.measured) \(.apart)"')"
RO=$(mrow "$J" O)
expect_eq "the version-2 node is not measured" "false null" "$(jq -r '"\(.measured) \(.measure_error)"' <<<"$RO")"
expect_eq "its records unchanged (nothing was offered it)" "$IO" "$(ids O | md5sum)"
check "and its link stays up" connected A O

TXT=$(ctl A federation status --measure)
expect_contains "the text gives $LAG's distance" "$TXT" "apart: ${TL% *} here only, ${TL#* } there only (measured"
CSV=$(ctl A federation status --measure --csv)
expect_contains "the CSV has the columns" "$(head -1 <<<"$CSV")" "only_here"
J2=$(ctl A federation status --json)
expect_eq "without --measure nothing is measured" false "$(mrow "$J2" C | jq -r .measured)"

URL=$(http_url "${DIRS[A]}")
H=$(curl -sf "$URL/api/v1/federation/status?measure=true")
expect_eq "HTTP: B measured exactly" "true exact $TB" "$(counts "$H" B)"
expect_eq "HTTP: C measured exactly" "true exact $TC" "$(counts "$H" C)"
expect_eq "HTTP: HEAD waits for the probes too" 200 "$(curl -s -o /dev/null -I -w '%{http_code}' "$URL/api/v1/federation/status?measure=true")"
expect_eq "HTTP: a bad measure is refused" 400 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/federation/status?measure=maybe")"
expect_contains "the problem names the parameter" "$(curl -s "$URL/api/v1/federation/status?measure=maybe")" '"measure"'

# Measuring moved nothing: the lagging nodes hold what they held.
expect_eq "B's records unchanged by measuring" "$IB" "$(ids B | md5sum)"
expect_eq "C's records unchanged by measuring" "$IC" "$(ids C | md5sum)"
expect_eq "and still lag by as much (B)" "$TB" "$(truth B)"
expect_eq "and still lag by as much (C)" "$TC" "$(truth C)"

# C stops: not linked, it is not measured; its distance is its beacon's.
stop_node "${DIRS[C]}"
check "C is gone from A" wait_for 10 disconnected A C
J=$(ctl A federation status --measure --json)
RC=$(mrow "$J" C)
expect_eq "C, not linked, is not measured" false "$(jq -r .measured <<<"$RC")"
expect_eq "its distance, if any, is its beacon's (as of apart_ms)" true "$(jq '.apart == null or (.apart_ms == .beacon_ms and (.apart == "lower_bound" or .apart == "exact"))' <<<"$RC")"
