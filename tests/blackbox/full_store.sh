#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A full store (issue 17): a node whose map_size, or whose disk, cannot hold
# what its peer has says so once in its log, in status, health and /readyz,
# goes on serving reads (lcctl, HTTP, a peer pulling from it), fetches
# nothing more while full instead of downloading everything again every
# sync_interval, and catches up by itself once space is made (map_size raised
# and a restart; disk space freed).
. "$(dirname "$0")/lib.sh"

NREC=${FULL_STORE_RECORDS:-8000}   # about 1,160 bytes each signed: ~9 MiB
# sync_interval (s): the first probe comes 5 intervals after the refusal,
# and the records in flight when the store filled take a few seconds to
# drain: 3 intervals after that must end before the probe.
IV=4
GEN=$ROOT/$BUILD/lcf-gen
FULL_LINE="store: the store is full"

total() { ctl "$1" status --json 2>/dev/null | jq -r '.records_total // 0'; }
# Wire bytes NAME has received from the peer with id ID (peer list).
bytes_in() { peer_field "$1" "$2" bytes_in; }
idle() { [ "$(ctl "$1" status --json | jq -r .sync_running)" = 0 ]; }
full_logged() { grep -q "$FULL_LINE" "${DIRS[$1]}/node.log"; }
# The node catches up: it holds as many records as Big (every one of Big's,
# the few of its own Big also holds).
caught_up() { [ "$(total "$1")" -ge "$(total Big)" ]; }
mib() { awk -v b="$1" 'BEGIN { printf "%.2f MiB", b / 1048576 }'; }

city_node Big SE "s/^sync_interval = .*/sync_interval = $IV/"
"$GEN" -n "$NREC" -s 11 -o "$_root/practices.json" 2>/dev/null
expect_status "Big imports $NREC practices" 0 ctl Big practice import "$_root/practices.json"

# watch NAME KIND LABEL: the checks while NAME's store is full of KIND
# ("map_size" or "disk"), after it was linked to Big.
watch_full() {
	local name=$1 kind=$2 b0 b1 t0 n url h
	if wait_for 60 full_logged "$name"; then
		ok "$kind: the log says the store is full"
	else
		fail "$kind: the log says the store is full" "$(tail -5 "${DIRS[$name]}/node.log")"
		return
	fi
	case $kind in
	map_size) expect_contains "$kind: and what to do" "$(cat "${DIRS[$name]}/node.log")" \
		"raise map_size in [store] of lcnode.conf and restart lcnode" ;;
	disk) expect_contains "$kind: and what to do" "$(cat "${DIRS[$name]}/node.log")" \
		"free some space on that disk" ;;
	esac
	wait_for 30 idle "$name"
	b0=$(bytes_in "$name" "${IDS[Big]}")
	echo "# $kind: ${b0} bytes received from Big until the store was full ($(mib "$b0"))"
	t0=$SECONDS
	# Never into the first probe (5 intervals after the refusal).
	win=$(ctl "$name" status --json | jq -r '(.store_full_probe_in_ms // 0) / 1000 | floor')
	[ "$win" -le $((3 * IV + 1)) ] || win=$((3 * IV + 1))
	[ "$win" -ge $((3 * IV)) ] ||
		echo "# $kind: the quiet window is only ${win} s: the first probe is due"
	sleep "$win"
	b1=$(bytes_in "$name" "${IDS[Big]}")
	WATCH_END=$b1
	echo "# $kind: $((b1 - b0)) bytes received from Big in the $((SECONDS - t0)) s (3 sync intervals and more) after it ($(mib $((b1 - b0))))"
	check "$kind: while full, under 512 KiB received in 3 sync intervals (got $((b1 - b0)) bytes)" \
		[ $((b1 - b0)) -lt $((512 * 1024)) ]
	expect_eq "$kind: the log says so once, not at every write" 1 \
		"$(grep -c "$FULL_LINE" "${DIRS[$name]}/node.log")"
	expect_eq "$kind: status --json says the store is full" "$kind" \
		"$(ctl "$name" status --json | jq -r .store_full)"
	check "$kind: status --json counts the pulled records refused" \
		ctl_jq "$name" '.space_refused.sync > 0' status --json
	expect_contains "$kind: status says so" "$(ctl "$name" status)" "FULL ($kind)"
	expect_status "$kind: health is degraded (exit 1)" 1 ctl "$name" health
	expect_contains "$kind: health says why" "$OUT" "the store is full"
	url=$(http_url "${DIRS[$name]}")
	h=$(curl -s -o "$_root/readyz.json" -w '%{http_code}' "$url/readyz")
	expect_eq "$kind: /readyz is not ready (503)" 503 "$h"
	expect_eq "$kind: /readyz names what is full" "$kind" \
		"$(jq -r .checks.store.full "$_root/readyz.json")"
	expect_contains "$kind: /readyz gives the reason" "$(jq -r '.reasons[]' "$_root/readyz.json")" \
		"the store is full"
	expect_contains "$kind: /metrics has lcf_store_full" "$(curl -s "$url/metrics")" \
		"lcf_store_full{what=\"$kind\"} 1"
	expect_eq "$kind: /healthz still answers 200" 200 \
		"$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")"
	# Reads go on.
	n=$(ctl "$name" practice list --json --limit 0 | jq length)
	check "$kind: practice list answers ($n practices)" [ -n "$n" ]
	expect_eq "$kind: the HTTP API answers" 200 \
		"$(curl -s -o /dev/null -w '%{http_code}' "$url/api/v1/status")"
}

