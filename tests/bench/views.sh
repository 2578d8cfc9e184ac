#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make bench: the secretariat's and partner cities' views at federation scale:
# 1,000 cities and 100,000 records (lcf-fill: profiles, practices, indicator
# values) on one node; lcctl coverage (--json, the table, --missing),
# lcctl partners and lcctl federation status, each timed end to end (lcctl's
# start, the admin socket, the view, the JSON) over BENCH_VIEWS_RUNS runs, and
# the same views through the HTTP API (curl; each request a URL of its own,
# so the node works the answer out each time instead of sending a kept one);
# target 100 ms each. Ends with one BENCH-JSON-VIEWS line.
#
# Environment: BENCH_VIEWS_RECORDS (100000), BENCH_VIEWS_CITIES (1000),
# BENCH_VIEWS_RUNS (20), TMPDIR.
set -u
# shellcheck source=tests/blackbox/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../blackbox/lib.sh"
BENCH_TAG=BENCH-JSON-VIEWS
# shellcheck source=tests/bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

NREC=${BENCH_VIEWS_RECORDS:-100000}
NCITY=${BENCH_VIEWS_CITIES:-1000}
RUNS=${BENCH_VIEWS_RUNS:-20}
TARGET_MS=100
FILL=$ROOT/$BUILD/lcf-fill

echo
echo "== views at $NCITY cities and $NREC records (lcctl end to end, $RUNS runs each)"
D=$(tmpdir)/views
init_city "$D" Viewpoint SE >/dev/null
"$FILL" -n "$NREC" -a "$NCITY" "$D" >"$D/fill.out" 2>&1 || die "lcf-fill failed: $(tail -3 "$D/fill.out")"
start_node "$D" || die "lcnode did not start"
"$LCCTL" -d "$D" city set --challenge 2.2 --challenge 2.4 --language en >/dev/null ||
	die "cannot set the profile's challenges"
echo "  the node holds $("$LCCTL" -d "$D" status --json | jq .records_total) records of $("$LCCTL" -d "$D" status --json | jq .authors) authors"

# time_view NAME ARGS...: RUNS timings of `lcctl ARGS` in ms, p50 and max.
declare -A P50 PMAX
time_view() {
	local name=$1 i t0 t1 ms=()
	shift
	"$LCCTL" -d "$D" "$@" >"$D/$name.json" 2>"$D/$name.err" || {
		echo "  $name: lcctl $*: $(head -2 "$D/$name.err")"
		return 1
	}
	for i in $(seq 1 "$RUNS"); do
		t0=$(date +%s%N)
		"$LCCTL" -d "$D" "$@" >/dev/null 2>&1
		t1=$(date +%s%N)
		ms+=("$(calc "($t1 - $t0) / 1000000")")
	done
	P50[$name]=$(printf '%s\n' "${ms[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')
	PMAX[$name]=$(printf '%s\n' "${ms[@]}" | sort -n | tail -1)
	printf '  %-18s p50 %7s ms   max %7s ms   (%s bytes of JSON)   target <= %d ms  %s\n' \
		"$name" "$(fmt "${P50[$name]}" 1)" "$(fmt "${PMAX[$name]}" 1)" \
		"$(wc -c <"$D/$name.json")" "$TARGET_MS" \
		"$(mark "$(holds "${P50[$name]} <= $TARGET_MS")")"
}

# http_view NAME PATH: RUNS first requests of PATH, where @P@ is the period
# 1991 and @L@ the limit 20, written differently each run (a digit
# percent-encoded, leading zeros) so that no answer comes from the node's
# cache of answers; p50 and max in ms.
http_view() {
	local name=$1 path=$2 i m u p l ms=()
	for i in $(seq 1 "$RUNS"); do
		p=""
		for m in 0 1 2 3; do
			if (((i >> m) & 1)); then p+="%3${YEAR:m:1}"; else p+=${YEAR:m:1}; fi
		done
		(((i >> 4) & 1)) && p+="&values=true"
		l="$(printf '%0*d' "$i" 0)20"
		u=${path//@P@/"$p"}
		u=$URL${u//@L@/"$l"}
		ms+=("$(curl -s -o "$D/h.$name.json" -w '%{time_total}' "$u" | awk '{printf "%.1f", $1 * 1000}')")
		jq -e 'has("status") | not' "$D/h.$name.json" >/dev/null || {
			echo "  $name: $u: $(head -c 200 "$D/h.$name.json")"
			return 1
		}
	done
	P50[http_$name]=$(printf '%s\n' "${ms[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')
	PMAX[http_$name]=$(printf '%s\n' "${ms[@]}" | sort -n | tail -1)
	printf '  %-18s p50 %7s ms   max %7s ms   (%s bytes of JSON)   target <= %d ms  %s\n' \
		"http $name" "$(fmt "${P50[http_$name]}" 1)" "$(fmt "${PMAX[http_$name]}" 1)" \
		"$(wc -c <"$D/h.$name.json")" "$TARGET_MS" \
		"$(mark "$(holds "${P50[http_$name]} <= $TARGET_MS")")"
}

echo "  load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
time_view coverage coverage --period 1991 --json
echo "    ($(jq '.totals | "\(.cities) cities x \(.indicators) indicators, \(.reported) reported"' -r "$D/coverage.json"))"
time_view coverage_table coverage --period 1991
time_view coverage_missing coverage --period 1991 --missing --json
time_view partners partners --json
echo "    ($(jq '(.partners // .items // []) | length' "$D/partners.json") cities ranked)"
# lcf-fill makes no status beacons: the rows are the 1,000 cities and this
# node, one beacon (this node's own) among them.
time_view federation_status federation status --json
echo "    ($(jq -r '.summary | "\(.nodes) rows, \(.reachable) reachable"' "$D/federation_status.json"))"
URL=$(http_url "$D")
YEAR=1991
http_view coverage '/api/v1/coverage?period=@P@'
http_view coverage_missing '/api/v1/coverage?period=@P@&missing=true'
http_view partners '/api/v1/partners?limit=@L@'
http_view federation_status '/api/v1/federation/status'
echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
stop_node "$D"

json="{\"records\":$NREC,\"cities\":$NCITY,\"runs\":$RUNS,\"target_ms\":$TARGET_MS"
for k in "${!P50[@]}"; do
	json+=",\"${k}_p50_ms\":$(fmt "${P50[$k]}" 1),\"${k}_max_ms\":$(fmt "${PMAX[$k]}" 1)"
done
echo "$BENCH_TAG $json}"
