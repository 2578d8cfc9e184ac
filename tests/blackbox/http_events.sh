#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# GET /api/v1/events on real lcnodes: one "stored" event per record, resuming
# with Last-Event-ID without a gap or a duplicate, link events for operators
# only, keepalives in silence, a client that does not read dropped while the
# node's memory stays bounded, streams ended cleanly at the node's stop.
. "$(dirname "$0")/lib.sh"

SSE_PY=$ROOT/tests/blackbox/sse_client.py
GEN=$ROOT/$BUILD/lcf-gen
declare -A CPIDS

# http_node NAME COUNTRY: a node with its HTTP face (lib.sh gives it a port),
# loopback not trusted as operator.
http_node() {
	city_node "$1" "$2" "s/^; operator_loopback = yes/operator_loopback = no/"
	wait_for 10 curl -sf "$(http_url "${DIRS[$1]}")/api/v1/status" ||
	    fail "$1 serves HTTP" "no answer at $(http_url "${DIRS[$1]}")"
}

url() { echo "$(http_url "${DIRS[$1]}")/api/v1/events${2:-}"; }

# client TAG ARGS...: sse_client.py in the background (output in TAG.out),
# once it has the response's head.
client() {
	local tag=$1
	shift
	python3 "$SSE_PY" "$@" >"$_root/$tag.out" 2>"$_root/$tag.err" &
	CPIDS[$tag]=$!
	wait_for 10 grep -q '"status"' "$_root/$tag.out" ||
	    echo "# client $tag: no response head: $(head -c 300 "$_root/$tag.err")"
}

finish() { wait "${CPIDS[$1]}" 2>/dev/null; }
out() { cat "$_root/$1.out"; }
ended() { jq -r 'select(.end) | .end' "$_root/$1.out"; }
nevents() { jq -s "[.[] | select(.event != null) | select($2)] | length" "$_root/$1.out"; }
holds() { jq -se "$1" "$2" >/dev/null; }
rss_anon() { awk '/^RssAnon/ { print $2 }' "/proc/$(cat "${DIRS[$1]}/test.pid")/status"; }

import_gen() {   # NODE COUNT SEED
	"$GEN" -n "$2" -s "$3" -o "$_root/gen.json" &&
	    "$LCCTL" -d "${DIRS[$1]}" practice import "$_root/gen.json" >/dev/null
}

http_node Aldo IT
http_node Calm FR
TOKEN=$(cat "${DIRS[Aldo]}/http.token")
AUTH="Authorization: Bearer $TOKEN"

# A node where nothing happens: its stream's silence is broken by keepalives.
client calm --timeout 21 "$(url Calm)"

# ---- (a) one "stored" event per record ----
client a --count 5 --timeout 30 "$(url Aldo)"
expect_eq "(a) 200 for the stream" 200 "$(jq -r 'select(.status) | .status' "$_root/a.out")"
expect_eq "(a) Content-Type text/event-stream" text/event-stream \
    "$(jq -r 'select(.status) | .headers["content-type"]' "$_root/a.out")"
expect_eq "(a) Cache-Control no-cache" no-cache \
    "$(jq -r 'select(.status) | .headers["cache-control"]' "$_root/a.out")"
check "(a) import of 5 practices" import_gen Aldo 5 1
finish a
expect_eq "(a) the client read 5 events" count "$(ended a)"
expect_eq "(a) 5 stored practices of Aldo, from import" 5 "$(nevents a \
    ".event == \"stored\" and .data.kind == \"practice\" and .data.city == \"${IDS[Aldo]}\" and .data.from == \"import\"")"
want=$(ctl Aldo practice list --json --limit 0 | jq -r '.[].id' | sort | tr '\n' ' ')
expect_eq "(a) their ids are the records' ids" "$want" \
    "$(jq -r 'select(.event == "stored") | .data.id' "$_root/a.out" | sort | tr '\n' ' ')"
check "(a) ids are STARTMS-N" holds 'all(.[] | select(.event) | .id; test("^[0-9]+-[0-9]+$"))' "$_root/a.out"

# ---- (b) resume after a disconnect ----
client b1 --count 3 --timeout 30 "$(url Aldo)"
check "(b) import of 6 practices" import_gen Aldo 6 2
finish b1
LAST=$(jq -r 'select(.event) | .id' "$_root/b1.out" | tail -1)
check "(b) 3 events read before the disconnect" [ "$(nevents b1 true)" = 3 ]
check "(b) import of 4 more while disconnected" import_gen Aldo 4 3
client b2 --idle 3 --timeout 30 -H "Last-Event-ID: $LAST" "$(url Aldo)"
finish b2
start=${LAST%-*}
n=${LAST#*-}
want=$(for i in $(seq $((n + 1)) $((n + 7))); do printf '%s-%s ' "$start" "$i"; done)
expect_eq "(b) exactly the 7 missed events, in order" "$want" \
    "$(jq -r 'select(.event) | .id' "$_root/b2.out" | tr '\n' ' ')"
expect_eq "(b) 10 records told in all, none twice" 10 \
    "$(cat "$_root/b1.out" "$_root/b2.out" | jq -r 'select(.event == "stored") | .data.id' | sort -u | wc -l)"
client b3 --count 7 --timeout 30 "$(url Aldo "?last_event_id=$LAST")"
finish b3
expect_eq "(b) ?last_event_id= resumes the same way" "$want" \
    "$(jq -r 'select(.event) | .id' "$_root/b3.out" | tr '\n' ' ')"
client b4 --count 2 --timeout 30 -H "Last-Event-ID: 1-5" "$(url Aldo)"
finish b4
expect_eq "(b) an id of another start: a reset first" reset \
    "$(jq -r 'select(.event) | .event' "$_root/b4.out" | head -1)"
expect_eq "(b) then the oldest event kept" "$start-1" \
    "$(jq -r 'select(.event) | .id' "$_root/b4.out" | sed -n 2p)"
code=$(curl -s -o "$_root/bad.json" -w '%{http_code}' -H 'Last-Event-ID: nonsense' "$(url Aldo)")
expect_eq "(b) a malformed Last-Event-ID is a 400" 400 "$code"
expect_eq "(b) naming the parameter" last_event_id "$(jq -r .param "$_root/bad.json")"

# ---- (c) link events: operator clients only ----
client ops --timeout 25 -H "$AUTH" "$(url Aldo)"
client pub --timeout 25 "$(url Aldo)"
http_node Brno CZ
ctl Brno peer add "127.0.0.1:${PORTS[Aldo]}" >/dev/null
check "(c) Brno links to Aldo" wait_for 20 connected Brno Aldo
sleep 1
stop_node "${DIRS[Brno]}"
finish ops
finish pub
expect_eq "(c) the operator sees the link up" 1 "$(nevents ops \
    ".event == \"link\" and .data.state == \"up\" and .data.city == \"${IDS[Brno]}\" and .data.outbound == false")"
