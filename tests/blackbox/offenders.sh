#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Repeat offenders wait longer and longer: an address that keeps breaking the
# handshake is refused before it for 1 s, then 2, then 4 (offender_backoff),
# a key that keeps sending bad records is refused after its handshake, and
# one address cannot hold more than handshakes_per_address handshakes; each
# refusal is counted by reason and logged, and an honest peer at another
# address (127.0.0.1, a shared address) syncs throughout.
. "$(dirname "$0")/lib.sh"

PROBE=$ROOT/$BUILD/lcf-peer-probe
city_node N SE 's/^\[federation\]$/[federation]\nhandshakes_per_address = 3\noffender_backoff = 1\noffender_backoff_max = 600/'
city_node H NO
NP=${PORTS[N]}
LOG=${DIRS[N]}/node.log
st() { ctl N status --json | jq -r ".$1 // empty"; }
reason() { ctl N status --json | jq -r --arg r "$1" '.refused_by_reason[$r] // 0'; }
expect_status "H dials N" 0 "$LCCTL" -d "${DIRS[H]}" peer add "127.0.0.1:$NP"
connected() { [ "$(st peers_connected)" -ge 1 ]; }
check "and is connected" wait_for 10 connected

# handshakes_per_address = 3: 6 silent connections from 127.0.0.3 hold 3
# handshakes; 3 are refused at once. From 127.0.0.1 (shared), no bound.
A0=$(reason address)
python3 - "$NP" <<'PY' &
import socket, sys, time
held = []
for _ in range(6):
    s = socket.socket()
    s.bind(("127.0.0.3", 0))
    s.connect(("127.0.0.1", int(sys.argv[1])))
    held.append(s)
time.sleep(3)
PY
holder=$!
three() { [ "$(reason address)" = $((A0 + 3)) ]; }
check "6 handshakes from one address: 3 refused (counted as address)" wait_for 5 three
expect_contains "logged" "$(cat "$LOG")" "3 handshakes from 127.0.0.3 under way already (handshakes_per_address)"
expect_status "H still reconciles with N" 0 "$LCCTL" -d "${DIRS[H]}" peer sync "127.0.0.1:$NP"
wait "$holder"

# offend.py PORT ROUNDS: from 127.0.0.2, ROUNDS times: dial every 50 ms until
# the node answers message 1 (it is refused before that while in its
# back-off), then break the handshake (message 3 of garbage). Prints, for
# each round, the seconds between the previous offence and the first dial
# the node answered, and how many dials it refused meanwhile.
cat >"$_root/offend.py" <<'PY'
import os, socket, sys, time
port, rounds = int(sys.argv[1]), int(sys.argv[2])
last = None
for _ in range(rounds):
    refused = 0
    while True:
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", port))
        s.sendall(b"\x00\x20" + os.urandom(32))     # message 1: e
        s.settimeout(5)
        try:
            answer = s.recv(2)
        except OSError:
            answer = b""
        if answer:
            break
        refused += 1
        s.close()
        time.sleep(0.05)
    now = time.monotonic()
    print("%.2f %d" % (now - last if last else 0, refused), flush=True)
    s.sendall(b"\x00\x40" + os.urandom(64))         # message 3: garbage
    try:
        s.recv(1)
    except OSError:
        pass
    s.close()
    last = time.monotonic()
PY
python3 "$_root/offend.py" "$NP" 4 >"$_root/offend.out" &
offender=$!

# Meanwhile H publishes and N reconciles with H.
publish H "Honest meanwhile"
h_practice() { ctl N practice list --json --city "${IDS[H]}" | jq -e 'any(.[]; .key == "honest-meanwhile")'; }
check "H's practice reaches N while the offender waits" wait_for 10 h_practice
expect_status "H reconciles with N meanwhile" 0 "$LCCTL" -d "${DIRS[H]}" peer sync "127.0.0.1:$NP"
check "the offender made its 4 attempts" wait_for 20 eval "[ \$(wc -l <'$_root/offend.out') = 4 ]"
wait "$offender"
mapfile -t rows <"$_root/offend.out"
read -r w1 r1 <<<"${rows[1]}"
read -r w2 r2 <<<"${rows[2]}"
read -r w3 r3 <<<"${rows[3]}"
check "after offence 1 it was refused for about 1 s (waited $w1 s, $r1 dials refused)" \
    awk "BEGIN { exit !($w1 >= 0.9 && $w1 < 1.9 && $r1 >= 1) }"
check "after offence 2 for about 2 s (waited $w2 s, $r2 refused)" \
    awk "BEGIN { exit !($w2 >= 1.9 && $w2 < 3.5 && $r2 >= 1) }"
check "after offence 3 for about 4 s (waited $w3 s, $r3 refused)" \
    awk "BEGIN { exit !($w3 >= 3.9 && $w3 < 6 && $r3 >= 1) }"
expect_eq "every refused dial is counted as backoff" "$((r1 + r2 + r3))" "$(reason backoff)"
check "the offences as protocol failures" test "$(reason protocol)" -ge 3 -o "$(reason crypto)" -ge 3
expect_eq "the offender is in its back-off now" 1 "$(st offenders)"
expect_contains "logged with its back-off" "$(cat "$LOG")" "address 127.0.0.2 broke the protocol"
expect_contains "and the refusals say why" "$(cat "$LOG")" "127.0.0.2 broke the protocol lately; refused for"
check "H is still connected" connected

# A key that sends a bad signature: refused at its next handshake.
(cd "$_root" && "$LCCTL" federation create -k probe.key --name P >/dev/null 2>&1)
B0=$(reason backoff)
expect_status "a probe with its own key sends a bad signature: disconnected" 0 \
    env LCF_PROBE_KEY="$_root/probe.key" "$PROBE" badsig "127.0.0.1:$NP"
env LCF_PROBE_KEY="$_root/probe.key" "$PROBE" hello "127.0.0.1:$NP" >/dev/null 2>&1
key_refused() { [ "$(reason backoff)" = $((B0 + 1)) ]; }
check "the same key at once: refused after its handshake (counted as backoff)" wait_for 5 key_refused
check "the offence is logged with the key" \
    grep -qE "peers: key [0-9a-f]{64} broke the protocol \(.*signature.*\): offence 1, refused for 1 s" "$LOG"

M=$(curl -s "$(http_url "${DIRS[N]}")/metrics")
expect_eq "/metrics: backoff refusals" "$(reason backoff)" \
    "$(awk '/^lcf_handshakes_total\{result="refused",reason="backoff"\}/ {print $2}' <<<"$M")"
check "/metrics: the offences" test "$(awk '/^lcf_peer_offences_total / {print $2}' <<<"$M")" -ge 4
