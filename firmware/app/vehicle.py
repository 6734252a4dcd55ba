# A vehicle passing over a magnetometer: the field's deviation from the
# baseline rises above `on` and falls back below `off` (hysteresis).  A long
# vehicle's signature dips between axles, so the pass only ends once the
# deviation has stayed below `off` for `gap` seconds; the end time is when it
# first fell.


class PassDetector:
    def __init__(self, on=16, off=8, gap=0.3):
        self.on = on
        self.off = off
        self.gap = gap
        self.present = False
        self.start = None  # when the present vehicle arrived
        self._below = None  # when the deviation last fell below `off`
        self._below_until = 0  # ... plus the gap (compared, not subtracted: no float per sample)
        self.end = None  # when the last vehicle left

    def update(self, t, dev):
        """-> 1 when a vehicle arrives (at self.start), -1 when it has left
        (at self.end), 0 otherwise."""
        if dev < 0:
            return 0
        if not self.present:
            if dev > self.on:
                self.present = True
                self.start = t
                self._below = None
                return 1
            return 0
        if dev >= self.off:
            self._below = None
            return 0
        if self._below is None:
            self._below = t
            self._below_until = t + self.gap
        if t >= self._below_until:
            self.present = False
            self.end = self._below
            return -1
        return 0
