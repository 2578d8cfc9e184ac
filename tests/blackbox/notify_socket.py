#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Plays systemd's side of the notify protocol for tests/blackbox/notify.sh.
"""Usage: notify_socket.py SOCKET OUT [HOST:PORT ...]

Binds SOCKET (AF_UNIX, datagrams, as systemd's NOTIFY_SOCKET) and writes
each field of each message it receives to OUT as "SECONDS FIELD", SECONDS
since the start, flushed at once. On READY=1 it connects at once to every
HOST:PORT given and writes "SECONDS CONNECT HOST:PORT ok" (or the error):
what READY=1 promised. Stops 1 s after STOPPING=1, or when killed.
"""
import os
import signal
import socket
import sys
import time


def try_connect(hostport):
    host, port = hostport.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return "ok"
    except OSError as e:
        return e.strerror or str(e)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, out_path, ports = sys.argv[1], sys.argv[2], sys.argv[3:]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    # Killed, it still removes its socket, so that the next one can bind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        return serve(sock, out_path, ports)
    finally:
        os.unlink(path)


def serve(sock, out_path, ports):
    start = time.monotonic()
    deadline = None
    with open(out_path, "a", encoding="utf-8") as out:
        while deadline is None or time.monotonic() < deadline:
            sock.settimeout(None if deadline is None
                            else max(0.01, deadline - time.monotonic()))
            try:
                data = sock.recv(65536)
            except socket.timeout:
                break
            now = time.monotonic() - start
            fields = data.decode("utf-8", "replace").split("\n")
            for f in fields:
                if f:
                    out.write(f"{now:.3f} {f}\n")
            if "READY=1" in fields:
                for hp in ports:
                    out.write(f"{time.monotonic() - start:.3f} CONNECT {hp} "
                              f"{try_connect(hp)}\n")
            if "STOPPING=1" in fields:
                deadline = time.monotonic() + 1
            out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
