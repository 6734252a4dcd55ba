"""Tools that stop a node to talk to its REPL leave it running: on success, on an error and
on Ctrl-C; a REPL left stuck by a command cut off midway is recovered by the next one; and
`mpremote reset` restarts the virtual board as it restarts a chip."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial

from host_tools import build, deploy, inspect
from host_tools.link import Link, LinkError
from host_tools.vboard import VirtualBoard

MPREMOTE = str(Path(sys.executable).parent / "mpremote")
# A node's loop stand-in: says "tick" five times a second until interrupted.
TICKING = "import time\nwhile True:\n    print('tick')\n    time.sleep(0.2)\n"


@pytest.fixture
def ticking():
    with VirtualBoard() as vb:
        with Link(vb.device) as link:
            link.write_file("/main.py", TICKING.encode())
        yield vb


def running(device):
    """True if the node runs its main.py: it says tick within a second (read before stopping it)."""
    with serial.Serial(device, 115200, timeout=0.1) as s:
        heard = b""
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and b"tick" not in heard:
            heard += s.read(256)
    return b"tick" in heard


def test_a_link_resumes_the_node_on_success_error_and_ctrl_c(ticking):
    dev = ticking.device
    assert running(dev)  # the fixture's own session left it running
    with Link(dev) as link:
        assert link.eval("6 * 7") == 42
        assert not running(dev)  # stopped while the tool talks to it
    assert running(dev)
    with pytest.raises(LinkError, match="ZeroDivisionError"):
        with Link(dev) as link:
            link.exec("1/0")
    assert running(dev)
    with pytest.raises(KeyboardInterrupt):
        with Link(dev) as link:
            raise KeyboardInterrupt  # the technician's Ctrl-C
    assert running(dev)


def test_inspect_leaves_the_node_running_and_shows_its_recent_lines(ticking):
    report = inspect.inspect(ticking.device, listen=0.5)
    assert "tick" in report["log"]  # heard while listening
    assert running(ticking.device)


def test_a_raw_paste_cut_off_midway_is_recovered_by_the_next_command(ticking):
    dev = ticking.device
    with serial.Serial(dev, 115200, timeout=1) as s:  # a tool killed mid-upload: no clean-up at all
        s.write(b"\r\x03\x03\r\x01")
        time.sleep(0.5)
        s.reset_input_buffer()
        s.write(b"\x05A\x01")
        assert s.read(4)[:2] == b"R\x01"  # the board takes a raw paste ...
        s.write(b"_f = open('/half', 'wb')\n_f.write(b'cut off mid")  # ... and the cable goes
    assert not running(dev)  # stuck: the node does not resume by itself
    with Link(dev) as link:
        assert link.eval("6 * 7") == 42
    assert running(dev)


def test_a_deploy_interrupted_by_ctrl_c_leaves_the_old_version_running(ticking, tmp_path):
    bundle = tmp_path / "bundle"
    build.build("unix-sim", bundle)
    with Link(ticking.device) as link:
        link.write_file("/config.json", json.dumps({"device_id": "vb-1", "apikey": "k"}).encode())

    def ctrl_c(rel):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        deploy.deploy(ticking.device, bundle, wait=0, on_file=ctrl_c, log=lambda *a: None)
    assert running(ticking.device)  # the old main.py, not the half-staged version


def test_mpremote_reset_restarts_the_board(ticking):
    boots = ticking.boots
    p = subprocess.run([MPREMOTE, "connect", ticking.device, "reset"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0 and "Error" not in p.stdout + p.stderr, p.stdout + p.stderr
    assert running(ticking.device) and ticking.boots > boots


def test_a_tool_right_after_a_deploy_finds_the_new_version_even_if_its_ctrl_c_cut_boot_short(ticking, tmp_path):
    bundle = tmp_path / "bundle"
    build.build("unix-sim", bundle)
    with Link(ticking.device) as link:
        link.write_file("/config.json", json.dumps({"device_id": "vb-1", "apikey": "k"}).encode())
    deploy.deploy(ticking.device, bundle, wait=0, log=lambda *a: None)
    for _ in range(3):  # at once, while the node boots (boot.py finishes the swap)
        with Link(ticking.device) as link:
            assert link.eval("__import__('app').VERSION") == json.loads(
                (bundle / "manifest.json").read_text())["version"].split("+")[0]
            assert not link.eval("_exists('/swap')")


def test_a_deploy_killed_midway_is_recovered_by_the_next_command_with_the_right_advice(ticking, tmp_path):
    bundle = tmp_path / "bundle"
    build.build("unix-sim", bundle)
    with Link(ticking.device) as link:
        link.write_file("/config.json", json.dumps({"device_id": "vb-1", "apikey": "k"}).encode())
    # The tool dies in the middle of a file's raw paste, with that file open on the node.
    p = subprocess.run([sys.executable, "-m", "host_tools", "deploy", "-p", ticking.device, "--bundle",
                        str(bundle), "--wait", "0"], env=dict(os.environ, SMARTNODE_DEPLOY_CUT="7"),
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == -9, p.stderr
    assert not running(ticking.device)  # stuck: nothing resumed it
    said = []
    with Link(ticking.device, say=said.append) as link:
        assert link.eval("'_f' in globals()") is False  # a fresh interpreter: nothing left open
    assert len(said) == 1 and "cut off midway" in said[0] and "previous version" in said[0], said
    assert running(ticking.device)  # the old main.py


def test_a_node_that_restarts_mid_step_and_talks_on_does_not_hold_the_tool(ticking):
    # The node restarts during a tool step (a crash, a watchdog) and its app prints on:
    # mpremote's own exec would wait for ever, as bytes keep coming.
    t0 = time.monotonic()
    with pytest.raises(LinkError, match="did not finish a tool step within 3 s .*tick"):
        with Link(ticking.device) as link:
            link.exec("import machine\nmachine.reset()", timeout=3)
    assert time.monotonic() - t0 < 30
    assert running(ticking.device)
