#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# GET /metrics on two real nodes that reconcile and push: promtool and
# prometheus_client's parser accept the text, and its values match what the
# test did (records stored by source, pushed records in the delay histogram,
# peers, handshakes, reconciliations, a 404 it caused); operator access only.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3	# Debian's, with python3-prometheus-client
# http_node NAME COUNTRY LOOPBACK: a node (lib.sh gives its HTTP face a port
# of its own) whose operator_loopback is LOOPBACK (yes|no); HURL its base URL.
declare -A HURL
http_node() {
	city_node "$1" "$2" "s/^\\[http\\]\$/[http]\\noperator_loopback = $3/"
	HURL[$1]=$(http_url "${DIRS[$1]}")
}

# metrics NAME [CURL-ARGS...]: the body of GET /metrics with the node's token.
metrics() {
	local name=$1
	shift
	curl -sf -H "Authorization: Bearer $(cat "${DIRS[$name]}/http.token")" \
		"$@" "${HURL[$name]}/metrics"
}

# value NAME SAMPLE: the value of one sample ("lcf_x{a=\"b\"}"), read by
# prometheus_client's parser; empty when the node does not answer or has no
# such sample.
value() {
	metrics "$1" | "$PY" -c '
import sys
from prometheus_client.parser import text_string_to_metric_families as parse
want = sys.argv[1]
for fam in parse(sys.stdin.read()):
    for s in fam.samples:
        labels = ",".join("%s=\"%s\"" % kv for kv in sorted(s.labels.items()))
        name = s.name + ("{" + labels + "}" if labels else "")
        if name == want:
            v = s.value
            print(int(v) if v == int(v) else v)
' "$2" 2>/dev/null
}
stored() { value "$1" "lcf_records_stored_total{source=\"$2\"}"; }

http_node Alpha RO no
http_node Beta FI yes
AT=$(cat "${DIRS[Alpha]}/http.token" 2>/dev/null)
serving() { curl -s -o /dev/null "${HURL[$1]}/"; }
check "both nodes serve HTTP" wait_for 10 eval "serving Alpha && serving Beta"

# --- access ---
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
expect_eq "without the token, /metrics is 401 where loopback is not trusted" 401 \
	"$(code "${HURL[Alpha]}/metrics")"
expect_eq "a wrong token is 401" 401 \
	"$(code -H "Authorization: Bearer 00$AT" "${HURL[Alpha]}/metrics")"
expect_eq "with the token it is 200" 200 \
	"$(code -H "Authorization: Bearer $AT" "${HURL[Alpha]}/metrics")"
expect_eq "a loopback request where loopback is trusted is 200" 200 \
	"$(code "${HURL[Beta]}/metrics")"
expect_eq "but not one carrying X-Forwarded-For" 401 \
	"$(code -H "X-Forwarded-For: 203.0.113.9" "${HURL[Beta]}/metrics")"
TYPE=$(curl -s -o /dev/null -w '%{content_type}' -H "Authorization: Bearer $AT" \
	"${HURL[Alpha]}/metrics")
expect_eq "Content-Type is the text format 0.0.4" "text/plain; version=0.0.4; charset=utf-8" "$TYPE"

# --- records before the link come by reconciliation ---
publish Alpha "Metrics before one"
publish Alpha "Metrics before two"
publish Beta "Metrics before three"
# The writers count on commit: the practices show at once.
check "Alpha counts its records as local" test "$(stored Alpha local)" -ge 2
A_LOCAL=$(stored Alpha local)
B_LOCAL=$(stored Beta local)
expect_eq "nothing came from a peer yet" "0 0 0 0" \
	"$(stored Alpha push) $(stored Alpha reconcile) $(stored Beta push) $(stored Beta reconcile)"

