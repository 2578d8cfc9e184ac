#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Discovery end to end: real lcnodes on loopback ports publish endpoint
# records and link to each other from one bootstrap peer each; the graph
# survives the loss of its seed; endpoint records change only when the
# announced addresses do; max_peers holds, and a full seed still hands out
# endpoints. Every wait polls with a deadline.
. "$(dirname "$0")/lib.sh"

# own_endpoint NAME: the id of NAME's current endpoint record as NAME holds it.
own_endpoint() {
	ctl "$1" export | jq -r --arg a "${IDS[$1]}" 'select(.kind == "endpoint" and .author == $a) | .id'
}

# endpoint_of HOLDER NAME: the id of NAME's endpoint record as HOLDER holds it.
endpoint_of() {
	ctl "$1" export | jq -r --arg a "${IDS[$2]}" 'select(.kind == "endpoint" and .author == $a) | .id'
}

# knows_endpoints COUNT NAME...: each node holds COUNT endpoint records.
knows_endpoints() {
	local want=$1 n c
	shift
	for n in "$@"; do
		c=$(ctl "$n" export | jq -s '[.[] | select(.kind == "endpoint")] | length')
		[ "$c" = "$want" ] || return 1
	done
}

# links NAME: ids of the peers NAME is connected to, one a line.
links() {
	ctl "$1" peer list --json | jq -r '.[] | select(.state == "connected") | .id'
}

# nlinks NAME: how many.
nlinks() {
	ctl "$1" peer list --json | jq '[.[] | select(.state == "connected")] | length'
}

