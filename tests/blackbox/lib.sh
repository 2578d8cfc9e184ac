# SPDX-License-Identifier: Apache-2.0
# Shared helpers for black-box tests: real lcnode and lcctl on temporary
# directories. Each check prints "ok - NAME" or "not ok - NAME: why".
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LCCTL=$ROOT/$BUILD/lcctl
LCNODE=$ROOT/$BUILD/lcnode
SAMPLES=$ROOT/config/sample
export LCF_SRCDIR=$ROOT
unset LCF_DIR
_nodes=()
# Every temporary directory lives under one root made here, so they are removed
# even when tmpdir runs in a command substitution (a subshell).
_root=$(mktemp -d "${TMPDIR:-/tmp}/lcf-test.XXXXXX")

# A sanitizer's report in any node's log (make test SANITIZE=1) fails the
# test, whatever its checks said.
_cleanup() {
	local pid f
	for pid in "${_nodes[@]}"; do kill -9 "$pid" 2>/dev/null; done
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		echo "not ok - a sanitizer reported in ${f#"$_root"/}: $(grep -m1 -E 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$f")"
	done < <(grep -rlE --include='*.log' 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$_root" 2>/dev/null)
	rm -rf "$_root"
}
trap _cleanup EXIT

tmpdir() {
	mktemp -d "$_root/t.XXXXXX"
}

ok() { echo "ok - $1"; }
fail() { echo "not ok - $1: $2"; }

# check NAME CMD...: passes when CMD exits 0.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name" "command failed: $*"; fi
}

# expect_eq NAME EXPECTED ACTUAL. An empty EXPECTED means the test's own setup
# failed (a node that never answered), never a pass.
expect_eq() {
	if [ -z "$2" ]; then fail "$1" "nothing to compare with (setup failed?)"
	elif [ "$2" = "$3" ]; then ok "$1"
	else fail "$1" "expected '$2', got '$3'"; fi
}

# expect_contains NAME HAYSTACK NEEDLE (an empty NEEDLE is a setup failure).
expect_contains() {
	if [ -z "$3" ]; then
		fail "$1" "nothing to look for (setup failed?)"
		return
	fi
	case "$2" in
	*"$3"*) ok "$1" ;;
	*) fail "$1" "expected to find '$3' in: $(printf '%s' "$2" | head -c 600)" ;;
	esac
}

# expect_status NAME EXPECTED_STATUS CMD...: runs CMD, compares its exit status;
# its stdout+stderr are left in $OUT.
expect_status() {
	local name=$1 want=$2 got
	shift 2
	OUT=$("$@" 2>&1)
	got=$?
	if [ "$got" = "$want" ]; then ok "$name"
	else fail "$name" "exit status $got, expected $want; output: $(printf '%s' "$OUT" | head -c 600)"; fi
}

# init_city DIR NAME CC [PORT]: lcctl init; prints the city id. The node's HTTP
# face gets a port of its own (http_url), so that nodes do not share one.
# Its port is the peer port less 10000: the peer ports of one test are close
# together, so the two ranges never meet.
init_city() {
	local port=${4:-$(free_port)}
	"$LCCTL" -d "$1" init --city "$2" --country "$3" --listen "127.0.0.1:$port" 2>/dev/null | tail -1
	[ ! -f "$1/lcnode.conf" ] ||
		sed -i "s/^; listen = 127.0.0.1:8380\$/listen = 127.0.0.1:$((port - 10000))/" "$1/lcnode.conf"
}
# http_url DIR: the base URL of the node's HTTP face ([http] listen).
http_url() {
	echo "http://$(sed -n '/^\[http\]/,/^\[/s/^listen = //p' "$1/lcnode.conf")"
}

