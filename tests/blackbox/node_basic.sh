#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One city's node end to end: init, check, start, publish, query, remove, export,
# verify, stop, crash-safety. Real lcnode, real lcctl, real LMDB files.
. "$(dirname "$0")/lib.sh"

D=$(tmpdir)/city
ID=$(init_city "$D" "Timisoara" RO)
# A small map: the data file is sized to it, and the tamper step below reads it.
sed -i 's/^map_size = .*/map_size = 64M/' "$D/lcnode.conf"
check "init prints a 64-hex city id" is_hex64 "$ID"
expect_eq "key file is mode 0600" 600 "$(stat -c %a "$D/identity.key")"
expect_eq "data dir is mode 0700" 700 "$(stat -c %a "$D")"
expect_status "lcnode -n accepts a fresh init" 0 "$LCNODE" -d "$D" -n
expect_eq "lcnode -n says configuration OK" "configuration OK" "$OUT"

chmod 0640 "$D/identity.key"
expect_status "lcnode refuses a group-readable key" 1 "$LCNODE" -d "$D" -n
expect_contains "the refusal says how to fix it" "$OUT" "chmod 600"
chmod 0600 "$D/identity.key"

cp "$D/lcnode.conf" "$D/conf.bak"
printf 'bogus = 1\n' >>"$D/lcnode.conf"
expect_status "lcnode -n refuses an unknown setting" 1 "$LCNODE" -d "$D" -n
expect_contains "config error names file and line" "$OUT" "lcnode.conf:"
cp "$D/conf.bak" "$D/lcnode.conf"

expect_status "lcctl without a node fails" 1 "$LCCTL" -d "$D" status
expect_contains "and says how to start it" "$OUT" "lcnode -d"
expect_status "lcctl on a directory that is no node fails" 1 "$LCCTL" -d "$D/nonexistent" status
expect_contains "and says so, not that the node is down" "$OUT" "is not a node directory"
mv "$D/identity.key" "$D/key.bak"
expect_status "lcnode without its key file fails" 1 "$LCNODE" -d "$D" -n
expect_contains "and says to restore it, not to make a new one" "$OUT" "restore it from your backup"
mv "$D/key.bak" "$D/identity.key"

check "lcnode starts" start_node "$D"
expect_eq "admin socket is mode 0600" 600 "$(stat -c %a "$D/admin.sock")"
expect_status "a second lcnode on the same directory is refused" 1 "$LCNODE" -d "$D"
expect_contains "naming the running one" "$OUT" "already serving"

expect_status "status works" 0 "$LCCTL" -d "$D" status
expect_contains "status names the city" "$OUT" "Timisoara"
ST=$("$LCCTL" -d "$D" status --json)
expect_eq "status --json has the city id" "$ID" "$(jq -r .city_id <<<"$ST")"
expect_eq "the initial profile is published" 1 "$(jq -r '[.. | objects | select(.kind? == "city") | .current][0]' <<<"$ST")"

# City profile.
expect_status "city set" 0 "$LCCTL" -d "$D" city set --population 319279 --website https://example.org --language ro --language hu
P=$("$LCCTL" -d "$D" city show --json)
expect_eq "city set keeps the name" "Timisoara" "$(jq -r '.city.name' <<<"$P")"
expect_eq "city set stores population" 319279 "$(jq -r '.city.population' <<<"$P")"
expect_eq "city set stores languages" "ro,hu" "$(jq -r '.city.languages | join(",")' <<<"$P")"
expect_status "city set refuses a bad country" 1 "$LCCTL" -d "$D" city set --country ZZ
expect_contains "naming the field" "$OUT" "country"

# Practices.
N0=$(jq length "$SAMPLES"/timisoara-practices.SAMPLE.json)
expect_status "practice import (JSON)" 0 "$LCCTL" -d "$D" practice import "$SAMPLES/timisoara-practices.SAMPLE.json"
L=$("$LCCTL" -d "$D" practice list --json --limit 0)
expect_eq "every imported practice is listed" "$N0" "$(jq length <<<"$L")"
expect_eq "listed records name their city" "Timisoara" "$(jq -r '.[0].city_name' <<<"$L")"
SEQ0=$("$LCCTL" -d "$D" status --json | jq .last_seq)
expect_status "re-importing the same file" 0 "$LCCTL" -d "$D" practice import "$SAMPLES/timisoara-practices.SAMPLE.json"
expect_contains "re-import reports no new versions" "$OUT" "(0 new or changed versions)"
expect_eq "re-import publishes no new versions (seq unchanged)" "$SEQ0" "$("$LCCTL" -d "$D" status --json | jq .last_seq)"

