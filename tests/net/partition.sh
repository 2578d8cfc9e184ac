#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two groups of five nodes (a full mesh of configured peers) are cut apart by
# nftables for PARTITION_S seconds (60) while every node publishes; after the
# heal every node must hold every record within 5 s (issue 18: the links
# survived the cut and nothing reconciled until the sync timer, ~20 s).
. "$(dirname "$0")/lib.sh"

PARTITION_S=${PARTITION_S:-60}
ROUNDS=5		# records each node publishes during the cut
HEAL_MAX_MS=5000
A=(A1 A2 A3 A4 A5)
B=(B1 B2 B3 B4 B5)
ALL=("${A[@]}" "${B[@]}")

net_setup 10 || { fail "network namespaces" "setup failed"; exit 1; }
i=0
for n in "${ALL[@]}"; do
	i=$((i + 1))
	net_node "$n" "$i" || exit 1
done
for a in $(seq 0 9); do
	for b in $(seq $((a + 1)) 9); do
		ctl "${ALL[$a]}" peer add "${IP[${ALL[$b]}]}:$NET_PORT" --id "${IDS[${ALL[$b]}]}" >/dev/null
	done
done
links() { [ "$(ctl "$1" status --json | jq .peers_connected)" = 9 ]; }
all_links() { local n; for n in "${ALL[@]}"; do links "$n" || return 1; done; }
check "a full mesh of 10 nodes" wait_for 30 all_links

for n in "${ALL[@]}"; do publish "$n" "Before the cut in $n"; done
check "the records before the cut reach everyone" wait_for 20 all_count 10 "${ALL[@]}"

make_cut() {
	local n
	for n in "${A[@]}"; do nft_in "$n" ip saddr "$NET_PREFIX.6-$NET_PREFIX.10" drop; done
	for n in "${B[@]}"; do nft_in "$n" ip saddr "$NET_PREFIX.1-$NET_PREFIX.5" drop; done
}
make_cut
echo "# cut for $PARTITION_S s; every node publishes $ROUNDS records meanwhile"
t0=$SECONDS
for r in $(seq 1 "$ROUNDS"); do
	sleep "$(echo "$PARTITION_S / $ROUNDS - 0.5" | bc -l)"
	pids=()
	for n in "${ALL[@]}"; do
		publish "$n" "During the cut in $n round $r" &
		pids+=($!)
	done
	wait "${pids[@]}"
done
while [ $((SECONDS - t0)) -lt "$PARTITION_S" ]; do sleep 0.2; done
side=$((10 + 5 * ROUNDS))
total=$((10 + 10 * ROUNDS))
check "the cut holds: each side holds its own side's records only" \
	all_count "$side" "${ALL[@]}"
dead=$(cat "${DIRS[A1]}/node.log" | grep -c 'nothing received from the peer')
stalled=$(cat "${DIRS[A1]}/node.log" | grep -c 'took none of')
echo "# A1 closed links during the cut: $dead silent (keepalive), $stalled stalled (stall_timeout)"

for n in "${ALL[@]}"; do nft_flush "$n"; done
t1=$(now_ms)
if wait_for 60 all_count "$total" "${ALL[@]}"; then
	dt=$(($(now_ms) - t1))
	echo "# converged $dt ms after the heal ($total records on each of 10 nodes; load $(cut -d' ' -f1-3 /proc/loadavg))"
	if [ "$dt" -le "$HEAL_MAX_MS" ]; then ok "converged within $HEAL_MAX_MS ms of the heal"
	else fail "converged within $HEAL_MAX_MS ms of the heal" "took $dt ms"; fi
else
	fail "converged within $HEAL_MAX_MS ms of the heal" "not within 60 s: $(for n in "${ALL[@]}"; do printf '%s=%s ' "$n" "$(practices "$n")"; done)"
fi
check "the mesh is whole again" wait_for 20 all_links
