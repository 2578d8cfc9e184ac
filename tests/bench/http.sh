#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make bench, HTTP part: lcnode's HTTP face beside nginx serving the same
# bytes, the memory of idle keep-alive connections, and an honest peer's sync
# time while the port is loaded or flooded; ends with one BENCH-JSON-HTTP line.
#
# Environment: BENCH_HTTP_PRACTICES (default 100000), BENCH_HTTP_SECONDS (10:
# each wrk run), BENCH_HTTP_ROUNDS (3: wrk runs of each server, alternating;
# medians reported), BENCH_HTTP_CONNECTIONS (64), BENCH_HTTP_IDLE (1000: idle
# connections), BENCH_HTTP_SYNC (2000: records new at the peer each sync),
# BENCH_HTTP_SYNC_ROUNDS (3: syncs of each kind, idle / loaded / flooded,
# interleaved; medians reported), BENCH_HTTP_LOAD_SECONDS (10: each load or
# flood), BENCH_SEED (1), TMPDIR. Needs wrk, h2load and nginx (Debian: wrk,
# nghttp2-client, nginx-light). Exits 0 unless a program crashed or failed; a
# missed target is information, not a failure.
#
# wrk runs one thread (-t1) against one server thread: lcnode's loop, or one
# nginx worker; on a machine of 2 cores the client then has the other one.
# The sync: node B holds what A holds; B is stopped, lcf-fill adds new records
# to its store, and B is started while A's HTTP port is idle, loaded at half
# the rate lcnode reached (h2load --rps) or flooded with bad requests (wrk at
# full speed); the reconciliation on connect brings the records to A. Its time
# is read from the log of the node that dialed: from "connected (outbound)"
# to its "sync ... (initiator)" line (millisecond stamps, log_level debug).
set -u
# shellcheck source=tests/blackbox/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../blackbox/lib.sh"
BENCH_TAG=BENCH-JSON-HTTP
# shellcheck source=tests/bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

N=${BENCH_HTTP_PRACTICES:-100000}
DUR=${BENCH_HTTP_SECONDS:-10}
ROUNDS=${BENCH_HTTP_ROUNDS:-3}
CONNS=${BENCH_HTTP_CONNECTIONS:-64}
NIDLE=${BENCH_HTTP_IDLE:-1000}
NSYNC=${BENCH_HTTP_SYNC:-2000}
SROUNDS=${BENCH_HTTP_SYNC_ROUNDS:-3}
LDUR=${BENCH_HTTP_LOAD_SECONDS:-10}
SEED=${BENCH_SEED:-1}
GEN=$ROOT/$BUILD/lcf-gen
FILL=$ROOT/$BUILD/lcf-fill
IDLEPY=$ROOT/tests/bench/idle_conns.py
URLPATH='/api/v1/practices?limit=50&area=2.2'

# Targets from the issue "The node's HTTP face".
TARGET_RATIO=0.5         # lcnode's requests/s against nginx's
TARGET_P99=10            # milliseconds
TARGET_IDLE_MEM=64       # MiB of anonymous memory for the idle connections
TARGET_SYNC=1.5          # sync time loaded / idle

failed=0
started_ns=$(date +%s%N)
declare -A J             # BENCH-JSON-HTTP members, values already JSON
declare -A FDIR FPORT FHTTP FPID

finish() {
	bench_runtime HTTP
	bench_json
	exit "$failed"
}

# median: the median of the numbers on stdin (the lower of the middle two).
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'; }

# cpu_ticks PID...: user + system clock ticks of the processes (fields 14
# and 15 of /proc/PID/stat, counted after the command name).
cpu_ticks() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# ---- nodes (as federation.sh: log_level debug, no periodic sync) ----

