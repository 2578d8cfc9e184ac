#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The conformance vectors of docs/vectors/: lcf-vectors regenerates them byte
# for byte, and a real lcnode gives every record of records.json its verdict
# through two real entry points: signed records handed over the admin socket
# (SubmitRequest, as `lcctl publish` sends them) and records pushed by a peer
# over a Noise link (lcf-peer-probe), each refusal naming the record.
. "$(dirname "$0")/lib.sh"

VEC=$ROOT/docs/vectors
RAW=$ROOT/$BUILD/lcf-ctl-raw
PROBE=$ROOT/$BUILD/lcf-peer-probe
W=$(tmpdir)
cd "$W" || exit 1

# --- regeneration ---
mkdir gen
expect_status "lcf-vectors runs" 0 "$ROOT/$BUILD/lcf-vectors" gen
for f in noise.json records.json sets.json; do
	check "$f regenerates byte for byte" cmp -s "gen/$f" "$VEC/$f"
done

# --- the records, one line each: name, verdict, id (or -), reason (or -) ---
jq -r '.records[] | [.name, .verdict, (.id // "-"), (.reason // "-")] | @tsv' \
    "$VEC/records.json" >list.tsv
jq -r '.records[] | .record' "$VEC/records.json" >records.hex
expect_eq "records.json holds 26 records" 26 "$(wc -l <list.tsv)"
hex_of() { sed -n "$1p" records.hex; }

# The probe sends each invalid record in turn from one key: the back-off that
# answers a key breaking the protocol (offenders.sh tests it) would refuse
# the next ones, so P has none here.
city_node S SE
city_node P FI 's/^\[federation\]$/[federation]\noffender_backoff = 0/'
P_ADDR=127.0.0.1:${PORTS[P]}

# A reason as the node words it: "record 1 (ID12): why", or "record 1: why"
# for a record that does not decode (no id).
names() {
	local id=$1 reason=$2 text=$3
	if [ "$id" = - ]; then
		[[ $text == *"record 1: "*"$reason"* ]]
	else
		[[ $text == *"(${id:0:12}): "*"$reason"* ]]
	fi
}

# held DIR ID: the node holds a record of that id, any version (a get by id
# reads the store; export lists current versions only, and the city profile
# and the practice have newer ones here).
held() { printf '{"get": {"ref": "%s"}}' "$2" | "$RAW" "$1" >/dev/null 2>&1; }
all_held() {
	local name verdict id reason
	while IFS=$'\t' read -r name verdict id reason; do
		[ "$verdict" = accept ] || continue
		held "$1" "$id" || return 1
	done <list.tsv
}
none_held() {
	local name verdict id reason
	while IFS=$'\t' read -r name verdict id reason; do
		[ "$verdict" = accept ] || [ "$id" = - ] && continue
		! held "$1" "$id" || return 1
	done <list.tsv
}

# --- through the admin socket: each record on its own ---
i=0
while IFS=$'\t' read -r name verdict id reason; do
	i=$((i + 1))
	printf '{"submit": {"records": ["%s"]}}' "$(hex_of "$i")" >req.json
	ANS=$("$RAW" "${DIRS[S]}" <req.json 2>&1 | jq -r '"\(.submit.stored // 0) \(.submit.refused // 0) \(.submit.reason // "")"' 2>/dev/null)
	if [ "$verdict" = accept ]; then
		expect_eq "submit: $name is stored" "1 0 " "$ANS"
	else
		expect_eq "submit: $name is refused" "0 1" "${ANS:0:3}"
		check "submit: $name: the refusal names the record and says '$reason'" \
		    names "$id" "$reason" "$ANS"
	fi
done <list.tsv
check "S holds every valid record" all_held "${DIRS[S]}"
check "and none of the others" none_held "${DIRS[S]}"
expect_status "verify on S" 0 "$LCCTL" -d "${DIRS[S]}" verify

