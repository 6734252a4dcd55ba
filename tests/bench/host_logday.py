"""Log figures of the reference node: a recorded day through the node core.

The reference node (issue 13): SDS011 + BME280 air quality, two parking spots,
two traffic lanes, all at 300 s, health at 300 s. Its day is made of real
recordings shifted onto one day: air from the Aberdeen sensor.community pair
(SDS011 15092 + BME280 15093, first whole day), traffic from PeMS station 500004
(two loop-detector lanes, its whole day of 30 s aggregates), parking from the
two MAG3110 vehicle passes (Ford Focus over spot 1, Dodge Neon over spot 2) with
heartbeats every 300 s around them. The day is the middle one of a 30-day outage
(health's uptime, backlog and its age as on an average day of it). It runs under the unix port
(logday_node.py); the baseline, in the same run, is the same readings as the
JSON text records the firmware logged before, in today's 512 KiB partition.
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from host_tools import mp, partitions, recordings  # noqa: E402
from host_tools.boards import load as load_board  # noqa: E402

DATA = ROOT / "tests" / "data"
T0 = 1795737600  # 2026-11-27T00:00:00Z: the day the recordings are moved to
DAY = 86400
BASELINE_LOG = 512 * 1024  # smartlog on a 4 MB board before issue 13
SECTOR = 4096
DEVICE_HEAP = 384 * 1024  # free heap in 3 varint bytes, as on an ESP32 (64-bit objects need more)


def part(paths, **opts):
    return recordings.read([str(DATA / p) for p in paths], argparse.Namespace(start=0, **opts))


def shifted(events, start, offset, keep=lambda ev: ev):
    """Events of [start, start + DAY) moved by offset."""
    out = []
    for ev in events:
        if start <= ev["t"] < start + DAY:
            ev = keep(dict(ev))
            ev["t"] = ev["t"] + offset
            out.append(ev)
    return out


def reference_day():
    air = part(["air/luftdaten_aberdeen_sds011_15092_2018-07-07_to_14.csv",
                "air/luftdaten_aberdeen_bme280_15093_2018-07-07_to_14.csv"])
    a0 = (int(air.events[0]["t"]) // DAY + 1) * DAY  # the first whole day
    events = shifted(air.events, a0, T0 - a0)

    pems = part(["traffic/d05_text_station_raw_2012_01_21.txt.gz"], station="500004")
    p0 = pems.events[0]["t"]

    def lanes(ev):
        del ev["node"]
        return ev
    events += shifted(pems.events, p0, T0 - p0, lanes)

    for spot, name, hour in ((1, "mag3110x2_200Hz_5Mph_FordFocus_15s-22s.hexstream.txt", 8),
                             (2, "mag3110x2_200Hz_DodgeNeon_53s-58s.hexstream.txt", 17)):
        mag = part(["parking/" + name], as_="parking", calibrate=1.0)
        for ev in mag.events:
            events.append(dict(ev, t=T0 + hour * 3600 + ev["t"], spot=spot))
    events.sort(key=lambda ev: ev["t"])
    cfg = {"device_id": "ref-1", "apikey": "smartnode", "interval": 300,
           "air": {"sensors": {"sds011": {}, "bme280": {}}},
           "parking": {"heartbeat": 300, "autocalibrate": 1.0,
                       "spots": [{"spot": 1, "axes": 6}, {"spot": 2, "axes": 6}]},
           "traffic": {"lanes": [{"lane": 1}, {"lane": 2}]},
           "health": {"interval": 300}}
    return cfg, events


def run(args, cwd):
    proc = mp.run(args, cwd=cwd, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit("logday_node.py failed:\n" + proc.stdout + proc.stderr)
    return json.loads(proc.stdout.splitlines()[-1])


def main():
    cfg, events = reference_day()
    board = load_board("esp32-devkitc")
    log_bytes = dict((p[0], p[4]) for p in partitions.layout(board["flash_mb"]))[partitions.LOG_LABEL]
    with tempfile.TemporaryDirectory() as tmp:
        stream = Path(tmp) / "day.jsonl"
        with open(stream, "w") as f:
            # readings of about 21 bytes with their headers (the reference node's mean): health's logUsed
            capacity = (log_bytes // SECTOR - 2) * (SECTOR - 76) // 21
            f.write(json.dumps({"config": cfg, "board": {"name": "unix-sim"}, "t0": T0,
                                "capacity": capacity, "days_before": 15,
                                "readings_per_day": 1732}) + "\n")
            for ev in events:  # times as the node takes them: whole seconds + ms
                sec, ms = recordings.split_time(ev["t"])
                ev = dict(ev, t=sec)
                if ms:
                    ev["ms"] = ms
                f.write(json.dumps(ev, separators=(",", ":")) + "\n")
        node = str(ROOT / "tests" / "bench" / "logday_node.py")
        recs = str(Path(tmp) / "records.bin")
        # A device-sized heap for the day (health reports free heap), a big one for the logs.
        day = run(["-X", "heapsize=%d" % DEVICE_HEAP, node, "day", str(stream), recs], tmp)
        held = run(["-X", "heapsize=64M", node, "held", recs, str(log_bytes // SECTOR),
                    str(BASELINE_LOG // SECTOR)], tmp)
    for kind in ("air", "parking", "traffic", "health"):
        n, now, before = day["per_kind"][kind]
        print("log.bytes_per_reading.%s %.1f bytes" % (kind, now / n))
        print("log.bytes_per_reading.%s.baseline %.1f bytes" % (kind, before / n))
    print("node.log_bytes_per_day %d bytes" % day["bytes"])
    print("node.log_bytes_per_day.baseline %d bytes" % day["baseline_bytes"])
    print("node.log_bytes_per_day.ratio %.3f x" % (day["bytes"] / day["baseline_bytes"]))
    print("node.readings_per_day %d readings" % day["readings"])
    # Every sector filled is erased once when the ring comes back to it.
    print("log.erases_per_day %.1f erases" % (day["bytes"] / (SECTOR - 76)))
    print("log.erases_per_day.baseline %.1f erases" % (day["baseline_bytes"] / (SECTOR - 76)))
    print("log.days_held %.1f days" % held["days_held"])
    print("log.days_held.baseline %.2f days" % held["days_held_baseline"])
    print("log.days_held.ratio %.1f x" % (held["days_held"] / held["days_held_baseline"]))
    print("log.partition_bytes %d bytes" % log_bytes)


if __name__ == "__main__":
    main()
