# A traffic lane over a Doppler radar (app.traffic, lib/ops243.py).


class RadarLane:
    """Speed readings of a radar: readings less than `gap` s apart are one vehicle,
    whose speed is the burst's peak (the radar sees it best head-on)."""

    def __init__(self, driver, lane, gap=0.5):
        self.driver = driver
        self.lane = lane
        self.gap_ms = int(gap * 1000 + 0.5)
        self._peak = 0.0
        self._last = None  # tick of the burst's last reading
        lane.live = True

    def _ended(self, ms):
        from time import ticks_diff
        return self._last is not None and ticks_diff(ms, self._last) > self.gap_ms

    def poll(self, t, ms):
        d = self.driver
        while d.read():
            if self._ended(ms):
                self._flush()
            v = abs(d.speed)
            if v > self._peak:
                self._peak = v
            self._last = ms
        if self._ended(ms):
            self._flush()

    def _flush(self):
        if self._peak > 0:
            self.lane.speed(self._peak * 3.6)
        self._peak = 0.0
        self._last = None
