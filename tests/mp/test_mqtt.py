# The MQTT session's framing and the delivery batching, under MicroPython.
import json

from app import record
from app.backoff import Backoff
from app.memlog import MemLog
from app.mqtt import HEAD_ROOM, Session, put_length
from app.timesync import TimeSync
from app.uplink import Uplink


def encode_length(n):
    buf = bytearray(8)
    start = put_length(buf, 8, n)
    return bytes(buf[start:])


def test_remaining_length_matches_the_mqtt_3_1_1_table():
    # MQTT 3.1.1 section 2.2.3, Table 2.4, and its worked example 321 -> C1 02.
    assert encode_length(0) == b"\x00"
    assert encode_length(127) == b"\x7f"
    assert encode_length(128) == b"\x80\x01"
    assert encode_length(321) == b"\xc1\x02"
    assert encode_length(16383) == b"\xff\x7f"
    assert encode_length(16384) == b"\x80\x80\x01"
    assert encode_length(2097151) == b"\xff\xff\x7f"
    assert encode_length(2097152) == b"\x80\x80\x80\x01"
    assert encode_length(268435455) == b"\xff\xff\xff\x7f"


class Wire:
    """A socket stand-in that records what umqtt.simple writes (the reference framing)."""

    def __init__(self):
        self.data = bytearray()

    def write(self, b, n=None):
        self.data += b[:n] if n is not None else b


class Sent(Exception):
    pass


def stop():
    raise Sent()


def reference_publish(topic, msg, qos, retain, pid):
    from umqtt.simple import MQTTClient

    c = MQTTClient("x", "127.0.0.1")
    c.sock = Wire()
    c.pid = pid - 1
    if qos:
        c.wait_msg = stop  # written; do not wait for a PUBACK
    try:
        c.publish(topic, msg, retain, qos)
    except Sent:
        pass
    return bytes(c.sock.data)


def test_publish_frame_equals_umqtt_simple_bytes():
    s = Session("x", "127.0.0.1")
    for topic, msg, qos, retain in ((b"/json/k/d/attrs", b'{"a":1}', 1, False),
                                   (b"/json/k/d/attrs/deviceState", b"online", 1, True),
                                   (b"t", b"x" * 300, 0, False)):
        start = HEAD_ROOM + 4 + len(topic)
        buf = bytearray(start + len(msg))
        buf[start:] = msg
        pid, pkt = s.frame_publish(buf, start, len(buf), topic, qos, retain)
        assert bytes(pkt) == reference_publish(topic, msg, qos, retain, pid)


def test_connect_packet_with_will_and_credentials_per_spec():
    s = Session("dev-1", "127.0.0.1", user="dev-1", password="pw", keepalive=60)
    s.set_last_will("st", "offline", retain=True, qos=1)
    pkt = bytes(s._connect_packet(True))
    # MQTT 3.1.1 3.1: fixed header 0x10, "MQTT" level 4, flags user|password|will retain|
    # will QoS 1|will|clean = 0xC0|0x20|0x08|0x04|0x02, keepalive 60, then the strings.
    body = (b"\x00\x04MQTT\x04" + bytes([0xC0 | 0x20 | 0x08 | 0x04 | 0x02]) + b"\x00\x3c"
            + b"\x00\x05dev-1" + b"\x00\x02st" + b"\x00\x07offline" + b"\x00\x05dev-1" + b"\x00\x02pw")
    assert pkt == b"\x10" + bytes([len(body)]) + body


def test_backoff_is_full_jitter_under_an_exponential_cap():
    draws = [0.999999, 0.5, 0.0, 0.999999, 0.999999, 0.999999, 0.999999, 0.25]
    b = Backoff(base=2, cap=30, random=lambda: draws.pop(0))
    delays = [b.next() for _ in range(8)]
    ceilings = [2, 4, 8, 16, 30, 30, 30, 30]  # min(cap, base * 2**attempt)
    assert abs(delays[0] - 2 * 0.999999) < 1e-6
    assert delays[1] == 2.0 and delays[2] == 0.0
    assert abs(delays[3] - 16 * 0.999999) < 1e-5
    for d, c in zip(delays, ceilings):
        assert 0 <= d <= c
    assert delays[7] == 7.5
    b.reset()
    assert b.ceiling() == 2


