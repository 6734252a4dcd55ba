"""Power profiles end to end: the whole firmware (main.py) under the unix port,
publishing to a real Mosquitto. A switched node's supply fails: it makes its readings
durable on its capacitor and goes dark (killed: the capacitor empty); powered again
it delivers every reading its log holds. A battery node samples with the radio off,
publishes, deep sleeps and wakes with its log."""
import json
import os
import re
import shutil
import time

import pytest

from host_tools import mp
from host_tools.virtualnode import VirtualNode


def durable_in(image, sectors):
    """The last seq the node's flash log holds, read by the firmware's own FlashLog."""
    code = ("from app.norflash import NorFlash\nfrom app.flashlog import FlashLog\n"
            "print(FlashLog(NorFlash(%d, path=%r)).next_seq - 1)" % (sectors, image))
    return int(mp.run(["-c", code], capture_output=True, text=True, check=True).stdout.split()[-1])


def seqs(messages):
    out = set()
    for topic, payload, _, _ in messages:
        if topic.endswith("/attrs"):
            body = json.loads(payload)
            out |= {o["seq"] for o in (body if isinstance(body, list) else [body])}
    return out


@pytest.mark.parametrize("build", ["std", "esp32"])
def test_a_switched_node_keeps_every_reading_across_a_supply_failure(broker, subscriber, build):
    vn = VirtualNode(broker.port, interval=2, period_ms=100, device_id="sw-1", apikey="k1",
                     config={"power": {"profile": "switched"}}, build=build)
    board_path = os.path.join(vn.dir, "board.json")
    with open(board_path) as f:
        board = json.load(f)
    board["mains_file"] = "mains"
    with open(board_path, "w") as f:
        json.dump(board, f)
    mains = os.path.join(vn.dir, "mains")
    console = os.path.join(vn.dir, "console.txt")
    with open(mains, "w") as f:
        f.write("1")
    got = []
    try:
        with open(console, "w") as out:
            vn.start(stdout=out)
            deadline = time.monotonic() + 30
            while sum(t.endswith("-aq/attrs") for t, *_ in got) < 3 and time.monotonic() < deadline:
                got += subscriber.collect(1, timeout=1)  # every message: the Device's too
            assert sum(t.endswith("-aq/attrs") for t, *_ in got) >= 3
            with open(mains, "w") as f:
                f.write("0")  # the street lights go off
            deadline = time.monotonic() + 10
            while "power: supply failed" not in open(console).read() and time.monotonic() < deadline:
                time.sleep(0.1)
            vn.proc.kill()  # the capacitor is empty
            vn.proc.wait()
        text = open(console).read()
        m = re.search(r"power: supply failed: (\d+) readings durable in (\d+) us", text)
        assert m and int(m.group(1)) >= 1, text  # the interval in progress went into the log
        last = durable_in(os.path.join(vn.dir, "smartlog.img"), 128)
        got += subscriber.collect(1000, timeout=1)
        with open(mains, "w") as f:
            f.write("1")  # evening: power again
        with open(console, "a") as out:
            vn.start(stdout=out)
            deadline = time.monotonic() + 40
            while not set(range(1, last + 1)) <= seqs(got) and time.monotonic() < deadline:
                got += subscriber.collect(1000, timeout=1)
    finally:
        vn.stop()
        shutil.rmtree(vn.dir, ignore_errors=True)
    missing = set(range(1, last + 1)) - seqs(got)
    assert not missing, "readings durable at the power-fail never delivered: %s" % sorted(missing)


def test_a_battery_node_publishes_only_after_its_window_and_wakes_with_its_log(broker, subscriber):
    """main.py on the battery profile: the window with the radio off, a publish, deep
    sleep (the process ends); started again it is a wake (reset cause deep-sleep),
    and every reading of both wakes is at the broker, each once per seq."""
    vn = VirtualNode(broker.port, interval=5, period_ms=100, device_id="bt-1", apikey="k1",
                     config={"power": {"profile": "battery", "window": 10, "publish": 20, "sleep": 600}},
                     build="esp32")  # the chip's numerics (the std build runs the switched test too)
    console = os.path.join(vn.dir, "console.txt")
    got = []
    try:
        for wake in range(2):
            with open(console, "a") as out:
                t0 = time.monotonic()
                vn.start(stdout=out)
                first = None
                while vn.proc.poll() is None and time.monotonic() - t0 < 60:
                    new = subscriber.collect(1, timeout=0.2)
                    if new and first is None:
                        first = time.monotonic() - t0
                    got += new
                assert vn.proc.poll() is not None, "no deep sleep within 60 s"
            got += subscriber.collect(1000, timeout=1)
            # nothing reached the broker during the 10 s window: the radio was off
            assert first is not None and first >= 10, first
            text = open(console).read()
            assert text.count("power: deep sleep 600 s (0 readings to deliver)") == wake + 1, text
        assert open(os.path.join(vn.dir, "boots")).read().split()[:2] == ["1", "deep-sleep"]
        last = durable_in(os.path.join(vn.dir, "smartlog.img"), 128)
    finally:
        vn.stop()
        shutil.rmtree(vn.dir, ignore_errors=True)
    assert seqs(got) == set(range(1, last + 1)), (sorted(seqs(got)), last)
