# SDS011 driver under MicroPython, against real captures.
from mptest import read_hexdump

from app.board_unix import FeedUART
from sds011 import SDS011

DATA = "tests/data/air/"


def test_pypms_fixture_frames_decode_to_pypms_values():
    # PyPMS's own decoding of the author's SDS011 is the independent reference.
    frames = read_hexdump(DATA + "SDS01x.hexdump")
    expected = []
    with open(DATA + "SDS01x.csv") as f:
        f.readline()
        for line in f:
            _, pm25, pm10 = line.split(",")
            expected.append((float(pm25), float(pm10)))
    assert len(frames) == len(expected) == 10
    uart = FeedUART()
    d = SDS011(uart)
    for frame, (pm25, pm10) in zip(frames, expected):
        uart.feed(frame)
        assert d.read()
        assert d.pm25 == round(pm25 * 10) and d.pm10 == round(pm10 * 10)
        assert not d.read()
    assert d.device_id == 0xD958


def test_contiguous_capture_yields_54_measurements():
    with open(DATA + "sds011_capture_54frames.bin", "rb") as f:
        data = f.read()
    uart = FeedUART(1024)
    uart.feed(data)
    d = SDS011(uart)
    n = 0
    while d.read():
        n += 1
        assert 31 <= d.pm25 <= 34 and 34 <= d.pm10 <= 44  # SOURCES.md: 3.1-3.4, 3.4-4.4
    assert n == 54
    assert d.errors == 0 and d.device_id == 0x5070


def test_resynchronises_after_garbage_and_a_broken_frame():
    good = bytes.fromhex("aac0e2004001e994a0ab")  # PM2.5 22.6, PM10 32.0
    broken = bytes.fromhex("aac0e2004001e994a1ab")  # checksum off by one
    d = SDS011(FeedUART())
    assert not d.feed(b"\x98\xe6\x00\xaa\x12" + broken)
    assert d.feed(b"\xab\xaa" + good)
    assert (d.pm25, d.pm10) == (226, 320)
    assert d.errors > 0


def test_header_inside_a_damaged_frame_is_found():
    good = bytes.fromhex("aac0e2004001e994a0ab")
    d = SDS011(FeedUART())
    # A frame cut short by a new header: AA C0 + 3 bytes, then a whole frame.
    assert d.feed(bytes.fromhex("aac02c00") + good)
    assert (d.pm25, d.pm10) == (226, 320)


def test_sleep_command_bytes_follow_the_datasheet():
    # Laser Dust Sensor Control Protocol V1.3, "set sleep": checksum 0x05.
    uart = FeedUART()
    SDS011(uart).sleep()
    assert bytes(uart.written) == bytes.fromhex("aab40601" + "00" * 11 + "ffff05ab")