# node_init NAME: lcctl init into $T/NAME with its peer and HTTP ports;
# [http] listens on a free port, keeps idle connections 120 s and allows
# 4096 of them.
node_init() {
	local n=$1 d=$T/$1 port hport id
	free_port >/dev/null
	port=$_port_next
	free_port >/dev/null
	hport=$_port_next
	id=$("$LCCTL" -d "$d" init --city "HTTP bench $n" --country SE \
	    --listen "127.0.0.1:$port" 2>"$T/init.err" | tail -1)
	[ -n "$id" ] || die "lcctl init $n failed: $(cat "$T/init.err")"
	sed -i -e 's/^log_level = .*/log_level = debug/' \
	    -e 's/^sync_interval = .*/sync_interval = 600/' \
	    -e '/^\[http\]/,$ { /^;\? *listen *=/d; /^;\? *idle_timeout *=/d; /^;\? *max_connections *=/d }' \
	    "$d/lcnode.conf"
	printf 'listen = 127.0.0.1:%s\nidle_timeout = 120\nmax_connections = 4096\n' \
	    "$hport" >>"$d/lcnode.conf"
	FDIR[$n]=$d
	FPORT[$n]=$port
	FHTTP[$n]=$hport
}

node_start() {
	local d=${FDIR[$1]} i
	"$LCNODE" -d "$d" >>"$d/node.log" 2>&1 &
	FPID[$1]=$!
	_nodes+=("$!")
	for ((i = 0; i < 6000; i++)); do
		"$LCCTL" -d "$d" status >/dev/null 2>&1 && return 0
		kill -0 "${FPID[$1]}" 2>/dev/null || break
		sleep 0.01
	done
	tail -5 "$d/node.log" | sed 's/^/     /'
	die "lcnode $1 did not start"
}

node_stop() {
	local pid=${FPID[$1]} rc
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		tail -5 "${FDIR[$1]}/node.log" | sed 's/^/     /'
		note "lcnode $1 exited with status $rc on SIGTERM"
	fi
}

alive() {
	if ! kill -0 "${FPID[$1]}" 2>/dev/null; then
		echo "  !! lcnode $1 is gone; the end of its log:"
		tail -20 "${FDIR[$1]}/node.log" | sed 's/^/     /'
		die "lcnode $1 crashed ($2)"
	fi
}

total_of() {
	local out re='"records_total":[[:space:]]*([0-9]+)'
	out=$("$LCCTL" -d "${FDIR[$1]}" status --json 2>/dev/null)
	if [[ $out =~ $re ]]; then echo "${BASH_REMATCH[1]}"; else echo 0; fi
}

for b in "$LCNODE" "$LCCTL" "$GEN" "$FILL"; do
	[ -x "$b" ] || die "$b is missing: run make first"
done
for p in wrk h2load nginx python3 curl; do
	command -v "$p" >/dev/null || die "$p is missing (Debian: wrk, nghttp2-client, nginx-light, python3, curl)"
done
for v in N DUR ROUNDS CONNS NIDLE NSYNC SROUNDS LDUR SEED; do
	case ${!v} in ''|*[!0-9]*|0) die "the BENCH_HTTP_ settings must be positive numbers ($v: '${!v}')" ;; esac
done
# The idle connections, and lcnode's own descriptors besides.
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((NIDLE + 256)) ] ||
    ulimit -n $((NIDLE + 256)) 2>/dev/null ||
    echo "  (ulimit -n is $(ulimit -n): fewer idle connections may open)"

T=$(tmpdir) || die "mktemp failed"

