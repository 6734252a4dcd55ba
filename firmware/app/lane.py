# One traffic lane's counts over a reporting interval and its detector's
# health, encoded as a TrafficFlowObserved measure.
#
# Vehicles come either live (a detector switching on and off: presence inputs,
# magnetometer passes) or as recorded aggregates (vehicles, occupancy and mean
# speed over a short period, as loop-detector stations report them).

# A lane is dead when it has been quiet for longer than a Poisson process at
# the lane's recent rate would be with odds below e**-14 (about 1e-6).
QUIET_LOG_ODDS = 14.0


class Lane:
    def __init__(self, lane_id, key, stuck_on=180, dead_after=3600, min_quiet=600):
        self.id = lane_id
        self.key = key
        self.stuck_on = stuck_on  # s a detector may stay on without a vehicle ending
        self.dead_after = dead_after  # s of silence that is implausible whatever the history
        self.min_quiet = min_quiet  # s of silence that is always plausible
        self.rate = None  # vehicles/s over recent busy intervals (the lane's history)
        self.on_since = None  # live detector on since
        self.stuck_since = None  # aggregates: full occupancy without a vehicle since
        self.last_agg = None
        self.last_vehicle = None  # time the lane last saw a vehicle (or was first seen)
        self.live = False
        self.start = None
        self._reset(None)

    def _reset(self, t):
        self.start = t
        self.count = 0
        self.occupied = 0.0  # s a vehicle was over the detector
        self.observed = 0.0  # s covered by aggregates
        self.speed_sum = 0.0
        self.speed_n = 0
        self.fresh = False  # anything arrived this interval

    def _seen(self, t):
        if self.last_vehicle is None:
            self.last_vehicle = t
        self.fresh = True

    # live detector
    def on(self, t):
        self.live = True
        self._seen(t)
        if self.on_since is None:
            self.on_since = t
            self.count += 1
            self.last_vehicle = t

    def off(self, t):
        self._seen(t)
        if self.on_since is not None:
            since = self.on_since if self.start is None else max(self.on_since, self.start)
            self.occupied += max(0.0, t - since)
            self.on_since = None
            self.last_vehicle = t

    def speed(self, kmh, n=1):
        self.speed_sum += kmh * n
        self.speed_n += n

    # recorded aggregates
    def aggregate(self, t, period, vehicles, occupancy, kmh=None):
        self._seen(t)
        self.count += vehicles
        self.occupied += occupancy * period
        self.observed += period
        if kmh is not None and vehicles > 0:
            self.speed(kmh, vehicles)
        if vehicles > 0:
            self.last_vehicle = t
            self.stuck_since = None
        elif occupancy >= 0.99:
            if self.stuck_since is None:
                self.stuck_since = t - period
        else:
            self.stuck_since = None
        self.last_agg = t

    def quality(self, t_end):
        """Detector health flags at the end of an interval."""
        flags = []
        if self.on_since is not None:
            stuck = t_end - self.on_since
        elif self.stuck_since is not None:
            stuck = self.last_agg - self.stuck_since
        else:
            stuck = 0
        if stuck >= self.stuck_on:
            flags.append("detector-stuck-on")
        elif self.last_vehicle is not None and self.on_since is None:
            quiet = t_end - self.last_vehicle
            limit = self.dead_after
            if self.rate:
                limit = min(limit, max(self.min_quiet, QUIET_LOG_ODDS / self.rate))
            if quiet > limit:
                flags.append("detector-dead")
        return flags

    def report(self, t_end, interval):
        """-> the app.rec_lane fields of the interval ending at t_end, or None if the
        lane had no input; starts the next interval."""
        t_from = t_end - interval
        occupied = self.occupied
        if self.on_since is not None:
            occupied += t_end - max(self.on_since, t_from)
        span = self.observed if not self.live else interval
        if not (self.fresh or self.live) or span <= 0:
            self._reset(t_end)
            return None
        flags = self.quality(t_end)
        if self.count and span:
            r = self.count / span
            self.rate = r if self.rate is None else self.rate + (r - self.rate) * min(1.0, interval / 3600)
        speed = self.speed_sum / self.speed_n if self.speed_n else None
        fields = (t_end, t_from, self.id, self.count, min(1.0, occupied / span), speed, flags)
        self._reset(t_end)
        return fields
