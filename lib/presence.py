# Digital presence inputs (inductive-loop detector cards, contact outputs):
# every edge is timestamped in the interrupt handler into a preallocated ring,
# so no edge is lost while the main loop is busy or blocked on the network.
# The handler allocates nothing (it may run in hard-IRQ context, where allocation fails);
# the main loop drains the ring with get().
#
#   p = Presence(machine.Pin(34, machine.Pin.IN))
#   while (level := p.get()) >= 0: ... p.last_ticks (time.ticks_us() of the edge)
from array import array
from time import ticks_us


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
            # The ESP32 port runs pin handlers soft (scheduled, 1.25): the edge is still
            # queued by the ISR, its timestamp taken a little later.
            pin.irq(handler=self._handler, trigger=trigger)

    def _edge(self, pin):
        self.push(ticks_us() & 0x3FFFFFFF, 1 if pin.value() == self.active else 0)
