#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A damaged store, with real lcnodes: three records changed on disk (LMDB's
# structure intact) are never served (list, show, export, HTTP), are
# quarantined, counted and listed, a peer pulling from the node gets the rest
# without a dropped session, and good copies come back from a peer; a damaged
# LMDB page stops lcnode at start with a message naming the file and the way
# out (no abort), and `lcctl verify --deep` reports it while the node lives.
. "$(dirname "$0")/lib.sh"

MED=$SAMPLES/medellin-practices.SAMPLE.json
# The titles of three of Medellin's practices, and what they read as when
# their first letter is changed on disk.
TITLES=()
BROKEN=()
for i in 0 1 2; do
	t=$(jq -r ".[$i].title" "$MED")
	TITLES+=("$t")
	BROKEN+=("Q${t:1}")
done

holdings() {
	local out
	out=$(ctl "$1" export) || return 1
	jq -r '"\(.author) \(.kind) \(.key) \(.seq)"' <<<"$out" | sort
}
same_holdings() {
	local a
	a=$(holdings "$1") || return 1
	[ -n "$a" ] && [ "$a" = "$(holdings "$2")" ]
}
quarantined() { ctl "$1" status --json | jq -r .records_quarantined; }
# no_damaged_text TEXT: none of the changed titles is in TEXT.
no_damaged_text() {
	local b
	for b in "${BROKEN[@]}"; do
		if grep -qF -- "$b" <<<"$1"; then return 1; fi
	done
}
# metric NAME PATTERN: the sum of the samples of /metrics matching PATTERN.
metric() {
	curl -sf -H "Authorization: Bearer $(cat "${DIRS[$1]}/http.token")" \
		"$(http_url "${DIRS[$1]}")/metrics" |
		awk -v p="$2" 'index($0, p) == 1 { s += $NF } END { print s + 0 }'
}

# A small map: the test rewrites the data file.
SMALL='s/^map_size = .*/map_size = 64M/'
city_node Alpha RO "$SMALL"
city_node Beta CO "$SMALL"
ctl Beta practice import "$MED" >/dev/null
ctl Alpha peer add "127.0.0.1:${PORTS[Beta]}" >/dev/null
check "Alpha takes Beta's records" wait_for 15 same_holdings Alpha Beta
N_ALPHA=$(holdings Alpha | wc -l)
RID=$(ctl Beta export | jq -r --arg t "${TITLES[0]}" 'select(.practice.title? == $t) | .id')

# Both stop; three of Beta's records rot inside Alpha's data file: their
# first letter changes in place, and the file keeps its time (bit rot does
# not touch it), so the start finds nothing to walk and the reads must catch
# them.
stop_node "${DIRS[Beta]}"
stop_node "${DIRS[Alpha]}"
DATA=${DIRS[Alpha]}/db/data.mdb
touch -r "$DATA" "$DATA.time"
python3 - "$DATA" "${TITLES[@]}" <<'PY'
import os, sys
path, titles = sys.argv[1], sys.argv[2:]
data = open(path, "rb").read()
fd = os.open(path, os.O_WRONLY)
for t in titles:
    t = t.encode()
    at = data.find(t)
    while at >= 0:
        os.pwrite(fd, b"Q", at)
        at = data.find(t, at + 1)
os.close(fd)
PY
touch -r "$DATA.time" "$DATA"
expect_eq "the changed titles are in Alpha's data file" 3 \
	"$(for b in "${BROKEN[@]}"; do grep -qaF -- "$b" "$DATA" && echo y; done | wc -l)"
check "Alpha starts on the changed file" start_node "${DIRS[Alpha]}"
check "without a walk (a clean stop, the file's time unchanged)" \
	bash -c "! grep -q 'walking it' '${DIRS[Alpha]}/node.log'"

# Before anything else reads them: a new peer pulls from Alpha, and gets
# everything else, with no refusal and no dropped session (the reads of the
# reconciliation find the damage).
city_node Gamma SE "$SMALL"
ctl Gamma peer add "127.0.0.1:${PORTS[Alpha]}" >/dev/null
gamma_has_all() { [ "$(holdings Gamma | grep -vc "^${IDS[Gamma]} ")" -ge "$((N_ALPHA - 3))" ]; }
check "Gamma takes every record Alpha still serves" wait_for 15 gamma_has_all
ctl Gamma peer sync "${IDS[Alpha]:0:12}" >/dev/null 2>&1
ctl Gamma peer sync "${IDS[Alpha]:0:12}" >/dev/null 2>&1
expect_eq "Gamma refused no record from Alpha" 0 "$(metric Gamma 'lcf_records_refused_total')"
expect_eq "no reconciliation ended in a protocol error at Gamma" 0 \
	"$(metric Gamma 'lcf_reconciliations_total{role="initiator",result="protocol"')"
expect_eq "nor at Alpha" 0 "$(metric Alpha 'lcf_reconciliations_total{role="responder",result="protocol"')"
check "Gamma holds none of the damaged text" no_damaged_text "$(ctl Gamma export)"

# Nothing that leaves the node shows the damaged text.
OUT=$(ctl Alpha practice list --json --limit 0)
check "practice list serves none of the damaged records" no_damaged_text "$OUT"
OUT=$(ctl Alpha export)
check "export serves none of them" no_damaged_text "$OUT"
expect_eq "export has every other record" "$((N_ALPHA - 3))" \
	"$(holdings Alpha | grep -vc "^${IDS[Gamma]} ")"
