"""Write the golden published messages: every replay of the real recordings in
tests/data, as `host_tools replay` prints them (one JSON line per MQTT message,
payload bytes verbatim), gzipped into tests/golden/<name>.jsonl.gz.

The golden files are the independent source for tests/test_golden_payloads.py:
they were produced by the firmware from before the compact log records
(JSON text in the log), so the test proves that the compact records publish
exactly what the node published before.  Regenerate them ONLY from a checkout
whose firmware still logs JSON text (e.g. when main's payloads change, run this
on main's code from before the compact records, with the payload change
applied there), never from the code under test:

    .venv/bin/python tests/golden/make_golden.py            # all
    .venv/bin/python tests/golden/make_golden.py pems-300   # one (health: the Device readings)

records-v1.jsonl holds records of the first compact layouts (version 1) with what
that firmware published for them; it was made on main at b600d71 so:

    git archive b600d71 firmware | tar -x -C /tmp/v1
    MICROPYPATH=/tmp/v1/firmware micropython tests/golden/records_v1.py > tests/golden/records-v1.jsonl

with later payload changes applied to that firmware first (so far: TrafficFlowObserved's
dateObserved interval, main's app/rec_lane.py of 492b229, which is layout 1).
"""
import gzip
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
GOLDEN = ROOT / "tests" / "golden"
AIR = "tests/data/air/"
PARK = "tests/data/parking/"
FORD = PARK + "mag3110x2_200Hz_5Mph_FordFocus_15s-22s.hexstream.txt"
NEON = PARK + "mag3110x2_200Hz_DodgeNeon_53s-58s.hexstream.txt"

# name -> `host_tools replay` arguments
REPLAYS = {
    "sds011-54": [AIR + "sds011_capture_54frames.bin", "--start", "2026-11-21T22:00:00Z",
                  "--interval", "20", "--device", "lj-7"],
    "sds01x": [AIR + "SDS01x.hexdump", "--interval", "60"],
    "pmsx003": [AIR + "PMSx003.hexdump", "--interval", "60"],
    "pms5003t": [AIR + "PMS5003T.hexdump", "--interval", "60"],
    "pms3003": [AIR + "PMS3003.hexdump", "--interval", "60"],
    "sps30": [AIR + "SPS30.hexdump", "--interval", "60"],
    "pms5003t-issue19": [AIR + "pms5003t_pypms_issue19_stream.bin", "--interval", "20",
                         "--format", "pms5003t-uart"],
    "aberdeen-summer": [AIR + "luftdaten_aberdeen_sds011_15092_2018-07-07_to_14.csv",
                        AIR + "luftdaten_aberdeen_bme280_15093_2018-07-07_to_14.csv",
                        "--interval", "300", "--device", "abdn-1"],
    "aberdeen-winter": [AIR + "luftdaten_aberdeen_sds011_5331_2018-12-28_to_2019-01-04.csv",
                        AIR + "luftdaten_aberdeen_dht22_5332_2018-12-28_to_2019-01-04.csv",
                        "--interval", "300", "--apikey", "k-air"],
    "ford-traffic": [FORD, "--as", "traffic", "--start", "2026-11-21T22:00:15Z", "--interval", "5"],
    "neon-traffic": [NEON, "--as", "traffic", "--start", "2026-11-21T22:00:53Z", "--interval", "1"],
    "ford-parking": [FORD, "--as", "parking", "--start", "2026-11-21T22:00:15Z"],
    "neon-parking": [NEON, "--as", "parking", "--start", "2026-11-21T22:00:53Z"],
    "pems-300": ["tests/data/traffic/d05_text_station_raw_2012_01_21.txt.gz", "--interval", "300"],
    "pems-3600-500004": ["tests/data/traffic/d05_text_station_raw_2012_01_21.txt.gz",
                         "--interval", "3600", "--station", "500004"],
}


def replay(args):
    """-> the published-message lines (bytes) of one replay."""
    out = subprocess.run([sys.executable, "-m", "host_tools", "replay", *args], cwd=ROOT,
                         capture_output=True, check=True).stdout
    return [ln for ln in out.splitlines() if b'"topic":' in ln]


def health():
    """Health readings of health_cases.py under the unix port."""
    from host_tools import mp
    out = mp.run([str(GOLDEN / "health_cases.py")], cwd=ROOT, capture_output=True, check=True).stdout
    (GOLDEN / "health.jsonl").write_bytes(out)
    print("health: %d readings" % len(out.splitlines()))


def main(names):
    if not names or "health" in names:
        health()
    for name in names or REPLAYS:
        if name == "health":
            continue
        lines = replay(REPLAYS[name])
        with gzip.GzipFile(GOLDEN / (name + ".jsonl.gz"), "wb", mtime=0) as f:
            f.write(b"".join(ln + b"\n" for ln in lines))
        print("%s: %d messages" % (name, len(lines)))


if __name__ == "__main__":
    main(sys.argv[1:])
