#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Key succession and the federation's catalog, end to end: a federation of
# three real lcnodes; a city rotates its key, the secretariat admits the new
# one, the node switches at restart and every node shows one city with both
# ids; an old copy of the city's data dir makes a fork and tries to write with
# the retired key; the federation's catalog replaces each node's file catalog.
. "$(dirname "$0")/lib.sh"

expect_status "key rotate -h" 0 "$LCCTL" key rotate -h
expect_contains "has its own usage" "$OUT" "Usage: lcctl [-d DIR] key rotate"
expect_status "key rotate takes no argument" 2 "$LCCTL" -d /nonexistent key rotate extra
expect_status "key rotate without a node fails" 1 "$LCCTL" -d "$(tmpdir)" key rotate

FK=$(tmpdir)/fed.key
FEDID=$("$LCCTL" federation create -k "$FK" --name "Test Federation" 2>/dev/null)
check "federation create prints an id" is_hex64 "$FEDID"
fed_node() {
	city_node "$1" "$2" "s/^; *federation = .*/federation = $FEDID/"
}
fed_node Aldo IT
fed_node Brno CZ
fed_node Cork IE
expect_contains "the nodes belong to the federation" "$(ctl Brno members)" "$FEDID"
ADM=$(tmpdir)/admissions.jsonl
for n in Aldo Brno Cork; do
	"$LCCTL" federation admit -k "$FK" "${IDS[$n]}" --city "$n" --country IT >>"$ADM" 2>/dev/null
done
for n in Aldo Brno Cork; do
	expect_status "admissions published at $n" 0 "$LCCTL" -d "${DIRS[$n]}" publish "$ADM"
done
ctl Aldo peer add "127.0.0.1:${PORTS[Brno]}" >/dev/null
check "Aldo and Brno link as members" wait_for 10 connected Brno Aldo
OLD=${IDS[Aldo]}
publish Aldo "Old practice"
publish Aldo "Gone history"
check "a practice of the old key reaches Brno" wait_for 10 has_practice Brno old-practice

# An old copy of Aldo's data directory, taken before the rotation, for the
# fork below.
stop_node "${DIRS[Aldo]}"
COPY=$(tmpdir)/aldo-copy
cp -a "${DIRS[Aldo]}" "$COPY"
rm -f "$COPY/admin.sock" "$COPY/lcnode.lock" "$COPY/peers.json" "$COPY/node.log"
free_port >/dev/null
sed -i "s/^listen = .*/listen = 127.0.0.1:$_port_next/" "$COPY/lcnode.conf"
check "Aldo restarts" start_node "${DIRS[Aldo]}"
check "and links again" wait_for 10 connected Aldo Brno

# --- the rotation ---
expect_status "key rotate" 0 "$LCCTL" -d "${DIRS[Aldo]}" key rotate --json
NEW=$(jq -r .new_id <<<"$OUT")
check "key rotate names the new id" is_hex64 "$NEW"
expect_eq "and the old one" "$OLD" "$(jq -r .old_id <<<"$OUT")"
NEXT=${DIRS[Aldo]}/identity.key.next
expect_eq "the new key waits as identity.key.next, mode 0600" 600 "$(stat -c %a "$NEXT" 2>/dev/null)"
expect_status "a second rotation is refused while one is under way" 1 "$LCCTL" -d "${DIRS[Aldo]}" key rotate
expect_contains "and says why" "$OUT" "already under way"
expect_status "the old key publishes nothing more" 1 "$LCCTL" -d "${DIRS[Aldo]}" practice add \
	--title "Too late" --summary "x" --language en --area 2.2
expect_contains "because it handed over" "$OUT" "retired"
successor_known() {
	[ "$(ctl Brno members --json | jq -r --arg o "$OLD" '.members[] | select(.id == $o) | .successor')" = "$NEW" ]
}
check "Brno learns the hand-over" wait_for 10 successor_known
stop_node "${DIRS[Aldo]}"
check "before the admission, Aldo keeps the handed-over key" start_node "${DIRS[Aldo]}"
expect_eq "status still shows the old id" "$OLD" "$(ctl Aldo status --json | jq -r .city_id)"
expect_contains "and the log says why" "$(cat "${DIRS[Aldo]}/node.log")" "not a member yet"
check "identity.key.next is still waiting" test -f "$NEXT"

