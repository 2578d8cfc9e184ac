#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Federation membership end to end: the secretariat's offline commands, real
# lcnodes of one federation on loopback ports, admission, refusal of
# non-members at the handshake and of their relayed records, held records
# released by a late admission, revocation, expiry.
. "$(dirname "$0")/lib.sh"

PROBE=$ROOT/$BUILD/lcf-peer-probe
W=$(tmpdir)
cd "$W" || exit 1

# --- the secretariat, offline ---
FED=$("$LCCTL" federation create -k fed.key --name "Learning Cities of Example Region" 2>/dev/null)
check "federation create prints the federation id" is_hex64 "$FED"
expect_eq "the federation key is mode 0600" 600 "$(stat -c %a fed.key)"
expect_eq "its state file is mode 0600" 600 "$(stat -c %a fed.key.state)"
before=$(sha256sum fed.key)
expect_status "a second create refuses to overwrite" 1 "$LCCTL" federation create -k fed.key --name X
expect_contains "and says so" "$OUT" "already exists"
expect_eq "the key is unchanged" "$before" "$(sha256sum fed.key)"
expect_status "create needs --name" 2 "$LCCTL" federation create -k other.key
expect_status "admit needs -k" 2 "$LCCTL" federation admit "$FED" --city A --country SE
expect_status "admit refuses a bad city id" 2 "$LCCTL" federation admit -k fed.key abc --city A --country SE
expect_status "admit refuses a bad country" 2 "$LCCTL" federation admit -k fed.key "$FED" --city A --country XX
expect_status "admit refuses an expiry in the past" 2 "$LCCTL" federation admit -k fed.key "$FED" --city A --country SE --expires 2001-01-01
expect_status "revoke needs a reason" 2 "$LCCTL" federation revoke -k fed.key "$FED"
chmod 644 fed.key
expect_status "a federation key others can read is refused" 1 "$LCCTL" federation admit -k fed.key "$FED" --city A --country SE
expect_contains "with the fix" "$OUT" "chmod 600"
chmod 600 fed.key

# Members: A and B, and a probe city P that relays; X is never admitted.
fed_conf="s/^; federation = FEDID/federation = $FED/"
city_node A SE "$fed_conf"
city_node B FI "$fed_conf"
city_node X NO "$fed_conf"
city_node O DK
PDIR=$W/probe
free_port >/dev/null
P=$(init_city "$PDIR" Probe EE "$_port_next")
for c in A B P; do
	id=${IDS[$c]:-$P}
	"$LCCTL" federation admit -k fed.key "$id" --city "City $c" --country SE >"admit-$c.rec" 2>"admit-$c.err"
done
expect_eq "admit prints one signed record" 1 "$(wc -l <admit-A.rec)"
expect_eq "it is a membership signed by the federation key" "$FED" "$(jq -r .author admit-A.rec)"
expect_eq "seqs follow each other across runs" 4 "$(jq .next_seq fed.key.state)"

expect_status "publish of A's admission at A" 0 "$LCCTL" -d "${DIRS[A]}" publish admit-A.rec
expect_contains "publish reports it stored" "$OUT" "1 stored"
expect_status "publish of B's admission at B" 0 "$LCCTL" -d "${DIRS[B]}" publish admit-B.rec
# Change the signature's first character to another one (a sed that wrote "A"
# changed nothing when the signature began with A: the test then failed).
perl -pe 's/"signature":"(.)/"\"signature\":\"" . ($1 eq "A" ? "B" : "A")/e' admit-P.rec >tampered.rec
expect_status "the tampered copy differs from the record" 1 cmp -s admit-P.rec tampered.rec
expect_status "a tampered record is refused before it is sent" 1 "$LCCTL" -d "${DIRS[A]}" publish tampered.rec
expect_contains "naming the file and line" "$OUT" "tampered.rec:1:"
"$LCCTL" federation create -k rogue.key --name Rogue >/dev/null 2>&1
"$LCCTL" federation admit -k rogue.key "${IDS[X]}" --city X --country NO >rogue.rec 2>/dev/null
expect_status "a membership signed by another key is refused" 1 "$LCCTL" -d "${DIRS[A]}" publish rogue.rec
expect_contains "with the reason" "$OUT" "only the federation key"

