# Parking pipeline: each spot's magnetometer field against its empty-bay
# baseline -> ParkingSpot status free / occupied / unknown, published under
# '<node id>-p<n>' at once on a change (with the change's time) and as a
# heartbeat every `heartbeat` seconds.
#
# The baseline comes from a `calibrate` action (technician or remote command,
# the bay empty), from config (`baseline`), or, for replays, from the first
# `autocalibrate` seconds of samples.  While free, the baseline follows slow
# drift (temperature).  A new state must hold `debounce` seconds: a car
# rolling over a bay is not parking.
#
# Time comes as a pair: `t`, whole Unix seconds (stamps, heartbeats), and `ms`,
# a millisecond tick (time.ticks_ms() on a board) for debounce, drift steps,
# calibration and sensor timeouts.  On the ESP32 Unix seconds are not small
# ints and a float holds them only to 128 s: per sample, only ticks are compared.
from time import ticks_add, ticks_diff

from app import fiware, rec_parking
from app.baselines import BaselineKeeper
from app.magfield import FieldDeviation, calibrate_command, valid_sample
from app.magsensor import open_magnetometer, open_ranger, read_if_ready

MAGNETOMETER_DEFAULTS = {"threshold": 16, "release": 8, "fault": 4000, "debounce": 10,
                         "drift": 900, "timeout": 10, "autocalibrate": 0}
# An overhead ranger sees the road at a fixed distance and a car's roof or
# bonnet 0.5 to 1.5 m nearer: deviations in mm.
RANGER_DEFAULTS = {"threshold": 400, "release": 200, "fault": 1000000, "debounce": 10,
                   "drift": 900, "timeout": 10, "autocalibrate": 0}

FREE = "free"
OCCUPIED = "occupied"
UNKNOWN = "unknown"


class Spot:
    def __init__(self, n, key, pc, spec, baselines=None):
        self.n = n
        self.key = key
        ranging = "ranger" in spec
        defaults = RANGER_DEFAULTS if ranging else MAGNETOMETER_DEFAULTS

        def get(name):  # the spot's own setting, else the section's, else the sensor kind's
            return spec.get(name, pc.get(name, defaults.get(name)))

        self.on = get("threshold")  # deviation (counts or mm): a vehicle is there
        self.off = get("release")  # ... and has gone (hysteresis)
        self.fault = get("fault")  # beyond any vehicle: a broken sensor
        self.debounce_ms = int(get("debounce") * 1000 + 0.5)
        self.drift = max(1, int(get("drift")))  # s time constant of baseline tracking while free
        self.timeout_ms = int(get("timeout") * 1000 + 0.5)  # without samples: unknown
        axes = spec.get("axes", 1 if ranging else 3)
        baseline = spec.get("baseline")  # config wins over the stored one
        if not baseline and baselines is not None:
            baseline = baselines.get("p%d" % n, axes)
        self.field = FieldDeviation(axes, baseline, 1 if ranging else 3)
        self.keeper = BaselineKeeper(baselines, "p%d" % n)
        if self.field.calibrated:
            self.keeper.loaded(self.field.base)
        # Unknown until its own samples are sure (debounce), even with a baseline: a car
        # may have come or gone while the node was off or asleep.
        self.status = UNKNOWN
        self.reported = None  # the status last published (after a deep sleep: from RTC memory)
        self._cand = None
        self._cand_since = 0  # Unix second the candidate state began (its TimeInstant)
        self._cand_ms = 0  # ... and its tick
        self._cal_request = get("autocalibrate") if not self.field.calibrated else 0
        self._tracked_ms = None  # tick of the last drift step
        self.changes = 0
        self.driver = None

    def unsure(self, reported):
        """Woken from deep sleep: the spot was last published as `reported` (None: not
        known); a status its samples confirm is published only if it differs."""
        self.status = UNKNOWN
        self.reported = reported
        self._cand = None

    def calibrate(self, seconds):
        self._cal_request = seconds

    def sample(self, t, ms, values, emit):
        f = self.field
        if self._cal_request:
            f.calibrate(ms, self._cal_request)
            self._cal_request = 0
            self._set(t, UNKNOWN, emit)
        was_calibrating = f.calibrating
        dev = f.update(ms, values)
        if dev < 0:
            return
        if was_calibrating:  # calibration done: the bay is empty by definition
            self._cand = None
            self.keeper.calibrated(t, f.base)
            self._set(t, FREE, emit)
            return
        lean = self._cand or self.status
        if dev > self.fault:
            raw = UNKNOWN
        elif lean == OCCUPIED:
            raw = FREE if dev < self.off else OCCUPIED
        else:
            raw = OCCUPIED if dev > self.on else FREE
        if raw == self.status:
            self._cand = None
            if raw == FREE and dev < self.off:
                self._track(t, ms)
        elif raw != self._cand:
            self._cand = raw
            self._cand_since = t
            self._cand_ms = ms
        elif ticks_diff(ms, self._cand_ms) >= self.debounce_ms:
            self._cand = None
            self._set(self._cand_since, raw, emit)

    def _track(self, t, ms):
        """One drift step a second (the time constant is in seconds)."""
        last = self._tracked_ms
        if last is None:
            self._tracked_ms = ms
            return
        if ticks_diff(ms, last) < 1000:
            return
        # Whole seconds on from the last step; a long silence restarts the count.
        self._tracked_ms = ticks_add(last, 1000) if ticks_diff(ms, last) < 2000 else ms
        self.field.track(self.drift)
        self.keeper.tracked(t, self.field)

    def check(self, t, ms, emit):
        """No samples for `timeout` s: the sensor is not answering."""
        last = self.field.ms
        if last is not None and ticks_diff(ms, last) > self.timeout_ms and self.status != UNKNOWN:
            self._set(t, UNKNOWN, emit)

    def _set(self, t, status, emit):
        if status != self.status:
            self.status = status
            if status == self.reported:
                return  # confirmed what the platform already has (woken from deep sleep)
            self.reported = status
            self.changes += 1
            emit(rec_parking, self.key, (t, status))


