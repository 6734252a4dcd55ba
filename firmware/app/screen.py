# The status display task's state: every `period` seconds what the shell knows
# (link, time sync, backlog, the newest reading, faults) becomes a
# display.Status and is drawn on the board's panel. A panel that is missing or
# stops answering (OSError: no ACK on its bus) switches the display off and is
# kept as a fault: the display never stops the node.
import json

from app import record
from app.display import Status, StatusDisplay
from app.console import say

VALUES = 3  # name/value pairs the display has rows for (display.VALUE_ROWS)
STATS = ("Min", "Max", "Count")  # an interval's statistics of a value: no room for them


class Screen:
    def __init__(self, shell, period_s=2):
        self.shell = shell
        self.period_ms = int(period_s * 1000)
        self.status = Status(shell.cfg["device_id"])
        self.view = None
        self.on = False
        self.fault = None
        self.draws = 0
        self._latest = None  # the reading whose values the status holds

    def attach(self, panel):
        self.view = StatusDisplay(panel, panel.width, panel.height)
        self.on = True

    def off(self, why):
        self.on = False
        self.fault = why
        say(why, "- the display is off; the node goes on")

    def fill(self):
        sh = self.shell
        st = self.status
        link = sh.link
        st.device_id = sh.cfg["device_id"]
        st.wifi = sh.board.wifi_up()
        st.mqtt = bool(link.connected)
        st.time_synced = sh.clock.synced
        st.backlog = sh.log.pending
        latest = sh.node.latest
        if latest is not None and latest is not self._latest:
            self._latest = latest
            st.values = values(record.split(record.expand(latest))[1])
        st.faults = [e for e in (sh.node.last_error, link.last_error) if e]

    def step(self):
        """Fill and draw once (the task calls this every period)."""
        if not self.on:
            return
        try:
            self.fill()
            self.view.show(self.status)
            self.draws += 1
        except Exception as e:  # OSError from the bus, or a bug here: the display goes, not the node
            self.off("display: %r" % (e,))


def values(obj):
    """A reading's JSON object -> its first VALUES numeric attributes (or a spot's status)
    [(name, value)], in order, leaving out seq and the <name>Min/Max/Count statistics."""
    try:
        d = json.loads(obj)
    except ValueError:
        return []
    found = [(obj.find(('"%s"' % k).encode()), k, v) for k, v in d.items()
             if k == "status" or (isinstance(v, (int, float)) and not isinstance(v, bool) and k != "seq"
                                  and not any(k.endswith(x) for x in STATS))]
    found.sort()
    return [(k, v) for _, k, v in found[:VALUES]]


def open_screen(shell):
    """The status display if the board has a panel and config `display.enabled` (default on), else None."""
    d = shell.cfg.get("display") or {}
    if not d.get("enabled", True):
        return None
    screen = Screen(shell, d.get("period", 2))
    try:
        panel = shell.board.display()
        if panel is None:
            return None
        screen.attach(panel)
    except OSError as e:
        screen.off("display: %r" % (e,))
    return screen