# --- over a peer link, from one peer key ---
"$LCCTL" federation create -k probe.key --name Probe >/dev/null 2>&1
export LCF_PROBE_KEY=$W/probe.key
PID=$(jq -r .author <("$ROOT/$BUILD/lcf-sign" -K probe.key -k 2 -s 1 2>/dev/null) 2>/dev/null)
probe_row() { ctl P peer list --json | jq -r --arg id "$PID" '.[] | select(.id == $id) | "\(.refused // 0) \(.last_error // "")"'; }
# refused_names N ID REASON: the probe's row counts N refusals, the last
# naming the record.
refused_names() {
	local row
	row=$(probe_row)
	[ "${row%% *}" = "$1" ] && names "$2" "$3" "${row#* }"
}
i=0
: >accept.hex
while IFS=$'\t' read -r name verdict id reason; do
	i=$((i + 1))
	[ "$verdict" = accept ] && hex_of "$i" >>accept.hex
done <list.tsv
expect_status "a peer pushes the valid records in one message" 0 "$PROBE" file "$P_ADDR" accept.hex
check "P stores every one of them" wait_for 10 all_held "${DIRS[P]}"
i=0
n=0
while IFS=$'\t' read -r name verdict id reason; do
	i=$((i + 1))
	[ "$verdict" = accept ] && continue
	hex_of "$i" >one.hex
	n=$((n + 1))
	if [ "$verdict" = close ]; then
		expect_status "peer: $name closes the link" 0 "$PROBE" badfile "$P_ADDR" one.hex
	else
		expect_status "peer: $name is pushed" 0 "$PROBE" file "$P_ADDR" one.hex
	fi
	check "peer: $name is refusal $n, naming the record and saying '$reason'" \
	    wait_for 10 refused_names "$n" "$id" "$reason"
done <list.tsv
check "P holds none of the invalid records" none_held "${DIRS[P]}"
expect_status "verify on P" 0 "$LCCTL" -d "${DIRS[P]}" verify

# --- a membership shown in a Hello: the same canonical rule (PROTOCOL 5.4) ---
unset LCF_PROBE_KEY
FED=$("$LCCTL" federation create -k fed.key --name "Vector federation" 2>/dev/null)
city_node F SE "s/^; federation = FEDID/federation = $FED/"
"$LCCTL" federation admit -k fed.key "${IDS[F]}" --city "City F" --country SE >admit-F.rec 2>/dev/null
ctl F publish admit-F.rec >/dev/null
"$LCCTL" federation admit -k fed.key "$PID" --city Probe --country SE >admit-probe.rec 2>/dev/null
# The same record with its signature field first, as hex.
b64hex() { base64 -d | od -An -v -tx1 | tr -d ' \n'; }
C=$(jq -r .content admit-probe.rec | b64hex)
S=$(jq -r .signature admit-probe.rec | b64hex)
L=$((${#C} / 2))
if [ "$L" -lt 128 ]; then V=$(printf %02x "$L"); else V=$(printf %02x%02x $(((L & 127) | 128)) $((L >> 7))); fi
echo "1240${S}0a${V}${C}" >admit-probe.rev
export LCF_PROBE_KEY=$W/probe.key LCF_PROBE_FEDERATION=$FED
refused0=$(ctl F status --json | jq .refused_connections)
LCF_PROBE_MEMBERSHIP=$W/admit-probe.rev "$PROBE" hello "127.0.0.1:${PORTS[F]}" >/dev/null 2>&1
refused_more() { [ "$(ctl F status --json | jq .refused_connections)" -gt "$refused0" ]; }
check "a Hello showing its membership signature first is refused" wait_for 10 refused_more
check "as showing no valid membership" grep -q "no valid membership record" "${DIRS[F]}/node.log"
check "F does not store that membership" bash -c "! '$RAW' '${DIRS[F]}' <<<'{\"get\": {\"ref\": \"$(jq -r .id admit-probe.rec)\"}}' >/dev/null 2>&1"
expect_status "the same membership in canonical form is accepted" 0 env LCF_PROBE_MEMBERSHIP="$W/admit-probe.rec" "$PROBE" hello "127.0.0.1:${PORTS[F]}"
expect_contains "the handshake completes" "$OUT" "${IDS[F]}"
unset LCF_PROBE_KEY LCF_PROBE_FEDERATION
