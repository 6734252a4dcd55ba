# The crash-loop guard and the watchdog's evidence of life, under MicroPython.
import os
import time

from mptest import scratch

from app import guard

DIR = scratch("guard")


def fresh():
    try:
        os.mkdir(DIR)
    except OSError:
        pass
    for name in ("boots", "config.json", "board.json"):
        try:
            os.remove(DIR + "/" + name)
        except OSError:
            pass
    with open(DIR + "/config.json", "w") as f:
        f.write('{"device_id": "g-1"}')
    return DIR + "/boots", (DIR + "/config.json", DIR + "/board.json")


def test_resets_in_a_row_are_counted_until_power_on_or_a_fix():
    boots, fixes = fresh()
    assert guard.read_boots(boots) == (0, None, None)
    counts = [guard.count_boot(c, fixes, boots) for c in ("power-on", "watchdog", "hard", "watchdog")]
    assert counts == [1, 2, 3, 4]
    assert guard.read_boots(boots)[:2] == (4, "watchdog")
    assert guard.count_boot("power-on", fixes, boots) == 1  # power cycled: a new count
    guard.count_boot("watchdog", fixes, boots)
    assert guard.count_boot("watchdog", fixes, boots) == 3
    with open(fixes[0], "w") as f:  # the technician corrects the config
        f.write('{"device_id": "g-1", "interval": 60}')
    assert guard.count_boot("watchdog", fixes, boots) == 1
    guard.count_boot("soft", fixes, boots)
    guard.stable(boots)  # ran long enough: the resets before were no loop
    assert guard.count_boot("watchdog", fixes, boots) == 1


def test_a_garbled_boot_record_counts_from_one():
    boots, fixes = fresh()
    with open(boots, "w") as f:
        f.write("\xff\x00 garbage")
    assert guard.count_boot("watchdog", fixes, boots) == 1


def test_liveness_names_what_stopped():
    t0 = time.ticks_ms()
    live = guard.Liveness(t0, sense_ms=1000, net_ms=5000)
    assert live.problem(time.ticks_add(t0, 900)) is None
    assert live.problem(time.ticks_add(t0, 1500)).startswith("sensing stopped")
    live.sense_tick(time.ticks_add(t0, 5000))
    assert live.problem(time.ticks_add(t0, 5500)).startswith("network task stuck")
    live.net_tick(time.ticks_add(t0, 5400))
    assert live.problem(time.ticks_add(t0, 5500)) is None
