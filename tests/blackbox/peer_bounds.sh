#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Peers that stop reading hold a bounded share of the node's memory: every
# slot for cities the operator did not add (max_peers = 4, one taken by H) is taken by
# a peer that starts pulling every record and then reads nothing. What the
# node queues for them stays within peer_queue each and peers_queue in all
# (plus one message each), its RssAnon grows by less than README's bound
# ("Worst-case memory") at these settings, they are dropped after a quarter
# of stall_timeout once peers_queue is reached (counted, logged), and a peer
# the operator added still reconciles meanwhile.
. "$(dirname "$0")/lib.sh"

PROBE=$ROOT/$BUILD/lcf-peer-probe
GEN=$ROOT/$BUILD/lcf-gen
SLOTS=3
MIB=1048576
PEER_QUEUE=$MIB
PEERS_QUEUE=$((2 * MIB))
STALL=8

city_node N SE "s/^max_peers = .*/max_peers = $((SLOTS + 1))/; s/^; stall_timeout = .*/stall_timeout = $STALL/; s/^\\[federation\\]\$/[federation]\\npeer_queue = 1M\\npeers_queue = 2M/"
city_node H NO
NP=${PORTS[N]}
LOG=${DIRS[N]}/node.log
PID=$(cat "${DIRS[N]}/test.pid")
st() { ctl N status --json | jq -r ".$1 // empty"; }

# 24,000 practices of about 1.2 KB: 28 MiB, more than the sockets' buffers
# take on loopback, so that most of what the node sends stays with it.
"$GEN" -n 24000 -s 3 -o "$_root/practices.json"
expect_status "N imports 24,000 practices" 0 "$LCCTL" -d "${DIRS[N]}" \
    practice import "$_root/practices.json"
expect_status "N adds H as its peer (served beyond max_peers)" 0 \
    "$LCCTL" -d "${DIRS[N]}" peer add "127.0.0.1:${PORTS[H]}"
h_synced() { [ "$(ctl H status --json | jq .records_total)" -ge 24000 ]; }
check "H pulls them all" wait_for 20 h_synced

rss() { awk '/^RssAnon:/ {print $2 * 1024}' "/proc/$PID/status"; }
base=$(rss)
pids=()
for i in $(seq 1 $SLOTS); do
	"$PROBE" stall "127.0.0.1:$NP" >"$_root/stall$i.out" 2>&1 &
	pids+=($!)
done
stalled() { [ "$(cat "$_root"/stall*.out | grep -c '^stalled$')" = "$SLOTS" ]; }
check "$SLOTS peers take every slot, start pulling and stop reading" wait_for 10 stalled

# While they hold their bytes: the node serves H both ways, and the memory
# and what is queued are sampled until the stalled peers are dropped.
publish H "Honest while stalled"
publish N "Served while stalled"
peak=0 qpeak=0
deadline=$((SECONDS + 2 * STALL))
while [ "$SECONDS" -lt "$deadline" ]; do
	r=$(rss)
	q=$(st peers_queued_bytes)
	[ "${r:-0}" -gt "$peak" ] && peak=$r
	[ "${q:-0}" -gt "$qpeak" ] && qpeak=$q
	[ "$(st peers_stalled)" = "$SLOTS" ] && break
	sleep 0.1
done
check "H's practice reached N meanwhile" wait_for 5 has_practice N honest-while-stalled
check "N's practice reached H meanwhile" wait_for 5 has_practice H served-while-stalled
expect_status "and N reconciles with H" 0 "$LCCTL" -d "${DIRS[N]}" peer sync "127.0.0.1:${PORTS[H]}"

# README, "Worst-case memory": peers_queue, one message (a Records batch of
# 2 MiB) per peer, and per connection its 64 KiB read buffer, with the
# node's own working memory of 8 MiB beside it.
bound=$((PEERS_QUEUE + SLOTS * (2 * MIB + 65536) + 8 * MIB))
check "queued to the stalled peers at most: peers_queue + one message each ($qpeak <= $((PEERS_QUEUE + SLOTS * 2 * MIB)) bytes)" \
    test "$qpeak" -gt 0 -a "$qpeak" -le $((PEERS_QUEUE + SLOTS * 2 * MIB))
check "RssAnon grew by $(( (peak - base) / 1024 )) KiB: under README's bound at these settings ($((bound / 1024)) KiB)" \
    test "$peak" -gt 0 -a $((peak - base)) -le "$bound"
expect_eq "each stalled peer was dropped" "$SLOTS" "$(st peers_stalled)"
check "peers_queue reached: counted" test "$(st peers_queue_full)" -ge 1
check "and peer_queue" test "$(st peer_queue_full)" -ge 1
expect_contains "logged" "$(cat "$LOG")" "bytes queued to all peers, the bound is $PEERS_QUEUE (peers_queue)"
expect_contains "the drop says why, after a quarter of stall_timeout" "$(cat "$LOG")" \
    "for $((STALL / 4)) s while the bytes queued to all peers were at their bound"
M=$(curl -s "$(http_url "${DIRS[N]}")/metrics")
expect_eq "/metrics: stalled peers dropped sooner" "$SLOTS" \
    "$(awk '/^lcf_peer_stalled_total\{bound="peers_queue"\}/ {print $2}' <<<"$M")"
expect_eq "/metrics: the bound" "$PEERS_QUEUE" "$(awk '/^lcf_peer_queue_limit_bytes / {print $2}' <<<"$M")"
expect_eq "nothing queued once they are gone" 0 "$(st peers_queued_bytes)"
kill "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null