echo
echo "== HTTP bench, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "load:      $(cut -d' ' -f1-3 /proc/loadavg) at start (the client, the" \
    "server and both nodes share this machine's $(nproc) CPUs)"
echo "tools:     $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $(h2load --version | head -1)," \
    "$(nginx -v 2>&1 | sed 's/.*: //')"
echo "settings:  $N practices (BENCH_HTTP_PRACTICES); wrk -t1 -c$CONNS for $DUR s," \
    "$ROUNDS runs of each server; $NIDLE idle connections; $NSYNC records a sync," \
    "$SROUNDS syncs of each kind"
J[practices]=$N
J[connections]=$CONNS
J[seconds]=$DUR

# ---- node A: the practices ----
node_init A
node_init B
"$GEN" -n "$N" -s "$SEED" -o "$T/practices.json" || die "lcf-gen failed"
node_start A
"$LCCTL" -d "${FDIR[A]}" practice import "$T/practices.json" >"$T/import.out" 2>&1 ||
    die "lcctl practice import failed: $(tail -3 "$T/import.out")"
rm -f "$T/practices.json"
URL="http://127.0.0.1:${FHTTP[A]}$URLPATH"
curl -sf -o "$T/answer.json" "$URL" || die "curl $URL failed"
items=$(jq '.items | length' "$T/answer.json")
abytes=$(stat -c %s "$T/answer.json")
echo "  A holds $(total_of A) records; GET $URLPATH answers $items practices," \
    "$abytes bytes"
J[answer_bytes]=$abytes

# ---- nginx: the same bytes as a static file ----
NG=$T/nginx
mkdir -p "$NG/www" "$NG/tmp"
cp "$T/answer.json" "$NG/www/practices.json"
free_port >/dev/null
NGPORT=$_port_next
cat >"$NG/nginx.conf" <<EOF
# One process (no master), as lcnode's loop is one thread; sendfile and the open-file
# cache as a production site has them.
worker_processes 1;
daemon off;
master_process off;
pid $NG/nginx.pid;
error_log $NG/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	open_file_cache max=16;
	keepalive_requests 1000000000;
	keepalive_timeout 120s;
	client_body_temp_path $NG/tmp/body;
	proxy_temp_path $NG/tmp/proxy;
	fastcgi_temp_path $NG/tmp/fastcgi;
	uwsgi_temp_path $NG/tmp/uwsgi;
	scgi_temp_path $NG/tmp/scgi;
	server {
		listen 127.0.0.1:$NGPORT;
		location = /api/v1/practices {
			default_type application/json;
			alias $NG/www/practices.json;
		}
	}
}
EOF
nginx -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" &
NGPID=$!
_nodes+=("$NGPID")
NGURL="http://127.0.0.1:$NGPORT$URLPATH"
wait_for 5 curl -sf -o "$T/nginx.json" "$NGURL" || die "nginx did not answer: $(cat "$NG/error.log")"
cmp -s "$T/answer.json" "$T/nginx.json" || die "nginx does not answer the same bytes"
ngworker=$NGPID

# ---- 1. requests/s and p99, lcnode beside nginx ----
cat >"$T/report.lua" <<'EOF'
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("WRK requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d\n",
	    summary.requests, summary.duration, latency:percentile(50),
	    latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
end
EOF
# kv NAME LINE: the value of NAME=VALUE in a result line.
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }

# run_wrk LABEL URL PIDS...: one wrk run; a line "LABEL RPS P50MS P99MS BUSY
# USREQ" on stdout (BUSY: the server's CPU in cores; USREQ: its CPU a
# request, in microseconds).
run_wrk() {
	local label=$1 url=$2 line c0 c1 t0 t1 rps p50 p99 busy usreq
	shift 2
	c0=$(cpu_ticks "$@")
	t0=$(date +%s%N)
	line=$(wrk -t1 -c"$CONNS" -d"${DUR}s" -s "$T/report.lua" "$url" | grep '^WRK ')
	t1=$(date +%s%N)
	c1=$(cpu_ticks "$@")
	[ -n "$line" ] || { note "wrk against $label failed"; return; }
	[ "$(kv errors "$line")" = 0 ] || note "wrk saw $(kv errors "$line") errors from $label"
	rps=$(fmt "$(calc "$(kv requests "$line") * 1000000 / $(kv duration_us "$line")")" 0)
	p50=$(fmt "$(calc "$(kv p50_us "$line") / 1000")")
	p99=$(fmt "$(calc "$(kv p99_us "$line") / 1000")")
	busy=$(fmt "$(calc "($c1 - $c0) / $(getconf CLK_TCK) / (($t1 - $t0) / 1000000000)")")
	usreq=$(fmt "$(calc "($c1 - $c0) * 1000000 / $(getconf CLK_TCK) / $(kv requests "$line")")" 1)
	printf '  %-7s %8s req/s   p50 %6s ms   p99 %6s ms   server CPU %s cores, %s us a request\n' \
	    "$label" "$rps" "$p50" "$p99" "$busy" "$usreq" >&2
	echo "$label $rps $p50 $p99 $busy $usreq"
}

