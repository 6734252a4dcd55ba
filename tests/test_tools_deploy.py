"""From a blank virtual board to a publishing node with the technician's tools and the
real mpremote: provision, build, deploy (staged, verified, only what changed), inspect;
a deploy cut off midway leaves the previous version running; rollback."""
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools import build, deploy, inspect, partitions, paths, provision
from host_tools.link import Link
from host_tools.vboard import VirtualBoard

ROOT = Path(__file__).resolve().parent.parent
MPREMOTE = str(Path(sys.executable).parent / "mpremote")
RELEASED = re.search(r'VERSION = "([^"]+)"', (ROOT / "firmware/app/__init__.py").read_text()).group(1)


def on_node(device, code):
    """Run code on the node with the real mpremote CLI (it soft-resets first, as on a board)."""
    return subprocess.run([MPREMOTE, "connect", device, "exec", code], capture_output=True,
                          text=True, timeout=60).stdout.strip()


@pytest.fixture
def node(broker, tmp_path):
    inv = tmp_path / "fleet.csv"
    inv.write_text("device_id,municipality,board,sensors,lat,lon,broker,apikey,interval\n"
                   "vb-7,ljubljana,unix-sim,sds011,46.0511,14.5051,127.0.0.1:%d,k7,1\n" % broker.port)
    fleet = provision.read_inventory(inv, {"default": {"wifi": {"ssid": "lab", "password": "wifi-secret"}}})
    with VirtualBoard() as vb:
        with Link(vb.device) as link:
            provision.write_to_node(link, *fleet["vb-7"])
        yield vb


def second_version(tmp_path, version):
    """A copy of the unix-sim bundle whose app reports another VERSION."""
    src = tmp_path / "v2src" / "__init__.py"
    src.parent.mkdir()
    src.write_text('VERSION = "%s"\n' % version)
    out = tmp_path / "v2"
    shutil.copytree(paths.BUILD / "bundle" / "unix-sim", out)
    subprocess.run([build.mpy_cross(), "-s", "firmware/app/__init__.py", "-o", str(out / "code/app/__init__.mpy"),
                    str(src)], check=True)
    m = json.loads((out / "manifest.json").read_text())
    m["files"]["code/app/__init__.mpy"] = build.digest((out / "code/app/__init__.mpy").read_bytes())
    m["version"] = version
    (out / "manifest.json").write_text(json.dumps(m))
    return out


def test_blank_board_to_publishing_node_then_update_only_what_changed(node, subscriber, tmp_path):
    build.build("unix-sim")
    bundle = paths.BUILD / "bundle" / "unix-sim"
    first = deploy.deploy(node.device, bundle, wait=30, log=lambda *a: None)
    # The node's first message: its Device health at boot (or a reading, or its birth).
    assert re.match(r"^/json/k7/vb-7(-aq)?/attrs(/deviceState)?$", first["first_message"])
    assert first["uploaded"] == len([f for f in first_files(bundle) if f.startswith("code/")])
    # The node's Device health names the build it runs (the platform's firmwareVersion), not
    # only the app's own VERSION: the bundle's version, as deploy and an update compare it.
    _, payload, _, _ = subscriber.collect(1, timeout=20, match=lambda t: t == "/json/k7/vb-7/attrs")[0]
    health = json.loads(payload)
    assert (health[-1] if isinstance(health, list) else health)["firmwareVersion"] == first["version"]
    topic, payload, qos, _ = subscriber.collect(1, timeout=20, match=lambda t: t.endswith("-aq/attrs"))[0]
    assert topic == "/json/k7/vb-7-aq/attrs" and qos == 1
    assert 3.1 <= json.loads(payload)["pm25"] <= 3.4  # the bundled capture: PM2.5 3.1-3.4 (SOURCES.md)

    report = inspect.inspect(node.device, listen=0.5)
    assert report["status"]["cur"] == first["version"]
    backlog, uplink = report["status"]["backlog"], report["status"]["uplink"]
    assert backlog["dropped"] == 0 and report["status"].get("sent", 0) >= 1
    # The flash log is the NOR emulator's file beside the filesystem, as the unix-sim profile says.
    log_image = Path(node.simdir) / "smartlog.img"
    smartlog = {p[0]: p[4] for p in partitions.layout(4)}[partitions.LOG_LABEL]  # as on a devkitc
    assert backlog["mode"] == "emulated" and log_image.stat().st_size == smartlog
    # Every reading has its own seq: those waiting and those the broker acknowledged are distinct.
    assert report["status"]["acked"] >= 1
    assert backlog["next_seq"] - 1 >= backlog["pending"] + report["status"]["acked"]
    # The subscriber above got a reading through the broker: the uplink is up.
    assert uplink["connected"] is True and uplink["connects"] >= 1 and uplink["last_error"] is None
    # The unix-sim profile's panel (a frame in RAM) is redrawn by the node's display task.
    assert report["status"]["display"]["on"] is True and report["status"]["display"]["draws"] >= 1
    out = io.StringIO()
    inspect.show(report, out)
    assert "(log: emulated)" in out.getvalue() and "uplink       connected" in out.getvalue()
    assert report["config"]["wifi"] == {"ssid": "lab", "password": "***"}
    assert report["config"]["device_id"] == "vb-7" and report["config_errors"] == []

    v2 = second_version(tmp_path, "9.9.9-test")
    second = deploy.deploy(node.device, v2, wait=30, log=lambda *a: None)
    assert second["uploaded"] == 1 and second["copied"] == first["uploaded"] - 1
    assert on_node(node.device, "import app; print(app.VERSION)") == "9.9.9-test"

    deploy.rollback(node.device)
    assert on_node(node.device, "import app; print(app.VERSION)") == RELEASED


