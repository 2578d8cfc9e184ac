#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Revoked cities carry a mark in every list (lcctl city list, practice and
# indicator lists with --include-revoked, city show, the HTTP lists), and
# discovery stops dialing them: the revoked city's node, found by discovery
# before, is not dialed again.
. "$(dirname "$0")/lib.sh"

W=$(tmpdir)
cd "$W" || exit 1
FED=$("$LCCTL" federation create -k fed.key --name "Marks" 2>/dev/null)
fed_conf="s/^; federation = FEDID/federation = $FED/"
city_node A SE "$fed_conf;s/^log_level = info/log_level = debug/"
city_node B FI "$fed_conf"
city_node R NO "$fed_conf"
for c in A B R; do
	"$LCCTL" federation admit -k fed.key "${IDS[$c]}" --city "City $c" --country SE >"admit-$c.rec" 2>/dev/null
	ctl "$c" publish "admit-$c.rec" >/dev/null
done
ctl R practice add --title "Practice of R" --summary "Before." --language en --area 2.2 >/dev/null
ctl R indicator set 1.1-volunteering 2024 9 >/dev/null
# A knows B only; it finds R through the endpoint record B passes on.
ctl B peer add "127.0.0.1:${PORTS[A]}" >/dev/null
ctl R peer add "127.0.0.1:${PORTS[B]}" >/dev/null
a_links_r() { connected A R || connected R A; }
check "discovery links A and R (their link found by discovery)" wait_for 30 a_links_r
check "R's practice reaches A" wait_for 20 has_practice A practice-of-r
dialed_r() { grep -c "discover: dialing ${IDS[R]}" "${DIRS[A]}/node.log"; }

"$LCCTL" federation revoke -k fed.key "${IDS[R]}" --reason "left the network" >revoke-R.rec 2>/dev/null
ctl A publish revoke-R.rec >/dev/null
ctl B publish revoke-R.rec >/dev/null
r_closed() { ! connected A R; }
check "A closes its link with R" wait_for 10 r_closed
check "discovery says it will not dial R" wait_for 10 grep -q "discover: not dialing ${IDS[R]}: revoked by the federation: left the network" "${DIRS[A]}/node.log"
before=$(dialed_r)
# Rounds run every 1.5 s while A is below its target of links: several pass.
sleep 6
expect_eq "no round dials R after the revocation" "$before" "$(dialed_r)"
st=$(peer_field A "${IDS[R]}" state)
expect_eq "R is neither connected nor being dialed in A's peer list" ok \
	"$([ "$st" != connected ] && [ "$st" != connecting ] && echo ok)"

# ---- marks ----
expect_eq "city list: R marked revoked in JSON" revoked \
	"$(ctl A city list --json | jq -r --arg id "${IDS[R]}" '.[] | select(.id == $id) | .membership')"
expect_eq "and the others admitted" "admitted admitted" \
	"$(ctl A city list --json | jq -r --arg r "${IDS[R]}" '[.[] | select(.id != $r) | .membership] | join(" ")')"
expect_contains "city list: the table marks it" "$(ctl A city list | grep "^${IDS[R]:0:12}")" "revoked"
expect_status "practice list --include-revoked" 0 ctl A practice list --include-revoked --json
expect_eq "R's practice carries the mark" revoked "$(jq -r '.[] | select(.key == "practice-of-r") | .membership' <<<"$OUT")"
expect_eq "an admitted city's practice does not" 0 "$(jq '[.[] | select(.key != "practice-of-r" and has("membership"))] | length' <<<"$OUT")"
expect_contains "as text" "$(ctl A practice list --include-revoked)" "R (revoked)"
expect_status "indicator list --include-revoked" 0 ctl A indicator list --include-revoked --json
expect_eq "R's value carries the mark" revoked "$(jq -r '.[] | select(.indicator.indicator == "1.1-volunteering") | .membership' <<<"$OUT")"
expect_contains "as text" "$(ctl A indicator list --include-revoked)" "R (revoked)"
expect_eq "city show R: revoked, with the reason" "revoked left the network" \
	"$(ctl A city show --json "${IDS[R]}" | jq -r '"\(.membership.state) \(.membership.reason)"')"

U=$(http_url "${DIRS[A]}")
expect_eq "HTTP cities?include_revoked=true: R marked" revoked \
	"$(curl -s "$U/api/v1/cities?include_revoked=true" | jq -r --arg id "${IDS[R]}" '.items[] | select(.id == $id) | .membership.state')"
expect_eq "HTTP practices?include_revoked=true: R's practice marked" revoked \
	"$(curl -s "$U/api/v1/practices?include_revoked=true" | jq -r '.items[] | select(.key == "practice-of-r") | .membership')"
expect_eq "HTTP indicators?include_revoked=true: R's value marked" revoked \
	"$(curl -s "$U/api/v1/indicators?include_revoked=true" | jq -r '.items[] | select(.indicator.indicator == "1.1-volunteering") | .membership')"
expect_eq "HTTP practices without it: R's practice hidden" 0 \
	"$(curl -s "$U/api/v1/practices" | jq '[.items[] | select(.key == "practice-of-r")] | length')"
expect_eq "HTTP members: revoked" revoked \
	"$(curl -s "$U/api/v1/members" | jq -r --arg id "${IDS[R]}" '.items[] | select(.id == $id) | .state')"
