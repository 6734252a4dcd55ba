"""Every real recording in tests/data replays to the same readings under both unix-port
builds: the standard one (64-bit, double float) and the one with the ESP32's numerics
(32-bit objects, single-precision float, integer time.time(); host_tools/mp.py).

Counts, states, flags and stamps must be identical; a number printed with decimals may
differ by one unit of its last printed digit (float32 against double rounding)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools import mp

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
AIR = DATA / "air"

RECORDINGS = {
    "parking-ford": [DATA / "parking" / "mag3110x2_200Hz_5Mph_FordFocus_15s-22s.hexstream.txt",
                     "--as", "parking", "--start", "2026-11-21T22:00:15Z", "--interval", "5"],
    "parking-neon": [DATA / "parking" / "mag3110x2_200Hz_DodgeNeon_53s-58s.hexstream.txt",
                     "--as", "parking", "--start", "2026-11-21T22:00:53Z", "--interval", "5"],
    "traffic-ford": [DATA / "parking" / "mag3110x2_200Hz_5Mph_FordFocus_15s-22s.hexstream.txt",
                     "--as", "traffic", "--start", "2026-11-21T22:00:15Z", "--interval", "5"],
    "traffic-neon": [DATA / "parking" / "mag3110x2_200Hz_DodgeNeon_53s-58s.hexstream.txt",
                     "--as", "traffic", "--start", "2026-11-21T22:00:53Z", "--interval", "5"],
    "traffic-pems": [DATA / "traffic" / "d05_text_station_raw_2012_01_21.txt.gz", "--interval", "300"],
    "air-sds011": [AIR / "sds011_capture_54frames.bin", "--start", "2026-11-21T22:00:00Z", "--interval", "20"],
    "air-aberdeen-summer": [AIR / "luftdaten_aberdeen_sds011_15092_2018-07-07_to_14.csv",
                            AIR / "luftdaten_aberdeen_bme280_15093_2018-07-07_to_14.csv", "--interval", "3600"],
    "air-aberdeen-winter": [AIR / "luftdaten_aberdeen_sds011_5331_2018-12-28_to_2019-01-04.csv",
                            AIR / "luftdaten_aberdeen_dht22_5332_2018-12-28_to_2019-01-04.csv",
                            "--interval", "3600"],
    "air-pmsx003": [AIR / "PMSx003.hexdump", "--interval", "60"],
    "air-pms5003t": [AIR / "PMS5003T.hexdump", "--interval", "60"],
    "air-pms3003": [AIR / "PMS3003.hexdump", "--interval", "60"],
    "air-sps30": [AIR / "SPS30.hexdump", "--interval", "60"],
    "air-sds01x": [AIR / "SDS01x.hexdump", "--interval", "60"],
    "air-pms5003t-stream": [AIR / "pms5003t_pypms_issue19_stream.bin", "--format", "pms5003t-uart",
                            "--interval", "60"],
}


def replay(args, build):
    env = dict(os.environ)
    env["MICROPYTHON"] = mp.binary(build)  # the replay runs whichever binary this names
    proc = subprocess.run([sys.executable, "-m", "host_tools", "replay", *map(str, args)], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    # Numbers kept as their printed text: how many decimals the firmware printed matters.
    return [json.loads(line, parse_float=str) for line in proc.stdout.splitlines()]


def same(a, b, where):
    if isinstance(a, dict) and isinstance(b, dict):
        assert sorted(a) == sorted(b), where
        for k in a:
            same(a[k], b[k], "%s.%s" % (where, k))
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, "%s[%d]" % (where, i))
    elif isinstance(a, str) and isinstance(b, str) and _decimal(a) and _decimal(b):
        places = max(len(a.split(".")[1]), len(b.split(".")[1]))
        assert abs(float(a) - float(b)) <= 1.01 * 10 ** -places, (where, a, b)
    else:
        assert a == b, (where, a, b)


def _decimal(text):
    try:
        float(text)
    except ValueError:
        return False
    return "." in text


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_a_recording_gives_the_same_readings_under_both_builds(name):
    std = replay(RECORDINGS[name], "std")
    esp32 = replay(RECORDINGS[name], "esp32")
    assert any("topic" in ln for ln in std), "the recording published nothing"
    assert len(std) == len(esp32)
    for i, (a, b) in enumerate(zip(std, esp32)):
        same(a, b, "%s line %d" % (name, i + 1))
