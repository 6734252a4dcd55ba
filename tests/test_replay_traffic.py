"""`host_tools replay` on real magnetometer and loop-detector recordings (parking, traffic)."""
import datetime as dt
import gzip
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
FORD = DATA / "parking" / "mag3110x2_200Hz_5Mph_FordFocus_15s-22s.hexstream.txt"
NEON = DATA / "parking" / "mag3110x2_200Hz_DodgeNeon_53s-58s.hexstream.txt"
PEMS = DATA / "traffic" / "d05_text_station_raw_2012_01_21.txt.gz"


def replay(*args):
    proc = subprocess.run([sys.executable, "-m", "host_tools", "replay", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def readings(lines):
    """-> [(device id, payload object)] in publishing order, batches unpacked."""
    out = []
    for ln in lines:
        if "topic" not in ln:
            continue
        device = ln["topic"].split("/")[3]
        body = ln["payload"]
        for obj in body if isinstance(body, list) else [body]:
            out.append((device, obj))
    return out


def raw_mag3110_values(path):
    """Every int16 axis value of a `7FFF`-separated MAG3110 hex stream, decoded here."""
    text = path.read_text().strip()
    values = []
    for rec in text.split("7FFF")[1:]:
        b = bytes.fromhex(rec)
        values.extend(int.from_bytes(b[i:i + 2], "big", signed=True) for i in range(0, 12, 2))
    return values


def test_ford_focus_pass_is_one_vehicle_in_the_interval_around_17_s():
    # The excerpt really holds the I2C glitches that must not count as vehicles.
    values = raw_mag3110_values(FORD)
    assert len(values) == 1400 * 6 and {-16384, -512, 558, 694} <= set(values)
    # The excerpt starts 15.0 s into the original recording; the car passes at about 17 s.
    lines = replay(FORD, "--as", "traffic", "--start", "2026-11-21T22:00:15Z", "--interval", "5",
                   "--device", "mag-1")
    lanes = readings(lines)
    assert {d for d, _ in lanes} == {"mag-1-l1"}
    counts = {o["dateObservedFrom"]: o["intensity"] for _, o in lanes}
    # Exactly one vehicle, in [15 s, 20 s); the glitches (-16384, 558, 694 at 17.2-19.3 s
    # of the original) and the dips inside the car's signature add none.
    assert counts == {"2026-11-21T22:00:15Z": 1, "2026-11-21T22:00:20Z": 0}
    for _, o in lanes:
        assert 0 <= o["occupancy"] <= 1 and o["dataQuality"] == [] and o["laneId"] == 1
        assert "averageVehicleSpeed" not in o  # no speed from one magnetometer position


def test_dodge_neon_pass_is_one_vehicle_with_dash_separated_records():
    lanes = readings(replay(NEON, "--as", "traffic", "--start", "2026-11-21T22:00:53Z",
                            "--interval", "60"))
    assert sum(o["intensity"] for _, o in lanes) == 1


def test_ford_focus_rolling_over_a_bay_leaves_it_free():
    lines = replay(FORD, "--as", "parking", "--start", "2026-11-21T22:00:15Z", "--samples")
    spots = readings(lines)
    assert spots and {d for d, _ in spots} == {"replay-1-p1"}
    assert [o["status"] for _, o in spots] == ["free"]  # calibrated at 16 s, never occupied
    # The car really moved the field: the deviation crossed the occupancy threshold (16).
    devs = [ln["sample"]["dev"] for ln in lines if "sample" in ln]
    assert max(devs) > 16
    assert all(ln["sample"]["status"] != "occupied" for ln in lines if "sample" in ln)


def test_magnetometer_recording_needs_a_role():
    proc = subprocess.run([sys.executable, "-m", "host_tools", "replay", str(FORD)], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "--as parking or --as traffic" in proc.stderr


def pems_expected(interval=300):
    """Independent reading of the raw file: per (station, lane, interval start) the
    summed flow, the samples' occupancies, and whether every sample was stuck on."""
    pacific = ZoneInfo("America/Los_Angeles")
    acc = defaultdict(lambda: {"flow": 0, "occ": [], "stuck": True, "vkm": 0.0, "vn": 0})
    first = {}
    with gzip.open(PEMS, "rt") as f:
        for line in f:
            cols = line.rstrip("\n").split(",")
            t = dt.datetime.strptime(cols[0], "%m/%d/%Y %H:%M:%S").replace(tzinfo=pacific).timestamp()
            first.setdefault(cols[1], t)
            for lane in range(1, 9):
                flow, occ, mph = cols[2 + 3 * (lane - 1):5 + 3 * (lane - 1)]
                if flow == "" and occ == "":
                    continue
                a = acc[(cols[1], lane, int(t) // interval * interval)]
                a["flow"] += int(flow)
                a["occ"].append(float(occ))
                a["stuck"] = a["stuck"] and int(flow) == 0 and float(occ) == 1.0
                if mph and float(mph) > 0:
                    a["vkm"] += int(flow) * float(mph) * 1.609344  # flow-weighted, mph -> km/h
                    a["vn"] += int(flow)
    return acc, first


def test_a_day_of_pems_30s_data_in_300s_intervals():
    acc, first = pems_expected()
    got = {}
    for device, o in readings(replay(PEMS, "--interval", "300")):
        station, lane = device.split("-l")
        t0 = dt.datetime.fromisoformat(o["dateObservedFrom"].replace("Z", "+00:00")).timestamp()
        assert o["laneId"] == int(lane)
        got[(station, int(lane), int(t0))] = o
    assert set(got) == set(acc)
    assert len({k[0] for k in got}) == 10
    for k, a in acc.items():
        o = got[k]
        assert o["intensity"] == a["flow"], k
        assert abs(o["occupancy"] - sum(a["occ"]) / len(a["occ"])) < 1e-4, k
        if a["vn"]:
            assert abs(o["averageVehicleSpeed"] - a["vkm"] / a["vn"]) < 0.06, k
        else:
            assert "averageVehicleSpeed" not in o, k
    stuck_lanes = {("500001", 1), ("500001", 2), ("500003", 1), ("500003", 2)}
    dead_stations = {"500005", "500007", "500009", "500011", "500012", "500013"}
    for k, o in got.items():
        station, lane, t0 = k
        flags = o["dataQuality"]
        if (station, lane) in stuck_lanes:
            if acc[k]["stuck"]:
                assert "detector-stuck-on" in flags, k
        elif station in dead_stations:
            # No vehicle all day: dead once the silence exceeds the default hour.
            assert flags == (["detector-dead"] if t0 + 300 - first[station] > 3600 else []), k
        else:
            assert flags == [], k  # healthy lanes are never flagged
    stuck_flagged = sum("detector-stuck-on" in got[k]["dataQuality"] for k in got
                        if (k[0], k[1]) in stuck_lanes)
    assert stuck_flagged >= 4 * 280


def test_pems_station_option_replays_one_node():
    lines = replay(PEMS, "--interval", "3600", "--station", "500004")
    devices = {d for d, _ in readings(lines)}
    assert devices == {"500004-l1", "500004-l2"}


def test_a_damaged_pems_line_is_a_clear_error(tmp_path):
    bad = tmp_path / "d05_text_station_raw_damaged.txt"
    with gzip.open(PEMS, "rt") as f:
        good = [next(f) for _ in range(3)]
    bad.write_text(good[0] + good[1] + "01/21/2012 00:00:51,500004,1,zz,65\n")
    proc = subprocess.run([sys.executable, "-m", "host_tools", "replay", str(bad)], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "3: not a PeMS raw line" in proc.stderr


def test_gzip_bytes_that_happen_to_hold_an_sds011_header_are_not_taken_for_one(tmp_path):
    # A real case: the PeMS day 2012-01-22, gzipped, holds AA C0 .. AB by chance.
    # Here the chance bytes sit in the gzip header's file-name field.
    import gzip
    import io

    from host_tools import recordings

    text = gzip.decompress((DATA / "traffic" / "d05_text_station_raw_2012_01_21.txt.gz").read_bytes())
    buf = io.BytesIO()
    with gzip.GzipFile(filename="x\xaa\xc0\x01\x02\xab.txt", mode="wb", fileobj=buf, mtime=0) as f:
        f.write(text)
    path = tmp_path / "station_raw.txt.gz"
    path.write_bytes(buf.getvalue())
    assert b"\xaa\xc0\x01\x02\xab" in path.read_bytes()[:64]
    assert recordings.detect(path) == "pems-30s-raw"
