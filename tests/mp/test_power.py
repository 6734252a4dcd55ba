# Power profiles (app/power.py) on the unix board's simulated supply, radio, RTC
# memory and deep sleep: no reading lost across a power-fail or a sleep, a bounded
# time to durable, a spot unknown until sure, the radio up only to publish.
import json
import os

from mptest import scratch

from app import power, record, run, schema
from app.board_unix import Board, DeepSleep
from app.commands import ConfigStore
from app.flashlog import FlashLog
from app.norflash import NorFlash

T0 = 1795737600  # 2026-11-26T00:00:00Z
BASE = [14, -8, 52, 12, -2, 50]  # the MAG3110 recording's empty bay (tests/data/parking)
CFG = {"device_id": "pw-1", "apikey": "k", "interval": 300, "broker": {"host": "127.0.0.1", "port": 1},
       "air": {"sensors": {"sds011": {}}}, "traffic": {"lanes": []},
       "parking": {"debounce": 10, "heartbeat": 600, "spots": [{"spot": 1, "axes": 6, "baseline": BASE}]}}


class Collect:
    def __init__(self):
        self.got = []

    def publish(self, topic, payload):
        body = json.loads(payload)
        self.got += [(topic, o) for o in (body if isinstance(body, list) else [body])]

    def close(self):
        pass


def shell_on(dev, cfg=CFG, profile=None):
    d = scratch("power")
    try:
        os.mkdir(d)
    except OSError:
        pass
    board = Board(dict(profile or {}, uarts={}, baselines=d + "/baselines.json"), feed=True)
    return run.Shell(dict(cfg), board, FlashLog(dev), ConfigStore(d + "/config.json"))


def pm(i):
    return 5 + (i * 37 % 100) / 10  # distinct values, one decimal (as the SDS011 gives)


def feed(shell, t0, seconds, start=0):
    """An SDS011 sample every 10 s, loop aggregates every 30 s, magnetometer at 1 Hz."""
    for s in range(seconds):
        t = t0 + s
        ms = (t - T0) * 1000
        if s % 10 == 0:
            shell.node.event(t, {"air": {"sensor": "sds011", "pm25": pm(start + s), "pm10": 20}}, ms)
        if s % 30 == 0:
            shell.node.event(t, {"period": 30, "agg": [[3, 0.1, 50.0], [2, 0.05, 60.0]]}, ms)
        shell.node.event(t, {"mag": BASE}, ms)
        shell.sense(t, ms)


def test_switched_power_fail_makes_every_sample_durable_in_bounded_operations():
    dev = NorFlash(16)
    sh = shell_on(dev)
    ctl = power.Switched(sh, {"profile": "switched", "debounce": 0.02})
    feed(sh, T0, 420)  # 00:00:00 - 00:07:00: one whole interval, 2 minutes of the next
    t_fail = T0 + 420
    before = sh.log.next_seq
    programs, erases = dev.ops, dev.total_erases()
    sh.board.mains = False
    assert ctl.step(t_fail, 420000) is None  # not yet: a 20 ms dip is no power cut
    assert ctl.step(t_fail, 420025) == "fail"
    due = power.due_readings(sh.node)
    assert due == 3  # the air station and two loop lanes
    assert 1 <= ctl.appended <= due
    assert dev.ops - programs <= ctl.appended + 2 and dev.total_erases() - erases <= 1
    print("power-fail: %d readings durable in %d us on the unix port; bound on the chip %d ms"
          % (ctl.appended, ctl.durable_us, power.durable_bound_ms(due)))
    assert not sh.sensing and not sh.radio and sh.board.radio_log[-1][0] is False
    # The capacitor runs out: what the log holds is what the next boot finds.
    again = FlashLog(dev)
    assert again.next_seq == before + ctl.appended
    recs = again.read(0, [], 1000, 1 << 20)
    texts = [record.expand(r) for _, r in recs]
    air = [json.loads(x.split(b" ", 1)[1]) for x in texts if x.startswith(b"k/pw-1-aq ")]
    # The interval cut short (00:05:00 - 00:07:00) is there: its mean is of the 12 samples taken.
    part = [pm(s) for s in range(300, 420, 10)]
    assert abs(air[-1]["pm25"] - sum(part) / len(part)) < 0.051, (air[-1], sum(part) / len(part))
    whole = [pm(s) for s in range(0, 300, 10)]
    assert abs(air[-2]["pm25"] - sum(whole) / len(whole)) < 0.051


