#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo: builds nothing itself (run through `make demo`), starts a learning
# city's node on loopback with the SAMPLE data of config/sample, and shows what it
# holds. `tools/demo.sh stop` stops the demo nodes.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROOT=$PWD
LCCTL=$ROOT/$BUILD/lcctl
LCNODE=$ROOT/$BUILD/lcnode
DEMO=${LCF_DEMO_DIR:-$ROOT/demo-federation}
SAMPLES=$ROOT/config/sample
CITIES=("timisoara Timisoara RO 7401")

stop_all() {
	local pidf
	for pidf in "$DEMO"/*/lcnode.lock; do
		[ -s "$pidf" ] || continue
		kill -TERM "$(cat "$pidf")" 2>/dev/null || true
	done
	sleep 0.5
}

if [ "${1:-}" = stop ]; then
	stop_all
	echo "demo nodes stopped (data kept in $DEMO; remove it to start afresh)"
	exit 0
fi

stop_all
mkdir -p "$DEMO"
echo "== lcf demo: SAMPLE data (illustrative, not the cities' real records) in $DEMO"
for c in "${CITIES[@]}"; do
	read -r slug name cc port <<<"$c"
	dir=$DEMO/$slug
	if [ ! -e "$dir/identity.key" ]; then
		"$LCCTL" -d "$dir" init --city "$name" --country "$cc" --listen "127.0.0.1:$port" >/dev/null
	fi
	"$LCNODE" -d "$dir" >>"$dir/node.log" 2>&1 &
	for _ in $(seq 1 50); do
		"$LCCTL" -d "$dir" status >/dev/null 2>&1 && break
		sleep 0.1
	done
	"$LCCTL" -d "$dir" city import "$SAMPLES/$slug-profile.SAMPLE.json"
	"$LCCTL" -d "$dir" practice import "$SAMPLES/$slug-practices.SAMPLE.json"
	"$LCCTL" -d "$dir" indicator import "$SAMPLES/$slug-indicators.SAMPLE.json"
done

dir=$DEMO/timisoara
echo
echo "== lcctl status"
"$LCCTL" -d "$dir" status
echo
echo "== lcctl practice list"
"$LCCTL" -d "$dir" practice list
echo
echo "== lcctl practice list --area 2.2 --text family"
"$LCCTL" -d "$dir" practice list --area 2.2 --text family || true
echo
echo "== lcctl indicator list"
"$LCCTL" -d "$dir" indicator list
echo
echo "== lcctl verify"
"$LCCTL" -d "$dir" verify
cat <<MSG

The node keeps running in the background (log: $dir/node.log). Try:
  export LCF_DIR=$dir
  $BUILD/lcctl practice show ID        # an id prefix from the list above
  $BUILD/lcctl export --signed | head -2
  $BUILD/lcctl catalog list
Stop it with: tools/demo.sh stop
MSG
