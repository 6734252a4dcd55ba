# SPS30 driver under MicroPython against PyPMS's real capture and decoding.
from mptest import read_csv_numbers, read_hexdump

from app.board_unix import FeedUART
from sps30 import SPS30, hundredths

DATA = "tests/data/air/"
COLS = ("pm01", "pm25", "pm04", "pm10", "n0_5", "n1_0", "n2_5", "n4_0", "n10_0", "diam")


def test_capture_decodes_to_pypms_values_through_byte_stuffing():
    frames = read_hexdump(DATA + "SPS30.hexdump")
    rows = [r[1:] for r in read_csv_numbers(DATA + "SPS30.csv")]  # without the time column
    assert len(frames) == len(rows) == 10
    assert sum(1 for fr in frames if b"\x7d" in fr) == 6  # SOURCES.md: 6 frames are stuffed
    uart = FeedUART()
    d = SPS30(uart)
    for frame, row in zip(frames, rows):
        uart.feed(frame)
        assert d.read()
        for k, (got, want) in enumerate(zip(d.values, row)):
            # PyPMS prints PM and size with 1 decimal, counts with 2.
            tol = 0.0101 if 4 <= k <= 8 else 0.0501
            assert abs(got / 100 - want) <= tol, (COLS[k], got, want)
    assert d.errors == 0 and d.frames == 10


def test_float_bits_to_hundredths():
    assert hundredths(bytes.fromhex("3f800000"), 0) == 100  # 1.0
    assert hundredths(bytes.fromhex("c0490fdb"), 0) == -314  # -pi
    assert hundredths(bytes.fromhex("00000000"), 0) == 0
    assert hundredths(bytes.fromhex("461c4000"), 0) == 1000000  # 10000.0


def test_damaged_frame_is_refused_and_the_next_one_read():
    frames = read_hexdump(DATA + "SPS30.hexdump")
    bad = bytearray(frames[0])
    bad[10] ^= 0x01
    d = SPS30(FeedUART())
    assert not d.feed(b"\x00\x13" + bytes(bad))
    assert d.feed(frames[1])
    assert d.frames == 1 and d.errors >= 2


def test_commands_are_framed_checksummed_and_stuffed():
    uart = FeedUART()
    d = SPS30(uart)
    d.start()
    d.request()
    # Datasheet examples: start measurement 7E 00 00 02 01 03 F9 7E; read 7E 00 03 00 FC 7E.
    assert bytes(uart.written) == bytes.fromhex("7e0000020103f97e" "7e000300fc7e")
    uart.written = bytearray()
    d.command(0x11)  # checksum ~(0x11) = 0xEE; the command byte 0x11 itself is stuffed
    assert bytes(uart.written) == bytes.fromhex("7e007d3100ee7e")
