#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The admin socket is bounded: part of a request and then silence is timed
# out; many clients each holding part of a large request cannot make the
# node hold more than a few tens of MiB; clients that do not read their
# answers cannot either, and are closed; each bound hit is logged and
# counted (lcf_admin_closed_total). The node keeps answering lcctl
# throughout. Memory is the node's resident anonymous memory (RssAnon: the
# store's pages are a file mapping, not counted).
. "$(dirname "$0")/lib.sh"

D=$(tmpdir)/city
init_city "$D" Bounded SE >/dev/null
"$ROOT/$BUILD/lcf-fill" -n 60000 -a 500 "$D" >"$D/fill.out" 2>&1 ||
	fail "lcf-fill" "$(tail -2 "$D/fill.out")"
start_node "$D" || exit 1
PID=$NODE_PID
SOCK=$D/admin.sock
URL=$(http_url "$D")
anon_kib() { awk '/^RssAnon:/ {print $2}' "/proc/$PID/status"; }
closed() { curl -s "$URL/metrics" | awk -v r="$1" '$1 == "lcf_admin_closed_total{reason=\"" r "\"}" {print $2}'; }

# clients.py MODE COUNT: COUNT clients on the admin socket doing MODE,
# printing what happened to them once the node closed them or after 45 s.
cat >"$D/clients.py" <<'EOF'
import select, socket, struct, sys, threading, time
sock, mode, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
STATUS = b"\x08\x01\x52\x00"
def view(name, args):
    body = b"\x0a" + bytes([len(name)]) + name + b"\x12" + bytes([len(args)]) + args + b"\x18\x01"
    return b"\x08\x01\xc2\x02" + bytes([len(body)]) + body
cs = []
for _ in range(count):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    if mode == "part":            # 10 bytes of a 1,000-byte frame
        s.sendall(struct.pack(">I", 1000) + b"\x08" * 10)
    elif mode == "large":         # 900 KiB of a 2 MiB frame, as the node takes it
        data = struct.pack(">I", 2 << 20) + b"\x08" * (900 << 10)
        threading.Thread(target=lambda s=s, d=data: s.sendall(d), daemon=True).start()
    elif mode == "unread":        # asks for a large answer, never reads it
        req = view(b"coverage", b'{"period":"1991"}')
        s.sendall(struct.pack(">I", len(req)) + req)
    cs.append(s)
if mode == "large":
    time.sleep(3)
    print("sent", flush=True)
start, closed = time.time(), 0
if mode == "unread":
    # Never read: the node's end closing shows as a hang-up (POLLRDHUP),
    # data or not; wait for all, two minutes at most (under AddressSanitizer
    # the 300 answers alone take a minute to work out).
    p, left = select.poll(), {}
    for s in cs:
        p.register(s, select.POLLRDHUP | select.POLLHUP)
        left[s.fileno()] = s
    while left and time.time() - start < 120:
        for fd, ev in p.poll(1000):
            if fd in left and ev & (select.POLLRDHUP | select.POLLHUP):
                p.unregister(fd)
                del left[fd]
                closed += 1
else:
    for s in cs:
        s.settimeout(max(0.1, 45 - (time.time() - start)))
        try:
            while s.recv(65536):
                pass
            closed += 1
        except ConnectionResetError:
            closed += 1
        except socket.timeout:
            pass
print("closed %d after %.0f s" % (closed, time.time() - start), flush=True)
EOF
clients() { python3 "$D/clients.py" "$SOCK" "$@"; }
quiet_status() { "$LCCTL" -d "$D" status >/dev/null; }

"$LCCTL" -d "$D" coverage --period 1991 --json >"$D/answer.json"
echo "# one coverage answer: $(wc -c <"$D/answer.json") bytes"
base=$(anon_kib)

# --- part of a request, then silence ---
out=$(clients part 3)
expect_contains "3 clients that send part of a request and stop are closed" "$out" "closed 3"
t=$(sed -n 's/.* after \([0-9]*\) s/\1/p' <<<"$out")
check "after the 10 s allowed, not much later ($t s)" [ "$t" -ge 9 -a "$t" -le 14 ]
expect_eq "counted as part_frame" 3 "$(closed part_frame)"
expect_contains "and logged" "$(cat "$D/node.log")" "it sent part of a request and nothing more for 10 s"

# --- 60 clients each holding 900 KiB of a 2 MiB request: 53 MiB offered ---
clients large 60 >"$D/large.out" &
cpid=$!
wait_for 20 grep -q sent "$D/large.out"
peak=$(anon_kib)
check "while they hold, lcctl still gets its answer" quiet_status
grown=$(( (peak - base) / 1024 ))
# Under AddressSanitizer freed memory waits in its quarantine (256 MiB): the
# node's own size is not what it measures.
asan() { nm "$LCNODE" 2>/dev/null | grep -q __asan_init; }
if asan; then
	echo "# the RssAnon bounds are not checked: lcnode is built with AddressSanitizer" >&2
else
	check "the node holds ${grown} MiB more for 60 clients offering 53 MiB (at most 32 MiB of small frames and one large one: under 48)" [ "$grown" -lt 48 ]
fi
wait "$cpid"
# Those that waited for room read theirs once the first were timed out.
expect_contains "all 60 are timed out in the end" "$(cat "$D/large.out")" "closed 60"
expect_eq "each counted once, as part_frame or no_room" 60 \
	"$(( $(closed no_room) + $(closed part_frame) - 3 ))"

# --- 300 clients that ask for a large answer and do not read it ---
base=$(anon_kib)
clients unread 300 >"$D/unread.out" &
cpid=$!
sleep 5
peak=$(anon_kib)
grown=$(( (peak - base) / 1024 ))
size=$(( $(wc -c <"$D/answer.json") * 300 / 1048576 ))
# At most 64 MiB queued and the answer being written, and what the
# allocator keeps of the answers freed among those still held (the node
# trims it once a second): under 200 MiB, where 300 MiB were asked for
# (without the bound all of it is queued, and held).
asan || check "300 unread answers of ${size} MiB in all: the node holds ${grown} MiB more (under 200)" [ "$grown" -lt 200 ]
check "lcctl still gets its answer" quiet_status
wait "$cpid"
n=$(sed -n 's/^closed \([0-9]*\) .*/\1/p' "$D/unread.out")
expect_eq "clients that never read are all closed, none reading a byte" 300 "$n"
check "counted as unread_answer" [ "$(closed unread_answer)" -ge 1 ]
expect_contains "and logged" "$(cat "$D/node.log")" "it took none of its answer for 30 s"
check "the node still serves" quiet_status
