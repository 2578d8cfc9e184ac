#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Progress of a long reconciliation in `lcctl status` and /api/v1/status: an
# empty node pulling 40,000 practices from two peers that both hold them shows
# a total (what the peers announced that it lacks, each record counted once,
# not once per peer), a remaining count that goes down, and an ETA.
# lcf-test: alone (it measures memory or time, or works both cores hard)
. "$(dirname "$0")/lib.sh"

NREC=${PROGRESS_RECORDS:-40000}
GEN=$ROOT/$BUILD/lcf-gen
total() { ctl "$1" status --json 2>/dev/null | jq -r '.records_total // 0'; }

city_node Big SE
city_node Mirror DK
city_node Empty NO
"$GEN" -n "$NREC" -s 11 -o "$_root/practices.json"
expect_status "import of $NREC practices" 0 ctl Big practice import "$_root/practices.json"
ctl Mirror peer add "127.0.0.1:${PORTS[Big]}" >/dev/null
want_big=$(total Big)
mirrored() { [ "$(total Mirror)" -ge "$want_big" ]; }
wait_for 60 mirrored || fail "setup" "Mirror holds $(total Mirror) of $want_big"
want=$(total Mirror)     # everything Empty lacks: Big's, Mirror's own
before=$(total Empty)    # Empty's own, which the others lack
all=$((want + before))

TOKEN=$(tr -d '\n' <"${DIRS[Empty]}/http.token")
U=$(http_url "${DIRS[Empty]}")
S=$_root/samples
: >"$S"
: >"$S.http"
ctl Empty peer add "127.0.0.1:${PORTS[Big]}" >/dev/null
ctl Empty peer add "127.0.0.1:${PORTS[Mirror]}" >/dev/null
deadline=$((SECONDS + 90))
i=0
while [ "$SECONDS" -lt "$deadline" ]; do
	j=$(ctl Empty status --json 2>/dev/null) || break
	jq -r 'select(.sync_expected != null) | "\(.sync_expected) \(.sync_remaining) \(.sync_eta_ms)"' <<<"$j" >>"$S"
	if [ $((i % 4)) = 0 ]; then
		curl -s -H "Authorization: Bearer $TOKEN" "$U/api/v1/status" |
			jq -r 'select(.sync.expected != null) | "\(.sync.expected) \(.sync.remaining)"' >>"$S.http"
	fi
	[ $((i % 4)) = 2 ] && ctl Empty status 2>/dev/null | grep '^Reconciliation' >>"$S.text"
	[ "$(jq -r .records_total <<<"$j")" -ge "$all" ] && break
	i=$((i + 1))
	sleep 0.1
done
# (records_total also counts status beacons, which come and go by the clock:
# the practices are the exact count.)
practices() { ctl "$1" status --json 2>/dev/null | jq -r '[.kinds[] | select(.kind == "practice") | .current][0] // 0'; }
expect_eq "every practice arrived" "$(practices Big)" "$(practices Empty)"
check "and every record the others held ($(total Empty) of at least $all)" [ "$(total Empty)" -ge "$all" ]
n=$(wc -l <"$S")
check "status showed the progress several times ($n samples)" [ "$n" -ge 3 ]
max=$(awk 'BEGIN { m = 0 } $1 > m { m = $1 } END { print m }' "$S")
check "the total is what Empty lacked, counted once with two peers feeding ($max, lacked $want)" \
	[ "$max" -ge "$NREC" -a "$max" -le "$want" ]
first=$(awk '$1 > 0 { print $2; exit }' "$S")
last=$(awk '$1 > 0 { r = $2 } END { print r }' "$S")
check "the remaining count goes down ($first, then $last)" [ "$last" -lt "$first" ]
check "an ETA while records remain" grep -qv ' null$' "$S"
check "lcctl status says it in words" grep -q 'records stored (.*%), .* to go' "$S.text"
hmax=$(awk 'BEGIN { m = 0 } $1 > m { m = $1 } END { print m }' "$S.http")
check "/api/v1/status shows the same total to operators ($hmax)" \
	[ "$hmax" -ge "$NREC" -a "$hmax" -le "$want" ]
idle() { ctl Empty status | grep -q '^Reconciliation: *idle'; }
check "idle again once done" wait_for 60 idle
expect_eq "and no progress fields then" null "$(ctl Empty status --json | jq .sync_expected)"
expect_eq "the public status shows no sync figures" null \
	"$(curl -s -H 'X-Forwarded-For: 203.0.113.9' "$U/api/v1/status" | jq .sync)"
