#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Backups and safe restore: lcctl backup while the node runs, lcctl compact on
# a stopped node, lcnode --restore FILE refusing to publish until every peer
# reconciled (no fork anywhere, the records made after the backup come back),
# and the restore wait with no peer, ended by the operator.
. "$(dirname "$0")/lib.sh"

W=$(tmpdir)
restoring() { [ "$(ctl "$1" status --json | jq -r .restore.active)" = true ]; }
not_restoring() { [ "$(ctl "$1" status --json | jq -r .restore.active)" = false ]; }
forks() { ctl "$1" status --json | jq .forks; }
ctl_jq_val() { "$LCCTL" -d "$1" status --json | jq -r "$2"; }
ctl_jq_val_true() { [ "$(ctl_jq_val "$1" "$2")" = true ]; }
practices() { ctl "$1" practice list --json --limit 0 | jq length; }
has_count() { [ "$(practices "$1")" -ge "$2" ]; }

city_node Alba PT
city_node Brno CZ
city_node Cork IE
ctl Alba peer add "127.0.0.1:${PORTS[Brno]}" >/dev/null
ctl Alba peer add "127.0.0.1:${PORTS[Cork]}" >/dev/null
check "Alba links to Brno and Cork" wait_for 10 bash -c "$(declare -f ctl peer_field connected); $(declare -p DIRS IDS LCCTL); connected Alba Brno && connected Alba Cork"
for i in 1 2 3; do publish Alba "Before the backup $i"; done
check "the first records reach both peers" wait_for 15 all_have before-the-backup-3 Brno Cork

# ---- backup while the node runs ----
LINE=$(ctl Alba backup "$W/alba.lcfbak")
check "lcctl backup writes the file" test -f "$W/alba.lcfbak"
expect_eq "the backup is mode 0600 (it holds the key)" 600 "$(stat -c %a "$W/alba.lcfbak")"
expect_contains "it prints what it holds in one line: the city id" "$LINE" "city ${IDS[Alba]}"
expect_eq "in one line" 1 "$(wc -l <<<"$LINE")"
RECS=$(ctl Alba status --json | jq .records_total)
expect_contains "with the records" "$LINE" " $RECS records, 3 cities,"
expect_contains "and the bytes" "$LINE" "($(stat -c %s "$W/alba.lcfbak") bytes)"
expect_eq "the file starts with its magic" "LCFBKUP" "$(head -c 7 "$W/alba.lcfbak")"
SUM=$(sha256sum <"$W/alba.lcfbak")
OUT=$(ctl Alba backup "$W/alba.lcfbak" 2>&1)
expect_eq "an existing file is refused without --force (exit 1)" 1 "$?"
expect_contains "naming the file and --force" "$OUT" "$W/alba.lcfbak exists: give --force"
expect_eq "and is left as it was" "$SUM" "$(sha256sum <"$W/alba.lcfbak")"
OUT=$(ctl Alba backup --force "$W/alba.lcfbak")
expect_contains "--force before FILE (the timer's syntax) replaces it" "$OUT" "backup $W/alba.lcfbak:"
expect_eq "still 0600" 600 "$(stat -c %a "$W/alba.lcfbak")"
check "no temporary file is left beside it" test -z "$(find "$W" -name '.lcf-backup.*')"
mkdir "$W/rel"
OUT=$(cd "$W/rel" && "$LCCTL" -d "${DIRS[Alba]}" backup --json rel.lcfbak)
expect_eq "a relative FILE is taken from lcctl's folder" "$W/rel/rel.lcfbak" "$(jq -r .path <<<"$OUT")"
expect_eq "and --json gives the city id" "${IDS[Alba]}" "$(jq -r .city_id <<<"$OUT")"
OUT=$(ctl Alba backup "$W/no/such/folder/x.lcfbak" 2>&1)
expect_contains "a folder that does not exist is named" "$OUT" "$W/no/such/folder"

# ---- 20 records after the backup, spread to the peers ----
BEFORE=$(practices Alba)
for i in $(seq 1 20); do publish Alba "After the backup $i"; done
check "the 20 records reach Brno and Cork" wait_for 20 all_have after-the-backup-20 Brno Cork
LAST=$(ctl Alba status --json | jq .last_seq)

# ---- restore the old backup: publishing waits for every peer ----
stop_node "${DIRS[Alba]}"
# Cork is down: a peer that may hold newer records is awaited too.
stop_node "${DIRS[Cork]}"
check "lcnode --restore installs the backup and starts" start_node "${DIRS[Alba]}" --restore "$W/alba.lcfbak"
check "the store it replaced is kept" test -d "$(echo "${DIRS[Alba]}"/db.before-restore-*)"
check "status shows the restore state" restoring Alba
OUT=$(publish Alba "Too early" 2>&1; ctl Alba practice add --title "Too early" --summary "x" --language en --area 2.2 2>&1)
expect_contains "publishing is refused" "$OUT" "cannot publish now"
expect_contains "saying why" "$OUT" "restored from a backup"
expect_contains "and for how long" "$OUT" "until each of its 2 peers has reconciled"
expect_contains "and how to end the wait" "$OUT" "lcctl restore done"
OUT=$(printf '[{"title":"Imported too early","summary":"x","language":"en","kflc_areas":["2.2"]}]' >"$W/imp.json"; ctl Alba practice import "$W/imp.json" 2>&1)
expect_contains "an import is refused too" "$OUT" "cannot publish now"
check "Brno reconciles with Alba" wait_for 20 ctl_jq Alba '.restore.peers_reconciled == 1' status --json
sleep 2
check "but Alba still waits for Cork, which may hold newer records" restoring Alba
expect_contains "status names the peer it waits for" "$(ctl Alba status)" "127.0.0.1:${PORTS[Cork]}"
check "Cork restarts" start_node "${DIRS[Cork]}"
check "once every peer reconciled, the wait ends by itself" wait_for 90 not_restoring Alba
check "the 20 records made after the backup are back" has_count Alba $((BEFORE + 20))
check "the seq continues after the federation's highest" test "$(ctl Alba status --json | jq .last_seq)" -ge "$LAST"
publish Alba "After the restore"
check "publishing works again and spreads" wait_for 20 all_have after-the-restore Brno Cork
for n in Alba Brno Cork; do
	expect_eq "no fork at $n" 0 "$(forks $n)"
	expect_status "every record verifies at $n" 0 ctl $n verify
