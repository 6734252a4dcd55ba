"""The README's technician walk-through, run as written: every line of its walk-through block
(the ```sh block after `<!-- walkthrough -->`) in bash at the repository root, in order, on
the virtual board with a local Mosquitto. Two changes only, so parallel runs never collide:
the broker port 1883 becomes a free one (in the commands and in a copy of the example
inventory the block names), and `kill %N` lines (job control of an interactive shell) are
done by the test when it ends."""
import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"<!-- walkthrough -->\s*```sh\n(.*?)```", re.S)


def walkthrough():
    found = BLOCK.findall(README.read_text())
    assert len(found) == 1, "README: one ```sh block after <!-- walkthrough -->"
    return [ln.strip() for ln in found[0].splitlines() if ln.strip() and not ln.strip().startswith("#")]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def localised(line, port, tmp_path):
    """The line with the broker on `port`; an inventory it names, copied with that port."""
    for name in re.findall(r"host_tools/data/\S+\.csv", line):
        copy = tmp_path / Path(name).name
        copy.write_text((ROOT / name).read_text().replace("127.0.0.1:1883", "127.0.0.1:%d" % port))
        line = line.replace(name, str(copy))
    return re.sub(r"\b1883\b", str(port), line)


@pytest.fixture
def background():
    procs = []
    yield procs
    for p in reversed(procs):  # as `kill %2 %1`: the board, then the broker
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def test_the_readme_walkthrough_runs_as_written(tmp_path, background):
    port = free_port()
    outputs = []
    for line in walkthrough():
        if re.match(r"^kill %", line):
            continue  # the fixture stops the background jobs
        cmd = localised(line.split(" #", 1)[0].strip(), port, tmp_path)
        if cmd.endswith("&"):
            log = open(tmp_path / ("background-%d.log" % len(background)), "wb")
            p = subprocess.Popen(["bash", "-c", "exec " + cmd[:-1].strip()], cwd=ROOT, start_new_session=True,
                                 stdout=log, stderr=subprocess.STDOUT)
            background.append(p)
            continue
        p = subprocess.run(["bash", "-c", cmd], cwd=ROOT, capture_output=True, text=True, timeout=300)
        outputs.append((line, p))
        jobs = [f.read_text(errors="replace")[-2000:] for f in sorted(tmp_path.glob("background-*.log"))]
        assert "Traceback" not in p.stdout + p.stderr, (line, p.stdout, p.stderr, jobs)
        if not line.startswith("timeout "):  # the line that cuts a deploy off is meant to fail
            assert p.returncode == 0, (line, p.stdout, p.stderr, jobs)
        assert all(b.poll() is None for b in background), "a background job ended early: %s" % line
    text = {line: p.stdout + p.stderr for line, p in outputs}

    def said(word):
        """What the last line with word in it printed."""
        return [out for line, out in text.items() if word in line][-1]
    # What the README promises each step shows.
    assert re.search(r"deploy: lab-1 is publishing", said("deploy -p")), text
    logs = said("run -p")
    assert re.search(r"^\d\d:\d\d:\d\d\.\d{3} node  ", logs, re.M), logs
    assert re.search(r"^\d\d:\d\d:\d\d\.\d{3} mqtt  lab-1", logs, re.M), logs
    inspect = said("inspect -p")
    assert "uplink       connected" in inspect and "recent log" in inspect, inspect
    assert re.match(r"^\d+\.\d+\.\d+$", said("mpremote").strip()), said("mpremote")
