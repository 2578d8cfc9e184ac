#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Records received from peers and waiting to be verified and stored are
# bounded in total (receive_queue): B, with a bound of 1 MiB, pulls 4,000
# practices of about 6.7 KB (26 MiB) from A. The bound is reached, logged
# and counted; what waits stays within it and one message beyond (a
# reconciliation's batch is at most 2 MiB); reading waits, and resumes:
# every record arrives, nothing is left waiting, and the link still carries
# a push afterwards.
. "$(dirname "$0")/lib.sh"

GEN=$ROOT/$BUILD/lcf-gen
MIB=1048576

city_node A SE
city_node B NO "s/^\\[federation\\]\$/[federation]\\nreceive_queue = 1M/"
LOG=${DIRS[B]}/node.log
st() { ctl B status --json | jq -r ".$1 // empty"; }

"$GEN" -n 4000 -s 5 | jq '[.[] | .objectives = ((.description * 9)[0:19000])]' \
    >"$_root/practices.json"
expect_status "A imports 4,000 practices" 0 ctl A practice import "$_root/practices.json"
want=$(ctl A status --json | jq .records_total)

expect_eq "B: nothing waiting before" 0 "$(st receive_queued_bytes)"
own=$(st records_total)
# The peak of the bytes waiting in B, sampled until the file stop appears.
sample_peak "$_root/peak" st receive_queued_bytes &
sampler=$!
expect_status "B adds A as its peer" 0 ctl B peer add "127.0.0.1:${PORTS[A]}"
b_all() { [ "$(st records_total)" -ge $((want + own)) ]; }
check "B pulled every record of A ($want) through a bound of 1 MiB" wait_for 60 b_all
touch "$_root/stop"
wait "$sampler"
peak=$(cat "$_root/peak")

check "the bound was reached: counted" test "$(st receive_queue_full)" -ge 1
expect_contains "and logged" "$(cat "$LOG")" \
    "bytes received and waiting to be verified and stored, the bound is $MIB (receive_queue)"
check "what waited stayed within the bound and one batch beyond ($peak <= $((3 * MIB)) bytes)" \
    test "$peak" -gt 0 -a "$peak" -le $((3 * MIB))
none_waiting() { [ "$(st receive_queued_bytes)" = 0 ]; }
check "nothing waits once they are stored" wait_for 10 none_waiting
expect_eq "no link waits for room" 0 "$(st receive_waiting_links)"
expect_contains "lcctl status says so" "$(ctl B status)" \
    "waiting to be verified and stored; its bound reached"
M=$(curl -s "$(http_url "${DIRS[B]}")/metrics")
expect_eq "/metrics: the bound" "$MIB" \
    "$(awk '/^lcf_receive_queue_limit_bytes / {print $2}' <<<"$M")"
check "/metrics: reached" test \
    "$(awk '/^lcf_receive_queue_full_total / {print $2}' <<<"$M")" -ge 1
expect_eq "/metrics: nothing waiting" 0 \
    "$(awk '/^lcf_receive_queued_bytes / {print $2}' <<<"$M")"

# The link reads again: a practice published on A is pushed to B.
publish A "Pushed after the bound"
check "B takes a push from A afterwards" wait_for 10 has_practice B pushed-after-the-bound
expect_eq "B is still linked to A" 1 "$(st peers_connected)"
