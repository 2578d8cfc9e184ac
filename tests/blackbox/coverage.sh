#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# lcctl coverage and /api/v1/coverage: cities x catalog indicators for a
# period, a value counting when its period overlaps the one asked; the
# newest period wins; who has not reported what; the same data behind both.
. "$(dirname "$0")/lib.sh"

A=1.1-adult-learning-participation
B=2.2-community-learning-centres
C=1.1-volunteering
city_node Tampere FI
city_node Cluj RO
ctl Tampere indicator set "$A" 2024-Q3 57.4 >/dev/null
ctl Tampere indicator set "$A" 2024-Q1 50 >/dev/null
ctl Tampere indicator set "$B" 2023-09/2024-08 12 >/dev/null
ctl Tampere indicator set "$C" 2023 8 >/dev/null
ctl Cluj indicator set "$A" 2025 3 >/dev/null
ctl Cluj indicator set "$C" 2024 9 >/dev/null
ctl Cluj peer add "127.0.0.1:${PORTS[Tampere]}" >/dev/null
two() { ctl_jq Cluj '[.[] | .city_name] | unique | length == 2' indicator list --json; }
wait_for 20 two || fail "setup" "the two cities' values did not meet"

ncat=$(ctl Cluj catalog list --json 2>/dev/null | jq length)
expect_status "lcctl coverage --period 2024 --json" 0 ctl Cluj coverage --period 2024 --json
J=$OUT
expect_eq "two cities, every catalog indicator" "2 $ncat" "$(jq -r '"\(.totals.cities) \(.totals.indicators)"' <<<"$J")"
t() { jq -r --arg c "$1" --arg i "$2" '.cities[] | select(.name == $c) | .values[$i].period // "none"' <<<"$J"; }
expect_eq "a quarter of 2024 counts for 2024, the later quarter wins" 2024-Q3 "$(t Tampere "$A")"
expect_eq "a span overlapping 2024 counts" 2023-09/2024-08 "$(t Tampere "$B")"
expect_eq "2023 does not count for 2024" none "$(t Tampere "$C")"
expect_eq "2025 does not count for 2024" none "$(t Cluj "$A")"
expect_eq "Cluj reported one" 2024 "$(t Cluj "$C")"
expect_eq "totals: 3 reported of 2 x catalog" "3 $((2 * ncat))" "$(jq -r '"\(.totals.reported) \(.totals.expected)"' <<<"$J")"
expect_eq "per indicator" "1 1" "$(jq -r --arg i "$A" '.indicators[] | select(.id == $i) | "\(.reported) \(.missing)"' <<<"$J")"
expect_eq "per city" "2 1" "$(jq -r '[.cities[] | .reported] | sort | reverse | map(tostring) | join(" ")' <<<"$J")"

expect_status "--missing" 0 ctl Cluj coverage --period 2024 --indicator "$A" --missing --json
expect_eq "lists who has not reported it" "Cluj:$A" "$(jq -r '[.cities[] | "\(.name):\(.missing | join(","))"] | join(" ")' <<<"$OUT")"
expect_status "the table" 0 ctl Cluj coverage --period 2024 --missing --indicator "$A"
expect_contains "names the city and the indicator" "$OUT" "Cluj"
expect_status "totals as text" 0 ctl Cluj coverage --period 2024
expect_contains "with the summary line" "$OUT" "Coverage of 2024: 3 of $((2 * ncat)) values reported"

U=$(http_url "${DIRS[Cluj]}")
expect_eq "the HTTP API gives the same matrix" "$(jq -S -c . <<<"$J")" \
	"$(curl -s "$U/api/v1/coverage?period=2024" | jq -S -c .)"
expect_eq "a period that overlaps nothing: none reported" 0 "$(curl -s "$U/api/v1/coverage?period=2019-Q2" | jq .totals.reported)"

expect_status "a bad period is refused" 1 ctl Cluj coverage --period 2024-Q5
expect_contains "saying why" "$OUT" "the quarter must be Q1..Q4"
expect_status "no period: usage" 2 ctl Cluj coverage
expect_status "an indicator outside the catalog" 1 ctl Cluj coverage --period 2024 --indicator nope
expect_contains "named" "$OUT" "indicator 'nope' is not in the catalog"
expect_eq "HTTP: 400 naming period" "400 period" "$(curl -s "$U/api/v1/coverage?period=x" | jq -r '"\(.status) \(.param)"')"
expect_eq "HTTP: 400 naming an unknown parameter" "400 colour" "$(curl -s "$U/api/v1/coverage?period=2024&colour=red" | jq -r '"\(.status) \(.param)"')"

# values=false: the same matrix without each city's values (what lcctl's
# tables ask for); totals, per-city counts and what is missing unchanged.
V=$(curl -s "$U/api/v1/coverage?period=2024&values=false")
expect_eq "values=false: no city carries values" 0 "$(jq '[.cities[] | select(has("values"))] | length' <<<"$V")"
expect_eq "values=false: everything else as with them" "$(jq -S -c 'del(.cities[].values)' <<<"$J")" "$(jq -S -c . <<<"$V")"
expect_eq "values=false with missing=true: who has not reported what, unchanged" \
	"$(curl -s "$U/api/v1/coverage?period=2024&missing=true" | jq -S -c 'del(.cities[].values)')" \
	"$(curl -s "$U/api/v1/coverage?period=2024&missing=true&values=false" | jq -S -c .)"
expect_eq "HTTP: 400 naming values" "400 values" "$(curl -s "$U/api/v1/coverage?period=2024&values=maybe" | jq -r '"\(.status) \(.param)"')"