MJ=$(ctl A members --json)
expect_eq "members names the federation" "$FED" "$(jq -r .federation <<<"$MJ")"
expect_eq "members names it" "Learning Cities of Example Region" "$(jq -r .federation_name <<<"$MJ")"
expect_eq "A lists itself as a member" true "$(jq --arg id "${IDS[A]}" '.members[] | select(.id == $id) | .self and .valid' <<<"$MJ")"
expect_contains "members table" "$(ctl A members)" "City A"
expect_contains "an open node says it is open" "$(ctl O members)" "no federation"
expect_eq "status shows an admitted city as a member" member "$(ctl A status --json | jq -r .membership)"
expect_contains "in its table too" "$(ctl A status)" "member"
expect_eq "status of an open node has no membership" null "$(ctl O status --json | jq .membership)"
expect_contains "and says it is open" "$(ctl O status)" "open node (no federation)"

# --- links between members; refusal of others ---
ctl B peer add "127.0.0.1:${PORTS[A]}" >/dev/null
check "two members link" wait_for 10 connected B A
check "A learned B's membership from B's handshake" wait_for 10 ctl_jq A "any(.members[]; .id == \"${IDS[B]}\" and .valid)" members --json
publish A "Member practice"
check "an admitted city's records spread" wait_for 10 has_practice B member-practice
expect_eq "members shows B reachable from A" true "$(ctl A members --json | jq --arg id "${IDS[B]}" '.members[] | select(.id == $id) | .reachable')"
CL=$(ctl A city list --json)
expect_eq "city list on A holds the two linked cities" "$(sort <<<"${IDS[A]}"$'\n'"${IDS[B]}")" "$(jq -r '.[].id' <<<"$CL" | sort)"
expect_eq "and not the federation key, which holds its memberships" 0 "$(jq --arg f "$FED" '[.[] | select(.id == $f)] | length' <<<"$CL")"

ctl X peer add "127.0.0.1:${PORTS[A]}" >/dev/null
x_refused() { grep -q "calling itself X: refused: not a member" "${DIRS[A]}/node.log"; }
check "a non-member is refused at the handshake, and the log says who and why" wait_for 10 x_refused
check "the refusal is counted" ctl_jq A '.refused_connections >= 1' status --json
# Fresh keys cost nothing: a refused stranger must not take a place in the
# table, where a stream of them would push out real cities' entries.
expect_eq "a refused non-member leaves no entry in the peer table" 0 \
	"$(ctl A peer list --json | jq --arg id "${IDS[X]}" '[.[] | select(.id == $id)] | length')"
# An entry the operator made keeps the reason: A dials X itself.
ctl A peer add "127.0.0.1:${PORTS[X]}" >/dev/null
xa_refused() { peer_field A "${IDS[X]}" last_error | grep -q "not a member"; }
check "a peer the operator added shows the refusal in peer list" wait_for 10 xa_refused
check "X never shows as connected" disconnected A X
ctl O peer add "127.0.0.1:${PORTS[A]}" >/dev/null
o_refused() { grep -q "calling itself O: refused: .*belongs to no federation" "${DIRS[A]}/node.log"; }
check "an open node is refused by a federation node" wait_for 10 o_refused

