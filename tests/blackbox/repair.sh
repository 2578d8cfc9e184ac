#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Reconciliation end to end: a node that was stopped catches up after restart,
# and a node whose database was wiped is repaired by its peer, with real lcnodes.
. "$(dirname "$0")/lib.sh"

# Records of a city at a node, as "kind key seq" lines, for comparing nodes.
holdings() {
	local out
	out=$(ctl "$1" export) || return 1
	jq -r '"\(.author) \(.kind) \(.key) \(.seq)"' <<<"$out" | sort
}

same_holdings() {
	local a
	a=$(holdings "$1") || return 1
	[ -n "$a" ] && [ "$a" = "$(holdings "$2")" ]
}


city_node Gamma SE
city_node Delta PT
ctl Gamma practice import "$SAMPLES/timisoara-practices.SAMPLE.json" >/dev/null
ctl Delta practice import "$SAMPLES/medellin-practices.SAMPLE.json" >/dev/null
ctl Gamma peer add "127.0.0.1:${PORTS[Delta]}" >/dev/null
check "the two nodes connect" wait_for 10 connected Gamma Delta
check "reconciliation on connect gives both nodes the same records" wait_for 15 same_holdings Gamma Delta
N=$(holdings Gamma | wc -l)
check "they hold both cities' records ($N)" test "$N" -gt 12

# A stopped node catches up when it comes back.
stop_node "${DIRS[Delta]}"
publish Gamma "Published while Delta was down"
ctl Gamma practice import "$SAMPLES/tampere-practices.SAMPLE.json" >/dev/null
check "Delta is seen as gone" wait_for 10 disconnected Gamma Delta
check "Delta restarts" start_node "${DIRS[Delta]}"
check "the restarted node catches up" wait_for 20 has_practice Delta published-while-delta-was-down
check "and holds exactly what its peer holds" wait_for 20 same_holdings Gamma Delta

# A wiped node is repaired from its peer.
stop_node "${DIRS[Delta]}"
rm -rf "${DIRS[Delta]}/db"
# A key that has published never starts silently on an empty store
# (identity.sh): the operator asks for one with --new-store.
OUT=$("$LCNODE" -d "${DIRS[Delta]}" 2>&1)
expect_contains "Delta refuses to start on a wiped store" "$OUT" "--new-store"
check "Delta restarts with --new-store" start_node "${DIRS[Delta]}" --new-store
check "the wiped node is repaired, its own records included" wait_for 30 same_holdings Gamma Delta
expect_eq "the repaired node did not fork its own history" 0 "$(ctl Delta status --json | jq .forks)"
check "it publishes again once its peer reconciled" wait_for 20 ctl_jq Delta '.restore.active == false' status --json
publish Delta "Written after the repair"
check "its next record carries on its own sequence and spreads" wait_for 10 has_practice Gamma written-after-the-repair
expect_eq "still no fork anywhere" "0 0" "$(ctl Gamma status --json | jq .forks) $(ctl Delta status --json | jq .forks)"
expect_eq "the repaired node's records all verify" 0 "$(ctl Delta verify >/dev/null 2>&1; echo $?)"
check "its own records coming back raised no alarm about a second node" \
	bash -c "! grep -q 'another node runs with this key' '${DIRS[Delta]}/node.log'"

S=$(ctl Delta peer sync "${IDS[Gamma]:0:12}" --json)
expect_eq "a sync between equal nodes takes one round trip" 1 "$(jq .round_trips <<<"$S")"
check "and sends under 512 bytes each way" test "$(jq .bytes_sent <<<"$S")" -le 512 -a "$(jq .bytes_received <<<"$S")" -le 512
expect_eq "and moves no record" 0 "$(jq '.records_sent + .records_received' <<<"$S")"

# A copy of Delta's key running elsewhere (a cloned machine) is reported.
CL=$(tmpdir)/clone
free_port >/dev/null
init_city "$CL" Delta PT "$_port_next" >/dev/null
cp "${DIRS[Delta]}/identity.key" "$CL/identity.key"
start_node "$CL" || fail "start the clone" "lcnode did not start"
"$LCCTL" -d "$CL" practice add --title "Made by the clone" --summary "Same key, other node." \
	--language en --area 2.2 >/dev/null
"$LCCTL" -d "$CL" export --signed >"$CL/out.jsonl"
expect_status "the clone's records reach Delta" 0 "$LCCTL" -d "${DIRS[Delta]}" publish "$CL/out.jsonl"
check "Delta warns that another node runs with its key" \
	grep -q "made after this node started) arrived that this node did not make: another node runs with this key" "${DIRS[Delta]}/node.log"
stop_node "$CL"

# A bulk transfer (a new node pulling many records) is written in shared
# transactions: 40,000 records arrive in batches of at most 4,096, and the
# writer gathers the batches checked while it waits.
city_node Zeta SE
stop_node "${DIRS[Zeta]}"
"$ROOT/$BUILD/lcf-fill" -n 40000 -a 40 -s 7 -j 2 "${DIRS[Zeta]}" >/dev/null ||
    fail "lcf-fill" "could not fill Zeta's store"
check "Zeta restarts with 40,000 more records" start_node "${DIRS[Zeta]}"
city_node Eta PT
total_at_least() { [ "$(ctl_jq_val "$1" .records_total status --json)" -ge "$2" ]; }
ctl_jq_val() { local n=$1 e=$2; shift 2; ctl "$n" "$@" 2>/dev/null | jq -r "$e // 0"; }
ctl Eta peer add "127.0.0.1:${PORTS[Zeta]}" >/dev/null
check "a new node pulls them all" wait_for 90 total_at_least Eta 40000
S=$(ctl Eta status --json)
check "status counts every record written ($(jq .ingest_records <<<"$S"))" \
    test "$(jq .ingest_records <<<"$S")" -ge 40000
check "in fewer transactions ($(jq .ingest_transactions <<<"$S")) than the 10 batches they came in" \
    test "$(jq .ingest_transactions <<<"$S")" -ge 1 -a "$(jq .ingest_transactions <<<"$S")" -lt 10
expect_contains "lcctl status shows the writes" "$(ctl Eta status)" "records from peers and publish in"
