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
#
# A lane's magnetometer (app.traffic_mag) and radar (app.traffic_radar) code is
# imported only by a node that has one: a loop-detector node runs neither.
from app import fiware, rec_lane
from app.lane import Lane


class PresencePair:
    """Edges of one or two presence inputs of a lane -> vehicles, occupancy, speed.
    The first input counts; the second, `spacing` m downstream, times the speed.

    Edge times are the rings' ticks_us stamps.  A ring filled by a scheduled
    handler (`ring.scheduled`: the ESP32 in MicroPython 1.25, whose pin
    interrupts are all soft) stamps an edge when the VM next runs Python, so a
    stamp is late by less than the gap between the two sense-loop polls around
    it: the node polls presence lanes every `poll_ms` and judges each gap.
    Edges drained after a longer gap (`late_ms`: a C call held the VM, a TLS
    handshake, a flash erase) may be late by all of it: they are still counted,
    but give no speed and flag the interval `edges-late`.  A lost edge (ring
    overrun, the scheduler queue full, a pulse shorter than the handler's
    delay: two edges of the same level in a row) flags `edges-lost`."""

    def __init__(self, lane, inputs, spacing):
        self.lane = lane
        self.inputs = inputs
        self.spacing = spacing
        self._lead = []  # ticks_us of arrivals at the first input not yet seen at the second
        self._levels = bytearray(b"\xff" * len(inputs))  # last level per input (0xff: none yet)
        self._overruns = [getattr(r, "overruns", 0) for r in inputs]

    def poll(self, t, ms, now_us, late=False):
        """Drain the rings at Unix second t, tick ms (ticks_us now_us); `late`: the VM
        was held since the last poll, so scheduled stamps are not to be trusted."""
        from time import ticks_add, ticks_diff
        lane = self.lane
        for i, ring in enumerate(self.inputs):
            untimed = late and getattr(ring, "scheduled", False)
            while True:
                level = ring.get()
                if level < 0:
                    break
                if level == self._levels[i]:
                    lane.flag("edges-lost")
                self._levels[i] = level
                if untimed:
                    lane.flag("edges-late")
                    if i == 0:
                        self._lead.clear()  # nothing to time a speed from
                te_us = ring.last_ticks
                te = ticks_add(ms, -((ticks_diff(now_us, te_us) + 500) // 1000))
                if i == 0:
                    if level:
                        lane.on(t, te)
                        if len(self._lead) < 8 and not untimed:
                            self._lead.append(te_us)
                    else:
                        lane.off(t, te)
                elif level and self._lead:
                    dt = ticks_diff(te_us, self._lead.pop(0))
                    if dt > 0 and not untimed:
                        lane.speed(self.spacing * 3.6e6 / dt)
            if ring.overruns != self._overruns[i]:
                self._overruns[i] = ring.overruns
                lane.flag("edges-lost")


class TrafficPipeline:
    def __init__(self, cfg, emit, on_sample=None):
        self.cfg = cfg
        self.emit = emit
        self.on_sample = on_sample
        self.interval = cfg.get("interval", 300)
        self.lanes = {}  # lane id -> Lane
        self.presence = []
        self.mag = {}  # lane id -> app.traffic_mag.MagLane
        self.radar = []  # app.traffic_radar.RadarLane
        self._end = None  # Unix second the interval in progress ends
        self._start_ms = None  # tick it began
        self._poll_ms = None  # tick of the last poll
        self.late_ms = 25  # a longer gap between polls held the VM (see PresencePair)
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
                lane.begin(self._end - self.interval, self._start_ms)
            self.lanes[n] = lane
        return lane

    def _tick_of(self, t, ms, second):
        """The tick of Unix second `second` (not after t), from the pair (t, ms).  t is
        whole seconds (the chip's time.time()): a boundary is placed to within that second."""
        from time import ticks_add
        return ticks_add(ms, -(t - second) * 1000)

    def _roll(self, t, ms):
        if self._end is None:
            self._end = (int(t) // self.interval + 1) * self.interval
            self._start_ms = self._tick_of(t, ms, self._end - self.interval)
            for lane in self.lanes.values():
                lane.begin(self._end - self.interval, self._start_ms)
                if lane.live and lane.last_vehicle is None:
                    lane.last_vehicle = t
        while t >= self._end:
            end_ms = self._tick_of(t, ms, self._end)
            self._report(self._end, end_ms)
            self._start_ms = end_ms
            self._end += self.interval

    def poll(self, t, ms):
        self._roll(t, ms)
        if self.presence:
            from time import ticks_diff, ticks_us
            now = ticks_us()
            late = self._poll_ms is not None and ticks_diff(ms, self._poll_ms) > self.late_ms
            for p in self.presence:
                p.poll(t, ms, now, late)
        self._poll_ms = ms
        for r in self.radar:
            r.poll(t, ms)
        for m in self.mag.values():
            if m.driver is not None:
                m.poll(t, ms)

    def event(self, t, ev, ms):
        if "mag" in ev:
            m = self.mag.get(ev.get("lane", 1))
            if m is None:
                return False
            if not m.valid(ev["mag"]):
                self.bad_events += 1
                return True
            self._roll(t, ms)
            m.sample(t, ms, ev["mag"])
            if self.on_sample:
                self.on_sample(t, {"lane": m.lane.id, "dev": m.field.dev, "present": m.passes.present})
            return True
        if "agg" in ev:
            self._roll(t, ms)
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
        """Report the interval in progress, as if it had run to its end."""
        if self._end is not None:
            from time import ticks_add
            self._report(self._end, ticks_add(self._start_ms, self.interval * 1000))

    def command(self, name, params):
        if name != "calibrate" or not self.mag:
            return None
        from app.traffic_mag import calibrate_command

        return calibrate_command(params, "lane", self.mag, "l")

    def _report(self, t_end, ms_end):
        for n in sorted(self.lanes):
            lane = self.lanes[n]
            fields = lane.report(t_end, self.interval, ms_end)
            if fields is not None:
                self.emit(rec_lane, lane.key, fields)


def build(cfg, board, emit, on_sample=None, baselines=None):
    p = TrafficPipeline(cfg, emit, on_sample)
    tc = p.tc
    for spec in tc.get("lanes", ()):
        lane = p.lane(spec.get("lane", 1))
        counts = not (spec.get("presence") or spec.get("magnetometer"))  # else a radar gives speeds only
        if spec.get("presence"):
            rings = [board.presence(name) for name in spec["presence"]]
            p.presence.append(PresencePair(lane, rings, spec.get("spacing_m", 0)))
            lane.live = True
        if spec.get("magnetometer"):
            from app.traffic_mag import MagLane, open_magnetometer

            sensor = spec["magnetometer"]
            driver = open_magnetometer(board, sensor) if isinstance(sensor, dict) else None
            p.mag[lane.id] = MagLane(lane, spec.get("axes", 3), tc.get("threshold", 16),
                                     tc.get("release", 8), tc.get("gap", 0.3),
                                     tc.get("autocalibrate", 0), spec.get("baseline"), driver,
                                     baselines)
        if spec.get("radar"):
            from ops243 import OPS243
            from app.traffic_radar import RadarLane

            p.radar.append(RadarLane(OPS243(board.uart(spec["radar"]), spec.get("radar_unit", "mps")),
                                     lane, tc.get("radar_gap", 0.5), counts))
        if spec.get("doppler"):  # a CW Doppler module's IF on an input
            from doppler import K_BAND, Doppler
            from app.cwradar import CWRadar
            from app.traffic_radar import RadarLane

            d = Doppler(hz_per_kmh=spec.get("hz_per_kmh", K_BAND), irq=False)
            p.radar.append(RadarLane(CWRadar(d, board.input(spec["doppler"]), spec.get("min_kmh", 5)),
                                     lane, tc.get("radar_gap", 0.5), counts))
    if any(m.driver for m in p.mag.values()):
        # A magnetometer is read once per poll; a pass over it lasts a fraction of a second.
        p.poll_ms = 1000 // tc.get("sample_hz", 50)
    if any(spec.get("doppler") for spec in tc.get("lanes", ())):  # a window per poll
        p.poll_ms = min(getattr(p, "poll_ms", 1000), tc.get("doppler_poll_ms", 100))
    if p.presence:
        # Scheduled edge stamps are good to one poll gap: presence lanes are polled often,
        # and a gap beyond late_ms means the VM was held (PresencePair).
        p.poll_ms = min(getattr(p, "poll_ms", 1000), tc.get("edge_poll_ms", 10))
        p.late_ms = tc.get("late_ms", 25)
    return p
