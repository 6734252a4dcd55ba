# Power cuts at every flash operation of a short scenario and at a few hundred
# random points of a long one (more: `micropython tests/mp/powercut.py 5000`).
import flashlog_v1
import powercut


def test_cut_at_every_operation_of_a_short_scenario():
    steps = powercut.scenario(7, 90)
    assert sum(1 for s in steps if s[0] == "boot") >= 1
    total = powercut.every_op(steps, 4, 0.5)
    assert total > 60


def test_cut_at_every_operation_with_nothing_or_almost_everything_landed():
    steps = powercut.scenario(8, 60)
    powercut.every_op(steps, 3, 0.0)
    powercut.every_op(steps, 3, 0.97)


def test_cut_at_every_operation_leaving_stray_bits_past_the_cut():
    # An interrupted page program on real NOR may leave bits anywhere in its range.
    powercut.every_op(powercut.scenario(9, 90), 4, 0.0, True)


def test_cut_at_random_points_of_a_long_scenario():
    steps = powercut.scenario(11, 900)
    total = powercut.random_ops(steps, 6, 150, 5)
    assert total > 600


def test_cut_at_random_points_with_esp32_sized_sectors():
    steps = powercut.scenario(12, 1500, 200)
    ref, total = powercut.reference(steps, 4, 4096)
    assert ref[-1] > 0  # the scenario wraps the ring and drops readings
    powercut.random_ops(steps, 4, 60, 9, 4096)


def test_cut_at_every_operation_across_a_firmware_update_of_the_record_format():
    # Text records of the older firmware, a boot into the new one, compact records after.
    steps = powercut.scenario(13, 120)
    kinds = [s[3] for s in steps if s[0] == "append"]
    assert kinds[0] is False and kinds[-1] is True
    boot = [i for i, s in enumerate(steps) if s[0] == "boot"][0]
    assert any(s[0] == "append" for s in steps[:boot]) and any(s[0] == "append" for s in steps[boot:])
    powercut.every_op(steps, 4, 0.5)
    powercut.every_op(steps, 4, 0.0, True)


def test_cut_at_every_operation_across_a_firmware_update_of_the_log_format():
    # The older firmware's log ("SLg1" sectors: 10-byte record headers) with its text
    # records, then today's (5-byte headers) with compact records after the first boot;
    # and compact records in SLg1 sectors (the firmware just before), updated the same way.
    for steps, compact in ((powercut.scenario(14, 120), False), (powercut.scenario(15, 90, 60, False), True)):
        boot = [i for i, s in enumerate(steps) if s[0] == "boot"][0]
        assert any(s[0] == "append" and s[3] == compact for s in steps[:boot])
        assert any(s[0] == "append" for s in steps[boot:])
        powercut.every_op(steps, 4, 0.5, False, flashlog_v1.FlashLog)
    powercut.every_op(powercut.scenario(14, 120), 4, 0.0, True, flashlog_v1.FlashLog)
