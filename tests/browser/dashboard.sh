#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The web dashboard in Debian's Chromium (headless, driven by puppeteer-core)
# against a federation of three nodes started here (tests/browser/dashboard.mjs,
# which stops B at its end, given its directory and id, to see it go down live;
# prints the TAP lines); the report's PDF is checked with pdftotext.
. "$(dirname "$0")/../blackbox/lib.sh"
NPM_DIR=$ROOT/$BUILD/web-npm
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

if [ ! -f "$ROOT/$BUILD/web/index.html" ] || [ ! -d "$NPM_DIR/node_modules/puppeteer-core" ]; then
	fail "the dashboard is built" "no $BUILD/web/index.html or puppeteer-core in $NPM_DIR: run make (it needs npm)"
	exit 1
fi
if [ ! -x "$CHROMIUM" ] || ! command -v pdftotext >/dev/null; then
	fail "Chromium and pdftotext are installed" "apt-get install chromium poppler-utils (tools/install-deps.sh)"
	exit 1
fi
# Every message key in both catalogs, and every key the pages name in them.
I18N=$ROOT/web/src/i18n
expect_eq "the English and French catalogs have the same keys" "$(jq -c 'keys' "$I18N/en.json")" "$(jq -c 'keys' "$I18N/fr.json")"
used=$(grep -rhoE '\bt\("[a-z0-9_.]+"' "$ROOT/web/src" | sed 's/^t("//; s/"$//' | sort -u)
missing=$(for k in $used; do jq -e --arg k "$k" 'has($k)' "$I18N/en.json" >/dev/null || echo "$k"; done)
expect_eq "every message key the pages use is in the catalogs" "none" "${missing:-none}"
. "$(dirname "$0")/lib_fed.sh"
check "the three cities' records reach A" wait_for 30 fed_converged
# A's own HTTP face serves the dashboard built in the tree.
check "A serves the dashboard at /" wait_for 5 sh -c "curl -sf '${URLS[A]}/' | grep -q '/assets/app-'"

# node resolves the script's imports beside it, in the build tree.
cp "$ROOT/tests/browser/dashboard.mjs" "$NPM_DIR/"
PDF=$(tmpdir)/report.pdf
START=$SECONDS
SCREENSHOTS=${SCREENSHOTS:+$(cd "$SCREENSHOTS" && pwd)} FR_JSON=$ROOT/web/src/i18n/fr.json LCCTL=$LCCTL DIR_A=${DIRS[A]} DIR_B=${DIRS[B]} ID_B=${IDS[B]} DIR_C=${DIRS[C]} PDF=$PDF CHROMIUM=$CHROMIUM \
    timeout 150 node "$NPM_DIR/dashboard.mjs" "${URLS[A]}"
echo "# the browser checks took $((SECONDS - START)) s"
CITY=$(curl -sf "${URLS[A]}/api/v1/cities" | jq -r '.items[0].id')
MED=$(curl -sf "${URLS[A]}/api/v1/cities" | jq -r '.items[0].name')
Y=$(date -u +%Y)
REP=$(curl -sf "${URLS[A]}/api/v1/cities/$CITY/report?from=2023&to=$Y")
# Words of the PDF on one line: a table cell may wrap.
TXT=$(pdftotext "$PDF" - 2>&1 | tr -s ' \n' '  ')
expect_contains "pdftotext finds the report's city in the PDF" "$TXT" "$MED"
for sec in "Profile" "Indicators" "Practices published in 2023–$Y" "Indicators not reported for 2023–$Y"; do
	expect_contains "the PDF has the section $sec" "$TXT" "$sec"
done
IND=$(jq -r '[.indicators[] | select(.latest != null) | .name][0] // empty' <<<"$REP")
expect_contains "the PDF names a reported indicator ($IND)" "$TXT" "$IND"
MISS=$(jq -r '.not_reported[0].name // empty' <<<"$REP")
expect_contains "and one not reported ($MISS)" "$TXT" "$MISS"
PT=$(jq -r '.practices.by_area[0].items[0].title // empty' <<<"$REP")
expect_contains "and a practice's title ($PT)" "$TXT" "$PT"
expect_contains "as HTML: no Markdown marks left" "$(grep -c -e '|---' -e '\*\*' <<<"$TXT")" "0"
