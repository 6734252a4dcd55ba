# Traffic pipeline: vehicles per lane and reporting interval, published as
# TrafficFlowObserved under the lane's own device '<node id>-l<lane>'.
#
# Inputs per lane (config "traffic" {"lanes": [...]}):
#   presence  one or two digital detector inputs (loop-detector cards): count and
#             time over the detector; with two inputs `spacing_m` apart, the speed
#   magnetometer a QMC5883L/HMC5883L ({"type", "i2c"}) or replay events {"mag": [...],
#             "lane": n}: a pass = the field's deviation rising and falling
#   radar     an OPS243 on a UART: each burst of speed reports is one vehicle, its peak the speed
# Recorded loop-detector aggregates (replay events {"agg": [[vehicles, occupancy,
# km/h], ...], "period": s}) feed lanes 1..n directly.
from app import fiware, rec_lane
from app.lane import Lane
from app.baselines import BaselineKeeper
from app.magfield import FieldDeviation, calibrate_command, valid_sample
from app.magsensor import open_magnetometer, read_if_ready
from app.vehicle import PassDetector


class PresencePair:
    """Edges of one or two presence inputs of a lane -> vehicles, occupancy, speed.
    The first input counts; the second, `spacing` m downstream, times the speed."""

    def __init__(self, lane, inputs, spacing):
        self.lane = lane
        self.inputs = inputs
        self.spacing = spacing
        self._lead = []  # arrival times at the first input not yet seen at the second

    def poll(self, t, now_ticks):
        from time import ticks_diff
        lane = self.lane
        for i, ring in enumerate(self.inputs):
            while True:
                level = ring.get()
                if level < 0:
                    break
                te = t - ticks_diff(now_ticks, ring.last_ticks) / 1e6
                if i == 0:
                    if level:
                        lane.on(te)
                        if len(self._lead) < 8:
                            self._lead.append(te)
                    else:
                        lane.off(te)
                elif level and self._lead:
                    dt = te - self._lead.pop(0)
                    if dt > 0:
                        lane.speed(self.spacing / dt * 3.6)


class MagLane:
    def __init__(self, lane, axes, on, off, gap, calibrate, baseline, driver=None, baselines=None):
        self.lane = lane
        self.driver = driver
        name = "l%d" % lane.id
        if not baseline and baselines is not None:  # config wins over the stored one
            baseline = baselines.get(name, axes)
        self.field = FieldDeviation(axes, baseline)
        self.keeper = BaselineKeeper(baselines, name)
        if self.field.calibrated:
            self.keeper.loaded(self.field.base)
        self.passes = PassDetector(on, off, gap)
        self._cal_request = calibrate if not self.field.calibrated else 0
        lane.live = True

    def calibrate(self, seconds):
        """Take a new baseline over the next `seconds` of samples (the lane empty)."""
        self._cal_request = seconds

    def sample(self, t, values):
        if self._cal_request:
            self.field.calibrate(t, self._cal_request)
            self._cal_request = 0
        was_calibrating = self.field.calibrating
        r = self.passes.update(t, self.field.update(t, values))
        if was_calibrating and not self.field.calibrating:
            self.keeper.calibrated(t, self.field.base)
        if r > 0:
            self.lane.on(self.passes.start)
        elif r < 0:
            self.lane.off(self.passes.end)
        return r


class RadarLane:
    """Speed readings of a radar: readings less than `gap` s apart are one vehicle,
    whose speed is the burst's peak (the radar sees it best head-on)."""

    def __init__(self, driver, lane, gap=0.5):
        self.driver = driver
        self.lane = lane
        self.gap = gap
        self._peak = 0.0
        self._last = None
        lane.live = True

    def poll(self, t):
        d = self.driver
        while d.read():
            if self._last is not None and t - self._last > self.gap:
                self._flush()
            v = abs(d.speed)
            if v > self._peak:
                self._peak = v
            self._last = t
        if self._last is not None and t - self._last > self.gap:
            self._flush()

    def _flush(self):
        if self._peak > 0:
            self.lane.speed(self._peak * 3.6)
        self._peak = 0.0
        self._last = None