# Below the ephemeral range (32768 and up on Linux), where the nodes' own
# outgoing connections could already hold a port a test wants to listen on.
# A port where something already listens (another suite's node on the same
# machine, its HTTP face 10000 below) is passed over: a test that dialed it
# would talk to a stranger.
# tests/run.sh runs scripts side by side, each in a slot (LCF_TEST_SLOT of
# LCF_TEST_SLOTS) with its own share of 20000-31999, so that two scripts never
# take the same port.
_port_span=$((12000 / ${LCF_TEST_SLOTS:-1}))
_port_lo=$((20000 + ${LCF_TEST_SLOT:-0} * _port_span))
_port_hi=$((_port_lo + _port_span))
_port_next=$((_port_lo + (($$ * 7 + RANDOM) % _port_span)))
_port_busy() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
	_port_next=$((_port_next + 1))
	while [ "$_port_next" -ge "$_port_hi" ] || _port_busy "$_port_next" ||
	    _port_busy "$((_port_next - 10000))"; do
		if [ "$_port_next" -ge "$_port_hi" ]; then _port_next=$_port_lo; fi
		_port_next=$((_port_next + 1))
	done
	echo "$_port_next"
}

# start_node DIR [LCNODE-OPTIONS...]: runs lcnode in the background (log in
# DIR/node.log; options such as --restore FILE passed on) and waits until it
# answers on its admin socket. NODE_PID is set.
start_node() {
	local dir=$1 i
	"$LCNODE" -d "$dir" "${@:2}" >>"$dir/node.log" 2>&1 &
	NODE_PID=$!
	_nodes+=("$NODE_PID")
	echo "$NODE_PID" >"$dir/test.pid"
	for i in $(seq 1 100); do
		if "$LCCTL" -d "$dir" status >/dev/null 2>&1; then return 0; fi
		if ! kill -0 "$NODE_PID" 2>/dev/null; then
			echo "# lcnode exited early: $(tail -5 "$dir/node.log")"
			return 1
		fi
		sleep 0.1
	done
	echo "# lcnode did not answer within 10 s"
	return 1
}

