# Per-lane traffic flow: presence pairs (count, occupancy, speed), detector
# health flags, interval boundaries.
import json

from app import rec_lane, traffic
from app.isotime import unix
from app.lane import Lane
from presence import EdgeRing
from mptest import expanded, readings

T0 = unix(2026, 11, 21, 22, 0, 0)
# The node's time is a pair: whole Unix seconds and a millisecond tick; here the
# tick is ms after T0.


def report(lane, t, interval, ms):
    """The lane's reading as published (interval ending at Unix second t, tick ms)."""
    return expanded(rec_lane, lane.key, lane.report(t, interval, ms))


def test_two_loops_4_m_apart_give_count_occupancy_and_speed():
    lane = Lane(1, "k/n-l1")
    lane.begin(T0, 0)
    a, b = EdgeRing(16), EdgeRing(16)
    pair = traffic.PresencePair(lane, [a, b], 4.0)
    # A car at 20 m/s (72 km/h), 5 m long: over loop A for 0.25 s... edges in us ticks.
    for i, v in enumerate((20.0, 10.0)):
        t0 = 2_000_000 * i
        a.push(t0, 1)
        b.push(t0 + int(4.0 / v * 1e6), 1)
        a.push(t0 + int(5.0 / v * 1e6), 0)
        b.push(t0 + int(9.0 / v * 1e6), 0)
    now = 10_000_000  # the poll happens 10 s after the first edge
    pair.poll(T0 + 10, 10_000, now)
    obj = report(lane, T0 + 60, 60, 60_000)
    assert obj["intensity"] == 2
    assert abs(obj["averageVehicleSpeed"] - (72 + 36) / 2) < 0.06
    # Over loop A for 0.25 s + 0.5 s of the 60 s interval.
    assert abs(obj["occupancy"] - 0.75 / 60) < 1e-4
    assert obj["dateObservedFrom"] == "2026-11-21T22:00:00Z" and obj["dataQuality"] == []


def test_a_vehicle_over_an_interval_boundary_splits_its_occupancy():
    lane = Lane(2, "k")
    lane.begin(T0, 0)
    lane.live = True
    lane.on(T0 + 50, 50_000)
    first = report(lane, T0 + 60, 60, 60_000)
    lane.off(T0 + 75, 75_000)
    second = report(lane, T0 + 120, 60, 120_000)
    assert (first["intensity"], second["intensity"]) == (1, 0)
    assert abs(first["occupancy"] - 10 / 60) < 1e-4 and abs(second["occupancy"] - 15 / 60) < 1e-4


def test_a_detector_on_without_end_is_stuck_and_still_published():
    lane = Lane(1, "k", stuck_on=180)
    lane.begin(T0, 0)
    lane.live = True
    lane.on(T0 + 10, 10_000)
    flags = [report(lane, T0 + 60 * k, 60, 60_000 * k)["dataQuality"] for k in range(1, 6)]
    assert flags == [[], [], [], ["detector-stuck-on"], ["detector-stuck-on"]]


def test_silence_is_judged_against_the_lanes_history():
    busy = Lane(1, "k", dead_after=3600, min_quiet=600)
    busy.begin(T0, 0)
    busy.live = True
    t = T0
    for k in range(6):  # 60 vehicles every 5 min: 0.2 vehicles/s
        for i in range(60):
            busy.on(t + 5 * i, (t - T0 + 5 * i) * 1000)
            busy.off(t + 5 * i + 1, (t - T0 + 5 * i + 1) * 1000)
        t += 300
        assert busy.report(t, 300, (t - T0) * 1000) is not None
    # Then nothing after 4 s before the end: at 0.2/s, more than 10 min of silence
    # is beyond belief (min_quiet bounds it).
    flags = []
    for k in range(3):
        t += 300
        flags.append(report(busy, t, 300, (t - T0) * 1000)["dataQuality"])
    assert flags == [[], ["detector-dead"], ["detector-dead"]]
    quiet = Lane(2, "k", dead_after=3600, min_quiet=600)  # never saw a vehicle
    quiet.begin(T0, 0)
    quiet.live = True
    quiet.last_vehicle = T0
    got = [report(quiet, T0 + 300 * k, 300, 300_000 * k)["dataQuality"] for k in range(1, 15)]
    assert got.count(["detector-dead"]) == 2  # only after the hour: 65 and 70 min


