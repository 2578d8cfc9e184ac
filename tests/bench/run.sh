#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make bench: a city node's import rate, query latency and memory, each beside
# the ceiling or target measured in the same run; ends with one BENCH-JSON line.
#
# Environment: BENCH_PRACTICES (default 100000), BENCH_QUERY_RUNS (300),
# BENCH_QUERY_WARMUP (20), BENCH_EXEC_RUNS (50), BENCH_SEED (1), BENCH_COUNTRY
# (SE), TMPDIR. Exits 0 unless a program crashed or failed; a missed target
# is information, not a failure. Then runs the federation figures
# (tests/bench/federation.sh, its own settings there) unless BENCH_FED=0, the
# membership figures (tests/bench/membership.sh) unless BENCH_MEM=0, the HTTP
# figures (tests/bench/http.sh) unless BENCH_HTTP=0, and the multilingual
# search figures (tests/bench/search.sh) unless BENCH_SEARCH=0, the views at
# 1,000 cities (tests/bench/views.sh) unless BENCH_VIEWS=0, and the web
# dashboard in Chromium (tests/bench/dashboard.sh) unless BENCH_DASH=0.
set -u
# shellcheck source=tests/blackbox/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../blackbox/lib.sh"
BENCH_TAG=BENCH-JSON
# shellcheck source=tests/bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

N=${BENCH_PRACTICES:-100000}
QRUNS=${BENCH_QUERY_RUNS:-300}
QWARM=${BENCH_QUERY_WARMUP:-20}
XRUNS=${BENCH_EXEC_RUNS:-50}
SEED=${BENCH_SEED:-1}
COUNTRY=${BENCH_COUNTRY:-SE}
GEN=$ROOT/$BUILD/lcf-gen
CRYPTO=$ROOT/$BUILD/lcf-bench-crypto
QUERY=$ROOT/$BUILD/lcf-bench-query

# Targets from the issue "A city's node".
TARGET_IMPORT=30000      # practices per second
TARGET_P99=5             # milliseconds
TARGET_MEM=64            # MiB of anonymous memory

failed=0
started_ns=$(date +%s%N)
declare -A J             # BENCH-JSON members, values already JSON

# kv NAME LINE: the value of NAME=VALUE in a result line.
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }

node_alive() {
	if ! kill -0 "$NODE_PID" 2>/dev/null; then
		echo "  !! lcnode is gone; the end of its log:"
		tail -20 "$DIR/node.log" | sed 's/^/     /'
		die "lcnode crashed ($1)"
	fi
}

for b in "$LCNODE" "$LCCTL" "$GEN" "$CRYPTO" "$QUERY"; do
	[ -x "$b" ] || die "$b is missing: run make first"
done
case $N in ''|*[!0-9]*|0) die "BENCH_PRACTICES must be a positive number" ;; esac

# ---- header ----
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "== lcf bench, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine:   $(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -sr)"
echo "libraries: libsodium $(pkg-config --modversion libsodium 2>/dev/null)," \
    "lmdb $(pkg-config --modversion lmdb 2>/dev/null)," \
    "libuv $(pkg-config --modversion libuv 2>/dev/null)" \
    "(build headers)"
echo "load:      $(cut -d' ' -f1-3 /proc/loadavg) at start (other work on the" \
    "machine skews every figure)"
echo "settings:  $N practices (BENCH_PRACTICES), $QRUNS queries per case after" \
    "$QWARM warm-up, $XRUNS lcctl runs"
J[practices]=$N
J[nproc]=$(nproc)
J[cpu]=$(jq -Rn --arg c "$cpu" '$c')

# ---- 1. ceilings ----
echo
echo "== ceilings (libsodium directly, about 1 s each)"
# Under lib.sh's root, which its exit trap removes (a directory of our own
# would be left behind: nothing removes it).
T=$(tmpdir) || die "mktemp failed"
"$CRYPTO" >"$T/crypto" || die "lcf-bench-crypto failed"
sodium=$(field libsodium "$T/crypto")
sign1=$(field sign.1 "$T/crypto")
sign2=$(field sign.2 "$T/crypto")
ver1=$(field verify.1 "$T/crypto")
ver2=$(field verify.2 "$T/crypto")
b2=$(field blake2b.1 "$T/crypto")
printf '  libsodium %s (runtime)\n' "$sodium"
printf '  Ed25519 sign     1 thread %9s /s   2 threads %9s /s   (300-byte message)\n' "$sign1" "$sign2"
printf '  Ed25519 verify   1 thread %9s /s   2 threads %9s /s\n' "$ver1" "$ver2"
printf '  BLAKE2b-256      1 thread %9s /s   (300-byte input)\n' "$b2"
J[libsodium]=$(jq -Rn --arg c "$sodium" '$c')
J[sign_1]=$sign1
J[sign_2]=$sign2
J[verify_1]=$ver1
J[verify_2]=$ver2
J[blake2b_1]=$b2

