# SPDX-License-Identifier: Apache-2.0
# Shared helpers of the network campaign (make test-net): lcnode processes in
# network namespaces joined by a bridge, nftables for partitions and loss,
# tests/net/lcproxy.py for delay, libfaketime for skewed clocks. Needs root.
# The black-box helpers (ok, fail, check, ctl, wait_for, publish ...) come
# from tests/blackbox/lib.sh; nodes are registered in its DIRS and IDS.
if [ "$(id -u)" != 0 ]; then
	echo "not ok - $(basename "$0"): the network campaign needs root (network namespaces, nftables): run 'sudo make test-net'"
	exit 1
fi
for tool in ip nft faketime /usr/bin/python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "not ok - $(basename "$0"): $tool is missing (Debian packages iproute2, nftables, faketime, python3: tools/debian-packages.txt)"
		exit 1
	fi
done
. "$(dirname "${BASH_SOURCE[0]}")/../blackbox/lib.sh"

NET_TAG=lcf$$		# namespace names: ${NET_TAG}h (the bridge), ${NET_TAG}nI
NET_PREFIX=10.77.0	# node I is $NET_PREFIX.I
NET_PORT=7400
PROXY=$ROOT/tests/net/lcproxy.py
declare -A NS IP
_net_n=0

_net_cleanup() {
	local i
	for i in $(seq 1 "$_net_n"); do ip netns del "${NET_TAG}n$i" 2>/dev/null; done
	ip netns del "${NET_TAG}h" 2>/dev/null
	_cleanup
}
trap _net_cleanup EXIT

# net_setup N: N namespaces, each with lo and eth0 ($NET_PREFIX.I/24) on one
# bridge in a namespace of its own (the host's network is not touched), and
# an empty nftables table inet lcnet with an input chain.
net_setup() {
	local i ns
	_net_n=$1
	ip netns add "${NET_TAG}h" || return 1
	ip -n "${NET_TAG}h" link add br0 type bridge &&
		ip -n "${NET_TAG}h" link set br0 up || return 1
	for i in $(seq 1 "$1"); do
		ns=${NET_TAG}n$i
		ip netns add "$ns" &&
			ip -n "$ns" link set lo up &&
			ip link add "v$i" netns "${NET_TAG}h" type veth peer name eth0 netns "$ns" &&
			ip -n "${NET_TAG}h" link set "v$i" master br0 up &&
			ip -n "$ns" addr add "$NET_PREFIX.$i/24" dev eth0 &&
			ip -n "$ns" link set eth0 up &&
			ip netns exec "$ns" nft -f - <<-EOF || return 1
			table inet lcnet {
				chain input { type filter hook input priority 0; policy accept; }
			}
			EOF
	done
}

# net_node NAME I [CONF-SED [WRAPPER...]]: a node in namespace I listening on
# $NET_PREFIX.I:$NET_PORT (its HTTP face on the namespace's own loopback),
# its config edited by CONF-SED, started through WRAPPER (faketime ...).
net_node() {
	local name=$1 i=$2 sed=${3:-} d pid k
	shift 3 2>/dev/null || shift $#
	d=$(tmpdir)/$name
	NS[$name]=${NET_TAG}n$i
	IP[$name]=$NET_PREFIX.$i
	IDS[$name]=$("$LCCTL" -d "$d" init --city "$name" --country CH \
		--listen "$NET_PREFIX.$i:$NET_PORT" 2>/dev/null | tail -1)
	DIRS[$name]=$d
	PORTS[$name]=$NET_PORT
	[ -z "$sed" ] || sed -i "$sed" "$d/lcnode.conf"
	ip netns exec "${NS[$name]}" "$@" "$LCNODE" -d "$d" >>"$d/node.log" 2>&1 &
	pid=$!
	_nodes+=("$pid")
	echo "$pid" >"$d/test.pid"
	for k in $(seq 1 100); do
		"$LCCTL" -d "$d" status >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "start $name" "lcnode did not answer: $(tail -3 "$d/node.log")"
	return 1
}

# nft_in NAME RULE...: adds RULE to the input chain of NAME's namespace.
nft_in() {
	local name=$1
	shift
	ip netns exec "${NS[$name]}" nft add rule inet lcnet input "$@"
}
# nft_flush NAME: removes every rule of NAME's input chain.
nft_flush() {
	ip netns exec "${NS[$1]}" nft flush chain inet lcnet input
}

# now_ms: wall clock in milliseconds, for the figures.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# practices NAME: how many current practices NAME holds (empty if it does
# not answer).
practices() {
	ctl "$1" practice list --json --limit 0 2>/dev/null | jq length 2>/dev/null
}

# all_count N NAME...: every NAME holds exactly N practices.
all_count() {
	local want=$1 n
	shift
	for n in "$@"; do [ "$(practices "$n")" = "$want" ] || return 1; done
}
