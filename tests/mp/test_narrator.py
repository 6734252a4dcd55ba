# The node's console: lines kept in a RAM ring for inspect, one line per reading at most
# every few seconds per device (the rest counted), one per state change; a held-back
# reading costs no allocation. Records here are in the text form app.record.expand
# passes through ('<key> {json}').
import io
import time

import micropython

from app import console
from app.narrator import Narrator

AQ = b'k/lj-1-aq {"TimeInstant":"2026-11-29T10:00:00Z","pm25":3.2,"pm25Min":3.1,"pm25Max":3.4,"pm25Count":60,"pm10":5}'
MISSING = b'k/lj-1-aq {"TimeInstant":"2026-11-29T10:00:05Z","pm10":5,"dataQuality":["missing:pm25"]}'


def said(fn):
    """The lines fn() says on the console."""
    old, console.stream = console.stream, io.StringIO()
    try:
        fn()
        return console.stream.getvalue().splitlines()
    finally:
        console.stream = old


def test_recent_lines_stay_in_a_small_ring_oldest_first():
    def many():
        for i in range(console.RING + 5):
            console.say("line", i)
    assert len(said(many)) == console.RING + 5
    recent = console.recent()
    assert len(recent) == console.RING
    assert recent[0].endswith(" line 5") and recent[-1].endswith(" line %d" % (console.RING + 4))
    assert recent[-1].split()[0].isdigit()  # seconds since boot


def test_one_line_per_device_every_few_seconds_with_the_count_held_back():
    n = Narrator(seconds=0.2)

    def burst():
        for seq in range(1, 51):  # a 50 Hz stream of readings
            n.reading("k/lj-1-aq", AQ, seq)
        n.reading("k/lj-1-p1", b'k/lj-1-p1 {"status":"free"}', 51)  # another device has its own budget
        time.sleep_ms(250)
        n.reading("k/lj-1-aq", AQ, 52)
    lines = said(burst)
    assert lines == ["reading lj-1-aq #1 pm10=5 pm25=3.2",
                     "reading lj-1-p1 #51 status=free",
                     "reading lj-1-aq #52 pm10=5 pm25=3.2 (+49 more)"]


def test_a_held_back_reading_allocates_nothing():
    n = Narrator(seconds=60)
    n.reading("k/lj-1-aq", AQ, 1)  # said, and its rate created
    micropython.heap_lock()
    try:
        for seq in range(2, 200):
            n.reading("k/lj-1-aq", AQ, seq)
    finally:
        micropython.heap_unlock()
    assert n.rates["k/lj-1-aq"].held == 198


def test_sensor_faults_and_their_end_are_said_once():
    n = Narrator(seconds=0)  # every reading said: each is looked at for faults

    def run():
        n.reading("k/lj-1-aq", AQ, 1)
        n.reading("k/lj-1-aq", MISSING, 2)
        n.reading("k/lj-1-aq", MISSING, 3)
        n.reading("k/lj-1-aq", AQ, 4)
    lines = [ln for ln in said(run) if not ln.startswith("reading")]
    assert lines == ["fault: lj-1-aq missing:pm25", "fault cleared: lj-1-aq"]


def test_uplink_up_down_and_a_drained_backlog_are_said():
    n = Narrator()

    def run():
        n.step(False, None, 0)  # booting: not connected yet, nothing to say
        n.step(True, None, 1)
        n.step(False, "OSError: 113", 5)
        for pending in (20, 40, 12, 0):
            n.step(True, None, pending)
        n.step(True, None, 1)
        n.step(True, None, 0)  # a single reading delivered: no line
    assert said(run) == ["uplink: up", "uplink: down: OSError: 113", "uplink: up",
                         "log: backlog drained (40 readings waiting at most)"]


def test_the_ring_is_one_buffer_from_boot_and_long_lines_are_cut():
    import gc

    said(lambda: console.say("warm-up"))
    gc.collect()
    before = gc.mem_alloc()
    said(lambda: [console.say("y" * 200, i) for i in range(2 * console.RING)])
    gc.collect()
    assert gc.mem_alloc() - before < 64  # the kept lines hold no heap of their own
    recent = console.recent()
    assert len(recent) == console.RING
    assert all(len(r) == console.WIDTH and r.endswith("yyy") for r in recent)
