#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# lcctl federation status and GET /api/v1/federation/status: one row per member
# and observer with its beacon's version and records, agreement with this
# node's set (a lagging node differs, then agrees once it caught up), links,
# inactive members (a beacon older than 7 days), admissions expiring within 30
# days, and two nodes running with one key (a copied directory): both logs
# warn, and the status shows it.
. "$(dirname "$0")/lib.sh"
SIGN=$ROOT/$BUILD/lcf-sign

W=$(tmpdir)
cd "$W" || exit 1
FED=$("$LCCTL" federation create -k fed.key --name "Watched" 2>/dev/null)
fed_conf="s/^; federation = FEDID/federation = $FED/"
city_node A SE "$fed_conf"
city_node B FI "$fed_conf"
city_node S DK "$fed_conf"
# D runs no node here: its only beacon is 8 days old.
"$LCCTL" federation create -k d.key --name D >/dev/null 2>&1
DID=$(jq -r .author <("$SIGN" -K d.key -k 29 -s 1))
SOON=$(date -u -d '+20 days' +%F)
{
	"$LCCTL" federation admit -k fed.key "${IDS[A]}" --city "City A" --country SE
	"$LCCTL" federation admit -k fed.key "${IDS[B]}" --city "City B" --country FI --expires "$SOON"
	"$LCCTL" federation admit -k fed.key "${IDS[S]}" --city Secretariat --country DK --observer
	"$LCCTL" federation admit -k fed.key "$DID" --city "City D" --country NO
} >admits.rec 2>/dev/null
for c in A B S; do ctl "$c" publish admits.rec >/dev/null; done
ctl B peer add "127.0.0.1:${PORTS[A]}" >/dev/null
ctl S peer add "127.0.0.1:${PORTS[B]}" >/dev/null
check "B links with A" wait_for 10 connected B A
check "S links with B" wait_for 10 connected S B
OLD=$(( $(date +%s%3N) - 8 * 86400000 ))
BODY=$(python3 - "$OLD" <<'PY'
import sys
def varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7f) | 0x80]); v >>= 7
    return out + bytes([v])
t = int(sys.argv[1])
b = b"\x0a\x050.0.9" + b"\x10\x03" + b"\x18" + varint(t - 60000) + b"\x22\x10" + bytes(range(16)) + b"\x30\x07"
print(b.hex())
PY
)
"$SIGN" -K d.key -k 9 -s 2 -n beacon -t "$OLD" -b "$BODY" >dbeacon.rec
expect_status "an old beacon of D is taken" 0 "$LCCTL" -d "${DIRS[A]}" publish dbeacon.rec

# fs NODE: the view as JSON; row NODE ID: one row of it.
fs() { ctl "$1" federation status --json; }
row() { fs "$1" | jq -c --arg id "$2" '.items[] | select(.id == $id)'; }
agrees() { [ "$(row "$1" "$2" | jq -r .agrees)" = true ]; }
all_agree() { agrees A "${IDS[B]}" && agrees A "${IDS[S]}" && agrees B "${IDS[A]}"; }
# The first beacons follow each node's first reconciliation, which may have
# come before the others' records reached it: a restart of each, once all
# hold the same, brings beacons that agree.
for c in A B S; do stop_node "${DIRS[$c]}"; done
for c in A B S; do start_node "${DIRS[$c]}"; done
check "every node's beacon agrees with A's set" wait_for 40 all_agree

J=$(fs A)
expect_eq "one row per member and observer, this node included" 4 "$(jq '.items | length' <<<"$J")"
expect_eq "the summary counts cities and observers" "4 3 1" "$(jq -r '.summary | "\(.nodes) \(.cities) \(.observers)"' <<<"$J")"
expect_eq "reachable: the rows linked now, and A itself" "$(jq '[.items[] | select(.reachable)] | length' <<<"$J")" "$(jq .summary.reachable <<<"$J")"
check "at least A and B" jq -e '.summary.reachable >= 2' <<<"$J" >/dev/null
check "agreeing: A, B and S" jq -e '.summary.agreeing == 3' <<<"$J" >/dev/null
VER=$(ctl A status --json | jq -r .version)
expect_eq "versions in use" "3" "$(jq -r --arg v "$VER" '.summary.versions[$v]' <<<"$J")"
RB=$(jq -c --arg id "${IDS[B]}" '.items[] | select(.id == $id)' <<<"$J")
expect_eq "B's row: its version" "$VER" "$(jq -r .version <<<"$RB")"
check "its records, from its beacon" jq -e '.records > 0 and .set_count > 0' <<<"$RB" >/dev/null
expect_eq "linked" true "$(jq -r .reachable <<<"$RB")"
expect_eq "its admission expires within 30 days" true "$(jq -r .expiring <<<"$RB")"
expect_contains "and a warning says so" "$(jq -r '.warnings | join(";")' <<<"$RB")" "expires within 30 days"
RS=$(jq -c --arg id "${IDS[S]}" '.items[] | select(.id == $id)' <<<"$J")
expect_eq "the observer's role" observer "$(jq -r .role <<<"$RS")"
expect_eq "not expiring" false "$(jq -r .expiring <<<"$RS")"
RD=$(jq -c --arg id "$DID" '.items[] | select(.id == $id)' <<<"$J")
expect_eq "D is inactive (its beacon is 8 days old)" true "$(jq -r .inactive <<<"$RD")"
expect_eq "last seen: its beacon's time" "$OLD" "$(jq -r .last_seen_ms <<<"$RD")"
expect_eq "its version" 0.0.9 "$(jq -r .version <<<"$RD")"
expect_eq "its beacon has no digest: agreement unknown" null "$(jq -r .agrees <<<"$RD")"
expect_eq "the others are not inactive" 0 "$(jq --arg id "$DID" '[.items[] | select(.id != $id and .inactive)] | length' <<<"$J")"
T=$(ctl A federation status)
expect_contains "text: the summary line" "$T" "4 nodes (3 cities, 1 observers): $(jq .summary.reachable <<<"$J") reachable, 3 agreeing"
expect_contains "text: B's row" "$T" "City B"
expect_contains "text: inactive" "$T" "inactive: no beacon for more than 7 days"
U=$(http_url "${DIRS[A]}")
H=$(curl -s "$U/api/v1/federation/status")
expect_eq "HTTP: the same rows" "$(jq -c '[.items[] | [.id, .version, .agrees, .inactive, .expiring]]' <<<"$J")" \
	"$(jq -c '[.items[] | [.id, .version, .agrees, .inactive, .expiring]]' <<<"$H")"
