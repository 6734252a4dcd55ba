"""The node against a real Mosquitto that is killed mid-stream and restarted later."""
import tempfile
import time
from datetime import datetime, timezone

from host_tools.broker import Mosquitto
from host_tools.virtualnode import VirtualNode
from tests.uplinkhelp import Collector, readings

FAST_RETRY = {"broker": {"backoff_base": 0.2, "backoff_cap": 1.0, "keepalive": 10}}


def unix(iso):
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def aq(objs):
    return [o for t, o in objs if t.endswith("-aq/attrs")]


def test_broker_restart_loses_nothing_and_keeps_order():
    store = tempfile.mkdtemp(prefix="mosq-db-")
    extra = "persistence true\npersistence_location %s/\n" % store
    with Mosquitto(extra=extra) as broker:
        col = Collector(broker.port, topic="/json/#")
        node = VirtualNode(broker.port, interval=1, period_ms=100, device_id="rs-1", apikey="k",
                           config=FAST_RETRY).start()
        try:
            before = col.drain(lambda m: len(aq(readings(m))) >= 3, timeout=20)
            broker.stop()
            down = time.time()
            time.sleep(4)  # the node keeps sensing; its readings wait in its log
            broker.start()
            up = time.time()
            after = col.drain(lambda m: any(unix(o["TimeInstant"]) > up + 2 for o in aq(readings(m))),
                              timeout=30)
        finally:
            node.stop()
            col.close()
    objs = readings(before + after)
    check_complete_and_ordered(objs)
    # The outage really was inside the stream: readings stamped while the broker
    # was down were delivered after it came back.
    during = [o for o in aq(objs) if down + 1 <= unix(o["TimeInstant"]) <= up - 1]
    assert during
    # And the Device entity reported the outage (health on change of state).
    health = [o for t, o in objs if t == "/json/k/rs-1/attrs"]
    assert any(o["uplink"] == "disconnected" and "lastError" in o for o in health)
    assert all(o["firmwareVersion"] for o in health)


def check_complete_and_ordered(objs):
    seqs = [o["seq"] for t, o in objs]
    # Every reading the node logged arrived: the sequence numbers have no gap.
    assert sorted(set(seqs)) == list(range(1, max(seqs) + 1))
    # Oldest first: a reading is new only if its number is above all seen before.
    first_seen = []
    for s in seqs:
        if s not in first_seen:
            assert not first_seen or s > max(first_seen), (s, first_seen[-3:])
            first_seen.append(s)
    # A duplicate is the very same reading again (same number, same content).
    by_seq = {}
    for t, o in objs:
        assert by_seq.setdefault(o["seq"], (t, o)) == (t, o)


def test_a_frozen_broker_is_left_and_rejoined_without_loss(broker):
    import os
    import signal

    col = Collector(broker.port, topic="/json/#")
    cfg = {"broker": {"backoff_base": 0.2, "backoff_cap": 1.0, "keepalive": 1, "timeout": 1}}
    node = VirtualNode(broker.port, interval=1, period_ms=100, device_id="fz-1", apikey="k",
                       config=cfg).start()
    try:
        before = col.drain(lambda m: len(aq(readings(m))) >= 3, timeout=20)
        os.kill(broker.proc.pid, signal.SIGSTOP)  # alive to TCP, silent to MQTT
        time.sleep(4)
        os.kill(broker.proc.pid, signal.SIGCONT)
        up = time.time()
        after = col.drain(lambda m: any(unix(o["TimeInstant"]) > up + 2 for o in aq(readings(m))),
                          timeout=30)
    finally:
        os.kill(broker.proc.pid, signal.SIGCONT)
        node.stop()
        col.close()
    objs = readings(before + after)
    check_complete_and_ordered(objs)
    health = [o for t, o in objs if t == "/json/k/fz-1/attrs"]
    assert any("connection dead" in o.get("lastError", "") or "timed out" in o.get("lastError", "")
               for o in health), health

