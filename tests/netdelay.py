"""A slow network on loopback, for tests and the bench (CPython asyncio in a thread):

DelayProxy    TCP: every chunk is forwarded after `delay_s`, each way, in order
              (what a node sees of a broker over a congested mobile link).
NtpResponder  UDP: an SNTP server (RFC 4330 answer layout) that answers after
              `delay_s` in and `delay_s` out, with the host's clock; it can ignore
              the first requests or send garbage before the answer.

Both listen on 127.0.0.1 only, on a free port (`.port`), and stop with the context.
"""
import asyncio
import struct
import threading
import time

NTP_TO_UNIX = 2208988800
MAX_CONNECTIONS = 16


def ntp_timestamp(t):
    secs = int(t)
    return struct.pack("!II", (secs + NTP_TO_UNIX) & 0xFFFFFFFF, int((t - secs) * 2 ** 32))


def ntp_answer(request, received, sent, stratum=2):
    """The 48-byte answer to a client request: LI 0, version 4, mode 4 (server)."""
    head = struct.pack("!BBbbII4s", 0x24, stratum, 6, -20, 0, 0, b"LOCL")
    return head + ntp_timestamp(received) + request[40:48] + ntp_timestamp(received) + ntp_timestamp(sent)


class _Loop:
    """An asyncio loop in a daemon thread; start() runs `self._serve()` there."""

    def __enter__(self):
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self._serve())
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        if not ready.wait(10):
            raise RuntimeError("%s did not start" % type(self).__name__)
        return self

    def __exit__(self, *exc):
        async def shutdown():
            self._close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop)
        self.thread.join(10)
        if not self.thread.is_alive():
            self.loop.close()


class DelayProxy(_Loop):
    def __init__(self, target_port, delay_s=0.3):
        self.target_port = target_port
        self.delay_s = delay_s
        self.connections = 0

    async def _serve(self):
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    def _close(self):
        self.server.close()

    async def _client(self, reader, writer):
        if self.connections >= MAX_CONNECTIONS:
            writer.close()
            return
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer),
                                 return_exceptions=True)
        except asyncio.CancelledError:  # the proxy is closing: not an error of this connection
            pass
        finally:
            writer.close()
            up_writer.close()

    async def _pipe(self, reader, writer):
        """Forward chunks in order, each `delay_s` after it arrived."""
        queue = asyncio.Queue()

        async def send():
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if not data:
                    writer.close()
                    return
                writer.write(data)
                await writer.drain()

        sender = asyncio.ensure_future(send())
        try:
            while True:
                data = await reader.read(65536)
                queue.put_nowait((time.monotonic() + self.delay_s, data))
                if not data:
                    break
            await sender
        finally:
            sender.cancel()


class NtpResponder(_Loop, asyncio.DatagramProtocol):
    def __init__(self, delay_s=0.3, ignore_first=0, garbage_first=()):
        self.delay_s = delay_s
        self.ignore_first = ignore_first
        self.garbage_first = list(garbage_first)
        self.requests = 0

    async def _serve(self):
        self.transport, _ = await self.loop.create_datagram_endpoint(lambda: self,
                                                                     local_addr=("127.0.0.1", 0))
        self.port = self.transport.get_extra_info("sockname")[1]

    def _close(self):
        self.transport.close()

    def datagram_received(self, data, addr):
        self.requests += 1
        if self.requests <= self.ignore_first or len(data) < 48:
            return
        self.loop.call_later(self.delay_s, self._answer, data, addr)

    def _answer(self, request, addr):
        # The request has travelled delay_s; the answer leaves now and travels delay_s.
        now = time.time()
        for junk in self.garbage_first:
            self.transport.sendto(junk, addr)
        answer = ntp_answer(request, now, now)
        self.loop.call_later(self.delay_s, self.transport.sendto, answer, addr)


NODE = "tests/bench/netstall_node.py"


def stall_node(workdir, broker_port, ca, ntp_port, seconds=40, firmware=None):
    """Run tests/bench/netstall_node.py (a node with a 50 Hz sensing tick) against a TLS
    broker port and an NTP port; firmware: a directory whose app/ is imported instead.
    -> (longest gap ms, ticks, readings acked, time-sync state, connects)."""
    import json
    import os
    import subprocess

    from host_tools import mp, paths

    with open(paths.BOARDS / "unix-sim.json") as f:
        board = json.load(f)
    board["uarts"]["pm"].update(replay=str(paths.DATA / "sds011_capture_54frames.bin"), chunk=10,
                                period_ms=100)
    board["log"] = {"file": "smartlog.img"}
    cfg = {"device_id": "stall-1", "apikey": "bench", "interval": 1,
           "broker": {"host": "127.0.0.1", "port": broker_port, "tls": True, "ca": ca,
                      "server_hostname": "localhost", "timeout": 10},
           "ntp": {"server": "127.0.0.1", "port": ntp_port, "retry": 5},
           "air": {"sensors": {"sds011": {"uart": "pm"}}}}
    for name, obj in (("config.json", cfg), ("board.json", board)):
        with open(os.path.join(workdir, name), "w") as f:
            json.dump(obj, f)
    extra = [firmware] if firmware else []
    proc = subprocess.run([mp.binary(), str(paths.ROOT / NODE), "config.json", "board.json", str(seconds)],
                          cwd=workdir, env=mp.env(*extra), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=seconds + 30)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode or not lines:
        raise RuntimeError("stall node failed:\n%s%s" % (proc.stdout, proc.stderr))
    gap, ticks, acked, state, connects = lines[-1].split()
    return int(gap), int(ticks), int(acked), state, int(connects)
