#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# New record kinds do not split the federation: records of a kind this node
# does not know are stored, forwarded and reconciled; a node of protocol
# version 2 (built from commit 4ec577e) in the same federation is never sent
# one, keeps syncing everything it knows, and reconciles in one round trip
# when nothing it knows differs.
. "$(dirname "$0")/lib.sh"

SIGN=$ROOT/$BUILD/lcf-sign
# The old node (lib.sh's build_old): built once into $OLD.
if ! build_old; then
	fail "build the node of commit $OLD_COMMIT" "cannot build it: this test cannot run"
	exit 1
fi
ok "the node of commit $OLD_COMMIT is built"
OLDCTL=$OLD/build/lcctl
OLDNODE=$OLD/build/lcnode

W=$(tmpdir)
cd "$W" || exit 1
FED=$("$LCCTL" federation create -k fed.key --name "Mixed versions" 2>/dev/null)
fed_conf="s/^; federation = FEDID/federation = $FED/"
city_node N1 SE "$fed_conf"
city_node N2 FI "$fed_conf"

# The old node (lib.sh's old_city_node): its own lcctl writes its configuration.
old_city_node O Oldtown EE "$fed_conf"
ODIR=${DIRS[O]}
OPORT=${PORTS[O]}
OID=${IDS[O]}
oldctl() { "$OLDCTL" -d "$ODIR" "$@"; }

# A city that runs no node here: it writes records of a later kind.
"$LCCTL" federation create -k k.key --name K >/dev/null 2>&1
KID=$(jq -r .author <("$SIGN" -K k.key -k 29 -s 1))
for id in "${IDS[N1]}" "${IDS[N2]}" "$OID" "$KID"; do
	"$LCCTL" federation admit -k fed.key "$id" --city "City ${id:0:4}" --country SE
done >admits.rec 2>/dev/null
ctl N1 publish admits.rec >/dev/null
ctl N2 publish admits.rec >/dev/null
oldctl publish admits.rec >/dev/null
ctl N1 peer add "127.0.0.1:${PORTS[N2]}" >/dev/null
ctl N1 peer add "127.0.0.1:$OPORT" >/dev/null
ctl N2 peer add "127.0.0.1:$OPORT" >/dev/null
o_connected() { [ "$(oldctl peer list --json | jq --arg a "${IDS[$1]}" '[.[] | select(.id == $a and .state == "connected")] | length')" = 1 ]; }
check "N1 and N2 link" wait_for 10 connected N1 N2
check "N1 links with the old node" wait_for 10 connected N1 O
check "N2 links with the old node" wait_for 10 connected N2 O
check "the old node lists both as connected" wait_for 10 bash -c "$(declare -f o_connected oldctl); OLDCTL='$OLDCTL' ODIR='$ODIR'; declare -A IDS=([N1]=${IDS[N1]} [N2]=${IDS[N2]}); o_connected N1 && o_connected N2"

# --- records of kinds nobody here knows ---
"$SIGN" -K fed.key -k 29 -s 1000 -n beacon -b 0a03616263 >fed9.rec
"$SIGN" -K k.key -k 12 -s 2 -n status -b 08011002 >k12.rec
"$SIGN" -K k.key -k 12 -s 3 -n gone -d >k12del.rec
"$SIGN" -K k.key -k 40 -s 4 -n far >k40.rec
"$SIGN" -K k.key -k 29 -s 5 -n mixed -f 16 -b 0a0141 >mixed.rec
expect_status "N1 takes an unknown kind signed by the federation key" 0 "$LCCTL" -d "${DIRS[N1]}" publish fed9.rec
expect_contains "and stores it" "$OUT" "1 stored"
expect_status "and one signed by an admitted city" 0 "$LCCTL" -d "${DIRS[N1]}" publish k12.rec
expect_status "and a tombstone of an unknown kind" 0 "$LCCTL" -d "${DIRS[N1]}" publish k12del.rec
expect_status "a kind beyond 31 is refused" 1 "$LCCTL" -d "${DIRS[N1]}" publish k40.rec
expect_contains "naming the kind" "$OUT" "unknown kind 40"
expect_status "an unknown kind carrying a known kind's body is refused" 1 "$LCCTL" -d "${DIRS[N1]}" publish mixed.rec
expect_contains "naming the body" "$OUT" "must not carry a body of kind city"
has_id() { "$LCCTL" -d "$1" export --signed --include-deleted 2>/dev/null | grep -q "$2"; }
holds_all() { has_id "$1" "$F9" && has_id "$1" "$K12" && has_id "$1" "$K12D"; }
F9=$(jq -r .id fed9.rec)
K12=$(jq -r .id k12.rec)
K12D=$(jq -r .id k12del.rec)
check "the records were signed" test -n "$F9" -a -n "$K12" -a -n "$K12D"
check "N1 holds them" holds_all "${DIRS[N1]}"
check "N2 receives the unknown kinds pushed from N1" wait_for 10 holds_all "${DIRS[N2]}"
EXP=$(ctl N1 export 2>/dev/null | jq -c --arg id "$F9" 'select(.id == $id)')
expect_eq "export shows an unknown kind by its number" 29 "$(jq .kind <<<"$EXP")"
expect_eq "with its key" beacon "$(jq -r .key <<<"$EXP")"
expect_status "verify checks it with every record" 0 "$LCCTL" -d "${DIRS[N1]}" verify
expect_eq "queries do not list it" 0 "$(ctl N1 practice list --json --limit 0 | jq --arg id "$F9" '[.[] | select(.id == $id)] | length')"

