"""Known failures end in one paragraph that says what to do, never a traceback: on the
technician's computer (every command) and on the node (a corrupt /config.json)."""
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from host_tools import __main__ as cli
from host_tools import deploy, inspect, paths
from host_tools.link import Link
from host_tools.vboard import VirtualBoard
from host_tools.virtualnode import VirtualNode
from tests.uplinkhelp import Collector

ROOT = paths.ROOT
INVENTORY = ROOT / "host_tools" / "data" / "fleet-example.csv"
SECRETS = ROOT / "host_tools" / "data" / "fleet-example-secrets.json"
TYPES = ROOT / "host_tools" / "data" / "fleet-example-types.json"


def smartnode(*args, **kw):
    return subprocess.run([sys.executable, "-m", "host_tools", *map(str, args)], cwd=str(ROOT),
                          capture_output=True, text=True, timeout=120, **kw)


def one_paragraph(text):
    assert "Traceback" not in text
    assert "\n\n" not in text.strip(), text
    return text


def test_a_closed_pipe_ends_the_command_quietly():
    # `smartnode ... | head`: the reader goes away before the command has written.
    proc = subprocess.Popen([sys.executable, "-m", "host_tools", "fleet", "iota", str(INVENTORY),
                             "--secrets", str(SECRETS), "--types", str(TYPES)], cwd=str(ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(60)
    proc.stderr.close()
    assert err == "" and proc.returncode == 1


def test_a_board_profile_that_is_not_json_is_named_with_its_line(tmp_path, monkeypatch, capsys):
    boards = tmp_path / "boards"
    shutil.copytree(paths.BOARDS, boards)
    text = (boards / "esp32-devkitc.json").read_text().splitlines()
    text[3] = text[3].rstrip(",")  # line 4: a comma forgotten
    (boards / "esp32-devkitc.json").write_text("\n".join(text) + "\n")
    monkeypatch.setattr(paths, "BOARDS", boards)
    inv = tmp_path / "fleet.csv"
    inv.write_text("device_id,municipality,board,sensors,lat,lon,broker,apikey,interval\n"
                   "lj-1,ljubljana,esp32-devkitc,,46.05,14.5,mqtt.lj.si,k,300\n")
    with pytest.raises(SystemExit) as e:
        cli.main(["provision", str(inv)])
    msg = one_paragraph(str(e.value))
    assert "boards/esp32-devkitc.json line 5 column 3: not valid JSON" in msg
    assert "git checkout boards/esp32-devkitc.json" in msg


def test_record_into_a_missing_folder_says_to_create_it(tmp_path):
    out = tmp_path / "no-such-folder" / "lamp.rec"
    proc = smartnode("record", "--port", "/dev/ttyUSB9", "--seconds", "1", "--out", out)
    assert proc.returncode != 0
    msg = one_paragraph(proc.stderr)
    assert "record: cannot write %s: the folder %s does not exist: create it (mkdir -p %s)" % (
        out, out.parent, out.parent) in msg


@pytest.fixture
def corrupt_vboard():
    """A virtual board whose /config.json was cut short."""
    with VirtualBoard() as vb:
        with Link(vb.device) as link:
            link.write_file_atomic("/config.json", b'{"device_id": "lj-1", "apikey": "k", "inter')
        yield vb


def test_inspect_and_deploy_explain_a_corrupt_node_config(corrupt_vboard, tmp_path):
    port = corrupt_vboard.device
    report = inspect.inspect(port, listen=0.2)
    assert report["config"] is None
    (field, msg), = report["config_errors"]
    assert msg.startswith("/config.json on the node is not valid JSON")
    assert "smartnode provision INVENTORY --device ID --port %s" % port in msg
    with pytest.raises(deploy.DeployError, match="/config.json on the node is not valid JSON"):
        deploy.node_config(Link(port))
    proc = smartnode("inspect", "--port", port, "--listen", "0.2")
    assert proc.returncode == 0 and "config error /config.json on the node is not valid JSON" in proc.stdout
    assert "Traceback" not in proc.stderr
    # ... and piped into `head`, it stops quietly.
    head = subprocess.run("%s -m host_tools inspect --port %s --listen 0.2 | head -n 1"
                          % (sys.executable, port), shell=True, cwd=str(ROOT), capture_output=True,
                          text=True, timeout=60)
    assert head.stdout.startswith("version") and head.stderr == ""


def node_output(node, until, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and node.proc.poll() is None:
        with open(node.out) as f:
            text = f.read()
        if until(text):
            return text
        time.sleep(0.1)
    with open(node.out) as f:
        return f.read()


def start(node, tmp_path, name):
    node.out = tmp_path / name
    node.start(stdout=open(node.out, "w"))
    return node


def test_the_node_runs_on_its_last_good_config_when_config_json_goes_bad(broker, tmp_path):
    col = Collector(broker.port, topic="/json/#")
    node = VirtualNode(broker.port, interval=1, period_ms=100, device_id="cf-1", apikey="k",
                       workdir=str(tmp_path))
    try:
        start(node, tmp_path, "first.out")
        assert col.drain(lambda m: any(t.endswith("cf-1-aq/attrs") for t, _, _ in m), timeout=20)
        node.stop()
        cfg = tmp_path / "config.json"
        assert (tmp_path / "config.json.last").read_bytes() == cfg.read_bytes()
        cfg.write_text(cfg.read_text()[:40])  # cut short, as by a bad copy
        while not col.messages.empty():
            col.messages.get()
        start(node, tmp_path, "second.out")
        out = node_output(node, lambda t: "up," in t)
        assert "config: config.json: not valid JSON" in out
        assert "running on the last good config (config.json.last)" in out and "smartnode provision" in out
        assert col.drain(lambda m: any(t.endswith("cf-1-aq/attrs") for t, _, _ in m), timeout=20)
    finally:
        node.stop()
        col.close()


def test_without_a_good_config_the_node_says_what_to_do_and_keeps_its_repl(tmp_path):
    node = VirtualNode(1, workdir=str(tmp_path))
    (tmp_path / "config.json").write_text("[1, 2]")
    start(node, tmp_path, "out")
    node.proc.wait(30)
    out = (tmp_path / "out").read_text()
    assert node.proc.returncode == 0  # main.py returned: on a board, the REPL follows
    one_paragraph(out)
    assert "config: config.json: not a JSON object; no last good config (config.json.last)" in out
    assert "the node stays at the REPL; provision the node again (smartnode provision" in out


def test_fleet_and_provision_output_into_a_missing_folder_say_what_to_do(tmp_path):
    out = tmp_path / "missing" / "requests.json"
    proc = smartnode("fleet", "iota", INVENTORY, "--types", TYPES, "--secrets", SECRETS, "--out", out)
    assert proc.returncode != 0
    assert one_paragraph(proc.stderr).startswith("fleet: cannot write %s: the folder %s does not exist" % (out, out.parent))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    proc = smartnode("provision", INVENTORY, "--types", TYPES, "--out", blocker / "configs")
    assert proc.returncode != 0 and one_paragraph(proc.stderr).startswith(
        "provision: cannot write %s: part of that path is a file, not a folder: give another path" % (blocker / "configs"))