echo
echo "== GET $URLPATH: wrk -t1 -c$CONNS -d${DUR}s, keep-alive;" \
    "nginx (1 worker, the same $abytes bytes as a static file) and lcnode" \
    "alternating, $ROUNDS runs each"
: >"$T/wrk"
for ((r = 1; r <= ROUNDS; r++)); do
	run_wrk nginx "$NGURL" "$ngworker" >>"$T/wrk"
	run_wrk lcnode "$URL" "${FPID[A]}" >>"$T/wrk"
	alive A "wrk"
done
ng_rps=$(awk '$1 == "nginx" { print $2 }' "$T/wrk" | median)
ng_p99=$(awk '$1 == "nginx" { print $4 }' "$T/wrk" | median)
lc_rps=$(awk '$1 == "lcnode" { print $2 }' "$T/wrk" | median)
lc_p50=$(awk '$1 == "lcnode" { print $3 }' "$T/wrk" | median)
lc_p99=$(awk '$1 == "lcnode" { print $4 }' "$T/wrk" | median)
lc_busy=$(awk '$1 == "lcnode" { print $5 }' "$T/wrk" | median)
ng_busy=$(awk '$1 == "nginx" { print $5 }' "$T/wrk" | median)
lc_us=$(awk '$1 == "lcnode" { print $6 }' "$T/wrk" | median)
ng_us=$(awk '$1 == "nginx" { print $6 }' "$T/wrk" | median)
ratio=0
[ "$(holds "$ng_rps > 0")" = 1 ] && ratio=$(fmt "$(calc "$lc_rps / $ng_rps")")
ok_ratio=$(holds "$ratio >= $TARGET_RATIO")
ok_p99=$(holds "$lc_p99 <= $TARGET_P99")
echo "  medians: nginx $ng_rps req/s (p99 $ng_p99 ms, $ng_busy cores);" \
    "lcnode $lc_rps req/s (p50 $lc_p50 ms, $lc_busy cores)"
echo "  ratio lcnode/nginx $ratio   target >= $TARGET_RATIO  $(mark "$ok_ratio")"
# With both servers below a core, the client (or the other work on the
# machine) set the pace: their CPU a request is the fairer comparison.
cpu_ratio=0
[ "$(holds "$lc_us > 0")" = 1 ] && cpu_ratio=$(fmt "$(calc "$ng_us / $lc_us")")
echo "  server CPU a request: nginx $ng_us us, lcnode $lc_us us; nginx/lcnode" \
    "$cpu_ratio (the ratio of requests/s each would reach on a core of its own)"
echo "  p99 lcnode $lc_p99 ms   target <= $TARGET_P99 ms  $(mark "$ok_p99")" \
    "(wrk's, a closed loop: its mean is $CONNS" \
    "connections / the rate, $(fmt "$(calc "$CONNS * 1000 / $lc_rps")") ms here)"
