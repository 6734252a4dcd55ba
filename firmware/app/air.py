# Air-quality pipeline: samples from the particulate and climate drivers are
# aggregated per reporting interval into AirQualityObserved measures.
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

    def __init__(self, driver, stats):
        self.driver = driver
        self.stats = stats

    def poll(self, t, on_sample=None):
        d = self.driver
        while d.read():
            self.stats.add(PM25, d.pm25)
            self.stats.add(PM10, d.pm10)
            if on_sample:
                on_sample(t, {"sensor": "sds011", "pm25": d.pm25 / 10, "pm10": d.pm10 / 10})
