#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Multilingual search of practices through lcctl and /api/v1/practices:
# inflections in the practice's language, diacritics folded, translations in
# their own language, prefix, phrase, OR, -word, the lang, sdg and since
# filters, relevance order, and bad syntax named with its position.
. "$(dirname "$0")/lib.sh"

city_node Malmo SE
C=$(tmpdir)/corpus.json
cat >"$C" <<'JSON'
[
 {"key": "lasecirklar", "title": "Läsecirklar för familjer i Malmö",
  "summary": "Familjen läser tillsammans på biblioteket; läsning varje vecka.",
  "language": "sv", "kflc_areas": ["2.2"], "sdgs": [4],
  "translations": [{"language": "en", "title": "Reading circles for households",
   "summary": "Households read together at the library."}]},
 {"key": "family-reading", "title": "Family reading at the library",
  "summary": "Parents and children read together every week: family reading builds literacy.",
  "language": "en", "kflc_areas": ["2.2"], "sdgs": [4, 10]},
 {"key": "alfabetizacion", "title": "Alfabetización de adultos en los barrios",
  "summary": "Clases de lectura y escritura para adultos.",
  "language": "es", "kflc_areas": ["2.1"], "sdgs": [4],
  "translations": [{"language": "fr", "title": "Alphabétisation des adultes dans les quartiers",
   "summary": "Des cours de lecture et d'écriture pour adultes."}]},
 {"key": "senioren", "title": "Digitale Kompetenzen für Senioren",
  "summary": "Senioren lernen Smartphones und Tablets kennen.",
  "language": "de-DE", "kflc_areas": ["2.4"], "sdgs": [9]},
 {"key": "history", "title": "Reading the history of a family",
  "summary": "Older residents write down the history of their family and read it aloud.",
  "language": "en", "kflc_areas": ["2.6"], "sdgs": [11]},
 {"key": "literacy", "title": "Adult literacy: literacy classes",
  "summary": "Literacy classes for adults who want literacy at work.",
  "language": "en", "kflc_areas": ["2.1"], "sdgs": [4]}
]
JSON
expect_status "import the corpus" 0 ctl Malmo practice import "$C"
U=$(http_url "${DIRS[Malmo]}")

# keys QUERY [OPTION...]: the keys lcctl lists, sorted, space-separated.
keys() {
	local t=$1
	shift
	ctl Malmo practice list --text "$t" --json "$@" | jq -r '[.[].key] | sort | join(" ")'
}
# hkeys QUERYSTRING: the same through the HTTP API.
hkeys() {
	curl -s "$U/api/v1/practices?$1" | jq -r '[.items[].key] | sort | join(" ")'
}

expect_eq "Swedish inflections: familjerna finds familjer/familjen" lasecirklar "$(keys familjerna)"
expect_eq "Swedish inflections: läsningen finds läsning" lasecirklar "$(keys läsningen)"
expect_eq "diacritics folded: Malmo finds Malmö" lasecirklar "$(keys Malmo)"
expect_eq "diacritics folded the other way: alfabetizacion" alfabetizacion "$(keys alfabetizacion)"
expect_eq "a translation in its own language: quartiers" alfabetizacion "$(keys quartiers)"
expect_eq "English inflections: libraries finds library" "family-reading lasecirklar" "$(keys libraries)"
expect_eq "area names are searched" "family-reading lasecirklar" "$(keys revitalized)"
expect_eq "prefix" "alfabetizacion" "$(keys 'alfabetiz*')"
expect_eq "prefix across words" "family-reading literacy" "$(keys 'literac*')"
expect_eq "phrase: adjacent, in order" family-reading "$(keys '"family reading"')"
expect_eq "without quotes: both words anywhere" "family-reading history" "$(keys 'family reading')"
expect_eq "OR" "lasecirklar senioren" "$(keys 'Senioren OR Malmö')"
expect_eq "exclusion" family-reading "$(keys 'reading -history -households')"
expect_eq "parentheses" "family-reading history" "$(keys '(history OR literacy) famili*')"
expect_eq "lang narrows to a language" senioren "$(ctl Malmo practice list --lang de --json | jq -r '[.[].key] | join(" ")')"
expect_eq "lang finds a translation's language" alfabetizacion "$(ctl Malmo practice list --lang fr --json | jq -r '[.[].key] | join(" ")')"
expect_eq "lang narrows the text to that language" 0 "$(ctl Malmo practice list --text households --lang sv --json | jq length)"
expect_eq "the translation's text in its language" lasecirklar "$(keys households --lang en)"
expect_eq "sdg" family-reading "$(ctl Malmo practice list --sdg 10 --json | jq -r '[.[].key] | join(" ")')"
expect_eq "sdgs: all must match" family-reading "$(ctl Malmo practice list --sdg 4 --sdg 10 --json | jq -r '[.[].key] | join(" ")')"
today=$(date -u +%F)
expect_eq "since today: all" 6 "$(ctl Malmo practice list --since "$today" --json | jq length)"
expect_eq "since tomorrow: none" 0 "$(ctl Malmo practice list --since "$(date -u -d tomorrow +%F)" --json | jq length)"
expect_eq "relevance: the known best answer first" literacy "$(ctl Malmo practice list --text literacy --json | jq -r '.[0].key')"
expect_eq "newest order on request" "literacy family-reading" "$(ctl Malmo practice list --text literacy --sort newest --json | jq -r '[.[].key] | join(" ")')"

