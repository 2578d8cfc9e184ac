#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Health on real nodes: `lcctl health` and its exit statuses, /healthz and
# /readyz, an HTTP address two nodes want (the second is degraded, its peer side
# unharmed), `lcctl init --http off`, and `lcctl http token`.
. "$(dirname "$0")/lib.sh"

T=$(tmpdir)

# new_node NAME [HTTP]: lcctl init on its own peer port, and on HTTP (an
# address, off, or a free loopback port); DIR and HTTP_PORT are set.
new_node() {
	local peer
	DIR=$T/$1
	# Not in a subshell: each call must get new ports.
	free_port >/dev/null
	HTTP_PORT=$_port_next
	free_port >/dev/null
	peer=$_port_next
	"$LCCTL" -d "$DIR" init --city "$1" --country SE --listen "127.0.0.1:$peer" \
		--http "${2:-127.0.0.1:$HTTP_PORT}" >/dev/null 2>&1
}

# http_code URL [CURL-ARGS...]: the status code; the body goes to $BODY.
BODY=$T/body
http_code() {
	local url=$1
	shift
	curl -s -o "$BODY" -w '%{http_code}' --max-time 5 "$@" "$url"
}

health_is() {   # health_is DIR STATUS: lcctl health exits with STATUS
	"$LCCTL" -d "$1" health >/dev/null 2>&1
	[ $? = "$2" ]
}

json_holds() {  # json_holds EXPR JSON
	[ -n "$2" ] && jq -e "$1" <<<"$2" >/dev/null
}

# The TCP ports a process listens on, one a line.
listening() {
	ss -Hltnp 2>/dev/null | grep "pid=$1," | awk '{ print $4 }' | sed 's/.*://' | sort -u
}

# ---- a lone node, no peers: ok ----
new_node Lund
A=$DIR
HA=$HTTP_PORT
check "lone node starts" start_node "$A"
PID_A=$NODE_PID
expect_status "lcctl health: ok, exit 0, for a lone node without peers" 0 "$LCCTL" -d "$A" health
expect_eq "and says ok" "ok" "$OUT"
J=$("$LCCTL" -d "$A" health --json)
check "health --json: status ok, ready, no reasons" json_holds \
	'.status == "ok" and .ready == true and .reasons == []' "$J"
check "health --json: its checks" json_holds \
	".checks.store.open == true and .checks.peers.configured == 0 and .checks.http.served == true and .checks.http.listen == \"127.0.0.1:$HA\"" "$J"
expect_contains "it listens on its HTTP port" "$(listening "$PID_A")" "$HA"
expect_eq "GET /healthz: 200" 200 "$(http_code "http://127.0.0.1:$HA/healthz")"
check "with {\"status\": \"ok\"}" json_holds '.status == "ok"' "$(cat "$BODY")"
expect_eq "GET /readyz: 200" 200 "$(http_code "http://127.0.0.1:$HA/readyz")"
check "/readyz has lcctl health --json's shape" json_holds \
	'.status == "ok" and .ready == true and .reasons == [] and (.checks | keys) == ["http", "membership", "peers", "store", "sync"]' "$(cat "$BODY")"

# ---- the token lcnode made at its start ----
expect_status "lcctl http token" 0 "$LCCTL" -d "$A" http token
check "prints 64 hex digits" is_hex64 "$OUT"
expect_eq "the file's token" "$(cat "$A/http.token")" "$OUT"
expect_eq "one line on stdout" 1 "$("$LCCTL" -d "$A" http token 2>/dev/null | wc -l)"
expect_eq "http.token is mode 0600" 600 "$(stat -c %a "$A/http.token")"
chmod 644 "$A/http.token"
expect_status "http token refuses a token file others can read" 1 "$LCCTL" -d "$A" http token
expect_contains "advising chmod" "$OUT" "chmod 600 $A/http.token"
chmod 600 "$A/http.token"

