#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Six nodes behind 10% random packet loss (nftables numgen at every receiver)
# and a relay that delays every byte 200 ms each way (400 ms round trips):
# links come up, pushed records reach everyone, and a seventh node that joins
# empty pulls everything by reconciliation. Prints how long each took.
. "$(dirname "$0")/lib.sh"

LOSS=${LOSS:-10}	# percent of packets dropped at each receiver
DELAY=${DELAY:-200}	# ms each way, per relay
MAX_S=90		# convergence must come within this (a functional bound)
N=(L1 L2 L3 L4 L5 L6)

net_setup 7 || { fail "network namespaces" "setup failed"; exit 1; }
# A node listens on its namespace's loopback; the relay takes its address.
relay_node() {
	local name=$1 i=$2 out
	net_node "$name" "$i" "s/^listen = .*/listen = 127.0.0.1:$NET_PORT/; s/^; announce = .*/announce = $NET_PREFIX.$i:$NET_PORT/" || return 1
	out=${DIRS[$name]}/relay.out
	ip netns exec "${NS[$name]}" /usr/bin/python3 "$PROXY" "$NET_PREFIX.$i:$NET_PORT" \
		"127.0.0.1:$NET_PORT" --delay "$DELAY" >"$out" 2>&1 &
	_nodes+=($!)
	wait_for 5 grep -q ready "$out" || fail "relay of $name" "$(cat "$out")"
	nft_in "$name" ip saddr "$NET_PREFIX.0/24" numgen random mod 100 "<" "$LOSS" counter drop
}
i=0
for n in "${N[@]}"; do
	i=$((i + 1))
	relay_node "$n" "$i" || exit 1
done
echo "# $LOSS% loss at every receiver, $DELAY ms each way through a relay; load $(cut -d' ' -f1-3 /proc/loadavg)"

t0=$(now_ms)
for a in $(seq 0 5); do
	for b in $(seq $((a + 1)) 5); do
		ctl "${N[$a]}" peer add "${IP[${N[$b]}]}:$NET_PORT" --id "${IDS[${N[$b]}]}" >/dev/null
	done
done
links() { [ "$(ctl "$1" status --json | jq .peers_connected)" = 5 ]; }
all_links() { local n; for n in "${N[@]}"; do links "$n" || return 1; done; }
if wait_for "$MAX_S" all_links; then
	ok "a full mesh of 6 nodes forms"
	echo "# mesh of 15 links up in $(($(now_ms) - t0)) ms"
else
	fail "a full mesh of 6 nodes forms" "not within $MAX_S s"
fi

t0=$(now_ms)
for r in 1 2 3 4 5; do
	for n in "${N[@]}"; do publish "$n" "Lossy $n record $r"; done
done
if wait_for "$MAX_S" all_count 30 "${N[@]}"; then
	ok "30 records published under loss and delay reach all 6 nodes"
	echo "# push convergence: $(($(now_ms) - t0)) ms after the first publish"
else
	fail "30 records published under loss and delay reach all 6 nodes" \
		"$(for n in "${N[@]}"; do printf '%s=%s ' "$n" "$(practices "$n")"; done)"
fi

relay_node L7 7 || exit 1
t0=$(now_ms)
ctl L7 peer add "${IP[L1]}:$NET_PORT" --id "${IDS[L1]}" >/dev/null
ctl L7 peer add "${IP[L2]}:$NET_PORT" --id "${IDS[L2]}" >/dev/null
# L7's own profile record is a practice of nobody: 30 practices to pull.
if wait_for "$MAX_S" all_count 30 L7; then
	ok "a node that joins empty pulls every record under loss and delay"
	echo "# reconciliation of a new node: $(($(now_ms) - t0)) ms from peer add"
else
	fail "a node that joins empty pulls every record under loss and delay" "L7 holds $(practices L7)"
fi
drops=0
for n in "${N[@]}" L7; do
	d=$(ip netns exec "${NS[$n]}" nft list chain inet lcnet input | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
	drops=$((drops + ${d:-0}))
done
echo "# nftables dropped $drops packets in all"
check "the loss rule dropped packets" test "$drops" -gt 0
