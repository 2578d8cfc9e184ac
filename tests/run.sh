#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the whole suite: cmocka unit tests, black-box tests of the real binaries,
# and the Noise interoperability test; ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD LCF_SRCDIR=$PWD
passed=0
failed=0
failures=()
log=$(mktemp -d "${TMPDIR:-/tmp}/lcf-run.XXXXXX")

count_tap() {        # $1 = name, $2 = output file, $3 = exit status
	local p f
	p=$(grep -c '^ok - ' "$2")
	f=$(grep -c '^not ok - ' "$2")
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $1: exited with status $3" >>"$2"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	grep '^not ok - ' "$2" | while read -r line; do echo "  $line"; done
	[ "$f" -eq 0 ] || failures+=("$1")
}

echo "== layers"
if tools/check-layers.sh "$BUILD" >"$log/layers.out" 2>&1; then
	printf '%-28s %3d passed, %d failed\n' check-layers 1 0
	passed=$((passed + 1))
else
	printf '%-28s %3d passed, %d failed\n' check-layers 0 1
	sed 's/^/  /' "$log/layers.out" | head -40
	failed=$((failed + 1))
	failures+=(check-layers)
fi

echo "== unit tests"
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	out="$log/$name.out"
	"$t" >"$out" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	printf '%-28s %3d passed, %d failed\n' "$name" "$p" "$f"
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		failures+=("$name")
		grep -E '^\[  (FAILED|ERROR)|error:|Assertion|ERROR' "$out" | head -20 | sed 's/^/  /'
	fi
done

echo "== black-box and browser tests"
for t in tests/blackbox/*.sh tests/browser/*.sh; do
	case "$t" in */lib.sh | */lib_*.sh) continue ;; esac
	name=$(basename "$t" .sh)
	out="$log/$name.out"
	bash "$t" >"$out" 2>&1
	rc=$?
	count_tap "$name" "$out" "$rc"
	printf '%-28s %3d passed, %d failed\n' "$name" "$(grep -c '^ok - ' "$out")" \
	    "$(grep -c '^not ok - ' "$out")"
done

echo "== interoperability"
if [ -x tests/interop/run.sh ]; then
	out="$log/interop.out"
	tests/interop/run.sh >"$out" 2>&1
	rc=$?
	count_tap interop "$out" "$rc"
	printf '%-28s %3d passed, %d failed\n' interop "$(grep -c '^ok - ' "$out")" \
	    "$(grep -c '^not ok - ' "$out")"
fi

if [ ${#failures[@]} -gt 0 ]; then
	echo "failed: ${failures[*]} (full output in $log)"
else
	rm -rf "$log"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
