#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# lcctl city show ID and GET /api/v1/cities/{id} (the view "city"): any city
# this node knows, by id or prefix, with its profile, membership, records by
# kind, newest practices and the values of the latest period it reported;
# the same data behind both; personal data only for the operator.
. "$(dirname "$0")/lib.sh"

A=1.1-adult-learning-participation
B=2.2-community-learning-centres
city_node Tampere FI
city_node Cluj RO
ctl Tampere city import "$SAMPLES/tampere-profile.SAMPLE.json" >/dev/null
ctl Tampere indicator set "$A" 2023 40 >/dev/null
ctl Tampere indicator set "$A" 2024 45.5 >/dev/null
ctl Tampere indicator set "$B" 2024 12 >/dev/null
ctl Tampere indicator set "$B" 2024-Q4 3 >/dev/null
ctl Tampere practice add --title "Older practice" --summary "First." --language en --area 2.2 >/dev/null
ctl Tampere practice add --title "Newest practice" --summary "Second." --language en --area 1.1 >/dev/null
ctl Cluj peer add "127.0.0.1:${PORTS[Tampere]}" >/dev/null
synced() { ctl_jq Cluj '[.[] | select(.city_name == "Tampere")] | length == 4' indicator list --json; }
wait_for 20 synced || fail "setup" "Tampere's values did not reach Cluj"
wait_for 20 has_practice Cluj newest-practice || fail "setup" "Tampere's practices did not reach Cluj"
T=${IDS[Tampere]}

expect_status "lcctl city show ID (a prefix) for another city" 0 ctl Cluj city show --json "${T:0:8}"
J=$OUT
expect_eq "its id, name, country and membership" "$T Tampere FI open false" \
	"$(jq -r '[.id, .name, .country, .membership.state, (.self|tostring)] | join(" ")' <<<"$J")"
expect_eq "its records by kind" "2 4 1" "$(jq -r '[.records.practice, .records.indicator, .records.city] | map(tostring) | join(" ")' <<<"$J")"
expect_eq "its profile" "Tampere" "$(jq -r '.profile.city.name' <<<"$J")"
expect_eq "its newest practice first" "Newest practice,Older practice" \
	"$(jq -r '[.practices.items[].practice.title] | join(",")' <<<"$J")"
expect_eq "the values of its latest period (2024 over its last quarter)" "2024 $A=45.5 $B=12" \
	"$(jq -r '"\(.latest_indicators.period) " + ([.latest_indicators.items[] | "\(.indicator.indicator)=\(.indicator.value)"] | sort | join(" "))' <<<"$J")"
expect_eq "the operator sees the profile's contact" "Aino Lehtonen" "$(jq -r '.profile.city.contact.name' <<<"$J")"

expect_status "as text" 0 ctl Cluj city show "${T:0:8}"
expect_contains "names the city" "$OUT" "Tampere (FI)"
expect_contains "its membership" "$OUT" "open"
expect_contains "its newest practices" "$OUT" "Newest practice"
expect_contains "its latest period" "$OUT" "Indicator values of 2024, its latest period"
expect_contains "with a value" "$OUT" "45.5"
expect_status "its own city by its id" 0 ctl Cluj city show --json "${IDS[Cluj]}"
expect_eq "self" "true Cluj" "$(jq -r '"\(.self) \(.name)"' <<<"$OUT")"
expect_status "without ID: this node's profile, as before" 0 ctl Tampere city show --json
expect_eq "the profile record" "city Tampere" "$(jq -r '"\(.kind) \(.city.name)"' <<<"$OUT")"

U=$(http_url "${DIRS[Cluj]}")
H=$(curl -s "$U/api/v1/cities/${T:0:8}")
strip() { jq -S -c 'del(.profile) | walk(if type == "object" then del(.contact) else . end)'; }
expect_eq "the HTTP API answers the same view" "$(strip <<<"$J")" "$(strip <<<"$H")"
expect_eq "with latest_indicators" "2024 2" "$(jq -r '"\(.latest_indicators.period) \(.latest_indicators.items | length)"' <<<"$H")"

expect_status "a malformed id" 1 ctl Cluj city show xyz
expect_contains "says what an id is" "$OUT" "is not a city id"
expect_status "an unknown city" 1 ctl Cluj city show abcdef0123
expect_contains "says so" "$OUT" "no city 'abcdef0123' here"
expect_eq "HTTP: 404 naming id" "404 id" "$(curl -s "$U/api/v1/cities/$(printf 'ab%.0s' $(seq 32))" | jq -r '"\(.status) \(.param)"')"
expect_eq "HTTP: an unknown parameter, 400 naming it" "400 colour" "$(curl -s "$U/api/v1/cities/$T?colour=red" | jq -r '"\(.status) \(.param)"')"
expect_status "two ids: usage" 2 ctl Cluj city show "$T" "$T"
