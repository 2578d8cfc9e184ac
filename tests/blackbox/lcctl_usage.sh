#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# lcctl on its own, without a node: usage and exit codes, init, and the
# messages a person sees when something is missing.
. "$(dirname "$0")/lib.sh"

T=$(tmpdir)
D=$T/city

# Usage and exit codes: 0 ok, 1 error, 2 bad usage.
expect_status "lcctl without arguments is bad usage" 2 "$LCCTL"
expect_contains "and prints the usage" "$OUT" "Usage: lcctl"
expect_contains "built from the command table" "$OUT" "practice"
expect_status "lcctl -h succeeds" 0 "$LCCTL" -h
expect_contains "lcctl -h lists the commands" "$OUT" "indicator"
expect_contains "lcctl -h lists health" "$OUT" "health"
expect_contains "lcctl -h lists http" "$OUT" "http"
expect_status "http without a subcommand is bad usage" 2 "$LCCTL" -d "$D" http
expect_contains "and lists token" "$OUT" "token"
expect_status "health -h succeeds" 0 "$LCCTL" health -h
expect_contains "and gives the exit statuses" "$OUT" "0 ok, 1 degraded, 2 down"
expect_status "health with an argument is bad usage" 2 "$LCCTL" -d "$D" health now
expect_status "lcctl --version succeeds" 0 "$LCCTL" --version
expect_contains "and names the version" "$OUT" "lcctl "
expect_status "an unknown command is bad usage" 2 "$LCCTL" -d "$D" frobnicate
expect_contains "and is named" "$OUT" "frobnicate"
expect_status "a group without a subcommand is bad usage" 2 "$LCCTL" -d "$D" practice
expect_status "an unknown subcommand is bad usage" 2 "$LCCTL" -d "$D" practice frobnicate
expect_status "an unknown option is bad usage" 2 "$LCCTL" -d "$D" practice list --frobnicate
expect_contains "and prints the subcommand's usage" "$OUT" "Usage: lcctl [-d DIR] practice list"
expect_status "subcommand -h succeeds" 0 "$LCCTL" practice add -h
expect_contains "with its own usage" "$OUT" "--title"
expect_status "a missing required option is bad usage" 2 "$LCCTL" -d "$D" practice add --title T
expect_contains "naming what is missing" "$OUT" "--summary"
expect_status "a malformed number is bad usage" 2 "$LCCTL" -d "$D" indicator set x 2024 12abc
expect_contains "naming VALUE" "$OUT" "VALUE"

# init.
expect_status "init without --country is bad usage" 2 "$LCCTL" -d "$D" init --city Tampere
check "a refused init creates nothing" test ! -e "$D"
expect_status "init --country XX fails" 2 "$LCCTL" -d "$D" init --city Tampere --country XX
expect_contains "naming the country" "$OUT" "XX"
expect_status "init with a bad --listen fails" 2 "$LCCTL" -d "$D" init --city Tampere --country FI --listen nowhere
expect_contains "naming the address" "$OUT" "nowhere"
expect_status "init with a host name as --listen fails" 2 "$LCCTL" -d "$D" init --city Tampere --country FI --listen localhost:7400
expect_contains "saying listen takes an address" "$OUT" "not a host name"
expect_status "init with a bad --http fails" 2 "$LCCTL" -d "$D" init --city Tampere --country FI --http nowhere
expect_contains "naming the value" "$OUT" "--http 'nowhere'"
expect_contains "and what it takes" "$OUT" "IP:PORT or off"
expect_status "init with a host name as --http fails" 2 "$LCCTL" -d "$D" init --city Tampere --country FI --http localhost:8380
expect_status "init with port 0 as --http fails" 2 "$LCCTL" -d "$D" init --city Tampere --country FI --http 127.0.0.1:0
expect_status "init --http OFF (not off) fails" 2 "$LCCTL" -d "$D" init --city Tampere --country FI --http OFF
check "and creates nothing" test ! -e "$D"

ERR=$T/init.err
ID=$("$LCCTL" -d "$D" init --city Tampere --country FI --listen 127.0.0.1:7400 2>"$ERR")
rc=$?
expect_eq "init succeeds" 0 "$rc"
check "init prints a 64-hex city id as its last line" is_hex64 "$(tail -1 <<<"$ID")"
expect_contains "init says what to do next" "$(cat "$ERR")" "lcnode -d $D"
check "init writes DIR/identity.key" test -f "$D/identity.key"
expect_eq "the key file is mode 0600" 600 "$(stat -c %a "$D/identity.key")"
expect_eq "the data directory is mode 0700" 700 "$(stat -c %a "$D")"
check "init writes DIR/lcnode.conf" test -f "$D/lcnode.conf"
expect_contains "the configuration names the city" "$(cat "$D/lcnode.conf")" "Tampere"

