# Node health as the FIWARE `Device` entity `<id>`: a reading in the log like
# any other (so it survives outages and arrives in order), every
# health.interval seconds and whenever the node's state changes.
import gc

import app


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
        """-> the app.rec_health fields of a reading now."""
        gc.collect()
        facts = self.board.health()
        return (t, connected, max(0, int(t - self.started)), gc.mem_free(), self.log.pending,
                self.log.dropped, facts.get("reset_cause", "unknown"), app.VERSION, time_state,
                facts.get("rssi"), last_error)
