"""A node whose clock is not set at boot (as an ESP32 at 2000-01-01) and whose NTP server
(a real UDP responder) answers only after a few tries: its early readings reach the broker
with true times."""
import json
import os
import subprocess

from host_tools import mp, paths
from tests.netdelay import NtpResponder
from tests.uplinkhelp import Collector, readings

NODE = r"""
import sys, json, time
import asyncio
from app import run
from app.board_unix import Board
from app.commands import ConfigStore
from app.memlog import MemLog

LOST = 26 * 365 * 86400  # how far behind the unset clock is


class UnsetClockBoard(Board):
    offset = -LOST

    def now(self):
        return super().now() + self.offset

    def clock_set(self):
        return self.offset == 0

    def set_clock(self, unix_s, ms=0):
        self.offset = unix_s - super().now()


with open(sys.argv[2]) as f:
    board = UnsetClockBoard(json.load(f))
cfg_path = sys.argv[1]
with open(cfg_path) as f:
    cfg = json.load(f)
shell = run.Shell(cfg, board, MemLog(), ConfigStore(cfg_path))


async def both():
    asyncio.create_task(run.sense(shell, 100))
    await run.network(shell, time.ticks_ms())

asyncio.run(both())
"""


def test_readings_before_the_first_ntp_answer_get_true_times(broker, tmp_path):
    with open(paths.BOARDS / "unix-sim.json") as f:
        board = json.load(f)
    board["uarts"]["pm"].update(replay=str(paths.DATA / "sds011_capture_54frames.bin"), chunk=10,
                                period_ms=100)
    cfg = {"device_id": "ts-1", "apikey": "k", "interval": 1,
           "broker": {"host": "127.0.0.1", "port": broker.port},
           "ntp": {"server": "127.0.0.1", "retry": 1}, "air": {"sensors": {"sds011": {"uart": "pm"}}}}
    ntp = NtpResponder(0.05, ignore_first=3).__enter__()
    cfg["ntp"]["port"] = ntp.port
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    (tmp_path / "board.json").write_text(json.dumps(board))
    (tmp_path / "node.py").write_text(NODE)
    col = Collector(broker.port, topic="/json/#")
    proc = subprocess.Popen([mp.binary(), str(tmp_path / "node.py"), str(tmp_path / "config.json"),
                             str(tmp_path / "board.json")], env=mp.env(), cwd=str(tmp_path),
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        msgs = col.drain(lambda m: any(o.get("timeSync") == "ntp" for t, o in readings(m[-1:]))
                         and len(readings(m)) >= 6, timeout=30)
        msgs += col.drain(lambda m: len(readings(m)) >= 3, timeout=10)
    finally:
        proc.terminate()
        proc.wait()
        col.close()
        ntp.__exit__(None, None, None)
    assert ntp.requests >= 4  # three went unanswered
    objs = [o for t, o in readings(msgs)]
    health = [o for t, o in readings(msgs) if t == "/json/k/ts-1/attrs"]
    # The boot health reading was taken before NTP answered, and still carries a true time.
    assert health[0]["timeSync"] == "unsynced"
    assert any(o["timeSync"] == "ntp" for o in health)
    assert all(0 <= o["uptime"] < 60 for o in health)  # the clock's jump is not uptime
    for o in objs:
        assert o["TimeInstant"] >= "2026-01-01", o  # nothing from the unset clock's era
        assert "timeUnsynced" not in o
    stamps = {}
    for t, o in readings(msgs):
        assert o["TimeInstant"] >= stamps.get(t, ""), (t, o)  # never backwards per device
        stamps[t] = o["TimeInstant"]
    assert sorted(o["seq"] for o in objs) == list(range(1, len(objs) + 1))
    os.remove(tmp_path / "node.py")