ctl Alpha peer add "127.0.0.1:${PORTS[Beta]}" >/dev/null
check "Alpha connects to Beta" wait_for 10 connected Alpha Beta
check "Beta has Alpha's practices" wait_for 15 all_have metrics-before-two Beta
check "Alpha has Beta's practice" wait_for 15 all_have metrics-before-three Alpha
expect_status "a reconciliation on request" 0 "$LCCTL" -d "${DIRS[Alpha]}" peer sync "${IDS[Beta]:0:8}"
# Every record one made reached the other, counted once.
got_all() {
	[ "$(( $(stored Beta reconcile) + $(stored Beta push) ))" = "$(stored Alpha local)" ] &&
	[ "$(( $(stored Alpha reconcile) + $(stored Alpha push) ))" = "$(stored Beta local)" ]
}
check "each node stored every record of the other once (reconcile + push = its local)" wait_for 10 got_all
check "Beta took Alpha's earlier records by reconciliation" test "$(stored Beta reconcile)" -ge "$A_LOCAL"
check "Alpha took Beta's by reconciliation" test "$(stored Alpha reconcile)" -ge "$B_LOCAL"
expect_eq "peers connected (Alpha)" 1 "$(value Alpha lcf_peers_connected)"
expect_eq "peers connected (Beta)" 1 "$(value Beta lcf_peers_connected)"
expect_eq "peers known (Alpha)" 1 "$(value Alpha lcf_peers_known)"
expect_eq "one handshake ok on Alpha" 1 "$(value Alpha 'lcf_handshakes_total{reason="none",result="ok"}')"
expect_eq "one handshake ok on Beta" 1 "$(value Beta 'lcf_handshakes_total{reason="none",result="ok"}')"
check "Alpha's reconciliations as initiator ended ok" \
	test "$(value Alpha 'lcf_reconciliations_total{result="ok",role="initiator"}')" -ge 1
check "Beta answered them" test "$(value Beta 'lcf_reconciliations_total{result="ok",role="responder"}')" -ge 1
check "round trips counted" test "$(value Alpha lcf_reconciliation_round_trips_total)" -ge 1
check "bytes sent by Alpha's reconciliations" test "$(value Alpha 'lcf_reconciliation_bytes_total{direction="sent"}')" -gt 0
check "bytes received by Beta's" test "$(value Beta 'lcf_reconciliation_bytes_total{direction="received"}')" -gt 0
AGE=$(value Alpha "lcf_peer_last_good_sync_age_seconds{peer=\"${IDS[Beta]}\"}")
check "seconds since the last good sync with Beta, on Alpha, is small" \
	"$PY" -c "import sys; sys.exit(not (0 <= float('${AGE:-nan}') < 60))"

# --- records after the link come by push ---
B_PUSH=$(stored Beta push)
B_RECON=$(stored Beta reconcile)
A_LOCAL=$(stored Alpha local)
publish Alpha "Metrics pushed one"
publish Alpha "Metrics pushed two"
publish Alpha "Metrics pushed three"
check "Beta has the pushed practices" wait_for 10 all_have metrics-pushed-three Beta
NEW=$(( $(stored Alpha local) - A_LOCAL ))
pushed_all() { [ "$(( $(stored Beta push) - B_PUSH ))" = "$NEW" ]; }
check "Beta counts the $NEW new records as pushed" wait_for 5 pushed_all
expect_eq "and none as reconciled" "$B_RECON" "$(stored Beta reconcile)"
expect_eq "the push delay histogram counts each pushed record" "$(stored Beta push)" \
	"$(value Beta lcf_push_delay_seconds_count)"
expect_eq "its +Inf bucket is its count" "$(value Beta lcf_push_delay_seconds_count)" \
	"$(value Beta 'lcf_push_delay_seconds_bucket{le="+Inf"}')"
check "pushes on loopback took under 10 s" \
	test "$(value Beta 'lcf_push_delay_seconds_bucket{le="10"}')" = "$(value Beta lcf_push_delay_seconds_count)"
expect_eq "no record refused" "0 0" "$(value Alpha lcf_verify_failures_total) $(value Beta lcf_verify_failures_total)"

