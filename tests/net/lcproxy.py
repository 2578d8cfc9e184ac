#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# A TCP relay for network tests: delays every byte by a fixed time each way
# (this kernel has no tc netem), and on SIGUSR1 turns into a black hole (and
# back on the next SIGUSR1) that swallows what both sides send, closes
# included, as a path that went dead does.
#
# Usage: lcproxy.py LISTEN_HOST:PORT TARGET_HOST:PORT [--delay MS]
# While a black hole it also stops listening, so new connects are refused.
# Prints "ready" on stdout once it listens.
import argparse
import asyncio
import signal
import sys


def hostport(s):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


class Relay:
    def __init__(self, listen, target, delay_ms):
        self.listen = listen
        self.target = target
        self.delay = delay_ms / 1000.0
        self.hole = False
        self.server = None

    async def pump(self, reader, writer):
        """Copies reader to writer, each chunk sent `delay` after it arrived,
        in order; swallows what arrives while a black hole."""
        loop = asyncio.get_running_loop()
        queue = asyncio.Queue()
        # A dead path carries no FIN either: an end that closes while the
        # hole lasts is not told to the other, which must find out itself.
        end = {"close": True}

        async def sender():
            try:
                while True:
                    due, data = await queue.get()
                    if data is None:
                        break
                    wait = due - loop.time()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                if end["close"]:
                    writer.close()

        task = asyncio.create_task(sender())
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if not self.hole:
                    queue.put_nowait((loop.time() + self.delay, data))
        except (ConnectionError, OSError):
            pass
        end["close"] = not self.hole
        queue.put_nowait((0, None))
        await task

    async def client(self, creader, cwriter):
        try:
            treader, twriter = await asyncio.open_connection(*self.target)
        except OSError:
            cwriter.close()
            return
        await asyncio.gather(self.pump(creader, twriter),
                             self.pump(treader, cwriter))

    async def start_listening(self):
        self.server = await asyncio.start_server(self.client, *self.listen,
                                                 reuse_address=True)

    def toggle(self):
        self.hole = not self.hole
        if self.hole and self.server is not None:
            self.server.close()
            self.server = None
        elif not self.hole:
            asyncio.get_running_loop().create_task(self.start_listening())

    async def run(self):
        await self.start_listening()
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1,
                                                      self.toggle)
        print("ready", flush=True)
        await asyncio.Event().wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("listen")
    ap.add_argument("target")
    ap.add_argument("--delay", type=int, default=0, help="ms each way")
    a = ap.parse_args()
    relay = Relay(hostport(a.listen), hostport(a.target), a.delay)
    try:
        asyncio.run(relay.run())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
