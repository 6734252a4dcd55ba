# Parking-spot occupancy from a magnetometer: calibration, debounce,
# hysteresis, glitch rejection, drift tracking, faults, heartbeat.
import json

from app import parking
from app.isotime import unix
from app.memlog import MemLog
from app.node import Node
from mptest import readings

T0 = unix(2026, 11, 21, 22, 0, 0)
BASE = (14, -8, 52)
HZ = 10


def make(**pc):
    out = []
    cfg = {"device_id": "n7", "apikey": {"parking": "pk", "device": "dk"}, "parking": pc}
    p = parking.build(cfg, None, readings(out, keyed=True))
    return p, out


def feed(p, t0, seconds, dz=0, glitch_at=None, dx=0):
    """Samples at HZ from t0 (ms after T0) for `seconds`, the car adding dz counts on Z;
    -> the ms after.  The node's time is the pair (whole Unix seconds, ms tick)."""
    n = int(seconds * HZ)
    for i in range(n):
        ms = t0 + i * 1000 // HZ
        s = [BASE[0] + dx, BASE[1], BASE[2] + dz]
        if glitch_at is not None and i == glitch_at:
            s[1] = -16384  # a real single-sample I2C glitch value from the MAG3110 recording
        p.event(T0 + ms // 1000, {"mag": s}, ms)
    return t0 + n * 1000 // HZ


def poll(p, ms):
    p.poll(T0 + ms // 1000, ms)


def statuses(out):
    return [(o["TimeInstant"][11:19], o["status"]) for _, o in out]


def changes(out):
    """statuses without the heartbeats that repeat the one before."""
    got = []
    for ts in statuses(out):
        if not got or got[-1][1] != ts[1]:
            got.append(ts)
    return got


def test_uncalibrated_spot_is_unknown_until_the_calibrate_command():
    p, out = make()
    feed(p, 0, 5)
    assert out == []  # nothing changed: it is unknown from the start
    poll(p, 600_000)  # heartbeat
    assert statuses(out) == [("22:10:00", "unknown")]
    assert out[0][0] == "pk/n7-p1"
    assert p.command("calibrate", {"seconds": 2}) == "calibrating p1 over 2 s"
    feed(p, 600_000, 3)
    assert statuses(out)[-1] == ("22:10:02", "free")


def test_a_parked_car_is_published_at_its_arrival_and_departure_times():
    p, out = make(autocalibrate=2, debounce=10)
    t = feed(p, 0, 5)  # free from 22:00:02
    t = feed(p, t, 60, dz=40)  # a car parks at 22:00:05 for a minute
    feed(p, t, 30)  # and leaves at 22:01:05
    assert statuses(out) == [("22:00:02", "free"), ("22:00:05", "occupied"), ("22:01:05", "free")]


def test_a_car_rolling_over_the_bay_is_not_parking():
    p, out = make(autocalibrate=2, debounce=10)
    t = feed(p, 0, 5)
    t = feed(p, t, 4, dz=40)  # 4 s over the sensor, shorter than the debounce
    feed(p, t, 20)
    assert statuses(out) == [("22:00:02", "free")]


def test_single_sample_glitches_never_change_the_state():
    p, out = make(autocalibrate=2, debounce=0)  # no debounce to hide behind
    t = feed(p, 0, 5)
    t = feed(p, t, 5, glitch_at=20)
    feed(p, t, 5, dz=40, glitch_at=10)  # and none while occupied either
    assert statuses(out) == [("22:00:02", "free"), ("22:00:10", "occupied")]


def test_hysteresis_holds_occupied_between_release_and_threshold():
    p, out = make(autocalibrate=2, debounce=1, threshold=16, release=8)
    t = feed(p, 0, 5)
    t = feed(p, t, 5, dz=30)
    t = feed(p, t, 30, dz=12)  # below the threshold but above the release
    assert statuses(out)[-1][1] == "occupied"
    feed(p, t, 5, dz=4)
    assert statuses(out)[-1][1] == "free"


def test_slow_drift_while_free_is_followed():
    p, out = make(autocalibrate=2, debounce=10, drift=300)
    t = feed(p, 0, 5)
    for step in range(1, 61):  # the field creeps 60 counts in an hour (temperature)
        t = feed(p, t, 60, dx=step)
    assert changes(out) == [("22:00:02", "free")]
    spot = p.spots[0]
    assert abs(spot.field.base[0] - (BASE[0] + 60)) < 8
    # A car still stands out against the drifted baseline.
    feed(p, t, 15, dx=60, dz=40)
    assert statuses(out)[-1][1] == "occupied"


def test_a_silent_or_broken_sensor_makes_the_spot_unknown():
    p, out = make(autocalibrate=2, debounce=2, timeout=10)
    t = feed(p, 0, 5)
    poll(p, t + 30_000)  # no samples for 30 s
    assert statuses(out)[-1] == ("22:00:35", "unknown")
    p2, out2 = make(autocalibrate=2, debounce=2)
    t = feed(p2, 0, 5)
    for i in range(50):  # a bus stuck returning 0xC000 on every read
        ms = t + i * 1000 // HZ
        p2.event(T0 + ms // 1000, {"mag": [-16384, -16384, -16384]}, ms)
    assert statuses(out2)[-1] == ("22:00:05", "unknown")


def test_heartbeats_repeat_the_status_at_the_configured_interval():
    p, out = make(autocalibrate=1, heartbeat=60)
    feed(p, 0, 185)
    assert statuses(out) == [("22:00:01", "free"), ("22:01:00", "free"), ("22:02:00", "free"),
                             ("22:03:00", "free")]


def test_remote_calibrate_reaches_the_spot_through_the_node():
    cfg = {"device_id": "n8", "apikey": "k", "parking": {"spots": [{"spot": 3}]}}
    node = Node(cfg, None, MemLog())
    assert node.command("calibrate", {"spot": 3, "seconds": 5}) == "calibrating p3 over 5 s"
    assert node.command("calibrate", {"spot": 9}).startswith("ERROR no spot 9")
    assert node.command("calibrate", {"seconds": "lots"}).startswith("ERROR ")
    assert node.command("calibrate", None) == "calibrating p3 over 2 s"
    assert node.command("reboot-the-city", {}) is None


def test_a_spot_reads_its_qmc5883l_through_the_board_and_survives_bus_errors():
    from i2cbus import RegisterBus

    class FlakyBus(RegisterBus):
        fail = False

        def readfrom_mem_into(self, addr, reg, buf, addrsize=8):
            if self.fail:
                raise OSError(5)  # EIO: a real I2C bus hiccup
            super().readfrom_mem_into(addr, reg, buf, addrsize)

    bus = FlakyBus(0x0D)

    class StandInBoard:
        def i2c(self, name):
            assert name == "main"
            return bus

    out = []
    cfg = {"device_id": "q", "apikey": "k",
           "parking": {"debounce": 2, "spots": [{"sensor": {"type": "qmc5883l", "i2c": "main"},
                                                 "baseline": [100, -50, 400]}]}}
    p = parking.build(cfg, StandInBoard(), readings(out))
    bus.regs[6] = 0x01  # data ready
    bus.regs[0:6] = bytes([100, 0, 0xCE, 0xFF, 0x90, 0x01])  # (100, -50, 400): the baseline
    for i in range(30):
        poll(p, i * 100)
    bus.regs[4:6] = bytes([0xF4, 0x01])  # Z 500: a car
    for i in range(30, 40):
        poll(p, i * 100)
    bus.fail = True
    for i in range(40, 45):
        poll(p, i * 100)  # a few failed reads change nothing
    bus.fail = False
    for i in range(45, 70):
        poll(p, i * 100)
    # Unknown at boot, baseline or not: free once 2 s (the debounce) of samples agree.
    assert [o["status"] for o in out] == ["free", "occupied"]
    assert out[1]["TimeInstant"] == "2026-11-21T22:00:03Z"


def test_a_spot_seen_from_above_by_a_vl53l1x():
    from i2cbus import RegisterBus
    bus = RegisterBus(0x29, {0x010F: b"\xea\xcc", 0x00E5: b"\x01", 0x0031: b"\x01"},
                      status=(0x0031, 0x0089, 0x0096, 0x0097))

    class StandInBoard:
        def i2c(self, name):
            return bus

    out = []
    cfg = {"device_id": "v", "apikey": "k",
           "parking": {"debounce": 3, "autocalibrate": 2, "spots": [{"ranger": {"i2c": "main"}}]}}
    p = parking.build(cfg, StandInBoard(), readings(out))

    def range_for(seconds, t0, mm, raw_status=0x09):
        bus.regs[0x96:0x98] = bytes([mm >> 8, mm & 0xFF])
        bus.regs[0x89] = raw_status
        for i in range(seconds * 10):
            poll(p, t0 + i * 100)
        return t0 + seconds * 1000

    t = range_for(5, 0, 3500)  # the road 3.5 m below
    t = range_for(2, t, 2100, raw_status=0x04)  # signal fail: not a reading
    t = range_for(10, t, 3480)
    t = range_for(10, t, 2000)  # a car roof 1.5 m nearer
    assert [(o["TimeInstant"][11:], o["status"]) for o in out] == [
        ("22:00:02Z", "free"), ("22:00:17Z", "occupied")]


def test_malformed_recorded_samples_are_counted_and_skipped():
    p, out = make(autocalibrate=1)
    for ev in ({"mag": [1, 2]}, {"mag": "xyz"}, {"mag": [1.5, 2, 3]}, {"mag": None}):
        assert p.event(T0, ev, 0)
    assert p.bad_events == 4 and out == []
    feed(p, 0, 2)
    assert statuses(out) == [("22:00:01", "free")]


def test_a_steady_spot_allocates_nothing_per_sample():
    from mpalloc import steady_samples_allocate
    # On the device a float or a list per sample would be garbage at 10-200 Hz.
    p, out = make(autocalibrate=1, debounce=2)
    t = feed(p, 0, 3)
    spot = p.spots[0]
    second = T0 + 3  # made outside the heap lock: a Unix second is a big int on the chip

    def sample(ms, v):
        spot.sample(second, ms, v, p.emit)

    free_ts = [t + i * 100 for i in range(30)]  # includes drift steps every second
    assert steady_samples_allocate(sample, free_ts, [15, -8, 52]) == 0
    t = feed(p, free_ts[-1] + 100, 5, dz=40)  # parked
    assert statuses(out)[-1][1] == "occupied"
    parked_ts = [t + i * 100 for i in range(30)]
    assert steady_samples_allocate(sample, parked_ts, [14, -8, 92]) == 0


def test_a_spot_seen_from_above_by_an_hcsr04():
    class Pin:
        def value(self, v=None):
            return 0

    class StandInBoard:
        def ultrasonic(self, name):
            assert name == "ranger"
            return Pin(), Pin()

    out = []
    cfg = {"device_id": "u", "apikey": "k", "parking": {"debounce": 3, "autocalibrate": 2, "spots": [
        {"ranger": {"type": "hcsr04", "ultrasonic": "ranger"}}]}}
    p = parking.build(cfg, StandInBoard(), readings(out))
    ranger = p.spots[0].driver.ranger
    ranger.period_ms = 0  # the test's clock is not the tick ranger.ready() reads
    echo = [0]
    ranger.dev.echo_us = lambda: echo[0]  # machine.time_pulse_us's answer: the round trip, or < 0
    # Sound at 20 degC: 331.3 * sqrt(1 + 20 / 273.15) = 343.2 m/s, so 1 m is 5827.5 us there and back.
    echo[0] = 5828
    assert ranger.read_mm() == 1000
    echo[0] = 2 * 4600 * 1000 // 343  # beyond the 4.5 m range: no reading
    assert ranger.read_mm() is None

    def range_for(seconds, t0, mm):
        echo[0] = -1 if mm is None else mm * 20000 // 3432
        for i in range(seconds * 10):
            poll(p, t0 + i * 100)
        return t0 + seconds * 1000

    t = range_for(5, 0, 3500)  # the road 3.5 m below
    t = range_for(2, t, None)  # no echo (time_pulse_us timed out): not a reading
    t = range_for(10, t, 3480)
    t = range_for(10, t, 2000)  # a car roof 1.5 m nearer
    assert [(o["TimeInstant"][11:], o["status"]) for o in out] == [
        ("22:00:02Z", "free"), ("22:00:17Z", "occupied")]
