"""Technician tools on the virtual board (real mpremote protocol over a pty):
deploy.full_s       a whole bundle onto a blank node (until it is staged and committed)
deploy.unchanged_s  the same bundle again (nothing to send: hashes compared, copied on the node)
deploy.upload_bytes_per_s  bundle bytes sent per second in the full deploy
build.s             mpy-cross over firmware/ and lib/ for one board"""
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from host_tools import build, deploy, provision  # noqa: E402
from host_tools.link import Link  # noqa: E402
from host_tools.vboard import VirtualBoard  # noqa: E402

with tempfile.TemporaryDirectory() as tmp:
    t0 = time.perf_counter()
    manifest = build.build("unix-sim", Path(tmp) / "bundle")
    build_s = time.perf_counter() - t0
    size = sum((Path(tmp) / "bundle" / rel).stat().st_size for rel in manifest["files"] if rel.startswith("code/"))
    inv = Path(tmp) / "fleet.csv"
    inv.write_text("device_id,municipality,board,sensors,lat,lon,broker,apikey,interval\n"
                   "bench-1,bench,unix-sim,sds011,46,14,127.0.0.1:1,k,60\n")
    cfg, profile = provision.read_inventory(inv, {})["bench-1"]
    with VirtualBoard() as vb:
        with Link(vb.device) as link:
            provision.write_to_node(link, cfg, profile)
        t0 = time.perf_counter()
        deploy.deploy(vb.device, Path(tmp) / "bundle", wait=0, log=lambda *a: None)
        full_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        deploy.deploy(vb.device, Path(tmp) / "bundle", wait=0, log=lambda *a: None)
        same_s = time.perf_counter() - t0
print("build.s %.2f s" % build_s)
print("deploy.full_s %.2f s" % full_s)
print("deploy.unchanged_s %.2f s" % same_s)
print("deploy.upload_bytes_per_s %d B/s" % round(size / full_s))
print("deploy.bundle_bytes %d B" % size)
