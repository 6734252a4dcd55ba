# The node's console: every line the node says goes through say(), which
# prints it and keeps it in a small RAM ring, so `smartnode inspect` can show
# what the node said recently even when nobody was listening on the port.
# Lines that recur (one per reading) go through Rate: at most one line per
# kind every few seconds, the lines held back counted in the next one, so a
# node sampling at 50 Hz never floods its console.  Nothing here allocates
# unless a line is actually said.
import sys
import time

RING = 24  # recent lines kept
WIDTH = 80  # bytes kept of each (seconds since start and the line; a longer one is cut)
# One buffer from boot: the ring's heap (2 KB) is the same in the first minute as after
# a year, and a line kept allocates nothing that stays.
_ring = bytearray(RING * WIDTH)
_lens = bytearray(RING)
count = 0  # lines said since boot; slot count % RING is the next
# Where lines go: the console (stdout). Benchmarks send them to stderr, so the
# node's lines never mix with their figures.
stream = sys.stdout
_start = time.ticks_ms()  # imported early in boot: the ring's clock is seconds since start


def say(*parts):
    global count
    line = " ".join([p if isinstance(p, str) else str(p) for p in parts])
    try:
        stream.write(line + "\n")
    except Exception:  # a console that fails (closed pipe) must not stop the node
        pass
    kept = ("%d %s" % (time.ticks_diff(time.ticks_ms(), _start) // 1000, line)).encode()[:WIDTH]
    i = count % RING
    _ring[i * WIDTH:i * WIDTH + len(kept)] = kept
    _lens[i] = len(kept)
    count += 1


def recent():
    """The ring, oldest first, each line as '<seconds since start> <line>'."""
    n = min(count, RING)
    out = []
    for k in range(count - n, count):
        i = k % RING
        b = bytes(_ring[i * WIDTH:i * WIDTH + _lens[i]])
        try:
            out.append(b.decode())
        except UnicodeError:  # cut inside a character
            out.append(bytes(c if c < 128 else 63 for c in b).decode())
    return out


class Rate:
    """One kind of recurring line: at most one every `seconds`; held-back ones counted."""

    def __init__(self, seconds=5):
        self.ms = int(seconds * 1000)
        self.next = None
        self.held = 0

    def due(self):
        """True if a line may be said now; else it is counted as held back (no allocation)."""
        now = time.ticks_ms()
        if self.next is not None and time.ticks_diff(self.next, now) > 0:
            self.held += 1
            return False
        self.next = time.ticks_add(now, self.ms)
        return True

    def say(self, *parts):
        """say() the line, with the count of lines held back since the last one."""
        if self.held:
            parts += ("(+%d more)" % self.held,)
            self.held = 0
        say(*parts)