def test_aggregates_and_bad_events_through_the_pipeline():
    out = []
    cfg = {"device_id": "st", "apikey": "k", "interval": 60, "traffic": {"lanes": []}}
    p = traffic.build(cfg, None, readings(out, keyed=True))
    assert p.event(T0 + 21, {"agg": [[3, 0.05, 100.0], None, [0, 0.0, None]], "period": 30}, 21_000)
    assert p.event(T0 + 51, {"agg": [[5, 0.15, 90.0]], "period": 30}, 51_000)
    assert not p.event(T0 + 52, {"something": "else"}, 52_000)
    p.close(T0 + 52)
    keys = [k for k, _ in out]
    assert keys == ["k/st-l1", "k/st-l3"]
    l1 = out[0][1]
    assert l1["intensity"] == 8 and abs(l1["occupancy"] - 0.10) < 1e-4
    assert abs(l1["averageVehicleSpeed"] - (3 * 100 + 5 * 90) / 8) < 0.06
    assert "averageVehicleSpeed" not in out[1][1]


def test_a_radar_burst_is_one_vehicle_speed_its_peak():
    from app.board_unix import Board
    peak = 0.0
    with open("tests/data/traffic/ops243_raw_speed_readings_fixture.csv", "rb") as f:
        data = f.read()
    for line in data.decode().split("\n"):
        if line.strip():
            peak = max(peak, abs(float(line.split(",")[2])))
    board = Board({"uarts": {"radar": {}}}, feed=True)
    out = []
    cfg = {"device_id": "r", "apikey": "k", "interval": 60,
           "traffic": {"lanes": [{"lane": 1, "radar": "radar"}]}}
    p = traffic.build(cfg, board, readings(out))
    p.poll(T0, 0)
    board.uart("radar").feed(data[:120])  # the burst arrives over two polls
    p.poll(T0, 200)
    board.uart("radar").feed(data[120:])
    p.poll(T0, 400)
    p.poll(T0 + 2, 2000)
    p.close(T0 + 2)
    assert len(out) == 1 and abs(out[0]["averageVehicleSpeed"] - peak * 3.6) < 0.06
    assert out[0]["intensity"] == 1  # one burst, one vehicle


def test_malformed_recorded_events_are_counted_and_skipped():
    out = []
    cfg = {"device_id": "g", "apikey": "k", "interval": 60,
           "traffic": {"lanes": [{"lane": 1, "magnetometer": True, "baseline": [0, 0, 0]}]}}
    p = traffic.build(cfg, None, readings(out))
    for ev in ({"mag": [1, 2]}, {"mag": "garbage"}, {"mag": [1, "x", 3]}, {"mag": None},
               {"agg": [["a", 0.1]]}, {"agg": [[3, 7.5, None]]}, {"agg": [[-1, 0.1]]}, {"agg": 5}):
        assert p.event(T0 + 1, ev, 1000)
    assert p.bad_events == 7  # {"agg": 5} holds no lane at all
    p.event(T0 + 2, {"mag": [0, 0, 1]}, 2000)
    p.close(T0 + 2)
    assert [o["intensity"] for o in out] == [0]