expect_status "bad syntax is an error" 1 ctl Malmo practice list --text '"family reading'
expect_contains "naming the position" "$OUT" "text: unclosed quote at character 1"
expect_status "OR alone" 1 ctl Malmo practice list --text 'reading OR'
expect_contains "naming OR" "$OUT" "OR needs a term on each side, at character 11"
expect_status "a bad sort is bad usage" 2 ctl Malmo practice list --sort best
expect_status "a bad sdg is bad usage" 2 ctl Malmo practice list --sdg 18
expect_status "a bad date" 1 ctl Malmo practice list --since 2024-02-30
expect_contains "is named" "$OUT" "since '2024-02-30' is not a date"

# The same through the HTTP API.
expect_eq "HTTP: Swedish inflections" lasecirklar "$(hkeys 'text=familjerna')"
expect_eq "HTTP: diacritics" lasecirklar "$(hkeys 'text=Malmo')"
expect_eq "HTTP: a translation's language" alfabetizacion "$(hkeys 'lang=fr')"
expect_eq "HTTP: prefix" "family-reading literacy" "$(hkeys 'text=literac*')"
expect_eq "HTTP: phrase" family-reading "$(hkeys 'text=%22family+reading%22')"
expect_eq "HTTP: OR" "lasecirklar senioren" "$(hkeys 'text=Senioren+OR+Malm%C3%B6')"
expect_eq "HTTP: exclusion" family-reading "$(hkeys 'text=reading+-history+-households')"
expect_eq "HTTP: sdg" family-reading "$(hkeys 'sdg=4&sdg=10')"
expect_eq "HTTP: since" 6 "$(curl -s "$U/api/v1/practices?since=$today" | jq '.items | length')"
expect_eq "HTTP: lang and text" 0 "$(curl -s "$U/api/v1/practices?text=households&lang=sv" | jq '.items | length')"
expect_eq "HTTP: relevance first" literacy "$(curl -s "$U/api/v1/practices?text=literacy" | jq -r '.items[0].key')"
expect_eq "HTTP: the same order as lcctl" \
	"$(ctl Malmo practice list --text 'reading OR literacy' --json | jq -r '[.[].key] | join(" ")')" \
	"$(curl -s "$U/api/v1/practices?text=reading+OR+literacy" | jq -r '[.items[].key] | join(" ")')"
# Pages of a ranked answer: the cursor is an offset into it.
all=$(curl -s "$U/api/v1/practices?text=reading+OR+literacy&limit=10" | jq -r '[.items[].key] | join(" ")')
p1=$(curl -s "$U/api/v1/practices?text=reading+OR+literacy&limit=2")
next=$(jq -r .next <<<"$p1")
p2=$(curl -s "$U$next")
expect_eq "a ranked answer's next page starts at offset 2" "cursor=2" "${next##*&}"
expect_eq "ranked pages follow on" "$all" "$(jq -r '[.items[].key] | join(" ")' <<<"$p1") $(jq -r '[.items[].key] | join(" ")' <<<"$p2")"
expect_eq "the last page has no next" null "$(jq -r .next <<<"$p2")"
expect_eq "HTTP: bad syntax is 400 naming text and the position" \
	"400 text text: unclosed quote at character 9" \
	"$(curl -s "$U/api/v1/practices?text=reading+%22family" | jq -r '"\(.status) \(.param) \(.detail)"')"
expect_eq "HTTP: a bad sort is 400 naming sort" "400 sort" "$(curl -s "$U/api/v1/practices?sort=best" | jq -r '"\(.status) \(.param)"')"
expect_eq "HTTP: a bad sdg is 400 naming sdg" "400 sdg" "$(curl -s "$U/api/v1/practices?sdg=0" | jq -r '"\(.status) \(.param)"')"
expect_eq "HTTP: a bad lang is 400 naming lang" "400 lang" "$(curl -s "$U/api/v1/practices?lang=1x" | jq -r '"\(.status) \(.param)"')"
expect_eq "HTTP: a bad since is 400 naming since" "400 since" "$(curl -s "$U/api/v1/practices?since=2024-13-01" | jq -r '"\(.status) \(.param)"')"

# A new version is indexed anew; the old words go.
ctl Malmo practice import <(jq '[.[] | select(.key == "senioren") | .title = "Digitale Kurse"]' "$C") >/dev/null
expect_eq "the new version's words" senioren "$(keys Kurse)"
expect_eq "the old version's words are gone" 0 "$(ctl Malmo practice list --text Kompetenzen --json | jq length)"