# A member at max_peers hands those it turns away the endpoints of others;
# a city outside the federation must not get them.
city_node G SE "$fed_conf;s/^max_peers = .*/max_peers = 1/"
"$LCCTL" federation admit -k fed.key "${IDS[G]}" --city "City G" --country SE >admit-G.rec 2>/dev/null
ctl G publish admit-G.rec >/dev/null
ctl G peer add "127.0.0.1:${PORTS[B]}" >/dev/null
check "G links B and is then at its max_peers of 1" wait_for 10 connected G B
g_knows_b() { ctl_jq G "any(.[]; .id == \"${IDS[B]}\")" city list --json; }
check "G holds B's records, its endpoint among them" wait_for 10 g_knows_b
expect_status "a stranger naming the federation connects to G" 0 env LCF_PROBE_FEDERATION="$FED" "$PROBE" listen "127.0.0.1:${PORTS[G]}"
expect_contains "and is given no record" "$OUT" "received 0 records"
export LCF_PROBE_KEY=$PDIR/identity.key LCF_PROBE_FEDERATION=$FED LCF_PROBE_MEMBERSHIP=$W/admit-P.rec
"$LCCTL" -d "${DIRS[G]}" publish admit-P.rec >/dev/null
expect_status "a member turned away for max_peers" 0 "$PROBE" listen "127.0.0.1:${PORTS[G]}"
gift_n=$(sed -n 's/^received \([0-9]*\) records$/\1/p' <<<"$OUT")
check "is given the others' memberships and endpoints" test "${gift_n:-0}" -ge 2
unset LCF_PROBE_KEY LCF_PROBE_FEDERATION LCF_PROBE_MEMBERSHIP
ctl G peer rm "127.0.0.1:${PORTS[B]}" >/dev/null
publish X "Outsider practice"
sleep 1
check "a non-member's practice does not reach the federation" lacks_practice A outsider-practice

# A member (the probe, admitted) relays a record of a city nobody admitted.
"$LCCTL" -d "${DIRS[A]}" publish admit-P.rec >/dev/null
export LCF_PROBE_KEY=$PDIR/identity.key LCF_PROBE_FEDERATION=$FED LCF_PROBE_MEMBERSHIP=$W/admit-P.rec
expect_status "a member relays a non-member's record" 0 "$PROBE" relay "127.0.0.1:${PORTS[A]}" "Relayed outsider"
expect_contains "the member's handshake was accepted" "$OUT" "connected to"
sleep 1
check "the relayed record of a non-member is not stored" lacks_practice A relayed-outsider
check "nor forwarded" lacks_practice B relayed-outsider
# A fresh key naming the federation but showing no membership: the probe's own
# side of the handshake completes, so the refusal is read at A.
refused0=$(ctl A status --json | jq .refused_connections)
env -u LCF_PROBE_MEMBERSHIP -u LCF_PROBE_KEY "$PROBE" hello "127.0.0.1:${PORTS[A]}" >/dev/null 2>&1
refused_more() { [ "$(ctl A status --json | jq .refused_connections)" -gt "$refused0" ]; }
check "a peer naming the federation without a membership is refused" wait_for 5 refused_more
unset LCF_PROBE_KEY LCF_PROBE_FEDERATION LCF_PROBE_MEMBERSHIP

# --- records that arrive before their city's admission wait, then go ---
LDIR=$W/late
free_port >/dev/null
L=$(init_city "$LDIR" Late PT "$_port_next")
sed -i "$fed_conf" "$LDIR/lcnode.conf"
start_node "$LDIR" || fail "start Late" "lcnode did not start"
"$LCCTL" -d "$LDIR" practice add --title "Late practice" --summary "Made before admission." \
	--language en --area 2.1 >/dev/null
"$LCCTL" -d "$LDIR" export --signed >late.jsonl
expect_status "records of a city not admitted yet are taken" 0 "$LCCTL" -d "${DIRS[A]}" publish late.jsonl
expect_contains "and held" "$OUT" "waiting for their city's admission"
expect_contains "the city not admitted yet sees why in its status" \
	"$("$LCCTL" -d "$LDIR" status --json | jq -r .membership)" "not a member"