done
grep -q "each of the 2 peers reconciled since the restore began" "${DIRS[Alba]}/node.log"
expect_eq "the log says why the wait ended" 0 "$?"

# ---- compact: offline ----
OUT=$(ctl Alba compact 2>&1)
expect_eq "compact is refused while the node runs (exit 1)" 1 "$?"
expect_contains "saying the node must be stopped" "$OUT" "compacting works on a stopped node"
N=$(practices Alba)
stop_node "${DIRS[Alba]}"
OUT=$(ctl Alba compact)
expect_contains "compact on the stopped node says what it did" "$OUT" "compacted ${DIRS[Alba]}/db/data.mdb:"
check "the node starts on the compacted store" start_node "${DIRS[Alba]}"
expect_eq "with every record" "$N" "$(practices Alba)"
expect_status "which all verify" 0 ctl Alba verify
check "and not restoring (the state ended for good)" not_restoring Alba

# ---- no peer: it says so and waits; the operator ends the wait ----
city_node Dax FR
publish Dax "Lonely one"
ctl Dax backup "$W/dax.lcfbak" >/dev/null
publish Dax "Lonely two"
stop_node "${DIRS[Dax]}"
check "Dax restores" start_node "${DIRS[Dax]}" --restore "$W/dax.lcfbak"
OUT=$(publish Dax "Refused" 2>&1)
expect_contains "with no peer, publishing is refused" "$OUT" "It knows no peer"
check "the log says it waits" wait_for 5 grep -q "restore: .*It knows no peer" "${DIRS[Dax]}/node.log"
J=$(ctl Dax health --json)
expect_contains "lcctl health gives the reason" "$J" "restoring: this node was restored from a backup"
expect_eq "GET /readyz: 503 while restoring" 503 "$(curl -s -o "$W/ready.json" -w '%{http_code}' "$(http_url "${DIRS[Dax]}")/readyz")"
expect_contains "with the reason" "$(cat "$W/ready.json")" "restoring: "
stop_node "${DIRS[Dax]}"
check "Dax restarts without --restore" start_node "${DIRS[Dax]}"
check "and the restore state survived the restart" restoring Dax
OUT=$(ctl Dax restore done)
expect_contains "lcctl restore done ends the wait" "$OUT" "restore wait ended"
check "status shows it" not_restoring Dax
publish Dax "Published after done"
check "and publishing works" has_practice Dax published-after-done
OUT=$(ctl Dax restore done 2>&1)
expect_contains "restore done when not restoring says so" "$OUT" "not restoring"

# ---- damaged backups are refused before anything changes ----
cp "$W/dax.lcfbak" "$W/bad.lcfbak"
printf 'X' | dd of="$W/bad.lcfbak" bs=1 seek=5000 conv=notrunc 2>/dev/null
stop_node "${DIRS[Dax]}"
OUT=$("$LCNODE" -d "${DIRS[Dax]}" --restore "$W/bad.lcfbak" 2>&1)
expect_contains "a damaged copy is refused by its checksum" "$OUT" "does not match its checksum"
head -c 100 "$W/dax.lcfbak" >"$W/short.lcfbak"
OUT=$("$LCNODE" -d "${DIRS[Dax]}" --restore "$W/short.lcfbak" 2>&1)
expect_contains "a file that is not a backup is named" "$OUT" "$W/short.lcfbak is not an lcf backup"
OUT=$("$LCNODE" -d "${DIRS[Dax]}" --restore "$W/alba.lcfbak" 2>&1)
expect_contains "another city's backup is refused beside this city's key" "$OUT" "is a backup of city ${IDS[Alba]}"
check "Dax still starts on its own store" start_node "${DIRS[Dax]}"
check "with its records" has_practice Dax published-after-done
OUT=$("$LCNODE" -d "${DIRS[Dax]}" --restore "$W/dax.lcfbak" 2>&1)
expect_contains "restoring while the node runs is refused" "$OUT" "stop the node serving"

# ---- into a new directory: `lcctl init`, then --restore ----
stop_node "${DIRS[Dax]}"
N=$(tmpdir)/NewDax
NEWID=$(init_city "$N" Dax FR)
check "a backup restores into a directory just made by lcctl init" start_node "$N" --restore "$W/dax.lcfbak"
expect_eq "the node is the backup's city" "${IDS[Dax]}" "$(ctl_jq_val "$N" .city_id)"
check "the unused key of the init is kept aside" test -f "$N/identity.key.unused-${NEWID:0:12}"
check "and the node restores" ctl_jq_val_true "$N" .restore.active
stop_node "$N"
