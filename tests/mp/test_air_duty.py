# Duty cycling of a laser sensor: a state machine on explicit time driving the
# SDS011's sleep/work commands.
import json

from app import air
from app.board_unix import FeedUART
from app.duty import SAMPLING, SLEEPING, WARMING, DutyCycle
from mptest import raises, readings

T0 = 1795737600  # a multiple of 300
# Laser Dust Sensor Control Protocol V1.3, "set sleep and work": checksums 05 (sleep) and 06 (work).
SLEEP = bytes.fromhex("aab40601" + "00" * 11 + "ffff05ab")
WORK = bytes.fromhex("aab4060101" + "00" * 10 + "ffff06ab")


def test_wakes_warmup_plus_sample_before_the_boundary_and_sleeps_at_it():
    d = DutyCycle(300, warmup=30, sample=10)
    assert d.step(T0) == "sleep"
    assert d.step(T0 + 100) is None and d.state == SLEEPING
    assert d.step(T0 + 260) == "wake" and d.state == WARMING  # 300 - 30 - 10
    assert d.step(T0 + 289) is None and not d.sampling()
    assert d.step(T0 + 290) is None and d.sampling() and d.state == SAMPLING
    assert d.step(T0 + 300) == "sleep"
    assert d.step(T0 + 870) == "wake"  # a late poll lands inside a warm-up: wake at once


def test_period_must_leave_time_to_sleep():
    raises(ValueError, DutyCycle, 40, 30, 10)


class OneUART:
    def __init__(self):
        self.u = FeedUART()

    def uart(self, name):
        return self.u


def test_pipeline_samples_only_after_warmup_and_commands_the_sensor():
    board = OneUART()
    out = []
    cfg = {"device_id": "n", "apikey": "k", "interval": 300,
           "air": {"sensors": {"sds011": {"uart": "pm"}}, "duty": {"warmup": 30, "sample": 10}}}
    p = air.build(cfg, board, readings(out))
    frame = bytes.fromhex("aac0e2004001e994a0ab")  # PM2.5 22.6
    for s in range(300):
        board.u.feed(frame)  # the recording keeps sending; only the sampling window counts
        p.poll(T0 + s)
    p.poll(T0 + 300)
    assert bytes(board.u.written) == SLEEP + WORK + SLEEP
    (r,) = out
    assert r["pm25Count"] == 10 and r["pm25"] == 22.6
    assert p.sources[0].discarded == 290  # all but the 10 s window (a real sensor is silent asleep)


def test_sds011_in_query_mode_is_asked_once_a_second_while_sampling():
    board = OneUART()
    cfg = {"device_id": "n", "apikey": "k", "interval": 300,
           "air": {"sensors": {"sds011": {"uart": "pm", "query": True}}, "duty": {"warmup": 30, "sample": 10}}}
    p = air.build(cfg, board, lambda *reading: None)
    for s in range(300):
        p.poll(T0 + s)
    w = bytes(board.u.written)
    # Protocol V1.3: set query mode (checksum 02), sleep, work, then 10 queries (checksum 02).
    query_mode = bytes.fromhex("aab4020101" + "00" * 10 + "ffff02ab")
    query = bytes.fromhex("aab404" + "00" * 12 + "ffff02ab")
    assert w == query_mode + SLEEP + WORK + query * 10


class PinBoard(OneUART):
    def __init__(self):
        OneUART.__init__(self)
        self.levels = []

    def pin(self, number):
        board = self

        class Pin:
            def value(self, v):
                board.levels.append((number, v))
        return Pin()


def test_pms5003_set_pin_follows_the_duty_cycle():
    board = PinBoard()
    cfg = {"device_id": "n", "apikey": "k", "interval": 300,
           "air": {"sensors": {"pms5003": {"uart": "pm", "set_pin": 4}}, "duty": {}}}
    p = air.build(cfg, board, lambda *reading: None)
    for s in (0, 100, 260, 290, 300):
        p.poll(T0 + s)
    assert board.levels == [(4, 0), (4, 1), (4, 0)]
    assert not board.u.written  # no sleep/wake commands on the UART