# graph_connected NAME...: the links among these nodes, as each one's peer
# list shows them, join them all into one graph.
graph_connected() {
	local -A seen=() byid=()
	local queue=("$1") cur id n
	for n in "$@"; do byid[${IDS[$n]}]=$n; done
	seen[$1]=1
	while [ ${#queue[@]} -gt 0 ]; do
		cur=${queue[0]}
		queue=("${queue[@]:1}")
		for id in $(links "$cur"); do
			n=${byid[$id]:-}
			[ -n "$n" ] && [ -z "${seen[$n]:-}" ] || continue
			seen[$n]=1
			queue+=("$n")
		done
	done
	[ ${#seen[@]} -eq $# ]
}

# links_beyond NAME SEED: NAME is connected to some node other than SEED.
links_beyond() {
	links "$1" | grep -qv "^${IDS[$2]}\$"
}

# all_linked_beyond SEED NAME...: every NAME links to a node other than SEED.
all_linked_beyond() {
	local seed=$1 n
	shift
	for n in "$@"; do links_beyond "$n" "$seed" || return 1; done
}

# new_node NAME [SED-SCRIPT]: lcctl init only; its directory, port and id go
# in DIRS, PORTS and IDS.
new_node() {
	local d port
	d=$(tmpdir)/$1
	free_port >/dev/null
	port=$_port_next
	IDS[$1]=$(init_city "$d" "$1" FI "$port")
	DIRS[$1]=$d
	PORTS[$1]=$port
	[ $# -lt 2 ] || sed -i "$2" "$d/lcnode.conf"
}

# --- a federation: one seed, five cities given only the seed ---
FK=$(tmpdir)/fed.key
FED=$("$LCCTL" federation create -k "$FK" --name "Discovery test" 2>/dev/null | head -1)
check "federation create prints its id" is_hex64 "$FED"
FEDNODES=(F0 F1 F2 F3 F4 F5)
for n in "${FEDNODES[@]}"; do
	new_node "$n" "s/^; federation = .*/federation = $FED/"
	"$LCCTL" federation admit -k "$FK" "${IDS[$n]}" --city "$n" --country FI \
		>"${DIRS[$n]}/admission.jsonl" 2>/dev/null
done
check "the seed starts" start_node "${DIRS[F0]}"
cat "${DIRS[@]/%//admission.jsonl}" >"$(dirname "$FK")/all.jsonl"
expect_status "the seed takes every admission" 0 "$LCCTL" -d "${DIRS[F0]}" publish "$(dirname "$FK")/all.jsonl"
T0=$(date +%s%3N)
for n in F1 F2 F3 F4 F5; do
	start_node "${DIRS[$n]}" || fail "start $n" "lcnode did not start"
	# A city knows its own admission, or the seed refuses its handshake.
	ctl "$n" publish "${DIRS[$n]}/admission.jsonl" >/dev/null
	ctl "$n" peer add "127.0.0.1:${PORTS[F0]}" >/dev/null
done
check "every node ends up holding all six endpoint records" wait_for 20 knows_endpoints 6 "${FEDNODES[@]}"
full_mesh() {
	local n
	for n in "${FEDNODES[@]}"; do [ "$(nlinks "$n")" = 5 ] || return 1; done
}
check "six nodes mesh fully (max_peers 16)" wait_for 20 full_mesh
echo "# six federation nodes meshed $(($(date +%s%3N) - T0)) ms after the first of five started"
check "each new node links to others beyond the seed" all_linked_beyond F0 F1 F2 F3 F4 F5
PL=$(ctl F3 peer list --json)
expect_eq "discovered peers are marked in peer list --json" 4 \
	"$(jq '[.[] | select(.discovered == true or .direction == "inbound")] | length' <<<"$PL")"
expect_eq "the seed, added by the operator, is not" false \
	"$(jq -r --arg id "${IDS[F0]}" '.[] | select(.id == $id) | .discovered' <<<"$PL")"
DISC=$(for n in F1 F2 F3 F4 F5; do ctl "$n" peer list --json | jq '[.[] | select(.discovered)] | length'; done | jq -s add)
check "some links were discovered ($DISC)" test "${DISC:-0}" -ge 1
expect_contains "peer list shows them as disc" "$(for n in F1 F2 F3 F4 F5; do ctl "$n" peer list; done)" " disc "
EP=$(ctl F2 export | jq -c --arg a "${IDS[F4]}" 'select(.kind == "endpoint" and .author == $a)')
expect_eq "export renders an endpoint record" "[\"127.0.0.1:${PORTS[F4]}\"]" "$(jq -c .endpoint.addresses <<<"$EP")"
expect_eq "with its key" endpoint "$(jq -r .key <<<"$EP")"

stop_node "${DIRS[F0]}"
remaining() { graph_connected F1 F2 F3 F4 F5; }
check "without the seed the five remaining nodes are one graph" remaining
publish F5 "Without the seed"
check "and a practice still reaches them all" wait_for 10 all_have without-the-seed F1 F2 F3 F4

# --- the endpoint record changes only with the announced addresses ---
E1=$(own_endpoint F1)
check "F1 has an endpoint record" is_hex64 "$E1"
stop_node "${DIRS[F1]}"
check "F1 restarts" start_node "${DIRS[F1]}"
sleep 1
expect_eq "a restart with the same addresses publishes nothing" "$E1" "$(own_endpoint F1)"
expect_eq "F1 logged one endpoint publication" 1 "$(grep -c 'published the endpoint record' "${DIRS[F1]}/node.log")"
stop_node "${DIRS[F1]}"
printf 'announce = 127.0.0.1:%s\nannounce = localhost:%s\n' "${PORTS[F1]}" "${PORTS[F1]}" >"${DIRS[F1]}/announce.conf"
sed -i "/^\\[node\\]/r ${DIRS[F1]}/announce.conf" "${DIRS[F1]}/lcnode.conf"
check "F1 restarts announcing two addresses" start_node "${DIRS[F1]}"
new_endpoint() {
	local e
	e=$(own_endpoint F1)
	is_hex64 "$e" && [ "$e" != "$E1" ]
}
check "a changed address list is published" wait_for 10 new_endpoint
E2=$(own_endpoint F1)
expect_eq "with both addresses" "[\"127.0.0.1:${PORTS[F1]}\",\"localhost:${PORTS[F1]}\"]" \
	"$(ctl F1 export | jq -c --arg id "$E2" 'select(.id == $id) | .endpoint.addresses')"
has_e2() { [ "$(endpoint_of F3 F1)" = "$E2" ]; }
check "and spreads to the others" wait_for 10 has_e2
check "F1 links again" wait_for 10 links_beyond F1 F0

# --- open nodes (no federation): the same from one seed ---
OPEN=(O0 O1 O2 O3)
for n in "${OPEN[@]}"; do city_node "$n" SE; done
for n in O1 O2 O3; do ctl "$n" peer add "127.0.0.1:${PORTS[O0]}" >/dev/null; done
check "open nodes learn every endpoint" wait_for 15 knows_endpoints 4 "${OPEN[@]}"
check "and link beyond their seed" wait_for 15 all_linked_beyond O0 O1 O2 O3
stop_node "${DIRS[O0]}"
check "and stay one graph without it" graph_connected O1 O2 O3

# --- max_peers holds; a full seed still hands out endpoints ---
# The seed takes one peer; the others aim for 3 links of at most 4. Cities
# the seed refuses learn the others' endpoints from it and link to them.
city_node M0 DK 's/^max_peers = .*/max_peers = 1/'
MNODES=(M1 M2 M3 M4 M5)
for n in "${MNODES[@]}"; do
	city_node "$n" DK 's/^max_peers = .*/max_peers = 4/'
	ctl "$n" peer add "127.0.0.1:${PORTS[M0]}" >/dev/null
done
all_linked() {
	local n
	for n in "${MNODES[@]}"; do [ "$(nlinks "$n")" -ge 1 ] || return 1; done
}
check "every city links somewhere though the seed takes one" wait_for 20 all_linked
seed_refused() { [ "$(ctl M0 status --json | jq .refused_connections)" -ge 1 ]; }
check "the seed refused cities beyond max_peers = 1" seed_refused
check "the refused ones learned every endpoint" wait_for 15 knows_endpoints 6 M0 "${MNODES[@]}"
# The operator's peer (M0) is served beyond max_peers by design (README), and
# M0 refuses all but one of them only once their handshake is done: the links
# discovery and inbound cities make are what max_peers bounds.
others() {
	ctl "$1" peer list --json |
	    jq --arg m0 "${IDS[M0]}" '[.[] | select(.state == "connected" and .id != $m0)] | length'
}
over=""
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(nlinks M0)" -le 1 ] || over="$over M0=$(nlinks M0)"
	for n in "${MNODES[@]}"; do
		c=$(others "$n")
		[ "$c" -le 4 ] || over="$over $n=$c"
	done
	sleep 0.3
done
expect_eq "no node ever holds more than its max_peers (besides its operator's peer)" "none" "${over:-none}"
check "the cities refused by the seed form one graph" wait_for 15 graph_connected "${MNODES[@]}"

for n in "${!DIRS[@]}"; do
	[ -f "${DIRS[$n]}/test.pid" ] || continue
	kill -0 "$(cat "${DIRS[$n]}/test.pid")" 2>/dev/null || continue
	check "$n stops cleanly on SIGTERM" stop_node "${DIRS[$n]}"
done
for n in "${!DIRS[@]}"; do
	[ -f "${DIRS[$n]}/node.log" ] || continue
	if grep -q "Sanitizer\|runtime error" "${DIRS[$n]}/node.log"; then
		fail "sanitizers are quiet on $n" "$(grep -m3 "Sanitizer\|runtime error" "${DIRS[$n]}/node.log")"
	fi
done
