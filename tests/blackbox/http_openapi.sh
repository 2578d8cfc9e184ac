#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The OpenAPI document kept true: a real validator accepts what lcnode serves at
# /api/v1/openapi.json, every documented answer of a node holding sample data
# matches its schema, and parameters generated from the document (valid and
# not) never get a 5xx or an undocumented answer (openapi_check.py).
. "$(dirname "$0")/lib.sh"

NPM_DIR=$ROOT/$BUILD/npm
PY=/usr/bin/python3      # Debian's python3-jsonschema and python3-hypothesis

# The validator, installed into the build tree from the committed lockfile
# (node resolves its import beside the script, so the script goes there too).
npm_ready() {
	mkdir -p "$NPM_DIR" && cp "$ROOT/tests/openapi/validate.mjs" "$NPM_DIR/" || return 1
	cmp -s "$ROOT/tests/openapi/package-lock.json" "$NPM_DIR/package-lock.json" &&
	    [ -d "$NPM_DIR/node_modules/@readme/openapi-parser" ] && return 0
	cp "$ROOT/tests/openapi/package.json" "$ROOT/tests/openapi/package-lock.json" "$NPM_DIR/" &&
	    (cd "$NPM_DIR" && npm ci --prefer-offline --no-audit --no-fund >&2)
}

# Tampere holds its sample data and 300 generated practices; Medellin's
# records reach it over a peer link, so it lists two cities and one peer.
city_node Tampere FI
city_node Medellin CO
D=${DIRS[Tampere]}
URL=$(http_url "$D")
GEN=$(tmpdir)/gen.json
"$ROOT/$BUILD/lcf-gen" -n 300 -s 7 -o "$GEN"
expect_status "Tampere's profile" 0 ctl Tampere city import "$SAMPLES/tampere-profile.SAMPLE.json"
expect_status "Tampere's practices" 0 ctl Tampere practice import "$SAMPLES/tampere-practices.SAMPLE.json"
expect_status "300 generated practices" 0 ctl Tampere practice import "$GEN"
expect_status "Tampere's indicator values" 0 ctl Tampere indicator import "$SAMPLES/tampere-indicators.SAMPLE.json"
# A second version of one practice, and a deleted one.
V2=$(tmpdir)/v2.json
jq '[.[0] | .summary += " Revised."]' "$SAMPLES/tampere-practices.SAMPLE.json" >"$V2"
expect_status "a second version of a practice" 0 ctl Tampere practice import "$V2"
GONE=$(ctl Tampere practice list --json --limit 0 | jq -r '.[-1].id')
expect_status "a practice deleted" 0 ctl Tampere practice rm "$GONE"
expect_status "Medellin's profile" 0 ctl Medellin city import "$SAMPLES/medellin-profile.SAMPLE.json"
expect_status "Medellin's practices" 0 ctl Medellin practice import "$SAMPLES/medellin-practices.SAMPLE.json"
expect_status "peer add" 0 ctl Tampere peer add "127.0.0.1:${PORTS[Medellin]}"
two_cities() { [ "$(ctl Tampere city list --json | jq length)" = 2 ]; }
check "Medellin's records reach Tampere" wait_for 20 two_cities
TOKEN=$(cat "$D/http.token")
check "the HTTP API answers" wait_for 10 curl -sf "$URL/api/v1/status"

SERVED=$(tmpdir)/served.json
curl -sf -o "$SERVED" "$URL/api/v1/openapi.json"
expect_eq "the node serves docs/openapi.json as it is" "$(sha256sum <"$ROOT/docs/openapi.json")" \
	"$(sha256sum <"$SERVED")"
if npm_ready; then
	expect_status "@readme/openapi-parser accepts the served document" 0 \
		node "$NPM_DIR/validate.mjs" "$SERVED"
	# A broken document must be refused, or the check above proves nothing.
	jq '.paths["/api/v1/status"].get.responses["200"].content["application/json"].schema["$ref"] =
	    "#/components/schemas/NoSuchSchema"' "$SERVED" >"$SERVED.bad"
	expect_status "and refuses one with a dangling \$ref" 1 \
		node "$NPM_DIR/validate.mjs" "$SERVED.bad"
else
	fail "@readme/openapi-parser accepts the served document" "npm ci failed in $NPM_DIR"
fi

START=$SECONDS
# Hypothesis keeps a cache of Unicode tables: in the test's directory, not the tree.
HYPOTHESIS_STORAGE_DIRECTORY=$(tmpdir) "$PY" "$ROOT/tests/blackbox/openapi_check.py" --base "$URL" \
	--token "$TOKEN" --examples "${OPENAPI_EXAMPLES:-50}"
echo "# openapi_check.py took $((SECONDS - START)) s"
check "the node runs on after the fuzzing" kill -0 "$(cat "$D/test.pid")"
check "and stops cleanly" stop_node "$D"
stop_node "${DIRS[Medellin]}"
