#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the libFuzzer targets in build-fuzz/ (built by `make fuzz-build`).
#
#   tests/fuzz/run.sh run [NAME...]    each target FUZZ_RUNS times (default 10M),
#                                      FUZZ_JOBS at a time, from its corpus
#   tests/fuzz/run.sh merge [NAME...]  folds what runs found into the committed
#                                      corpus tests/fuzz/corpus/NAME/, minimised
#
# A run starts from the committed corpus (read only) and keeps what it finds
# in build-fuzz/found/NAME/; a crash is written to build-fuzz/crash/NAME/ and
# makes the run fail (an input slower than 10 s is kept there as slow-unit-*,
# and does not). One line per target says what happened: executions,
# seconds, executions per second, corpus size, crashes. The last line is
# "fuzz: N targets, N crashed".
set -u
cd "$(dirname "$0")/../.."
mode=${1:-run}
shift || true
runs=${FUZZ_RUNS:-10000000}
jobs=${FUZZ_JOBS:-2}
out=build-fuzz
corpus=tests/fuzz/corpus

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		n=$(basename "$f" .c)
		targets+=("${n#fuzz_}")
	done
fi
for t in "${targets[@]}"; do
	if [ ! -x "$out/fuzz_$t" ]; then
		echo "fuzz: $out/fuzz_$t is not built: run \`make fuzz-build\` (needs clang)" >&2
		exit 2
	fi
done

# Leaks are checked at the end of a run, not after every input (detect_leaks in
# every execution would cost more than the target). A leak still fails the run.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
	local t=$1 log="$out/log/$1.log" found="$out/found/$1" crash="$out/crash/$1/"
	local start end execs secs rate size rc
	mkdir -p "$found" "$crash" "$out/log" "$corpus/$t"
	start=$(date +%s.%N)
	"$out/fuzz_$t" -runs="$runs" -print_final_stats=1 -artifact_prefix="$crash" \
	    -rss_limit_mb=2048 -timeout=25 "$found" "$corpus/$t" >"$log" 2>&1
	rc=$?
	end=$(date +%s.%N)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	size=$(ls "$found" "$corpus/$t" 2>/dev/null | grep -vc ':$')
	# slow-unit-* files are inputs that took over 10 s: reported, not failed.
	crashes=$(ls "$crash" 2>/dev/null | grep -vc '^slow-unit-')
	printf 'fuzz_%-10s %10s executions %6s s %8s/s  corpus %5s  crashes %s  exit %s\n' \
	    "$t" "${execs:-?}" "$secs" "${rate:-?}" "$size" "$crashes" "$rc"
	if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
		echo "  see $log; reproduce: $out/fuzz_$t $crash<file>"
		return 1
	fi
}

merge_one() {
	local t=$1 tmp
	tmp=$(mktemp -d "$out/merge.XXXXXX")
	mkdir -p "$corpus/$t" "$out/found/$t"
	"$out/fuzz_$t" -merge=1 "$tmp" "$corpus/$t" "$out/found/$t" \
	    >"$out/log/$t.merge.log" 2>&1 || { echo "fuzz_$t: merge failed"; return 1; }
	rm -rf "${corpus:?}/$t"
	mv "$tmp" "$corpus/$t"
	printf 'fuzz_%-10s corpus %5d files, %s\n' "$t" "$(ls "$corpus/$t" | wc -l)" \
	    "$(du -sh "$corpus/$t" | cut -f1)"
}

case "$mode" in
run)
	echo "fuzz: ${#targets[@]} targets, $runs executions each, $jobs at a time"
	mkdir -p "$out/log"
	for t in "${targets[@]}"; do
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
			wait -n
		done
		run_one "$t" >"$out/log/$t.line" 2>&1 &
	done
	wait
	failed=0
	for t in "${targets[@]}"; do
		cat "$out/log/$t.line"
		grep -q '^  see ' "$out/log/$t.line" && failed=$((failed + 1))
	done
	echo "fuzz: ${#targets[@]} targets, $failed crashed"
	[ "$failed" -eq 0 ]
	;;
merge)
	mkdir -p "$out/log"
	for t in "${targets[@]}"; do merge_one "$t" || exit 1; done
	;;
*)
	echo "usage: tests/fuzz/run.sh run|merge [NAME...]" >&2
	exit 2
	;;
esac