def test_switched_power_back_resumes_sampling_and_drains_the_backlog():
    dev = NorFlash(16)
    sh = shell_on(dev)
    ctl = power.Switched(sh, {"profile": "switched"})
    feed(sh, T0, 400)
    sh.board.mains = False
    ctl.step(T0 + 400, 400000)
    ctl.step(T0 + 400, 400100)
    made = sh.log.next_seq
    sh.board.mains = True
    ctl.step(T0 + 460, 460000)
    assert ctl.step(T0 + 460, 460100) == "back"
    assert sh.sensing and sh.radio and sh.board.radio_log[-1][0] is True
    feed(sh, T0 + 460, 700, 460)
    assert sh.log.next_seq > made  # new intervals were reported
    out = Collect()
    sh.uplink.transport = out
    sh.uplink.pump()
    seqs = sorted(o["seq"] for _, o in out.got)
    assert seqs == list(range(1, sh.log.next_seq)) and sh.log.pending == 0, (seqs, sh.log.next_seq)


def test_a_spot_is_unknown_after_a_boot_until_its_samples_are_sure():
    sh = shell_on(NorFlash(8))
    spot = sh.node.pipelines[[hasattr(p, "spots") for p in sh.node.pipelines].index(True)].spots[0]
    assert spot.field.calibrated and spot.status == "unknown"
    out = []
    for s in range(9):  # less than the debounce: not sure yet
        spot.sample(T0 + s, s * 1000, BASE, lambda kind, key, f: out.append(f))
    assert spot.status == "unknown" and out == []
    spot.sample(T0 + 10, 10000, BASE, lambda kind, key, f: out.append(f))
    assert out == [(T0, "free")]


def test_woken_from_deep_sleep_a_spot_repeats_nothing_and_reports_a_change():
    sh = shell_on(NorFlash(8))
    spot = [s for p in sh.node.pipelines for s in getattr(p, "spots", ())][0]
    got = []
    emit = lambda kind, key, f: got.append(f)  # noqa: E731
    spot.unsure("free")  # what RTC memory said was last published
    for s in range(12):
        spot.sample(T0 + s, s * 1000, BASE, emit)
    assert spot.status == "free" and got == []  # still free: the platform knows already
    spot.unsure("free")
    car = [BASE[0], BASE[1], BASE[2] + 60, BASE[3], BASE[4], BASE[5] + 60]
    for s in range(12):
        spot.sample(T0 + 100 + s, (100 + s) * 1000, car, emit)
    # a car came while the node slept (stamped at its second sample: the median of three)
    assert got == [(T0 + 101, "occupied")]


def test_rtc_state_round_trips_and_anything_else_is_a_power_on():
    data = power.pack_state([(1, "free"), (2, "occupied"), (7, "unknown")], 41)
    assert len(data) <= power.RTC_MAX
    assert power.unpack_state(data) == (41, {1: "free", 2: "occupied", 7: "unknown"})
    for bad in (b"", b"\x00" * 16, data[:-1], data[:8] + b"\x09" + data[9:]):
        assert power.unpack_state(bad) == (0, {})


