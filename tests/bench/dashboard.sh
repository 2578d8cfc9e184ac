#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make bench: the web dashboard in Chromium. On a demo-sized federation (three
# nodes with the sample data, tests/browser/lib_fed.sh): the federation page's
# transfer, compressed (target <= 500 KB), and its largest contentful paint
# (<= 1 s). On one node holding BENCH_DASH_CITIES cities and BENCH_DASH_RECORDS
# records (lcf-fill): the map and members table drawn (<= 1 s) and a search
# answered in the practices page (<= 200 ms). Medians of BENCH_DASH_RUNS runs.
# Ends with one BENCH-JSON-DASHBOARD line.
set -u
# shellcheck source=tests/blackbox/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../blackbox/lib.sh"
BENCH_TAG=BENCH-JSON-DASHBOARD
# shellcheck source=tests/bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

NREC=${BENCH_DASH_RECORDS:-100000}
NCITY=${BENCH_DASH_CITIES:-1000}
RUNS=${BENCH_DASH_RUNS:-5}
NPM_DIR=$ROOT/$BUILD/web-npm
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
FILL=$ROOT/$BUILD/lcf-fill

echo
echo "== dashboard in Chromium ($RUNS runs each; load $(cut -d' ' -f1-3 /proc/loadavg))"
if [ ! -f "$ROOT/$BUILD/web/index.html" ] || [ ! -d "$NPM_DIR/node_modules/puppeteer-core" ] || [ ! -x "$CHROMIUM" ]; then
	echo "  skipped: no dashboard built, no puppeteer-core or no $CHROMIUM"
	echo "$BENCH_TAG {\"skipped\":true}"
	exit 0
fi
cp "$ROOT/tests/bench/dashboard.mjs" "$NPM_DIR/bench-dashboard.mjs"
# shellcheck source=tests/browser/lib_fed.sh
. "$ROOT/tests/browser/lib_fed.sh"
wait_for 60 fed_converged || die "the demo federation did not converge"
OUT=$(tmpdir)/dash
mkdir -p "$OUT"
CHROMIUM=$CHROMIUM RUNS=$RUNS node "$NPM_DIR/bench-dashboard.mjs" "${URLS[A]}" demo >"$OUT/demo" ||
	die "the demo measurement failed"
for n in A B C; do stop_node "${DIRS[$n]}"; done
KB=$(calc "$(field transfer_bytes "$OUT/demo") / 1000")
LCP=$(field lcp_ms "$OUT/demo")
printf '  federation page, demo: transfer %7s KB compressed   target <= 500 KB  %s\n' "$(fmt "$KB" 1)" \
	"$(mark "$(holds "$KB <= 500")")"
printf '  federation page, demo: largest contentful paint %5s ms   target <= 1000 ms  %s\n' "$LCP" \
	"$(mark "$(holds "$LCP <= 1000")")"

D=$(tmpdir)/scale
init_city "$D" Dashpoint SE >/dev/null
"$FILL" -n "$NREC" -a "$NCITY" "$D" >"$D/fill.out" 2>&1 || die "lcf-fill failed: $(tail -3 "$D/fill.out")"
start_node "$D" || die "lcnode did not start"
U=$(http_url "$D")
# The cities the API lists: the members table's rows on an open node.
MEMBERS=0
next="/api/v1/cities?limit=500"
while [ -n "$next" ]; do
	P=$(curl -s "$U$next")
	MEMBERS=$((MEMBERS + $(jq '.items | length' <<<"$P")))
	next=$(jq -r '.next // empty' <<<"$P")
done
echo "  the node holds $("$LCCTL" -d "$D" status --json | jq .records_total) records; $MEMBERS cities"
CHROMIUM=$CHROMIUM RUNS=$RUNS MEMBERS=$MEMBERS QUERY=learning node "$NPM_DIR/bench-dashboard.mjs" "$U" scale >"$OUT/scale" ||
	die "the large-federation measurement failed"
stop_node "$D"
R=$(field render_ms "$OUT/scale")
F=$(field first_ms "$OUT/scale")
S=$(field search_ms "$OUT/scale")
printf '  map (%s markers) + members table, %d cities: %6s ms (max %s)   target <= 1000 ms  %s\n' \
	"$(field markers "$OUT/scale")" "$MEMBERS" "$R" \
	"$(field render_max_ms "$OUT/scale")" "$(mark "$(holds "$R <= 1000")")"
printf '  map + first screenful of the members table: %6s ms (max %s)\n' "$F" "$(field first_max_ms "$OUT/scale")"
printf '  search in the practices page, %d records: %5s ms (max %s)   target <= 200 ms  %s\n' "$NREC" "$S" \
	"$(field search_max_ms "$OUT/scale")" "$(mark "$(holds "$S <= 200")")"
echo "$BENCH_TAG {\"runs\":$RUNS,\"transfer_kb\":$(fmt "$KB" 1),\"lcp_ms\":$LCP,\"cities\":$MEMBERS,\"records\":$NREC,\"first_ms\":$F,\"render_ms\":$R,\"search_ms\":$S}"
