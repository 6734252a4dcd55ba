# Per-attribute sample filters in the spirit of ESPHome's sensor filters,
# on raw integers with preallocated windows.  Config (per sensor):
#   [{"median": 5}, {"mean": 3}, {"reject": {"window": 5, "ratio": 3.0, "floor": 500}}]
# median/mean: a sliding window of n samples (the output lags while it fills);
# reject: drop a sample farther from the window's median than
# ratio * |median| + floor (raw units); rejected samples are flagged `outlier:`.


class Window:
    def __init__(self, n):
        self.buf = [0] * n
        self.i = 0
        self.n = 0

    def push(self, x):
        b = self.buf
        b[self.i] = x
        self.i = (self.i + 1) % len(b)
        if self.n < len(b):
            self.n += 1


def _median(w, scratch):
    n = w.n
    for i in range(n):  # insertion sort into the scratch list: no allocation
        x = w.buf[i]
        j = i
        while j > 0 and scratch[j - 1] > x:
            scratch[j] = scratch[j - 1]
            j -= 1
        scratch[j] = x
    if n & 1:
        return scratch[n // 2]
    return (scratch[n // 2 - 1] + scratch[n // 2]) // 2


class Median:
    def __init__(self, n):
        self.w = Window(n)
        self.scratch = [0] * n

    def push(self, x):
        self.w.push(x)
        return _median(self.w, self.scratch)


class Mean:
    def __init__(self, n):
        self.w = Window(n)
        self.total = 0

    def push(self, x):
        w = self.w
        if w.n == len(w.buf):
            self.total -= w.buf[w.i]
        w.push(x)
        self.total += x
        return self.total // w.n


class Reject:
    def __init__(self, window=5, ratio=3.0, floor=0):
        self.w = Window(window)
        self.scratch = [0] * window
        self.ratio = ratio
        self.floor = floor

    def push(self, x):
        w = self.w
        if w.n >= 3:
            m = _median(w, self.scratch)
            if abs(x - m) > self.ratio * abs(m) + self.floor:
                return None
        w.push(x)
        return x


class Chain:
    def __init__(self, stages):
        self.stages = stages

    def push(self, x):
        for s in self.stages:
            x = s.push(x)
            if x is None:
                return None
        return x


def build(spec):
    """A Chain from a config list, or None for no filtering; ValueError on an unknown stage."""
    if not spec:
        return None
    stages = []
    for item in spec:
        (kind, arg), = item.items()
        if kind == "median":
            stages.append(Median(int(arg)))
        elif kind == "mean":
            stages.append(Mean(int(arg)))
        elif kind == "reject":
            stages.append(Reject(**arg) if isinstance(arg, dict) else Reject(int(arg)))
        else:
            raise ValueError("unknown air filter %r" % kind)
    return Chain(stages)
