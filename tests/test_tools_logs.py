"""Following a node: `smartnode run` builds, deploys and follows the virtual board's console and
what it publishes, each line stamped; `logs` only reads, so the node keeps running; the port
argument finds the one ESP32 board plugged in."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
from serial.tools.list_ports_common import ListPortInfo

from host_tools import ports, provision
from host_tools.link import Link
from host_tools.vboard import VirtualBoard

ROOT = Path(__file__).resolve().parent.parent
STAMP = r"\d\d:\d\d:\d\d\.\d\d\d"


def smartnode(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "host_tools", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def node(broker, tmp_path):
    inv = tmp_path / "fleet.csv"
    inv.write_text("device_id,municipality,board,sensors,lat,lon,broker,apikey,interval\n"
                   "vb-3,ljubljana,unix-sim,sds011,46.0511,14.5051,127.0.0.1:%d,k3,2\n" % broker.port)
    cfg, profile = provision.read_inventory(inv, {})["vb-3"]
    with VirtualBoard() as vb:
        with Link(vb.device) as link:
            provision.write_to_node(link, cfg, profile)
        yield vb


def test_run_builds_deploys_and_follows_the_console_and_the_broker(node, broker):
    p = smartnode("run", "-p", node.device, "--board", "unix-sim", "--broker", "127.0.0.1:%d" % broker.port,
                  "--device", "vb-3", "--seconds", 12)
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    assert "run: following %s" % node.device in out
    node_lines = re.findall(r"^%s node  (.*)$" % STAMP, out, re.M)
    mqtt_lines = re.findall(r"^%s mqtt  (.*)$" % STAMP, out, re.M)
    assert any(ln.startswith("node vb-3 up") for ln in node_lines), out
    assert "uplink: up" in node_lines, out
    # one line per reading the node logs; the bundled capture holds PM2.5 3.1-3.4 (SOURCES.md)
    assert any(re.match(r"reading vb-3-aq #\d+ .*pm25=3\.[1-4]", ln) for ln in node_lines), out
    assert any(re.match(r"vb-3-aq: 1 reading .*pm25=3\.[1-4]", ln) for ln in mqtt_lines), out
    assert "Traceback" not in p.stderr


def test_logs_reads_without_stopping_the_node(node):
    build = smartnode("build", "--board", "unix-sim")
    assert build.returncode == 0, build.stderr
    assert smartnode("deploy", "-p", node.device, "--board", "unix-sim", "--wait", 0).returncode == 0
    first = smartnode("logs", "-p", node.device, "--seconds", 15)
    assert first.returncode == 0 and re.search(r"^%s node  " % STAMP, first.stdout, re.M), \
        first.stdout + first.stderr
    # The node went on during and after it: a second session hears its readings.
    second = smartnode("logs", "-p", node.device, "--seconds", 15)
    assert second.returncode == 0 and re.search(r"^%s node  reading vb-3-aq" % STAMP, second.stdout, re.M), \
        second.stdout + second.stderr


def info(device, vid, pid, description="USB Serial"):
    i = ListPortInfo(device, skip_link_detection=True)
    i.vid, i.pid, i.description = vid, pid, description
    return i


def test_the_one_esp32_board_plugged_in_is_found_and_several_are_listed():
    mouse = info("/dev/ttyS0", None, None)
    cp210x = info("/dev/ttyUSB0", 0x10C4, 0xEA60, "CP2102 USB to UART Bridge Controller")
    s3 = info("/dev/ttyACM0", 0x303A, 0x1001, "USB JTAG/serial debug unit")
    assert ports.find(None, [mouse, cp210x]) == "/dev/ttyUSB0"
    assert ports.find("/dev/ttyUSB7", [mouse, cp210x]) == "/dev/ttyUSB7"  # -p wins
    with pytest.raises(ports.PortError, match="no ESP32 board found on USB: plug it in"):
        ports.find(None, [mouse])
    with pytest.raises(ports.PortError) as e:
        ports.find(None, [cp210x, s3])
    assert str(e.value).startswith("2 boards are plugged in; say which with -p PORT:")
    assert "/dev/ttyACM0  (ESP32-S3/C3 USB-JTAG" in str(e.value) and "/dev/ttyUSB0  (CP210x" in str(e.value)


def test_every_command_that_talks_to_a_node_takes_p():
    for command in ("flash", "provision", "deploy", "inspect", "record", "logs", "run"):
        p = smartnode(command, "-h", timeout=60)
        assert re.search(r"-p PORT, --port PORT", p.stdout), command
