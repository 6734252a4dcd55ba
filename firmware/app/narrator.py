# What a running node says on its console, for a technician following it
# (`smartnode logs`): one short line per reading it logs, at most one per
# device every few seconds with a count of those held back, and one per state
# change: uplink up/down, a backlog drained, a sensor fault and its end.
# The shell calls reading() for every reading and step() from its network
# task; both cost a few comparisons and allocate nothing unless they speak.
# Faults are looked for in the readings that are said (at most one per device
# every few seconds): a fault shorter than that may go unsaid, never unlogged.
from app import record
from app.console import Rate, say

# A reading whose dataQuality names one of these has a sensor that failed: its
# value is missing, its detector dead or stuck, or a spot's field is unknown.
FAULTS = (b'missing:', b'detector-', b'"status":"unknown"')
DRAINED = 10  # a backlog this deep, delivered, is worth a line


class Narrator:
    def __init__(self, seconds=5):
        self.seconds = seconds
        self.rates = {}  # key -> Rate (one per device: spots and lanes each their own)
        self.faulty = {}  # key -> the reading's dataQuality while a sensor is at fault
        self.up = None  # the uplink's state at the last step
        self.peak = 0  # the deepest backlog since it was last empty

    def reading(self, key, rec, seq):
        """A reading was logged: rec, packed (app.record). Held back (counted, nothing
        allocated) unless this device's line is due; then expanded and said, with a
        line of its own when a sensor fault begins or ends."""
        rate = self.rates.get(key)
        if rate is None:
            rate = self.rates[key] = Rate(self.seconds)
        if not rate.due():
            return
        obj = record.split(record.expand(rec))[1]
        fault = False
        for f in FAULTS:
            if obj.find(f) >= 0:
                fault = True
                break
        was = self.faulty.get(key)
        if fault:
            flags = quality(obj)
            if was != flags:
                self.faulty[key] = flags
                say("fault:", device(key), flags or "status unknown (not calibrated, or its sensor is silent)")
        elif was is not None:
            self.faulty[key] = None
            say("fault cleared:", device(key))
        rate.say("reading", device(key), "#%d" % seq, summary(obj))

    def step(self, connected, last_error, pending):
        if connected != self.up:
            if connected:
                say("uplink: up")
            elif self.up is not None:
                say("uplink: down:", last_error or "connection lost")
            self.up = connected
        if pending > self.peak:
            self.peak = pending
        elif pending == 0 and self.peak:
            if self.peak >= DRAINED:
                say("log: backlog drained (%d readings waiting at most)" % self.peak)
            self.peak = 0


def device(key):
    """'<apikey>/<device id>' -> the device id."""
    return key[key.rfind("/") + 1:]


def quality(obj):
    """The reading's dataQuality flags as text, '' if none."""
    i = obj.find(b'"dataQuality":')
    if i < 0:
        return ""
    j = obj.find(b"]", i)
    return obj[i + 15:j].decode().replace('"', "") if j > 0 else ""


def summary(obj):
    """A reading's first values (no statistics) and its flags: 'pm25=3.2 pm10=5 [humid:pm25]'."""
    import json
    try:
        d = json.loads(obj)
    except ValueError:
        return "(not JSON)"
    parts = []
    for k, v in d.items():
        if k in ("status", "laneId") or (isinstance(v, (int, float)) and not isinstance(v, bool)
                                         and not k.endswith(("Min", "Max", "Count"))):
            parts.append("%s=%s" % (k, v))
    parts.sort()
    flags = d.get("dataQuality")
    if flags:
        parts.append("[%s]" % ",".join(flags) if isinstance(flags, list) else "[%s]" % flags)
    return " ".join(parts[:6])
