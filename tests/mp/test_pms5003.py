# Plantower driver under MicroPython, against real captures (PyPMS fixtures,
# decoded by PyPMS) and a field-corrupted stream (PyPMS issue 19).
from mptest import read_hexdump

from app.board_unix import FeedUART
from pms5003 import PMS5003

DATA = "tests/data/air/"


def _csv(name):
    rows = []
    with open(DATA + name + ".csv") as f:
        head = [h.strip() for h in f.readline().split(",")]
        for line in f:
            rows.append(dict(zip(head, (float(x) for x in line.split(",")))))
    return rows


def _decode_all(name, **kw):
    frames = read_hexdump(DATA + name + ".hexdump")
    uart = FeedUART()
    d = PMS5003(uart, **kw)
    out = []
    for frame in frames:
        uart.feed(frame)
        assert d.read()
        assert not d.read()
        out.append((d.pm1, d.pm25, d.pm10, d.pm1_cf, d.pm25_cf, d.pm10_cf, list(d.counts),
                    d.temperature, d.humidity))
    assert d.errors == 0
    return out


def test_pmsx003_fixture_frames_decode_to_pypms_values():
    rows = _csv("PMSx003")
    got = _decode_all("PMSx003")
    assert len(got) == len(rows) == 10
    for g, r in zip(got, rows):
        assert g[0:6] == (r["pm01"], r["pm25"], r["pm10"], r["raw01"], r["raw25"], r["raw10"])
        # PyPMS gives counts per cm3; the sensor counts per 0.1 L.
        names = ("n0_3", "n0_5", "n1_0", "n2_5", "n5_0", "n10_0")
        assert g[6] == [round(r[k] * 100) for k in names]
        assert g[7] is None


def test_pms5003t_fixture_frames_decode_to_pypms_values():
    rows = _csv("PMS5003T")
    got = _decode_all("PMS5003T", with_climate=True)
    assert len(got) == len(rows) == 10
    for g, r in zip(got, rows):
        assert g[0:3] == (r["pm01"], r["pm25"], r["pm10"])
        assert g[6][0:4] == [round(r[k] * 100) for k in ("n0_3", "n0_5", "n1_0", "n2_5")]
        assert g[7] == round(r["temp"] * 10) and g[8] == round(r["rhum"] * 10)


def test_pms3003_fixture_frames_decode_to_pypms_values():
    rows = _csv("PMS3003")
    got = _decode_all("PMS3003")
    assert len(got) == len(rows) == 10
    for g, r in zip(got, rows):
        assert g[0:6] == (r["pm01"], r["pm25"], r["pm10"], r["raw01"], r["raw25"], r["raw10"])


def test_field_stream_recovers_the_frame_with_a_stray_zero_and_rejects_the_truncated_one():
    # SOURCES.md (collector's check): line noise; a frame with 0x00 between 42 and 4D that is
    # checksum-valid without it (PM2.5 28, 20.2 degC, 22.7 %RH); a truncated zero-filled frame.
    with open(DATA + "pms5003t_pypms_issue19_stream.bin", "rb") as f:
        data = f.read()
    d = PMS5003(FeedUART(), with_climate=True)
    got = []
    for b in data:
        if d.feed(bytes((b,))):
            got.append((d.pm25, d.temperature, d.humidity))
    assert got == [(28, 202, 227)]
    assert d.repairs == 1 and d.errors > 0


def test_whole_frames_are_found_after_garbage_and_a_damaged_frame():
    frames = read_hexdump(DATA + "PMSx003.hexdump")
    damaged = bytearray(frames[0])
    damaged[12] ^= 0x10
    d = PMS5003(FeedUART())
    n = 0
    for chunk in (b"\x42\x42\x4d\x00", bytes(damaged[:20]), bytes(damaged), frames[1], b"BM\x00\x1c", frames[2]):
        for b in chunk:
            n += d.feed(bytes((b,)))
    assert n == 2 and d.frames == 2


def test_commands_follow_the_data_manual():
    uart = FeedUART()
    d = PMS5003(uart)
    d.passive()
    d.request()
    d.active()
    d.sleep()
    d.wake()
    # Passive, passive read, active, sleep, wake: "42 4D cmd 00 dd" and the 16-bit sum.
    assert bytes(uart.written) == bytes.fromhex(
        "424de1000001" "70" "424de2000001" "71" "424de1000101" "71" "424de4000001" "73" "424de4000101" "74")


class Pin:
    def __init__(self):
        self.v = None

    def value(self, v):
        self.v = v


def test_set_pin_sleeps_and_wakes_without_commands():
    uart = FeedUART()
    pin = Pin()
    d = PMS5003(uart, set_pin=pin)
    d.sleep()
    assert pin.v == 0
    d.wake()
    assert pin.v == 1
    assert not uart.written