# ---- 2. data ----
echo
echo "== data (lcf-gen, seed $SEED)"
t0=$(date +%s%N)
"$GEN" -n "$N" -s "$SEED" -o "$T/practices.json" -S "$T/stats" ||
    die "lcf-gen failed"
t1=$(date +%s%N)
bytes=$(field bytes "$T/stats")
avg=$((bytes / N))
read -r _ common common_df < <(grep '^common ' "$T/stats")
read -r _ rare rare_df < <(grep '^rare ' "$T/stats")
n_area=$(awk '$1 == "area" { print $3 }' "$T/stats")
n_cluster=$(awk '$1 == "cluster" { print $3 }' "$T/stats")
n_phrase=$(field phrase_words "$T/stats")
n_comb=$(field combined "$T/stats")
echo "  $N practices, $(mib $((bytes / 1024))) MiB of JSON ($avg bytes each)" \
    "in $(fmt "$(calc "($t1 - $t0) / 1000000000")") s"
echo "  matches: area 2.2 $n_area, cluster literacy $n_cluster," \
    "\"family reading\" $n_phrase, common word '$common' $common_df," \
    "rare word '$rare' $rare_df, combined $n_comb"
# Signing cost grows with the message: the ceiling at the size of a real
# practice is the fairer comparison for the import.
"$CRYPTO" -t 0.5 -s "$avg" >"$T/crypto-rec" || die "lcf-bench-crypto failed"
rsign1=$(field sign.1 "$T/crypto-rec")
rsign2=$(field sign.2 "$T/crypto-rec")
printf '  Ed25519 sign at %d bytes (the mean practice): 1 thread %s /s, 2 threads %s /s\n' \
    "$avg" "$rsign1" "$rsign2"
J[record_bytes]=$avg
J[sign_1_record]=$rsign1
J[sign_2_record]=$rsign2

# ---- node ----
DIR=$T/node
port=$(free_port)
city_id=$("$LCCTL" -d "$DIR" init --city "Bench City" --country "$COUNTRY" \
    --listen "127.0.0.1:$port" 2>"$T/init.err" | tail -1)
[ -n "$city_id" ] || die "lcctl init failed: $(cat "$T/init.err")"
start_node "$DIR" || die "lcnode did not start"
sleep 0.3
node_alive "start"
anon0=$(mem_kb "$NODE_PID" RssAnon)

# ---- 3. import ----
echo
echo "== import (lcctl practice import of the whole file: one streamed import, one transaction)"
rm -f "$T/anon-peak" "$T/anon-peak.stop"
sample_anon "$NODE_PID" "$T/anon-peak" &
sampler=$!
t0=$(date +%s%N)
"$LCCTL" -d "$DIR" practice import "$T/practices.json" >"$T/import.out" 2>&1
rc=$?
t1=$(date +%s%N)
touch "$T/anon-peak.stop"
wait "$sampler"
node_alive "import"
anon1=$(mem_kb "$NODE_PID" RssAnon)
anon_peak=$(cat "$T/anon-peak" 2>/dev/null || echo 0)
secs=$(calc "($t1 - $t0) / 1000000000")
if [ "$rc" -ne 0 ]; then
	sed 's/^/     /' "$T/import.out" | head -20
	note "lcctl practice import failed (status $rc)"
	rate=0
else
	rate=$(fmt "$(calc "$N / $secs")" 0)
fi
echo "  $(tail -1 "$T/import.out")"
echo "  $N practices in $(fmt "$secs") s = $rate practices/s" \
    "  target >= $TARGET_IMPORT/s  $(mark "$(calc "$rate >= $TARGET_IMPORT" | cut -d. -f1)")"