expect_status "practice add" 0 "$LCCTL" -d "$D" practice add --title "Reading grandparents" \
	--summary "Older volunteers read with children in neighbourhood libraries every week." \
	--language en --area 2.2 --area 2.6 --cluster literacy
ADD_ID=$(printf '%s' "$OUT" | grep -oE '[0-9a-f]{64}' | head -1)
expect_status "practice add with the same title is refused" 1 "$LCCTL" -d "$D" practice add --title "Reading grandparents" \
	--summary "x" --language en --area 2.2
expect_status "practice add refuses an unknown sub-area" 1 "$LCCTL" -d "$D" practice add --title "T" --summary S --language en --area 2.9
expect_contains "and lists the valid ones" "$OUT" "3.3"
expect_status "practice add refuses a bad language tag" 1 "$LCCTL" -d "$D" practice add --title "T" --summary S --language "en--US" --area 2.2
expect_contains "naming the language field" "$OUT" "language"

F=$("$LCCTL" -d "$D" practice list --area 2.6 --cluster literacy --json --limit 0)
expect_eq "--area and --cluster find the practice" 1 "$(jq '[.[] | select(.key == "reading-grandparents")] | length' <<<"$F")"
expect_eq "and only practices with both" true "$(jq 'length > 0 and all(.[]; (.practice.kflc_areas | index("2.6")) and (.practice.clusters | index("literacy")))' <<<"$F")"
expect_eq "--area filters out the others" \
	"$("$LCCTL" -d "$D" practice list --json --limit 0 | jq '[.[] | select(.practice.kflc_areas | index("2.6"))] | length')" \
	"$("$LCCTL" -d "$D" practice list --area 2.6 --json --limit 0 | jq length)"
expect_eq "--text filter finds the practice (case-insensitive, all words)" 1 "$("$LCCTL" -d "$D" practice list --text "neighbourhood LIBRARIES volunteers" --json | jq '[.[] | select(.key == "reading-grandparents")] | length')"
expect_eq "--text needs every word" 0 "$("$LCCTL" -d "$D" practice list --text "neighbourhood xylophone" --json | jq length)"
expect_eq "--text with an absent word finds nothing" 0 "$("$LCCTL" -d "$D" practice list --text "xylophone" --json | jq length)"
expect_eq "--country filter" "$((N0 + 1))" "$("$LCCTL" -d "$D" practice list --country RO --limit 0 --json | jq length)"
expect_eq "--country of another country" 0 "$("$LCCTL" -d "$D" practice list --country SE --json | jq length)"
expect_eq "--country in lower case means the same code" "$((N0 + 1))" "$("$LCCTL" -d "$D" practice list --country ro --limit 0 --json | jq length)"
expect_status "--country that is no country is bad usage" 2 "$LCCTL" -d "$D" practice list --country XX
expect_contains "naming the option and the value" "$OUT" "--country 'XX' is not an ISO 3166-1 alpha-2 code"
expect_status "--area that is no sub-area is bad usage" 2 "$LCCTL" -d "$D" practice list --area 9.9
expect_contains "listing the sub-areas" "$OUT" "one of 1.1 1.2"
expect_status "--cluster that is no cluster is bad usage" 2 "$LCCTL" -d "$D" practice list --cluster reading
expect_contains "listing the clusters" "$OUT" "literacy"
expect_eq "--city filter by id prefix" "$((N0 + 1))" "$("$LCCTL" -d "$D" practice list --city "${ID:0:10}" --limit 0 --json | jq length)"
expect_status "--city with an unknown id is refused" 1 "$LCCTL" -d "$D" practice list --city "$(printf '%s' "${ID:0:10}" | tr '0-9a-f' 'fedcba9876543210')"
expect_contains "saying no such city is known" "$OUT" "no city with id"
expect_eq "--limit bounds the answer" 2 "$("$LCCTL" -d "$D" practice list --limit 2 --json | jq length)"
T=$("$LCCTL" -d "$D" practice list)
expect_contains "table output has a title column" "$T" "TITLE"
expect_contains "table output lists the new practice" "$T" "Reading grandparents"

