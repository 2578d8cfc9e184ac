#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make bench, membership part: a federation of many member nodes, one of them
# revoked; how long until every other node refuses its records (the moment each
# node applied the revocation, from its "revoked" log line, against the moment
# the revocation was published), and whether every link to it closed. Ends
# with one BENCH-JSON-MEM line.
#
# Environment: BENCH_MEM_NODES (64), BENCH_MEM_DEGREE (4: peers each node
# dials at random), BENCH_MEM_SEED (1), TMPDIR. Exits 0 unless a program
# crashed or failed; a missed target is information, not a failure.
set -u
# shellcheck source=tests/blackbox/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../blackbox/lib.sh"
BENCH_TAG=BENCH-JSON-MEM
# shellcheck source=tests/bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

NNODES=${BENCH_MEM_NODES:-64}
DEGREE=${BENCH_MEM_DEGREE:-4}
SEED=${BENCH_MEM_SEED:-1}
TARGET_REVOKE_MS=2000    # every node refuses the revoked city's records

failed=0
declare -A J
declare -a DIR PORT ID PID DEG

for v in NNODES DEGREE SEED; do
	case ${!v} in ''|*[!0-9]*) die "BENCH_MEM_$v must be a number" ;; esac
done
[ "$NNODES" -ge 3 ] || die "BENCH_MEM_NODES must be at least 3"
{ [ "$DEGREE" -ge 1 ] && [ "$DEGREE" -lt "$NNODES" ]; } ||
    die "BENCH_MEM_DEGREE must be 1..BENCH_MEM_NODES-1"

T=$(tmpdir)
echo
echo "== membership: $NNODES member nodes, each dialing $DEGREE at random;" \
    "one revoked (sync_interval 600 s: push carries the revocation)"
FED=$("$LCCTL" federation create -k "$T/fed.key" --name "Bench federation" 2>/dev/null)
is_hex64 "$FED" || die "lcctl federation create failed"
for ((k = 0; k < NNODES; k++)); do
	free_port >/dev/null
	PORT[k]=$_port_next
	DIR[k]=$T/m$k
	ID[k]=$("$LCCTL" -d "${DIR[k]}" init --city "Member $k" --country SE \
	    --listen "127.0.0.1:${PORT[k]}" --federation "$FED" 2>/dev/null | tail -1)
	is_hex64 "${ID[k]}" || die "lcctl init of node $k failed"
	sed -i 's/^sync_interval = .*/sync_interval = 600/' "${DIR[k]}/lcnode.conf"
	"$LCCTL" federation admit -k "$T/fed.key" "${ID[k]}" --city "Member $k" \
	    --country SE >>"$T/admit.rec" 2>/dev/null || die "admit $k failed"
done
for ((k = 0; k < NNODES; k++)); do
	"$LCNODE" -d "${DIR[k]}" >>"${DIR[k]}/node.log" 2>&1 &
	PID[k]=$!
	_nodes+=("$!")
done
for ((k = 0; k < NNODES; k++)); do
	wait_for 30 "$LCCTL" -d "${DIR[k]}" status || die "node $k did not start"
	"$LCCTL" -d "${DIR[k]}" publish "$T/admit.rec" >/dev/null ||
	    die "publishing the admissions at node $k failed"
done
RANDOM=$SEED
declare -A EDGE
for ((k = 0; k < NNODES; k++)); do DEG[k]=0; done
for ((k = 0; k < NNODES; k++)); do
	declare -A picked=()
	while [ "${#picked[@]}" -lt "$DEGREE" ]; do
		j=$((RANDOM % NNODES))
		[ "$j" -ne "$k" ] && picked[$j]=1
	done
	for j in "${!picked[@]}"; do
		"$LCCTL" -d "${DIR[k]}" peer add "127.0.0.1:${PORT[j]}" >/dev/null ||
		    note "peer add $k -> $j failed"
		if [ "$k" -lt "$j" ]; then e="$k-$j"; else e="$j-$k"; fi
		if [ -z "${EDGE[$e]:-}" ]; then
			EDGE[$e]=1
			DEG[k]=$((DEG[k] + 1))
			DEG[j]=$((DEG[j] + 1))
		fi
	done
	unset picked