def test_battery_radio_only_up_to_publish_and_readings_survive_deep_sleep():
    import asyncio
    import time

    d = scratch("battery")
    os.mkdir(d)
    os.chdir(d)  # the virtual board's RTC memory and wake marker: in the node's directory
    dev = NorFlash(16)
    spec = {"profile": "battery", "window": 2, "publish": 1, "sleep": 300}
    cfg = dict(CFG, power=spec)
    assert not schema.validate(dict(cfg, power=dict(spec, window=60, publish=30)))
    wakes = []
    for wake in range(2):
        from app import board_unix
        cause = board_unix.reset_cause()
        assert cause == ("power-on" if wake == 0 else "deep-sleep")
        sh = shell_on(dev, cfg)
        sh.board.cause = cause
        ctl = power.controller(sh, spec, time.ticks_ms())
        steps = []
        real_step = sh.link.step

        def step():
            steps.append(sh.board.radio_on)
            return real_step()

        sh.link.step = step
        t0 = T0 + wake * 400

        async def feeder():
            s = 0
            while True:
                t = t0 + s // 10  # ten samples a virtual second, one every 10 ms real
                sh.board.now = lambda: t  # noqa: B023
                if sh.sensing:
                    sh.node.event(t, {"mag": BASE}, (t - T0) * 1000 + s % 10 * 100)
                    if s % 10 == 0:
                        sh.node.event(t, {"air": {"sensor": "sds011", "pm25": pm(s), "pm10": 20}},
                                      (t - T0) * 1000)
                s += 1
                await asyncio.sleep_ms(10)

        async def node():
            asyncio.create_task(feeder())
            asyncio.create_task(run.network(sh, time.ticks_ms()))
            await power.supervise(sh, ctl)

        try:
            asyncio.run(node())
            raise AssertionError("no deep sleep")
        except DeepSleep as e:
            assert e.args[0] == 300 * 1000
        asyncio.new_event_loop()
        log = sh.board.radio_log
        # radio off while sampling, on to publish, off again before the sleep
        assert [on for on, _ in log] == [False, True, False], log
        assert steps and all(steps), "the link ran with the radio off"
        wakes.append((sh.log.next_seq, sh.log.pending))
        assert power.unpack_state(sh.board.rtc_memory())[0] == wake + 1
    # The broker was unreachable (port 1): every reading waits in the log, none lost.
    assert wakes[1][1] == wakes[1][0] - 1 and wakes[1][0] > wakes[0][0] > 1
    kinds = set()
    for _, r in FlashLog(dev).read(0, [], 1000, 1 << 20):
        kinds.add(record.expand(r).split(b" ", 1)[0])
    assert {b"k/pw-1-aq", b"k/pw-1-p1"} <= kinds, kinds
    # woken, the spot confirmed "free": nothing repeated (one "free" over both wakes)
    parking = [r for _, r in FlashLog(dev).read(0, [], 1000, 1 << 20)
               if record.expand(r).startswith(b"k/pw-1-p1 ")]
    assert [json.loads(record.expand(r).split(b" ", 1)[1])["status"] for r in parking] == ["free"]


def test_the_power_section_has_bounds():
    ok = dict(CFG, power={"profile": "switched", "sense": {"pin": 34, "active": 0}, "debounce": 0.05})
    assert not schema.validate(ok)
    bad = dict(CFG, power={"profile": "solar", "sense": {"adc": 99}, "window": 1e999, "sleep": 5})
    fields = sorted(f for f, _ in schema.validate(bad))
    assert fields == ["power.profile", "power.sense.adc", "power.sleep", "power.window"], fields


def test_a_remote_power_change_says_it_applies_after_a_reboot():
    from app.commands import Commands

    sh = shell_on(NorFlash(8))
    c = Commands(sh.cfg, sh, None, apply=sh.reconfigure)
    (_, r), = c.handle(b'{"config": {"power": {"profile": "battery", "sleep": 600}}}')
    assert r == "OK, power after the next reboot", r
    (_, r), = c.handle(b'{"config": {"power": {"profile": "solar"}}}')
    assert r.startswith("ERROR") and "power.profile" in r, r