S=$("$LCCTL" -d "$D" practice show "${ADD_ID:0:12}" --json)
expect_eq "practice show by id prefix" "Reading grandparents" "$(jq -r .practice.title <<<"$S")"
expect_eq "practice show has the author" "$ID" "$(jq -r .author <<<"$S")"
expect_status "practice show by key" 0 "$LCCTL" -d "$D" practice show reading-grandparents
expect_contains "readable show" "$OUT" "neighbourhood libraries"
expect_status "practice show of an unknown id fails" 1 "$LCCTL" -d "$D" practice show 0000000000

# Bad input loses nothing.
BAD=$(tmpdir)/bad.json
jq '.[2].kflc_areas = ["9.9"]' "$SAMPLES/tampere-practices.SAMPLE.json" >"$BAD"
BEFORE=$("$LCCTL" -d "$D" status --json | jq .records_total)
expect_status "an import with one bad record fails" 1 "$LCCTL" -d "$D" practice import "$BAD"
expect_contains "the error names the file" "$OUT" "bad.json"
expect_contains "the error names the record" "$OUT" "record 3"
expect_contains "the error names the field" "$OUT" "kflc_areas"
expect_eq "a failed import stores nothing" "$BEFORE" "$("$LCCTL" -d "$D" status --json | jq .records_total)"
printf '[{"title": "x",\n "summary": }]\n' >"$BAD"
expect_status "a JSON syntax error fails" 1 "$LCCTL" -d "$D" practice import "$BAD"
expect_contains "naming the line" "$OUT" "bad.json:2:"

