# Deviation of a magnetometer's field from its empty-road baseline.
# Shared by parking spots and magnetometer traffic lanes.  Real I2C buses
# return single-sample garbage (-16384 among values near 50 in the MAG3110
# recordings), so every axis goes through a median of three before use: one
# bad sample can never move the deviation.


FIX_BITS = 12
FIX = 1 << FIX_BITS


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
        self.calibrated = False
        self._base_fx = [0] * axes  # baseline in 1/FIX counts: drift tracking without floats
        self._base_i = [0] * axes  # rounded to counts, for the hot path
        self._cal_sum = [0] * axes
        self._cal_n = 0
        self._cal_until = None
        self.dev = 0
        self.t = None  # time of the last sample
        if baseline:
            self.set_baseline(baseline)

    def set_baseline(self, values):
        for k in range(self.axes):
            self._base_fx[k] = int(round(values[k] * FIX))
            self._base_i[k] = int(round(values[k]))
        self.calibrated = True

    @property
    def base(self):
        """The baseline per axis in counts (None until calibrated)."""
        return [b / FIX for b in self._base_fx] if self.calibrated else None

    def calibrate(self, t, seconds):
        """Take a new baseline from the samples of the next `seconds` (the bay or lane empty)."""
        self.calibrated = False
        for k in range(self.axes):
            self._cal_sum[k] = 0
        self._cal_n = 0
        self._cal_until = t + seconds

    def _finish_calibration(self):
        # Kept out of update(): a comprehension closing over a local would make
        # update() allocate a cell on every call.
        n = self._cal_n
        self.set_baseline([v / n for v in self._cal_sum])
        self._cal_until = None

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
                self._finish_calibration()
        if not self.calibrated:
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

    def track(self, tau):
        """Move the baseline 1/tau of the way to the current field (slow drift while
        empty, called once a second: tau is the time constant in seconds).  Integer
        arithmetic: on the device a float is a heap object."""
        if not self.calibrated:
            return
        b = self._base_fx
        for k in range(self.axes):
            d = self.f[k] * FIX - b[k]
            b[k] += d // tau if d >= 0 else -(-d // tau)
            self._base_i[k] = (b[k] + FIX // 2) >> FIX_BITS


def calibrate_command(params, key, targets, prefix):
    """The `calibrate` command for a set of detectors {n: obj with calibrate(seconds)}:
    params {"<key>": n (default all), "seconds": s (default 2)} -> result text."""
    seconds = 2
    which = None
    if isinstance(params, dict):
        seconds = params.get("seconds", seconds)
        which = params.get(key)
    if not isinstance(seconds, (int, float)) or not 0 < seconds <= 600:
        return "ERROR seconds must be more than 0 and at most 600"  # a failure's form (app/commands.py)
    done = []
    for n in sorted(targets):
        if which is None or n == which:
            targets[n].calibrate(seconds)
            done.append("%s%d" % (prefix, n))
    if not done:
        return "ERROR no %s %s" % (key, which)
    return "calibrating %s over %s s" % (",".join(done), seconds)