echo "  = $(fmt "$(calc "$rate / $sign1")") of 1-thread sign ($sign1/s)," \
    "$(fmt "$(calc "$rate / $sign2")") of 2-thread sign ($sign2/s) at 300 bytes;" \
    "$(fmt "$(calc "$rate / $rsign1")") and $(fmt "$(calc "$rate / $rsign2")") at $avg bytes"
"$LCCTL" -d "$DIR" status --json >"$T/status.json" 2>/dev/null ||
    note "lcctl status failed after the import"
stored=$(jq '[.kinds[]? | select(.kind == "practice") | .current] | add // 0' \
    "$T/status.json" 2>/dev/null || echo "?")
dbsize=$(jq '.db_size // 0' "$T/status.json" 2>/dev/null || echo 0)
echo "  store: $stored current practices, db_size $(mib $((dbsize / 1024))) MiB," \
    "$(du -sm "$DIR/db" 2>/dev/null | cut -f1) MiB on disk"
[ "$stored" = "$N" ] || note "the node holds $stored practices, expected $N"
J[import_seconds]=$(fmt "$secs" 3)
J[import_rate]=$rate
J[import_frac_sign_1]=$(fmt "$(calc "$rate / $sign1")" 3)
J[import_frac_sign_2]=$(fmt "$(calc "$rate / $sign2")" 3)
J[import_pass]=$([ "$(mark "$(calc "$rate >= $TARGET_IMPORT" | cut -d. -f1)")" = PASS ] && echo true || echo false)
J[db_size]=$dbsize

# ---- 4. queries ----
echo
echo "== query latency (QueryRequest kind practice, limit 50, new connection" \
    "each, $QRUNS runs after $QWARM warm-up)"
printf '  %-34s %8s %8s %8s %6s %8s %6s  %s\n' case "p50 ms" "p99 ms" "max ms" \
    items matches check "p99 <= ${TARGET_P99} ms"
qjson=""
worst=0
# qcase LABEL EXPECTED ARGS...: one query case.
qcase() {
	local label=$1 expect=$2 line p50 p99 mx items chk ok
	shift 2
	line=$("$QUERY" -d "$DIR" -n "$QRUNS" -w "$QWARM" -L "$label" \
	    --expect "$expect" "$@")
	if [ -z "$line" ]; then
		node_alive "query $label"
		note "lcf-bench-query failed for $label"
		return
	fi
	p50=$(kv p50 "$line")
	p99=$(kv p99 "$line")
	mx=$(kv max "$line")
	items=$(kv items "$line")
	chk=$(kv check "$line")
	ok=$(calc "$p99 <= $TARGET_P99" | cut -d. -f1)
	[ "$(calc "$p99 > $worst" | cut -d. -f1)" = 1 ] && worst=$p99
	printf '  %-34s %8s %8s %8s %6s %8s %6s  %s\n' "$label" "$p50" "$p99" \
	    "$mx" "$items" "$expect" "$chk" "$(mark "$ok")"
	[ "$chk" = ok ] || note "$label returned $items items; $expect match"
	qjson="$qjson${qjson:+,}$(jq -cn --arg l "$label" --argjson a "$p50" \
	    --argjson b "$p99" --argjson c "$mx" --argjson i "$items" \
	    --argjson e "$expect" --arg k "$chk" \
	    '{case:$l,p50_ms:$a,p99_ms:$b,max_ms:$c,items:$i,matches:$e,check:$k}')"
}
qcase "no filter" "$N"
qcase "--area 2.2" "$n_area" --area 2.2
qcase "--cluster literacy" "$n_cluster" --cluster literacy
qcase "--country $COUNTRY" "$N" --country "$COUNTRY"
qcase "--city (own)" "$N" --city self
qcase "--text \"family reading\"" "$n_phrase" --text "family reading"
qcase "--text $common (common)" "$common_df" --text "$common"
qcase "--text $rare (rare)" "$rare_df" --text "$rare"
qcase "area+cluster+text (combined)" "$n_comb" --area 2.2 --cluster literacy \
    --text "family reading"
node_alive "queries"
line=$("$QUERY" -x -n "$XRUNS" -w 3 -L lcctl -- "$LCCTL" -d "$DIR" practice list \
    --area 2.2) || note "lcctl practice list failed"
