# Run under the MicroPython unix port by host_netstall.py and tests/test_netstall.py:
# argv = config path, board path, seconds.  A whole node (app.run's Shell and its
# network task) with a sensing tick every 20 ms (50 Hz, a magnetometer's rate)
# that records the longest gap between two ticks, until the clock is synced by
# NTP and 3 readings are acknowledged (or the time is up).
# Prints "<longest gap ms> <ticks> <readings acked> <time-sync state> <connects>".
import json
import socket
import struct
import sys
import time

import asyncio
from app import run
from app.board_unix import Board
from app.commands import ConfigStore
from app.memlog import MemLog

PERIOD_MS = 20
WANT_ACKED = 3


class BenchBoard(Board):
    def sync_time(self, server):
        """What the blocking path asked of the board (board_esp32 before the NTP exchange
        was the link's): ntptime.settime(), which waits in recv up to its 1 s timeout."""
        ntp = cfg.get("ntp") or {}
        addr = socket.getaddrinfo(server, ntp.get("port", 123))[0][-1]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.settimeout(1)
            q = bytearray(48)
            q[0] = 0x1B
            s.sendto(q, addr)
            msg = s.recv(48)
        finally:
            s.close()
        before = self.now()
        struct.unpack("!I", msg[40:44])  # ntptime then sets the RTC from this
        return before, self.now()


with open(sys.argv[1]) as f:
    cfg = json.load(f)
with open(sys.argv[2]) as f:
    board = BenchBoard(json.load(f))
limit_ms = int(sys.argv[3]) * 1000
shell = run.Shell(cfg, board, MemLog(), ConfigStore(sys.argv[1]))
worst = [0, 0]  # longest gap, ticks
slowest = [0, None]  # the network task's longest step (ms) and what the link was doing


def timed(step):
    def run_step():
        t = time.ticks_ms()
        s = shell.link.session
        phase = s and getattr(s, "_phase", None)
        ms = step()
        took = time.ticks_diff(time.ticks_ms(), t)
        if took > slowest[0]:
            slowest[0] = took
            slowest[1] = "phase %s, connected %s" % (phase, s and s.connected)
        return ms
    return run_step


shell.link.step = timed(shell.link.step)


async def sense():
    last = time.ticks_ms()
    while True:
        now = time.ticks_ms()
        worst[0] = max(worst[0], time.ticks_diff(now, last))
        worst[1] += 1
        last = now
        shell.sense(board.now(), now)
        await asyncio.sleep_ms(PERIOD_MS)


async def main():
    start = time.ticks_ms()
    asyncio.create_task(sense())
    asyncio.create_task(run.network(shell, start))
    while time.ticks_diff(time.ticks_ms(), start) < limit_ms:
        if shell.clock.state == "ntp" and shell.uplink.acked >= WANT_ACKED:
            break
        await asyncio.sleep_ms(50)
    link = shell.link
    print(worst[0], worst[1], shell.uplink.acked, shell.clock.state, link.connects)
    print("longest link step %d ms (%s)" % tuple(slowest), file=sys.stderr)
    if link.last_error:
        print("last error:", link.last_error, file=sys.stderr)


asyncio.run(main())
