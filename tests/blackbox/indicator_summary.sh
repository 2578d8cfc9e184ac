#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# lcctl indicator summary and /api/v1/indicators/summary: the federation's
# median per indicator and period, exact on known values; a city counts once,
# with its newest total value (a disaggregated value does not count).
. "$(dirname "$0")/lib.sh"

A=1.1-adult-learning-participation
B=2.2-community-learning-centres
city_node Tampere FI
city_node Cluj RO
city_node Lyon FR
ctl Tampere indicator set "$A" 2024 10 >/dev/null
ctl Tampere indicator set "$A" 2023 4 >/dev/null
ctl Tampere indicator set "$B" 2024-Q3 3.5 >/dev/null
ctl Cluj indicator set "$A" 2024 30 >/dev/null
ctl Cluj indicator set "$A" 2024 1000 --sex female >/dev/null
ctl Cluj indicator set "$A" 2023 7 >/dev/null
ctl Lyon indicator set "$A" 2024 20 >/dev/null
ctl Lyon indicator set "$A" 2024 25 >/dev/null      # replaces the 20
ctl Cluj peer add "127.0.0.1:${PORTS[Tampere]}" >/dev/null
ctl Lyon peer add "127.0.0.1:${PORTS[Tampere]}" >/dev/null
three() { ctl_jq Tampere '[.[] | .city_name] | unique | length == 3' indicator list --json; }
wait_for 20 three || fail "setup" "the three cities' values did not meet"

expect_status "lcctl indicator summary --json" 0 ctl Tampere indicator summary --json
J=$OUT
m() { jq -r --arg i "$1" --arg p "$2" '.items[] | select(.indicator == $i and .period == $p) | "\(.cities) \(.median) \(.min) \(.max)"' <<<"$J"; }
expect_eq "2024: three cities, the median of 10, 25, 30 (newest values, totals only)" "3 25 10 30" "$(m "$A" 2024)"
expect_eq "2023: two cities, the mean of the middle two" "2 5.5 4 7" "$(m "$A" 2023)"
expect_eq "one city: its value" "1 3.5 3.5 3.5" "$(m "$B" 2024-Q3)"
expect_eq "one entry per indicator and period held, in catalog order" "$A 2023,$A 2024,$B 2024-Q3" \
	"$(jq -r '[.items[] | "\(.indicator) \(.period)"] | join(",")' <<<"$J")"

U=$(http_url "${DIRS[Tampere]}")
expect_eq "the HTTP API gives the same" "$(jq -S -c . <<<"$J")" \
	"$(curl -s "$U/api/v1/indicators/summary" | jq -S -c .)"
expect_eq "one indicator and period" "3 25" \
	"$(curl -s "$U/api/v1/indicators/summary?indicator=$A&period=2024" | jq -r '[.items[] | "\(.cities) \(.median)"] | join(",")')"
expect_status "the table" 0 ctl Tampere indicator summary --indicator "$A"
expect_contains "names the indicator with its median" "$(grep 2024 <<<"$OUT")" "25"
expect_status "an indicator outside the catalog is refused" 1 ctl Tampere indicator summary --indicator 9.9-nothing
expect_contains "saying so" "$OUT" "not in the catalog"
expect_eq "HTTP: a bad period is a 400 naming period" "400 period" \
	"$(curl -s "$U/api/v1/indicators/summary?period=2024-Q9" | jq -r '"\(.status) \(.param)"')"
