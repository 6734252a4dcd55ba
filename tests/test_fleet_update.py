"""`smartnode fleet update` through a real Mosquitto: waves (canary first), a stop past the
failure threshold, which node runs which version, and a resume from the state file.
The nodes here answer `update` on their command topics from a script, in the words the
firmware uses (firmware/app/ota.py, otatrial.py; the firmware itself is exercised by
tests/test_ota_update.py), so the rollout's decisions can be tested on a fleet of five."""
import json
import subprocess
import sys
import threading

import paho.mqtt.client as mqtt
import pytest

from host_tools import fleetupdate, release

V = "0.2.0+0123456789ab"
OLD = "0.1.0+aaaaaaaaaaaa"
ANSWERS = {
    "ok": ["downloading URL", "%s verified; rebooting into it" % V, "OK %s confirmed: it published" % V],
    "rollback": ["downloading URL", "%s verified; rebooting into it" % V,
                 "ERROR rolled back to %s: %s did not publish within 300 s (OSError: 113)" % (OLD, V)],
    "bad": ["downloading URL", "ERROR bme.mpy: sha256 does not match the manifest (corrupted in transit?)"],
    "current": ["downloading URL", "ERROR %s is not newer than the running %s (force to install it anyway)" % (V, V)],
}


class ScriptedNodes:
    """One MQTT client answering for every device: script[dev] names its ANSWERS."""

    def __init__(self, port, script):
        self.script = script
        self.asked = {d: 0 for d in script}
        self.lock = threading.Lock()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="scripted-nodes")
        ready = threading.Event()
        self.c.on_connect = lambda cl, u, f, rc, p: cl.subscribe("/k1/+/cmd", qos=1)
        self.c.on_subscribe = lambda *a: ready.set()
        self.c.on_message = self._on_message
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        assert ready.wait(10)

    def _on_message(self, cl, u, m):
        dev = m.topic.split("/")[2]
        cmd = json.loads(m.payload)
        assert list(cmd) == ["update"] and cmd["update"]["url"].startswith("http")
        with self.lock:
            self.asked[dev] += 1
        for a in ANSWERS[self.script[dev]]:
            cl.publish("/json/k1/%s/cmdexe" % dev, json.dumps({"update": a}), qos=1)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


@pytest.fixture
def fleet_files(tmp_path, broker):
    inv = tmp_path / "fleet.csv"
    rows = ["device_id,municipality,board,sensors,lat,lon,broker,apikey,interval"]
    for i in range(1, 6):
        rows.append("lj-%03d,ljubljana,esp32-devkitc,sds011,46.05,14.50,127.0.0.1:%d,k1,300" % (i, broker.port))
    inv.write_text("\n".join(rows) + "\n")
    sec = tmp_path / "secrets.json"
    sec.write_text(json.dumps({"default": {"wifi": {"ssid": "city", "password": "wifi-secret"}}}))
    pkg = tmp_path / "p.snup"
    pkg.write_bytes(release.MAGIC + b"\n" + json.dumps({"version": V}).encode() + b"\n00\n")
    return inv, sec, pkg


def rollout(tmp_path, broker, fleet_files, *extra):
    inv, sec, pkg = fleet_files
    return subprocess.run(
        [sys.executable, "-m", "host_tools", "fleet", "update", str(inv), "--secrets", str(sec),
         "--package", str(pkg), "--url", "http://updates.test/p.snup", "--broker", "127.0.0.1:%d" % broker.port,
         "--state", str(tmp_path / "state.json"), "--timeout", "10", *extra],
        capture_output=True, text=True, timeout=120)


