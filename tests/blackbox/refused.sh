#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Connections that never become a link are visible: every inbound one that
# fails before the handshake finishes (broken rules, a hang-up, an eviction)
# is counted in status (refused_connections, and by reason) and in
# /metrics, and logged at the default level, a few lines a minute however
# many come; the listen backlog holds a connect storm; a first message of
# the wrong size is named for what it is.
. "$(dirname "$0")/lib.sh"

city_node A SE
PORT=${PORTS[A]}
LOG=${DIRS[A]}/node.log
status() { ctl A status --json; }
reason() { status | jq -r --arg r "$1" '.refused_by_reason[$r] // 0'; }
reason_is() { [ "$(reason "$1")" = "$2" ]; }
reason_atleast() { [ "$(reason "$1")" -ge "$2" ]; }

# --- the backlog: what ss shows as the listener's Send-Q ---
want=$(( $(cat /proc/sys/net/core/somaxconn) < 4096 ? $(cat /proc/sys/net/core/somaxconn) : 4096 ))
backlog=$(ss -Hltn "sport = :$PORT" | awk '{print $3}')
expect_eq "the peer listener's backlog holds a storm (min of 4096 and somaxconn)" "$want" "$backlog"

expect_eq "a fresh node has refused nothing" 0 "$(status | jq .refused_connections)"
expect_eq "and lists no reason" "{}" "$(status | jq -c .refused_by_reason)"

# send.py PORT MODE [COUNT]: COUNT connections, each doing MODE, then hanging up.
cat >"${DIRS[A]}/send.py" <<'EOF'
import socket, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 1
held = []
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    if mode == "big":        # message 1 framed as 5,000 bytes
        s.sendall(b"\x13\x88" + b"\x01" * 5000)
    elif mode == "payload":  # an ephemeral key and 68 bytes more
        s.sendall(b"\x00\x64" + b"\x02" * 100)
    elif mode == "idle":     # holds the connection open, says nothing
        held.append(s)
        continue
    try:
        s.settimeout(5)
        s.recv(1)            # until the node closes it
    except OSError:
        pass
    s.close()
if held:
    time.sleep(1.5)
EOF
py() { python3 "${DIRS[A]}/send.py" "$PORT" "$@"; }

py big
check "an oversized first message is counted as a protocol refusal" wait_for 5 reason_is protocol 1
expect_contains "and logged at the default level as what it is" "$(cat "$LOG")" "message 1 is the initiator's 32-byte ephemeral key alone"
check "not as a Hello" bash -c "! grep -q 'Hello too large' '$LOG'"

py payload
check "a first message with a payload is refused too" wait_for 5 reason_is protocol 2
expect_contains "and the log says why" "$(cat "$LOG")" "message 1 carries 68 bytes of payload"

# A hang-up before the handshake (a port scan, a health check that only
# connects): counted as closed and logged at the default level.
python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT)).close()"
check "a hang-up before the handshake is counted as closed" wait_for 5 reason_is closed 1
expect_contains "and logged without -v" "$(cat "$LOG")" "connection ended before the handshake finished"

# 70 idle connections: 64 handshakes may wait; the oldest give way.
py idle 70
check "handshakes that gave way to newer ones are counted as evicted" wait_for 5 reason_atleast evicted 6
check "and the others as closed when the client hung up" wait_for 5 reason_atleast closed 60
total=$(status | jq '.refused_connections')
sum=$(status | jq '[.refused_by_reason[]] | add')
expect_eq "refused_connections is the sum of its reasons" "$total" "$sum"
ctl A status >"${DIRS[A]}/status.txt"
expect_contains "lcctl status shows the reasons" "$(cat "${DIRS[A]}/status.txt")" "evicted"

# A storm of 300 garbage connections: all counted; the log took at most
# 10 lines a minute of the 373 (this test runs in less than a minute).
py payload 300
check "all 300 are counted" wait_for 10 reason_is protocol 302
lines=$(grep -c "peer 127.0.0.1:[0-9]*: connection" "$LOG")
check "373 refused connections took $lines lines of the log (at most 10 a minute)" [ "$lines" -ge 3 -a "$lines" -le 10 ]
expect_eq "lcf_handshakes_total counts them by reason too" 302 \
	"$(curl -s "$(http_url "${DIRS[A]}")/metrics" | awk '/^lcf_handshakes_total\{result="failed",reason="protocol"\}/ {print $2}')"
# Loopback is a shared address by default (a local proxy shows every peer
# there): its garbage is counted as offences, and nobody is refused for it.
M=$(curl -s "$(http_url "${DIRS[A]}")/metrics")
check "lcf_peer_offences_total counts the offences from the shared address" \
	test "$(awk '/^lcf_peer_offences_total / {print $2}' <<<"$M")" -ge 302
expect_eq "and refuses nobody for them" 0 "$(awk '/^lcf_peer_offenders / {print $2}' <<<"$M")"
check "the node still serves" ctl A status >/dev/null