expect_eq "(c) and down" 1 "$(nevents ops \
    ".event == \"link\" and .data.state == \"down\" and .data.city == \"${IDS[Brno]}\"")"
expect_eq "(c) the public client read till its end" timeout "$(ended pub)"
expect_eq "(c) a public client sees no link event" 0 "$(nevents pub '.event == "link"')"
check "(c) but Brno's records, from a peer" [ "$(nevents pub \
    ".event == \"stored\" and .data.city == \"${IDS[Brno]}\" and .data.from == \"peer\"")" -ge 1 ]
expect_eq "(c) and the operator the same ones" "$(nevents pub '.event == "stored"')" \
    "$(nevents ops '.event == "stored"')"

# ---- (d) a client that does not read ----
# It reads nothing until the file go exists, with a small receive window.
client slow --rcvbuf 4096 --stall-file "$_root/go" --idle 5 --timeout 240 "$(url Aldo)"
client fast --idle 20 --timeout 240 "$(url Aldo)"
rss0=$(rss_anon Aldo)
# 30 imports of 800: each import tells at most 1 MiB of practices record by
# record (then a resync), so these stay under it. The node keeps 16,384
# events; the kernel's buffers hold a few hundred more for the slow client.
NIMP=24000
t0=$SECONDS
for s in $(seq 11 40); do import_gen Aldo 800 "$s" || fail "(d) import $s" "failed"; done
rss1=$(rss_anon Aldo)
echo "# $NIMP events in $((SECONDS - t0)) s; RssAnon $rss0 KiB before, $rss1 KiB after"
check "(d) the node drops the stream that does not read" \
    wait_for 10 grep -q 'event stream is dropped' "${DIRS[Aldo]}/node.log"
touch "$_root/go"
finish slow
finish fast
expect_eq "(d) the reading client got every record" "$NIMP" \
    "$(nevents fast '.event == "stored" and .data.from == "import"')"
expect_eq "(d) one event per record, none twice" "$NIMP" \
    "$(jq -r 'select(.event == "stored") | .data.id' "$_root/fast.out" | sort -u | wc -l)"
expect_eq "(d) the slow client's stream was cut" cut "$(ended slow)"
got=$(nevents slow true)
echo "# the slow client had $got events before it was dropped"
between() { [ "$1" -gt "$2" ] && [ "$1" -lt "$3" ]; }
check "(d) after some events, fewer than there were" between "$got" 0 "$NIMP"
# Under AddressSanitizer freed memory waits in its quarantine (256 MiB): the
# node's own size is not what it measures.
if nm "$LCNODE" 2>/dev/null | grep -q __asan_init; then
	echo "# the RssAnon bound was not checked: lcnode is built with AddressSanitizer" >&2
else
	check "(d) RssAnon grew by less than 32 MiB ($((rss1 - rss0)) KiB)" [ $((rss1 - rss0)) -lt 32768 ]
fi
client after --count 1 --timeout 20 "$(url Aldo)"
check "(d) the node serves a new stream" import_gen Aldo 1 99
finish after
expect_eq "(d) which gets the next event" count "$(ended after)"

# ---- HTTP/2 (h2c, prior knowledge) streams the same ----
curl -sN --http2-prior-knowledge --max-time 8 "$(url Aldo)" >"$_root/h2.out" 2>&1 &
h2pid=$!
wait_for 5 grep -q '^retry:' "$_root/h2.out"
import_gen Aldo 1 98
wait_for 5 grep -q '^event: stored' "$_root/h2.out"
check "(f) an HTTP/2 stream gets the stored event" grep -q '^event: stored' "$_root/h2.out"
kill "$h2pid" 2>/dev/null
wait "$h2pid" 2>/dev/null

# ---- keepalives, and the end of streams at the node's stop ----
finish calm
check "(e) a silent stream gets a keepalive within 20 s" \
    holds 'any(.[]; .comment == "keepalive")' "$_root/calm.out"
client last --timeout 30 "$(url Aldo)"
stop_node "${DIRS[Aldo]}"
expect_eq "(e) Aldo stops cleanly with a stream open" 0 "$?"
finish last
expect_eq "(e) the stream ends with the response's end" final "$(ended last)"
stop_node "${DIRS[Calm]}"
