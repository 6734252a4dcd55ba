# The node's core: poll sensors, close reporting intervals into readings,
# append every reading to the log.  Time is always passed in (Unix seconds),
# so the same object runs on the board, under the unix port and in replay.
from app import record
from app.air import NAMES, IntervalStats, SDS011Source


class Node:
    def __init__(self, cfg, board, log, on_sample=None):
        self.cfg = cfg
        self.log = log
        self.on_sample = on_sample
        self.interval = cfg["interval"]
        self.device_id = cfg["device_id"]
        self.air = IntervalStats(NAMES, 10)
        self.sources = []
        sensors = cfg.get("sensors", {})
        if "sds011" in sensors:
            from sds011 import SDS011
            uart = board.uart(sensors["sds011"]["uart"])
            self.sources.append(SDS011Source(SDS011(uart), self.air))
        self._end = None  # end of the current reporting interval

    def poll(self, t):
        if self._end is None:
            self._end = (int(t) // self.interval + 1) * self.interval
        while t >= self._end:
            self._report(self._end)
            self._end += self.interval
        for s in self.sources:
            s.poll(t, self.on_sample)

    def close(self):
        """Report the interval in progress (end of a replay, orderly shutdown)."""
        if self._end is not None:
            self._report(self._end)
        return self._end

    def _report(self, t_end):
        obj = self.air.encode(t_end)
        self.air.reset()
        if obj is not None:
            self.log.append(record.pack(self.device_id, obj))
