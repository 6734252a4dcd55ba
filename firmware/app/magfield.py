# Deviation of a magnetometer's field from its empty-road baseline.
# Shared by parking spots and magnetometer traffic lanes.  Real I2C buses
# return single-sample garbage (-16384 among values near 50 in the MAG3110
# recordings), so every axis goes through a median of three before use: one
# bad sample can never move the deviation.


def _med3(a, b, c):
    if a > b:
        a, b = b, a
    if b > c:
        b = c
    return a if a > b else b


def valid_sample(values, axes):
    """A recorded sample (replay event) fit to feed: at least `axes` ints."""
    if not isinstance(values, (list, tuple)) or len(values) < axes:
        return False
    for k in range(axes):
        if not isinstance(values[k], int):
            return False
    return True


class FieldDeviation:
    """Feed raw int axes (`group` per sensor, several sensors side by side); read `dev`:
    the largest, over sensors, of the sum of |filtered axis - baseline| in counts.
    A magnetometer has 3 axes per sensor; a ranger 1 (mm)."""

    def __init__(self, axes, baseline=None, group=3):
        self.axes = axes
        self.group = group
        self._w = [[0] * axes, [0] * axes, [0] * axes]  # last three raw samples
        self._i = 0
        self._seen = 0
        self.f = [0] * axes  # median-filtered sample
        self.base = None  # float baseline per axis, None until calibrated
        self._base_i = [0] * axes  # rounded copy for the hot path
        self._cal_sum = [0] * axes
        self._cal_n = 0
        self._cal_until = None
        self.dev = 0
        self.t = None  # time of the last sample
        if baseline:
            self.set_baseline(baseline)

    def set_baseline(self, values):
        self.base = [float(v) for v in values]
        for k in range(self.axes):
            self._base_i[k] = int(round(self.base[k]))

    def calibrate(self, t, seconds):
        """Take a new baseline from the samples of the next `seconds` (the bay or lane empty)."""
        self.base = None
        for k in range(self.axes):
            self._cal_sum[k] = 0
        self._cal_n = 0
        self._cal_until = t + seconds

    @property
    def calibrating(self):
        return self._cal_until is not None

    def update(self, t, sample):
        """One raw sample (sequence of ints); returns the deviation, or -1 while uncalibrated."""
        self.t = t
        w = self._w[self._i]
        for k in range(self.axes):
            w[k] = sample[k]
        self._i = (self._i + 1) % 3
        self._seen += 1
        a, b, c = self._w
        f = self.f
        for k in range(self.axes):
            f[k] = _med3(a[k], b[k], c[k]) if self._seen >= 3 else sample[k]
        if self._cal_until is not None:
            if self._seen >= 3:
                for k in range(self.axes):
                    self._cal_sum[k] += f[k]
                self._cal_n += 1
            if t >= self._cal_until and self._cal_n:
                n = self._cal_n
                self.set_baseline([s / n for s in self._cal_sum])
                self._cal_until = None
        if self.base is None:
            self.dev = -1
            return -1
        bi = self._base_i
        dev = 0
        if self.group == 3:
            for s in range(0, self.axes, 3):
                d = abs(f[s] - bi[s]) + abs(f[s + 1] - bi[s + 1]) + abs(f[s + 2] - bi[s + 2])
                if d > dev:
                    dev = d
        else:
            g = self.group
            for s in range(0, self.axes, g):
                d = 0
                for k in range(s, s + g):
                    d += abs(f[k] - bi[k])
                if d > dev:
                    dev = d
        self.dev = dev
        return dev

    def track(self, fraction):
        """Move the baseline `fraction` of the way to the current field (slow drift while empty)."""
        if self.base is None:
            return
        base = self.base
        for k in range(self.axes):
            base[k] += (self.f[k] - base[k]) * fraction
            self._base_i[k] = int(round(base[k]))


def calibrate_command(params, key, targets, prefix):
    """The `calibrate` command for a set of detectors {n: obj with calibrate(seconds)}:
    params {"<key>": n (default all), "seconds": s (default 2)} -> result text."""
    seconds = 2
    which = None
    if isinstance(params, dict):
        seconds = params.get("seconds", seconds)
        which = params.get(key)
    if not isinstance(seconds, (int, float)) or not 0 < seconds <= 600:
        return "error: seconds must be more than 0 and at most 600"
    done = []
    for n in sorted(targets):
        if which is None or n == which:
            targets[n].calibrate(seconds)
            done.append("%s%d" % (prefix, n))
    if not done:
        return "error: no %s %s" % (key, which)
    return "calibrating %s over %s s" % (",".join(done), seconds)
