#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the network campaign (make test-net): every tests/net/*.sh but lib.sh,
# as TAP; ends with "N passed, N failed" and fails if any check failed.
set -u
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then
	echo "make test-net needs root: it creates network namespaces and nftables rules (run: sudo make test-net)" >&2
	exit 2
fi
passed=0
failed=0
log=$(mktemp -d "${TMPDIR:-/tmp}/lcf-net.XXXXXX")
for t in tests/net/*.sh; do
	case $t in */lib.sh | */run.sh) continue ;; esac
	name=$(basename "$t" .sh)
	echo "== $name"
	start=$SECONDS
	"$t" 2>"$log/$name.err" | tee "$log/$name.out"
	rc=${PIPESTATUS[0]}
	p=$(grep -c '^ok - ' "$log/$name.out")
	f=$(grep -c '^not ok - ' "$log/$name.out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name: exited with status $rc: $(tail -3 "$log/$name.err")"
		f=1
	fi
	echo "# $name: $((SECONDS - start)) s"
	passed=$((passed + p))
	failed=$((failed + f))
done
rm -rf "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