# ---- map_size ----
city_node Small NO "s/^map_size = .*/map_size = 4M/; s/^sync_interval = .*/sync_interval = $IV/"
# A third city that knows only Small: Small serves it while full.
city_node Reader FR "s/^sync_interval = .*/sync_interval = $IV/"
expect_status "Small adds Big" 0 ctl Small peer add "127.0.0.1:${PORTS[Big]}"
watch_full Small map_size
# Past the back-off (5 sync intervals), no probe either: no room was made in
# the map (its free pages and the pages past the last in use, read at each
# tick), so a probe would only fetch a window of records to lose it again.
b0=$WATCH_END
sleep $((3 * IV))
wait_for 30 idle Small
b1=$(bytes_in Small "${IDS[Big]}")
echo "# map_size: from then to 6 sync intervals and more after the refusal: $((b1 - b0)) bytes ($(mib $((b1 - b0))))"
check "no room made in the map: no probe past the back-off (got $((b1 - b0)) bytes)" \
	[ $((b1 - b0)) -lt $((512 * 1024)) ]
expect_eq "and still one line in the log" 1 "$(grep -c "$FULL_LINE" "${DIRS[Small]}/node.log")"
# Records Big pushes are refused too: counted, and told no more in the log.
# An import of 700 practices (under 1 MiB: an import's larger content goes by
# reconciliation, not by push) needs more than the full map's room.
"$GEN" -n 700 -s 12 2>/dev/null | jq 'map(.key |= "pushed-" + .)' >"$_root/more.json"
expect_status "Big imports 700 more practices" 0 ctl Big practice import "$_root/more.json"
pushed() { ctl_jq Small '.space_refused.push > 0' status --json; }
check "pushes refused for space are counted (status .space_refused.push)" wait_for 10 pushed
expect_eq "and the log still says full once" 1 "$(grep -c "$FULL_LINE" "${DIRS[Small]}/node.log")"
expect_status "Reader adds Small" 0 ctl Reader peer add "127.0.0.1:${PORTS[Small]}"
want=$(total Small)
reader_has() { [ "$(total Reader)" -ge "$want" ]; }
check "a peer still pulls Small's records while it is full ($want)" wait_for 30 reader_has
check "Small is still full" ctl_jq Small '.store_full == "map_size"' status --json
ctl Reader peer rm "127.0.0.1:${PORTS[Small]}" >/dev/null 2>&1

stop_node "${DIRS[Small]}"
sed -i 's/^map_size = .*/map_size = 256M/' "${DIRS[Small]}/lcnode.conf"
start_node "${DIRS[Small]}" || fail "Small restarts with map_size 256M" "$(tail -3 "${DIRS[Small]}/node.log")"
if wait_for 60 caught_up Small; then
	ok "map_size raised and restarted: Small catches up by itself ($(total Small) records)"
else
	fail "map_size raised and restarted: Small catches up by itself" "$(total Small) of $(total Big)"
fi
check "and is no longer full" ctl_jq Small '.store_full == null' status --json
# The disk's case with Big alone: other pullers would share its room.
stop_node "${DIRS[Small]}"
stop_node "${DIRS[Reader]}"

# ---- a full disk ----
M=$(tmpdir)/disk
mkdir -p "$M"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=128m tmpfs "$M" 2>/dev/null; then
	echo "# the full-disk checks were not run: they need root to mount a tmpfs" >&2
	exit 0
fi
trap 'umount -l "$M" 2>/dev/null; _cleanup' EXIT
D=$M/Disk
free_port >/dev/null
port=$_port_next
IDS[Disk]=$(init_city "$D" Disk DK "$port")
DIRS[Disk]=$D
PORTS[Disk]=$port
sed -i "s/^map_size = .*/map_size = 512M/; s/^sync_interval = .*/sync_interval = $IV/" "$D/lcnode.conf"
start_node "$D" || fail "start Disk" "lcnode did not start"
# Leave about 3 MiB: less than the records need.
avail=$(df --output=avail -k "$M" | tail -1 | tr -d ' ')
dd if=/dev/zero of="$M/filler" bs=1k count=$((avail - 3072)) 2>/dev/null
expect_status "Disk adds Big" 0 ctl Disk peer add "127.0.0.1:${PORTS[Big]}"
watch_full Disk disk
rm -f "$M/filler"
if wait_for 60 caught_up Disk; then
	ok "disk space freed: Disk catches up by itself, no restart ($(total Disk) records)"
else
	fail "disk space freed: Disk catches up by itself, no restart" "$(total Disk) of $(total Big)"
fi
check "and is no longer full" wait_for 10 ctl_jq Disk '.store_full == null' status --json
expect_contains "the log says it fetches again" "$(cat "$D/node.log")" "store: no longer full"
stop_node "$D"
stop_node "${DIRS[Big]}"
