"""node.heap_bytes: heap a whole running node holds, as precompiled .mpy (what a board runs),
under the unix port: air (SDS011 + BME280), a parking spot, a traffic lane on two loop
inputs, the flash log, the MQTT link to a local Mosquitto, health and commands.
Measured after gc.collect() once the node has published for a few seconds, less the
NOR emulator's image (on a board the log is flash, not RAM). The unix port is 64-bit:
an ESP32's 32-bit objects take less."""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from host_tools import build, mp, paths  # noqa: E402
from host_tools.broker import Mosquitto  # noqa: E402

PROBE = r"""
import gc, json, sys, time
import asyncio
boot_ms = time.ticks_ms()
from app import console, run
console.stream = sys.stderr  # the node's console lines are not figures
from app.board import Board
from app.commands import ConfigStore
from app.flashlog import open_log

store = ConfigStore("config.json")
cfg = run.load_config("config.json", store)
with open("board.json") as f:
    board = Board(json.load(f))
gc.collect()
before = gc.mem_alloc()
log = open_log(board, cfg["log"])
image = len(log.dev.mem) if hasattr(log, "dev") and hasattr(log.dev, "mem") else 0
shell = run.Shell(cfg, board, log, store)

async def measure():
    await asyncio.sleep(4)
    gc.collect()
    print("node.heap_bytes %d bytes" % (gc.mem_alloc() - before - image))
    print("node.acked %d" % shell.uplink.acked, file=sys.stderr)
    sys.exit(0)

async def main():
    asyncio.create_task(run.sense(shell))
    asyncio.create_task(run.network(shell, boot_ms))
    await measure()

asyncio.run(main())
"""

with Mosquitto() as broker, tempfile.TemporaryDirectory() as tmp:
    build.build("unix-sim", Path(tmp) / "bundle")
    code = Path(tmp) / "bundle" / "code"
    board = json.loads((paths.BOARDS / "unix-sim.json").read_text())
    board["uarts"]["pm"].update(replay=str(paths.DATA / "sds011_capture_54frames.bin"), period_ms=100)
    board["inputs"] = {"loop1": {}, "loop2": {}}
    board["log"] = {"file": "smartlog.img", "sectors": 128}
    cfg = {"device_id": "bench-1", "apikey": "k", "interval": 1,
           "broker": {"host": "127.0.0.1", "port": broker.port},
           "air": {"sensors": {"sds011": {"uart": "pm"}, "bme280": {"i2c": "main"}}},
           "parking": {"spots": [{"spot": 1}]},
           "traffic": {"lanes": [{"lane": 1, "presence": ["loop1", "loop2"], "spacing_m": 4}]},
           "log": {}, "health": {"interval": 1}}
    Path(tmp, "config.json").write_text(json.dumps(cfg))
    Path(tmp, "board.json").write_text(json.dumps(board))
    env = mp.env()
    env["MICROPYPATH"] = "%s:%s:.frozen" % (code, code / "lib")
    # Heap figures come from the build with the ESP32's 32-bit objects (host_tools.mp).
    proc = subprocess.run([mp.binary("esp32"), "-c", PROBE], cwd=tmp, env=env, capture_output=True, text=True,
                          timeout=60)
    if proc.returncode != 0 or "node.acked 0" in proc.stderr:
        sys.exit("host_node: the node did not run and publish:\n" + proc.stdout + proc.stderr)
    sys.stdout.write(proc.stdout)
