# The node's core: polls its pipelines (air, parking, traffic), which turn
# samples into readings; every reading goes into the log, packed (app.record),
# before anything is published.  Time is always passed in, so the same object
# runs on the board, under the unix port in real time and in replay: `t` in whole
# Unix seconds (as the ESP32's time.time()) and `ms`, a millisecond tick
# (time.ticks_ms()), for whatever is shorter than a second (edges, gaps,
# occupancy, debounce).
from app import record

# config section -> module with build(cfg, board, emit, on_sample, baselines) -> pipeline
PIPELINES = (("air", "app.air"), ("parking", "app.parking"), ("traffic", "app.traffic"))
RECORD_MAX = 512  # the largest: a health reading with an 80-character error, its key inline


class Node:
    def __init__(self, cfg, board, log, on_sample=None, baselines=None, on_reading=None):
        # baselines: an app.baselines.BaselineStore, or None (replays keep nothing)
        # on_reading(key, rec, seq): after each pipeline reading is logged, rec packed (the shell's console line)
        self.cfg = cfg
        self.on_reading = on_reading
        self.log = log
        self.unlogged = 0  # readings the log refused (reported in health)
        self.last_error = None
        self.latest = None  # the newest pipeline reading (a packed record), for the status display
        self._buf = bytearray(RECORD_MAX)
        self.pipelines = []
        for section, modname in PIPELINES:
            if cfg.get(section):
                mod = __import__(modname, None, None, ("build",))
                self.pipelines.append(mod.build(cfg, board, self._reading, on_sample, baselines))
        # How often the shell polls: the most demanding pipeline decides.
        self.poll_ms = min([getattr(p, "poll_ms", 200) for p in self.pipelines] or [200])

    def emit(self, kind, key, fields):
        """A reading (a pipeline's or the shell's health): fields of `kind` (an app.rec_*
        module) for key '<apikey>/<device_id>'; -> the packed record."""
        rec = None
        try:
            rec = memoryview(self._buf)[:record.encode(self._buf, kind, key, fields)]
            self.log.append(rec)
        except Exception as e:  # flash I/O error, oversized reading: count it, keep sensing
            self.unlogged += 1
            self.last_error = "log: %r" % (e,)
        return rec

    def _reading(self, kind, key, fields):
        rec = self.emit(kind, key, fields)
        self.latest = None if rec is None else bytes(rec)
        if self.on_reading is not None and rec is not None:
            self.on_reading(key, self.latest, self.log.next_seq - 1)

    def poll(self, t, ms):
        for p in self.pipelines:
            p.poll(t, ms)

    def event(self, t, ev, ms):
        """A recorded event that is not UART bytes (replay): offered to each pipeline."""
        for p in self.pipelines:
            if p.event(t, ev, ms):
                return True
        return False

    def command(self, name, params):
        """A remote command for a pipeline (e.g. `calibrate`): its result, or None if none handles it."""
        for p in self.pipelines:
            handler = getattr(p, "command", None)
            if handler:
                result = handler(name, params)
                if result is not None:
                    return result
        return None

    def close(self, t):
        """Report the intervals in progress (end of a replay, orderly shutdown)."""
        for p in self.pipelines:
            p.close(t)