# --- the old node ---
publish O "From the old node"
check "a practice published at the old node reaches N1" wait_for 15 has_practice N1 from-the-old-node
check "and N2" wait_for 15 has_practice N2 from-the-old-node
publish N2 "From a new node"
old_has() { oldctl practice list --json --limit 0 | jq -e 'any(.[]; .key == "from-a-new-node")' >/dev/null; }
check "a practice published at a new node reaches the old node" wait_for 15 old_has
sleep 2
for p in N1 N2; do
	expect_status "peer sync from $p to the old node" 0 "$LCCTL" -d "${DIRS[$p]}" peer sync "${OID:0:12}" --json
	expect_eq "costs one round trip ($p initiates)" 1 "$(jq .round_trips <<<"$OUT")"
	echo "# $p to the old node, in sync: $(jq -c 'del(.message)' <<<"$OUT" 2>/dev/null)"
	expect_status "peer sync from the old node to $p" 0 "$OLDCTL" -d "$ODIR" peer sync "${IDS[$p]:0:12}" --json
	expect_eq "costs one round trip (the old node initiates, $p answers)" 1 "$(jq .round_trips <<<"$OUT")"
done
expect_status "peer sync between the new nodes" 0 "$LCCTL" -d "${DIRS[N1]}" peer sync "${IDS[N2]:0:12}" --json
expect_eq "costs one round trip" 1 "$(jq .round_trips <<<"$OUT")"
expect_eq "the old node holds none of the unknown kinds" 0 \
	"$(oldctl export --signed --include-deleted | grep -c -e "$F9" -e "$K12" -e "$K12D")"
expect_eq "the old node refused nothing (its log)" 0 "$(grep -i "refused" "$ODIR/node.log" | grep -vc "connection refused")"
expect_eq "nor counted a refusal from either peer" 0 "$(oldctl peer list --json | jq '[.[].refused] | add')"
check "its links stayed up" o_connected N1
check "both of them" o_connected N2

# --- reconciliation carries unknown kinds between new nodes ---
stop_node "${DIRS[N2]}"
"$SIGN" -K fed.key -k 29 -s 1001 -n beacon -b 0a03646566 >fed9b.rec
ctl N1 publish fed9b.rec >/dev/null
F9B=$(jq -r .id fed9b.rec)
publish N1 "While N2 was down"
start_node "${DIRS[N2]}" >/dev/null
check "N2 reconnects" wait_for 15 connected N1 N2
ctl N2 peer sync "${IDS[N1]:0:12}" >/dev/null 2>&1
check "reconciliation brings N2 the unknown kind it missed" wait_for 15 has_id "${DIRS[N2]}" "$F9B"
check "and the practice" wait_for 15 has_practice N2 while-n2-was-down
old_has2() { oldctl practice list --json --limit 0 | jq -e 'any(.[]; .key == "while-n2-was-down")' >/dev/null; }
check "the old node gets the practice" wait_for 15 old_has2
oldctl peer sync "${IDS[N1]:0:12}" >/dev/null 2>&1
ctl N2 peer sync "${OID:0:12}" >/dev/null 2>&1
expect_eq "but never the unknown kind" 0 "$(oldctl export --signed | grep -c "$F9B")"
expect_status "a last sync from the old node" 0 "$OLDCTL" -d "$ODIR" peer sync "${IDS[N2]:0:12}" --json
expect_eq "is one round trip" 1 "$(jq .round_trips <<<"$OUT")"
# (A dial that found a port closed, "connection refused", is no refusal of
# records: it happens while the others start.)
expect_eq "the old node still refused nothing" 0 "$(grep -i "refused" "$ODIR/node.log" | grep -vc "connection refused")"
grep -i refused "$ODIR/node.log" | sed "s/^/# old node: /"

# --- status beacons (kind 9, introduced by protocol version 3) ---
# The new nodes publish beacons and pass them to each other, never to the old node.
beacon_ids() { ctl "$1" export --signed --kind beacon | jq -r .id; }
has_beacons() { [ "$(beacon_ids "$1" | wc -l)" -ge 2 ]; }
check "N1 holds the new nodes' beacons" wait_for 15 has_beacons N1
BIDS=$(beacon_ids N1; beacon_ids N2)
check "they were published" test -n "$BIDS"
OLDALL=$(oldctl export --signed --include-deleted | jq -r .id)
expect_eq "the old node holds none of them" 0 "$(grep -c -F -x -f <(sort -u <<<"$BIDS") <<<"$OLDALL")"
expect_eq "and refused none (its log)" 0 "$(grep -i "refused\|unknown kind" "$ODIR/node.log" | grep -vc "connection refused")"
