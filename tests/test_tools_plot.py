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


def message(t, payload, device="lj-1-aq"):
    return {"t": t, "topic": "/json/k/%s/attrs" % device, "payload": payload}


def test_each_quantity_gets_its_panel_and_unit_never_seq_or_counts():
    lines = [message("2026-11-29T10:00:01Z", {"seq": 7, "TimeInstant": "2026-11-29T10:00:00Z", "pm25": 3.2,
                                              "pm25Min": 3.0, "pm25Max": 3.5, "pm25Count": 60, "pm10": 5,
                                              "relativeHumidity": 0.81, "temperature": 4.5,
                                              "dataQuality": ["humid:pm25", "humid:pm10"]})]
    p = plot.panels(plot.readings(lines))
    assert list(p) == [("particulate matter", "µg/m³"), ("temperature", "°C"), ("relative humidity", "%")]
    assert p[("particulate matter", "µg/m³")][("lj-1-aq", "pm25")] == [(plot._when("2026-11-29T10:00:00Z"), 3.2, 3.0, 3.5)]
    assert [v[1] for v in p[("relative humidity", "%")][("lj-1-aq", "relativeHumidity")]] == [81.0]
    flat = [attr for panel in p.values() for (_, attr) in panel]
    assert "seq" not in flat and not any(a.endswith("Count") for a in flat)
    assert plot.flags(plot.readings(lines)) == {"humid:pm10": [plot._when("2026-11-29T10:00:00Z")],
                                                "humid:pm25": [plot._when("2026-11-29T10:00:00Z")]}


def test_a_stretch_without_readings_is_an_outage_and_a_late_batch_shows_its_age():
    lines = [message("2026-11-29T10:%02d:00Z" % m, {"TimeInstant": "2026-11-29T10:%02d:00Z" % m, "pm25": 3})
             for m in (0, 1, 2, 3)]
    # the broker was away from 10:03 to 10:09: the backlog comes as one batch, oldest first
    lines.append(message("2026-11-29T10:09:00Z", [{"TimeInstant": "2026-11-29T10:%02d:00Z" % m, "pm25": 3}
                                                 for m in (4, 5, 6, 7, 8, 9)]))
    rs = plot.readings(lines)
    assert plot.outages(rs) == []  # the node kept sampling: nothing is missing
    ages = [(pub - obs).total_seconds() for _, obs, pub, _ in rs]
    assert ages == [0, 0, 0, 0, 300, 240, 180, 120, 60, 0]
    sparse = [message("2026-11-29T10:%02d:00Z" % m, {"TimeInstant": "2026-11-29T10:%02d:00Z" % m, "pm25": 3})
              for m in (0, 1, 2, 3, 20, 21)]
    assert plot.outages(plot.readings(sparse)) == [(plot._when("2026-11-29T10:03:00Z"),
                                                    plot._when("2026-11-29T10:20:00Z"))]
