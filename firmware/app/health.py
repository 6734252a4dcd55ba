# Node health as the FIWARE `Device` entity `<id>`: a reading in the log like
# any other (so it survives outages and arrives in order), every
# health.interval seconds and whenever the node's state changes.
import gc

import app
from app.isotime import iso



class Health:
    def __init__(self, interval, board, log, started):
        self.interval = interval
        self.board = board
        self.log = log
        self.started = started  # Unix seconds at boot
        self._next = None
        self._state = None

    def due(self, t, state):
        """state: (connected, time-sync state, last error) -> True when a reading is due."""
        if state != self._state or self._next is None or t >= self._next:
            self._state = state
            self._next = t + self.interval
            return True
        return False

    def reading(self, t, connected, time_state, last_error):
        """-> JSON object bytes (Device attributes)."""
        gc.collect()
        facts = self.board.health()
        rssi = facts.get("rssi")
        ts = iso(t)
        parts = [
            '"TimeInstant":"%s"' % ts,
            '"dateLastValueReported":"%s"' % ts,
            '"uplink":"%s"' % ("connected" if connected else "disconnected"),
            '"uptime":%d' % max(0, int(t - self.started)),
            '"freeHeap":%d' % gc.mem_free(),
            '"backlog":%d' % self.log.pending,
            '"dropped":%d' % self.log.dropped,
            '"resetCause":"%s"' % facts.get("reset_cause", "unknown"),
            '"firmwareVersion":"%s"' % app.VERSION,
            '"timeSync":"%s"' % time_state,
        ]
        if rssi is not None:
            parts.append('"rssi":%d' % rssi)
        if last_error:
            parts.append('"lastError":%s' % _json_str(last_error[:80]))
        return ("{" + ",".join(parts) + "}").encode()


def _json_str(s):
    import json

    return json.dumps(s)
