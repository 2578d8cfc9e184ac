#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Observer membership: the secretariat admits its own node as an observer; it
# links, receives and serves every record, relays the admissions it is given,
# and is listed as an observer in members, never as a city (city list,
# /api/v1/cities, coverage).
. "$(dirname "$0")/lib.sh"

W=$(tmpdir)
cd "$W" || exit 1
FED=$("$LCCTL" federation create -k fed.key --name "Observed" 2>/dev/null)
fed_conf="s/^; federation = FEDID/federation = $FED/"
city_node A SE "$fed_conf"
city_node B FI "$fed_conf"
city_node S DK "$fed_conf"
for c in A B; do
	"$LCCTL" federation admit -k fed.key "${IDS[$c]}" --city "City $c" --country SE
done >admits.rec 2>/dev/null
expect_status "admit --observer" 0 "$LCCTL" federation admit -k fed.key "${IDS[S]}" \
	--city Secretariat --country DK --observer
"$LCCTL" federation admit -k fed.key "${IDS[S]}" --city Secretariat --country DK \
	--observer >>admits.rec 2>/dev/null
for c in A B S; do ctl "$c" publish admits.rec >/dev/null; done
# S sits between A and B: whatever crosses goes through it.
ctl A peer add "127.0.0.1:${PORTS[S]}" >/dev/null
ctl B peer add "127.0.0.1:${PORTS[S]}" >/dev/null
check "the observer's handshakes are accepted (A)" wait_for 10 connected A S
check "and B's" wait_for 10 connected B S
obs_rec() { ctl A export --kind membership | jq -s -e --arg id "${IDS[S]}" 'any(.[]; .key == $id and .membership.observer == true)' >/dev/null; }
check "the observer's membership carries the role" wait_for 10 obs_rec

publish A "Seen by the secretariat"
check "the observer receives A's practice" wait_for 10 has_practice S seen-by-the-secretariat
check "and serves it to B" wait_for 10 has_practice B seen-by-the-secretariat

# The secretariat admits a new city at its own node only.
free_port >/dev/null
CDIR=$W/C
C=$(init_city "$CDIR" Newcity NO "$_port_next")
"$LCCTL" federation admit -k fed.key "$C" --city Newcity --country NO >admit-c.rec 2>/dev/null
expect_status "the observer takes an admission" 0 "$LCCTL" -d "${DIRS[S]}" publish admit-c.rec
members_has() { ctl "$1" members --json | jq -e --arg id "$C" 'any(.members[]; .id == $id)' >/dev/null; }
check "and relays it to A" wait_for 10 members_has A
check "and to B" wait_for 10 members_has B

# What A shows.
M=$(ctl A members --json)
expect_eq "members --json marks the observer" observer \
	"$(jq -r --arg id "${IDS[S]}" '.members[] | select(.id == $id) | .role' <<<"$M")"
expect_eq "and the cities as cities" "city city" \
	"$(jq -r --arg a "${IDS[A]}" --arg b "${IDS[B]}" '[.members[] | select(.id == $a or .id == $b) | .role] | join(" ")' <<<"$M")"
expect_contains "members as text says observer" "$(ctl A members)" "observer"
U=$(http_url "${DIRS[A]}")
expect_eq "/api/v1/members marks it" observer \
	"$(curl -s "$U/api/v1/members" | jq -r --arg id "${IDS[S]}" '.items[] | select(.id == $id) | .role')"
CL=$(ctl A city list --json)
expect_eq "city list leaves the observer out" 0 "$(jq --arg id "${IDS[S]}" '[.[] | select(.id == $id)] | length' <<<"$CL")"
expect_eq "and lists the cities" 1 "$(jq --arg id "${IDS[B]}" '[.[] | select(.id == $id)] | length' <<<"$CL")"
AC=$(curl -s "$U/api/v1/cities")
expect_eq "/api/v1/cities leaves it out" 0 "$(jq --arg id "${IDS[S]}" '[.items[] | select(.id == $id)] | length' <<<"$AC")"
expect_eq "and lists the cities" 1 "$(jq --arg id "${IDS[B]}" '[.items[] | select(.id == $id)] | length' <<<"$AC")"
expect_status "coverage" 0 ctl A coverage --period 2024 --json
expect_eq "coverage counts the cities, not the observer" "City A,City B,Newcity" \
	"$(jq -r '[.cities[].name] | sort | join(",")' <<<"$OUT")"
expect_eq "/api/v1/coverage too" 3 "$(curl -s "$U/api/v1/coverage?period=2024" | jq .totals.cities)"

# What an observer signs besides federation records is no city's practice:
# lists leave it out unless they ask for the observer by its id.
publish S "A secretariat note"
arrived() { ctl A export --kind practice | jq -s -e 'any(.[]; .key == "a-secretariat-note")' >/dev/null; }
check "A stores the observer's practice" wait_for 10 arrived
expect_eq "practice list leaves it out" 0 \
	"$(ctl A practice list --json --limit 0 | jq '[.[] | select(.key == "a-secretariat-note")] | length')"
expect_eq "and still lists the cities' practices" 1 \
	"$(ctl A practice list --json --limit 0 | jq '[.[] | select(.key == "seen-by-the-secretariat")] | length')"
expect_eq "practice list --city OBSERVER lists it" 1 \
	"$(ctl A practice list --city "${IDS[S]}" --json | jq '[.[] | select(.key == "a-secretariat-note")] | length')"
expect_eq "/api/v1/practices leaves it out" 0 \
	"$(curl -s "$U/api/v1/practices?limit=500" | jq '[.items[] | select(.key == "a-secretariat-note")] | length')"
expect_eq "and gives it for city=OBSERVER" 1 \
	"$(curl -s "$U/api/v1/practices?city=${IDS[S]}" | jq '[.items[] | select(.key == "a-secretariat-note")] | length')"
