"""`host_tools replay` end to end: CPython CLI -> firmware under the unix port -> JSON lines."""
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CAPTURE = ROOT / "tests" / "data" / "air" / "sds011_capture_54frames.bin"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def replay(*args):
    out = subprocess.run([sys.executable, "-m", "host_tools", "replay", *map(str, args)], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def datasheet_decode(data):
    """SDS011 datasheet: AA C0 PM25(LE, 0.1 ug/m3) PM10(LE) ID ID CS AB."""
    out = []
    for o in range(0, len(data) - 9, 10):
        f = data[o:o + 10]
        assert f[0] == 0xAA and f[1] == 0xC0 and f[9] == 0xAB and sum(f[2:8]) % 256 == f[8]
        out.append(((f[2] | f[3] << 8) / 10, (f[4] | f[5] << 8) / 10))
    return out


def test_54_frame_capture_gives_54_samples_equal_to_the_datasheet_decoding():
    lines = replay(CAPTURE, "--start", "2026-11-21T22:00:00Z", "--interval", "60", "--samples")
    samples = [ln for ln in lines if "sample" in ln]
    expected = datasheet_decode(CAPTURE.read_bytes())
    assert len(samples) == len(expected) == 54
    for i, (s, (pm25, pm10)) in enumerate(zip(samples, expected)):
        assert s["sample"]["pm25"] == pm25 and s["sample"]["pm10"] == pm10
        assert s["t"] == "2026-11-21T22:00:%02dZ" % i


def test_published_messages_follow_the_fiware_contract():
    lines = replay(CAPTURE, "--start", "2026-11-21T22:00:00Z", "--interval", "20", "--device", "lj-7")
    msgs = [ln for ln in lines if "topic" in ln]
    # 54 s from 22:00:00 with 20 s intervals: closes at :20, :40 and at the end (:01:00).
    assert [m["payload"]["TimeInstant"] for m in msgs] == [
        "2026-11-21T22:00:20Z", "2026-11-21T22:00:40Z", "2026-11-21T22:01:00Z"]
    expected = datasheet_decode(CAPTURE.read_bytes())
    for m, chunk in zip(msgs, (expected[0:20], expected[20:40], expected[40:54])):
        assert m["topic"] == "/json/smartnode/lj-7-aq/attrs"
        p = m["payload"]
        assert isinstance(p, dict) and ISO.match(p["TimeInstant"])  # one reading: a plain object
        assert abs(p["pm25"] - sum(c[0] for c in chunk) / len(chunk)) < 0.006
        assert abs(p["pm10"] - sum(c[1] for c in chunk) / len(chunk)) < 0.006


def test_unknown_recording_is_refused_with_a_clear_error(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hello world")
    proc = subprocess.run([sys.executable, "-m", "host_tools", "replay", str(junk)], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "unknown recording format" in proc.stderr
