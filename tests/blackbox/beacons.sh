#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Status beacons: each node of a federation publishes one at start (kind
# beacon, key "beacon"), signed by its own key, at most 1 KiB; the others
# receive it and hold it as the current version; a restart replaces it with
# a newer one; status counts beacons apart from the city's content.
. "$(dirname "$0")/lib.sh"

W=$(tmpdir)
cd "$W" || exit 1
FED=$("$LCCTL" federation create -k fed.key --name "Beaconed" 2>/dev/null)
fed_conf="s/^; federation = FEDID/federation = $FED/"
city_node A SE "$fed_conf"
city_node B FI "$fed_conf"
city_node C DK "$fed_conf"
for c in A B C; do
	"$LCCTL" federation admit -k fed.key "${IDS[$c]}" --city "City $c" --country SE
done >admits.rec 2>/dev/null
for c in A B C; do ctl "$c" publish admits.rec >/dev/null; done
ctl B peer add "127.0.0.1:${PORTS[A]}" >/dev/null
ctl C peer add "127.0.0.1:${PORTS[B]}" >/dev/null
check "B links with A" wait_for 10 connected B A
check "C links with B" wait_for 10 connected C B

# beacon_of NODE AUTHOR: the current beacon of AUTHOR that NODE holds (JSON).
beacon_of() { ctl "$1" export --kind beacon | jq -c --arg a "${IDS[$2]}" 'select(.author == $a)'; }
has_beacon() { [ -n "$(beacon_of "$1" "$2")" ]; }
for n in A B C; do
	for a in A B C; do
		[ "$n" = "$a" ] && continue
		check "$n holds $a's beacon" wait_for 15 has_beacon "$n" "$a"
	done
done
BA=$(beacon_of C A)
expect_eq "the beacon's key" beacon "$(jq -r .key <<<"$BA")"
expect_eq "its software version" "$(ctl A status --json | jq -r .version)" "$(jq -r .beacon.software <<<"$BA")"
expect_eq "its protocol version" 3 "$(jq -r .beacon.protocol <<<"$BA")"
expect_eq "a 16-byte instance id" 32 "$(jq -r '.beacon.instance | length' <<<"$BA")"
expect_eq "a 16-byte set digest" 32 "$(jq -r '.beacon.set_digest | length' <<<"$BA")"
check "records held, by kind" jq -e '.beacon.records > 0 and (.beacon.kinds | length) > 0' <<<"$BA" >/dev/null
check "its start time" jq -e --argjson t "$(date +%s%3N)" '.beacon.started > 0 and .beacon.started <= $t' <<<"$BA" >/dev/null

# Every signed beacon is at most 1 KiB.
ctl C export --signed --kind beacon >signed.jsonl
MAXB=$(python3 - signed.jsonl <<'PY'
import base64, json, sys
m = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    c = base64.b64decode(r["content"]); s = base64.b64decode(r["signature"])
    # SignedRecord: tag+len+content, tag+len+signature
    def ln(n):
        k = 1
        while n >= 128: n >>= 7; k += 1
        return k
    m = max(m, 1 + ln(len(c)) + len(c) + 1 + ln(len(s)) + len(s))
print(m)
PY
)
check "a signed beacon is at most 1 KiB ($MAXB bytes)" test "$MAXB" -gt 0 -a "$MAXB" -le 1024
echo "# largest signed beacon: $MAXB bytes"

# status lists beacons as their own kind, never as the city's content.
expect_eq "status counts the three beacons" 3 "$(ctl C status --json | jq '[.kinds[] | select(.kind == "beacon") | .current][0]')"
expect_eq "no beacon is listed as a practice" 0 "$(ctl C practice list --json --limit 0 | jq 'length')"
CL=$(ctl C city list --json)
expect_eq "city list counts A's beacon as a beacon, like its endpoint record, not as content" "1 0" \
	"$(jq -r --arg a "${IDS[A]}" '.[] | select(.id == $a) | "\(.records.beacon) \(.records.practice // 0)"' <<<"$CL")"
U=$(http_url "${DIRS[C]}")
expect_eq "/api/v1/cities/ID counts content kinds only" null \
	"$(curl -s "$U/api/v1/cities/${IDS[A]}" | jq '.records.beacon')"

# A restart brings a newer beacon, which replaces the old one everywhere.
SEQ0=$(jq -r .seq <<<"$(beacon_of C A)")
ST0=$(jq -r .beacon.started <<<"$(beacon_of C A)")
stop_node "${DIRS[A]}"
start_node "${DIRS[A]}"
newer() { [ "$(beacon_of C A | jq -r .seq)" -gt "$SEQ0" ]; }
check "a restart's beacon reaches C and is current there" wait_for 20 newer
check "with the new start time" jq -e --argjson t "$ST0" '.beacon.started > $t' <<<"$(beacon_of C A)" >/dev/null
