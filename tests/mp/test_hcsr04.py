# Ultrasonic ranging: echo time -> distance with the speed of sound at temperature.
from hcsr04 import HCSR04, distance_mm, sound_mps


def test_speed_of_sound_matches_reference_values():
    # Reference values for dry air: 331.3 m/s at 0 C, 343.2 m/s at 20 C, 349.0 m/s at 30 C.
    assert abs(sound_mps(0) - 331.3) < 0.05
    assert abs(sound_mps(20) - 343.2) < 0.2
    assert abs(sound_mps(30) - 349.0) < 0.2


def test_echo_time_of_one_metre_at_two_temperatures():
    assert abs(distance_mm(2 / 343.2 * 1e6, 20) - 1000) < 1.0
    assert abs(distance_mm(2 / 331.3 * 1e6, 0) - 1000) < 1.0
    # Ignoring temperature would misjudge by over 3 cm at -10 C.
    assert abs(distance_mm(2 / 325.3 * 1e6, 20) - 1000) > 30


class Pin:
    def __init__(self):
        self.v = None

    def value(self, v=None):
        if v is not None:
            self.v = v
        return self.v


def test_no_echo_within_range_is_none():
    trig = Pin()
    r = HCSR04(trig, Pin(), max_mm=4000, temp_c=20)
    r.echo_us = lambda: -1  # time_pulse_us timed out
    assert r.read_mm() is None
    r.echo_us = lambda: 30000  # beyond 4 m
    assert r.read_mm() is None
    r.echo_us = lambda: 11655  # 2 m at 20 C
    assert abs(r.read_mm() - 2000) < 3
    assert trig.v == 0 and 23000 < r.timeout_us() < 25500
