# Magnetometer baselines that survive a power cycle: street-light circuits
# switch nodes off every day, and a spot without its baseline is `unknown`
# until someone calibrates it again.  One small JSON file {"p1": [x, y, z],
# "l2": [...]}, rewritten whole through a temp file and a rename, so a power
# cut leaves the old file or the new one, never half of either.
#
# The shell (board) decides where the file lives; pipelines only see this object.
import json
import os
from app.console import say


class BaselineStore:
    def __init__(self, path):
        self.path = path
        self.values = {}  # "p<n>" / "l<n>" -> baseline per axis
        self.writes = 0
        self.last_error = None
        try:
            with open(path) as f:
                data = json.load(f)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            self.values = data
        except OSError:
            say("baselines: no %s: spots and lanes stay unknown until calibrated" % path)
        except Exception as e:  # a torn or garbled file is no baseline, never a crash
            say("baselines: %s unreadable (%r): spots and lanes stay unknown until calibrated"
                  % (path, e))

    def get(self, name, axes):
        """The stored baseline of `name` if it is `axes` numbers, else None."""
        v = self.values.get(name)
        if isinstance(v, list) and len(v) == axes and all(
                isinstance(x, (int, float)) for x in v):
            return v
        if v is not None:
            say("baselines: %s in %s is not %d numbers: ignored" % (name, self.path, axes))
        return None

    def put(self, name, values):
        """Keep `values` as the baseline of `name` on the filesystem; False if that failed
        (the baseline still holds in RAM: a full or worn flash must not stop sensing)."""
        self.values[name] = [round(x, 3) for x in values]
        tmp = self.path + ".tmp"
        try:
            with open(tmp, "w") as f:
                json.dump(self.values, f)
            os.rename(tmp, self.path)
        except OSError as e:
            self.last_error = "baselines: %r" % (e,)
            say(self.last_error)
            return False
        self.writes += 1
        return True


class BaselineKeeper:
    """When to write one detector's baseline: after each calibration, and after drift
    tracking only if it moved more than `min_move` counts on some axis and at most
    every `min_interval` seconds (flash wear)."""

    def __init__(self, store, name, min_interval=3600, min_move=4):
        self.store = store
        self.name = name
        self.min_interval = min_interval
        self.min_move = min_move
        self.saved = None
        self._next_check = None

    def loaded(self, base):
        """A baseline from config or the store: the reference for drift writes."""
        self.saved = list(base)

    def calibrated(self, t, base):
        self._save(t, base)

    def tracked(self, t, field):
        """After a drift step (once a second): usually one comparison, no allocation."""
        if self.store is None or self.saved is None:
            return
        if self._next_check is None:
            self._next_check = t + self.min_interval
        if t < self._next_check:
            return
        self._next_check = t + self.min_interval
        base = field.base
        for k in range(len(base)):
            if abs(base[k] - self.saved[k]) > self.min_move:
                self._save(t, base)
                return

    def _save(self, t, base):
        self.saved = list(base)
        self._next_check = t + self.min_interval
        if self.store is not None:
            self.store.put(self.name, base)