# ---- a configured peer that does not answer: degraded ----
free_port >/dev/null
DEAD=$_port_next
"$LCCTL" -d "$A" peer add "127.0.0.1:$DEAD" >/dev/null 2>&1
check "a configured peer not reachable: health exits 1" wait_for 10 health_is "$A" 1
expect_status "lcctl health: degraded, exit 1" 1 "$LCCTL" -d "$A" health
expect_contains "says degraded" "$OUT" "degraded (not ready)"
expect_contains "the reason says no peer is reachable" "$OUT" "no peer reachable: 1 configured, none connected"
expect_contains "and names the peer" "$OUT" "127.0.0.1:$DEAD"
expect_contains "and what to look at" "$OUT" "lcctl peer list"
J=$("$LCCTL" -d "$A" health --json)
check "health --json: degraded, not ready, peers 1 configured 0 connected" json_holds \
	'.status == "degraded" and .ready == false and .checks.peers.configured == 1 and .checks.peers.connected == 0' "$J"
expect_eq "GET /readyz: 503" 503 "$(http_code "http://127.0.0.1:$HA/readyz")"
R=$(cat "$BODY")
check "/readyz: degraded, not ready" json_holds '.status == "degraded" and .ready == false' "$R"
expect_contains "/readyz names the unreachable peer" "$(jq -r '.reasons[]' <<<"$R" 2>/dev/null)" "127.0.0.1:$DEAD"
expect_eq "GET /healthz still 200 (the loop turns)" 200 "$(http_code "http://127.0.0.1:$HA/healthz")"
"$LCCTL" -d "$A" peer rm "127.0.0.1:$DEAD" >/dev/null 2>&1
check "the peer removed: ok again" wait_for 10 health_is "$A" 0

# ---- a second node on the same HTTP address: degraded, its peers unharmed ----
new_node Malmo "127.0.0.1:$HA"
B=$DIR
check "a node whose HTTP address is taken starts" start_node "$B"
LOGB=$(cat "$B/node.log")
expect_contains "its log has an error naming the address" "$LOGB" "127.0.0.1:$HA"
expect_status "lcctl health: degraded, exit 1" 1 "$LCCTL" -d "$B" health
expect_contains "the reason: the HTTP port is not served" "$OUT" "HTTP port is not served"
expect_contains "naming the address" "$OUT" "127.0.0.1:$HA"
J=$("$LCCTL" -d "$B" health --json)
check "health --json: http not served, with the problem" json_holds \
	".status == \"degraded\" and .checks.http.served == false and (.checks.http.problem | contains(\"127.0.0.1:$HA\"))" "$J"
ST=$("$LCCTL" -d "$B" status --json)
check "the first node still answers on that port" json_holds '.status == "degraded" or .status == "ok"' \
	"$(curl -s --max-time 5 "http://127.0.0.1:$HA/readyz")"
BPORT=$(jq -r '.listen' <<<"$ST" | sed 's/.*://')
"$LCCTL" -d "$A" peer add "127.0.0.1:$BPORT" >/dev/null 2>&1
peers_up() { json_holds '.checks.peers.connected >= 1' "$("$LCCTL" -d "$1" health --json 2>/dev/null)"; }
check "the two nodes link" wait_for 20 peers_up "$A"
DIRS[Lund]=$A
DIRS[Malmo]=$B
publish Lund "From Lund"
publish Malmo "From Malmo"
check "the node without HTTP gets the other's record" wait_for 30 has_practice Malmo from-lund
check "and its record reaches the other" wait_for 30 has_practice Lund from-malmo
check "the first node, its peer connected, is ok" wait_for 20 health_is "$A" 0
J=$("$LCCTL" -d "$B" health --json 2>/dev/null)
expect_eq "the second stays degraded" 1 "$?"
check "for its HTTP port only" json_holds '(.reasons | length) == 1 and .checks.peers.connected >= 1 and .checks.http.served == false' "$J"

# ---- the node stopped: down ----
stop_node "$A"
expect_status "lcctl health on a stopped node: down, exit 2" 2 "$LCCTL" -d "$A" health
expect_contains "says down" "$OUT" "down"
expect_contains "and asks whether lcnode runs" "$OUT" "is it running?"
OUT=$("$LCCTL" -d "$A" health --json 2>/dev/null)
check "health --json on a stopped node: down" json_holds '.status == "down" and .ready == false' "$OUT"
stop_node "$B"

# ---- init --http off: no HTTP at all ----
new_node Ystad off
C=$DIR
expect_eq "init --http off writes listen = off under [http]" "listen = off" \
	"$(sed -n '/^\[http\]/,/^\[/p' "$C/lcnode.conf" | grep '^listen')"