def test_backoff_never_waits_longer_than_the_node_has_been_away():
    b = Backoff(base=1, cap=300, random=lambda: 0.999999)
    for _ in range(8):  # eight quick failures: the exponent alone would allow 256 s
        b.next(0.5)
    assert b.ceiling() == 256
    assert b.ceiling(10.0) == 10.0  # away 10 s: back within about 10 s of the broker's return
    assert abs(b.next(10.0) - 10 * 0.999999) < 1e-5
    assert b.ceiling(0.2) == 1  # never below base
    assert b.ceiling(1000.0) == 300  # nor above cap


class Collect:
    def __init__(self):
        self.msgs = []

    def publish(self, topic, payload):
        self.msgs.append((topic, json.loads(payload)))


def reading(ts, pm25):
    return ('{"TimeInstant":"%s","pm25":%s}' % (ts, pm25)).encode()


def test_batches_per_device_oldest_first_with_sequence_numbers():
    log = MemLog()
    for i in range(3):
        log.append(record.pack("k/n-aq", reading("2026-11-21T22:0%d:00Z" % i, 3 + i)))
    log.append(record.pack("k/n", b'{"TimeInstant":"2026-11-21T22:03:00Z","uptime":5}'))
    log.append(record.pack("k/n-aq", b"{}"))
    out = Collect()
    up = Uplink({}, log, out)
    assert up.pump() == 5
    # A device's readings are gathered across the interleaving: one message each.
    assert out.msgs == [
        ("/json/k/n-aq/attrs", [{"seq": 1, "TimeInstant": "2026-11-21T22:00:00Z", "pm25": 3},
                                {"seq": 2, "TimeInstant": "2026-11-21T22:01:00Z", "pm25": 4},
                                {"seq": 3, "TimeInstant": "2026-11-21T22:02:00Z", "pm25": 5},
                                {"seq": 5}]),
        ("/json/k/n/attrs", {"seq": 4, "TimeInstant": "2026-11-21T22:03:00Z", "uptime": 5}),
    ]
    assert log.pending == 0


def test_topic_prefix_from_config():
    log = MemLog()
    log.append(record.pack("k/n-aq", reading("2026-11-21T22:00:00Z", 1)))
    out = Collect()
    Uplink({"broker": {"topic_prefix": ""}}, log, out).pump()
    assert out.msgs[0][0] == "/k/n-aq/attrs"  # what the agent's AMQP binding matches


def test_batch_respects_count_and_size_limits():
    log = MemLog()
    for i in range(10):
        log.append(record.pack("k/n-aq", reading("2026-11-21T22:00:%02dZ" % i, i)))
    out = Collect()
    Uplink({}, log, out, max_batch=4).pump()
    assert [len(m[1]) for m in out.msgs] == [4, 4, 2]
    assert [o["seq"] for m in out.msgs for o in m[1]] == list(range(1, 11))


def test_unset_clock_stamps_are_held_then_corrected_or_flagged():
    log = MemLog()
    old = log.append(record.pack("k/n-aq", reading("2000-01-01T00:00:30Z", 1)))  # an earlier boot
    clock = TimeSync(synced=False, boot_seq=log.next_seq)
    log.append(record.pack("k/n-aq", reading("2000-01-01T00:01:00Z", 2)))
    out = Collect()
    up = Uplink({}, log, out, clock=clock)
    assert up.pump() == 0 and log.pending == 2  # time unknown: nothing leaves
    # At local 2000-01-01T00:02:00Z (946684920) NTP says 2026-11-21T22:00:00Z (1795298400).
    clock.synced_at(946684920, 1795298400)
    assert up.pump() == 2
    first, second = out.msgs[0][1]
    assert first["seq"] == old and first["timeUnsynced"] is True
    # 00:01:00 local is 60 s before the sync: 21:59:00Z.
    assert second["TimeInstant"] == "2026-11-21T21:59:00Z" and "timeUnsynced" not in second


def test_unset_clock_corrects_both_ends_of_an_interval():
    log = MemLog()
    clock = TimeSync(synced=False, boot_seq=log.next_seq)
    log.append(record.pack("k/n-l1", b'{"TimeInstant":"2000-01-01T00:01:00Z",'
                           b'"dateObserved":"2000-01-01T00:00:00Z/2000-01-01T00:01:00Z","intensity":3}'))
    out = Collect()
    up = Uplink({}, log, out, clock=clock)
    clock.synced_at(946684920, 1795298400)  # local 00:02:00 is 2026-11-21T22:00:00Z
    assert up.pump() == 1
    o = out.msgs[0][1]
    assert o["TimeInstant"] == "2026-11-21T21:59:00Z"
    assert o["dateObserved"] == "2026-11-21T21:58:00Z/2026-11-21T21:59:00Z"


