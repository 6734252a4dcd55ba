"""MQTT delivery figures on the unix port against a local Mosquitto:

mqtt.drain_per_s          backlog drain from the log at QoS 1 (readings acknowledged per second)
mqtt.drain_per_s.baseline umqtt.simple as is: one reading per QoS 1 publish
mqtt.drain_per_s.ratio
mqtt.wire_bytes_per_reading  MQTT bytes both ways per reading while draining (PUBLISH + PUBACK)
mqtt.boot_to_first_ack_ms    virtual node process start -> first reading acknowledged
"""
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from host_tools import mp, paths  # noqa: E402
from host_tools.broker import Mosquitto  # noqa: E402
from host_tools.virtualnode import VirtualNode  # noqa: E402

DRAIN = 20000
NAIVE = 60
SCRIPT = str(paths.ROOT / "tests" / "bench" / "mqtt_drain.py")


def run(port, mode, count):
    out = mp.run(["-X", "heapsize=64M", SCRIPT, str(port), mode, str(count)], cwd=str(paths.ROOT),
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True).stdout
    acked, seconds, wire = out.split()
    assert int(acked) == count, out
    return int(acked) / float(seconds), int(wire) / int(acked)


def boot_to_first_ack(port):
    node = VirtualNode(port, interval=60, device_id="boot-1", apikey="bench")
    t0 = time.perf_counter()
    node.start(stdout=subprocess.PIPE)
    try:
        for line in node.proc.stdout:
            if b"first ack" in line:
                return (time.perf_counter() - t0) * 1000
        raise RuntimeError("the node ended before its first acknowledgement")
    finally:
        node.stop()


with Mosquitto() as broker:
    drains = [run(broker.port, "drain", DRAIN) for _ in range(3)]
    rate = statistics.median(r for r, _ in drains)
    wire = statistics.median(w for _, w in drains)
    naive, _ = run(broker.port, "naive", NAIVE)
    boot = statistics.median(boot_to_first_ack(broker.port) for _ in range(3))

print("mqtt.drain_per_s %d readings/s" % round(rate))
print("mqtt.drain_per_s.baseline %.1f readings/s" % naive)
print("mqtt.drain_per_s.ratio %.0f x" % (rate / naive))
print("mqtt.wire_bytes_per_reading %.1f bytes" % wire)
print("mqtt.boot_to_first_ack_ms %.0f ms" % boot)
