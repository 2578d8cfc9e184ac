#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo: builds nothing itself (run through `make demo`), makes a
# secretariat's federation key, starts a local federation of three learning
# cities on loopback ports with the SAMPLE data of config/sample, admits them,
# links them, and shows one node holding every city's practices.
# `tools/demo.sh stop` stops the demo nodes.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROOT=$PWD
LCCTL=$ROOT/$BUILD/lcctl
LCNODE=$ROOT/$BUILD/lcnode
DEMO=${LCF_DEMO_DIR:-$ROOT/demo-federation}
SAMPLES=$ROOT/config/sample
# slug, name, country, peer port, HTTP port
CITIES=("timisoara Timisoara RO 7401 8381" "tampere Tampere FI 7402 8382" "medellin Medellin CO 7403 8383")

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
FEDKEY=$DEMO/secretariat/FED.key
# A demo directory from before the demo had a secretariat: start afresh (it
# holds generated sample data only).
if [ -d "$DEMO" ] && [ ! -e "$FEDKEY" ]; then
	rm -rf "$DEMO"
fi
mkdir -p "$DEMO/secretariat"
echo "== lcf demo: SAMPLE data (illustrative, not the cities' real records) in $DEMO"
if [ ! -e "$FEDKEY" ]; then
	"$LCCTL" federation create -k "$FEDKEY" --name "Demo Learning Cities (SAMPLE)" \
	    >"$DEMO/secretariat/FEDID" 2>/dev/null
fi
FEDID=$(cat "$DEMO/secretariat/FEDID")
echo "== the secretariat's federation: $FEDID (key $FEDKEY)"
: >"$DEMO/secretariat/admissions.rec"
for c in "${CITIES[@]}"; do
	read -r slug name cc port hport <<<"$c"
	dir=$DEMO/$slug
	if [ ! -e "$dir/identity.key" ]; then
		"$LCCTL" -d "$dir" init --city "$name" --country "$cc" --listen "127.0.0.1:$port" \
		    --federation "$FEDID" >/dev/null 2>&1
	fi
	# Each node its own HTTP port (the default 8380 serves one node a machine).
	if grep -q '^\[http\]' "$dir/lcnode.conf"; then
		sed -i '/^\[http\]/,$s/^;\{0,1\} *listen = .*/listen = 127.0.0.1:'"$hport"'/' "$dir/lcnode.conf"
	else
		printf '\n[http]\nlisten = 127.0.0.1:%s\n' "$hport" >>"$dir/lcnode.conf"
	fi
	"$LCNODE" -d "$dir" >>"$dir/node.log" 2>&1 &
	for _ in $(seq 1 50); do
		"$LCCTL" -d "$dir" status >/dev/null 2>&1 && break
		sleep 0.1
	done
	id=$("$LCCTL" -d "$dir" status --json | jq -r .city_id)
	"$LCCTL" federation admit -k "$FEDKEY" "$id" --city "$name" --country "$cc" \
	    >>"$DEMO/secretariat/admissions.rec" 2>/dev/null
done
for c in "${CITIES[@]}"; do
	read -r slug _ <<<"$c"
	"$LCCTL" -d "$DEMO/$slug" publish "$DEMO/secretariat/admissions.rec" >/dev/null
done
echo "== admitted the three cities; importing their sample data"
for c in "${CITIES[@]}"; do
	read -r slug name cc port _ <<<"$c"
	dir=$DEMO/$slug
	"$LCCTL" -d "$dir" city import "$SAMPLES/$slug-profile.SAMPLE.json"
	"$LCCTL" -d "$dir" practice import "$SAMPLES/$slug-practices.SAMPLE.json"
	"$LCCTL" -d "$dir" indicator import "$SAMPLES/$slug-indicators.SAMPLE.json"
done

# The operators add a line of peers: Medellin - Tampere - Timisoara. Records
# travel by push and reconciliation; each node also finds the others through
# their signed endpoint records and links to them (discovery).
"$LCCTL" -d "$DEMO/tampere" peer add 127.0.0.1:7401 >/dev/null 2>&1 || true
"$LCCTL" -d "$DEMO/medellin" peer add 127.0.0.1:7402 >/dev/null 2>&1 || true
want=0
for f in "$SAMPLES"/*-practices.SAMPLE.json; do
	want=$((want + $(jq length "$f")))
done
echo "== waiting for the federation to converge ($want practices)"
for _ in $(seq 1 150); do
	have=$("$LCCTL" -d "$DEMO/timisoara" practice list --json --limit 0 | jq length)
	[ "$have" -ge "$want" ] && break
	sleep 0.2
done
# Discovery links Timisoara and Medellin directly a few seconds later.
echo "== waiting for discovery to link every pair"
for _ in $(seq 1 150); do
	linked=$("$LCCTL" -d "$DEMO/timisoara" status --json | jq .peers_connected)
	[ "${linked:-0}" -ge 2 ] && break
	sleep 0.2
done

dir=$DEMO/timisoara
echo
echo "== lcctl status (Timisoara)"
"$LCCTL" -d "$dir" status
echo
echo "== lcctl members"
"$LCCTL" -d "$dir" members
echo
echo "== lcctl peer list"
"$LCCTL" -d "$dir" peer list
echo
echo "== lcctl city list"
"$LCCTL" -d "$dir" city list
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
echo
echo "== the HTTP API (Timisoara): curl -s 'http://127.0.0.1:8381/api/v1/practices?area=2.2&limit=2'"
curl -s 'http://127.0.0.1:8381/api/v1/practices?area=2.2&limit=2' | jq -c '{next, items: [.items[] | {id, city_name, title: .practice.title}]}' || true
cat <<MSG

The three nodes keep running in the background (logs: $DEMO/*/node.log). Their
HTTP faces: http://127.0.0.1:8381/api/v1/ (Timisoara), :8382 (Tampere), :8383
(Medellin). Try:
  curl -s http://127.0.0.1:8381/api/v1/cities | jq .
  curl -s http://127.0.0.1:8381/api/v1/members | jq .
  curl -s http://127.0.0.1:8381/metrics            # operator data: loopback may read it
  curl -N http://127.0.0.1:8381/api/v1/events      # live events (add a practice meanwhile)
  export LCF_DIR=$dir
  $BUILD/lcctl practice show ID        # an id prefix from the list above
  $BUILD/lcctl export --signed | head -2
  $BUILD/lcctl catalog list
  $BUILD/lcctl practice add --title "..." --summary "..." --language en --area 2.2
  $BUILD/lcctl -d $DEMO/medellin practice list    # it arrives there within a second
Stop them with: tools/demo.sh stop
MSG