class ParkingPipeline:
    def __init__(self, spots, heartbeat, emit, on_sample=None):
        self.spots = spots
        self.heartbeat = heartbeat
        self.emit = emit
        self.on_sample = on_sample
        self._next_hb = None
        self.bad_events = 0  # recorded samples that were not samples

    def _beat(self, t):
        if self._next_hb is None:
            self._next_hb = (int(t) // self.heartbeat + 1) * self.heartbeat
        while t >= self._next_hb:
            for s in self.spots:
                self.emit(rec_parking, s.key, (self._next_hb, s.status))
                s.reported = s.status  # what the platform now has
            self._next_hb += self.heartbeat

    def poll(self, t, ms):
        self._beat(t)
        for s in self.spots:
            if s.driver is not None:
                values = read_if_ready(s.driver)
                if values is not None:
                    s.sample(t, ms, values, self.emit)
            s.check(t, ms, self.emit)  # a dead sensor times out

    def event(self, t, ev, ms):
        if "mag" not in ev:
            return False
        self._beat(t)
        n = ev.get("spot", 1)
        for s in self.spots:
            if s.n == n:
                if not valid_sample(ev["mag"], s.field.axes):
                    self.bad_events += 1
                    return True
                s.sample(t, ms, ev["mag"], self.emit)
                if self.on_sample:
                    self.on_sample(t, {"spot": n, "dev": s.field.dev, "status": s.status})
                return True
        return False

    def close(self, t):
        pass

    def command(self, name, params):
        if name != "calibrate" or (isinstance(params, dict) and "lane" in params):
            return None  # a traffic lane's calibration
        return calibrate_command(params, "spot", {s.n: s for s in self.spots}, "p")


def build(cfg, board, emit, on_sample=None, baselines=None):
    pc = cfg["parking"] if isinstance(cfg.get("parking"), dict) else {}
    specs = pc.get("spots") or [{}]
    spots = []
    for i, spec in enumerate(specs):
        n = spec.get("spot", i + 1)
        key = fiware.key(cfg, "parking", "%s-p%d" % (cfg["device_id"], n))
        spot = Spot(n, key, pc, spec, baselines)
        if spec.get("sensor"):
            spot.driver = open_magnetometer(board, spec["sensor"])
        elif spec.get("ranger"):
            spot.driver = open_ranger(board, spec["ranger"])
        spots.append(spot)
    pipeline = ParkingPipeline(spots, pc.get("heartbeat", 600), emit, on_sample)
    if any(s.driver for s in spots):
        # A sensor is read once per poll: the shell polls at least this often.
        pipeline.poll_ms = 1000 // pc.get("sample_hz", 10)
    return pipeline

