# Plain CW Doppler modules: the IF frequency per km/h follows from physics.
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
