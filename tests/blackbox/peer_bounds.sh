#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Peers that stop reading hold a bounded share of the node's memory: every
# slot for cities the operator did not add (max_peers less the one it added)
# is taken by a peer that starts pulling every record and then reads
# nothing. What the node queues for them stays within peers_queue in all
# plus one message each, its RssAnon grows by less than README's bound
# ("Worst-case memory") at these settings, they are dropped after a quarter
# of stall_timeout once peers_queue is reached (counted, logged), and a peer
# the operator adds meanwhile pulls every record all the same.
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
publish H "Honest while stalled"
NP=${PORTS[N]}
LOG=${DIRS[N]}/node.log
PID=$(cat "${DIRS[N]}/test.pid")
st() { ctl N status --json | jq -r ".$1 // empty"; }

# 4,000 practices of about 6.7 KB (their objectives nine times their
# description): 26 MiB for each puller, far more than the sockets' buffers
# take on loopback when nothing is read (about 4 MiB), so that most of what
# the node sends stays with it.
"$GEN" -n 4000 -s 3 | jq '[.[] | .objectives = ((.description * 9)[0:19000])]' \
    >"$_root/practices.json"
expect_status "N imports 4,000 practices" 0 "$LCCTL" -d "${DIRS[N]}" \
    practice import "$_root/practices.json"
want=$(st records_total)

rss() { awk '/^RssAnon:/ {print $2 * 1024}' "/proc/$PID/status"; }
base=$(rss)
# The peaks of RssAnon and of the bytes queued to peers, sampled from now
# until the file stop appears.
sample_peak "$_root/peak" rss &
samplers=($!)
sample_peak "$_root/qpeak" st peers_queued_bytes &
samplers+=($!)
pids=()
for i in $(seq 1 $SLOTS); do
	"$PROBE" stall "127.0.0.1:$NP" >"$_root/stall$i.out" 2>&1 &
	pids+=($!)
done
stalled() { [ "$(cat "$_root"/stall*.out | grep -c '^stalled$')" = "$SLOTS" ]; }
check "$SLOTS peers take every slot, start pulling and stop reading" wait_for 10 stalled
expect_status "N adds H as its peer meanwhile (served beyond max_peers)" 0 \
    "$LCCTL" -d "${DIRS[N]}" peer add "127.0.0.1:${PORTS[H]}"

# While they hold their bytes H pulls everything; then the sampling ends.
h_all() { [ "$(ctl H status --json | jq .records_total)" -ge "$want" ]; }
all_dropped() { [ "$(st peers_stalled)" = "$SLOTS" ]; }
wait_for 25 eval 'all_dropped && h_all'
touch "$_root/stop"
wait "${samplers[@]}"
peak=$(cat "$_root/peak")
qpeak=$(cat "$_root/qpeak")
check "H pulled every record of N ($want) meanwhile" test "$(ctl H status --json | jq .records_total)" -ge "$want"
h_practice() { ctl N practice list --json --city "${IDS[H]}" | jq -e 'any(.[]; .key == "honest-while-stalled")'; }
check "and N took H's practice" wait_for 5 h_practice

# README, "Worst-case memory": peers_queue, and for each linked peer (the
# stalled ones and H) one message beyond it (a Records batch of 2 MiB), its
# 64 KiB read buffer and a reconciliation session (3 MiB); 8 MiB of slack
# for the allocator.
bound=$((PEERS_QUEUE + (SLOTS + 1) * (2 * MIB + 65536 + 3 * MIB) + 8 * MIB))
qbound=$((PEERS_QUEUE + (SLOTS + 1) * 2 * MIB))
check "queued to peers at most: peers_queue + one message each ($qpeak <= $qbound bytes)" \
    test "$qpeak" -gt 0 -a "$qpeak" -le "$qbound"
check "RssAnon grew by $(( (peak - base) / 1024 )) KiB: under README's bound at these settings ($((bound / 1024)) KiB)" \
    test "$peak" -gt 0 -a $((peak - base)) -le "$bound"
expect_eq "each stalled peer was dropped" "$SLOTS" "$(st peers_stalled)"
check "peers_queue reached: counted" test "$(st peers_queue_full)" -ge 1
check "and peer_queue" test "$(st peer_queue_full)" -ge 1
expect_contains "logged" "$(cat "$LOG")" "bytes queued to all peers, the bound is $PEERS_QUEUE (peers_queue)"
expect_contains "the drop says why, after a quarter of stall_timeout" "$(cat "$LOG")" \
    "for $((STALL / 4)) s while the bytes queued to all peers were at their bound"
M=$(curl -s "$(http_url "${DIRS[N]}")/metrics")
# The last one may have waited the whole stall_timeout: the others gone,
# peers_queue was no longer reached.
check "/metrics: stalled peers dropped sooner" test \
    "$(awk '/^lcf_peer_stalled_total\{bound="peers_queue"\}/ {print $2}' <<<"$M")" -ge 1
expect_eq "/metrics: all of them dropped" "$SLOTS" \
    "$(awk '/^lcf_peer_stalled_total/ {n += $2} END {print n}' <<<"$M")"
expect_eq "/metrics: the bound" "$PEERS_QUEUE" "$(awk '/^lcf_peer_queue_limit_bytes / {print $2}' <<<"$M")"
expect_eq "nothing queued once they are gone" 0 "$(st peers_queued_bytes)"
kill "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null || true  # killed probes end with 143