def test_a_failing_canary_stops_the_rollout_and_a_rerun_resumes_it(tmp_path, broker, fleet_files):
    nodes = ScriptedNodes(broker.port, {"lj-001": "rollback", "lj-002": "ok", "lj-003": "ok",
                                        "lj-004": "ok", "lj-005": "ok"})
    try:
        out = rollout(tmp_path, broker, fleet_files, "--canary", "1", "--wave", "2")
        assert out.returncode != 0
        assert "stopped: 1 failures, more than --max-failures 0" in out.stderr
        assert "run the same command again" in out.stderr
        assert nodes.asked == {"lj-001": 1, "lj-002": 0, "lj-003": 0, "lj-004": 0, "lj-005": 0}
        st = json.loads((tmp_path / "state.json").read_text())
        assert st["nodes"]["lj-001"] == {"state": "failed", "version": OLD, "answer": ANSWERS["rollback"][-1]}
        assert "lj-001               failed   %s" % OLD in out.stdout
        # The cause is fixed (here: the canary now takes it); the same command goes on.
        nodes.script["lj-001"] = "ok"
        again = rollout(tmp_path, broker, fleet_files, "--canary", "1", "--wave", "2")
        assert again.returncode == 0, again.stderr
        assert nodes.asked == {"lj-001": 2, "lj-002": 1, "lj-003": 1, "lj-004": 1, "lj-005": 1}
        st = json.loads((tmp_path / "state.json").read_text())
        assert {d: (n["state"], n["version"]) for d, n in st["nodes"].items()} == {
            "lj-%03d" % i: ("ok", V) for i in range(1, 6)}
        # Waves in order: canary, then two of two and one.
        waves = [ln for ln in again.stderr.splitlines() + again.stdout.splitlines() if ": wave " in ln]
        assert [w.split(": ")[2] for w in waves] == ["lj-001", "lj-002, lj-003", "lj-004, lj-005"]
    finally:
        nodes.close()


def test_an_interrupted_rollout_asks_only_the_nodes_not_done(tmp_path, broker, fleet_files):
    # As the state file is after a Ctrl-C in the second wave: 1-2 done, 3 asked, 4-5 not yet.
    st = {"version": V, "url": "http://updates.test/p.snup", "nodes": {
        "lj-001": {"state": "ok", "version": V}, "lj-002": {"state": "ok", "version": V},
        "lj-003": {"state": "sent"}, "lj-004": {"state": "pending"}, "lj-005": {"state": "pending"}}}
    (tmp_path / "state.json").write_text(json.dumps(st))
    nodes = ScriptedNodes(broker.port, {"lj-001": "ok", "lj-002": "ok", "lj-003": "current",
                                        "lj-004": "bad", "lj-005": "ok"})
    try:
        out = rollout(tmp_path, broker, fleet_files, "--canary", "2", "--wave", "3", "--max-failures", "1")
        assert out.returncode == 0, out.stderr
        assert nodes.asked == {"lj-001": 0, "lj-002": 0, "lj-003": 1, "lj-004": 1, "lj-005": 1}
        final = json.loads((tmp_path / "state.json").read_text())["nodes"]
        assert final["lj-003"]["state"] == "ok"  # it already ran the release
        assert final["lj-004"]["state"] == "failed" and "sha256 does not match" in final["lj-004"]["answer"]
        assert final["lj-005"] == {"state": "ok", "version": V, "answer": ANSWERS["ok"][-1]}
    finally:
        nodes.close()


def test_a_state_file_of_another_release_is_refused(tmp_path):
    p = tmp_path / "state.json"
    p.write_text(json.dumps({"version": "0.1.9", "url": "x", "nodes": {}}))
    with pytest.raises(fleetupdate.UpdateError, match="rollout of 0.1.9, not %s" % V.replace("+", r"\+")):
        fleetupdate.load_state(p, V, "u", ["a"])


def test_waves_and_verdicts():
    assert fleetupdate.waves(list("abcdefg"), 2, 3) == [["a", "b"], ["c", "d", "e"], ["f", "g"]]
    assert fleetupdate.waves(list("ab"), 0, 5) == [["a", "b"]]
    assert fleetupdate.verdict(ANSWERS["ok"][1], V) is None  # not final yet
    assert fleetupdate.verdict(ANSWERS["rollback"][-1], V) == ("failed", OLD)
    assert fleetupdate.verdict(ANSWERS["current"][-1], V) == ("ok", V)
    assert fleetupdate.verdict("ERROR 0.2.0 is not newer than the running 0.3.0 (force)", V) == ("failed", None)
