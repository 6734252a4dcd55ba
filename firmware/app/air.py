# Air-quality pipeline: samples from the particulate, climate and CO2 sensors
# are aggregated per reporting interval into AirQualityObserved readings with
# mean/min/max/count per attribute and a `dataQuality` list of flags.
#
# Config cfg["air"]:
#   "sensors": {"sds011": {"uart": "pm", "duty": {...}, "filters": [...]},
#               "pms5003": {"uart": "pm2", "climate": false},
#               "bme280": {"i2c": "main", "address": 0x76, "every": 10},
#               "scd4x": {"i2c": "main", "address": 0x62, "every": 5},
#               "dht22": {}}      (a sensor with no bus: fed by recorded samples)
#   "duty": {"period": <interval>, "warmup": 30, "sample": 10}  laser sensors; absent = continuous
#   "filters": {"<sensor>": [{"median": 5}, ...]}  (or "filters" inside a sensor entry)
#   "stuck": {"seconds": 10800, "samples": 10}  same value this long = stuck:<attr>
#   "humid": 70  (%RH at or above which humid:pm* is flagged)
from app import fiware, rec_air
from app.air_sources import ATTRIBUTES, PRIORITY, make_source
from app.quality import HUMID, ORDER, PM, Channel



class AirPipeline:
    def __init__(self, key, interval, channels, sources, emit, humid_raw=7000):
        self.key = key
        self.interval = interval
        self.channels = channels  # [Channel] in publishing order
        self.sources = sources
        self.by_name = {}
        for s in sources:
            self.by_name[s.name] = s
        self.emit = emit
        self.humid_raw = humid_raw  # relativeHumidity raw units (0.01 %RH)
        self._rh = None
        for ch in channels:
            if ch.name == "relativeHumidity":
                self._rh = ch
        self._end = None  # end of the current reporting interval
        self._flags = [0] * len(channels)  # per channel: this interval's problem bits
        self.problems = []  # config entries that could not be honoured (see build)

    def _advance(self, t):
        if self._end is None:
            self._end = (int(t) // self.interval + 1) * self.interval
        while t >= self._end:
            self._report(self._end)
            self._end += self.interval

    def poll(self, t):
        self._advance(t)
        for s in self.sources:
            try:
                s.poll(t)
            except (OSError, ValueError):
                s.errors += 1  # a UART write failing, say: the others keep sampling

    def event(self, t, ev):
        """A recorded sample {"air": {"sensor": name, field: value, ...}} of a configured sensor."""
        a = ev.get("air")
        if not isinstance(a, dict):
            return False
        src = self.by_name.get(a.get("sensor"))
        if src is None:
            return False
        self._advance(t)
        src.feed(t, a)
        return True

    def close(self, t):
        if self._end is not None:
            self._report(self._end)
            self._end = None

    def status(self):
        """Per sensor: samples and faults so far (for the Device entity's health)."""
        return {s.name: {"samples": s.samples, "errors": s.errors} for s in self.sources}

    def _report(self, t_end):
        flags = self._flags
        chans = self.channels
        any_data = False
        for i in range(len(chans)):
            flags[i] = chans[i].flag_bits()
            any_data = any_data or chans[i].n > 0 or flags[i]
        rh = self._rh
        if rh is not None and rh.n and rh.sum >= self.humid_raw * rh.n:
            for i in range(len(chans)):
                if chans[i].n and chans[i].name in PM:
                    flags[i] |= HUMID
        if any_data:
            self.emit(rec_air, self.key, (t_end, chans, flags))
        for ch in chans:
            ch.reset()


def _filters(spec):
    """A channel's filter chain, or None; app.filters is imported only for a node that has one."""
    if not spec:
        return None
    from app import filters

    return filters.build(spec)


def build(cfg, board, emit, on_sample=None, baselines=None):
    air = cfg["air"]
    sensors = air.get("sensors", {})
    stuck = air.get("stuck", {})
    stuck_s = stuck.get("seconds", 10800)
    stuck_n = stuck.get("samples", 10)
    filter_cfg = air.get("filters", {})
    interval = cfg.get("interval", 300)
    owned = {}  # attribute -> Channel
    sources = []
    problems = []  # bad config entries: reported, never fatal
    for name in PRIORITY:
        spec = sensors.get(name)
        if spec is None:
            continue
        try:
            chain_spec = spec.get("filters", filter_cfg.get(name))
            _filters(chain_spec)
        except (ValueError, TypeError, AttributeError) as e:
            problems.append("%s filters: %s" % (name, e))
            chain_spec = None
        chans = {}
        for attr in ATTRIBUTES[name]:
            if name == "pms5003" and attr in ("temperature", "relativeHumidity") and not spec.get("climate"):
                continue
            if attr in owned:
                continue
            ch = Channel(attr, stuck_s, stuck_n, _filters(chain_spec))
            ch.expected = True
            owned[attr] = chans[attr] = ch
        try:
            sources.append(make_source(name, spec, board, chans, on_sample, air.get("duty"), interval))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            # No UART of that name, a bad duty cycle...: its attributes stay `missing`.
            problems.append("%s: %s" % (name, e))
    for n in sensors:
        if n not in ATTRIBUTES:
            problems.append("%s: unknown sensor" % n)
    channels = [owned[a] for a in ORDER if a in owned]
    key = fiware.key(cfg, "air", cfg["device_id"] + "-aq")
    p = AirPipeline(key, interval, channels, sources, emit, air.get("humid", 70) * 100)
    p.problems = problems
    return p
