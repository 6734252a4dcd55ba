# Calibrated baselines survive a power cycle (street-light circuits switch the
# nodes off every day): calibrate, rebuild the pipeline as a boot does, and the
# spot or lane knows its empty-road field at once.
import json
import os

from app import parking, traffic
from app.baselines import BaselineStore
from app.isotime import unix
from mptest import readings, scratch

T0 = unix(2026, 11, 21, 22, 0, 0)
BASE = (14, -8, 52)  # the empty bay's field, counts


def fresh(name):
    path = scratch("baselines-%s.json" % name)
    for p in (path, path + ".tmp"):
        try:
            os.remove(p)
        except OSError:
            pass
    return path


def boot(path, pc=None, section="parking"):
    """Build the pipeline as the node does at power-on: a new store read from `path`."""
    out = []
    cfg = {"device_id": "n7", "apikey": "k", section: pc or {}}
    store = BaselineStore(path)
    mod = parking if section == "parking" else traffic
    p = mod.build(cfg, None, readings(out), None, store)
    return p, out, store


def feed(p, t0, seconds, hz=10, dz=0, dx=0, **ev):
    """Samples at hz from t0 (ms after T0: the node's time is whole Unix seconds and a
    ms tick) for `seconds`; -> the ms after."""
    n = int(seconds * hz)
    for i in range(n):
        ms = t0 + i * 1000 // hz
        p.event(T0 + ms // 1000, dict(ev, mag=[BASE[0] + dx, BASE[1], BASE[2] + dz]), ms)
    return t0 + n * 1000 // hz


def test_a_calibrated_spot_knows_its_baseline_after_a_reboot():
    path = fresh("reboot")
    p, out, store = boot(path, {"debounce": 10})
    assert p.spots[0].status == "unknown"
    p.command("calibrate", {"seconds": 2})
    t = feed(p, 0, 3)
    assert [o["status"] for o in out] == ["free"]
    with open(path) as f:
        assert [round(v) for v in json.load(f)["p1"]] == list(BASE)
    before = p.spots[0].field.base

    p, out, store = boot(path, {"debounce": 10, "heartbeat": 60})  # power off, power on
    # The baseline is back; the status is not: a car may have come while the power was off.
    assert p.spots[0].status == "unknown"
    assert p.spots[0].field.base == before
    t = feed(p, t + 3_597_000, 5)  # booted at 23:00:00
    t = feed(p, t, 30, dz=40)  # a car parks 5 s after boot
    assert [(o["TimeInstant"][11:19], o["status"]) for o in out if o["status"] != "free"] == [
        ("23:00:05", "occupied")]
    assert store.writes == 0  # reading the baseline back costs no flash write


def test_config_baseline_wins_over_the_stored_one():
    path = fresh("config")
    with open(path, "w") as f:
        json.dump({"p1": [1, 2, 3], "p2": [14, -8, 52]}, f)
    p, out, store = boot(path, {"spots": [{"spot": 1, "baseline": [100, 0, 0]}, {"spot": 2}]})
    assert [s.field.base for s in p.spots] == [[100, 0, 0], [14, -8, 52]]


def test_a_corrupt_or_missing_file_means_not_calibrated():
    path = fresh("corrupt")
    for text in (None, '{"p1": [14, -8,', "[14, -8, 52]", '{"p1": "14,-8,52"}', '{"p1": [14, -8]}',
                 '{"p1": [14, null, 52]}', "\x00\xff garbage"):
        if text is not None:
            with open(path, "w") as f:
                f.write(text)
        p, out, store = boot(path, {"heartbeat": 60})
        t = feed(p, 0, 5)
        p.poll(T0 + 60, 60_000)
        assert [o["status"] for o in out] == ["unknown"], text
        # A calibration still works and leaves a whole file behind.
        p.command("calibrate", {"seconds": 2})
        feed(p, t + 60_000, 3)
        assert out[-1]["status"] == "free"
        assert [round(v) for v in BaselineStore(path).get("p1", 3)] == list(BASE)


def test_drift_is_written_at_most_hourly_and_only_when_it_moved():
    path = fresh("drift")
    p, out, store = boot(path, {"drift": 900})
    p.command("calibrate", {"seconds": 2})
    t = feed(p, 0, 3, hz=1)
    assert store.writes == 1
    # Six and a half hours free, the field creeping 10 counts an hour (temperature):
    # one sample a second, a drift step every second.
    for minute in range(390):
        t = feed(p, t, 60, hz=1, dx=minute // 6)
    assert {o["status"] for o in out} == {"free"}  # changes and heartbeats
    drift_writes = store.writes - 1
    assert drift_writes == 6  # one per hour, each after a move of about 10 counts
    # Then the field holds still: the next hourly check still finds the baseline
    # moved (it lagged the creep), after that it stays within a few counts of the
    # one written, which is not worth a flash write.
    for minute in range(60):
        t = feed(p, t, 60, hz=1, dx=64)
    assert store.writes == 1 + 6 + 1
    for minute in range(180):
        t = feed(p, t, 60, hz=1, dx=64)
    assert store.writes == 1 + 6 + 1
    p, out, store = boot(path)
    assert abs(p.spots[0].field.base[0] - (BASE[0] + 64)) <= 4  # the reboot gets the drifted one


def test_a_filesystem_that_refuses_the_write_does_not_stop_the_spot():
    p, out, store = boot("/nonexistent-dir/baselines.json")
    p.command("calibrate", {"seconds": 2})
    feed(p, 0, 3)
    assert out[-1]["status"] == "free"
    assert store.writes == 0 and "baselines" in store.last_error


def test_a_magnetometer_lane_keeps_its_baseline_across_a_reboot():
    path = fresh("lane")
    tc = {"lanes": [{"lane": 2, "magnetometer": True}], "interval": 60}
    p, out, store = boot(path, tc, "traffic")
    p.command("calibrate", {"lane": 2, "seconds": 1})
    t = feed(p, 0, 2, lane=2)
    assert [round(v) for v in BaselineStore(path).get("l2", 3)] == list(BASE)
    p, out, store = boot(path, tc, "traffic")
    assert p.mag[2].field.calibrated
    t = feed(p, t, 2, lane=2)
    t = feed(p, t, 0.5, dz=300, lane=2)  # a car over the lane right after boot
    feed(p, t, 2, lane=2)
    p.close(t + 3)
    assert [o["intensity"] for o in out] == [1]


def test_store_get_rejects_a_baseline_of_the_wrong_shape():
    path = fresh("shape")
    with open(path, "w") as f:
        json.dump({"p1": [1, 2, 3], "p2": [5]}, f)
    store = BaselineStore(path)
    assert store.get("p1", 3) == [1, 2, 3]
    assert store.get("p1", 1) is None
    assert store.get("p2", 1) == [5]
    assert store.get("p9", 3) is None


def test_the_running_shell_keeps_a_remote_calibration_across_a_restart():
    from app import run
    from app.board_unix import Board
    from app.commands import ConfigStore
    from app.memlog import MemLog
    path = fresh("shell")
    cfg = {"device_id": "lj-9", "apikey": "k", "interval": 300,
           "broker": {"host": "127.0.0.1", "port": 1}, "parking": {"spots": [{"spot": 4}]}}

    def power_on():
        board = Board({"uarts": {}, "baselines": path})
        return run.Shell(cfg, board, MemLog(), ConfigStore(fresh("shell-config")))

    shell = power_on()
    assert shell.command("calibrate", {"spot": 4, "seconds": 2}) == "calibrating p4 over 2 s"
    for i in range(30):
        shell.node.event(T0 + i // 10, {"mag": list(BASE), "spot": 4}, i * 100)
    assert shell.node.pipelines[0].spots[0].status == "free"
    shell = power_on()
    spot = shell.node.pipelines[0].spots[0]
    assert spot.field.calibrated and [round(v) for v in spot.field.base] == list(BASE)
    assert spot.status == "unknown"  # until its samples are sure (a car may have come meanwhile)
    shell.reconfigure(dict(cfg, interval=60, parking={"spots": [{"spot": 4}], "debounce": 1}))
    spot = shell.node.pipelines[0].spots[0]
    assert [round(v) for v in spot.field.base] == list(BASE)  # a new config keeps it too
