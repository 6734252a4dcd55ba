# OPS243 speed reports, against real sensor output (velocity.report fixtures).
from app.board_unix import FeedUART
from ops243 import OPS243

DATA = "tests/data/traffic/"


def fixture_rows():
    rows = []
    with open(DATA + "ops243_raw_speed_readings_fixture.csv") as f:
        for line in f:
            if line.strip():
                rows.append([float(x) for x in line.split(",")])
    return rows


def test_time_magnitude_speed_lines_decode_to_the_recorded_values():
    rows = fixture_rows()
    uart = FeedUART(1024)
    with open(DATA + "ops243_raw_speed_readings_fixture.csv", "rb") as f:
        uart.feed(f.read())
    r = OPS243(uart)
    got = []
    while r.read():
        got.append((r.uptime, r.magnitude, r.speed))
    assert len(got) == len(rows) == 9
    for (t, m, v), row in zip(got, rows):
        assert (t, m, v) == (row[0], row[1], row[2])


def test_object_report_gives_its_peak_speed():
    uart = FeedUART(1024)
    with open(DATA + "ops243_object_report_fixture.jsonl", "rb") as f:
        uart.feed(f.read())
    r = OPS243(uart, unit="mph")  # object reports are in m/s whatever the unit setting
    assert r.read() and r.speed == 13.39


def test_other_report_forms_and_garbage():
    uart = FeedUART()
    r = OPS243(uart, unit="mps")
    uart.feed(b'{"Units":"km-per-hr"}\r\n\xff\xfe\n"kmph",36.0\r\n{"speed":-0.58, "direction":"inbound"}\n2.5\n')
    assert r.read() and abs(r.speed - 10.0) < 1e-9  # 36 km/h in m/s
    assert r.read() and abs(r.speed - (-0.58 / 3.6)) < 1e-9  # the unit was switched to km/h
    assert r.read() and abs(r.speed - 2.5 / 3.6) < 1e-9
    assert not r.read()
    assert r.other == 2
    r.command(b"OM")
    assert bytes(uart.written) == b"OM"
