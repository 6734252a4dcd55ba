"""`make demo`'s job: a virtual node on a real recording, messages shown as the broker gets
them; during the broker outage readings wait in the node's flash log and all arrive after."""
import json
import re
import subprocess
import sys

from host_tools import paths


def test_demo_shows_every_reading_arriving_including_those_made_while_the_broker_was_down():
    out = subprocess.run([sys.executable, "-m", "host_tools", "demo", "--seconds", "21", "--interval", "2",
                          "--outage", "5"], cwd=paths.ROOT, capture_output=True, text=True, timeout=90,
                         check=True).stdout
    lines = out.splitlines()
    down = lines.index("demo: broker DOWN for 5 s: the node keeps every reading in its flash log")
    up = next(i for i, ln in enumerate(lines) if ln.startswith("demo: broker UP again"))
    shown = [(i, *ln.split("  ", 1)) for i, ln in enumerate(lines) if ln.startswith("/json/")]
    assert (min(i for i, *_ in shown), "/json/smartnode/demo-1/attrs/deviceState", '"online"') in shown
    seqs, air_after_outage = [], []
    for i, topic, payload in shown:
        if topic.endswith("/deviceState"):
            continue
        body = json.loads(payload)
        for obj in body if isinstance(body, list) else [body]:
            seqs.append(obj["seq"])
            if topic == "/json/smartnode/demo-1-aq/attrs":
                assert 3.1 <= obj["pm25"] <= 3.4  # the recording's range (tests/data/SOURCES.md)
                if i > up:
                    air_after_outage.append(obj["TimeInstant"])
    # Every reading arrived, in order, none lost to the outage (duplicates would repeat a seq).
    assert sorted(set(seqs)) == list(range(1, max(seqs) + 1)), seqs
    assert len(air_after_outage) >= 3, out  # what waited in the log, then the live readings
    assert down < up
    # It ends with a summary that says the same.
    summary = re.match(r"demo: summary: (\d+) messages, (\d+) readings \(seq 1\.\.(\d+)\), none missing; "
                       r"broker outage of 5 s survived: (\d+) readings waited in the flash log$", lines[-1])
    assert summary, lines[-1]
    messages, readings, last, waited = map(int, summary.groups())
    assert messages == len(shown) and readings == last == max(seqs) and waited >= 1


def test_the_outage_also_happens_when_the_demo_runs_until_ctrl_c():
    from host_tools import demo
    assert demo.schedule(60, 15) == (20, 35)
    assert demo.schedule(0, 15) == (demo.UNTIL_CTRL_C_OUTAGE_AT, demo.UNTIL_CTRL_C_OUTAGE_AT + 15)
    assert demo.schedule(0, 0) == (None, None)
