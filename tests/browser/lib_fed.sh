# SPDX-License-Identifier: Apache-2.0
# Sourced after tests/blackbox/lib.sh: a federation of three admitted cities
# with their sample data on loopback, linked in a line (C - B - A), for the
# browser tests. Sets FED, URLS[A|B|C].
W=$(tmpdir)
FED=$(cd "$W" && "$LCCTL" federation create -k fed.key --name "Browser test" 2>/dev/null)
fed_conf="s/^; federation = FEDID/federation = $FED/"
declare -A URLS
set -- "A timisoara Timisoara RO" "B tampere Tampere FI" "C medellin Medellin CO"
for c in "$@"; do
	read -r n _ name cc <<<"$c"
	city_node "$n" "$cc" "$fed_conf"
	URLS[$n]=$(http_url "${DIRS[$n]}")
	(cd "$W" && "$LCCTL" federation admit -k fed.key "${IDS[$n]}" --city "$name" \
	    --country "$cc" >>admits.rec 2>/dev/null)
done
for c in "$@"; do
	read -r n slug _ <<<"$c"
	ctl "$n" publish "$W/admits.rec" >/dev/null
	ctl "$n" city import "$SAMPLES/$slug-profile.SAMPLE.json" >/dev/null
	ctl "$n" practice import "$SAMPLES/$slug-practices.SAMPLE.json" >/dev/null
	ctl "$n" indicator import "$SAMPLES/$slug-indicators.SAMPLE.json" >/dev/null
done
ctl B peer add "127.0.0.1:${PORTS[A]}" >/dev/null
ctl C peer add "127.0.0.1:${PORTS[B]}" >/dev/null
WANT=0
for f in "$SAMPLES"/*-practices.SAMPLE.json; do WANT=$((WANT + $(jq length "$f"))); done
fed_converged() {
	[ "$(ctl A practice list --json --limit 0 | jq length)" -ge "$WANT" ] &&
	    [ "$(ctl A city list --json | jq length)" -ge 3 ]
}