# The secretariat admits the new key; the admission spreads from Aldo.
"$LCCTL" federation admit -k "$FK" "$NEW" --city Aldo --country IT >"$ADM.new" 2>/dev/null
expect_status "the new key's admission is published" 0 "$LCCTL" -d "${DIRS[Aldo]}" publish "$ADM.new"
admitted_new() {
	[ "$(ctl Brno members --json | jq -r --arg n "$NEW" '.members[] | select(.id == $n) | .valid')" = true ]
}
check "Brno holds the new key's admission" wait_for 10 admitted_new
stop_node "${DIRS[Aldo]}"
check "Aldo restarts after the admission" start_node "${DIRS[Aldo]}"
expect_eq "and now runs with the new key" "$NEW" "$(ctl Aldo status --json | jq -r .city_id)"
check "identity.key.next is gone" test ! -e "$NEXT"
RET=${DIRS[Aldo]}/identity.key.retired-${OLD:0:12}
expect_eq "the old key is kept as identity.key.retired-ID, 0600" 600 "$(stat -c %a "$RET" 2>/dev/null)"
expect_contains "the switch is logged" "$(cat "${DIRS[Aldo]}/node.log")" "switched to the new city key $NEW"
expect_eq "the published marker follows the new key" "lcf-published-v1 $NEW" "$(cat "${DIRS[Aldo]}/identity.published")"
stop_node "${DIRS[Aldo]}"
check "and the store too: Aldo starts again with the new key" start_node "${DIRS[Aldo]}"
IDS[Aldo]=$NEW
check "the new key links to Brno" wait_for 15 connected Brno Aldo
publish Aldo "New practice"
check "a practice of the new key reaches Brno" wait_for 10 has_practice Brno new-practice
profile_new() {
	[ "$(ctl Brno city list --json | jq -r --arg n "$NEW" '.[] | select(.id == $n) | .name')" = Aldo ]
}
check "the profile is republished under the new key" wait_for 10 profile_new
CL=$(ctl Brno city list --json)
expect_eq "Brno shows Aldo as one city" 1 "$(jq '[.[] | select(.name == "Aldo")] | length' <<<"$CL")"
expect_eq "under the new id" "$NEW" "$(jq -r '.[] | select(.name == "Aldo") | .id' <<<"$CL")"
expect_eq "with the old one as a previous id" "$OLD" "$(jq -r '.[] | select(.name == "Aldo") | .previous_ids[0]' <<<"$CL")"
expect_eq "counting both keys' practices" 3 "$(jq '.[] | select(.name == "Aldo") | .records.practice' <<<"$CL")"
expect_contains "city list names the earlier key" "$(ctl Brno city list)" "earlier key ${OLD:0:12}"
for who in "$NEW" "$OLD"; do
	PL=$(ctl Brno practice list --json --city "${who:0:10}")
	expect_eq "--city ${who:0:6} lists both keys' practices" "gone-history new-practice old-practice" \
		"$(jq -r '[.[].key] | sort | join(" ")' <<<"$PL")"
done
expect_eq "the old key's practice is shown as the city's now" "$NEW" \
	"$(ctl Brno practice list --json | jq -r '.[] | select(.key == "old-practice") | .city_id')"
expect_status "practice show finds the old key's practice from the new city" 0 \
	"$LCCTL" -d "${DIRS[Aldo]}" practice show old-practice
# The successor's version of a key wins: the old practice edited under the
# new key is listed once.
EDIT=$(tmpdir)/edit.json
echo '[{"key": "old-practice", "title": "Old practice", "summary": "Edited after the rotation.",
  "language": "en", "kflc_areas": ["2.2"]}]' >"$EDIT"
expect_status "the new key edits the old key's practice" 0 "$LCCTL" -d "${DIRS[Aldo]}" practice import "$EDIT"
edited() {
	ctl_jq Brno 'any(.[]; .key == "old-practice" and .practice.summary == "Edited after the rotation.")' practice list --json
}
check "an edit of the old practice reaches Brno" wait_for 10 edited
expect_eq "and is listed once" 1 "$(ctl Brno practice list --json | jq '[.[] | select(.key == "old-practice")] | length')"
expect_status "practice rm removes an old key's practice from the new key" 0 \
	"$LCCTL" -d "${DIRS[Aldo]}" practice rm gone-history
removed() { lacks_practice Brno gone-history; }
check "and Brno no longer lists it" wait_for 10 removed
expect_status "export covers both keys" 0 "$LCCTL" -d "${DIRS[Brno]}" export
expect_eq "export holds records of both keys" 2 \
	"$(jq -r --arg o "$OLD" --arg n "$NEW" 'select(.author == $o or .author == $n) | .author' <<<"$OUT" | sort -u | wc -l)"
