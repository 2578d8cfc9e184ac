#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Liveness: a link whose path goes dead without a reset (a relay that swallows
# every byte) is closed within keepalive_timeout, the peer that was healthy is
# redialed quickly, and the records published meanwhile arrive as soon as the
# path is back, not at the sync timer (set to an hour here).
. "$(dirname "$0")/lib.sh"

KA=1 KT=3
conf="s/^; keepalive = .*/keepalive = $KA/; s/^; keepalive_timeout = .*/keepalive_timeout = $KT/; s/^sync_interval = .*/sync_interval = 3600/"
city_node Bern CH "$conf"
# Oslo listens on a wildcard: it publishes no endpoint, so Bern cannot find
# a way around the relay by discovery.
city_node Oslo NO "$conf; s/^listen = 127.0.0.1:\([0-9]*\)\$/listen = 0.0.0.0:\1/"

# Oslo dials Bern through a relay it cannot see through.
d=$(tmpdir)
rport=$(free_port)
/usr/bin/python3 "$ROOT/tests/net/lcproxy.py" "127.0.0.1:$rport" "127.0.0.1:${PORTS[Bern]}" >"$d/proxy.out" 2>&1 &
proxy=$!
_nodes+=("$proxy")
wait_for 5 grep -q ready "$d/proxy.out" || fail "relay starts" "$(cat "$d/proxy.out")"
ctl Oslo peer add "127.0.0.1:$rport" --id "${IDS[Bern]}" >/dev/null

synced() { [ "$(peer_field Oslo "${IDS[Bern]}" last_sync_ok)" = true ]; }
check "linked and reconciled through the relay" wait_for 10 synced
check "the acceptor lists the link" wait_for 5 connected Bern Oslo

# An idle link lives on: only keepalives cross it, and they suffice.
since=$(peer_field Oslo "${IDS[Bern]}" since_ms)
sleep $((KT + 1))
expect_eq "an idle link outlives keepalive_timeout" "$since" "$(peer_field Oslo "${IDS[Bern]}" since_ms)"

# The path dies: nothing is reset, every byte is lost.
kill -USR1 "$proxy"
t0=$(date +%s%N)
if wait_for $((KT + 3)) disconnected Oslo Bern; then
	dt=$((($(date +%s%N) - t0) / 1000000))
	echo "# dead link noticed after $dt ms (keepalive_timeout $KT s)"
	if [ "$dt" -le $(((KT + 2) * 1000)) ]; then ok "the dialer declares the link dead within keepalive_timeout"
	else fail "the dialer declares the link dead within keepalive_timeout" "$dt ms"; fi
else
	fail "the dialer declares the link dead within keepalive_timeout" "still connected after $((KT + 3)) s"
fi
expect_contains "the log names the silence" "$(grep 'disconnected' "${DIRS[Oslo]}/node.log")" "nothing received from the peer for"
check "the acceptor declares it dead too" wait_for $((KT + 3)) disconnected Bern Oslo
expect_eq "status --json counts the dead link" 1 "$(ctl Oslo status --json | jq .dead_links)"
expect_eq "the acceptor found it dead by itself (the relay passes no close)" 1 "$(ctl Bern status --json | jq .dead_links)"
expect_contains "status says so" "$(ctl Oslo status)" "Dead links:"
expect_contains "and /metrics" "$(curl -s "$(http_url "${DIRS[Oslo]}")/metrics")" "lcf_dead_links_total 1"

# Both sides publish while cut off.
publish Oslo "Written in Oslo while cut off"
publish Bern "Written in Bern while cut off"
oslo_key=$(ctl Oslo practice list --json --limit 0 | jq -r '.[] | select(.key | test("oslo")) | .key')
bern_key=$(ctl Bern practice list --json --limit 0 | jq -r '.[] | select(.key | test("bern")) | .key')
sleep 1
check "the cut holds: Bern lacks Oslo's record" lacks_practice Bern "$oslo_key"

# The path comes back: a quick redial, a reconciliation at once.
kill -USR1 "$proxy"
t0=$(date +%s%N)
if wait_for 8 all_have "$oslo_key" Bern && wait_for 8 all_have "$bern_key" Oslo; then
	dt=$((($(date +%s%N) - t0) / 1000000))
	echo "# both records crossed $dt ms after the path came back (sync_interval 3600 s)"
	if [ "$dt" -le 2500 ]; then ok "records published meanwhile arrive within 2.5 s of the heal"
	else fail "records published meanwhile arrive within 2.5 s of the heal" "$dt ms"; fi
else
	fail "records published meanwhile arrive within 2.5 s of the heal" "not within 8 s"
fi
check "the link is back" connected Oslo Bern
