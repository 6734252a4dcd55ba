# Version-1 compact records (the first compact layouts, on main from b600d71) with what
# that firmware published for them: {"hex", "published"} per line, then {"book": [...]}.
# Run once on that firmware (make_golden.py says how); the firmware after it must
# still publish these records exactly so (tests/mp/test_records.py).
import json

from app import rec_air, rec_health, rec_lane, rec_parking, record
from app.quality import Channel

T = 1795737600  # 2026-11-27T00:00:00Z


def channel(name, samples, expected=True):
    ch = Channel(name)
    ch.expected = expected
    for i, x in enumerate(samples):
        ch.add(T + i, x)
    return ch


def readings():
    pm25 = channel("pm25", [1234, 1301, 999, 100001])  # out of range too
    pm10 = channel("pm10", [2000, 2100])
    temp = channel("temperature", [-512, -498, -505])
    rh = channel("relativeHumidity", [])  # missing
    p = channel("pressure", [101325, 101330])
    chans = [pm25, pm10, temp, rh, p]
    yield rec_air, "k/n-aq", (T, chans, [c.flag_bits() | (32 if c.name == "pm10" else 0) for c in chans])
    yield rec_air, "k/n-aq", (T + 300, [channel("co2", [415])], [0])
    for i, st in enumerate(("free", "occupied", "unknown")):
        yield rec_parking, "k/n-p%d" % (i + 1), (T + 17.9 + i, st)
    yield rec_lane, "k/n-l1", (T, T - 300, 1, 42, 0.12345, 51.25, [])
    yield rec_lane, "k/n-l2", (T, T - 30, 2, 0, 1.0, None, ["detector-dead"])
    yield rec_lane, "k/n-l3", (T, T - 300, 3, 7, 0.0, 0.04, ["detector-stuck-on"])
    yield rec_health, "k/n", (T, True, 3600, 61234, 12, 0, "power-on", "0.1.0", "ntp", -70, None)
    yield rec_health, "k/n", (T, False, 7, 1, 70000, 3, "watchdog", "0.1.0-rc1", "unsynced", None,
                              'link: OSError("\\u00e9")')


def main():
    buf = bytearray(512)
    for kind, key, fields in readings():
        n = record.encode(buf, kind, key, fields)
        rec = bytes(buf[:n])
        print(json.dumps({"hex": "".join("%02x" % b for b in rec),
                          "published": record.expand(rec).decode()}))
    print(json.dumps({"book": record.BOOK.keys}))


if __name__ == "__main__":
    main()