def test_status_is_retained_online_then_offline_by_last_will(broker):
    node = VirtualNode(broker.port, interval=60, device_id="st-1", apikey="k").start()
    col = Collector(broker.port, topic="/json/k/st-1/attrs/deviceState", client_id="status-1")
    try:
        first = col.drain(lambda m: len(m) >= 1, timeout=20)
        node.proc.kill()  # power cut: no DISCONNECT, the broker sends the will
        node.proc.wait()
        will = col.drain(lambda m: len(m) >= 1, timeout=20)
    finally:
        node.stop()
        col.close()
    # JSON strings: the IoT Agent hex-encodes a payload that is not JSON (FIWARE contract).
    assert first[0][1] == b'"online"'
    assert will[0][1] == b'"offline"'
    late = Collector(broker.port, topic="/json/k/st-1/attrs/deviceState", client_id="status-2")
    retained = late.drain(lambda m: len(m) >= 1, timeout=10)
    late.close()
    assert retained == [("/json/k/st-1/attrs/deviceState", b'"offline"', True)]


DEAD_PROBE = r"""
import sys, time
from app.mqtt import Session
s = Session("ka-probe", "127.0.0.1", int(sys.argv[1]), keepalive=1)
s.connect()
pings = 0
t0 = time.ticks_ms()
while time.ticks_diff(time.ticks_ms(), t0) < 2500:  # the broker answers our pings
    s.poll(50)
    before = s.outstanding
    s.keepalive_due(time.ticks_ms())
    pings += s.outstanding > before
print("pings", pings)  # the unix port writes stdout unbuffered
sys.stdin.readline()  # the test freezes the broker now
try:
    while True:
        s.poll(50)
        s.keepalive_due(time.ticks_ms())
except OSError as e:
    print("dead", repr(e))
"""


def test_a_silent_broker_is_detected_as_a_dead_connection(broker):
    import os
    import signal
    import subprocess

    from host_tools import mp

    proc = subprocess.Popen([mp.binary(), "-c", DEAD_PROBE, str(broker.port)], env=mp.env(),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().split()
        assert line[0] == "pings" and int(line[1]) >= 2  # keepalive 1 s: a ping every half second
        os.kill(broker.proc.pid, signal.SIGSTOP)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        out = proc.stdout.readline()
    finally:
        os.kill(broker.proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait()
    assert out.startswith("dead") and "connection dead" in out


DRAIN_PROBE = r"""
import sys
from app import record
from app.memlog import MemLog
from app.mqtt import Session
from app.uplink import Uplink
log = MemLog(capacity=10000)
for i in range(1, 3001):
    if i % 500 == 0:
        log.append(b"broken record %d" % i)  # not '<key> {...}'
    else:
        log.append(record.pack("k/dr-%d" % (i // 700), b'{"TimeInstant":"2026-11-21T22:00:00Z","i":%d}' % i))
up = Uplink({}, log, window=4, max_batch=50)
s = Session("drain-probe", "127.0.0.1", int(sys.argv[1]))
s.connect()
up.attach(s)
while log.pending:
    up.step()
    s.poll(5)
s.disconnect()
print(up.acked, up.malformed, up.publishes)
"""


def test_windowed_drain_delivers_everything_in_order(broker):
    from host_tools import mp

    col = Collector(broker.port, topic="/json/#")
    out = mp.run(["-c", DRAIN_PROBE, str(broker.port)], capture_output=True, text=True, timeout=60)
    msgs = col.drain(lambda m: len(readings(m)) >= 2994, timeout=20)
    col.close()
    acked, malformed, publishes = map(int, out.stdout.split())
    assert (acked, malformed) == (2994, 6)
    objs = readings(msgs)
    assert [o["i"] for t, o in objs] == [i for i in range(1, 3001) if i % 500]
    assert all(t == "/json/k/dr-%d/attrs" % (o["i"] // 700) for t, o in objs)
    assert all(o["seq"] == o["i"] for t, o in objs)
    assert publishes < 3000 // 10  # batched: many readings per message
