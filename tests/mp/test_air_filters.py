# Sample filters and their effect on interval statistics.
from app import filters
from app.quality import OUTLIER, Channel
from mptest import raises


def _run(chain, xs):
    return [chain.push(x) for x in xs]


def test_median_mean_and_reject():
    assert _run(filters.build([{"median": 3}]), [5, 1, 3, 9, 9]) == [5, 3, 3, 3, 9]
    assert _run(filters.build([{"mean": 2}]), [4, 8, 10, 0]) == [4, 6, 9, 5]
    r = filters.build([{"reject": {"window": 5, "ratio": 1.0, "floor": 0}}])
    assert _run(r, [10, 11, 10, 12, 1000, 11]) == [10, 11, 10, 12, None, 11]
    assert filters.build([]) is None
    raises(ValueError, filters.build, [{"kalman": 1}])


def test_rejected_samples_are_flagged_not_silent():
    ch = Channel("pm25", chain=filters.build([{"reject": {"window": 5, "ratio": 1.0}}]))
    for t, x in enumerate((1000, 1100, 1000, 90000, 1050)):
        ch.add(t, x)
    assert ch.n == 4 and ch.max == 1100
    assert ch.flag_bits() == OUTLIER


def test_stuck_needs_both_duration_and_samples():
    ch = Channel("relativeHumidity", stuck_s=3600, stuck_n=3)
    ch.add(0, 9990)
    ch.add(3600, 9990)
    assert not ch.stuck  # two samples only
    ch.add(3601, 9990)
    assert ch.stuck
    ch.reset()
    ch.add(3700, 9980)  # the run is broken
    assert not ch.stuck