xp50=$(kv p50 "$line")
xp99=$(kv p99 "$line")
echo "  lcctl practice list --area 2.2, end to end ($XRUNS runs, process start" \
    "included): p50 ${xp50:-?} ms, p99 ${xp99:-?} ms"
echo "  worst p99 $worst ms  target <= $TARGET_P99 ms" \
    "$(mark "$(calc "$worst <= $TARGET_P99" | cut -d. -f1)")"
J[queries]="[$qjson]"
J[query_worst_p99_ms]=$worst
J[lcctl_list_p50_ms]=${xp50:-null}
J[lcctl_list_p99_ms]=${xp99:-null}

# ---- 5. memory ----
anon2=$(mem_kb "$NODE_PID" RssAnon)
hwm=$(mem_kb "$NODE_PID" VmHWM)
rssfile=$(mem_kb "$NODE_PID" RssFile)
echo
echo "== memory (lcnode, /proc/PID/status)"
memline() {
	local ok
	ok=$([ "$2" -le $((TARGET_MEM * 1024)) ] && echo 1 || echo 0)
	printf '  %-48s %8s MiB  target <= %d MiB  %s\n' "$1" "$(mib "$2")" \
	    "$TARGET_MEM" "$(mark "$ok")"
}
memline "RssAnon, started on an empty store" "$anon0"
memline "RssAnon, right after the import" "$anon1"
memline "RssAnon, after the queries" "$anon2"
memline "RssAnon, peak during the import (50 ms samples)" "$anon_peak"
printf '  %-48s %8s MiB  (with LMDB pages mapped from the file: RssFile now %s MiB)\n' \
    "VmHWM, peak resident set" "$(mib "$hwm")" "$(mib "$rssfile")"
J[rss_anon_empty_kib]=$anon0
J[rss_anon_import_kib]=$anon1
J[rss_anon_queries_kib]=$anon2
J[rss_anon_peak_kib]=$anon_peak
J[vm_hwm_kib]=$hwm
J[mem_pass]=$([ "$anon_peak" -le $((TARGET_MEM * 1024)) ] &&
    [ "$anon2" -le $((TARGET_MEM * 1024)) ] && echo true || echo false)

# ---- end ----
kill -TERM "$NODE_PID" 2>/dev/null
wait "$NODE_PID"
rc=$?
_nodes=()
if [ "$rc" -ne 0 ]; then
	tail -20 "$DIR/node.log" | sed 's/^/     /'
	note "lcnode exited with status $rc on SIGTERM"
fi
bench_runtime
bench_json

# ---- federation (tests/bench/federation.sh; its own BENCH-JSON-FED line) ----
if [ "${BENCH_FED:-1}" != 0 ]; then
	BUILD=$BUILD "$(dirname "${BASH_SOURCE[0]}")/federation.sh" || failed=1
fi
# ---- membership (tests/bench/membership.sh; its own BENCH-JSON-MEM line) ----
if [ "${BENCH_MEM:-1}" != 0 ]; then
	BUILD=$BUILD "$(dirname "${BASH_SOURCE[0]}")/membership.sh" || failed=1
fi
# ---- HTTP (tests/bench/http.sh; its own BENCH-JSON-HTTP line) ----
if [ "${BENCH_HTTP:-1}" != 0 ]; then
	BUILD=$BUILD "$(dirname "${BASH_SOURCE[0]}")/http.sh" || failed=1
fi
# ---- search (tests/bench/search.sh; its own BENCH-JSON-SEARCH line) ----
if [ "${BENCH_SEARCH:-1}" != 0 ]; then
	BUILD=$BUILD "$(dirname "${BASH_SOURCE[0]}")/search.sh" || failed=1
fi
# ---- views (tests/bench/views.sh; its own BENCH-JSON-VIEWS line) ----
if [ "${BENCH_VIEWS:-1}" != 0 ]; then
	BUILD=$BUILD "$(dirname "${BASH_SOURCE[0]}")/views.sh" || failed=1
fi
# ---- dashboard (tests/bench/dashboard.sh; its own BENCH-JSON-DASHBOARD line) ----
if [ "${BENCH_DASH:-1}" != 0 ]; then
	BUILD=$BUILD "$(dirname "${BASH_SOURCE[0]}")/dashboard.sh" || failed=1
fi
exit "$failed"
