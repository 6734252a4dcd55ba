# The node's Device health in the log (format 0x04) and its FIWARE JSON.
#   time     of the reading
#   u8       CONNECTED, RSSI (an rssi follows), ERROR (a last error follows)
#   varints  uptime, free heap, backlog, dropped, [rssi (zigzag)]
#   texts    reset cause, firmware version, time sync, [last error] (app.packing.put_text)
# The firmware version is the logging firmware's: a reading logged before an
# update is published with the version that took it.
import json

from app.isotime import iso
from app.packing import put_s, put_text, put_time, put_u

FORMAT = 0x04
CONNECTED, RSSI, ERROR = 1, 2, 4
# Frequent texts, one byte each (append only: logged readings refer to them by index).
WORDS = ("unknown", "other", "power-on", "hard", "watchdog", "deep-sleep", "soft",
         "system", "ntp", "unsynced")


def pack_into(buf, off, t, connected, uptime, free, backlog, dropped, reset_cause, version,
              time_state, rssi, last_error):
    off = put_time(buf, off, t)
    buf[off] = ((CONNECTED if connected else 0) | (RSSI if rssi is not None else 0)
                | (ERROR if last_error else 0))
    off += 1
    for v in (uptime, free, backlog, dropped):
        off = put_u(buf, off, v)
    if rssi is not None:
        off = put_s(buf, off, int(rssi))
    off = put_text(buf, off, reset_cause, WORDS)
    off = put_text(buf, off, version)
    off = put_text(buf, off, time_state, WORDS)
    if last_error:
        off = put_text(buf, off, last_error[:80])
    return off


def expand(r):
    ts = iso(r.time())
    bits = r.byte()
    uptime, free, backlog, dropped = r.u(), r.u(), r.u(), r.u()
    rssi = r.s() if bits & RSSI else None
    parts = [
        '"TimeInstant":"%s"' % ts,
        '"dateLastValueReported":"%s"' % ts,
        '"uplink":"%s"' % ("connected" if bits & CONNECTED else "disconnected"),
        '"uptime":%d' % uptime,
        '"freeHeap":%d' % free,
        '"backlog":%d' % backlog,
        '"dropped":%d' % dropped,
        '"resetCause":"%s"' % r.text(WORDS),
        '"firmwareVersion":"%s"' % r.text(),
        '"timeSync":"%s"' % r.text(WORDS),
    ]
    if rssi is not None:
        parts.append('"rssi":%d' % rssi)
    if bits & ERROR:
        parts.append('"lastError":%s' % json.dumps(r.text()))
    return ("{" + ",".join(parts) + "}").encode()