def first_files(bundle):
    return json.loads((bundle / "manifest.json").read_text())["files"]


def test_a_deploy_cut_off_midway_leaves_the_previous_version_running(node, subscriber, tmp_path):
    build.build("unix-sim")
    deploy.deploy(node.device, paths.BUILD / "bundle" / "unix-sim", wait=30, log=lambda *a: None)
    v2 = second_version(tmp_path, "9.9.9-test")
    (v2 / "code/app/node.mpy").write_bytes(b"M\x06\x00\x1fbroken")  # make more than one file differ
    m = json.loads((v2 / "manifest.json").read_text())
    m["files"]["code/app/node.mpy"] = build.digest(b"M\x06\x00\x1fbroken")
    (v2 / "manifest.json").write_text(json.dumps(m))

    class CablePulled(Exception):
        pass

    def cut(rel):
        if rel == "app/__init__.mpy":  # uploaded, but node.mpy not yet: power and USB gone
            node.power_cut()
            raise CablePulled()

    with pytest.raises(CablePulled):
        deploy.deploy(node.device, v2, wait=30, on_file=cut, log=lambda *a: None)
    while not subscriber.messages.empty():
        subscriber.messages.get()
    # The node comes back by itself on the old version and publishes again.
    assert subscriber.collect(1, timeout=30, match=lambda t: t == "/json/k7/vb-7-aq/attrs")
    assert on_node(node.device, "import app, os; print(app.VERSION, sorted(os.listdir('/')))") == \
        "%s ['board.json', 'boot.py', 'boots', 'config.json', 'config.json.last', 'cur', 'keys.json', 'main.py', 'sim']" % RELEASED  # no /next; /boots: app/guard.py


def test_record_captures_the_nodes_uart_and_replay_decodes_it(node, tmp_path):
    from host_tools import record
    from tests.test_replay import CAPTURE, datasheet_decode
    build.build("unix-sim")
    deploy.deploy(node.device, paths.BUILD / "bundle" / "unix-sim", wait=0, log=lambda *a: None)
    rec = tmp_path / "node.rec"
    with open(rec, "w") as f:
        chunks = record.record(node.device, 3.5, f)
    assert chunks >= 2
    out = subprocess.run([sys.executable, "-m", "host_tools", "replay", str(rec), "--samples", "--interval", "60"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    samples = [json.loads(ln)["sample"] for ln in out.splitlines() if '"sample"' in ln]
    # The unix-sim board replays the bundled capture from its first frame, one per second.
    expected = datasheet_decode(CAPTURE.read_bytes())[:len(samples)]
    assert len(samples) >= 2
    assert [(s["pm25"], s["pm10"]) for s in samples] == expected