# --- records held, store, HTTP ---
PRACTICES=$(ctl Beta practice list --json --limit 0 | jq length)
expect_eq "Beta's live practices" "$PRACTICES" "$(value Beta 'lcf_records{kind="practice",state="live"}')"
check "store bytes used are counted" test "$(value Beta lcf_store_used_bytes)" -gt 0
check "the map size is at least the bytes used" \
	test "$(value Beta lcf_store_map_size_bytes)" -ge "$(value Beta lcf_store_used_bytes)"
N404=$(value Alpha 'lcf_http_requests_total{code="404"}')
expect_eq "an unknown path is 404" 404 \
	"$(code -H "Authorization: Bearer $AT" "${HURL[Alpha]}/no/such/path")"
expect_eq "the 404 is counted" "$(( ${N404:-0} + 1 ))" "$(value Alpha 'lcf_http_requests_total{code="404"}')"
check "the 401s are counted" test "$(value Alpha 'lcf_http_requests_total{code="401"}')" -ge 2
check "an HTTP connection is open (the one asking)" test "$(value Alpha lcf_http_connections)" -ge 1
expect_eq "build info" 1 "$(metrics Alpha | grep -c '^lcf_build_info{version="[^"][^"]*"} 1$')"

# --- handshakes that fail, records with a bad signature ---
PROBE=$ROOT/$BUILD/lcf-peer-probe
BP=${PORTS[Beta]}
hs() { value "$1" "lcf_handshakes_total{reason=\"$2\",result=\"$3\"}"; }
bad_hs() { echo $(( $(hs Beta crypto failed) + $(hs Beta protocol failed) )); }
BAD0=$(bad_hs)
(exec 3<>"/dev/tcp/127.0.0.1/$BP" && printf '\377\377' >&3 && head -c 65535 /dev/zero >&3) 2>/dev/null
(exec 3<>"/dev/tcp/127.0.0.1/$BP" && printf '\000\000' >&3) 2>/dev/null
two_bad() { [ "$(bad_hs)" = "$((BAD0 + 2))" ]; }
check "two connections sending garbage: two handshakes failed (crypto or protocol)" wait_for 10 two_bad
OK0=$(hs Beta none ok)
expect_status "a probe pushes a record with a bad signature" 0 "$PROBE" badsig "127.0.0.1:$BP"
one_bad() { [ "$(value Beta lcf_verify_failures_total)" = 1 ]; }
check "Beta counts one verify failure" wait_for 10 one_bad
expect_eq "and one record refused for its signature" 1 "$(value Beta 'lcf_records_refused_total{reason="signature"}')"
expect_eq "the probe's handshake was ok" "$((OK0 + 1))" "$(hs Beta none ok)"
ctl Alpha peer add "127.0.0.1:$(free_port)" >/dev/null
dial_failed() { [ "$(hs Alpha connect failed)" -ge 1 ]; }
check "a dial to a closed port counts as failed to connect" wait_for 10 dial_failed

# --- the text as Prometheus reads it ---
TEXT=$(tmpdir)/metrics.txt
metrics Alpha >"$TEXT"
expect_status "promtool check metrics accepts Alpha's" 0 bash -c "promtool check metrics <'$TEXT'"
metrics Beta >"$TEXT"
expect_status "promtool check metrics accepts Beta's" 0 bash -c "promtool check metrics <'$TEXT'"
expect_status "prometheus_client parses every family" 0 "$PY" -c '
import sys
from prometheus_client.parser import text_string_to_metric_families as parse
fams = {f.name: f for f in parse(open(sys.argv[1]).read())}
assert fams["lcf_push_delay_seconds"].type == "histogram", fams
for name in ("lcf_records_stored", "lcf_handshakes", "lcf_http_requests"):
    assert fams[name].type == "counter", name
assert all(s.value >= 0 for f in fams.values() for s in f.samples)
' "$TEXT"
expect_eq "HEAD /metrics has no body" 0 \
	"$(curl -s -I -H "Authorization: Bearer $AT" "${HURL[Alpha]}/metrics" -o /dev/null -w '%{size_download}')"

stop_node "${DIRS[Alpha]}"
expect_eq "Alpha stops cleanly" 0 "$?"
stop_node "${DIRS[Beta]}"
expect_eq "Beta stops cleanly" 0 "$?"
