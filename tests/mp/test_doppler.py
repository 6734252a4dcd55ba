# Plain CW Doppler modules: the IF frequency per km/h follows from physics.
import machine

from doppler import C, K_BAND, X_BAND, Doppler, hz_per_kmh, kmh


def test_band_constants_match_the_doppler_equation():
    # f = 2 v f0 / c, v = 1 km/h = 1/3.6 m/s.
    assert abs(2 * 24.125e9 / 3.6 / 299792458 - K_BAND) < 0.01
    assert abs(2 * 10.525e9 / 3.6 / 299792458 - X_BAND) < 0.01
    assert abs(hz_per_kmh(24.125e9) - 2 * 24.125e9 / 3.6 / C) < 1e-9
    assert abs(kmh(447.0) - 10.0) < 1e-9 and abs(kmh(195.0, X_BAND) - 10.0) < 1e-9


def test_edges_over_a_gate_give_frequency_and_speed():
    d = Doppler(hz_per_kmh=K_BAND)
    period_us = 1e6 / 2235.0  # 50 km/h on K band: 2235 Hz
    for i in range(224):  # ~100 ms gate
        d.edge(None, int(i * period_us))
    v = d.kmh()
    assert abs(v - 50.0) < 0.2
    assert d.kmh() == 0  # nothing since: no target


def test_a_few_stray_edges_are_not_a_target():
    d = Doppler(min_cycles=4)
    for t in (0, 1000, 2000):
        d.edge(None, t)
    assert d.measure() == 0



class SquareWave(machine.PinBase):
    """The IF square wave on a pin that time_pulse_us polls from its C busy loop, as it
    polls a GPIO on the chip.  Its clock is virtual (1 us per read, read by window()
    as ticks_us): the test times nothing on the host.  gap_at drops one cycle (the
    level held low a period more), as a stall past a whole period would look."""

    def __init__(self, hz, gap_at=None):
        self.now = 0
        self.half = 500000 // hz
        self.gap_at = gap_at

    def value(self, v=None):
        self.now += 1
        k = self.now // self.half
        if self.gap_at is not None and k >= self.gap_at:
            k = self.gap_at if k < self.gap_at + 2 else k - 2
        return k % 2


def window(d, wave):
    import doppler
    real = doppler.ticks_us
    doppler.ticks_us = lambda: wave.now
    try:
        return d.window(wave, timeout_us=1000000)
    finally:
        doppler.ticks_us = real


def test_a_window_times_the_if_period_in_c_without_any_handler():
    d = Doppler(hz_per_kmh=K_BAND, irq=False)
    f = window(d, SquareWave(2235))  # 50 km/h on K band
    assert abs(f / K_BAND - 50.0) < 0.3, f  # the half period is whole us: 223 us, not 223.7
    assert d.rejected == 0
    # A cycle missed (a stall of more than a period): rejected, never read as a slower car.
    assert window(d, SquareWave(2235, gap_at=20)) == 0 and d.rejected == 1

    class Silent(machine.PinBase):
        def value(self, v=None):
            return 1

    assert d.window(Silent(), timeout_us=5000) == 0 and d.rejected == 1  # no target: not rejected
