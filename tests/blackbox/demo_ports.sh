#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make demo's ports (issue 17): taken from LCF_DEMO_PORT_BASE and
# LCF_DEMO_HTTP_BASE, checked before anything starts, with a message naming a
# port in use and the variable to set; then a whole demo on free ports, run
# twice on one demo directory with other ports the second time.
. "$(dirname "$0")/lib.sh"

DEMO_SH=$ROOT/tools/demo.sh
export LCF_DEMO_DIR=$_root/demo BUILD
# Two bases whose next four ports are all free.
four_free() {
	local i
	for i in 1 2 3 4; do ! _port_busy $(($1 + i)) || return 1; done
}
pick_base() {
	local b
	while :; do
		b=$(free_port)
		four_free "$b" && { echo "$b"; return; }
	done
}
_port_next=$((_port_next + 10))
PB=$(pick_base)
_port_next=$((PB + 10))
HB=$(pick_base)
export LCF_DEMO_PORT_BASE=$PB LCF_DEMO_HTTP_BASE=$HB

expect_status "check-ports passes on free ports" 0 "$DEMO_SH" check-ports
expect_contains "naming them" "$OUT" "peer $((PB + 1))-$((PB + 4)), HTTP $((HB + 1))-$((HB + 4))"

# A listener on Tampere's peer port (the second city's), then on an HTTP port.
listen_on() {
	python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); print("up", flush=True); time.sleep(120)' "$1" >/dev/null &
	LISTENER=$!
	wait_for 5 _port_busy "$1"
}
listen_on $((PB + 2))
expect_status "a peer port in use fails the check" 1 "$DEMO_SH" check-ports
expect_contains "naming the port and what it is for" "$OUT" "port $((PB + 2)) (Tampere's peer port) is in use"
expect_contains "and the variable to set" "$OUT" "set LCF_DEMO_PORT_BASE"
expect_status "the demo itself refuses to start" 1 "$DEMO_SH"
expect_contains "with the same message" "$OUT" "port $((PB + 2)) (Tampere's peer port) is in use"
check "having started nothing (no demo directory)" [ ! -e "$LCF_DEMO_DIR" ]
kill "$LISTENER"; wait "$LISTENER" 2>/dev/null
listen_on $((HB + 4))
expect_status "an HTTP port in use fails the check" 1 "$DEMO_SH" check-ports
expect_contains "naming the port and the variable" "$OUT" \
	"port $((HB + 4)) (Secretariat's HTTP port) is in use: set LCF_DEMO_HTTP_BASE"
kill "$LISTENER"; wait "$LISTENER" 2>/dev/null

expect_status "a base that is no port is refused" 2 env LCF_DEMO_PORT_BASE=74x "$DEMO_SH" check-ports
expect_contains "naming the variable" "$OUT" "LCF_DEMO_PORT_BASE=74x: expected a port number"
expect_status "overlapping bases are refused" 2 env LCF_DEMO_HTTP_BASE=$((PB + 2)) "$DEMO_SH" check-ports
expect_contains "naming both" "$OUT" "LCF_DEMO_PORT_BASE=$PB and LCF_DEMO_HTTP_BASE=$((PB + 2)) overlap"

# The whole demo on those ports (about 7 s), then again on others.
trap '"$DEMO_SH" stop >/dev/null 2>&1; _cleanup' EXIT
expect_status "the demo runs on LCF_DEMO_PORT_BASE=$PB, LCF_DEMO_HTTP_BASE=$HB" 0 "$DEMO_SH"
expect_contains "Timisoara listens on the first peer port" "$OUT" "127.0.0.1:$((PB + 1))"
expect_eq "its HTTP face answers on the first HTTP port" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((HB + 1))/api/v1/status")"
expect_eq "the observer's on the fourth" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((HB + 4))/api/v1/status")"
expect_status "while it runs, check-ports names a port in use" 1 "$DEMO_SH" check-ports
"$DEMO_SH" stop >/dev/null
_port_next=$((HB + 10))
PB2=$(pick_base)
_port_next=$((PB2 + 10))
HB2=$(pick_base)
expect_status "the same demo directory runs again on other ports" 0 \
	env LCF_DEMO_PORT_BASE=$PB2 LCF_DEMO_HTTP_BASE=$HB2 "$DEMO_SH"
expect_eq "Tampere's peer listener moved" "127.0.0.1:$((PB2 + 2))" \
	"$("$LCCTL" -d "$LCF_DEMO_DIR/tampere" status --json | jq -r .listen)"
expect_eq "and its HTTP face" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((HB2 + 2))/api/v1/status")"
"$DEMO_SH" stop >/dev/null
