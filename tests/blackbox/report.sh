#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# lcctl report and GET /api/v1/cities/{id}/report (the view "report"): a
# city's progress-report draft for a cycle of calendar years: each catalog
# indicator's latest value in the cycle and its change from the period before,
# practices published by KFLC sub-area, indicators not reported; JSON and
# Markdown; the same data behind lcctl and HTTP.
. "$(dirname "$0")/lib.sh"

A=1.1-adult-learning-participation
B=2.2-community-learning-centres
C=1.1-volunteering
city_node Tampere FI
city_node Cluj RO
ctl Tampere city import "$SAMPLES/tampere-profile.SAMPLE.json" >/dev/null
ctl Tampere indicator set "$A" 2023 40 >/dev/null
ctl Tampere indicator set "$A" 2024 45.5 >/dev/null
ctl Tampere indicator set "$B" 2022 10 >/dev/null
ctl Tampere indicator set "$B" 2024-Q3 12 >/dev/null
ctl Tampere indicator set "$C" 2021 7 >/dev/null
ctl Tampere practice add --title "Family reading circles" --summary "One." --language en --area 2.2 >/dev/null
ctl Tampere practice add --title "Learning neighbourhoods" --summary "Two." --language fi --area 1.1 --area 2.2 >/dev/null
ctl Tampere practice add --title "Digital help desks" --summary "Three." --language en --area 2.4 >/dev/null
ctl Cluj peer add "127.0.0.1:${PORTS[Tampere]}" >/dev/null
synced() { ctl_jq Cluj '[.[] | select(.city_name == "Tampere")] | length == 5' indicator list --json; }
wait_for 20 synced || fail "setup" "Tampere's values did not reach Cluj"
wait_for 20 has_practice Cluj digital-help-desks || fail "setup" "Tampere's practices did not reach Cluj"
T=${IDS[Tampere]}
Y=$(date -u +%Y)
ncat=$(ctl Cluj catalog list --json | jq length)

# The default cycle: the two calendar years before this one.
expect_status "lcctl report --city PREFIX --json" 0 ctl Cluj report --city "${T:0:8}" --json
J=$OUT
expect_eq "the default cycle is the last two calendar years" "$((Y - 2)) $((Y - 1))" "$(jq -r '"\(.cycle.from) \(.cycle.to)"' <<<"$J")"
# The test's values sit in 2021-2024: pin the cycle so that it does not move with the clock.
expect_status "--from 2023 --to 2024" 0 ctl Cluj report --city "${T:0:8}" --from 2023 --to 2024 --json
J=$OUT
ind() { jq -r --arg i "$1" '.indicators[] | select(.id == $i) | "\(.latest.period // "-")=\(.latest.value // "-") \(.previous.period // "-")=\(.previous.value // "-") \(.change // "-")"' <<<"$J"; }
expect_eq "2024 against 2023: the change" "2024=45.5 2023=40 5.5" "$(ind "$A")"
expect_eq "2024-Q3 against 2022, the period before it" "2024-Q3=12 2022=10 2" "$(ind "$B")"
expect_eq "a value of 2021 is not in the cycle" "-=- -=- -" "$(ind "$C")"
expect_eq "listed among the indicators not reported" "true" "$(jq --arg i "$C" '[.not_reported[].id] | index($i) != null' <<<"$J")"
expect_eq "totals" "$ncat 2 $((ncat - 2))" "$(jq -r '"\(.totals.indicators) \(.totals.reported) \(.not_reported | length)"' <<<"$J")"
expect_eq "the profile" "Tampere Pirkanmaa" "$(jq -r '.profile.city | "\(.name) \(.region)"' <<<"$J")"
expect_eq "no practice published in 2023-2024" 0 "$(jq '.practices.total' <<<"$J")"
expect_status "a one-year cycle of this year" 0 ctl Cluj report --city "$T" --from "$Y" --to "$Y" --json
P=$OUT
expect_eq "this year's practices" 3 "$(jq '.practices.total' <<<"$P")"
expect_eq "grouped by sub-area, in the order of the sub-areas, named" \
	"1.1:Learning neighbourhoods|2.2:Family reading circles,Learning neighbourhoods|2.4:Digital help desks" \
	"$(jq -r '[.practices.by_area[] | "\(.area):" + ([.items[].title] | sort | join(","))] | join("|")' <<<"$P")"
