# Per-entity delivery: one unacknowledged message per device, oldest first, the
# log freed only in order. A session stand-in records what would go on the wire.
import json

from app import record
from app.memlog import MemLog
from app.uplink import HORIZON, Uplink


class Wire:
    """Stands in for app.mqtt.Session: numbers publishes, keeps them until acked."""

    def __init__(self):
        self.pid = 0
        self.sent = []  # (pid, topic, payload object)
        self.on_puback = None

    def frame_publish(self, buf, start, end, topic, qos=1, retain=False):
        self.pid += 1
        return self.pid, (topic, json.loads(bytes(buf[start:end])))

    def send_publish(self, pkt, qos):
        self.sent.append((self.pid,) + pkt)

    def ack(self, pid):
        self.on_puback(pid)


def seqs(payload):
    return [o["seq"] for o in (payload if isinstance(payload, list) else [payload])]


def mixed_log(pattern, n):
    log = MemLog(capacity=100000)
    for i in range(n):
        dev = pattern[i % len(pattern)]
        log.append(record.pack("k/" + dev, b'{"TimeInstant":"2026-11-21T22:00:00Z","i":%d}' % i))
    return log


def test_one_message_per_device_in_flight():
    log = mixed_log("abcab", 10)  # seq 1 a, 2 b, 3 c, 4 a, 5 b, 6 a, ...
    w = Wire()
    up = Uplink({}, log, window=8)
    up.attach(w)
    assert up.step() == 3
    assert [(t, seqs(p)) for _, t, p in w.sent] == [
        ("/json/k/a/attrs", [1, 4, 6, 9]), ("/json/k/b/attrs", [2, 5, 7, 10]), ("/json/k/c/attrs", [3, 8])]
    assert up.step() == 0  # every device has its message in flight
    log.append(record.pack("k/b", b'{"TimeInstant":"2026-11-21T22:00:01Z"}'))  # seq 11
    assert up.step() == 0  # b's newer reading waits for b's PUBACK
    w.ack(2)
    assert up.step() == 1 and (w.sent[-1][1], seqs(w.sent[-1][2])) == ("/json/k/b/attrs", [11])


def test_the_window_bounds_devices_at_once():
    log = mixed_log("abcde", 10)
    w = Wire()
    up = Uplink({}, log, window=2)
    up.attach(w)
    assert up.step() == 2 and [t for _, t, _ in w.sent] == ["/json/k/a/attrs", "/json/k/b/attrs"]
    w.ack(1)
    assert up.step() == 1 and w.sent[-1][1] == "/json/k/c/attrs"


def test_acks_out_of_order_free_the_log_in_order_and_survive_a_reconnect():
    log = mixed_log("ab", 6)  # a: 1 3 5, b: 2 4 6
    w = Wire()
    up = Uplink({}, log, max_batch=2)
    up.attach(w)
    up.step()
    assert [seqs(p) for _, _, p in w.sent] == [[1, 3], [2, 4]]
    w.ack(2)  # b's message first: the log still holds seq 1, so nothing is freed
    assert log.pending == 6 and up.acked == 2
    up.step()  # b goes on with seq 6
    assert seqs(w.sent[-1][2]) == [6]
    up.detach()  # connection lost: a's [1, 3] and b's [6] were never acknowledged
    w2 = Wire()
    up.attach(w2)
    up.step()
    # Sent again, oldest first per device; b's acknowledged 2 and 4 are not repeated.
    assert sorted((t, seqs(p)) for _, t, p in w2.sent) == [
        ("/json/k/a/attrs", [1, 3]), ("/json/k/b/attrs", [6])]
    w2.ack(1)
    assert log.pending == 2  # 1..4 done: freed; 5 and 6 remain
    w2.ack(2)
    up.step()
    w2.ack(3)
    assert log.pending == 0 and up.idle


def test_a_device_past_the_horizon_still_gets_everything():
    # a rare device (health) between long runs of another: gathering is bounded by
    # the horizon, so it takes several messages, each oldest first.
    log = MemLog(capacity=100000)
    for i in range(3 * HORIZON):
        dev = "rare" if i % (HORIZON // 2) == 0 else "busy"
        log.append(record.pack("k/" + dev, b'{"i":%d}' % i))
    out = []

    class T:
        def publish(self, topic, payload):
            out.append((topic, json.loads(payload)))

    up = Uplink({}, log, T())
    assert up.pump() == 3 * HORIZON and log.pending == 0
    for dev in ("rare", "busy"):
        got = [s for t, p in out if t == "/json/k/%s/attrs" % dev for s in seqs(p)]
        assert got == sorted(got) and len(got) == len(set(got))
    assert len([1 for t, p in out if t == "/json/k/rare/attrs" for s in seqs(p)]) == 6


def test_readings_the_log_dropped_are_skipped():
    log = MemLog(capacity=10)
    for i in range(3000):  # the log keeps the newest 10
        log.append(record.pack("k/a" if i % 2 else "k/b", b'{"i":%d}' % i))
    w = Wire()
    up = Uplink({}, log)
    up.attach(w)
    up.step()
    assert sorted(s for _, _, p in w.sent for s in seqs(p)) == list(range(2991, 3001))
    w.ack(1)
    w.ack(2)
    assert log.pending == 0 and up.step() == 0


def test_waiting_for_pubacks_does_not_reread_the_log():
    log = mixed_log("ab", 200)
    reads = [0]
    read = log.read

    def counting(*a):
        reads[0] += 1
        return read(*a)

    log.read = counting
    w = Wire()
    up = Uplink({}, log, max_batch=8)
    up.attach(w)
    up.step()
    before = reads[0]
    for _ in range(100):  # the link polls while PUBACKs are on their way
        assert up.step() == 0
    assert reads[0] == before
