#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo: builds nothing itself (run through `make demo`), makes a
# secretariat's federation key, starts a local federation of three learning
# cities on loopback ports with the SAMPLE data of config/sample, admits them,
# links them, and shows one node holding every city's practices.
# `tools/demo.sh stop` stops the demo nodes; `tools/demo.sh check-ports`
# only checks that the demo's ports are free.
#
# Ports: LCF_DEMO_PORT_BASE (default 7400) and LCF_DEMO_HTTP_BASE (default
# 8380); the four nodes take BASE+1 to BASE+4 of each, peer and HTTP. They
# are checked before anything starts.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROOT=$PWD
LCCTL=$ROOT/$BUILD/lcctl
LCNODE=$ROOT/$BUILD/lcnode
DEMO=${LCF_DEMO_DIR:-$ROOT/demo-federation}
SAMPLES=$ROOT/config/sample
PBASE=${LCF_DEMO_PORT_BASE:-7400}
HBASE=${LCF_DEMO_HTTP_BASE:-8380}
for v in LCF_DEMO_PORT_BASE:$PBASE LCF_DEMO_HTTP_BASE:$HBASE; do
	if ! [[ ${v#*:} =~ ^[0-9]{1,5}$ ]] || [ "${v#*:}" -lt 1 ] || [ "${v#*:}" -gt 65531 ]; then
		echo "tools/demo.sh: ${v%%:*}=${v#*:}: expected a port number from 1 to 65531 (the demo uses the four ports after it)" >&2
		exit 2
	fi
done
if [ $((PBASE > HBASE ? PBASE - HBASE : HBASE - PBASE)) -lt 4 ]; then
	echo "tools/demo.sh: LCF_DEMO_PORT_BASE=$PBASE and LCF_DEMO_HTTP_BASE=$HBASE overlap: each takes the four ports after it" >&2
	exit 2
fi
# slug, name, country, peer port, HTTP port
CITIES=("timisoara Timisoara RO $((PBASE + 1)) $((HBASE + 1))"
	"tampere Tampere FI $((PBASE + 2)) $((HBASE + 2))"
	"medellin Medellin CO $((PBASE + 3)) $((HBASE + 3))")
OBS_PORT=$((PBASE + 4))
OBS_HTTP=$((HBASE + 4))

# Whether something accepts connections on 127.0.0.1:PORT.
port_busy() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Every port the demo takes must be free (the demo's own nodes stopped
# first): else a message naming the port, what it is for and the variable.
check_ports() {
	local c slug name cc port hport
	for c in "${CITIES[@]}" "secretariat Secretariat FR $OBS_PORT $OBS_HTTP"; do
		read -r slug name cc port hport <<<"$c"
		if port_busy "$port"; then
			echo "tools/demo.sh: port $port ($name's peer port) is in use: set LCF_DEMO_PORT_BASE to a number whose next four ports are free (now $PBASE: the demo takes $((PBASE + 1))-$((PBASE + 4))), e.g. LCF_DEMO_PORT_BASE=17400 make demo" >&2
			return 1
		fi
		if port_busy "$hport"; then
			echo "tools/demo.sh: port $hport ($name's HTTP port) is in use: set LCF_DEMO_HTTP_BASE to a number whose next four ports are free (now $HBASE: the demo takes $((HBASE + 1))-$((HBASE + 4))), e.g. LCF_DEMO_HTTP_BASE=18380 make demo" >&2
			return 1
		fi
	done
}

stop_all() {
	local pidf
	for pidf in "$DEMO"/*/lcnode.lock "$DEMO"/secretariat/node/lcnode.lock; do
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

if [ "${1:-}" = check-ports ]; then
	check_ports
	echo "the demo's ports are free: peer $((PBASE + 1))-$((PBASE + 4)), HTTP $((HBASE + 1))-$((HBASE + 4))"
	exit 0
fi

stop_all
check_ports || exit 1
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
	# The peer port of this run (a demo directory keeps the one it was
	# made with), in [node], the first section.
	sed -i '0,/^listen = /s/^listen = .*/listen = 127.0.0.1:'"$port"'/' "$dir/lcnode.conf"
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

# An earlier value, so that Medellin's report draft shows a change.
"$LCCTL" -d "$DEMO/medellin" indicator set 1.2-cultural-visits 2023 1750 \
    --unit "per 1,000 residents" --source "Culture department visitor statistics (SAMPLE)" >/dev/null

# The secretariat runs a node of its own, admitted as an observer: it pulls and
# serves every record and is never listed as a city.
OBS=$DEMO/secretariat/node
if [ ! -e "$OBS/identity.key" ]; then
	"$LCCTL" -d "$OBS" init --city "Demo secretariat" --country FR --listen 127.0.0.1:$OBS_PORT \
	    --federation "$FEDID" --http 127.0.0.1:$OBS_HTTP >/dev/null 2>&1
fi
sed -i '0,/^listen = /s/^listen = .*/listen = 127.0.0.1:'"$OBS_PORT"'/' "$OBS/lcnode.conf"
sed -i '/^\[http\]/,$s/^;\{0,1\} *listen = .*/listen = 127.0.0.1:'"$OBS_HTTP"'/' "$OBS/lcnode.conf"
"$LCNODE" -d "$OBS" >>"$OBS/node.log" 2>&1 &
for _ in $(seq 1 50); do
	"$LCCTL" -d "$OBS" status >/dev/null 2>&1 && break
	sleep 0.1
done
obsid=$("$LCCTL" -d "$OBS" status --json | jq -r .city_id)
"$LCCTL" federation admit -k "$FEDKEY" "$obsid" --city "Demo secretariat" --country FR \
    --observer >"$DEMO/secretariat/observer.rec" 2>/dev/null
"$LCCTL" -d "$OBS" publish "$DEMO/secretariat/observer.rec" >/dev/null
"$LCCTL" -d "$DEMO/timisoara" publish "$DEMO/secretariat/observer.rec" >/dev/null
"$LCCTL" -d "$OBS" peer add "127.0.0.1:$((PBASE + 1))" >/dev/null 2>&1 || true

# The operators add a line of peers: Medellin - Tampere - Timisoara. Records
# travel by push and reconciliation; each node also finds the others through
# their signed endpoint records and links to them (discovery).
"$LCCTL" -d "$DEMO/tampere" peer add "127.0.0.1:$((PBASE + 1))" >/dev/null 2>&1 || true
"$LCCTL" -d "$DEMO/medellin" peer add "127.0.0.1:$((PBASE + 2))" >/dev/null 2>&1 || true
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
echo "== the secretariat (its observer node): lcctl coverage --period 2024 --missing"
for _ in $(seq 1 100); do
	n=$("$LCCTL" -d "$OBS" indicator list --json 2>/dev/null | jq length)
	[ "${n:-0}" -ge "$("$LCCTL" -d "$dir" indicator list --json | jq length)" ] && break
	sleep 0.2
done
"$LCCTL" -d "$OBS" coverage --period 2024 --missing | cut -c1-120
echo
echo "== the secretariat: lcctl federation status (from the nodes' status beacons)"
for _ in $(seq 1 200); do
	nb=$("$LCCTL" -d "$OBS" export --signed --kind beacon 2>/dev/null | wc -l)
	[ "${nb:-0}" -ge 4 ] && break
	sleep 0.2
done
"$LCCTL" -d "$OBS" federation status || true
echo "(A node sends a beacon at most every 10 minutes: these were sent when the nodes"
echo " started, before the sample data, so their counts lag behind; the next agree.)"
echo
echo "== Tampere looks for partners: lcctl partners"
"$LCCTL" -d "$DEMO/tampere" partners || true
medellin=$("$LCCTL" -d "$DEMO/medellin" status --json | jq -r .city_id)
echo
echo "== Tampere reads Medellin's page: lcctl city show ${medellin:0:12}"
"$LCCTL" -d "$DEMO/tampere" city show "${medellin:0:12}" | head -25
echo
echo "== Medellin's progress-report draft: lcctl report --city ${medellin:0:12} --from 2023 --to 2024"
"$LCCTL" -d "$DEMO/tampere" report --city "${medellin:0:12}" --from 2023 --to 2024 | head -25
echo
echo "== the HTTP API (Timisoara): curl -s 'http://127.0.0.1:$((HBASE + 1))/api/v1/practices?area=2.2&limit=2'"
curl -s "http://127.0.0.1:$((HBASE + 1))/api/v1/practices?area=2.2&limit=2" | jq -c '{next, items: [.items[] | {id, city_name, title: .practice.title}]}' || true
cat <<MSG

The three nodes keep running in the background (logs: $DEMO/*/node.log).
Their web dashboards (built by make when npm is present; \`make web\` then
restart the demo otherwise):
  http://127.0.0.1:$((HBASE + 1))/ (Timisoara)   http://127.0.0.1:$((HBASE + 2))/ (Tampere)
  http://127.0.0.1:$((HBASE + 3))/ (Medellin)    http://127.0.0.1:$((HBASE + 4))/ (the secretariat's observer node)
Their HTTP faces: http://127.0.0.1:$((HBASE + 1))/api/v1/ (Timisoara), :$((HBASE + 2)) (Tampere), :$((HBASE + 3))
(Medellin), :$((HBASE + 4)) (the secretariat's observer node). Try:
  curl -s http://127.0.0.1:$((HBASE + 1))/api/v1/cities | jq .
  curl -s http://127.0.0.1:$((HBASE + 1))/api/v1/members | jq .
  curl -s http://127.0.0.1:$((HBASE + 1))/metrics            # operator data: loopback may read it
  curl -N http://127.0.0.1:$((HBASE + 1))/api/v1/events      # live events (add a practice meanwhile)
  curl -s 'http://127.0.0.1:$((HBASE + 4))/api/v1/coverage?period=2024&missing=true' | jq .
  curl -s http://127.0.0.1:$((HBASE + 2))/api/v1/partners | jq .
  $BUILD/lcctl -d $OBS members        # the three cities, and the observer
  export LCF_DIR=$dir
  $BUILD/lcctl practice show ID        # an id prefix from the list above
  $BUILD/lcctl export --signed | head -2
  $BUILD/lcctl catalog list
  $BUILD/lcctl practice add --title "..." --summary "..." --language en --area 2.2
  $BUILD/lcctl -d $DEMO/medellin practice list    # it arrives there within a second
Stop them with: tools/demo.sh stop
MSG
