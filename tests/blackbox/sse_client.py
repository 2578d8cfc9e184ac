#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A small Server-Sent Events client for the black-box tests (stdlib only).

Usage: sse_client.py [options] URL

Prints one JSON line per thing received: first {"status": N, "headers": {..}},
then {"id", "event", "data"} per event (data parsed as JSON), {"comment": ...}
per comment line, and last {"end": WHY, "events": N} where WHY is "count"
(--count reached), "idle" (--idle seconds without an event), "timeout",
"final" (the server ended the stream), "cut" (the connection closed or was
reset in the middle of the stream) or "status" (not 200).

Options:
  -H 'Name: value'   a request header (repeatable)
  --count N          stop after N events
  --idle S           stop after S seconds without an event
  --timeout S        stop after S seconds in all (default 60)
  --rcvbuf BYTES     the socket's receive buffer, set before connecting
  --stall-file PATH  after the headers, read nothing until PATH exists, then
                     read on (a client that does not read, for a while)
"""
import argparse
import json
import os
import socket
import sys
import time
import urllib.parse


class Done(Exception):
    """Enough was read."""


class Cut(Exception):
    """The connection ended in the middle of the stream."""


class Reader:
    def __init__(self, sock, deadline):
        self.sock = sock
        self.buf = b""
        self.deadline = deadline

    def more(self, until):
        left = min(until, self.deadline) - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.sock.settimeout(left)
        try:
            b = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError
        except (ConnectionResetError, BrokenPipeError):
            raise Cut
        if not b:
            raise Cut
        self.buf += b

    def line(self, until):
        while b"\r\n" not in self.buf:
            self.more(until)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exact(self, n, until):
        while len(self.buf) < n:
            self.more(until)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def chunks(r, chunked, until_fn):
    """Yields the body's bytes as they come; returns at the final chunk."""
    if not chunked:
        while True:
            if r.buf:
                b, r.buf = r.buf, b""
                yield b
            r.more(until_fn())
    while True:
        size = int(r.line(until_fn()).split(b";")[0], 16)
        if size == 0:
            return
        yield r.exact(size, until_fn())
        if r.exact(2, until_fn()) != b"\r\n":
            raise Cut


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("-H", action="append", default=[])
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--idle", type=float, default=0)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--rcvbuf", type=int, default=0)
    ap.add_argument("--stall-file")
    a = ap.parse_args()

    u = urllib.parse.urlsplit(a.url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if a.rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    sock.connect((u.hostname, u.port or 80))
    target = u.path + ("?" + u.query if u.query else "")
    req = "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n" % (
        target, u.netloc)
    for h in a.H:
        req += h + "\r\n"
    sock.sendall((req + "\r\n").encode())

    start = time.monotonic()
    r = Reader(sock, start + a.timeout)
    last_event = [start]

    def until():
        return last_event[0] + a.idle if a.idle else r.deadline

    nevents = 0
    why = "timeout"
    try:
        status = int(r.line(r.deadline).split(b" ")[1])
        headers = {}
        while True:
            line = r.line(r.deadline)
            if not line:
                break
            k, v = line.decode().split(":", 1)
            headers[k.strip().lower()] = v.strip()
        emit({"status": status, "headers": headers})
        if status != 200:
            why = "status"
            raise Done
        if a.stall_file:
            while not os.path.exists(a.stall_file):
                if time.monotonic() > r.deadline:
                    raise TimeoutError
                time.sleep(0.05)
            last_event[0] = time.monotonic()
        chunked = "chunked" in headers.get("transfer-encoding", "")
        text = b""
        ev = {}
        why = "final"
        for b in chunks(r, chunked, until):
            text += b
            while b"\n" in text:
                line, text = text.split(b"\n", 1)
                line = line.decode()
                if line == "":
                    if "event" in ev or "data" in ev:
                        d = ev.get("data")
                        emit({"id": ev.get("id"), "event": ev.get("event"),
                              "data": json.loads(d) if d else None})
                        nevents += 1
                        last_event[0] = time.monotonic()
                        if a.count and nevents >= a.count:
                            why = "count"
                            raise Done
                    ev = {}
                elif line.startswith(":"):
                    emit({"comment": line[1:].strip()})
                else:
                    k, _, v = line.partition(":")
                    ev[k] = v[1:] if v.startswith(" ") else v
    except Done:
        pass
    except TimeoutError:
        why = "idle" if a.idle and time.monotonic() < r.deadline else "timeout"
    except Cut:
        why = "cut"
    emit({"end": why, "events": nevents})
    sock.close()


if __name__ == "__main__":
    main()