ALL=$OUT
# Export narrowed to one city (either key names its whole line) and kinds:
# the same lines as the full export filtered here.
pick() {
	jq -c --arg o "$OLD" --arg n "$NEW" "select((.author == \$o or .author == \$n) and ($1))" <<<"$ALL" | sort
}
expect_status "export --city (old key) --kind practice" 0 "$LCCTL" -d "${DIRS[Brno]}" export \
	--city "${OLD:0:10}" --kind practice
expect_eq "is the city's practices under both keys" "$(pick '.kind == "practice"')" "$(sort <<<"$OUT")"
expect_eq "one version per key, the newest key's; the removed one left out" \
	"$NEW $NEW" "$(jq -r 'select(.key == "old-practice" or .key == "new-practice") | .author' <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "and nothing else" 2 "$(wc -l <<<"$OUT")"
NPRACT=$(jq -r .id <<<"$OUT" | sort -u | wc -l)
expect_status "export --city (new key) --kind city,practice --kind indicator" 0 "$LCCTL" -d "${DIRS[Brno]}" \
	export --city "$NEW" --kind city,practice --kind indicator
expect_eq "is the city's profile and practices" \
	"$(pick '.kind == "city" or .kind == "practice" or .kind == "indicator"')" "$(sort <<<"$OUT")"
expect_status "export --city --include-deleted --signed" 0 "$LCCTL" -d "${DIRS[Brno]}" export \
	--city "${NEW:0:8}" --kind practice --include-deleted --signed
expect_eq "adds the tombstone, in the signed form" $((NPRACT + 1)) "$(jq -r .id <<<"$OUT" | sort -u | wc -l)"
expect_eq "every line with a signature (64 bytes in base64)" $((NPRACT + 1)) \
	"$(jq -r 'select(.signature | length == 88) | .id' <<<"$OUT" | wc -l)"
expect_status "export --city Brno" 0 "$LCCTL" -d "${DIRS[Brno]}" export --city "${IDS[Brno]}"
expect_eq "holds only Brno's records" "${IDS[Brno]}" "$(jq -r .author <<<"$OUT" | sort -u)"
expect_status "export --kind with an unknown kind is bad usage" 2 "$LCCTL" -d "${DIRS[Brno]}" \
	export --kind practice,recipe
expect_contains "naming it and the kinds" "$OUT" "'recipe' is not a record kind: one of city, practice"
expect_status "export --city of an unknown city fails" 1 "$LCCTL" -d "${DIRS[Brno]}" export --city abcdef123456
expect_contains "and says so" "$OUT" "no city with id 'abcdef123456' is known here"

# --- a fork, and the retired key writing again: the old copy ---
# Brno is stopped while the copy starts and publishes: the copy knows Brno's
# endpoint, and discovery would otherwise link it to Brno (and bring it the
# succession) before it publishes, on a slow machine or under sanitizers.
stop_node "${DIRS[Brno]}"
check "the old copy of Aldo starts" start_node "$COPY"
publish_copy() {
	"$LCCTL" -d "$COPY" practice add --title "$1" --summary "From a restored copy." \
		--language en --area 2.2 >/dev/null
}
check "it publishes at the seq of the succession (a fork)" publish_copy "Forked practice"
check "and one past it" publish_copy "After retirement"
check "Brno starts again" start_node "${DIRS[Brno]}"
"$LCCTL" -d "$COPY" peer add "127.0.0.1:${PORTS[Brno]}" >/dev/null
forked() {
	[ "$(ctl Brno status --json | jq .forks)" -ge 1 ]
}
check "Brno stores the fork and counts it in status" wait_for 15 forked
expect_eq "members shows the fork on the old key" 1 \
	"$(ctl Brno members --json | jq --arg o "$OLD" '.members[] | select(.id == $o) | .forks')"
expect_eq "status --json counts one fork" 1 "$(ctl Brno status --json | jq .forks)"
# Records that come in a reconciliation are refused in the log (pushed ones
# also in peer list).
retired_refused() {
	grep -q "records refused: .*the author's key was retired" "${DIRS[Brno]}/node.log"
}
check "the retired key's later record is refused" wait_for 10 retired_refused
check "and not stored" lacks_practice Brno after-retirement
stop_node "$COPY"

