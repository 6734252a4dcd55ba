# Runs under the MicroPython unix port (started by host_tools/fleetsim/run.py):
#   micropython nodes_mp.py SPEC.json
# Many virtual nodes in one process, each the node's own Link and Uplink
# (firmware/app) over its own MQTT connection, with its own config (device id,
# login, client id) and a RAM log.  Each node logs one recorded reading every
# `interval_s` (its phase random) until `produce_until` (or the host's stop file),
# then the process runs until every log is empty, `drain_s` after the stop, or `end`
# (Unix seconds, the host's clock).
# Nothing here is deployed: it only gives the link another reconnect policy when the
# spec asks for the fixed-interval baseline.
# stdout, for the host:
#   S <t> <connected> <nodes> <pending> <oldest pending logged at, or 0> <failures> <connects> <produced>
#   F <device id> <produced> <acknowledged up to> <dropped>
import json
import os
import random
import sys
import time

from app import console, fiware, record
from app.isotime import iso
from app.link import Link
from app.memlog import MemLog
from app.uplink import Uplink


class Quiet:
    def write(self, s):
        pass


console.stream = Quiet()  # hundreds of nodes saying "uplink: ..." would drown the status lines


class HostBoard:
    """What the link asks of a board; the host's network and clock."""
    NTP_SERVER = None
    cause = "power-on"  # the region boots together, as after a power cut (run.py: boot peak)

    def network_up(self, cfg):
        return True

    def wifi_up(self):
        return True

    def now(self):
        return int(time.time())

    def set_clock(self, unix_s, ms=0):
        pass

    def reboot(self):
        raise SystemExit("reboot requested")


class SyncedClock:
    synced = True


class NoCommands:
    def handle(self, payload):
        return ()


class FixedInterval:
    """The baseline: retry every `seconds` whatever happened (umqtt.robust's 2 s)."""

    def __init__(self, seconds):
        self.base = self.cap = seconds
        self.attempt = 0

    def first(self):
        return 0  # umqtt.robust connects at once after a boot

    def next(self, away=None):
        self.attempt += 1
        return self.base

    def reset(self):
        self.attempt = 0


class TimedLog(MemLog):
    """A MemLog that remembers when each reading was logged, for the host's drain check."""

    def __init__(self, capacity):
        super().__init__(capacity)
        self.times = {}  # seq -> Unix time logged, while pending
        self.acked_to = 0

    def append_at(self, payload, t):
        seq = self.append(payload)
        self.times[seq] = t
        return seq

    def ack(self, seq):
        super().ack(seq)
        while self.acked_to < seq:
            self.acked_to += 1
            self.times.pop(self.acked_to, None)

    def oldest(self):
        return self.times.get(self.acked_to + 1, 0)


class SimNode:
    def __init__(self, cfg, spec, t0):
        self.cfg = cfg
        self.log = TimedLog(spec.get("log_capacity", 20000))
        self.uplink = Uplink(cfg, self.log, window=cfg["broker"].get("window", 8))
        fixed = FixedInterval(spec.get("fixed_s", 2)) if spec["policy"] == "fixed" else None
        self.link = Link(cfg, HostBoard(), self.uplink, NoCommands(), SyncedClock(), backoff=fixed)
        self.key = fiware.key(cfg, "air", cfg["device_id"] + "-aq")
        self.next_reading = t0 + random.random() * spec["interval_s"]
        self.row = random.getrandbits(16)
        self.due = time.ticks_ms()


def reading(row, t):
    pm10, pm25 = row
    ts = iso(int(t))
    return ('{"TimeInstant":"%s","dateObserved":"%s","pm10":%s,"pm25":%s}' % (ts, ts, pm10, pm25)).encode()


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    rows = spec["readings"]
    interval = spec["interval_s"]
    t0 = time.time()
    nodes = [SimNode(cfg, spec, t0) for cfg in spec["nodes"]]
    produce_until = spec["produce_until"]
    end = spec["end"]
    every = spec.get("status_every", 0.5)
    next_status = t0
    produced = 0
    while True:
        t = time.time()
        if t >= end:
            break
        ms_now = time.ticks_ms()
        soonest = 50
        for n in nodes:
            if t >= n.next_reading and t < produce_until:
                n.log.append_at(record.pack(n.key, reading(rows[n.row % len(rows)], t)), t)
                n.row += 1
                n.next_reading += interval
                produced += 1
            wait = time.ticks_diff(n.due, ms_now)
            if wait > 0:
                soonest = min(soonest, wait)
                continue
            ms = n.link.step()
            # Connected and idle (20 ms): PUBACKs and pings can wait 100 ms here, so
            # that hundreds of idle nodes do not spin a core.
            ms = ms if ms < 20 else min(max(ms, 100), 250)
            n.due = time.ticks_add(ms_now, ms)
            soonest = min(soonest, ms)
        if t >= next_status:
            next_status = t + every
            if t < produce_until and stopped(spec["stop_file"]):
                produce_until = t
                end = min(end, t + spec.get("drain_s", 60))  # then report what is still pending
            status(nodes, t, produced)
            if t >= produce_until and all(n.log.pending == 0 and n.link.connected for n in nodes):
                break
        if soonest > 0:
            time.sleep_ms(soonest)
    status(nodes, time.time(), produced)
    for n in nodes:
        print("F", n.cfg["device_id"], n.log.next_seq - 1, n.log.acked_to, n.log.dropped)


def stopped(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def status(nodes, t, produced):
    connected = pending = failures = connects = 0
    oldest = 0
    for n in nodes:
        link = n.link
        connected += link.connected
        pending += n.log.pending
        failures += link.failures
        connects += link.connects
        o = n.log.oldest()
        if o and (not oldest or o < oldest):
            oldest = o
    print("S %.3f %d %d %d %.3f %d %d %d" % (t, connected, len(nodes), pending, oldest, failures,
                                             connects, produced))


main()
