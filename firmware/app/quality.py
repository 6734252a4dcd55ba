# One published air-quality attribute over a reporting interval: count, sum,
# min, max of its samples as raw integers, and the data-quality checks that
# look at single samples (physical range, a value stuck for a long run).
#
# Raw units keep samples integers (no float per sample):
#   pm1 pm25 pm10  0.01 ug/m3     temperature  0.01 degC
#   relativeHumidity 0.01 %RH     pressure     Pa          co2  ppm
# name -> (raw units per published unit, decimals, lowest, highest plausible raw)
ATTRS = {
    "pm1": (100, 2, 0, 100000),
    "pm25": (100, 2, 0, 100000),
    "pm10": (100, 2, 0, 100000),
    "temperature": (100, 2, -4000, 8500),
    "relativeHumidity": (10000, 4, 0, 10000),
    "pressure": (100, 2, 30000, 110000),
    "co2": (1, 1, 0, 40000),
}
# An interval's problems per attribute, as bits (app.rec_air logs them so).
MISSING, RANGE, STUCK, OUTLIER, HUMID = 2, 4, 8, 16, 32
PM = ("pm1", "pm25", "pm10")  # particulates: humidity makes optical counters overread them
# Bounds the Smart Data Models schema puts on the published value (raw units): a
# sample outside them is flagged `range:` and kept out of the statistics, since
# AirQualityObserved with relativeHumidity 1.2 is refused. Samples that are only
# implausible (a -60 degC reading) are flagged and published as measured.
SCHEMA = {"pm25": (0, None), "pm10": (0, None), "relativeHumidity": (0, 10000),
          "pressure": (0, None), "co2": (0, None)}
ORDER = ("pm1", "pm25", "pm10", "temperature", "relativeHumidity", "pressure", "co2")


class Channel:
    def __init__(self, name, stuck_s=10800, stuck_n=10, chain=None):
        self.name = name
        self.index = ORDER.index(name)  # its bit in a log record (app.rec_air)
        self.scale, self.decimals, self.lo, self.hi = ATTRS[name]
        self.schema = SCHEMA.get(name)
        self.stuck_s = stuck_s
        self.stuck_n = stuck_n
        self.chain = chain  # filters.Chain or None
        self.expected = False  # a configured sensor provides it: silence is `missing`
        self.run_value = None  # the value repeated since run_start, run_n times
        self.run_start = 0
        self.run_n = 0
        self.rejected = 0  # samples an outlier filter dropped, this interval
        self.reset()

    def reset(self):
        self.n = 0
        self.sum = 0
        self.min = 0
        self.max = 0
        self.out_of_range = False
        self.stuck = False
        self.rejected = 0

    def add(self, t, raw):
        """A sample at time t (raw integer units); checks see it before any filter."""
        if raw < self.lo or raw > self.hi:
            self.out_of_range = True
            b = self.schema
            if b and (raw < b[0] or (b[1] is not None and raw > b[1])):
                return
        if raw == self.run_value:
            self.run_n += 1
        else:
            self.run_value = raw
            self.run_start = t
            self.run_n = 1
        if self.run_n >= self.stuck_n and t - self.run_start >= self.stuck_s:
            self.stuck = True
        if self.chain is not None:
            raw = self.chain.push(raw)
            if raw is None:
                self.rejected += 1
                return
        if self.n == 0:
            self.min = self.max = raw
        elif raw < self.min:
            self.min = raw
        elif raw > self.max:
            self.max = raw
        self.n += 1
        self.sum += raw

    def mean(self):
        return self.sum / (self.n * self.scale)

    def flag_bits(self):
        """This interval's problems as app.rec_air flag bits."""
        bits = 0
        if self.n == 0 and self.rejected == 0 and self.expected and not self.out_of_range:
            bits |= MISSING
        if self.out_of_range:
            bits |= RANGE
        if self.stuck:
            bits |= STUCK
        if self.rejected:
            bits |= OUTLIER
        return bits
