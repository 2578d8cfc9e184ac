#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Which system calls lcnode makes that lcnode.service's SystemCallFilter= would
# refuse. Runs one traced node (strace -f) through start-up under the notify
# protocol, peering and reconciliation with a second node, publishing and an
# import (the pool and the writer threads), HTTP requests, the admin socket,
# verify, a backup (when lcctl has the command), SIGHUP and a clean stop;
# prints every system call made, with its count, and marks those outside the
# filter, and the files it writes outside its data directory. Exits 1 if
# any call or file is outside.
# Usage: tools/check-syscalls.sh (after make; needs strace, python3, curl).
# Not part of make test: ptrace is often not allowed in CI containers.
# shellcheck source=tests/blackbox/lib.sh
. "$(dirname "$0")/../tests/blackbox/lib.sh"

UNIT=$ROOT/config/systemd/lcnode.service
W=$(tmpdir)
# The filter as the unit says it: what its allow lines name, less what its
# ~ lines name, each group expanded by systemd-analyze's own tables.
allowed=$(python3 - "$UNIT" <<'PY'
import subprocess, sys
groups, cur = {}, None
for line in subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True,
                           text=True, check=True).stdout.splitlines():
    s = line.strip()
    if not s or s.startswith("#"):
        continue
    if not line.startswith(" "):
        cur = s
        groups[cur] = []
    else:
        groups[cur].append(s)
def expand(name, seen=()):
    if not name.startswith("@"):
        return {name}
    out = set()
    for m in groups.get(name, []):
        if m not in seen:
            out |= expand(m, seen + (name,))
    return out
allow, deny = set(), set()
for line in open(sys.argv[1]):
    if line.startswith("SystemCallFilter="):
        v = line.split("=", 1)[1].strip()
        if v.startswith("~"):
            for n in v[1:].split():
                deny |= expand(n)
        else:
            for n in v.split():
                allow |= expand(n)
print("\n".join(sorted(allow - deny)))
PY
)
[ -n "$allowed" ] || { echo "cannot read the filter of $UNIT"; exit 1; }

PA=$(free_port)
IDS[A]=$(init_city "$W/a" Alpha SE "$PA")
DIRS[A]=$W/a
python3 "$ROOT/tests/blackbox/notify_socket.py" "$W/notify.sock" "$W/notify.out" &
_nodes+=($!)
wait_for 5 test -S "$W/notify.sock"
: >"$W/stderr"
NOTIFY_SOCKET=$W/notify.sock WATCHDOG_USEC=1000000 \
    JOURNAL_STREAM=$(stat -c '%d:%i' "$W/stderr") \
    strace -f -qq -o "$W/trace" "$LCNODE" -d "$W/a" 2>>"$W/stderr" &
STRACE=$!
_nodes+=("$STRACE")
wait_for 20 "$LCCTL" -d "$W/a" status || { echo "the traced node did not start"; exit 1; }
APID=$(cat "$W/a/lcnode.lock" 2>/dev/null | tr -dc 0-9)
[ -n "$APID" ] || APID=$(pgrep -P "$STRACE" lcnode)
city_node B FI
publish B "A practice from B"
ctl B peer add "127.0.0.1:$PA" >/dev/null
wait_for 20 connected B A
ctl A practice import "$SAMPLES/timisoara-practices.SAMPLE.json" >/dev/null
publish A "A practice from A"
ctl A peer sync >/dev/null 2>&1
T=$(http_url "$W/a")
for p in /api/v1/practices /api/v1/status /metrics /healthz /readyz / /api/v1/indicators/summary; do
	curl -s -o /dev/null "$T$p"
done
timeout 2 curl -s -N -o /dev/null "$T/api/v1/events"
ctl A verify >/dev/null 2>&1
# A hot backup (the node writes it), where this lcctl has the command.
if "$LCCTL" backup -h >/dev/null 2>&1; then
	ctl A backup "$W/a.lcbackup" >/dev/null || echo "# lcctl backup failed"
fi
ctl A status >/dev/null
kill -HUP "$APID"
sleep 3
kill -TERM "$APID"
wait "$STRACE"
cp "$W/trace" "${LCF_TRACE_KEEP:-/dev/null}" 2>/dev/null
stop_node "${DIRS[B]}"

used=$(sed -nE 's/^[0-9]+ +(<\.\.\. )?([a-z0-9_]+)[( ].*/\2/p' "$W/trace" | sort | uniq -c | sort -k2)
bad=0
while read -r count name; do
	if grep -qx "$name" <<<"$allowed"; then
		printf '  %-24s %8d\n' "$name" "$count"
	else
		printf '  %-24s %8d   NOT ALLOWED by %s\n' "$name" "$count" "${UNIT#"$ROOT"/}"
		bad=1
	fi
done <<<"$used"
echo "$(wc -l <<<"$used") system calls made; notify: $(grep -c . "$W/notify.out") fields received"

# ProtectSystem=strict: the node may write in its data directory (and the
# backup's folder) only.
written=$(grep -E 'openat\(.*O_(WRONLY|RDWR|CREAT)|(mkdir|rename|unlink|chmod|truncate)\(|bind\(.*AF_UNIX' "$W/trace" |
    grep -oE '"/[^"]*"' | tr -d '"' | sort -u)
outside=$(grep -v -e "^$W/a/" -e "^$W/a.lcbackup" <<<"$written" | grep .)
if [ -n "$outside" ]; then
	echo "written outside the data directory (ProtectSystem=strict refuses it):"
	sed 's/^/  /' <<<"$outside"
	bad=1
else
	echo "$(grep -c . <<<"$written") paths written, all in the data directory"
fi
exit "$bad"
