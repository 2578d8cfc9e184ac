#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# lcctl partners and /api/v1/partners: cities ranked by how well they answer
# this city's challenges (strengths, practices in the sub-areas, shared
# languages), with the reasons in words; on a small open federation whose
# best answer is known.
. "$(dirname "$0")/lib.sh"

city_node Tampere FI
city_node Cluj RO
city_node Porto PT
city_node Espoo FI

add() { # CITY TITLE LANG AREA... : one practice
	local c=$1 t=$2 l=$3 a
	shift 3
	local args=()
	for a in "$@"; do args+=(--area "$a"); done
	ctl "$c" practice add --title "$t" --summary "About $t" --language "$l" "${args[@]}" >/dev/null
}

expect_status "no challenges yet: told how to set them" 1 ctl Tampere partners
expect_contains "the message names city set --challenge" "$OUT" "lcctl city set --challenge"

ctl Tampere city set --language fi --language en-GB --challenge 2.2 --challenge 2.4 >/dev/null
ctl Cluj city set --language ro --language en --strength 2.2 >/dev/null
ctl Porto city set --language pt >/dev/null
ctl Espoo city set --language fi --strength 3.1 >/dev/null
# Cluj: four practices in 2.2, two of them in English; one in 2.4 in Romanian.
add Cluj "Family reading circles" en 2.2
add Cluj "Neighbourhood learning festivals" en-US 2.2 2.6
add Cluj "Cartea in familie" ro 2.2
add Cluj "Biblioteca de cartier" ro 2.2
add Cluj "Digital skills for seniors" ro 2.4
# Porto: one practice in 2.2, and one removed that no longer counts.
add Porto "Aprender em familia" pt 2.2
add Porto "Projeto antigo" pt 2.2
ctl Porto practice rm projeto-antigo >/dev/null
# Espoo shares a language but answers none of the challenges: not listed.
add Espoo "Johtajuus" fi 3.1
# Tampere's own practice in 2.2 never makes it its own partner.
add Tampere "Oma kaytanto" fi 2.2
for c in Cluj Porto Espoo; do ctl Tampere peer add "127.0.0.1:${PORTS[$c]}" >/dev/null; done
eight() { ctl_jq Tampere 'length == 8' practice list --json --limit 0; }
wait_for 30 eight || fail "setup" "Tampere did not get every practice: $(ctl Tampere practice list --json --limit 0 | jq -c "[.[] | .key]")"
cities() { ctl_jq Tampere 'length == 4' city list --json; }
wait_for 20 cities || fail "setup" "Tampere does not know the four cities"

expect_status "lcctl partners --json" 0 ctl Tampere partners --json
J=$OUT
expect_eq "the challenges come from the profile" "2.2 2.4" "$(jq -r '.challenges | join(" ")' <<<"$J")"
expect_eq "Cluj first, then Porto; Espoo and Tampere itself left out" "Cluj Porto" \
	"$(jq -r '[.items[].name] | join(" ")' <<<"$J")"
# Cluj: 2.2 strength 3 + 4 practices + 2 in English; 2.4: 1 practice; en shared: 2.
expect_eq "Cluj's score follows the formula" 12 "$(jq '.items[0].score' <<<"$J")"
expect_eq "Porto's: one current practice in 2.2" 1 "$(jq '.items[1].score' <<<"$J")"
expect_contains "the reasons in words" "$(jq -r '.items[0].why' <<<"$J")" \
	"4 practices in 2.2, 2 in your languages (fi, en-GB); lists 2.2 among its strengths; 1 practice in 2.4; shares your language en-GB"
expect_eq "counted per sub-area" "4 2 true 1 0 false" \
	"$(jq -r '[.items[0].areas[] | .practices, .practices_in_your_languages, .strength] | map(tostring) | join(" ")' <<<"$J")"

expect_status "as a table" 0 ctl Tampere partners
expect_contains "the table names Cluj and why" "$OUT" "lists 2.2 among its strengths"
expect_status "--area narrows to one sub-area" 0 ctl Tampere partners --area 2.4 --json
expect_eq "only Cluj has practices in 2.4" "Cluj 3" "$(jq -r '[.items[] | "\(.name) \(.score)"] | join(",")' <<<"$OUT")"
expect_status "--area 3.1 (not a challenge of the profile) finds Espoo" 0 ctl Tampere partners --area 3.1 --json
expect_eq "Espoo by its strength, practice and language" "Espoo 7" "$(jq -r '[.items[] | "\(.name) \(.score)"] | join(",")' <<<"$OUT")"
expect_status "--limit 1" 0 ctl Tampere partners --limit 1 --json
expect_eq "one city" "Cluj" "$(jq -r '[.items[].name] | join(" ")' <<<"$OUT")"
expect_status "--csv" 0 ctl Tampere partners --csv
expect_eq "a header and two rows, CRLF" 3 "$(grep -c $'\r$' <<<"$OUT")"
expect_eq "rank, name, score" "1,Cluj,12" "$(python3 -c 'import csv,sys; r=list(csv.DictReader(sys.stdin, strict=True)); print(",".join([r[0]["rank"], r[0]["name"], r[0]["score"]]))' <<<"$OUT")"

expect_status "a bad sub-area" 1 ctl Tampere partners --area 9.9
expect_contains "named" "$OUT" "area '9.9' is not a KFLC sub-area"
expect_status "a bad limit" 1 ctl Tampere partners --limit 0
expect_contains "named" "$OUT" "limit '0'"

U=$(http_url "${DIRS[Tampere]}")
expect_eq "the HTTP API gives the same answer" "$(jq -S -c . <<<"$J")" \
	"$(curl -s "$U/api/v1/partners" | jq -S -c .)"
expect_eq "HTTP: area and limit" "Cluj" "$(curl -s "$U/api/v1/partners?area=2.4&limit=5" | jq -r '[.items[].name] | join(" ")')"
expect_eq "HTTP: 400 naming area" "400 area" "$(curl -s "$U/api/v1/partners?area=x" | jq -r '"\(.status) \(.param)"')"
expect_eq "HTTP: a city without challenges gets 409 naming them" "409 challenges" \
	"$(curl -s "$(http_url "${DIRS[Porto]}")/api/v1/partners" | jq -r '"\(.status) \(.param)"')"
