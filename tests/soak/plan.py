"""The fault replay's input: a node of all three sensing kinds on the real recordings
in tests/data, and a seeded schedule of faults over the same virtual time.

- air: the sensor.community archive of two co-located Aberdeen nodes (SDS011 and
  BME280, 2018-07-07..14, one sample every ~150 s);
- traffic: PeMS station 500004's two loop lanes, 30-second aggregates of one day
  (2012-01-21), replayed day after day;
- parking: two MAG3110 under a Ford Focus passing (7 s at 200 Hz), every
  PASS_EVERY seconds, and between passes the recording's first second (the bay
  empty) one sample every QUIET_EVERY seconds.
Everything is moved by whole weeks (weekdays and times of day kept) into 2026: a
node's clock before 2020 is an unset one (app.timesync).
"""
import random
import types

from host_tools import paths, recordings

DATA = paths.ROOT / "tests" / "data"
AIR = [DATA / "air" / "luftdaten_aberdeen_sds011_15092_2018-07-07_to_14.csv",
       DATA / "air" / "luftdaten_aberdeen_bme280_15093_2018-07-07_to_14.csv"]
TRAFFIC = DATA / "traffic" / "d05_text_station_raw_2012_01_21.txt.gz"
PARKING = DATA / "parking" / "mag3110x2_200Hz_5Mph_FordFocus_15s-22s.hexstream.txt"
STATION = "500004"
WEEK = 7 * 86400
DAY = 86400
PASS_EVERY = 4 * 3600
QUIET_EVERY = 5
INTERVAL = 300
MARGIN = 900  # a reading this near a fault (interval, heartbeat, debounce) may differ


def _read(path, **opts):
    o = types.SimpleNamespace(start=0, as_=None, calibrate=1.0, station=None)
    o.__dict__.update(opts)
    return recordings.read([path], o).events


def events(days):
    """-> (config sections, first second, time-ordered events) for `days` of virtual time."""
    air = []
    for p in AIR:
        air += _read(p)
    t0 = int(min(e["t"] for e in air))
    shift = ((1767225600 - t0) // WEEK + 1) * WEEK  # into 2026, whole weeks on
    start = t0 + shift
    end = start + int(days * DAY)
    out = [dict(e, t=e["t"] + shift) for e in air if e["t"] + shift < end]
    day = [e for e in _read(TRAFFIC, station=STATION)]
    for e in day:
        del e["node"]
    d0 = int(day[0]["t"]) // DAY * DAY
    first_day = start // DAY * DAY
    for k in range(int(days) + 2):
        off = first_day - d0 + k * DAY
        out += [dict(e, t=e["t"] + off) for e in day if start <= e["t"] + off < end]
    mag = _read(PARKING, as_="parking")
    quiet = [e["mag"] for e in mag[:200]]
    n = 0
    t = start
    while t < end:
        if (t - start) % PASS_EVERY == 0:
            out += [{"t": t + i / 200, "mag": e["mag"]} for i, e in enumerate(mag)]
            t += 10
        out.append({"t": t, "mag": quiet[n % len(quiet)]})
        n += 1
        t += QUIET_EVERY
    out.sort(key=lambda e: e["t"])
    config = {"interval": INTERVAL,
              "air": {"sensors": {"sds011": {}, "bme280": {}}},
              "parking": {"autocalibrate": 1.0, "timeout": 30, "spots": [{"spot": 1, "axes": 6}]},
              "traffic": {"lanes": []},
              "health": {"interval": 3600},
              "power": {"profile": "switched"}}
    return config, start, out


# What the faults are: (broker outages, Wi-Fi losses) in seconds, power cuts by kind.
SHORT = {"outages": [240, 1800, 4 * 3600], "wifi": [120, 3600],
         "cuts": {"now": 2, "op": 2, "erase": 1, "config": 1, "mains": 1}, "off": [5, 60, 600, 2 * 3600],
         "unplug": (600, 3600)}
FULL = {"outages": [300, 2400, 3 * 3600, 10 * 3600, 2 * DAY], "wifi": [90, 1200, 5 * 3600],
        "cuts": {"now": 6, "op": 6, "erase": 3, "config": 3, "mains": 3}, "off": [5, 60, 600, 3 * 3600],
        "unplug": (600, 4 * 3600)}


def _spans(rnd, lengths, lo, hi):
    """Non-overlapping spans of the given lengths in [lo, hi), in random places."""
    spans = []
    for length in lengths:
        for _ in range(1000):
            a = rnd.randrange(lo, hi - length)
            if all(a + length + 60 < s or s + n + 60 < a for s, n in spans):
                spans.append((a, length))
                break
        else:
            raise ValueError("no room for a %d s span" % length)
    return spans


def faults(seed, start, days, kinds):
    rnd = random.Random(seed)
    lo, hi = start + 3600, start + int(days * DAY) - 3600
    out = []
    for a, n in _spans(rnd, kinds["outages"], lo, hi):
        out += [{"t": a, "do": "broker", "up": False}, {"t": a + n, "do": "broker", "up": True}]
    for a, n in _spans(rnd, kinds["wifi"], lo, hi):
        out += [{"t": a, "do": "wifi", "up": False}, {"t": a + n, "do": "wifi", "up": True}]
    cuts = [at for at, count in sorted(kinds["cuts"].items()) for _ in range(count)]
    offs = [rnd.choice(kinds["off"]) for _ in cuts]
    # Apart, so that each lands while the node runs (an armed one lands within the hour).
    for at, off, (a, _) in zip(cuts, offs, _spans(rnd, [off + 3600 for off in offs], lo, hi)):
        f = {"t": a, "do": "cut", "at": at, "off": off, "fraction": rnd.random()}
        if at == "mains":  # the switched supply: the profile has its hold-up first
            f = {"t": a, "do": "mains", "off": off}
        if at == "op":
            f["k"] = rnd.randrange(0, 40)
        elif at == "config":
            f["k"] = rnd.randrange(0, 1000)  # the harness takes it modulo a write's operations
        out.append(f)
    for sensor in ("sds011", "bme280", "mag", "loops"):
        a = rnd.randrange(lo, hi)
        n = rnd.randrange(*kinds["unplug"])
        out += [{"t": a, "do": "unplug", "sensor": sensor}, {"t": a + n, "do": "replug", "sensor": sensor}]
    out.sort(key=lambda f: f["t"])
    return out


def windows(plan_faults, lines):
    """Spans of virtual time whose readings may differ from the fault-free run's:
    around every power loss (as the node reported it: an armed cut lands later),
    config write and unplugged sensor."""
    spans = []
    for ln in lines:
        if ln.startswith("# ") and " power lost " in ln:
            t = int(ln.split()[1])
            off = int(ln.rsplit("back in ", 1)[1].split()[0])
            spans.append((t - MARGIN, t + off + MARGIN))
    unplugged = {}
    for f in plan_faults:
        if f["do"] == "cut" and f["at"] == "config":
            spans.append((f["t"] - MARGIN, f["t"] + MARGIN))
        elif f["do"] == "unplug":
            unplugged[f["sensor"]] = f["t"]
        elif f["do"] == "replug":
            spans.append((unplugged.pop(f["sensor"]) - MARGIN, f["t"] + MARGIN))
    return spans
