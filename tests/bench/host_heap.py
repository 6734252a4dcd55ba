"""The whole node's heap on the ESP32-model unix build (32-bit objects, float32), for the
reference node of every sensing kind (tests/heapnode.py: SDS011 + BME280 air, two parking
spots, two traffic lanes, flash log, TLS uplink to a local Mosquitto, commands, health,
status display), counted from before the first import of the app (tests/bench/heap_node.py),
after gc.collect(), less the NOR emulator's image (on a board the log is flash):

heap.node_bytes              the node as .mpy files (what `deploy` puts on a stock board),
                             4 s after boot, connected and publishing
heap.node_bytes.baseline     the same node counted as node.heap_bytes was: from after the
                             imports and the config load (so without the app's bytecode)
heap.node_bytes.frozen       the same node with the app frozen into the firmware
                             (firmware/manifest.py; scripts/build-micropython.sh esp32model-frozen)
heap.node_bytes.frozen.baseline  heap.node_bytes of this run (.mpy)
heap.tls_bytes               what the TLS session costs: the TLS node less the same node on
                             plain TCP, in the Python heap plus the most the C heap held
                             (mbedTLS: outside the Python heap, as on the chip, where it
                             allocates from the IDF heap), counted by tests/bench/mallocmeter.c
heap.tls_bytes.baseline      the part gc.mem_alloc() sees (the Python heap only)
heap.peak_bytes              the largest live heap sampled every 100 ms (after gc.collect())
                             while the node is kicked off the broker KICKS times and reconnects
                             over TLS, publishing on; counted as heap.node_bytes
heap.peak_bytes.baseline     the same peak while the first connection lasted: the ratio is
                             the growth over the reconnects
"""
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from host_tools import build, mp  # noqa: E402
from tests import heapnode  # noqa: E402

KICKS = 30


def figure(name, value, baseline, unit="bytes"):
    print("%s %d %s" % (name, value, unit))
    print("%s.baseline %d %s" % (name, baseline, unit))
    print("%s.ratio %.2f x" % (name, value / baseline))


with heapnode.Broker() as broker, tempfile.TemporaryDirectory() as tmp:
    build.build("unix-sim", Path(tmp) / "bundle")
    code = Path(tmp) / "bundle" / "code"
    as_mpy = "%s:%s:.frozen" % (code, code / "lib")
    meter = heapnode.meter()
    node, run, _ = heapnode.run(mp.binary("esp32"), as_mpy, broker, kicks=KICKS, preload=meter)
    plain, _, _ = heapnode.run(mp.binary("esp32"), as_mpy, broker, tls=False, preload=meter)
    frozen, _, _ = heapnode.run(mp.binary("esp32-frozen"), ".frozen", broker)

for n in (node, plain, frozen):
    if not n["acked"]:
        sys.exit("host_heap: the node did not publish: %r" % n)
if run["connects"] < KICKS + 1:
    sys.exit("host_heap: the node made %d connections, not %d" % (run["connects"], KICKS + 1))
print("heap: modules the node imported: %s" % " ".join(node["modules"]), file=sys.stderr)
print("heap: peak per connection: %s" % " ".join("%d:%d" % (k, v) for k, v in run["peaks"]),
      file=sys.stderr)
print("heap: mbedTLS (C heap) live %d, peak %d bytes" % (node["c_live"], node["c_peak"]), file=sys.stderr)

figure("heap.node_bytes", node["node"], node["oldway"])
figure("heap.node_bytes.frozen", frozen["node"], node["node"])
in_heap = node["node"] - plain["node"]
figure("heap.tls_bytes", in_heap + node["c_peak"] - plain["c_peak"], in_heap)
peaks = dict(run["peaks"])
figure("heap.peak_bytes", max(peaks.values()), peaks[1])
