#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Only the newest status beacon of each node is kept (docs/PROTOCOL.md 1.2,
# "Newest only"): after several beacons every node holds exactly one per
# author and no other stored version; a node that was offline with an old
# beacon converges to the newest, drops the old one quietly (nothing
# refused), and then reconciles in one round trip; a restart never reuses a
# seq although the node's own older beacons are gone.
. "$(dirname "$0")/lib.sh"

W=$(tmpdir)
cd "$W" || exit 1
FED=$("$LCCTL" federation create -k fed.key --name "Pruned" 2>/dev/null)
fed_conf="s/^; federation = FEDID/federation = $FED/"
city_node A SE "$fed_conf"
city_node B FI "$fed_conf"
city_node C DK "$fed_conf"
for c in A B C; do
	"$LCCTL" federation admit -k fed.key "${IDS[$c]}" --city "City $c" --country SE
done >admits.rec 2>/dev/null
for c in A B C; do ctl "$c" publish admits.rec >/dev/null; done
ctl B peer add "127.0.0.1:${PORTS[A]}" >/dev/null
ctl C peer add "127.0.0.1:${PORTS[B]}" >/dev/null
check "B links with A" wait_for 10 connected B A
check "C links with B" wait_for 10 connected C B

# beacon_seq NODE AUTHOR: the seq of AUTHOR's current beacon at NODE.
beacon_seq() {
	ctl "$1" export --kind beacon | jq -r --arg a "${IDS[$2]}" 'select(.author == $a) | .seq'
}
seq_above() { local s; s=$(beacon_seq "$1" "$2"); [ -n "$s" ] && [ "$s" -gt "$3" ]; }
# only_newest NODE N: the node holds N beacons (one per author) and no
# stored version beyond the current ones: every beacon it was given before
# the newest is gone from its store.
only_newest() {
	ctl_jq "$1" "([.kinds[] | select(.kind == \"beacon\") | .current][0] == $2) and
	    (.records_total == ([.kinds[].current] | add))" status --json
}
metric() { curl -s "$(http_url "${DIRS[$1]}")/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }
refused() { curl -s "$(http_url "${DIRS[$1]}")/metrics" | awk '$1 ~ /^lcf_records_refused_total/ { s += $2 } END { print s + 0 }'; }

for n in A B C; do
	for a in A B C; do
		check "$n holds $a's beacon" wait_for 20 seq_above "$n" "$a" 0
	done
done

# C goes offline holding A's first beacon; A restarts twice, and each
# restart's beacon replaces the one before at A and B.
SEQ_C=$(beacon_seq C A)
stop_node "${DIRS[C]}"
check "B sees C gone" wait_for 10 disconnected B C
LAST_A=$SEQ_C
for round in 1 2; do
	stop_node "${DIRS[A]}"
	OWN=$(ctl B export --kind beacon | jq -r --arg a "${IDS[A]}" 'select(.author == $a) | .seq')
	check "A starts again ($round)" start_node "${DIRS[A]}"
	check "A's beacon of restart $round reaches B" wait_for 40 seq_above B A "$LAST_A"
	NEW=$(beacon_seq B A)
	check "the restart's beacon has a higher seq than every earlier one ($NEW > $OWN)" test "$NEW" -gt "$OWN"
	LAST_A=$NEW
done
check "A holds one beacon per node, nothing superseded" wait_for 10 only_newest A 3
check "so does B" wait_for 10 only_newest B 3
V=$(metric B lcf_record_versions)
expect_eq "B's stored versions are its current records (/metrics)" \
	"$(curl -s "$(http_url "${DIRS[B]}")/metrics" | awk '$1 ~ /^lcf_records\{/ { s += $2 } END { print s + 0 }')" "$V"

# A's own older beacons are gone from its store, yet its next record goes on
# after the newest one: a restart never reuses a seq.
AS=$(ctl A status --json)
check "A's last seq is its newest beacon's or later" test "$(jq .last_seq <<<"$AS")" -ge "$LAST_A"
stop_node "${DIRS[A]}"
check "A starts once more" start_node "${DIRS[A]}"
ctl A practice add --title "After the restarts" --summary "Numbered after every beacon." \
	--language en --area 2.2 >/dev/null
PS=$(ctl A practice list --json --limit 0 | jq -r '.[] | select(.key == "after-the-restarts") | .seq')
check "a record written after the restart takes a seq above every beacon ($PS > $LAST_A)" test "$PS" -gt "$LAST_A"
check "and A's newest beacon reaches B" wait_for 40 seq_above B A "$LAST_A"
LAST_A=$(beacon_seq B A)
check "B holds A's record" wait_for 15 has_practice B after-the-restarts
expect_eq "no fork anywhere" "0 0" "$(ctl A status --json | jq .forks) $(ctl B status --json | jq .forks)"

# C comes back with A's first beacon: it takes the newest, drops the old one.
R_B=$(refused B)
check "C starts again" start_node "${DIRS[C]}"
check "C links with B again" wait_for 15 connected C B
check "C catches up with A's newest beacon" wait_for 40 seq_above C A $((LAST_A - 1))
check "C had an older one ($SEQ_C < $LAST_A)" test "$SEQ_C" -lt "$LAST_A"
check "C holds one beacon per node, nothing superseded" wait_for 20 only_newest C 3
check "B still does" only_newest B 3
expect_eq "B refused nothing C sent (an older beacon is no refusal)" "$R_B" "$(refused B)"
expect_eq "C refused nothing" 0 "$(refused C)"
check "the superseded counter is exported" test -n "$(metric B lcf_records_superseded_total)"

# Then a reconciliation finds the two sets equal in one round trip.
same_holdings() {
	local b c
	b=$(ctl B status --json | jq -c '[.records_total, .kinds]')
	c=$(ctl C status --json | jq -c '[.records_total, .kinds]')
	[ "$b" = "$c" ] && [ "$(beacon_seq B C)" = "$(beacon_seq C C)" ] && \
		[ "$(beacon_seq B A)" = "$(beacon_seq C A)" ]
}
check "B and C hold the same records" wait_for 30 same_holdings
S=$(ctl C peer sync "${IDS[B]:0:12}" --json)
expect_eq "a sync between C and B takes one round trip" 1 "$(jq .round_trips <<<"$S")"
expect_eq "and moves no record" 0 "$(jq '.records_sent + .records_received' <<<"$S")"
