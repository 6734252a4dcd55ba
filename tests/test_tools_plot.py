"""`replay --plot`: the published readings over time as a PNG."""
import json
import subprocess
import sys
from pathlib import Path

from host_tools import plot

ROOT = Path(__file__).resolve().parent.parent
CAPTURE = ROOT / "tests" / "data" / "air" / "sds011_capture_54frames.bin"


def test_replay_plot_writes_a_png_of_what_was_published(tmp_path):
    png = tmp_path / "replay.png"
    out = subprocess.run([sys.executable, "-m", "host_tools", "replay", str(CAPTURE), "--start",
                          "2026-11-21T22:00:00Z", "--interval", "10", "--plot", str(png)],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    lines = [json.loads(ln) for ln in out.splitlines()]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.count("\n") == len(lines) and "\x1b" not in out  # no progress bar on a pipe
    s = plot.series(lines)
    published = [m["payload"]["pm25"] for m in lines if "topic" in m]
    assert [v for _, v in s[("replay-1-aq", "pm25")]] == published and len(published) == 6
