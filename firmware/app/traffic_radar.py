# A traffic lane over a Doppler radar (app.traffic, lib/ops243.py; a CW module: app.cwradar).


class RadarLane:
    """Speed readings of a radar: readings less than `gap` s apart are one vehicle,
    whose speed is the burst's peak (the radar sees it best head-on)."""

    def __init__(self, driver, lane, gap=0.5, counts=True):
        self.driver = driver
        self.lane = lane
        self.counts = counts  # False where loops or a magnetometer count the lane's vehicles
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
                self._flush(t)
            v = abs(d.speed)
            if v > self._peak:
                self._peak = v
            self._last = ms
        if self._ended(ms):
            self._flush(t)

    def _flush(self, t):
        if self._peak > 0:
            self.lane.speed(self._peak * 3.6)
            if self.counts:  # the burst was one vehicle
                self.lane._seen(t)
                self.lane.count += 1
        self._peak = 0.0
        self._last = None
