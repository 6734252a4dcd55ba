"""`make demo`'s job: a virtual node on a real recording, messages shown as the broker gets them."""
import json
import subprocess
import sys

from host_tools import paths


def test_demo_shows_real_sds011_readings_arriving_at_the_broker():
    out = subprocess.run([sys.executable, "-m", "host_tools", "demo", "--seconds", "7", "--interval", "2"],
                         cwd=paths.ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    shown = [line.split("  ", 1) for line in out.splitlines() if line.startswith("/json/")]
    assert ["/json/smartnode/demo-1/attrs/deviceState", "online"] in shown, out
    air = [payload for topic, payload in shown if topic == "/json/smartnode/demo-1-aq/attrs"]
    assert len(air) >= 2, out
    for payload in air:
        body = json.loads(payload)
        for obj in body if isinstance(body, list) else [body]:
            assert 3.1 <= obj["pm25"] <= 3.4  # the recording's range (tests/data/SOURCES.md)
