#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# lcnode under systemd without systemd: the notify protocol played by
# notify_socket.py (READY=1 only once both ports accept connections, STATUS=
# with records and peers kept current, WATCHDOG=1 at half of WATCHDOG_USEC,
# STOPPING=1 on SIGTERM; nothing sent without NOTIFY_SOCKET, a bad one not
# fatal); the journal's priority prefixes when JOURNAL_STREAM names stderr;
# and the unit files in config/systemd/ as systemd-analyze judges them.
# shellcheck source=tests/blackbox/lib.sh
. "$(dirname "$0")/lib.sh"

HELPER=$ROOT/tests/blackbox/notify_socket.py
W=$(tmpdir)

# notified DIR [HOST:PORT...]: starts the helper on DIR/notify.sock, writing
# DIR/notify.out, connecting on READY=1 to the ports given, else to DIR's peer
# and HTTP ports. HELPER_PID is set.
notified() {
	local d=$1 peer http
	shift
	if [ $# -eq 0 ]; then
		peer=$(sed -n 's/^listen = \(127.0.0.1:[0-9]*\)$/\1/p' "$d/lcnode.conf" | head -1)
		http=$(http_url "$d")
		set -- "$peer" "${http#http://}"
	fi
	rm -f "$d/notify.sock"
	: >"$d/notify.out"
	python3 "$HELPER" "$d/notify.sock" "$d/notify.out" "$@" &
	HELPER_PID=$!
	_nodes+=("$HELPER_PID")
	if ! wait_for 5 test -S "$d/notify.sock" || ! kill -0 "$HELPER_PID" 2>/dev/null; then
		fail "the helper listens on $d/notify.sock" "it did not start"
	fi
}

# under_notify DIR [WATCHDOG_PID]: lcnode on DIR with NOTIFY_SOCKET and a 3 s
# watchdog; WATCHDOG_PID is lcnode's own pid unless given. NODE_PID is set.
under_notify() {
	local d=$1 wpid=${2:-}
	NOTIFY_SOCKET=$d/notify.sock WATCHDOG_USEC=3000000 WPID=$wpid \
	    bash -c 'WATCHDOG_PID=${WPID:-$$} exec "$0" -d "$1"' "$LCNODE" "$d" \
	    >>"$d/node.log" 2>&1 &
	NODE_PID=$!
	_nodes+=("$NODE_PID")
	echo "$NODE_PID" >"$d/test.pid"
}

# block PORT: something else listens on 127.0.0.1:PORT until unblock.
block() {
	python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(120)' "$1" &
	BLOCKER=$!
	_nodes+=("$BLOCKER")
	wait_for 5 _port_busy "$1" || echo "# cannot take port $1: $(ss -ltnp | grep ":$1 ")"
}
unblock() { kill "$BLOCKER" 2>/dev/null; wait "$BLOCKER" 2>/dev/null; }

# fields DIR PREFIX: the fields received starting with PREFIX, in order.
fields() { awk -v p="$2" 'index($2, p) == 1 { $1 = ""; sub(/^ /, ""); print }' "$1/notify.out"; }
got() { grep -q -- " $2" "$1/notify.out"; }
# records_in STATUS-LINE: the records count it carries.
records_in() { sed -n 's/^STATUS=\([0-9]*\) records held, .*/\1/p' <<<"$1"; }

# ---- a node under the notify protocol ----
A=$W/a
PA=$(free_port)
IDS[A]=$(init_city "$A" Alpha SE "$PA")
DIRS[A]=$A
notified "$A"
under_notify "$A"
APID=$NODE_PID
check "READY=1 arrives" wait_for 15 got "$A" READY=1
expect_eq "the peer port accepted a connection at READY=1" ok \
    "$(sed -n "s/.* CONNECT 127.0.0.1:$PA //p" "$A/notify.out")"
expect_eq "the HTTP port accepted a connection at READY=1" ok \
    "$(sed -n "s/.* CONNECT 127.0.0.1:$((PA - 10000)) //p" "$A/notify.out")"
order=$(awk '{ print $2 }' "$A/notify.out" | grep -n -m1 -e '^STATUS=opening' -e '^READY=1' | cut -d: -f2)
expect_eq "STATUS= says the store is opening before READY=1" "STATUS=opening" "$order"
expect_eq "READY=1 is sent once" 1 "$(fields "$A" READY=1 | wc -l)"
first=$(grep -A1 ' READY=1$' "$A/notify.out" | sed -n '2s/^[0-9.]* //p')
check "READY=1 comes with STATUS= of records held and peers ('$first')" \
    grep -Eq '^STATUS=[0-9]+ records held, [0-9]+ peers connected of [0-9]+ known$' <<<"$first"

# STATUS= follows what the node holds: a publish and a peer change it.
before=$(fields "$A" STATUS= | tail -1)
n0=$(records_in "$before")
publish A "Notified practice"
more_records() { [ "$(records_in "$(fields "$A" STATUS= | tail -1)")" -gt "${n0:-999999}" ]; }
check "STATUS= counts the published record (was '$before')" wait_for 10 more_records
city_node B FI
ctl B peer add "127.0.0.1:$PA" >/dev/null
one_peer() { fields "$A" STATUS= | tail -1 | grep -q ', 1 peers connected of 1 known$'; }
check "STATUS= counts the peer that linked" wait_for 15 one_peer
check "STATUS= is sent only when it changes (no two the same in a row)" \
    test "$(fields "$A" STATUS= | uniq -d | wc -l)" -eq 0

# WATCHDOG=1 every 1.5 s (half of WATCHDOG_USEC, 3 s), from the start. The
# gaps are measured where the helper reads them, so a late read makes one
# longer and the next shorter: the mean shows the rate.
sleep 5
awk '$2 == "WATCHDOG=1" { print $1 }' "$A/notify.out" >"$W/pings"
pings=$(wc -l <"$W/pings")
check "WATCHDOG=1 arrives ($pings pings)" test "$pings" -ge 5
gaps=$(awk 'NR > 1 { print $1 - prev } { prev = $1 }' "$W/pings" | sort -n)
check "no gap between pings reaches WATCHDOG_USEC (longest $(tail -1 <<<"$gaps") s)" \
    awk -v g="$(tail -1 <<<"$gaps")" 'BEGIN { exit !(g != "" && g < 3.0) }'
mean=$(awk 'NR == 1 { first = $1 } { last = $1 } END { if (NR > 1) print (last - first) / (NR - 1) }' "$W/pings")
check "pings come at about half of it (mean gap ${mean:-none} s)" \
    awk -v g="$mean" 'BEGIN { exit !(g != "" && g >= 1.2 && g < 2.0) }'

# A loop that stops turning stops the pings: SIGSTOP holds the whole node.
kill -STOP "$APID"
n1=$(grep -c ' WATCHDOG=1$' "$A/notify.out")
sleep 3.5
n2=$(grep -c ' WATCHDOG=1$' "$A/notify.out")
kill -CONT "$APID"
expect_eq "no ping while the node is stopped" "$n1" "$n2"

stop_node "$A"
rc=$?
expect_eq "lcnode stops cleanly on SIGTERM" 0 "$rc"
check "STOPPING=1 on SIGTERM" got "$A" STOPPING=1
stop_node "${DIRS[B]}"
wait "$HELPER_PID" 2>/dev/null
expect_eq "nothing after STOPPING=1 but its STATUS=" "STATUS=stopping" \
    "$(sed -n '/ STOPPING=1$/,$p' "$A/notify.out" | sed 1d | awk '{ print $2 }' | sort -u | tr '\n' ' ' | sed 's/ $//')"

# ---- WATCHDOG_PID naming another process: no pings, still ready ----
notified "$A"
under_notify "$A" 1
check "READY=1 with the watchdog meant for another pid" wait_for 15 got "$A" READY=1
sleep 2
expect_eq "no WATCHDOG=1 when WATCHDOG_PID is another process" 0 \
    "$(grep -c ' WATCHDOG=1$' "$A/notify.out")"
stop_node "$A"
wait "$HELPER_PID" 2>/dev/null

# ---- [http] listen = off: ready once the peer port listens ----
sed -i '/^\[http\]/,/^\[/s/^listen = .*/listen = off/' "$A/lcnode.conf"
notified "$A" "127.0.0.1:$PA"
under_notify "$A"
check "READY=1 with [http] off" wait_for 15 got "$A" READY=1
expect_eq "the peer port accepted a connection at READY=1 ([http] off)" ok \
    "$(sed -n "s/.* CONNECT 127.0.0.1:$PA //p" "$A/notify.out")"
stop_node "$A"
wait "$HELPER_PID" 2>/dev/null
sed -i "/^\[http\]/,/^\[/s/^listen = off\$/listen = 127.0.0.1:$((PA - 10000))/" "$A/lcnode.conf"
check "(the HTTP port set again)" test "$(http_url "$A")" = "http://127.0.0.1:$((PA - 10000))"

# ---- the HTTP port taken: never ready, and STATUS= says why ----
block "$((PA - 10000))"
notified "$A"
under_notify "$A"
check "the node runs with its HTTP port taken" wait_for 15 "$LCCTL" -d "$A" status
sleep 3
check "no READY=1 while the HTTP port does not listen" bash -c "! grep -q ' READY=1\$' '$A/notify.out'"
expect_contains "STATUS= says why it is not ready" "$(fields "$A" STATUS= | tail -1)" \
    "STATUS=not ready: cannot serve HTTP on 127.0.0.1:$((PA - 10000))"
stop_node "$A"
kill "$HELPER_PID" 2>/dev/null
wait "$HELPER_PID" 2>/dev/null
unblock

# ---- the peer port taken: lcnode does not start, and was never ready ----
block "$PA"
notified "$A"
under_notify "$A"
wait "$NODE_PID"
rc=$?
check "lcnode exits with an error when its peer port is taken (status $rc)" test "$rc" -ne 0
sleep 0.5
check "it had said it was opening the store" got "$A" "STATUS=opening the store"
check "and never sent READY=1" bash -c "! grep -q ' READY=1\$' '$A/notify.out'"
kill "$HELPER_PID" 2>/dev/null
wait "$HELPER_PID" 2>/dev/null
unblock

# ---- a NOTIFY_SOCKET nobody listens on: said once, the node runs on ----
: >"$A/node.log"
NOTIFY_SOCKET=$W/nobody.sock WATCHDOG_USEC=200000 "$LCNODE" -d "$A" >>"$A/node.log" 2>&1 &
NODE_PID=$!
_nodes+=("$NODE_PID")
echo "$NODE_PID" >"$A/test.pid"
check "lcnode runs with a NOTIFY_SOCKET nobody listens on" wait_for 15 "$LCCTL" -d "$A" status
sleep 1
expect_eq "the failure is logged once" 1 "$(grep -c 'notify: cannot tell systemd through NOTIFY_SOCKET' "$A/node.log")"
stop_node "$A"
expect_eq "and it stops cleanly" 0 "$?"

# ---- journald priorities ----
J=$W/journal.log
: >"$J"
JOURNAL_STREAM=$(stat -c '%d:%i' "$J") "$LCNODE" -d "$A" 2>>"$J" &
NODE_PID=$!
_nodes+=("$NODE_PID")
echo "$NODE_PID" >"$A/test.pid"
check "lcnode runs with its stderr as the journal" wait_for 15 "$LCCTL" -d "$A" status
kill -HUP "$NODE_PID"
sleep 0.3
stop_node "$A"
check "an info line starts with <6> and no timestamp" grep -q '^<6>info: lcnode .* serving ' "$J"
check "every line starts with a priority" bash -c "! grep -qv '^<[0-7]>' '$J'"
# A warning: the HTTP port taken by another node.
block "$((PA - 10000))"
: >"$J"
JOURNAL_STREAM=$(stat -c '%d:%i' "$J") "$LCNODE" -d "$A" 2>>"$J" &
NODE_PID=$!
_nodes+=("$NODE_PID")
echo "$NODE_PID" >"$A/test.pid"
check "lcnode runs (HTTP port taken)" wait_for 15 "$LCCTL" -d "$A" status
stop_node "$A"
unblock
check "a warning starts with <4>" grep -q '^<4>warning: http: cannot serve HTTP' "$J"
: >"$J"
JOURNAL_STREAM=$(stat -c '%d:%i' "$J") "$LCNODE" -d "$W/missing" 2>>"$J"
expect_eq "a node that cannot start says why with <3>" "<3>lcnode: $W/missing:" \
    "$(head -1 "$J" | cut -d' ' -f1-2)"
: >"$J"
JOURNAL_STREAM=$(stat -c '%d:%i' "$W/pings") "$LCNODE" -d "$W/missing" 2>>"$J"
expect_eq "JOURNAL_STREAM naming another file: the line unchanged" "lcnode: $W/missing:" \
    "$(head -1 "$J" | cut -d' ' -f1-2)"
: >"$J"
JOURNAL_STREAM=$(stat -c '%d:%i' "$W/pings") "$LCNODE" -d "$A" 2>>"$J" &
NODE_PID=$!
_nodes+=("$NODE_PID")
echo "$NODE_PID" >"$A/test.pid"
check "lcnode runs with JOURNAL_STREAM naming another file" wait_for 15 "$LCCTL" -d "$A" status
stop_node "$A"
check "then every line starts with its timestamp" \
    bash -c "grep -q . '$J' && ! grep -qvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z lcnode ' '$J'"

# lcctl's errors (the backup timer runs it) carry the error priority too.
: >"$J"
JOURNAL_STREAM=$(stat -c '%d:%i' "$J") "$LCCTL" -d "$W/missing" status 2>>"$J"
expect_eq "an lcctl error starts with <3> when stderr is the journal" "<3>lcctl: $W/missing" \
    "$(head -1 "$J" | cut -d' ' -f1-2)"
: >"$J"
"$LCCTL" -d "$W/missing" status 2>>"$J"
expect_eq "and is unchanged elsewhere" "lcctl: $W/missing" "$(head -1 "$J" | cut -d' ' -f1-2)"

# ---- the unit files ----
UNITS=$ROOT/config/systemd
if ! command -v systemd-analyze >/dev/null 2>&1; then
	fail "systemd-analyze" "not installed (Debian's systemd package; tools/install-deps.sh installs it)"
else
	# verify wants the programs the units run: the built ones stand in for
	# /usr/bin's; man pages are checked by the package's own test.
	V=$(tmpdir)
	for u in lcnode.service lcnode-backup.service lcnode-backup.timer; do
		sed "s#/usr/bin/lcnode#$LCNODE#g; s#/usr/bin/lcctl#$LCCTL#g" "$UNITS/$u" >"$V/$u"
	done
	out=$(cd "$V" && systemd-analyze verify --man=no lcnode.service lcnode-backup.service lcnode-backup.timer 2>&1)
	rc=$?
	expect_eq "systemd-analyze verify accepts the units, silently" "0:" "$rc:$out"
	for u in lcnode.service lcnode-backup.service; do
		score=$(systemd-analyze security --offline=true "$UNITS/$u" 2>&1 |
		    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
		check "systemd-analyze security scores $u ${score:-(no score)} <= 2.0" \
		    awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }'
	done
	check "lcnode.service is Type=notify with a watchdog" \
	    grep -q '^WatchdogSec=[1-9]' "$UNITS/lcnode.service"
	check "the backup timer is daily" grep -q '^OnCalendar=daily$' "$UNITS/lcnode-backup.timer"
fi
