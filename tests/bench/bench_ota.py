# ota.verify_ms: one update package signature check as the node does it
#   (app.ota.check_signature: SHA-256 of the manifest line, then ECDSA P-256 in
#   Python integers, app.ecdsa), median of 5, on a valid NIST CAVP SigVer
#   vector (tests/data/crypto); under the ESP32-model unix port, not the chip.
# ota.verify_heap_bytes: heap allocated by one such check, garbage included
#   (gc off): what it asks of the allocator; live data at any moment is a few
#   256-bit integers, the rest is reclaimed by the collector as it goes.
# ota.import_bytes: heap held after importing app.ota and app.ecdsa (only while
#   an update or a key rotation runs).
import gc
import sys
import time
from binascii import hexlify, unhexlify

sys.path.insert(0, "firmware")
gc.collect()
before = gc.mem_alloc()
from app import ecdsa, ota  # noqa: E402

gc.collect()
held = gc.mem_alloc() - before


def vector():
    v = {}
    with open("tests/data/crypto/nist_p256_sha256_sigver.rsp") as f:
        for line in f:
            if " = " in line and not line.startswith("#"):
                k, val = line.strip().split(" = ", 1)
                v[k] = val
                if k == "Result":
                    if val.startswith("P"):
                        return v
                    v = {}


v = vector()
key = b"\x04" + unhexlify(v["Qx"]) + unhexlify(v["Qy"])
msg = unhexlify(v["Msg"])
sig = (v["R"] + v["S"]).encode()
times = []
for _ in range(5):
    t = time.ticks_us()
    ota.check_signature(key, msg, sig)
    times.append(time.ticks_diff(time.ticks_us(), t))
times.sort()
gc.collect()
gc.disable()
before = gc.mem_alloc()
ota.check_signature(key, msg, sig)
alloc = gc.mem_alloc() - before
gc.enable()
bad = bytearray(msg)
bad[0] ^= 1
try:
    ota.check_signature(key, bytes(bad), sig)
    raise SystemExit("bench_ota: a changed message verified")
except ValueError:
    pass
print("ota.verify_ms", "%.1f" % (times[2] / 1000), "ms")
print("ota.verify_heap_bytes", alloc, "bytes")
print("ota.import_bytes", held, "bytes")
