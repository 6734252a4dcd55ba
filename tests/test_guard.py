"""The watchdog and the crash-loop guard on the real firmware under the unix port,
against a real Mosquitto: a node hung in a C call is reset by its watchdog; after
three such resets in a row it stays in safe mode and says so to the platform; a
fix of its files brings it back."""
import json
import os
import subprocess

from host_tools import iota, mp
from host_tools.virtualnode import VirtualNode
from tests.uplinkhelp import Collector, readings


def boot(node):
    proc = node.start(stdout=subprocess.PIPE).proc
    out, _ = proc.communicate(timeout=60)
    return proc.returncode, out.decode()


def test_a_hung_node_is_reset_and_a_crash_loop_waits_in_safe_mode(broker, tmp_path):
    fifo = tmp_path / "pm.fifo"
    os.mkfifo(fifo)  # opening it blocks in C until a writer comes: a driver hung on its bus
    node = VirtualNode(broker.port, device_id="wd-1", apikey="k", interval=1, period_ms=100,
                       workdir=str(tmp_path), config={"watchdog": {"timeout": 2, "stable": 10}})
    board_json = tmp_path / "board.json"
    good_board = board_json.read_text()
    board = json.loads(good_board)
    board["uarts"]["pm"]["replay"] = str(fifo)
    board_json.write_text(json.dumps(board))
    col = Collector(broker.port, topic="/json/#")
    runs = [boot(node) for _ in range(4)]
    for rc, out in runs[:3]:  # SIGKILL: the chip's reset, no cleanup
        assert rc == -9 and "watchdog: not fed for 2000 ms: reset" in out, (rc, out)
    rc, out = runs[3]
    assert rc == 0 and "safe mode: 4 resets in a row soon after boot (last: watchdog" in out, out
    assert "safe mode: reported to the broker" in out
    msgs = col.drain(lambda m: any("safeMode" in o for _, o in readings(m)), timeout=10)
    (report,) = [o for t, o in readings(msgs) if "safeMode" in o]
    assert report["safeMode"] is True and report["resets"] == 4 and report["resetCause"] == "watchdog"
    assert report["firmwareVersion"]
    provisioned = {k for k, _, _ in iota.ATTRIBUTES["device"]}
    assert set(report) - {"seq"} <= provisioned  # the agent would store the rest as Text
    rc, out = boot(node)  # a power cycle gives it a fresh try (a street light's dusk)
    assert rc == -9 and "safe mode" not in out
    board_json.write_text(good_board)  # the fix
    with node:
        msgs = col.drain(lambda m: any(t.endswith("-aq/attrs") for t, _ in readings(m)), timeout=30)
    col.close()
    assert any(t.endswith("-aq/attrs") for t, _ in readings(msgs))
    assert (tmp_path / "boots").read_text().startswith("1 watchdog")


def test_safe_mode_reports_on_the_last_good_config_when_config_json_went_bad(broker, tmp_path):
    node = VirtualNode(broker.port, device_id="wd-2", apikey="k", workdir=str(tmp_path))
    cfg = tmp_path / "config.json"
    (tmp_path / "config.json.last").write_text(cfg.read_text())  # what the node kept at its last boot
    cfg.write_text(cfg.read_text()[:40])  # then the file was cut short
    # Three watchdog resets in a row already counted against these very files; this is the fourth.
    fp = subprocess.run([mp.binary(), "-c", "from app import guard; print(guard._fingerprint("
                         "('config.json', 'board.json')))"], cwd=tmp_path, env=mp.env(),
                        capture_output=True, text=True, check=True).stdout.strip()
    (tmp_path / "boots").write_text("3 watchdog %s" % fp)
    (tmp_path / "watchdog-reset").write_text("")
    col = Collector(broker.port, topic="/json/#")
    rc, out = boot(node)
    assert rc == 0 and "safe mode: 4 resets in a row" in out, out
    assert "running on the last good config (config.json.last)" in out, out
    assert "safe mode: reported to the broker" in out, out
    msgs = col.drain(lambda m: any("safeMode" in o for _, o in readings(m)), timeout=10)
    col.close()
    assert [t for t, o in readings(msgs) if "safeMode" in o] == ["/json/k/wd-2/attrs"]