# CSV import.
CSV=$(ls "$SAMPLES"/*practices.SAMPLE.csv | head -1)
NCSV=$(($(grep -c . "$CSV") - 1))
expect_status "practice import (CSV)" 0 "$LCCTL" -d "$D" practice import "$CSV"
expect_contains "CSV import reports the count" "$OUT" "imported $NCSV practices"

# Remove.
expect_status "practice rm" 0 "$LCCTL" -d "$D" practice rm reading-grandparents
expect_eq "a removed practice leaves the list" 0 "$("$LCCTL" -d "$D" practice list --limit 0 --json | jq '[.[] | select(.key == "reading-grandparents")] | length')"
expect_eq "and the text index" 0 "$("$LCCTL" -d "$D" practice list --text "neighbourhood libraries volunteers" --json | jq '[.[] | select(.key == "reading-grandparents")] | length')"
expect_eq "status counts the tombstone" 1 "$("$LCCTL" -d "$D" status --json | jq '[.kinds[] | select(.kind == "practice") | .deleted][0]')"
expect_status "removing it again fails" 1 "$LCCTL" -d "$D" practice rm reading-grandparents

# Indicators and the catalog.
CAT=$("$LCCTL" -d "$D" catalog list --json)
expect_eq "the catalog covers all twelve sub-areas" 12 "$(jq '[.[].sub_area] | unique | length' <<<"$CAT")"
IND=$(jq -r '.[0].id' <<<"$CAT")
expect_status "indicator set with an unknown id fails" 1 "$LCCTL" -d "$D" indicator set no-such-indicator 2024 12
expect_contains "and lists the valid ids" "$OUT" "$IND"
expect_status "indicator import" 0 "$LCCTL" -d "$D" indicator import "$SAMPLES/timisoara-indicators.SAMPLE.json"
UNIT=$(jq -r ".[0].unit" <<<"$CAT")
expect_status "indicator set" 0 "$LCCTL" -d "$D" indicator set "$IND" 2024 41.5 --unit "$UNIT" --source "City statistics office"
expect_status "indicator set refuses a bad period" 1 "$LCCTL" -d "$D" indicator set "$IND" 2024-Q5 1
expect_contains "naming the period" "$OUT" "period"
IL=$("$LCCTL" -d "$D" indicator list --indicator "$IND" --period 2024 --json)
expect_eq "indicator list filters by id and period" 41.5 "$(jq -r '[.[] | select(.indicator.source == "City statistics office")][0].indicator.value' <<<"$IL")"
expect_eq "and lists only that id and period" true "$(jq --arg i "$IND" 'length > 0 and all(.[]; .indicator.indicator == $i and .indicator.period == "2024")' <<<"$IL")"
expect_contains "indicator list table" "$("$LCCTL" -d "$D" indicator list)" "$IND"

# indicator rm: a value named as it was set, or by record id.
expect_status "indicator set (by sex)" 0 "$LCCTL" -d "$D" indicator set "$IND" 2019 7 --sex female
expect_status "indicator set (another period)" 0 "$LCCTL" -d "$D" indicator set "$IND" 2022 6
female2019() {
	"$LCCTL" -d "$D" indicator list --indicator "$IND" --period 2019 --json |
		jq '[.[] | select(.indicator.disaggregation.sex == "female")] | length'
}
expect_eq "the value is listed" 1 "$(female2019)"
expect_status "indicator rm without the disaggregation it was set with fails" 1 \
	"$LCCTL" -d "$D" indicator rm "$IND" 2019
expect_contains "saying this city has no such value" "$OUT" "this city has no indicator value '$IND/2019'"
expect_status "indicator rm INDICATOR PERIOD --sex" 0 "$LCCTL" -d "$D" indicator rm "$IND" 2019 --sex female
expect_contains "names the tombstone" "$OUT" "removed (tombstone record "
expect_eq "the value is no longer listed" 0 "$(female2019)"
expect_status "removing it again fails" 1 "$LCCTL" -d "$D" indicator rm "$IND" 2019 --sex female
expect_contains "saying it is removed already" "$OUT" "is already removed"
VID=$("$LCCTL" -d "$D" indicator list --indicator "$IND" --period 2022 --json | jq -r '.[0].id')
expect_status "indicator rm by a record id prefix" 0 "$LCCTL" -d "$D" indicator rm "${VID:0:10}"
expect_eq "removes that value" 0 "$("$LCCTL" -d "$D" indicator list --indicator "$IND" --period 2022 --json | jq length)"
expect_status "the 2024 value stays" 0 "$LCCTL" -d "$D" indicator list --indicator "$IND" --period 2024 --json
expect_eq "listed as before" 41.5 "$(jq -r '[.[] | select(.indicator.source == "City statistics office")][0].indicator.value' <<<"$OUT")"
expect_status "indicator rm with three arguments is bad usage" 2 "$LCCTL" -d "$D" indicator rm "$IND" 2024 x
expect_status "indicator rm ID --sex is bad usage" 2 "$LCCTL" -d "$D" indicator rm "${VID:0:10}" --sex male
expect_status "a practice's id is not an indicator value" 1 "$LCCTL" -d "$D" indicator rm \
	"$("$LCCTL" -d "$D" practice list --json | jq -r '.[0].id')"

# The node checks requests itself: lcctl stops these before sending them, but
# any program on the admin socket may send them (lcf-ctl-raw sends anything).
RAW=$ROOT/$BUILD/lcf-ctl-raw
raw() { "$RAW" "$@" <<<"$REQ"; }
REQ='{"query": {"kind": "practice", "areas": ["2.2", "9.9"]}}'
expect_status "the node refuses a query for an unknown sub-area" 1 raw "$D"
expect_contains "naming it and the valid ones" "$OUT" "area '9.9' is not a KFLC sub-area: one of 1.1 1.2"
REQ='{"query": {"kind": "practice", "clusters": ["reading"]}}'
expect_status "an unknown cluster" 1 raw "$D"
expect_contains "naming it" "$OUT" "cluster 'reading' is not a cluster: one of"
REQ='{"query": {"kind": "practice", "country": "se"}}'
expect_status "a country not in capitals (lcctl converts it)" 1 raw "$D"
expect_contains "saying so" "$OUT" "country 'se' is not an ISO 3166-1 alpha-2 code in capitals"
REQ='{"export": {"city": "not-hex"}}'
expect_status "an export of a city that is not an id" 1 raw "$D"
expect_contains "saying so" "$OUT" "'not-hex' is not a city id: expected hex digits"
# CtlRequest{version 1, export{kinds: 99}}: no JSON names kind 99.
REQ=080172021863
expect_status "an export of a kind that does not exist" 1 raw --hex "$D"
expect_contains "saying so" "$OUT" "kind 99 is not a record kind"
REQ='{"query": {"kind": "practice", "areas": ["2.2"], "country": "RO"}}'
expect_status "a good query from the same client is answered" 0 raw "$D"
expect_eq "with the practices lcctl lists" \
	"$("$LCCTL" -d "$D" practice list --area 2.2 --country RO --json | jq -r '[.[].id] | sort | join(" ")')" \
	"$(jq -r '[.query.items[].id] | sort | join(" ")' <<<"$OUT")"

# Export: signed lines verify with an independent Ed25519 implementation.
EXP=$(tmpdir)/export.jsonl
"$LCCTL" -d "$D" export --signed >"$EXP"
expect_eq "export --signed has one line per current record (status counts)" \
	"$("$LCCTL" -d "$D" status --json | jq '[.kinds[].current] | add')" "$(wc -l <"$EXP")"
expect_eq "export has as many lines as the signed export" \
	"$("$LCCTL" -d "$D" export | wc -l)" "$(wc -l <"$EXP")"
expect_status "signed export verifies with Node.js crypto (independent Ed25519)" 0 \
	node "$ROOT/tests/blackbox/verify_export.js" "$EXP"
expect_contains "the verifier saw every record" "$OUT" "verified $(wc -l <"$EXP") of"
idok=0
while read -r line; do
	want=$(jq -r .id <<<"$line")
	got=$(jq -r .content <<<"$line" | base64 -d | b2sum -l 256 | cut -d' ' -f1)
	[ "$want" = "$got" ] && idok=$((idok + 1))
done < <(head -20 "$EXP")
expect_eq "record ids are BLAKE2b-256 of the content (coreutils b2sum)" "$(head -20 "$EXP" | wc -l)" "$idok"

expect_status "verify passes on an intact store" 0 "$LCCTL" -d "$D" verify

# kill -9 loses no committed record.
TOTAL=$("$LCCTL" -d "$D" status --json | jq .records_total)
stop_node "$D" KILL
check "lcnode restarts after kill -9" start_node "$D"
expect_eq "kill -9 lost no record" "$TOTAL" "$("$LCCTL" -d "$D" status --json | jq .records_total)"
expect_status "verify after a crash" 0 "$LCCTL" -d "$D" verify

# SIGHUP (a closed terminal, a log rotation habit) does not stop the node:
# the log goes to stderr, so it is ignored, and said so in the log.
kill -HUP "$(cat "$D/test.pid")"
sleep 0.5
check "SIGHUP leaves lcnode running" kill -0 "$(cat "$D/test.pid")"
expect_status "lcnode answers status after SIGHUP" 0 "$LCCTL" -d "$D" status
expect_contains "SIGHUP is logged as ignored" "$(grep SIGHUP "$D/node.log")" "ignored"

# SIGTERM stops cleanly and removes the socket.
stop_node "$D" TERM
check "SIGTERM removes the admin socket" test ! -e "$D/admin.sock"
expect_contains "SIGTERM is logged as a clean stop" "$(tail -3 "$D/node.log")" "stopped"

# A corrupted record is caught by verify. Every copy of its text changes:
# LMDB copies a page on write, and a copy left in a free page may come first.
TITLE=$(jq -r '.[0].title' "$SAMPLES/timisoara-practices.SAMPLE.json")
perl -0777 -i -pe "s/\Q$TITLE\E/'X' . substr(\$&, 1)/ge" "$D/db/data.mdb"
check "lcnode starts on the tampered database" start_node "$D"
expect_status "verify finds the tampered record" 1 "$LCCTL" -d "$D" verify
expect_contains "and names how many failed" "$OUT" ": 1 failed"
stop_node "$D"

# Streamed imports (many chunks, one transaction) on a node of their own.
I=$(tmpdir)/import
init_city "$I" "Importville" SE >/dev/null
check "the import node starts" start_node "$I"
GEN=$ROOT/$BUILD/lcf-gen
BIG=$(tmpdir)/big.json
"$GEN" -n 20000 -s 3 -o "$BIG"
# last_seq and stored practices of the import node, as "SEQ PRACTICES".
iseq() { "$LCCTL" -d "$I" status --json | jq -r '.last_seq'; }
ipractices() {
	"$LCCTL" -d "$I" status --json |
	    jq -r '[.kinds[]? | select(.kind == "practice") | .current] | add // 0'
}
SEQ0=$(iseq)
# The refusal is answered at once; the session hands its seqs back when its
# writer thread has ended, a moment later.
seq_back() { [ "$(iseq)" = "$SEQ0" ]; }

# A bad record in a late chunk: lcctl has sent many chunks by then.
LATE=$(tmpdir)/late.json
jq '.[18500].kflc_areas = ["9.9"]' "$BIG" >"$LATE"
expect_status "an import with a bad record in a late chunk fails" 1 "$LCCTL" -d "$I" practice import "$LATE"
expect_contains "naming the record and its line" "$OUT" "late.json: record 18501 (line "
expect_contains "and the field" "$OUT" "kflc_areas"
expect_eq "it stores nothing" 0 "$(ipractices)"
check "and gives out no seq" wait_for 5 seq_back

# The node refuses a late record lcctl cannot check (an indicator outside
# the node's catalog): the answer comes back against that record.
IND=$(tmpdir)/ind.json
jq -n --slurpfile c <(jq -c '[.indicators[] | {id, unit}]' "$ROOT/config/catalog.json") '
    [range(0; 5000) as $i | $c[0][$i % 40] as $ind | (($i / 40) | floor) as $r |
     (($r / 25) | floor) as $q |
     {indicator: $ind.id, value: 1, unit: $ind.unit,
      period: (((2000 + ($r % 25)) | tostring) + (if $q == 0 then "" else "-Q\($q)" end))}]' >"$IND"
jq '.[4500].indicator = "9.9-no-such-indicator"' "$IND" >"$IND.bad"
expect_status "the node refuses a record in a late chunk" 1 "$LCCTL" -d "$I" indicator import "$IND.bad"
expect_contains "naming the record" "$OUT" "record 4501 (line "
expect_contains "and why" "$OUT" "not in the indicator catalog"
check "the refused import gives out no seq" wait_for 5 seq_back

expect_status "a 20,000-practice import (many chunks)" 0 "$LCCTL" -d "$I" practice import "$BIG"
expect_contains "reports every practice" "$OUT" "imported 20000 practices"
expect_eq "stores every practice" 20000 "$(ipractices)"
expect_eq "with consecutive seqs after the refused imports" "$((SEQ0 + 20000))" "$(iseq)"
expect_status "the indicator import (5,000 values)" 0 "$LCCTL" -d "$I" indicator import "$IND"
SEQ1=$(iseq)

# An import whose client goes away stores nothing, and the node keeps serving
# meanwhile. The file is a pipe: lcctl blocks in the middle of it with chunks
# sent and the transaction open.
FIFO=$(tmpdir)/pipe.json
mkfifo "$FIFO"
MORE=$(tmpdir)/more.json
"$GEN" -n 8000 -s 4 -o "$MORE"
"$LCCTL" -d "$I" practice import "$FIFO" >/dev/null 2>&1 &
IMP=$!
exec 3>"$FIFO"
head -c 6000000 "$MORE" >&3
check "the open import has numbered its first chunks" wait_for 10 bash -c "[ \$('$LCCTL' -d '$I' status --json | jq .last_seq) -gt $SEQ1 ]"
expect_status "a query is served during the import" 0 "$LCCTL" -d "$I" practice list --limit 5 --json
expect_eq "and sees only committed practices" 20000 "$(ipractices)"
"$LCCTL" -d "$I" practice add --title "Waits for the import" --summary "Published while an import is open." --language en --area 2.2 >"$I/add.out" 2>&1 &
ADD=$!
sleep 0.5
check "a publish waits while the import is open" kill -0 "$ADD"
kill -9 "$IMP"
wait "$IMP" 2>/dev/null
exec 3>&-
wait "$ADD"
expect_eq "the waiting publish succeeds once the import is gone" 0 "$?"
expect_eq "the killed import stored nothing" 20001 "$(ipractices)"
expect_eq "and its seqs were taken back: the publish got the next one" "$((SEQ1 + 1))" "$(iseq)"
expect_status "the node still serves after the killed import" 0 "$LCCTL" -d "$I" status
expect_contains "and logged it" "$(cat "$I/node.log")" "the client went away"
stop_node "$I"
