#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# lcctl federation status --measure and GET /api/v1/federation/status?measure=true:
# the linked peers are measured by a reconciliation that transfers nothing
# (their rows say exact, with a fresh time), a member not linked keeps the
# lower bound from its beacon, and no record moves.
. "$(dirname "$0")/lib.sh"

W=$(tmpdir)
cd "$W" || exit 1
FED=$("$LCCTL" federation create -k fed.key --name "Measured" 2>/dev/null)
fed_conf="s/^; federation = FEDID/federation = $FED/"
city_node A SE "$fed_conf"
city_node B FI "$fed_conf"
city_node C NO "$fed_conf"
for c in A B C; do
	"$LCCTL" federation admit -k fed.key "${IDS[$c]}" --city "City $c" --country SE
done >admits.rec 2>/dev/null
for c in A B C; do ctl "$c" publish admits.rec >/dev/null; done
ctl A peer add "127.0.0.1:${PORTS[B]}" >/dev/null
ctl A peer add "127.0.0.1:${PORTS[C]}" >/dev/null
check "A links with B" wait_for 10 connected A B
check "A links with C" wait_for 10 connected A C

# ids NODE: every record id it holds, sorted.
ids() { ctl "$1" export --signed --include-deleted | jq -r .id | sort; }
# The truth, from both exports: ids only on A, only on X.
truth() { echo "$(comm -23 <(ids A) <(ids "$1") | wc -l) $(comm -13 <(ids A) <(ids "$1") | wc -l)"; }
mrow() { jq -c --arg id "${IDS[$2]}" '.items[] | select(.id == $id)' <<<"$1"; }
measured_zero() {
	local j
	j=$(ctl A federation status --measure --json) || return 1
	for c in B C; do
		mrow "$j" "$c" | jq -e '.measured and .apart == "exact" and .only_here == 0 and .only_there == 0' >/dev/null || return 1
	done
}
check "once in sync, B and C measure 0 and 0, exactly" wait_for 30 measured_zero
expect_eq "the exports agree: nothing only on either side" "0 0" "$(truth B)"

T0=$(date +%s%3N)
J=$(ctl A federation status --measure --json)
RB=$(mrow "$J" B)
expect_eq "B's row is measured" "true exact" "$(jq -r '"\(.measured) \(.apart)"' <<<"$RB")"
expect_eq "measured just now" true "$(jq --argjson t "$T0" '.apart_ms >= $t - 1000' <<<"$RB")"
expect_eq "no measure error" null "$(jq -r .measure_error <<<"$RB")"
expect_eq "A's own row carries no distance" "null false" "$(mrow "$J" A | jq -r '"\(.apart) \(.measured)"')"
TXT=$(ctl A federation status --measure)
expect_contains "the text says when it was measured" "$TXT" "measured"
expect_contains "and that they agree" "$TXT" "agrees (measured"
CSV=$(ctl A federation status --measure --csv)
expect_contains "the CSV has the columns" "$(head -1 <<<"$CSV")" "only_here"
J2=$(ctl A federation status --json)
expect_eq "without --measure nothing is measured" "false" "$(mrow "$J2" B | jq -r .measured)"

# HTTP: the request waits for the probes, then answers.
URL=$(http_url "${DIRS[A]}")
H=$(curl -sf "$URL/api/v1/federation/status?measure=true")
expect_eq "HTTP: B measured, exactly 0 and 0" "true exact 0 0" "$(mrow "$H" B | jq -r '"\(.measured) \(.apart) \(.only_here) \(.only_there)"')"
expect_eq "HTTP: C too" "true exact" "$(mrow "$H" C | jq -r '"\(.measured) \(.apart)"')"
expect_eq "HTTP: a bad measure is refused, naming it" 400 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/federation/status?measure=maybe")"
expect_contains "the problem names the parameter" "$(curl -s "$URL/api/v1/federation/status?measure=maybe")" "measure"

# C stops; A takes records C does not get: C is not linked, so its row keeps
# the lower bound of its beacon, and B, which got them, measures 0 and 0.
NC=$(ids C | wc -l)
stop_node "${DIRS[C]}"
check "C is gone from A" wait_for 10 disconnected A C
for i in $(seq 1 12); do publish A "Measured $i"; done
NA=$(ids A | wc -l)
check "A holds the new records" test "$NA" -gt "$NC"
b_zero() { ctl A federation status --measure --json | jq -e --arg id "${IDS[B]}" '.items[] | select(.id == $id) | .measured and .only_here == 0 and .only_there == 0' >/dev/null; }
check "B got them by push and measures 0 and 0" wait_for 20 b_zero
J=$(ctl A federation status --measure --json)
RC=$(mrow "$J" C)
expect_eq "C, not linked, is not measured" false "$(jq -r .measured <<<"$RC")"
expect_eq "its distance is the beacon's lower bound, or unknown" true "$(jq '.apart == null or .apart == "lower_bound" or .apart == "exact"' <<<"$RC")"

# Measuring moves no record: A and B hold what they held.
NA=$(ids A | wc -l)
NB=$(ids B | wc -l)
ctl A federation status --measure --json >/dev/null
curl -sf "$URL/api/v1/federation/status?measure=true" >/dev/null
expect_eq "A's records unchanged by measuring" "$NA" "$(ids A | wc -l)"
expect_eq "B's records unchanged by measuring" "$NB" "$(ids B | wc -l)"
start_node "${DIRS[C]}"
expect_eq "C restarted with the records it had" "$NC" "$(ids C | wc -l)"
