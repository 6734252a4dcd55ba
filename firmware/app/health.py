# Node health as the FIWARE `Device` entity `<id>`: a reading in the log like
# any other (so it survives outages and arrives in order), every
# health.interval seconds and whenever the node's state changes.  During an
# outage it says how old the backlog is (backlogDays), how much of the log it
# fills (logUsed, percent) and, from NEARLY_FULL on, that the oldest readings
# will soon be dropped (logNearlyFull). lastUpdate: how the last update over the air
# ended (confirmed, refused, rolled back, and why).
import gc
import json

import app
from app import record

NEARLY_FULL = 80  # percent of the log the backlog fills: health says so (logNearlyFull)
SET_CLOCK = 1577836800  # 2020-01-01: an earlier stamp comes from an unset clock (app.timesync)


def bundle_version(root=""):
    """The running bundle's version (/cur/manifest.json, written by deploy and by an
    update over the air), so the platform sees which build a node runs; without one
    (a replay, a hand-copied app) the app's own VERSION."""
    try:
        with open(root + "/cur/manifest.json") as f:
            return json.load(f)["version"]
    except (OSError, ValueError, KeyError, TypeError):
        return app.VERSION


class Health:
    def __init__(self, interval, board, log, started):
        self.interval = interval
        self.version = bundle_version()
        self.board = board
        self.log = log
        self.started = started  # Unix seconds at boot
        self._next = None
        self._state = None
        self._oldest = []

    def due(self, t, state):
        """state: (connected, time-sync state, last error) -> True when a reading is due."""
        if state != self._state or self._next is None or t >= self._next:
            self._state = state
            # At whole intervals: regular stamps, and shorter in the log (app.packing.put_when).
            self._next = (int(t) // self.interval + 1) * self.interval
            return True
        return False

    def reading(self, t, connected, time_state, last_error, last_update=None):
        """-> the app.rec_health fields of a reading now. last_update: the result of the
        last update over the air (app.otatrial), kept until the next one."""
        gc.collect()
        facts = self.board.health()
        log = self.log
        used = log.used()
        return (t, connected, max(0, int(t - self.started)), gc.mem_free(), log.pending,
                self.backlog_tenths(t), used, used >= NEARLY_FULL, log.dropped,
                facts.get("reset_cause", "unknown"), self.version, time_state,
                facts.get("rssi"), last_error, last_update)

    def backlog_tenths(self, t):
        """Age of the oldest reading not yet delivered, in tenths of a day (0 if none, or
        if it was stamped by a clock of another era: an unset clock and a set one)."""
        oldest = self.log.read(0, self._oldest, 1, 4096)
        if not oldest:
            return 0
        then = record.stamp(oldest[0][1])
        del oldest[:]
        if then is None or (then < SET_CLOCK) != (t < SET_CLOCK):
            return 0
        return max(0, int((t - then) // 8640))