done
all_linked() {
	local k c
	for ((k = 0; k < NNODES; k++)); do
		c=$("$LCCTL" -d "${DIR[k]}" status --json 2>/dev/null | jq '.peers_connected // 0')
		[ "$c" -ge "${DEG[k]}" ] || return 1
	done
}
t0=$(date +%s)
wait_for 60 all_linked || note "not every link came up within 60 s"
echo "  ${#EDGE[@]} links up in $(($(date +%s) - t0)) s"
sleep 2

R=$((NNODES / 2 + 1))
P=0
links_to_r() {
	local k n=0
	for ((k = 0; k < NNODES; k++)); do
		[ "$k" -eq "$R" ] && continue
		"$LCCTL" -d "${DIR[k]}" peer list --json 2>/dev/null |
		    jq -e --arg id "${ID[R]}" 'any(.[]; .id == $id and .state == "connected")' \
		    >/dev/null && n=$((n + 1))
	done
	echo "$n"
}
before=$(links_to_r)
"$LCCTL" federation revoke -k "$T/fed.key" "${ID[R]}" --reason "bench" >"$T/revoke.rec" 2>/dev/null ||
    die "lcctl federation revoke failed"
t_pub=$(date +%s%3N)
"$LCCTL" -d "${DIR[P]}" publish "$T/revoke.rec" >/dev/null || die "publishing the revocation failed"
revoked_at() {
	grep -m1 "federation: city ${ID[R]} revoked" "${DIR[$1]}/node.log" | cut -d' ' -f1
}
all_revoked() {
	local k
	for ((k = 0; k < NNODES; k++)); do
		[ "$k" -eq "$R" ] && continue
		[ -n "$(revoked_at "$k")" ] || return 1
	done
}
wait_for 10 all_revoked || note "not every node applied the revocation within 10 s"
lat=()
missing=0
for ((k = 0; k < NNODES; k++)); do
	[ "$k" -eq "$R" ] && continue
	s=$(revoked_at "$k")
	if [ -z "$s" ]; then
		missing=$((missing + 1))
		continue
	fi
	lat+=($(($(echo "$s" | ts_ms) - t_pub)))
done
read -r p50 p100 < <(printf '%s\n' "${lat[@]}" | sort -n |
    awk '{ v[NR] = $1 } END { i = int((NR + 1) / 2); print v[i] + 0, v[NR] + 0 }')
sleep 1
after=$(links_to_r)
ok=$([ "$missing" -eq 0 ] && [ "$p100" -le "$TARGET_REVOKE_MS" ] && echo 1 || echo 0)
printf '  revocation applied at %d of %d other nodes: p50 %d ms, p100 %d ms  target p100 <= %d ms  %s\n' \
    "${#lat[@]}" $((NNODES - 1)) "$p50" "$p100" "$TARGET_REVOKE_MS" "$(mark "$ok")"
echo "  links to the revoked city: $before before, $after one second after"
[ "$after" -eq 0 ] || note "$after links to the revoked city stayed up"
J[nodes]=$NNODES
J[links]=${#EDGE[@]}
J[revoke_p50_ms]=$p50
J[revoke_p100_ms]=$p100
J[revoke_missing]=$missing
J[revoke_pass]=$([ "$ok" = 1 ] && echo true || echo false)
J[links_to_revoked_before]=$before
J[links_to_revoked_after]=$after

for ((k = 0; k < NNODES; k++)); do kill -TERM "${PID[k]}" 2>/dev/null; done
for ((k = 0; k < NNODES; k++)); do
	wait "${PID[k]}" || note "node $k exited with status $? on SIGTERM"
done
_nodes=()
bench_json
exit "$failed"