J[wrk_runs]=$(awk '{ printf "%s{\"server\":\"%s\",\"rps\":%s,\"p50_ms\":%s,\"p99_ms\":%s,\"cpu_cores\":%s,\"cpu_us_per_request\":%s}", (NR > 1 ? "," : ""), $1, $2, $3, $4, $5, $6 }
    END { }' "$T/wrk" | sed 's/^/[/; s/$/]/')
J[nginx_rps]=$ng_rps
J[nginx_p99_ms]=$ng_p99
J[lcnode_rps]=$lc_rps
J[lcnode_p50_ms]=$lc_p50
J[lcnode_p99_ms]=$lc_p99
J[rps_ratio]=$ratio
J[nginx_cpu_us_per_request]=$ng_us
J[lcnode_cpu_us_per_request]=$lc_us
J[cpu_ratio]=$cpu_ratio
J[rps_pass]=$(jbool "$ok_ratio")
J[p99_pass]=$(jbool "$ok_p99")

# A closed loop of CONNS connections waits CONNS / rate on average whatever
# the server does: once wrk is what limits the rate, its p99 is the client's.
# The latency at a fixed rate below that (half lcnode's; h2load logs every
# request) is the server's.
half=$(fmt "$(calc "$lc_rps / 2")" 0)
hclients=$CONNS
[ "$half" -ge "$hclients" ] || hclients=$((half > 0 ? half : 1))
hrps=$(((half + hclients / 2) / hclients))
[ "$hrps" -ge 1 ] || hrps=1

# h2load_p99 LOG: "P50MS P99MS FAILED" of an h2load --log-file.
h2load_p99() {
	sort -n -k3 "$1" | awk -F'\t' '{ v[NR] = $3; if ($2 != 200) bad++ }
	    END { if (NR == 0) { print "0 0 0"; exit }
	    printf "%.2f %.2f %d\n", v[int((NR + 1) / 2)] / 1000, v[int(NR * 0.99 + 0.999)] / 1000, bad }'
}

echo "  at a fixed rate, half lcnode's: h2load --h1 -c$hclients --rps=$hrps" \
    "(= $((hclients * hrps)) req/s) for $DUR s, each server in turn"
: >"$T/fixed"
for ((r = 1; r <= ROUNDS; r++)); do
	for s in nginx lcnode; do
		if [ "$s" = nginx ]; then u=$NGURL; else u=$URL; fi
		rm -f "$T/h2.log"
		h2load --h1 -c"$hclients" --rps="$hrps" -D "$DUR" --log-file="$T/h2.log" \
		    "$u" >"$T/h2.out" 2>&1 || note "h2load against $s failed: $(tail -1 "$T/h2.out")"
		read -r p50 p99 bad < <(h2load_p99 "$T/h2.log")
		[ "$bad" = 0 ] || note "$bad of h2load's requests to $s failed"
		printf '  %-7s p50 %6s ms   p99 %6s ms   (%s requests)\n' "$s" "$p50" \
		    "$p99" "$(wc -l <"$T/h2.log")"
		echo "$s $p50 $p99" >>"$T/fixed"
	done
	alive A "h2load"
done
fx_ng_p99=$(awk '$1 == "nginx" { print $3 }' "$T/fixed" | median)
fx_lc_p50=$(awk '$1 == "lcnode" { print $2 }' "$T/fixed" | median)
fx_lc_p99=$(awk '$1 == "lcnode" { print $3 }' "$T/fixed" | median)
ok_fx=$(holds "$fx_lc_p99 <= $TARGET_P99")
echo "  medians: nginx p99 $fx_ng_p99 ms; lcnode p50 $fx_lc_p50 ms, p99 $fx_lc_p99 ms" \
    "  target <= $TARGET_P99 ms  $(mark "$ok_fx")"
J[fixed_rate_rps]=$((hclients * hrps))
J[fixed_nginx_p99_ms]=$fx_ng_p99
J[fixed_lcnode_p50_ms]=$fx_lc_p50
J[fixed_lcnode_p99_ms]=$fx_lc_p99
J[fixed_p99_pass]=$(jbool "$ok_fx")
kill -TERM "$NGPID" 2>/dev/null
wait "$NGPID" 2>/dev/null

# ---- 2. idle keep-alive connections ----
echo
echo "== $NIDLE idle keep-alive connections (one GET $URLPATH each, then" \
    "silent; idle_timeout 120 s)"
sleep 1
anon0=$(mem_kb "${FPID[A]}" RssAnon)
fds0=$(find "/proc/${FPID[A]}/fd" -mindepth 1 | wc -l)
rm -f "$T/idle" "$T/idle.stop"
python3 "$IDLEPY" 127.0.0.1 "${FHTTP[A]}" "$URLPATH" "$NIDLE" "$T/idle" \
    2>"$T/idle.err" &
idlepid=$!
for ((i = 0; i < 1200; i++)); do
	[ -e "$T/idle" ] && break
	kill -0 "$idlepid" 2>/dev/null || break
	sleep 0.1
done
if [ -e "$T/idle" ]; then
	sleep 1
	anon1=$(mem_kb "${FPID[A]}" RssAnon)
	fds1=$(find "/proc/${FPID[A]}/fd" -mindepth 1 | wc -l)
	touch "$T/idle.stop"
	wait "$idlepid"
	nopen=$(field open "$T/idle")
	nbad=$(field bad "$T/idle")
	nstill=$(field still "$T/idle")
	sleep 1
	anon2=$(mem_kb "${FPID[A]}" RssAnon)
	grow=$((anon1 - anon0))
	ok_idle=$([ "$grow" -le $((TARGET_IDLE_MEM * 1024)) ] && echo 1 || echo 0)
	[ "$nbad" = 0 ] || note "$nbad of the idle connections' requests failed"
	[ "$nstill" = "$nopen" ] || note "lcnode closed $((nopen - nstill)) of the idle connections"
	echo "  $nopen connections open ($nstill still open when measured; lcnode's" \
	    "descriptors $fds0 without them, $fds1 with them)"
	[ $((fds1 - fds0)) -ge "$nopen" ] || note "lcnode holds $((fds1 - fds0)) more descriptors, not $nopen"
	echo "  RssAnon without them $(mib "$anon0") MiB, with them $(mib "$anon1") MiB," \
	    "after they closed $(mib "$anon2") MiB"
	echo "  grown by $(mib "$grow") MiB ($((grow * 1024 / (nopen > 0 ? nopen : 1))) bytes" \
	    "a connection)   target <= $TARGET_IDLE_MEM MiB  $(mark "$ok_idle")"
	J[idle_connections]=$nopen
	J[idle_rss_anon_before_kib]=$anon0
	J[idle_rss_anon_with_kib]=$anon1
	J[idle_rss_anon_after_kib]=$anon2
	J[idle_pass]=$(jbool "$ok_idle")
else
	kill "$idlepid" 2>/dev/null
	wait "$idlepid" 2>/dev/null
	note "the idle connections did not open: $(tail -3 "$T/idle.err")"
fi
alive A "idle connections"

# ---- 3 and 4. an honest peer's sync: idle, loaded, flooded ----
echo
echo "== sync: B is stopped, given $NSYNC new records (lcf-fill), started;" \
    "A pulls them on connect"
node_start B
"$LCCTL" -d "${FDIR[B]}" peer add "127.0.0.1:${FPORT[A]}" >/dev/null || die "peer add B -> A failed"
a0=$(total_of A)
t0=$(date +%s%N)
# B holds A's records and its own profile; A has B's profile too.
for ((i = 0; i < 1800; i++)); do
	tb=$(total_of B)
	[ "$tb" -gt "$a0" ] && [ "$tb" = "$(total_of A)" ] && break
	alive B "bootstrap"
	sleep 0.2
done
[ "$tb" -gt "$a0" ] || die "B holds $tb records after 6 minutes, A $(total_of A)"
echo "  B pulled A's $a0 records in $(fmt "$(calc "($(date +%s%N) - $t0) / 1000000000")" 1) s"

cat >"$T/flood.lua" <<'EOF'
-- Bad requests in turn: an unknown path (404), a bad parameter (400), a
-- request target over the node's limit (414), a method not allowed (405).
local long = "/api/v1/practices?text=" .. string.rep("x", 5000)
local reqs, i = {}, 0
init = function(args)
	reqs[1] = wrk.format("GET", "/no/such/path")
	reqs[2] = wrk.format("GET", "/api/v1/practices?limit=lots")
	reqs[3] = wrk.format("GET", long)
	reqs[4] = wrk.format("DELETE", "/api/v1/practices")
end
request = function()
	i = i % #reqs + 1
	return reqs[i]
end
done = function(summary, latency, requests)
	io.write(string.format("WRK requests=%d duration_us=%d status=%d\n",
	    summary.requests, summary.duration, summary.errors.status))
end
EOF
echo "  loaded: h2load --h1 -c$hclients --rps=$hrps (= $((hclients * hrps)) req/s," \
    "half of lcnode's $lc_rps) of GET $URLPATH for $LDUR s"
echo "  flooded: wrk -t1 -c$CONNS at full speed for $LDUR s: 404, 400," \
    "414 (a 5,000-byte target) and 405 in turn"
J[load_rps_asked]=$((hclients * hrps))

# load_start KIND: starts the load of KIND on A's HTTP port; LOADPID set.
load_start() {
	LOADPID=""
	case $1 in
	loaded)
		h2load --h1 -c"$hclients" --rps="$hrps" -D "$LDUR" "$URL" \
		    >"$T/load.out" 2>&1 &
		LOADPID=$! ;;
	flooded)
		wrk -t1 -c"$CONNS" -d"${LDUR}s" -s "$T/flood.lua" \
		    "http://127.0.0.1:${FHTTP[A]}/" >"$T/load.out" 2>&1 &
		LOADPID=$! ;;
	esac
}