class TrafficPipeline:
    def __init__(self, cfg, emit, on_sample=None):
        self.cfg = cfg
        self.emit = emit
        self.on_sample = on_sample
        self.interval = cfg.get("interval", 300)
        self.lanes = {}  # lane id -> Lane
        self.presence = []
        self.mag = {}  # lane id -> MagLane
        self.radar = []  # RadarLane
        self._end = None
        self.bad_events = 0  # recorded events that could not be used
        tc = cfg["traffic"] if isinstance(cfg.get("traffic"), dict) else {}
        self.tc = tc

    def lane(self, n):
        lane = self.lanes.get(n)
        if lane is None:
            tc = self.tc
            key = fiware.key(self.cfg, "traffic", "%s-l%d" % (self.cfg["device_id"], n))
            lane = Lane(n, key, tc.get("stuck_on", 180), tc.get("dead_after", 3600),
                        tc.get("min_quiet", 600))
            if self._end is not None:
                lane.start = self._end - self.interval
            self.lanes[n] = lane
        return lane

    def _roll(self, t):
        if self._end is None:
            self._end = (int(t) // self.interval + 1) * self.interval
            for lane in self.lanes.values():
                lane.start = self._end - self.interval
                if lane.live and lane.last_vehicle is None:
                    lane.last_vehicle = t
        while t >= self._end:
            self._report(self._end)
            self._end += self.interval

    def poll(self, t):
        self._roll(t)
        if self.presence:
            from time import ticks_us
            now = ticks_us()
            for p in self.presence:
                p.poll(t, now)
        for r in self.radar:
            r.poll(t)
        for m in self.mag.values():
            if m.driver is not None:
                values = read_if_ready(m.driver)
                if values is not None:
                    m.sample(t, values)

    def event(self, t, ev):
        if "mag" in ev:
            m = self.mag.get(ev.get("lane", 1))
            if m is None:
                return False
            if not valid_sample(ev["mag"], m.field.axes):
                self.bad_events += 1
                return True
            self._roll(t)
            m.sample(t, ev["mag"])
            if self.on_sample:
                self.on_sample(t, {"lane": m.lane.id, "dev": m.field.dev, "present": m.passes.present})
            return True
        if "agg" in ev:
            self._roll(t)
            period = ev.get("period", 30)
            for i, a in enumerate(ev["agg"] if isinstance(ev["agg"], list) else ()):
                if a is None:
                    continue
                try:
                    vehicles, occ = int(a[0]), float(a[1])
                    kmh = float(a[2]) if len(a) > 2 and a[2] is not None else None
                except (TypeError, ValueError, IndexError):
                    self.bad_events += 1
                    continue
                if vehicles < 0 or not 0 <= occ <= 1 or period <= 0:
                    self.bad_events += 1
                    continue
                self.lane(i + 1).aggregate(t, period, vehicles, occ, kmh)
            return True
        return False

    def close(self, t):
        if self._end is not None:
            self._report(self._end)

    def command(self, name, params):
        if name != "calibrate" or not self.mag:
            return None
        return calibrate_command(params, "lane", self.mag, "l")

    def _report(self, t_end):
        for n in sorted(self.lanes):
            lane = self.lanes[n]
            fields = lane.report(t_end, self.interval)
            if fields is not None:
                self.emit(rec_lane, lane.key, fields)


def build(cfg, board, emit, on_sample=None, baselines=None):
    p = TrafficPipeline(cfg, emit, on_sample)
    tc = p.tc
    for spec in tc.get("lanes", ()):
        lane = p.lane(spec.get("lane", 1))
        if spec.get("presence"):
            rings = [board.presence(name) for name in spec["presence"]]
            p.presence.append(PresencePair(lane, rings, spec.get("spacing_m", 0)))
            lane.live = True
        if spec.get("magnetometer"):
            sensor = spec["magnetometer"]
            driver = open_magnetometer(board, sensor) if isinstance(sensor, dict) else None
            p.mag[lane.id] = MagLane(lane, spec.get("axes", 3), tc.get("threshold", 16),
                                     tc.get("release", 8), tc.get("gap", 0.3),
                                     tc.get("autocalibrate", 0), spec.get("baseline"), driver,
                                     baselines)
        if spec.get("radar"):
            from ops243 import OPS243
            p.radar.append(RadarLane(OPS243(board.uart(spec["radar"]), spec.get("radar_unit", "mps")),
                                     lane, tc.get("radar_gap", 0.5)))
    if any(m.driver for m in p.mag.values()):
        # A magnetometer is read once per poll; a pass over it lasts a fraction of a second.
        p.poll_ms = 1000 // tc.get("sample_hz", 50)
    return p
