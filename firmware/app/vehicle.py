# A vehicle passing over a magnetometer: the field's deviation from the
# baseline rises above `on` and falls back below `off` (hysteresis).  A long
# vehicle's signature dips between axles, so the pass only ends once the
# deviation has stayed below `off` for `gap` seconds; the end time is when it
# first fell.  Times are millisecond ticks (time.ticks_ms() on a board):
# exact on the ESP32, where a float cannot hold a Unix time to the second.
from time import ticks_diff


class PassDetector:
    def __init__(self, on=16, off=8, gap=0.3):
        self.on = on
        self.off = off
        self.gap_ms = int(gap * 1000 + 0.5)
        self.present = False
        self.start = None  # tick the present vehicle arrived
        self._below = None  # tick the deviation last fell below `off`
        self.end = None  # tick the last vehicle left

    def update(self, ms, dev):
        """One deviation at tick ms -> 1 when a vehicle arrives (at self.start),
        -1 when it has left (at self.end), 0 otherwise."""
        if dev < 0:
            return 0
        if not self.present:
            if dev > self.on:
                self.present = True
                self.start = ms
                self._below = None
                return 1
            return 0
        if dev >= self.off:
            self._below = None
            return 0
        if self._below is None:
            self._below = ms
        if ticks_diff(ms, self._below) >= self.gap_ms:
            self.present = False
            self.end = self._below
            return -1
        return 0