# load_end KIND: waits for the load; prints what it achieved.
load_end() {
	local line
	[ -n "$LOADPID" ] || return 0
	wait "$LOADPID"
	case $1 in
	loaded)
		line=$(grep -m1 '^finished in' "$T/load.out")
		LOADRATE=$(sed -E 's/.*, ([0-9.]+) req\/s.*/\1/' <<<"$line")
		grep -q ' 0 failed, 0 errored' "$T/load.out" ||
		    note "h2load: $(grep -m1 '^requests:' "$T/load.out")" ;;
	flooded)
		line=$(grep '^WRK ' "$T/load.out")
		LOADRATE=$(calc "$(kv requests "$line") * 1000000 / $(kv duration_us "$line")") ;;
	esac
	LOADRATE=$(fmt "${LOADRATE:-0}" 0)
}

first=0
a_holds() { [ "$(total_of A)" -ge "$1" ]; }
# sync_round KIND: one sync of NSYNC new records while A's port is KIND.
sync_round() {
	local kind=$1 ma mb m d line from ts_end ts_up ms got
	node_stop B
	"$FILL" -n "$NSYNC" -a 20 -s "$SEED" -f "$first" "${FDIR[B]}" >"$T/fill" ||
	    die "lcf-fill failed"
	first=$((first + NSYNC))
	want=$(($(total_of A) + NSYNC))
	load_start "$kind"
	[ "$kind" = idle ] || sleep 2
	ma=$(wc -l <"${FDIR[A]}/node.log")
	mb=$(wc -l <"${FDIR[B]}/node.log")
	node_start B
	line=""
	for ((i = 0; i < 600 && ${#line} == 0; i++)); do
		for d in A B; do
			if [ "$d" = A ]; then m=$ma; else m=$mb; fi
			line=$(tail -n "+$((m + 1))" "${FDIR[$d]}/node.log" |
			    grep -m1 'sync [0-9a-f]* (initiator): ')
			if [ -n "$line" ]; then from=$d; break; fi
		done
		[ -n "$line" ] || sleep 0.1
	done
	if [ -z "$line" ]; then
		note "no reconciliation logged after B's start ($kind)"
		load_end "$kind"
		return
	fi
	if [ "$from" = A ]; then m=$ma; else m=$mb; fi
	ts_up=$(tail -n "+$((m + 1))" "${FDIR[$from]}/node.log" |
	    sed -n '/connected (outbound)/{s/ .*//;h}; /sync [0-9a-f]* (initiator): /{x;p;q}')
	ts_end=${line%% *}
	ms=$(( $(ts_ms <<<"$ts_end") - $(ts_ms <<<"${ts_up:-$ts_end}") ))
	[ -n "$ts_up" ] || note "no 'connected (outbound)' line before the sync ($kind)"
	if [ -n "$LOADPID" ] && ! kill -0 "$LOADPID" 2>/dev/null; then
		note "the load ended before the sync did ($kind): raise BENCH_HTTP_LOAD_SECONDS"
	fi
	wait_for 30 a_holds "$want" ||
	    note "A holds $(total_of A) records after the sync, expected $want"
	got=$(total_of A)
	load_end "$kind"
	alive A "sync $kind"
	printf '  %-8s %5d ms  (%s initiated; A holds %s; %s)%s\n' "$kind" "$ms" \
	    "$from" "$got" "$(sed -E 's/.*\(initiator\): //' <<<"$line")" \
	    "$([ "$kind" = idle ] || echo "; the load ran at $LOADRATE req/s")"
	echo "$kind $ms ${LOADRATE:-0}" >>"$T/syncs"
}

: >"$T/syncs"
for ((r = 1; r <= SROUNDS; r++)); do
	for kind in idle loaded flooded; do
		LOADRATE=0
		sync_round "$kind"
	done
done
s_idle=$(awk '$1 == "idle" { print $2 }' "$T/syncs" | median)
s_load=$(awk '$1 == "loaded" { print $2 }' "$T/syncs" | median)
s_flood=$(awk '$1 == "flooded" { print $2 }' "$T/syncs" | median)
r_load=$(awk '$1 == "loaded" { print $3 }' "$T/syncs" | median)
r_flood=$(awk '$1 == "flooded" { print $3 }' "$T/syncs" | median)
if [ "$(holds "${s_idle:-0} > 0")" = 1 ]; then
	q_load=$(fmt "$(calc "$s_load / $s_idle")")
	q_flood=$(fmt "$(calc "$s_flood / $s_idle")")
else
	q_load=0 q_flood=0
fi
ok_load=$(holds "$q_load > 0 && $q_load <= $TARGET_SYNC")
ok_flood=$(holds "$q_flood > 0 && $q_flood <= $TARGET_SYNC")
echo "  medians: idle $s_idle ms; loaded $s_load ms (the load at $r_load req/s);" \
    "flooded $s_flood ms (the flood at $r_flood req/s)"
echo "  loaded / idle  $q_load   target <= $TARGET_SYNC  $(mark "$ok_load")"
echo "  flooded / idle $q_flood   (the same target: a bad request never disturbs" \
    "peer traffic)  $(mark "$ok_flood")"
J[syncs]=$(awk '{ printf "%s{\"kind\":\"%s\",\"ms\":%s,\"load_rps\":%s}", (NR > 1 ? "," : ""), $1, $2, $3 }' \
    "$T/syncs" | sed 's/^/[/; s/$/]/')
J[sync_records]=$NSYNC
J[sync_idle_ms]=${s_idle:-null}
J[sync_loaded_ms]=${s_load:-null}
J[sync_flooded_ms]=${s_flood:-null}
J[sync_loaded_ratio]=$q_load
J[sync_flooded_ratio]=$q_flood
J[load_rps]=${r_load:-0}
J[flood_rps]=${r_flood:-0}
J[sync_loaded_pass]=$(jbool "$ok_load")
J[sync_flooded_pass]=$(jbool "$ok_flood")

node_stop B
node_stop A
_nodes=()
for n in A B; do
	if grep -q "Sanitizer\|runtime error" "${FDIR[$n]}/node.log"; then
		note "sanitizer report in $n's log: $(grep -m1 "Sanitizer\|runtime error" "${FDIR[$n]}/node.log")"
	fi
done
finish
