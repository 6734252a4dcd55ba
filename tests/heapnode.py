"""The reference node of every sensing kind under a unix port, its heap measured by
tests/bench/heap_node.py: SDS011 + BME280 air, two parking spots, two traffic lanes on
loop inputs, the flash log, a TLS uplink to a private Mosquitto (CA made at run time),
commands, health and the status display.  Shared by the heap bench (host_heap.py) and
the reconnect test (test_heap_reconnects.py).

The broker has a TLS listener for the node and a plain one from which the host
counts the node's connections (its `online` birth messages) and kicks it off: a
client with the node's client id takes its session over, as a second device
provisioned with the same id would, and the node must reconnect."""
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from host_tools import paths
from host_tools.broker import Mosquitto, free_port
from tests.pki import CA

BENCH = paths.ROOT / "tests" / "bench"
DEVICE = "heap-1"
STATUS = "/json/k/%s/attrs/deviceState" % DEVICE


def meter():
    """Build tests/bench/mallocmeter.c for the 32-bit unix port (-m32) into a temporary
    directory; -> the .so path."""
    out = os.path.join(tempfile.mkdtemp(prefix="mallocmeter-"), "mallocmeter.so")
    proc = subprocess.run(["gcc", "-m32", "-O2", "-shared", "-fPIC", "-o", out,
                           str(BENCH / "mallocmeter.c"), "-ldl"], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit("heap: mallocmeter.c does not build (gcc-multilib: run `make deps`):\n"
                         + proc.stderr)
    return out


class Broker:
    """`with Broker() as b:` Mosquitto with TLS on b.tls_port, plain on b.port, and b.ca."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="heap-pki-")
        ca = CA(self.dir, "heap-ca")
        cert, key = ca.issue("broker", "localhost")
        self.ca = ca.cert
        self.tls_port = free_port()
        tls = "listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n" % (
            self.tls_port, ca.cert, cert, key)
        self.mosquitto = Mosquitto(extra=tls).start()
        self.port = self.mosquitto.port
        return self

    def __exit__(self, *exc):
        self.mosquitto.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


LOG_SECTORS = 8  # the reconnect test's log: the NOR emulator's image is in the Python heap


def emulator_bytes(sectors):
    """The NOR emulator's RAM for a log of `sectors` (app.norflash: image, blank sector,
    two wear counters a sector): a bounded heap is the node's budget plus this."""
    return sectors * 4096 + 4096 + 8 * sectors


def node_files(workdir, broker, tls=True, log_sectors=128):
    """config.json and board.json of the reference node in workdir."""
    with open(paths.BOARDS / "unix-sim.json") as f:
        board = json.load(f)
    board["uarts"]["pm"].update(replay=str(paths.DATA / "sds011_capture_54frames.bin"), period_ms=100)
    # Loop inputs as on the chip: scheduled handlers, the ESP32 board's ring.
    board["inputs"] = {"loop%d" % i: {"scheduled": True} for i in range(1, 5)}
    board["log"] = {"file": "smartlog.img", "sectors": log_sectors}
    board["baselines"] = "baselines.json"
    b = {"host": "127.0.0.1", "port": broker.port, "backoff_base": 0.2, "backoff_cap": 1}
    if tls:
        b.update(port=broker.tls_port, tls=True, ca=broker.ca, server_hostname="localhost")
    cfg = {"device_id": DEVICE, "apikey": "k", "interval": 1, "broker": b,
           "air": {"sensors": {"sds011": {"uart": "pm"}, "bme280": {"i2c": "main"}}},
           "parking": {"spots": [{"spot": 1}, {"spot": 2}]},
           "traffic": {"lanes": [{"lane": n, "presence": ["loop%d" % (2 * n - 1), "loop%d" % (2 * n)],
                                  "spacing_m": 4} for n in (1, 2)]},
           "log": {}, "health": {"interval": 1}}
    for name, obj in (("config.json", cfg), ("board.json", board)):
        with open(os.path.join(workdir, name), "w") as f:
            json.dump(obj, f)


class Births:
    """Counts the node's `online` births on the broker's plain listener."""

    def __init__(self, port):
        self.port = port
        self.seen = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="heap-watch")
        ready = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(STATUS, qos=1)
        self.client.on_subscribe = lambda c, u, mid, rcs, p: ready.set()
        self.client.on_message = lambda c, u, m: (not m.retain and m.payload == b'"online"'
                                                  and self.seen.put(time.monotonic()))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not ready.wait(10):
            raise RuntimeError("heap: no subscription to the node's status")

    def wait(self, timeout):
        try:
            self.seen.get(timeout=timeout)
            return True
        except queue.Empty:
            return False

    def kick(self):
        """Take the node's session over (same client id), then leave: the node reconnects."""
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=DEVICE)
        c.connect("127.0.0.1", self.port)
        c.loop_start()
        time.sleep(0.1)
        c.disconnect()
        c.loop_stop()

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def run(binary, micropypath, broker, settle_s=4, kicks=0, heapsize="1M", tls=True, preload=None,
        timeout=120, log_sectors=128):
    """Run the reference node, kick it `kicks` times once it has settled; -> (node report,
    run report, stderr).  Raises RuntimeError with the node's output if it does not run."""
    work = tempfile.mkdtemp(prefix="heap-node-")
    births = Births(broker.port)
    env = dict(os.environ, MICROPYPATH=micropypath)
    if preload:
        env["LD_PRELOAD"] = preload
    err = open(os.path.join(work, "stderr"), "w+")
    proc = None
    try:
        node_files(work, broker, tls=tls, log_sectors=log_sectors)
        shutil.copy(BENCH / "heap_node.py", work)
        proc = subprocess.Popen([binary, "-X", "heapsize=%s" % heapsize, "heap_node.py", str(settle_s)],
                                cwd=work, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stdout] + [lines.put(None)],
                         daemon=True).start()
        deadline = time.monotonic() + timeout

        def report(what):
            while True:
                try:
                    ln = lines.get(timeout=max(0.1, deadline - time.monotonic()))
                except queue.Empty:
                    ln = None
                if ln is None:
                    raise RuntimeError("heap: the node stopped before its %s report" % what)
                if ln.startswith("HEAP "):
                    return json.loads(ln[5:])
                err.write(ln)  # the node's console

        node = report("node")
        if not node["connects"]:
            raise RuntimeError("heap: the node did not connect within %s s" % settle_s)
        while births.wait(0):  # the births so far
            pass
        for _ in range(kicks):
            births.kick()
            if not births.wait(max(1, deadline - time.monotonic())):
                raise RuntimeError("heap: the node did not reconnect after a kick")
        open(os.path.join(work, "stop"), "w").close()
        done = report("run")
        proc.wait(timeout=max(1, deadline - time.monotonic()))
        err.seek(0)
        return node, done, err.read()
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        err.seek(0)
        raise RuntimeError("%s\n%s" % (e, err.read()[-3000:]))
    finally:
        births.close()
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        err.close()
        shutil.rmtree(work, ignore_errors=True)
