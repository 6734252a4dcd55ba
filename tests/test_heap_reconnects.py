"""The reference node of every sensing kind (tests/heapnode.py) runs inside a 128 KiB
Python heap on the ESP32-model build with the app frozen in, over TLS to a real
Mosquitto, and dozens of reconnects do not grow its heap.  The heap given is 128 KiB
plus the NOR emulator's own RAM (its image of the log is in the Python heap on the
unix port; a board's log is flash).  mbedTLS allocates outside the Python heap, as on
the chip."""
from host_tools import mp
from tests import heapnode

KICKS = 30
BUDGET = 128 * 1024


def test_the_node_keeps_running_in_128_kib_through_30_reconnects_without_growing():
    heap = BUDGET + heapnode.emulator_bytes(heapnode.LOG_SECTORS)
    with heapnode.Broker() as broker:
        node, run, err = heapnode.run(mp.binary("esp32-frozen"), ".frozen", broker, kicks=KICKS,
                                      heapsize=heap, log_sectors=heapnode.LOG_SECTORS)
    assert "MemoryError" not in err and "NO FLASH LOG" not in err, err[-2000:]
    # Each kick ended a TLS session and the node made a new one, publishing on.
    assert run["connects"] == KICKS + 1
    assert node["acked"] > 0 and run["acked"] > node["acked"] + KICKS
    peaks = [p for _, p in sorted(run["peaks"])]
    assert max(peaks) < BUDGET
    # The live heap swings by about 4 KB between connecting and connected: the peak over
    # ten connections sees the whole swing. The first five are left out (warm-up: names
    # looked up, books opened). A leak of 100 bytes a reconnect lifts the last ten's
    # peak by about 1.5 KB.
    first, last = max(peaks[5:15]), max(peaks[-10:])
    assert last - first < 1024, peaks