SUM=$(sha256sum <"$D/identity.key")
expect_status "a second init on the same directory fails" 1 "$LCCTL" -d "$D" init --city Other --country SE
expect_contains "saying it never overwrites a key" "$OUT" "never overwrites a key"
expect_eq "and the key is unchanged" "$SUM" "$(sha256sum <"$D/identity.key")"

D2=$T/existing-conf
mkdir -m 700 "$D2"
echo "; mine" >"$D2/lcnode.conf"
expect_status "init refuses to overwrite a configuration" 1 "$LCCTL" -d "$D2" init --city A --country SE
check "and writes no key then" test ! -e "$D2/identity.key"
expect_eq "and leaves the configuration alone" "; mine" "$(cat "$D2/lcnode.conf")"

expect_status "LCF_DIR stands in for -d" 1 env LCF_DIR="$D" "$LCCTL" init --city A --country SE
expect_contains "and names that directory" "$OUT" "$D/identity.key"

# Without a node.
expect_status "status without a node fails" 1 "$LCCTL" -d "$D" status
expect_contains "asking whether it is running" "$OUT" "is it running?"
expect_contains "and saying how to start it" "$OUT" "lcnode -d $D"
expect_status "practice list without a node fails" 1 "$LCCTL" -d "$D" practice list

expect_status "health without a node says down (2)" 2 "$LCCTL" -d "$D" health
expect_contains "asking whether it is running" "$OUT" "is it running?"
expect_contains "and saying down" "$OUT" "down"
OUT=$("$LCCTL" -d "$D" health --json 2>/dev/null)
down_json() { jq -e '.status == "down" and .ready == false and (.reasons | length) == 1' <<<"$1" >/dev/null; }
check "health --json without a node prints status down" down_json "$OUT"

# The HTTP token, read offline.
expect_status "http token before lcnode made one fails" 1 "$LCCTL" -d "$D" http token
expect_contains "saying to start lcnode once" "$OUT" "start lcnode once to create it"
TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077 && echo "$TOKEN" >"$D/http.token")
expect_status "http token prints the token" 0 "$LCCTL" -d "$D" http token
expect_eq "exactly the file's line" "$TOKEN" "$OUT"
chmod 644 "$D/http.token"
expect_status "http token refuses a file others can read" 1 "$LCCTL" -d "$D" http token
expect_contains "advising chmod" "$OUT" "chmod 600"
check "and prints no token" test "${OUT#*"$TOKEN"}" = "$OUT"
rm -f "$D/http.token"

LONG=$T/$(printf 'd%.0s' $(seq 1 120))
expect_status "a data directory too long for a socket fails" 1 "$LCCTL" -d "$LONG" status
expect_contains "saying so" "$OUT" "too long"

# No data directory at all.
OUT=$(env -u LCF_DIR "$LCCTL" status 2>&1)
rc=$?
expect_eq "no -d and no LCF_DIR is a usage error (exit 2)" 2 "$rc"
expect_contains "saying how to give one" "$OUT" "pass -d DIR or set LCF_DIR"

# Import files are checked before any node is contacted.
BAD=$T/bad.json
printf '[{"title": "A", "summary": "S", "language": "en", "kflc_areas": ["2.2"]},\n {"title": "B", "summary": "S", "language": "en", "kflc_areas": ["9.9"]}]\n' >"$BAD"
expect_status "an import with a bad record fails" 1 "$LCCTL" -d "$D" practice import "$BAD"
expect_contains "naming the file and record" "$OUT" "bad.json: record 2"
expect_contains "and the field" "$OUT" "kflc_areas"
DUP=$T/dup.json
printf '[{"title": "Same", "summary": "S", "language": "en", "kflc_areas": ["2.2"]},\n {"title": "Same", "summary": "T", "language": "en", "kflc_areas": ["2.2"]}]\n' >"$DUP"
expect_status "two records with one key fail" 1 "$LCCTL" -d "$D" practice import "$DUP"
expect_contains "naming both records" "$OUT" "record 1"
EMPTY=$T/empty.json
echo '[]' >"$EMPTY"
expect_status "an empty import fails" 1 "$LCCTL" -d "$D" practice import "$EMPTY"
expect_contains "saying it has no records" "$OUT" "no records"