def test_calibrate_command_reaches_magnetometer_lanes_and_spots_by_name():
    from app.memlog import MemLog
    from app.node import Node
    cfg = {"device_id": "c", "apikey": "k",
           "parking": {"spots": [{"spot": 1}]},
           "traffic": {"lanes": [{"lane": 2, "magnetometer": True}]}}
    node = Node(cfg, None, MemLog())
    assert node.command("calibrate", {"lane": 2, "seconds": 1}) == "calibrating l2 over 1 s"
    assert node.command("calibrate", {"spot": 1}) == "calibrating p1 over 2 s"
    assert node.command("calibrate", {"lane": 7}).startswith("ERROR no lane")
    assert node.command("calibrate", {"lane": 2, "seconds": -3}).startswith("ERROR ")
    # The lane takes its baseline from the next second of samples, then counts.
    out = []
    lanes = traffic.build(cfg, None, readings(out))
    lanes.command("calibrate", {"lane": 2, "seconds": 1})
    for i in range(40):
        z = 300 if 20 <= i < 25 else 50  # a car at 2.0-2.5 s
        lanes.event(T0 + i // 10, {"mag": [10, -8, z], "lane": 2}, i * 100)
    lanes.close(T0 + 4)
    assert [o["intensity"] for o in out] == [1]


def test_a_magnetometer_lane_reads_its_hmc5883l_through_the_board():
    from i2cbus import RegisterBus
    bus = RegisterBus(0x1E, {0x09: b"\x01"})  # RDY

    class StandInBoard:
        def i2c(self, name):
            return bus

    out = []
    cfg = {"device_id": "h", "apikey": "k", "interval": 10,
           "traffic": {"lanes": [{"lane": 1, "magnetometer": {"type": "hmc5883l", "i2c": "main"},
                                  "baseline": [100, 200, -300]}]}}
    p = traffic.build(cfg, StandInBoard(), readings(out))

    def field(x, y, z):  # registers X, Z, Y big-endian
        bus.regs[3:9] = bytes([x >> 8 & 0xFF, x & 0xFF, z >> 8 & 0xFF, z & 0xFF, y >> 8 & 0xFF, y & 0xFF])

    for i in range(100):
        field(100, 200, -300 + (80 if i % 30 in (10, 11, 12) else 0))  # three cars, 0.3 s each
        p.poll(T0 + i // 10, i * 100)
    p.close(T0 + 10)
    assert [o["intensity"] for o in out] == [3]
    assert abs(out[0]["occupancy"] - 3 * 0.3 / 10) < 0.011


def test_magnetometer_lane_samples_allocate_nothing_between_and_during_passes():
    from mpalloc import steady_samples_allocate
    cfg = {"device_id": "a", "apikey": "k", "interval": 60,
           "traffic": {"lanes": [{"lane": 1, "magnetometer": True, "baseline": [10, -8, 50]}]}}
    p = traffic.build(cfg, None, lambda *reading: None)
    m = p.mag[1]
    second = T0  # made outside the heap lock: a Unix second is a big int on the chip

    def sample(ms, values):
        m.sample(second, ms, values)

    for i in range(5):
        sample(i * 100, [10, -8, 50])
    quiet = [1000 + i * 10 for i in range(50)]
    assert steady_samples_allocate(sample, quiet, [10, -8, 51]) == 0
    for i in range(5):
        sample(2000 + i * 10, [10, -8, 150])  # a vehicle arrives
    assert m.passes.present
    over = [3000 + i * 10 for i in range(50)]
    assert steady_samples_allocate(sample, over, [10, -8, 150]) == 0


def test_a_cw_doppler_burst_is_one_vehicle_speed_its_peak():
    import doppler
    import machine

    class SquareWave(machine.PinBase):
        """The IF as time_pulse_us polls it; a virtual us clock, one us per read."""

        def __init__(self, hz):
            self.half = 500000 // hz
            self.now = 0

        def value(self, v=None):
            self.now += 1
            return (self.now // self.half) % 2 if self.half else 1

    wave = SquareWave(1788)  # 40 km/h on K band (44.7 Hz per km/h)

    class StandInBoard:
        def input(self, name):
            assert name == "if"
            return wave

    real = doppler.ticks_us
    doppler.ticks_us = lambda: wave.now
    try:
        out = []
        cfg = {"device_id": "c", "apikey": "k", "interval": 60,
               "traffic": {"lanes": [{"lane": 1, "doppler": "if", "min_kmh": 0.5}]}}
        p = traffic.build(cfg, StandInBoard(), readings(out))
        assert p.poll_ms == 100  # a window per poll, ten a second
        for i, hz in enumerate((1788, 2235, 2012)):  # approaching: 40, 50, 45 km/h
            wave.half = 500000 // hz
            p.poll(T0, i * 100)
        wave.half = 0  # the car has gone: no IF
        p.poll(T0, 400)
        p.poll(T0 + 2, 2000)
        p.close(T0 + 2)
    finally:
        doppler.ticks_us = real
    assert len(out) == 1 and out[0]["intensity"] == 1
    assert abs(out[0]["averageVehicleSpeed"] - 50.0) < 0.3  # the peak; half periods are whole us
