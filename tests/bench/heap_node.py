# The whole node's heap, under a unix port (tests/bench/host_heap.py runs it; so
# does tests/test_heap_reconnects.py): measured from before the first import of
# the app, as a board counts it from boot.  The node is built and run as
# app.run.main does (config, board, watchdog, log, shell, display, its tasks).
# A task samples the live heap (after gc.collect()) every SAMPLE_MS, and once
# the node has settled, reports:
#   node     the live heap, less the NOR emulator's RAM (on a board the log is flash)
#   oldway   the same counted from after the imports (how node.heap_bytes was taken)
#   c_peak   the most the C heap (mbedTLS, outside the Python heap as on the chip)
#            held beyond what it held before the node's tasks started; 0 without
#            tests/bench/mallocmeter.c preloaded
# then runs until the file `stop` appears and reports the peak of the samples
# for each connection (link.connects) the node made.
#
#   micropython heap_node.py <settle_s>     (in the node's directory: config.json, board.json)
import gc
import sys

gc.collect()
BEFORE = gc.mem_alloc()

import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import asyncio  # noqa: E402
from app import run  # noqa: E402
from app.board import Board, watchdog  # noqa: E402
from app.commands import ConfigStore  # noqa: E402
from app.flashlog import open_log  # noqa: E402

SAMPLE_MS = 100
settle_ms = int(float(sys.argv[1]) * 1000)


def c_heap():
    """(live, peak) bytes of the C heap, or (0, 0) without the meter; resets its peak."""
    v = os.getenv("MALLOCMETER_RESET")
    return tuple(int(x) for x in v.split()) if v else (0, 0)


def emulator_bytes(dev):
    """The NOR emulator's own RAM: its image, blank sector and wear counters (a board's
    log partition is flash and costs the heap nothing of the kind)."""
    n = 0
    for name in ("mem", "_blank"):
        n += len(getattr(dev, name, b""))
    for name in ("erases", "programmed"):
        n += 4 * len(getattr(dev, name, ()))
    return n


def report(what, **kw):
    kw["what"] = what
    print("HEAP " + json.dumps(kw))


boot_ms = time.ticks_ms()
store = ConfigStore("config.json")
cfg = run.load_config("config.json", store)
board = Board(run.load_board("board.json"))
wdt = watchdog((cfg.get("watchdog") or {}).get("timeout", 60) * 1000)
gc.collect()
imported = gc.mem_alloc()
log = open_log(board, cfg.get("log") or {})
image = emulator_bytes(getattr(log, "dev", None))
shell = run.Shell(cfg, board, log, store)
screen = run.start_screen(shell)
c_before = c_heap()[0]


def stopped():
    try:
        os.stat("stop")
        return True
    except OSError:
        return False


async def sample():
    t0 = time.ticks_ms()
    settled = False
    peaks = {}
    while True:
        await asyncio.sleep_ms(SAMPLE_MS)
        gc.collect()
        used = gc.mem_alloc()
        k = shell.link.connects
        peaks[k] = max(peaks.get(k, 0), used - BEFORE - image)
        if not settled and time.ticks_diff(time.ticks_ms(), t0) >= settle_ms:
            settled = True
            live, peak = c_heap()
            report("node", node=used - BEFORE - image, oldway=used - imported - image,
                   c_peak=peak - c_before, c_live=live - c_before, acked=shell.uplink.acked,
                   connects=k, modules=sorted(m for m in sys.modules if not m.startswith("_")))
        if settled and stopped():
            report("run", peaks=sorted(peaks.items()), acked=shell.uplink.acked, connects=k)
            sys.exit(0)


async def main():
    asyncio.create_task(run.sense(shell))
    asyncio.create_task(run.watch(shell, wdt, 300))
    if screen is not None:
        asyncio.create_task(run.show(screen))
    asyncio.create_task(run.network(shell, boot_ms))
    await sample()


asyncio.run(main())
