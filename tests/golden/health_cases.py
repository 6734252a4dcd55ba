# Health readings for fixed inputs (MicroPython unix port): one JSON line per case,
# {"case": {...inputs...}, "payload": "<the Device attributes JSON the node logs>"}.
# Run by make_golden.py on the firmware from before the compact records: its output
# is the golden source for the health expansion.
import json

import app
from app import health

CASES = [
    {"t": 1764367200, "started": 1764360000, "connected": True, "time": "ntp", "error": None,
     "free": 61234, "pending": 0, "dropped": 0, "reset": "power-on", "rssi": -67},
    {"t": 1764367500.75, "started": 1764367000.5, "connected": False, "time": "unsynced",
     "error": "link: OSError(113,)", "free": 40000, "pending": 12345, "dropped": 7,
     "reset": "watchdog", "rssi": None},
    {"t": 300, "started": 10, "connected": False, "time": "unsynced",
     "error": 'sense: ValueError("bad \\"quote\\"\\\\ and a very long message that is cut at eighty characters exactly here")',
     "free": 1, "pending": 1, "dropped": 4294967295, "reset": None, "rssi": 0},
    {"t": 946684800, "started": 946684801, "connected": True, "time": "system", "error": "",
     "free": 120000, "pending": 70000, "dropped": 100, "reset": "deepsleep", "rssi": -120},
    {"t": 1764367200, "started": 1764367200, "connected": True, "time": "ntp",
     "error": "log: OSError('\u00e9\u010d ctrl\\x01\ttab')", "free": 5, "pending": 3,
     "dropped": 0, "reset": "brownout", "rssi": -1},
]


class Gc:
    free = 0

    def collect(self):
        pass

    def mem_free(self):
        return self.free


class Board:
    def __init__(self, case):
        self.case = case

    def health(self):
        f = {}
        if self.case["reset"] is not None:
            f["reset_cause"] = self.case["reset"]
        if self.case["rssi"] is not None:
            f["rssi"] = self.case["rssi"]
        return f


class Log:
    def __init__(self, case):
        self.pending = case["pending"]
        self.dropped = case["dropped"]


def main():
    gc = health.gc = Gc()
    app.VERSION = "0.9.0-golden"
    for c in CASES:
        gc.free = c["free"]
        h = health.Health(300, Board(c), Log(c), c["started"])
        obj = h.reading(c["t"], c["connected"], c["time"], c["error"])
        print(json.dumps({"case": c, "payload": obj.decode()}))


if __name__ == "__main__":
    main()