# stop_node DIR [SIGNAL]: stops the node started on DIR, waits for it, and
# returns its exit status (0 for a clean stop on SIGTERM).
stop_node() {
	local pid
	pid=$(cat "$1/test.pid")
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

is_hex64() { [[ $1 =~ ^[0-9a-f]{64}$ ]]; }

# ctl_jq NAME EXPR LCCTL-ARGS...: true when `lcctl ARGS` succeeds, prints
# something, and jq -e EXPR holds on it. (jq alone succeeds on empty input, so
# a dead node must not look like a passing check.)
ctl_jq() {
	local name=$1 expr=$2 out
	shift 2
	out=$(ctl "$name" "$@") || return 1
	[ -n "$out" ] || return 1
	jq -e "$expr" <<<"$out" >/dev/null
}

# ---- federation helpers: several named nodes on loopback ports ----
declare -A DIRS PORTS IDS

# city_node NAME COUNTRY [SED-SCRIPT]: init a node (editing lcnode.conf with the
# sed script, if given) and start it; its directory, port and id go in DIRS,
# PORTS and IDS.
city_node() {
	local d port
	d=$(tmpdir)/$1
	# Not in a subshell: the next call must get the next port.
	free_port >/dev/null
	port=$_port_next
	IDS[$1]=$(init_city "$d" "$1" "$2" "$port")
	DIRS[$1]=$d
	PORTS[$1]=$port
	[ $# -lt 3 ] || sed -i "$3" "$d/lcnode.conf"
	start_node "$d" || fail "start $1" "lcnode did not start"
}

ctl() {
	local name=$1
	shift
	"$LCCTL" -d "${DIRS[$name]}" "$@"
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.1
	done
	return 0
}

# sample_peak OUT CMD...: until the file $_root/stop appears, runs CMD every
# 0.05 s and keeps in OUT the largest number it printed (0 before any). Run
# it in the background; touch $_root/stop, wait for it, then read OUT.
sample_peak() {
	local out=$1 peak=0 v
	shift
	echo 0 >"$out"
	while [ ! -e "$_root/stop" ]; do
		v=$("$@")
		if [ "${v:-0}" -gt "$peak" ]; then
			peak=$v
			echo "$peak" >"$out"
		fi
		sleep 0.05
	done
}

# has_practice NAME KEY: the node holds a current practice with that key.
has_practice() {
	ctl_jq "$1" "any(.[]; .key == \"$2\")" practice list --json --limit 0
}

# lacks_practice NAME KEY: the node answers, and holds no such practice.
lacks_practice() {
	ctl_jq "$1" "all(.[]; .key != \"$2\")" practice list --json --limit 0
}

# peer_field NAME PEERID FIELD: a field of the peer with that id in peer list.
peer_field() {
	ctl "$1" peer list --json | jq -r --arg id "$2" ".[] | select(.id == \$id or .pinned_id == \$id) | .$3"
}

connected() {
	[ "$(peer_field "$1" "${IDS[$2]}" state)" = connected ]
}

# disconnected A B: A answers and lists B, in a state other than connected.
disconnected() {
	local st
	st=$(peer_field "$1" "${IDS[$2]}" state)
	[ -n "$st" ] && [ "$st" != connected ]
}

all_have() {
	local key=$1 n
	shift
	for n in "$@"; do has_practice "$n" "$key" || return 1; done
}

publish() {
	ctl "$1" practice add --title "$2" --summary "Shared with the federation." \
		--language en --area 2.2 >/dev/null
}

# ---- a node of protocol version 2, for tests of mixed versions ----
OLD_COMMIT=4ec577e
OLD=$ROOT/$BUILD/old-$OLD_COMMIT

# --- the old node, built once into $OLD from this repository's history ---
# (a plain build: none of this run's make settings, SANITIZE=1 say, reach it)
build_old() {
	[ -x "$OLD/build/lcnode" ] && [ -x "$OLD/build/lcctl" ] && return 0
	if ! git -C "$ROOT" cat-file -e "$OLD_COMMIT^{commit}" 2>/dev/null; then
		echo "# commit $OLD_COMMIT is not in $ROOT's history (a shallow clone?):" \
			"fetch it (git fetch --unshallow) to run this test"
		return 1
	fi
	rm -rf "$OLD.tmp" && mkdir -p "$OLD.tmp" &&
		git -C "$ROOT" archive "$OLD_COMMIT" | tar -x -C "$OLD.tmp" &&
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE -u CI -u BUILD -u WERROR \
		    nice make -C "$OLD.tmp" -j2 build/lcnode build/lcctl >"$OLD.tmp/make.log" 2>&1 ||
		{ echo "# building $OLD_COMMIT failed: $(tail -5 "$OLD.tmp/make.log" 2>/dev/null)"; return 1; }
	rm -rf "$OLD" && mv "$OLD.tmp" "$OLD"
}

# old_city_node NAME CITY COUNTRY [SED-SCRIPT]: init (with the old lcctl) and
# start a node of commit $OLD_COMMIT (build_old first); DIRS, PORTS, IDS as
# city_node. OLDCTL and OLDNODE are set.
old_city_node() {
	local d port
	OLDCTL=$OLD/build/lcctl
	OLDNODE=$OLD/build/lcnode
	d=$(tmpdir)/$1
	free_port >/dev/null
	port=$_port_next
	IDS[$1]=$("$OLDCTL" -d "$d" init --city "$2" --country "$3" --listen "127.0.0.1:$port" 2>/dev/null | tail -1)
	DIRS[$1]=$d
	PORTS[$1]=$port
	[ $# -lt 4 ] || sed -i "$4" "$d/lcnode.conf"
	# Its catalog by path: the build directory it was compiled in (and
	# would look in) was moved to $OLD.
	sed -i "s|^; *catalog = .*|catalog = $ROOT/config/catalog.json|" "$d/lcnode.conf"
	grep -q "^catalog = " "$d/lcnode.conf" || echo "catalog = $ROOT/config/catalog.json" >>"$d/lcnode.conf"
	"$OLDNODE" -d "$d" >>"$d/node.log" 2>&1 &
	_nodes+=("$!")
	check "the old node $1 starts" wait_for 10 "$OLDCTL" -d "$d" status
}
