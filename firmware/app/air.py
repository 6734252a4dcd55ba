# Air-quality pipeline: samples from the particulate and climate drivers are
# aggregated per reporting interval into AirQualityObserved readings.
from app import fiware
from app.isotime import iso

PM25 = 0
PM10 = 1
NAMES = ("pm25", "pm10")


class IntervalStats:
    """Count and sum of each attribute over one interval, as raw driver integers."""

    def __init__(self, names, scale):
        k = len(names)
        self.names = names
        self.scale = scale  # raw units per published unit (10: tenths)
        self.n = [0] * k
        self.sum = [0] * k

    def add(self, i, raw):
        self.n[i] += 1
        self.sum[i] += raw

    def reset(self):
        for i in range(len(self.n)):
            self.n[i] = 0
            self.sum[i] = 0

    def encode(self, t):
        """-> JSON object bytes with the interval means, or None if nothing was sampled."""
        parts = []
        for i in range(len(self.n)):
            if self.n[i]:
                parts.append('"%s":%.2f' % (self.names[i], self.sum[i] / (self.n[i] * self.scale)))
        if not parts:
            return None
        ts = iso(t)
        return ('{"TimeInstant":"%s","dateObserved":"%s",%s}' % (ts, ts, ",".join(parts))).encode()


class SDS011Source:
    name = "sds011"

    def __init__(self, driver, stats, on_sample):
        self.driver = driver
        self.stats = stats
        self.on_sample = on_sample

    def poll(self, t):
        d = self.driver
        while d.read():
            self.stats.add(PM25, d.pm25)
            self.stats.add(PM10, d.pm10)
            if self.on_sample:
                self.on_sample(t, {"sensor": "sds011", "pm25": d.pm25 / 10, "pm10": d.pm10 / 10})


class AirPipeline:
    def __init__(self, key, interval, sources, stats, emit):
        self.key = key
        self.interval = interval
        self.sources = sources
        self.stats = stats
        self.emit = emit
        self._end = None  # end of the current reporting interval

    def poll(self, t):
        if self._end is None:
            self._end = (int(t) // self.interval + 1) * self.interval
        while t >= self._end:
            self._report(self._end)
            self._end += self.interval
        for s in self.sources:
            s.poll(t)

    def event(self, t, ev):
        return False

    def close(self, t):
        if self._end is not None:
            self._report(self._end)

    def _report(self, t_end):
        obj = self.stats.encode(t_end)
        self.stats.reset()
        if obj is not None:
            self.emit(self.key, obj)


def build(cfg, board, emit, on_sample=None):
    stats = IntervalStats(NAMES, 10)
    sources = []
    sensors = cfg["air"].get("sensors", {})
    if "sds011" in sensors:
        from sds011 import SDS011
        sources.append(SDS011Source(SDS011(board.uart(sensors["sds011"]["uart"])), stats, on_sample))
    key = fiware.key(cfg, "air", cfg["device_id"] + "-aq")
    return AirPipeline(key, cfg.get("interval", 300), sources, stats, emit)
