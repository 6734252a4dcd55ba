"""Vehicles that pass while the network path is blocked are not lost: the
firmware under the unix port publishes to a real Mosquitto, which the test
freezes (SIGSTOP) for several seconds while vehicles pass over a presence input."""
import json
import os
import signal
import subprocess

from host_tools import mp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VEHICLES = 30


def test_vehicles_passing_while_the_broker_is_frozen_are_all_published(broker, subscriber, tmp_path):
    go = tmp_path / "go"
    node = subprocess.Popen([mp.binary(), os.path.join(ROOT, "tests", "mp", "traffic_held_node.py"),
                             str(broker.port), str(VEHICLES), str(go)],
                            cwd=ROOT, env=mp.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    lines = []
    try:
        for line in node.stdout:
            lines.append(line.strip())
            if line.startswith("ready"):  # one interval delivered: the path works
                broker.proc.send_signal(signal.SIGSTOP)
                go.write_text("")
            elif line.startswith("passed"):
                broker.proc.send_signal(signal.SIGCONT)
            elif line.startswith("done"):
                break
    finally:
        broker.proc.send_signal(signal.SIGCONT)
        try:
            node.wait(30)
        except subprocess.TimeoutExpired:
            node.kill()
            node.wait()
    assert "passed True" in lines, lines  # the last vehicle passed while a publish was held
    assert lines[-1] == "done 0 0", lines  # log empty, no edge overrun
    msgs = subscriber.collect(1000, timeout=3, match=lambda t: t.endswith("/attrs"))
    total = 0
    for topic, payload, qos, retain in msgs:
        assert topic == "/json/k/held-1-l1/attrs" and qos == 1 and not retain
        body = json.loads(payload)
        for obj in body if isinstance(body, list) else [body]:
            total += obj["intensity"]
    assert total == VEHICLES