# --- the federation's catalog ---
SMALL=$(tmpdir)/small-catalog.json
jq '{version: 2, indicators: [.indicators[] | select(.sub_area == "2.2" or .sub_area == "3.1")]}' \
	"$ROOT/config/catalog.json" >"$SMALL"
NSMALL=$(jq '.indicators | length' "$SMALL")
OUTSIDE=$(jq -r '[.indicators[] | select(.sub_area == "1.1")][0].id' "$ROOT/config/catalog.json")
INSIDE=$(jq -r '.indicators[0].id' "$SMALL")
expect_contains "a node starts with the file catalog" "$(ctl Cork catalog list)" "catalog: "
# Cork, not linked yet, sets a value its file catalog knows and the
# federation's will not.
expect_status "Cork sets a value of the file catalog" 0 "$LCCTL" -d "${DIRS[Cork]}" indicator set "$OUTSIDE" 2024 42
"$LCCTL" federation catalog -k "$FK" "$SMALL" >"$SMALL.jsonl" 2>/dev/null
expect_eq "the secretariat signs one record per indicator" "$NSMALL" "$(wc -l <"$SMALL.jsonl")"
expect_status "the catalog is published at Brno" 0 "$LCCTL" -d "${DIRS[Brno]}" publish "$SMALL.jsonl"
fed_catalog() {
	local out
	out=$(ctl "$1" catalog list 2>&1) || return 1
	case "$out" in "catalog: federation $FEDID ($NSMALL indicators)"*) return 0 ;; esac
	return 1
}
check "Brno's catalog is the federation's" fed_catalog Brno
check "it reaches Aldo" wait_for 10 fed_catalog Aldo
expect_eq "catalog list --json has its indicators" "$NSMALL" "$(ctl Aldo catalog list --json 2>/dev/null | jq length)"
expect_status "a local value outside it is refused" 1 "$LCCTL" -d "${DIRS[Aldo]}" indicator set "$OUTSIDE" 2024 1
expect_contains "with the list of valid ids" "$OUT" "$INSIDE"
expect_status "a value inside it is taken" 0 "$LCCTL" -d "${DIRS[Aldo]}" indicator set "$INSIDE" 2024 7
ctl Cork peer add "127.0.0.1:${PORTS[Brno]}" >/dev/null
check "Cork links to Brno" wait_for 10 connected Brno Cork
check "the catalog reaches Cork live" wait_for 10 fed_catalog Cork
has_value() {
	ctl_jq "$1" "any(.[]; .indicator.indicator == \"$2\")" indicator list --json
}
check "Cork's value against an unknown id reaches Brno" wait_for 10 has_value Brno "$OUTSIDE"
IL=$(ctl Brno indicator list --json)
expect_eq "it is kept and flagged" true "$(jq --arg i "$OUTSIDE" '.[] | select(.indicator.indicator == $i) | .unknown_indicator' <<<"$IL")"
expect_eq "a value in the catalog is not" false "$(jq --arg i "$INSIDE" '[.[] | select(.indicator.indicator == $i)][0].unknown_indicator' <<<"$IL")"
expect_contains "the table marks it too" "$(ctl Brno indicator list 2>&1)" "unknown indicator"

# Partners read a city whose line has several keys record by record: its
# practices in a sub-area count once (old-practice as the successor's
# version, not the old key's too), as the practice list shows them.
L=$(ctl Brno practice list --json --limit 0 | jq --arg o "$OLD" --arg n "$NEW" \
	'[.[] | select((.author == $o or .author == $n) and (.practice.kflc_areas | index("2.2")))] | length')
expect_eq "the list shows old-practice once among Aldo's practices in 2.2" 1 \
	"$(ctl Brno practice list --json --limit 0 | jq '[.[] | select(.key == "old-practice")] | length')"
expect_status "partners on Brno" 0 ctl Brno partners --area 2.2 --json
expect_eq "Aldo ranked under its new key, its 2.2 practices counted as listed" "$NEW $L" \
	"$(jq -r --arg n "$NEW" '.items[] | select(.id == $n) | "\(.id) \(.areas[0].practices)"' <<<"$OUT")"

for n in Aldo Brno Cork; do check "$n stops cleanly on SIGTERM" stop_node "${DIRS[$n]}"; done
for d in "${DIRS[@]}" "$COPY"; do
	if grep -q "Sanitizer\|runtime error" "$d/node.log"; then
		fail "sanitizers are quiet in $d" "$(grep -m3 "Sanitizer\|runtime error" "$d/node.log")"
	fi
done
