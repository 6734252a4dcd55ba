# Presence inputs: the edge ring an interrupt handler writes into.
import micropython

from presence import EdgeRing, Presence


def test_edges_come_out_oldest_first_with_their_ticks():
    r = EdgeRing(8)
    for i in range(5):
        r.push(1000 + i, i & 1)
    assert len(r) == 5
    got = []
    while True:
        level = r.get()
        if level < 0:
            break
        got.append((r.last_ticks, level))
    assert got == [(1000, 0), (1001, 1), (1002, 0), (1003, 1), (1004, 0)]
    assert r.get() == -1 and len(r) == 0


def test_a_full_ring_counts_overruns_and_keeps_the_oldest_edges():
    r = EdgeRing(4)  # holds 3 edges
    for i in range(6):
        r.push(i, 1)
    assert r.overruns == 3
    assert [(r.get(), r.last_ticks)[1] for _ in range(3)] == [0, 1, 2]
    # Wrap-around after draining.
    for i in range(10, 13):
        r.push(i, 0)
    assert [(r.get(), r.last_ticks)[1] for _ in range(3)] == [10, 11, 12]


class StandInPin:
    """machine.Pin's irq/value surface (the unix port has no GPIO)."""

    def __init__(self):
        self.level = 0
        self.handler = None
        self.trigger = None

    def irq(self, handler=None, trigger=None, hard=False):
        self.handler = handler
        self.trigger = trigger

    def value(self):
        return self.level


def test_the_interrupt_handler_allocates_nothing():
    pin = StandInPin()
    p = Presence(pin, size=64, active=0, trigger=3)  # active low: an opto output pulls down
    assert pin.trigger == 3 and pin.handler is not None
    handler = pin.handler
    micropython.heap_lock()  # any allocation now raises MemoryError, as in a hard IRQ
    try:
        for i in range(40):
            pin.level = i & 1
            handler(pin)
        for i in range(40):
            p.get()
    finally:
        micropython.heap_unlock()
    assert p.overruns == 0 and len(p) == 0


def test_active_level_maps_to_vehicle_present():
    pin = StandInPin()
    p = Presence(pin, size=8, active=0, trigger=3)
    pin.level = 0
    pin.handler(pin)
    pin.level = 1
    pin.handler(pin)
    assert p.get() == 1 and p.get() == 0
