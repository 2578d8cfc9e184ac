#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# format=csv in the HTTP API: practice and indicator lists and the coverage
# view answer the very bytes of lcctl's --csv (one writer, model/csvout.c);
# id= names practices (a shortlist), in the order given; bad input is named.
. "$(dirname "$0")/lib.sh"

city_node Tampere FI
ctl Tampere city import "$SAMPLES/tampere-profile.SAMPLE.json" >/dev/null
ctl Tampere practice import "$SAMPLES/tampere-practices.SAMPLE.json" >/dev/null
ctl Tampere indicator import "$SAMPLES/tampere-indicators.SAMPLE.json" >/dev/null
U=$(http_url "${DIRS[Tampere]}")
T=$(tmpdir)

# same NAME URL LCCTL-ARGS...: the API's body and lcctl's output, byte for byte.
same() {
	local name=$1 url=$2
	shift 2
	ctl Tampere "$@" >"$T/ctl.csv" 2>/dev/null
	curl -s -o "$T/api.csv" -D "$T/head" "$U$url"
	if [ ! -s "$T/ctl.csv" ]; then
		fail "$name" "lcctl $* wrote nothing"
	elif cmp -s "$T/ctl.csv" "$T/api.csv"; then
		ok "$name ($(wc -l <"$T/api.csv") lines)"
	else
		fail "$name" "$(diff "$T/ctl.csv" "$T/api.csv" | head -c 600)"
	fi
}

same "practices?format=csv is lcctl practice list --csv" \
	"/api/v1/practices?format=csv" practice list --csv
expect_contains "as text/csv" "$(tr -d '\r' <"$T/head")" "content-type: text/csv; charset=utf-8"
expect_eq "CRLF line ends" "$(wc -l <"$T/api.csv")" "$(grep -c $'\r$' "$T/api.csv")"
same "with a filter and a limit too" "/api/v1/practices?format=csv&text=famil*&limit=3" \
	practice list --csv --text "famil*" --limit 3
same "indicators?format=csv is lcctl indicator list --csv" \
	"/api/v1/indicators?format=csv" indicator list --csv
same "coverage?format=csv is lcctl coverage --csv" \
	"/api/v1/coverage?period=2024&format=csv" coverage --period 2024 --csv
same "and with missing" "/api/v1/coverage?period=2024&missing=true&format=csv" \
	coverage --period 2024 --missing --csv

# id=: the records named, in the order given, as JSON or CSV.
ids=$(curl -s "$U/api/v1/practices?limit=3" | jq -r '[.items[].id] | reverse | join(",")')
keys=$(curl -s "$U/api/v1/practices?limit=3" | jq -r '[.items[].key] | reverse | join(",")')
expect_eq "id= lists the practices named, in that order" "$ids" \
	"$(curl -s "$U/api/v1/practices?id=$ids" | jq -r '[.items[].id] | join(",")')"
short=$(sed 's/\([0-9a-f]\{12\}\)[0-9a-f]*/\1/g' <<<"$ids")
expect_eq "by prefixes, and repeated" "$ids" \
	"$(curl -s "$U/api/v1/practices?id=${short%%,*}&id=${short#*,}" | jq -r '[.items[].id] | join(",")')"
curl -s "$U/api/v1/practices?id=$ids&format=csv" >"$T/ids.csv"
expect_eq "as CSV: a header and a row each, the key first" "key $keys" \
	"$(tr -d '\r' <"$T/ids.csv" | cut -d, -f1 | paste -sd, | sed 's/^key,/key /')"
all=$(curl -s "$U/api/v1/practices" | jq -r '[.items[].id] | join(",")')
same "every practice by id, in the list's order: the list's CSV" \
	"/api/v1/practices?id=$all&format=csv" practice list --csv

# problem NAME PARAM STATUS URL: a problem naming PARAM.
problem() {
	local body code
	body=$(curl -s -w '\n%{http_code}' "$U$4")
	code=${body##*$'\n'}
	body=${body%$'\n'*}
	expect_eq "$1" "$3 $2" "$code $(jq -r .param <<<"$body")"
}
problem "format=xml is refused, naming format" format 400 "/api/v1/practices?format=xml"
problem "on the coverage too" format 400 "/api/v1/coverage?period=2024&format=pdf"
problem "id with a search filter is refused" id 400 "/api/v1/practices?id=${short%%,*}&text=x"
problem "an id that is not hex" id 400 "/api/v1/practices?id=zzzzzzzz"
problem "an id nothing has" id 404 "/api/v1/practices?id=000000000000"
ind=$(curl -s "$U/api/v1/indicators?limit=1" | jq -r '.items[0].id')
problem "an indicator value's id is not a practice" id 400 "/api/v1/practices?id=$ind"
many=$(printf '%s,' $(seq -f '%06g' 1 201))
problem "at most 200 ids" id 400 "/api/v1/practices?id=${many%,}"