expect_eq "with the sub-area's name" "Revitalized learning in families and communities" \
	"$(jq -r '.practices.by_area[] | select(.area == "2.2") | .name' <<<"$P")"
expect_eq "every indicator is missing this year" "$ncat" "$(jq '.not_reported | length' <<<"$P")"

expect_status "as text" 0 ctl Cluj report --city "${T:0:8}" --from 2023 --to 2024
expect_contains "the summary" "$OUT" "2 of $ncat indicators reported"
expect_contains "the change" "$OUT" "+5.5"
expect_status "as Markdown" 0 ctl Cluj report --city "${T:0:8}" --from 2023 --to 2024 --markdown
M=$OUT
expect_contains "a title" "$M" "# Progress report 2023–2024: Tampere (FI)"
expect_contains "the profile section" "$M" "## Profile"
expect_contains "a profile table" "$M" "| Region | Pirkanmaa |"
expect_contains "the indicator table" "$M" "| Indicator | Sub-area | Latest | Period | Previous | Period | Change |"
expect_contains "a row with its change" "$M" "| 45.5 | 2024 | 40 | 2023 | +5.5 |"
expect_contains "the practices section" "$M" "## Practices published in 2023–2024"
expect_contains "the missing section" "$M" "## Indicators not reported for 2023–2024"
expect_contains "naming a missing one" "$M" "(\`$C\`, sub-area 1.1)"
expect_status "Markdown of this year" 0 ctl Cluj report --city "${T:0:8}" --from "$Y" --to "$Y" --markdown
expect_contains "a heading per sub-area" "$OUT" "### 2.2 Revitalized learning in families and communities"
expect_contains "its practices under it" "$OUT" "- **Learning neighbourhoods** (fi, "

U=$(http_url "${DIRS[Cluj]}")
same() { jq -S -c 'del(.generated_ms, .profile) | walk(if type == "object" then del(.contact) else . end)'; }
H=$(curl -s "$U/api/v1/cities/${T:0:8}/report?from=2023&to=2024")
expect_eq "HTTP: the same report" "$(same <<<"$J")" "$(same <<<"$H")"
expect_eq "HTTP: format=markdown is text/markdown" "200 text/markdown; charset=utf-8" \
	"$(curl -s -o "$_root/md" -w '%{http_code} %{content_type}' "$U/api/v1/cities/$T/report?from=2023&to=2024&format=markdown")"
expect_eq "the same document, but for its date line" "$(grep -v '^A draft made on' <<<"$M")" "$(grep -v '^A draft made on' "$_root/md")"

expect_status "no --city: usage" 2 ctl Cluj report
expect_status "a bad year" 1 ctl Cluj report --city "$T" --from 24
expect_contains "names it" "$OUT" "from: '24' is not a calendar year"
expect_status "to before from" 1 ctl Cluj report --city "$T" --from 2024 --to 2023
expect_contains "says so" "$OUT" "to: 2023 is before from (2024)"
expect_status "an unknown city" 1 ctl Cluj report --city "$(printf 'cd%.0s' $(seq 32))"
expect_contains "says so" "$OUT" "no city"
expect_eq "HTTP: 400 naming format" "400 format" "$(curl -s "$U/api/v1/cities/$T/report?format=pdf" | jq -r '"\(.status) \(.param)"')"
expect_eq "HTTP: 400 naming from" "400 from" "$(curl -s "$U/api/v1/cities/$T/report?from=x" | jq -r '"\(.status) \(.param)"')"
expect_eq "HTTP: 404 for an unknown city" "404 id" "$(curl -s "$U/api/v1/cities/$(printf 'cd%.0s' $(seq 32))/report" | jq -r '"\(.status) \(.param)"')"
