# SPDX-License-Identifier: Apache-2.0
# Helpers shared by the bench scripts (run.sh, federation.sh, membership.sh,
# http.sh).
# Sourced after tests/blackbox/lib.sh; the script sets BENCH_TAG first (the
# name of its JSON line: BENCH-JSON, BENCH-JSON-FED, BENCH-JSON-MEM,
# BENCH-JSON-HTTP) and failed=0.

# die MSG: stops the run with MSG and a JSON line that carries it.
die() {
	echo "bench: $*" >&2
	echo "$BENCH_TAG {\"error\":$(jq -Rn --arg m "$*" '$m')}"
	exit 1
}

# note MSG: a failure that does not stop the run; the exit status becomes 1.
note() {
	echo "  !! $*"
	failed=1
}

# bench_runtime [WHAT]: prints the time since $started_ns and the load, and
# sets J[runtime_s]. bench_json: the line "$BENCH_TAG {...}" of J's members
# (values already JSON), with J[ok] from $failed.
bench_runtime() {
	local total
	total=$(calc "($(date +%s%N) - $started_ns) / 1000000000")
	echo
	echo "== ${1:+$1 }total runtime $(fmt "$total" 1) s; load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
	J[runtime_s]=$(fmt "$total" 1)
}
bench_json() {
	local json="" k

	J[ok]=$(jbool "$((failed == 0))")
	for k in "${!J[@]}"; do json="$json${json:+,}\"$k\":${J[$k]}"; done
	echo "$BENCH_TAG $(echo "{$json}" | jq -cS . 2>/dev/null || echo "{$json}")"
}

# mark OK: PASS or MISS; jbool OK: true or false.
mark() { if [ "$1" = 1 ]; then echo PASS; else echo MISS; fi; }
jbool() { if [ "$1" = 1 ]; then echo true; else echo false; fi; }

# calc EXPR: bc; holds EXPR: 1 when the bc comparison holds, else 0;
# fmt NUMBER [DECIMALS]: printf with 2 decimals unless told.
calc() { echo "scale=6; $1" | bc -l; }
holds() { echo "$1" | bc -l; }
fmt() { printf "%.${2:-2}f" "$1"; }

# field NAME FILE: second column of the line whose first column is NAME.
field() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }

# ts_ms: the log timestamps on stdin as Unix milliseconds.
ts_ms() { date -u -f - +%s%3N; }

# mem_kb PID FIELD: a /proc/PID/status figure in KiB.
mem_kb() {
	local k v _
	while read -r k v _; do
		if [ "$k" = "$2:" ]; then echo "$v"; return; fi
	done <"/proc/$1/status"
	echo 0
}

mib() { fmt "$(calc "$1 / 1024")" 1; }

# sample_anon PID FILE: writes the highest RssAnon seen (KiB) to FILE every
# 50 ms until FILE.stop exists or PID is gone. It forks nothing while it
# samples (it waits with read -t on a pipe nobody writes): the nodes it
# watches share the machine's 2 cores with it.
sample_anon() {
	local max=0 k v _ fd
	exec {fd}<> <(:)
	while [ ! -e "$2.stop" ] && [ -e "/proc/$1" ]; do
		v=0
		while read -r k v _; do
			[ "$k" = "RssAnon:" ] && break
			v=0
		done 2>/dev/null <"/proc/$1/status"
		if [ "$v" -gt "$max" ]; then
			max=$v
			echo "$max" >"$2"
		fi
		read -r -t 0.05 -u "$fd" _
	done
	exec {fd}<&-
}
