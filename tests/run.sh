#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the whole suite: cmocka unit tests, black-box tests of the real binaries,
# and the Noise interoperability test; ends with "N passed, N failed".
# With names (tests/run.sh csv test_sync interop), runs only those.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD LCF_SRCDIR=$PWD
passed=0
failed=0
failures=()
log=$(mktemp -d "${TMPDIR:-/tmp}/lcf-run.XXXXXX")
only=" $* "
selected() { [ "$only" = "  " ] || [[ "$only" == *" $1 "* ]]; }

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
if ! selected check-layers; then
	:
elif tools/check-layers.sh "$BUILD" >"$log/layers.out" 2>&1; then
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
	selected "$name" || continue
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
# LCF_TEST_JOBS scripts at a time (default 2: most of a script's time is spent
# waiting on nodes and timers), each in its own slot: lib.sh takes the slot's
# share of the test port range (LCF_TEST_SLOT of LCF_TEST_SLOTS), so two scripts
# never pick the same port. A script whose first lines hold "# lcf-test: alone"
# (it measures memory or time, or takes both cores) runs with nothing beside it.
jobs_max=${LCF_TEST_JOBS:-2}
[ "$jobs_max" -ge 1 ] 2>/dev/null || jobs_max=1
together=()
alone=()
for t in tests/blackbox/*.sh tests/browser/*.sh; do
	case "$t" in */lib.sh | */lib_*.sh) continue ;; esac
	selected "$(basename "$t" .sh)" || continue
	if head -n 30 "$t" | grep -q '^# lcf-test: alone'; then
		alone+=("$t")
	else
		together+=("$t")
	fi
done
slots=()
for ((i = 0; i < jobs_max; i++)); do slots[i]=; done

start_script() {     # $1 = script, $2 = slot, $3 = slots in all
	local name
	name=$(basename "$1" .sh)
	slots[$2]=$name
	(
		s=$(date +%s)
		LCF_TEST_SLOT=$2 LCF_TEST_SLOTS=$3 bash "$1" >"$log/$name.out" 2>&1
		echo "$? $(($(date +%s) - s))" >"$log/$name.rc.tmp"
		mv "$log/$name.rc.tmp" "$log/$name.rc"
	) &
}

report_done() {      # counts and prints every script that has finished
	local i name rc secs
	for i in "${!slots[@]}"; do
		name=${slots[$i]}
		[ -n "$name" ] && [ -f "$log/$name.rc" ] || continue
		read -r rc secs <"$log/$name.rc"
		count_tap "$name" "$log/$name.out" "$rc"
		printf '%-28s %3d passed, %d failed  %4ss\n' "$name" \
		    "$(grep -c '^ok - ' "$log/$name.out")" \
		    "$(grep -c '^not ok - ' "$log/$name.out")" "$secs"
		slots[$i]=
	done
}

run_alone() {         # $1 = script: runs it with nothing beside it
	start_script "$1" 0 1
	wait
	report_done
}

for t in "${together[@]}"; do
	for (( ; ; )); do
		report_done
		for ((i = 0; i < jobs_max; i++)); do
			[ -z "${slots[$i]}" ] && break
		done
		[ "$i" -lt "$jobs_max" ] && break
		wait -n 2>/dev/null || sleep 0.2
	done
	start_script "$t" "$i" "$jobs_max"
done
wait
report_done
for t in "${alone[@]}"; do run_alone "$t"; done

echo "== interoperability"
if [ -x tests/interop/run.sh ] && selected interop; then
	out="$log/interop.out"
	tests/interop/run.sh >"$out" 2>&1
	rc=$?
	count_tap interop "$out" "$rc"
	printf '%-28s %3d passed, %d failed\n' interop "$(grep -c '^ok - ' "$out")" \
	    "$(grep -c '^not ok - ' "$out")"
fi

echo "== network campaign (tests/net/)"
# Network namespaces, nftables loss and partitions, a delaying relay, skewed
# clocks: root only, one script at a time with nothing beside it (it measures
# convergence times). LCF_TEST_NET=0 leaves it out; `make test-net`
# (tests/run.sh net) runs only it.
net_probe=lcf-probe-$$
if ! selected net && [ "$only" != "  " ]; then
	:
elif [ "${LCF_TEST_NET:-1}" = 0 ]; then
	echo "network campaign: left out (LCF_TEST_NET=0)"
elif [ "$(id -u)" != 0 ]; then
	echo "network campaign: not run here, it needs root (sudo make test-net)"
	[ "$only" = "  " ] || failed=$((failed + 1))  # asked for by name
elif ! ip netns add "$net_probe" 2>"$log/netns.err"; then
	echo "network campaign: not run, this machine refuses network namespaces: $(cat "$log/netns.err")"
	[ "$only" = "  " ] || failed=$((failed + 1))
else
	ip netns del "$net_probe"
	for t in tests/net/*.sh; do
		[ "$t" = tests/net/lib.sh ] || run_alone "$t"
	done
fi

if [ ${#failures[@]} -gt 0 ]; then
	echo "failed: ${failures[*]} (full output in $log)"
else
	rm -rf "$log"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