def test_published_stamps_never_go_backwards_per_device():
    log = MemLog()
    log.append(record.pack("k/a", reading("2026-11-21T22:05:00Z", 1)))
    log.append(record.pack("k/b", reading("2026-11-21T21:00:00Z", 2)))  # another device: fine
    log.append(record.pack("k/a", reading("2026-11-21T22:04:00Z", 3)))  # clock stepped back
    log.append(record.pack("k/a", reading("2026-11-21T22:06:00Z", 4)))
    out = Collect()
    up = Uplink({}, log, out, max_batch=2)
    up.pump()
    assert out.msgs[1][1]["TimeInstant"] == "2026-11-21T21:00:00Z"
    late = out.msgs[0][1][1]
    assert late["TimeInstant"] == "2026-11-21T22:05:00Z" and late["timeAdjusted"] is True
    assert late["pm25"] == 3
    # The floor holds across messages: seq 4 went in a message of its own.
    assert out.msgs[2][1]["TimeInstant"] == "2026-11-21T22:06:00Z" and "timeAdjusted" not in out.msgs[2][1]


def packet(kind, body):
    return bytes([kind]) + encode_length(len(body)) + body


def publish_packet(topic, msg, qos, pid=0):
    body = bytes([len(topic) >> 8, len(topic) & 255]) + topic
    if qos:
        body += bytes([pid >> 8, pid & 255])
    return packet(0x30 | qos << 1, body + msg)


def test_reader_handles_any_split_of_the_stream_and_skips_oversized_commands():
    stream = (packet(0x40, b"\x00\x07")  # PUBACK 7
              + publish_packet(b"/k/d/cmd", b'{"ping":1}', 1, 300)
              + publish_packet(b"/k/d/cmd", b"x" * 3000, 1, 301)  # bigger than the 1 KB buffer
              + publish_packet(b"/k/d/cmd", b'{"ping":2}', 0)
              + packet(0xD0, b"")  # PINGRESP
              + packet(0x90, b"\x00\x02\x01")  # SUBACK, granted QoS 1
              + packet(0x40, b"\x01\x00"))  # PUBACK 256
    for chunk in (1, 2, 3, 7, 64, 500, 1024):
        s = Session("x", "127.0.0.1", rx_size=1024)
        s.sock = Wire()
        got = []
        s.on_message = lambda t, m: got.append((t, m))
        s.on_puback = lambda pid: got.append(pid)
        s.outstanding = 4
        pos = 0
        while pos < len(stream):
            n = min(chunk, len(s._rx) - s._rn, len(stream) - pos)
            s._rx[s._rn:s._rn + n] = stream[pos:pos + n]
            s._rn += n
            pos += n
            s._parse()
        assert got == [7, (b"/k/d/cmd", b'{"ping":1}'), (b"/k/d/cmd", None),
                       (b"/k/d/cmd", b'{"ping":2}'), 256], (chunk, got)
        # Both QoS 1 commands were acknowledged (PUBACK 300 and 301), the big one too.
        assert bytes(s.sock.data) == b"\x40\x02\x01\x2c\x40\x02\x01\x2d", chunk
        assert s.outstanding == 0 and s._rn == 0 and s._skip == 0


def test_a_malformed_log_record_is_skipped_not_blocking():
    log = MemLog()
    log.append(b"garbage-without-a-key")
    log.append(record.pack("k/n-aq", reading("2026-11-21T22:00:00Z", 1)))
    log.append(record.pack("k/n-aq", b'{"TimeInstant":"2026-11-21T22:01:00Z","pm25":2'))  # cut short
    log.append(record.pack("k/n-aq", reading("2026-11-21T22:02:00Z", 3)))
    log.append(b"k/n-aq ")
    out = Collect()
    up = Uplink({}, log, out)
    up.pump()
    assert out.msgs == [("/json/k/n-aq/attrs", [{"seq": 2, "TimeInstant": "2026-11-21T22:00:00Z", "pm25": 1},
                                                {"seq": 4, "TimeInstant": "2026-11-21T22:02:00Z", "pm25": 3}])]
    assert up.malformed == 3 and log.pending == 0