check "that node starts" start_node "$C"
PID_C=$NODE_PID
expect_status "and is ok" 0 "$LCCTL" -d "$C" health
J=$("$LCCTL" -d "$C" health --json)
check "health --json: http off, not a problem" json_holds \
	'.checks.http.listen == "off" and .checks.http.served == false and .checks.http.problem == null' "$J"
CPEER=$(jq -r '.listen' <<<"$("$LCCTL" -d "$C" status --json)" | sed 's/.*://')
expect_eq "it listens on its peer port only" "$CPEER" "$(listening "$PID_C")"
expect_status "lcnode -n accepts listen = off" 0 "$LCNODE" -d "$C" -n
stop_node "$C"

# ---- a federation node: degraded until its own membership is in force ----
FED=$("$LCCTL" federation create -k "$T/fed.key" --name "Health Test" 2>/dev/null)
free_port >/dev/null
FDIR=$T/Visby
FID=$("$LCCTL" -d "$FDIR" init --city Visby --country SE --listen "127.0.0.1:$_port_next" \
	--http off --federation "$FED" 2>/dev/null | tail -1)
check "a federation node starts" start_node "$FDIR"
expect_status "not admitted yet: degraded" 1 "$LCCTL" -d "$FDIR" health
expect_contains "saying its membership is not in force" "$OUT" "this city's membership is not in force"
expect_contains "and what to do" "$OUT" "lcctl publish FILE"
J=$("$LCCTL" -d "$FDIR" health --json 2>/dev/null)
check "health --json: federation, not in force" json_holds \
	'.checks.membership.federation == true and .checks.membership.in_force == false' "$J"
"$LCCTL" federation admit -k "$T/fed.key" "$FID" --city Visby --country SE >"$T/admit.rec" 2>/dev/null
expect_status "its admission published" 0 "$LCCTL" -d "$FDIR" publish "$T/admit.rec"
check "then ok" wait_for 10 health_is "$FDIR" 0
J=$("$LCCTL" -d "$FDIR" health --json 2>/dev/null)
check "health --json: in force" json_holds '.checks.membership.in_force == true and .ready == true' "$J"
stop_node "$FDIR"

# ---- catching up: the first reconciliation since the start, still running ----
# 40,000 practices take a few seconds to pull; health is polled meanwhile.
NREC=${HEALTH_CATCHUP_RECORDS:-40000}
new_node Big
BIG=$DIR
new_node Fresh
FRESH=$DIR
check "a node with many records starts" start_node "$BIG"
check "and an empty one" start_node "$FRESH"
"$ROOT/$BUILD/lcf-gen" -n "$NREC" -s 3 -o "$T/practices.json"
expect_status "import of $NREC practices" 0 "$LCCTL" -d "$BIG" practice import "$T/practices.json"
WANT=$("$LCCTL" -d "$BIG" status --json | jq -r '.records_total')
BIGPORT=$("$LCCTL" -d "$BIG" status --json | jq -r '.listen' | sed 's/.*://')
"$LCCTL" -d "$FRESH" peer add "127.0.0.1:$BIGPORT" >/dev/null 2>&1
SEEN=""
deadline=$((SECONDS + 60))
while [ "$SECONDS" -lt "$deadline" ]; do
	J=$("$LCCTL" -d "$FRESH" health --json 2>/dev/null)
	if json_holds '.checks.sync.catching_up == true' "$J"; then SEEN=$J; break; fi
	HAVE=$("$LCCTL" -d "$FRESH" status --json 2>/dev/null | jq -r '.records_total // 0')
	[ "${HAVE:-0}" -ge "${WANT:-1}" ] && break
	sleep 0.1
done
check "while it pulls, the new node is degraded, catching up" json_holds \
	'.status == "degraded" and .ready == false and any(.reasons[]; startswith("catching up"))' "$SEEN"
caught_up() {
	[ "$("$LCCTL" -d "$FRESH" status --json 2>/dev/null | jq -r '.records_total // 0')" -ge "${WANT:-1}" ] &&
		health_is "$FRESH" 0
}
echo "# seen: $(jq -r '.reasons[0] // "nothing"' <<<"${SEEN:-{\}}" 2>/dev/null)"
t0=$SECONDS
check "once it holds every record, ok" wait_for 60 caught_up
echo "# ok $((SECONDS - t0)) s after that"
stop_node "$FRESH"
stop_node "$BIG"
