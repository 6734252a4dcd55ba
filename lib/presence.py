# Digital presence inputs (inductive-loop detector cards, contact outputs):
# every edge is timestamped in the interrupt handler into a preallocated ring
# that the main loop drains with get().  The handler allocates nothing (it may
# run in hard-IRQ context, where allocation fails).
#
# Where pin interrupts are hard, an edge is stamped within microseconds and
# none is lost while the main loop is blocked.  On the ESP32 in MicroPython
# 1.25 they are not: Pin.irq takes no `hard` argument, the GPIO ISR only queues
# the handler (mp_sched_schedule, 8 entries) and the handler runs when the VM
# next runs Python.  A C call that blocks (TLS handshake, DNS, a flash erase)
# delays every stamp by as long as it blocks, and edges beyond the queue are
# dropped.  Nothing in 1.25's ESP32 port stamps or counts an edge without
# Python (no PCNT, RMT without RX, timers soft too; esp32.PCNT/machine.Counter
# come with 1.26).  Such a ring says so (`scheduled`); the traffic pipeline
# judges each stamp by the poll gap it fell in (app/traffic.py, PresencePair).
#
#   p = Presence(machine.Pin(34, machine.Pin.IN))
#   while (level := p.get()) >= 0: ... p.last_ticks (time.ticks_us() of the edge)
from array import array
from time import ticks_us

# The ring a scheduled handler needs (boards pass it as the size): while a C call holds
# the VM, edges wait in the scheduler's queue (8 on the ESP32: MICROPY_SCHEDULER_DEPTH),
# not in the ring; while the VM runs, each lands at once and the sense loop drains the
# ring every few ms. 31 edges are seconds of a lane's densest traffic without a poll; a
# hard handler (another port) fills its ring while the VM is held: 128, the default.
SCHEDULED_RING = 32


class EdgeRing:
    """Single-producer (IRQ) single-consumer ring of (ticks_us, level) edges."""

    def __init__(self, size=128):
        self.size = size
        self.ticks = array("i", bytes(4 * size))
        self.levels = bytearray(size)
        self.head = 0  # next slot the producer writes
        self.tail = 0  # next slot the consumer reads
        self.overruns = 0  # edges dropped because the ring was full
        self.last_ticks = 0
        self.scheduled = False  # stamped by a scheduled (soft) handler: late while the VM is held

    def push(self, ticks, level):
        h = self.head
        n = h + 1
        if n == self.size:
            n = 0
        if n == self.tail:
            self.overruns += 1
            return
        self.ticks[h] = ticks
        self.levels[h] = level
        self.head = n

    def get(self):
        """-> the oldest edge's level (0/1), its time in self.last_ticks; -1 if none."""
        t = self.tail
        if t == self.head:
            return -1
        self.last_ticks = self.ticks[t]
        level = self.levels[t]
        t += 1
        self.tail = 0 if t == self.size else t
        return level

    def __len__(self):
        return (self.head - self.tail) % self.size


class Presence(EdgeRing):
    """A presence input on a machine.Pin; `active` is the level that means a vehicle."""

    def __init__(self, pin, size=128, active=1, trigger=None):
        super().__init__(size)
        self.pin = pin
        self.active = active
        self._handler = self._edge  # bound once: calling it later allocates nothing
        if trigger is None:
            import machine
            trigger = machine.Pin.IRQ_RISING | machine.Pin.IRQ_FALLING
        try:
            pin.irq(handler=self._handler, trigger=trigger, hard=True)
        except (TypeError, ValueError):
            # The ESP32 port runs pin handlers soft (1.25: no `hard`): the ISR queues the
            # handler, which stamps the edge when the VM next runs Python.
            pin.irq(handler=self._handler, trigger=trigger)
            self.scheduled = True

    def _edge(self, pin):
        self.push(ticks_us() & 0x3FFFFFFF, 1 if pin.value() == self.active else 0)
