#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Opens keep-alive HTTP connections, one request each, and holds them idle.

Usage: idle_conns.py HOST PORT PATH COUNT STATEFILE

Each connection sends one GET of PATH and reads the whole answer; then all of
them stay open, silent. When they are all open, "open N" goes to STATEFILE;
the script then waits until STATEFILE.stop exists, checks every connection
is still open (the server closed none of them) and writes "open N" and
"still N" to STATEFILE before it closes them and exits.
"""
import os
import resource
import select
import socket
import sys
import time


def read_answer(s):
    """Reads one HTTP/1.1 answer with a Content-Length; its status code."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the headers")
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the body")
        body += chunk
    return status


def still_open(s):
    """True when the peer has not closed s (nothing to read, no EOF)."""
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return True
    try:
        return len(s.recv(1, socket.MSG_DONTWAIT)) > 0
    except BlockingIOError:
        return True
    except OSError:
        return False


def main():
    host, port, path, count, state = sys.argv[1], int(sys.argv[2]), \
        sys.argv[3], int(sys.argv[4]), sys.argv[5]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 64), hard))
    req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (path, host, port)).encode()
    socks, bad = [], 0
    for _ in range(count):
        s = socket.create_connection((host, port), timeout=30)
        s.sendall(req)
        try:
            if read_answer(s) != 200:
                bad += 1
        except (OSError, ValueError):
            bad += 1
        socks.append(s)
    with open(state + ".tmp", "w") as f:
        f.write("open %d\nbad %d\n" % (len(socks), bad))
    os.rename(state + ".tmp", state)
    while not os.path.exists(state + ".stop"):
        time.sleep(0.05)
    still = sum(1 for s in socks if still_open(s))
    with open(state + ".tmp", "w") as f:
        f.write("open %d\nbad %d\nstill %d\n" % (len(socks), bad, still))
    os.rename(state + ".tmp", state)
    for s in socks:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
