#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Start-up identity checks: lcnode refuses at once, naming the file and what
# to do, a store of another city, a missing or empty store beside a key that
# has published, a key file that does not parse or does not match; --new-store
# starts an empty store on purpose, in the restore state; a store made before
# the checks is taken and recorded.
. "$(dirname "$0")/lib.sh"

# refused NAME DIR NEEDLE...: lcnode on DIR exits 1 at once, its message
# holding every NEEDLE.
refused() {
	local name=$1 dir=$2 out st n
	shift 2
	out=$(timeout 10 "$LCNODE" -d "$dir" 2>&1)
	st=$?
	expect_eq "$name: lcnode refuses to start (exit 1)" 1 "$st"
	for n in "$@"; do expect_contains "$name: the message names $n" "$out" "$n"; done
}

city_node Ames US
D=${DIRS[Ames]}
publish Ames "Ames first"
expect_eq "the published marker is written beside the key, 0600" 600 "$(stat -c %a "$D/identity.published" 2>/dev/null)"
expect_eq "and names the city" "lcf-published-v1 ${IDS[Ames]}" "$(cat "$D/identity.published")"
stop_node "$D"
check "a restart with everything in place works" start_node "$D"
stop_node "$D"

# ---- a missing or empty store beside a key that has published ----
mv "$D/db" "$D/db.saved"
refused "missing data.mdb" "$D" "$D/db/data.mdb is missing" "$D/identity.key" \
	"$D/identity.published" "--restore FILE" "--new-store"
check "and creates no store" test ! -e "$D/db/data.mdb"
mkdir -p "$D/db" && : >"$D/db/data.mdb"
refused "empty data.mdb" "$D" "$D/db/data.mdb is empty" "--new-store"
rm -rf "$D/db"
mv "$D/db.saved" "$D/db"

# ---- a key file that does not parse ----
W_KEY=$(tmpdir)/key
cp -p "$D/identity.key" "$W_KEY"
echo "not a key" >"$D/identity.key"
refused "unparsable key" "$D" "$D/identity.key is not an lcf key file" "--restore FILE"
cp -p "$W_KEY" "$D/identity.key"

# ---- one changed hex digit: another key, another city ----
KEY=$(cat "$W_KEY")
LASTD=${KEY: -1}
[ "$LASTD" = 0 ] && NEWD=1 || NEWD=0
printf '%s%s\n' "${KEY%?}" "$NEWD" >"$D/identity.key"
refused "one changed digit in identity.key" "$D" "$D/identity.key is the key of city" \
	"$D/identity.published records that this node published as city ${IDS[Ames]}" \
	"one changed digit makes another city" "Put back the key of city ${IDS[Ames]}"
# With the marker gone as well, the store still knows its city.
mv "$D/identity.published" "$D/marker.saved"
refused "changed key, marker removed" "$D" "$D/db belongs to city ${IDS[Ames]}" \
	"the key $D/identity.key is city" "--restore FILE"
mv "$D/marker.saved" "$D/identity.published"
cp -p "$W_KEY" "$D/identity.key"
check "with its own key back, the node starts" start_node "$D"
stop_node "$D"

# ---- a store of another city ----
city_node Bath GB
B=${DIRS[Bath]}
stop_node "$B"
mv "$B/db" "$B/db.own"
cp -a "$D/db" "$B/db"
refused "another city's store" "$B" "$B/db belongs to city ${IDS[Ames]}" \
	"the key $B/identity.key is city ${IDS[Bath]}"
rm -rf "$B/db"
mv "$B/db.own" "$B/db"

# ---- --new-store: an empty store on purpose, in the restore state ----
mv "$D/db" "$D/db.old"
check "--new-store starts an empty store" start_node "$D" --new-store
S=$(ctl Ames status --json)
expect_eq "in the restore state" true "$(jq -r .restore.active <<<"$S")"
expect_eq "saying why" "started on a new store" "$(jq -r .restore.reason <<<"$S")"
OUT=$(publish Ames "Too soon" 2>&1)
expect_contains "publishing waits" "$OUT" "cannot publish now: this node was started on a new store"
expect_status "the operator ends the wait" 0 ctl Ames restore done
stop_node "$D"
OUT=$("$LCNODE" -d "$D" --new-store 2>&1)
expect_contains "--new-store beside an existing store is refused" "$OUT" \
	"--new-store: $D/db/data.mdb exists: move $D/db away first"
OUT=$("$LCNODE" -d "$D" --new-store --restore x 2>&1)
expect_contains "--new-store with --restore is a usage error" "$OUT" "not both"
OUT=$("$LCNODE" -d "$D" --restore 2>&1)
expect_contains "--restore without FILE is a usage error" "$OUT" "--restore needs a FILE"

# ---- a store made before the checks (no city recorded) is taken ----
F=$(tmpdir)/Fill
init_city "$F" Fill PT >/dev/null
"$ROOT/$BUILD/lcf-fill" -n 200 -a 4 -s 3 "$F" >/dev/null || fail "lcf-fill" "could not fill the store"
check "a node starts on a store with no city recorded" start_node "$F"
check "and writes the marker (its key counts as published)" test -f "$F/identity.published"
stop_node "$F"
rm -rf "$F/db"
OUT=$("$LCNODE" -d "$F" 2>&1)
expect_contains "after which a lost store is refused" "$OUT" "$F/db/data.mdb is missing"
