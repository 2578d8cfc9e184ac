#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A store written by the lcnode before "newest only" (commit 34a642f, store
# schema 3), which kept every status beacon it was given, is pruned once when
# this lcnode opens it: only the newest beacon of each node is left, the
# count and digest it reconciles with are those of what is left, and two
# upgraded nodes reconcile in one round trip.
. "$(dirname "$0")/lib.sh"

OLD_COMMIT=34a642f
OLD=$ROOT/$BUILD/old-$OLD_COMMIT
NEWNODE=$LCNODE

# The old node, built once into $OLD from this repository's history (a plain
# build: none of this run's make settings reach it).
build_old() {
	[ -x "$OLD/build/lcnode" ] && return 0
	if ! git -C "$ROOT" cat-file -e "$OLD_COMMIT^{commit}" 2>/dev/null; then
		echo "# commit $OLD_COMMIT is not in $ROOT's history (a shallow clone?)"
		return 1
	fi
	rm -rf "$OLD.tmp" && mkdir -p "$OLD.tmp" &&
		git -C "$ROOT" archive "$OLD_COMMIT" | tar -x -C "$OLD.tmp" &&
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE -u CI -u BUILD -u WERROR \
		    nice make -C "$OLD.tmp" -j2 build/lcnode >"$OLD.tmp/make.log" 2>&1 ||
		{ echo "# building $OLD_COMMIT failed: $(tail -5 "$OLD.tmp/make.log" 2>/dev/null)"; return 1; }
	rm -rf "$OLD" && mv "$OLD.tmp" "$OLD"
}
if ! build_old; then
	fail "build the node of commit $OLD_COMMIT" "cannot build it: this test cannot run"
	exit 1
fi
ok "the node of commit $OLD_COMMIT is built"

W=$(tmpdir)
cd "$W" || exit 1
FED=$("$LCCTL" federation create -k fed.key --name "Upgraded" 2>/dev/null)
# The old build looks for its catalog where it was built: name this tree's.
fed_conf="s/^; federation = FEDID/federation = $FED/; s|^; catalog = .*|catalog = $ROOT/config/catalog.json|"
LCNODE=$OLD/build/lcnode
city_node A SE "$fed_conf"
city_node B FI "$fed_conf"
for c in A B; do
	"$LCCTL" federation admit -k fed.key "${IDS[$c]}" --city "City $c" --country SE
done >admits.rec 2>/dev/null
for c in A B; do ctl "$c" publish admits.rec >/dev/null; done
ctl B peer add "127.0.0.1:${PORTS[A]}" >/dev/null
check "B links with A (old nodes)" wait_for 10 connected B A

beacon_seq() {
	ctl "$1" export --kind beacon | jq -r --arg a "${IDS[$2]}" 'select(.author == $a) | .seq'
}
seq_above() { local s; s=$(beacon_seq "$1" "$2"); [ -n "$s" ] && [ "$s" -gt "$3" ]; }
# kept_versions NODE: stored versions beyond the current ones.
kept_versions() { ctl "$1" status --json | jq '.records_total - ([.kinds[].current] | add)'; }
beacons() { ctl "$1" status --json | jq '[.kinds[] | select(.kind == "beacon") | .current][0]'; }
check "B holds A's beacon" wait_for 40 seq_above B A 0
check "A holds B's beacon" wait_for 40 seq_above A B 0
LAST=$(beacon_seq B A)
for round in 1 2; do
	stop_node "${DIRS[A]}"
	check "old A starts again ($round)" start_node "${DIRS[A]}"
	check "its beacon reaches B ($round)" wait_for 40 seq_above B A "$LAST"
	LAST=$(beacon_seq B A)
done
expect_eq "the old B kept A's two superseded beacons" 2 "$(kept_versions B)"
check "the old A kept its own ones too" test "$(kept_versions A)" -ge 2
stop_node "${DIRS[A]}"
stop_node "${DIRS[B]}"

# This lcnode opens both stores.
LCNODE=$NEWNODE
check "B starts on this lcnode" start_node "${DIRS[B]}"
check "A starts on this lcnode" start_node "${DIRS[A]}"
check "B's store was upgraded, the superseded beacons deleted" \
	grep -q "upgrading: .* records walked, 2 superseded ones deleted" "${DIRS[B]}/node.log"
expect_eq "B keeps no version beyond the current ones" 0 "$(kept_versions B)"
expect_eq "B holds one beacon per node" 2 "$(beacons B)"
expect_eq "A keeps no version beyond the current ones" 0 "$(kept_versions A)"
expect_eq "A holds one beacon per node" 2 "$(beacons A)"
N=$(beacon_seq B A)
check "B holds A's newest beacon of before, or a newer one ($N >= $LAST)" test "$N" -ge "$LAST"
check "A's next beacon numbers on above its pruned ones" wait_for 40 seq_above B A "$LAST"

check "they link again" wait_for 15 connected B A
same() {
	local a b
	a=$(ctl A status --json | jq -c '[.records_total, .kinds]')
	b=$(ctl B status --json | jq -c '[.records_total, .kinds]')
	[ "$a" = "$b" ] && [ "$(beacon_seq A A)" = "$(beacon_seq B A)" ] &&
		[ "$(beacon_seq A B)" = "$(beacon_seq B B)" ]
}
check "A and B hold the same records" wait_for 40 same
S=$(ctl B peer sync "${IDS[A]:0:12}" --json)
expect_eq "a sync between the upgraded nodes takes one round trip" 1 "$(jq .round_trips <<<"$S")"
expect_eq "and moves no record" 0 "$(jq '.records_sent + .records_received' <<<"$S")"
