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


def _field_vectors():
    import json
    from binascii import unhexlify
    with open(DATA + "sds011_field_vectors.json") as f:
        vs = json.load(f)["vectors"]
    return [(v, unhexlify(v["hex"].replace(" ", ""))) for v in vs]


def test_field_corrupted_vectors_are_rejected_or_recovered_as_described():
    # Each vector says, from the datasheet rules, whether it is one valid frame
    # (with its decoding) or must be rejected; a stream lists its frames.
    vectors = _field_vectors()
    assert len(vectors) == 9
    for v, data in vectors:
        d = SDS011(FeedUART())
        got = []
        for b in data:
            if d.feed(bytes((b,))):
                got.append((d.pm25, d.pm10, d.device_id))
        if v.get("expected_as_single_frame") == "VALID":
            dec = v["decoded"]
            want = [(round(dec["pm25_ugm3"] * 10), round(dec["pm10_ugm3"] * 10), int(dec["device_id"], 16))]
        elif v.get("expected_as_single_frame") == "REJECT":
            want = []
        else:
            want = [(round(e["decoded"]["pm25_ugm3"] * 10), round(e["decoded"]["pm10_ugm3"] * 10),
                     int(e["decoded"]["device_id"], 16)) for e in v["expected_frames"] if e["valid"]]
        assert got == want, (v["id"], got, want)


def test_query_mode_and_replies_follow_the_datasheet_examples():
    # Laser Dust Sensor Control Protocol V1.3, worked examples for device A160.
    uart = FeedUART()
    d = SDS011(uart)
    d.set_mode(1)  # 1 = query
    d.query()
    d.ask_firmware()
    # The driver reads ids as frames carry them (low byte first): "A1 60" is 0x60A1.
    d.set_id(0x01A0, device_id=0x60A1)
    w = bytes(uart.written)
    assert w[0:19] == bytes.fromhex("aab4020101" + "00" * 10 + "ffff02ab")
    assert w[19:38] == bytes.fromhex("aab404" + "00" * 12 + "ffff02ab")
    assert w[38:57] == bytes.fromhex("aab407" + "00" * 12 + "ffff05ab")
    assert w[57:76] == bytes.fromhex("aab405" + "00" * 10 + "a001" + "a160" + "a7ab")
    # Replies: set query mode, sleep, firmware 15-07-10; none is a measurement.
    assert not d.feed(bytes.fromhex("aac5020101 00 a160 05ab".replace(" ", "")))
    assert d.mode == 1
    assert not d.feed(bytes.fromhex("aac5060100 00 a160 08ab".replace(" ", "")))
    assert d.working is False
    assert not d.feed(bytes.fromhex("aac5070f070a a160 28ab".replace(" ", "")))
    assert d.firmware == (2015, 7, 10) and d.device_id == 0x60A1
    # The data frame answering a query is an ordinary measurement.
    assert d.feed(bytes.fromhex("aac0d4043a0aa1601dab"))
    assert (d.pm25, d.pm10) == (0x04D4, 0x0A3A)