check "held, not stored" lacks_practice A late-practice
"$LCCTL" federation admit -k fed.key "$L" --city Late --country PT >admit-L.rec 2>/dev/null
ctl A publish admit-L.rec >/dev/null
check "the admission releases the held records" wait_for 10 has_practice A late-practice
check "which then spread" wait_for 10 has_practice B late-practice

# --- held records go after hold_time ---
city_node H SE "$fed_conf;s/^; hold_time = .*/hold_time = 4/"
"$LCCTL" federation admit -k fed.key "${IDS[H]}" --city H --country SE >admit-H.rec 2>/dev/null
ctl H publish admit-H.rec >/dev/null
expect_eq "status counts no held records" "0 0" "$(ctl H status --json | jq -r '"\(.held_records) \(.held_cities)"')"
for t in "Held one" "Held two"; do
	"$LCCTL" -d "$LDIR" practice add --title "$t" --summary "Made before admission, again." \
		--language en --area 2.1 >/dev/null
done
X2=$W/x2
free_port >/dev/null
XT=$(init_city "$X2" Xtwo NO "$_port_next")
start_node "$X2" || fail "start Xtwo" "lcnode did not start"
"$LCCTL" -d "$X2" practice add --title "Held three" --summary "Another city not admitted." \
	--language en --area 2.1 >/dev/null
{ "$LCCTL" -d "$LDIR" export --signed --kind practice --city "$L"
  "$LCCTL" -d "$X2" export --signed --kind practice --city "$XT"; } >held-all.jsonl
# H links to nobody, so neither city is admitted there. Late's practice from
# the section above is left out: the counts are of the three made here.
grep -v "$(ctl A practice list --json | jq -r '.[] | select(.key == "late-practice") | .id')" held-all.jsonl >held.jsonl
stop_node "$X2"
expect_eq "three records of two cities not admitted" 3 "$(wc -l <held.jsonl)"
expect_status "H takes them" 0 "$LCCTL" -d "${DIRS[H]}" publish held.jsonl
expect_contains "and holds them" "$OUT" "waiting for their city's admission"
expect_eq "status counts them and their cities" "3 2" "$(ctl H status --json | jq -r '"\(.held_records) \(.held_cities)"')"
expect_contains "and says so in the table" "$(ctl H status)" "3 records of 2 cities not admitted (yet)"
none_held() { ctl_jq H '.held_records == 0 and .held_cities == 0' status --json; }
check "after hold_time (4 s) they are gone" wait_for 15 none_held
check "never stored" lacks_practice H held-three
expect_eq "an open node has no held counts" "null null" "$(ctl O status --json | jq -r '"\(.held_records) \(.held_cities)"')"

# --- expiry: judged by the record's own timestamp ---
EDIR=$W/exp
free_port >/dev/null
E=$(init_city "$EDIR" Expiring LT "$_port_next")
sed -i "$fed_conf" "$EDIR/lcnode.conf"
start_node "$EDIR" || fail "start Expiring" "lcnode did not start"
until_s=$(date -u -d "@$(( $(date +%s) + 4 ))" +%Y-%m-%dT%H:%M:%SZ)
"$LCCTL" federation admit -k fed.key "$E" --city Expiring --country LT --expires "$until_s" >admit-E.rec 2>/dev/null
ctl A publish admit-E.rec >/dev/null
"$LCCTL" -d "$EDIR" publish admit-E.rec >/dev/null
"$LCCTL" -d "$EDIR" practice add --title "Before expiry" --summary "In time." --language en --area 2.1 >/dev/null
"$LCCTL" -d "$EDIR" export --signed >e1.jsonl
expect_status "a record made while the membership holds is accepted" 0 "$LCCTL" -d "${DIRS[A]}" publish e1.jsonl
sleep 5
expect_status "the expired city's own node refuses to publish" 1 "$LCCTL" -d "$EDIR" practice add --title "After expiry" --summary "Too late." --language en --area 2.1
expect_contains "because the membership expired" "$OUT" "expired"
export LCF_PROBE_KEY=$PDIR/identity.key LCF_PROBE_FEDERATION=$FED LCF_PROBE_MEMBERSHIP=$W/admit-P.rec
expect_status "a member relays a record the expired city made" 0 env LCF_PROBE_AUTHOR_KEY="$EDIR/identity.key" "$PROBE" push "127.0.0.1:${PORTS[A]}" "After expiry"
unset LCF_PROBE_KEY LCF_PROBE_FEDERATION LCF_PROBE_MEMBERSHIP
sleep 1
check "the refusal names the expiry" grep -q "membership expired at" "${DIRS[A]}/node.log"
check "before-expiry record kept" has_practice A before-expiry
check "after-expiry record not stored" lacks_practice A after-expiry
expect_eq "members shows the expired city as such" expired "$(ctl A members --json | jq -r --arg id "$E" '.members[] | select(.id == $id) | .state')"