expect_eq "HTTP: the summary" "$(jq -c '.summary | del(.reachable)' <<<"$J")" "$(jq -c '.summary | del(.reachable)' <<<"$H")"
expect_eq "HTTP: an unknown parameter is refused" 400 "$(curl -s -o /dev/null -w '%{http_code}' "$U/api/v1/federation/status?x=1")"

# --- a lagging node: S stops, A publishes, A's next beacon holds it ---
stop_node "${DIRS[S]}"
publish A "While S was away"
check "B gets the practice" wait_for 10 has_practice B while-s-was-away
stop_node "${DIRS[A]}"
start_node "${DIRS[A]}"
differs() { row A "${IDS[S]}" | jq -e '.agrees == false and .difference == 1 and .reachable == false' >/dev/null; }
check "A: S's set differs by one record, S unreachable" wait_for 20 differs
expect_contains "text says by how much" "$(ctl A federation status)" "differs: 1 fewer"
start_node "${DIRS[S]}"
check "once S caught up, its new beacon agrees" wait_for 40 agrees A "${IDS[S]}"
# A's beacon followed its restart's first reconciliation, which (B redials a
# healthy link within a second) came before S was back with its own new
# records; the next is due at most once per 10 minutes. A restart of A now
# that all hold the same brings one that S agrees with.
stop_node "${DIRS[A]}"
start_node "${DIRS[A]}"
check "and S agrees with A" wait_for 30 agrees S "${IDS[A]}"

# --- two nodes, one key: A2 runs on a copy of A's directory ---
# Two nodes with one key compete for links (one connection per pair of
# cities, PROTOCOL 3.3): in a federation of many nodes each wins the links it
# made first, and the beacons of both spread. Here A holds every link, so the
# copy's records are relayed by hand, as signed lines (lcctl publish), the
# way they would travel through the nodes the copy had reached.
stop_node "${DIRS[A]}"
A2=$W/A2
cp -a "${DIRS[A]}" "$A2"
rm -f "$A2/peers.json" "$A2/test.pid" "$A2/node.log"
P2=$(free_port)
sed -i "s/^listen = 127.0.0.1:${PORTS[A]}\$/listen = 127.0.0.1:$P2/; s/^listen = 127.0.0.1:$((PORTS[A] - 10000))\$/listen = 127.0.0.1:$((P2 - 10000))/" "$A2/lcnode.conf"
start_node "${DIRS[A]}"
check "A is back with B" wait_for 15 connected B A
# B's link to A is then older than the copy by more than the clocks' margin.
sleep 7
start_node "$A2"
check "the copy publishes its beacon" wait_for 40 grep -q "beacon: published" "$A2/node.log"
"$LCCTL" -d "$A2" export --signed --kind beacon --city "${IDS[A]}" >a2beacon.rec
expect_status "A takes the copy's beacon" 0 "$LCCTL" -d "${DIRS[A]}" publish a2beacon.rec
check "A's log warns: another node runs with this key" wait_for 10 grep -q "another node runs with this key" "${DIRS[A]}/node.log"
shared() { row "$1" "${IDS[A]}" | jq -e '.shared_key == true' >/dev/null; }
check "A's federation status shows it on its own row" wait_for 10 shared A
expect_contains "with a warning" "$(row A "${IDS[A]}" | jq -r '.warnings | join(";")')" "used by another node"
ctl B publish a2beacon.rec >/dev/null
check "B's federation status shows it on A's row (a beacon of another instance while its link to A is older)" wait_for 10 shared B
expect_contains "text: the warning" "$(ctl B federation status)" "two nodes run with this key"
publish A "After the copy started"
ctl A export --signed --kind practice >a-practices.rec
"$LCCTL" -d "$A2" publish a-practices.rec >/dev/null
check "A2's log warns too, once a newer record of A reaches it" wait_for 10 grep -q "another node runs with this key" "$A2/node.log"
check "and its status shows it" bash -c "'$LCCTL' -d '$A2' federation status --json | jq -e --arg id '${IDS[A]}' '.items[] | select(.id == \$id) | .shared_key' >/dev/null"

# --csv: one row per node, the JSON's items.
expect_status "federation status --csv" 0 ctl A federation status --csv
csvrows=$(printf '%s\n' "$OUT" | /usr/bin/python3 -c 'import csv, sys; r = list(csv.reader(sys.stdin, strict=True)); print(len(r) - 1, "id" in r[0])')
expect_eq "a row per node, with the id column" "$(fs A | jq '.items | length') True" "$csvrows"
expect_status "--csv and --json together is a usage error" 2 ctl A federation status --csv --json
