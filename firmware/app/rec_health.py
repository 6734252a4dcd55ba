# The node's Device health in the log and its FIWARE JSON.
#
# Version 2 (format 0x14):
#   when     of the reading (app.packing.put_when)
#   u8       CONNECTED, RSSI (an rssi follows), ERROR (a last error follows), NEARLY_FULL
#   varints  uptime, free heap (/ 16 << 1 | 1 if a multiple of 16: gc blocks), backlog, backlog age in tenths of a day, percent of the
#            log the backlog fills, dropped, [rssi (zigzag)]
#   texts    reset cause, firmware version, time sync, [last error], [last update]
#            (app.packing.put_text: the version, errors and update results by their
#            entry in the address book)
#   UPDATE (bit 4) and its text came later in version 2: firmware from before them
#   publishes such a record without lastUpdate (after a rollback it may have to) and
#   every record it wrote has the bit clear. (A version 3 would be 0x24: a text record.)
# Version 1 (0x04): no backlog age, fill or NEARLY_FULL; texts inline or WORDS.
# The firmware version is the logging firmware's: a reading logged before an
# update is published with the version that took it.
import json

from app import record
from app.isotime import iso
from app.packing import put_s, put_text, put_u, put_when

FORMAT = 0x14
CONNECTED, RSSI, ERROR, NEARLY_FULL, UPDATE = 1, 2, 4, 8, 16
# Frequent texts, one byte each (append only: logged readings refer to them by index).
WORDS = ("unknown", "other", "power-on", "hard", "watchdog", "deep-sleep", "soft",
         "system", "ntp", "unsynced")
INTERN_MAX = 48  # longer errors go inline: the book is for texts that repeat


def pack_into(buf, off, t, connected, uptime, free, backlog, backlog_tenths, used, nearly_full,
              dropped, reset_cause, version, time_state, rssi, last_error, last_update=None):
    off = put_when(buf, off, t)
    buf[off] = ((CONNECTED if connected else 0) | (RSSI if rssi is not None else 0)
                | (ERROR if last_error else 0) | (NEARLY_FULL if nearly_full else 0)
                | (UPDATE if last_update else 0))
    off += 1
    free = (free >> 4) * 2 + 1 if free & 15 == 0 else free * 2
    for v in (uptime, free, backlog, backlog_tenths, used, dropped):
        off = put_u(buf, off, v)
    if rssi is not None:
        off = put_s(buf, off, int(rssi))
    book = record.BOOK
    off = put_text(buf, off, reset_cause, WORDS)
    off = put_text(buf, off, version, (), book)
    off = put_text(buf, off, time_state, WORDS)
    if last_error:
        err = last_error[:80]
        off = put_text(buf, off, err, (), book if len(err) <= INTERN_MAX else None)
    if last_update:  # the same text in every reading until the next update: in the book
        off = put_text(buf, off, last_update[:80], (), book)
    return off


def expand(r, version=2):
    ts = iso(r.when() if version >= 2 else r.time())
    bits = r.byte()
    uptime, free, backlog = r.u(), r.u(), r.u()
    if version >= 2:
        free = (free >> 1) * 16 if free & 1 else free >> 1
        tenths, used = r.u(), r.u()
    dropped = r.u()
    rssi = r.s() if bits & RSSI else None
    book = record.BOOK
    parts = [
        '"TimeInstant":"%s"' % ts,
        '"dateLastValueReported":"%s"' % ts,
        '"uplink":"%s"' % ("connected" if bits & CONNECTED else "disconnected"),
        '"uptime":%d' % uptime,
        '"freeHeap":%d' % free,
        '"backlog":%d' % backlog,
    ]
    if version >= 2:
        parts.append('"backlogDays":%d.%d,"logUsed":%d,"logNearlyFull":%s' % (
            tenths // 10, tenths % 10, used, "true" if bits & NEARLY_FULL else "false"))
    parts += [
        '"dropped":%d' % dropped,
        '"resetCause":"%s"' % r.text(WORDS),
        '"firmwareVersion":"%s"' % r.text((), book),
        '"timeSync":"%s"' % r.text(WORDS),
    ]
    if rssi is not None:
        parts.append('"rssi":%d' % rssi)
    if bits & ERROR:
        parts.append('"lastError":%s' % json.dumps(r.text((), book)))
    if bits & UPDATE:
        parts.append('"lastUpdate":%s' % json.dumps(r.text((), book)))
    return ("{" + ",".join(parts) + "}").encode()