# --- revocation ---
publish B "Before revocation"
check "B's practice reaches A" wait_for 10 has_practice A before-revocation
"$LCCTL" federation revoke -k fed.key "${IDS[B]}" --reason "left the network" >revoke-B.rec 2>/dev/null
expect_status "the revocation is published at A" 0 "$LCCTL" -d "${DIRS[A]}" publish revoke-B.rec
b_closed() { peer_field A "${IDS[B]}" last_error | grep -q "revoked"; }
check "A closes its link with the revoked city" wait_for 10 b_closed
check "and the link stays down" disconnected A B
check "the revoked city's older practices are hidden" lacks_practice A before-revocation
check "and shown with --include-revoked" ctl_jq A 'any(.[]; .key == "before-revocation")' practice list --json --include-revoked
expect_eq "members marks it revoked with the reason" "revoked left the network" \
	"$(ctl A members --json | jq -r --arg id "${IDS[B]}" '.members[] | select(.id == $id) | "\(.state) \(.reason)"')"
"$LCCTL" -d "${DIRS[B]}" publish revoke-B.rec >/dev/null
expect_status "the revoked city's own node refuses to publish" 1 "$LCCTL" -d "${DIRS[B]}" practice add --title "After revocation" --summary "x" --language en --area 2.2
expect_contains "saying why" "$OUT" "revoked"
echo '[{"title": "Imported after revocation", "summary": "x", "language": "en", "kflc_areas": ["2.2"]}]' >late-import.json
expect_status "and to import" 1 "$LCCTL" -d "${DIRS[B]}" practice import late-import.json
expect_contains "saying why" "$OUT" "revoked"
check "the node still serves after the refused import" ctl_jq B '.city_id != null' status --json
# A new record signed with B's key, relayed by a member: refused.
export LCF_PROBE_KEY=$PDIR/identity.key LCF_PROBE_FEDERATION=$FED LCF_PROBE_MEMBERSHIP=$W/admit-P.rec
expect_status "a member relays a new record of the revoked city" 0 env LCF_PROBE_AUTHOR_KEY="${DIRS[B]}/identity.key" "$PROBE" push "127.0.0.1:${PORTS[A]}" "Revoked relay"
unset LCF_PROBE_KEY LCF_PROBE_FEDERATION LCF_PROBE_MEMBERSHIP
sleep 1
check "the revoked city's new record is refused" lacks_practice A revoked-relay
check "even with --include-revoked" ctl_jq A 'all(.[]; .key != "revoked-relay")' practice list --json --include-revoked
check "the refusal is logged with the revocation" grep -q "revoked from" "${DIRS[A]}/node.log"
sleep 2
check "the revoked city cannot link again" disconnected A B
expect_contains "A still names the revocation" "$(peer_field A "${IDS[B]}" last_error)" "revoked"

rc=0
for n in A B X O; do stop_node "${DIRS[$n]}" || rc=$?; done
stop_node "$LDIR" || rc=$?
stop_node "$EDIR" || rc=$?
expect_eq "every node stops cleanly" 0 "$rc"