OUT=$(ctl Alpha practice show "$RID" 2>&1)
check "practice show does not serve one" no_damaged_text "$OUT"
expect_contains "it is not found" "$OUT" "no record"
OUT=$(curl -sf "$(http_url "${DIRS[Alpha]}")/api/v1/practices?limit=500")
check "the HTTP API serves none of them" no_damaged_text "$OUT"
check "the HTTP API answers with the others" grep -qF "$(jq -r '.[5].title' "$MED")" <<<"$OUT"

check "status counts three quarantined records" wait_for 5 \
	ctl_jq Alpha '.records_quarantined == 3' status --json
OUT=$(ctl Alpha verify 2>&1)
expect_eq "verify says no (exit 1)" 1 "$(ctl Alpha verify >/dev/null 2>&1; echo $?)"
expect_eq "verify lists the three as quarantined" 3 "$(grep -c '^quarantined ' <<<"$OUT")"
expect_contains "and says what that means" "$OUT" "3 in quarantine"
V=$(ctl Alpha verify --json)
expect_eq "verify --json counts them" "3 3" "$(jq -r '"\(.quarantined) \(.failed)"' <<<"$V")"
expect_eq "each quarantine is logged once" 3 "$(grep -c 'quarantined: its bytes no longer hash' "${DIRS[Alpha]}/node.log")"
expect_contains "status says so in words" "$(ctl Alpha status)" "Quarantined"
expect_eq "/api/v1/status counts them" 3 \
	"$(curl -sf "$(http_url "${DIRS[Alpha]}")/api/v1/status" | jq .records_quarantined)"
expect_eq "/metrics counts them" 3 "$(metric Alpha 'lcf_records_quarantined ')"

# Beta comes back: good copies return to Alpha, and the quarantine empties.
check "Beta restarts" start_node "${DIRS[Beta]}"
check "Alpha and Beta connect again" wait_for 15 connected Alpha Beta
ctl Alpha peer sync "${IDS[Beta]:0:12}" >/dev/null 2>&1
check "Alpha holds Beta's records again" wait_for 15 same_holdings Alpha Beta
check "the quarantine empties" wait_for 5 ctl_jq Alpha '.records_quarantined == 0' status --json
expect_eq "verify passes again" 0 "$(ctl Alpha verify >/dev/null 2>&1; echo $?)"
expect_contains "Alpha serves the good text again" "$(ctl Alpha export)" "${TITLES[0]}"
check "and Gamma gets the good copies from Alpha" wait_for 15 eval \
	"ctl Gamma peer sync ${IDS[Alpha]:0:12} >/dev/null 2>&1; grep -qF -- '${TITLES[1]}' <<<\"\$(ctl Gamma export)\""
stop_node "${DIRS[Gamma]}"
stop_node "${DIRS[Beta]}"

# --- a damaged LMDB page ---
# The leaf page that holds one of the records: its header's flags and
# bounds overwritten, as a bad sector or a stray write would. LMDB copies a
# page on write, so the text is also in pages no longer in use (here the
# leaves rewritten when Beta's good copies came back), and which copy comes
# first in the file varies: every page holding it is damaged, the live one
# among them.
damage_page() {
	local off n=0
	for off in $(grep -abo -F -- "$(jq -r '.[3].title' "$MED")" "$1" | cut -d: -f1); do
		printf '\x00\x00\xff\xff\x00\x00' |
			dd of="$1" bs=1 seek=$(((off / 4096) * 4096 + 10)) conv=notrunc status=none || return 1
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

# On a running node: verify --deep finds it, and the node lives on.
check "Alpha's page is damaged while it runs" damage_page "${DIRS[Alpha]}/db/data.mdb"
OUT=$(ctl Alpha verify --deep 2>&1)
ST=$?
expect_eq "verify --deep says no (exit 1)" 1 "$ST"
expect_contains "and reports the damage" "$OUT" "DAMAGED"
expect_contains "and the way out" "$OUT" "--new-store"
OUT=$(ctl Alpha verify 2>&1)
expect_eq "plain verify says no as well (its walk runs first)" 1 "$?"
expect_contains "and names the damage" "$OUT" "DAMAGED"
check "the node is still running" kill -0 "$(cat "${DIRS[Alpha]}/test.pid")"
expect_status "and answers" 0 "$LCCTL" -d "${DIRS[Alpha]}" status

# At start after an unclean stop: lcnode refuses with the file and the way out.
stop_node "${DIRS[Alpha]}" KILL
OUT=$(timeout 20 "$LCNODE" -d "${DIRS[Alpha]}" 2>&1)
ST=$?
check "lcnode exits at once with an error status, not a signal" test "$ST" -ge 1 -a "$ST" -lt 124
expect_contains "naming the file" "$OUT" "${DIRS[Alpha]}/db/data.mdb is damaged"
expect_contains "and a backup's restore" "$OUT" "--restore FILE"
expect_contains "and the rebuild from peers" "$OUT" "--new-store"
check "no core file was left" test -z "$(find "${DIRS[Alpha]}" -name 'core*' -print -quit)"

# A clean stop leaves a mark: the next start does not walk the store.
city_node Delta PT "$SMALL"
stop_node "${DIRS[Delta]}"
check "a clean stop leaves its mark" test -s "${DIRS[Delta]}/clean-stop"
: >"${DIRS[Delta]}/node.log"
check "Delta restarts" start_node "${DIRS[Delta]}"
check "without walking its store" bash -c "! grep -q 'walking it' '${DIRS[Delta]}/node.log'"
stop_node "${DIRS[Delta]}"
