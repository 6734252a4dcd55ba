"""Air-quality acceptance on real recordings: sensor.community archive CSVs and
Plantower captures replayed through the firmware under the unix port, checked
against an independent computation from the raw files."""
import csv
import datetime as dt
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "air"
SDS_15092 = DATA / "luftdaten_aberdeen_sds011_15092_2018-07-07_to_14.csv"
BME_15093 = DATA / "luftdaten_aberdeen_bme280_15093_2018-07-07_to_14.csv"
SDS_5331 = DATA / "luftdaten_aberdeen_sds011_5331_2018-12-28_to_2019-01-04.csv"
DHT_5332 = DATA / "luftdaten_aberdeen_dht22_5332_2018-12-28_to_2019-01-04.csv"
INTERVAL = 300


def replay(*args):
    out = subprocess.run([sys.executable, "-m", "host_tools", "replay", *map(str, args)], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def readings(lines):
    """Every published AirQualityObserved object, batches unpacked, by TimeInstant."""
    out = {}
    for ln in lines:
        if "topic" not in ln:
            continue
        p = ln["payload"]
        for obj in (p if isinstance(p, list) else [p]):
            assert obj["TimeInstant"] not in out
            out[obj["TimeInstant"]] = obj
    return out


def iso(t):
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def per_interval(path, column):
    """Interval end (ISO) -> the column's values in [end - 300 s, end), straight from the CSV."""
    groups = defaultdict(list)
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter=";"):
            t = dt.datetime.fromisoformat(row["timestamp"]).replace(tzinfo=dt.timezone.utc).timestamp()
            if row[column]:
                groups[iso((int(t) // INTERVAL + 1) * INTERVAL)].append(float(row[column]))
    return groups


def all_ends(*groups):
    ends = sorted(set().union(*groups))
    first = dt.datetime.fromisoformat(ends[0].replace("Z", "+00:00")).timestamp()
    last = dt.datetime.fromisoformat(ends[-1].replace("Z", "+00:00")).timestamp()
    return [iso(t) for t in range(int(first), int(last) + 1, INTERVAL)]


def test_aberdeen_week_gives_the_csv_means_and_reports_gaps_as_missing():
    got = readings(replay(SDS_15092, BME_15093, "--interval", INTERVAL, "--device", "abdn-1"))
    pm10 = per_interval(SDS_15092, "P1")  # sensor.community: P1 = PM10, P2 = PM2.5
    pm25 = per_interval(SDS_15092, "P2")
    pressure = per_interval(BME_15093, "pressure")  # Pa in the archive
    humidity = per_interval(BME_15093, "humidity")  # %RH
    ends = all_ends(pm10, pressure)
    assert set(got) == set(ends)  # one reading per interval, gaps included
    missing_run = longest = 0
    for end in ends:
        r = got[end]
        for name, groups in (("pm10", pm10), ("pm25", pm25)):
            vals = groups.get(end)
            if vals:
                assert abs(r[name] - sum(vals) / len(vals)) < 0.0051, (end, name)
                assert r[name + "Count"] == len(vals)
                assert r[name + "Min"] == min(vals) and r[name + "Max"] == max(vals)
                assert "missing:" + name not in r["dataQuality"]
            else:
                assert name not in r and "missing:" + name in r["dataQuality"]
        if end in pressure:
            hpa = sum(pressure[end]) / len(pressure[end]) / 100
            assert abs(r["pressure"] - hpa) < 0.011  # integer Pa inside the node
            rh = sum(humidity[end]) / len(humidity[end]) / 100
            assert abs(r["relativeHumidity"] - rh) < 0.00011
        else:
            assert "missing:pressure" in r["dataQuality"]
        missing_run = missing_run + 1 if end not in pm10 else 0
        longest = max(longest, missing_run)
    # SOURCES.md: the longest gap is 7.35 h (07-11 22:18 -> 07-12 05:39): ~88 silent intervals.
    assert 85 <= longest <= 90
    night = [got[e] for e in ends if "2018-07-12T00:00:00Z" <= e <= "2018-07-12T05:00:00Z"]
    assert len(night) == 61 and all(set(r["dataQuality"]) >= {"missing:pm25", "missing:pm10"} for r in night)
    assert not any("stuck:" in f for r in got.values() for f in r["dataQuality"])


def test_stuck_dht22_humidity_is_flagged_and_the_new_year_spike_is_kept():
    got = readings(replay(SDS_5331, DHT_5332, "--interval", INTERVAL))
    pm10 = per_interval(SDS_5331, "P1")
    humidity = per_interval(DHT_5332, "humidity")
    assert {v for vals in humidity.values() for v in vals} == {99.9}  # the recording's fault
    with_rh = sorted(e for e in got if e in humidity)
    # Stuck once the same value has lasted 3 h (the default window): every interval
    # holding a sample 3 h or more after the first one, to the end of the recording.
    with open(DHT_5332, newline="") as f:
        times = [dt.datetime.fromisoformat(row["timestamp"]).replace(tzinfo=dt.timezone.utc).timestamp()
                 for row in csv.DictReader(f, delimiter=";")]
    late = {iso((int(t) // INTERVAL + 1) * INTERVAL) for t in times if t - times[0] >= 3 * 3600}
    stuck = [e for e in with_rh if "stuck:relativeHumidity" in got[e]["dataQuality"]]
    assert stuck == sorted(late)
    assert len(stuck) > 2000
    # RH 99.9 % is over 70 %: every PM mean is marked humid.
    for e in with_rh:
        if e in pm10:
            assert {"humid:pm10", "humid:pm25"} <= set(got[e]["dataQuality"])
    top = max(max(v) for v in pm10.values())
    assert top == 248.13
    spike = [r for e, r in got.items() if r.get("pm10Max") == top]
    assert len(spike) == 1 and "range:pm10" not in spike[0]["dataQuality"]
    assert spike[0]["relativeHumidity"] == 0.999


def _replayed_and_pypms(name):
    lines = replay(DATA / (name + ".hexdump"), "--interval", 60, "--samples")
    with open(DATA / (name + ".csv")) as f:
        rows = list(csv.DictReader(f, skipinitialspace=True))
    return lines, [ln["sample"] for ln in lines if "sample" in ln], rows


def test_pms_captures_replay_to_the_pypms_decoding():
    _, samples, rows = _replayed_and_pypms("PMSx003")
    assert [(s["pm1"], s["pm25"], s["pm10"]) for s in samples] == [
        (float(r["pm01"]), float(r["pm25"]), float(r["pm10"])) for r in rows]
    lines, samples, rows = _replayed_and_pypms("PMS5003T")
    assert [(s["pm25"], s["temperature"], s["humidity"]) for s in samples] == [
        (float(r["pm25"]), float(r["temp"]), float(r["rhum"])) for r in rows]
    (msg,) = [ln["payload"] for ln in lines if "topic" in ln]
    rh = sum(float(r["rhum"]) for r in rows) / len(rows) / 100
    assert abs(msg["relativeHumidity"] - rh) < 0.00006


def test_format_is_forced_where_the_bytes_cannot_tell(tmp_path):
    # The same PMS5003T bytes under a neutral name: sniffed as a plain PMS, forced as a 5003T.
    blind = tmp_path / "capture.hexdump"
    blind.write_bytes((DATA / "PMS5003T.hexdump").read_bytes())
    plain = [ln["sample"] for ln in replay(blind, "--samples") if "sample" in ln]
    assert plain and "temperature" not in plain[0]
    forced = [ln["sample"] for ln in replay(blind, "--samples", "--format", "pms5003t-uart") if "sample" in ln]
    assert forced[0]["temperature"] == 21.2


def test_sps30_capture_replays_through_the_pipeline():
    lines, samples, rows = _replayed_and_pypms("SPS30")
    assert len(samples) == len(rows) == 10
    for s, r in zip(samples, rows):
        assert abs(s["pm25"] - float(r["pm25"])) <= 0.0501 and abs(s["pm10"] - float(r["pm10"])) <= 0.0501
    (msg,) = [ln["payload"] for ln in lines if "topic" in ln]
    assert msg["pm25Count"] == 10 and msg["dataQuality"] == []
    assert abs(msg["pm1"] - sum(float(r["pm01"]) for r in rows) / 10) <= 0.051
