"""replay.samples_per_s: decoded SDS011 samples per second of wall time through the
whole replay path (CPython event stream -> firmware core under the unix port)."""
import os
import sys
import tempfile
import time
from argparse import Namespace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from host_tools import paths, replay  # noqa: E402

REPEAT = 200

with tempfile.TemporaryDirectory() as tmp:
    rec = os.path.join(tmp, "long.bin")
    with open(rec, "wb") as f:
        f.write((paths.DATA / "sds011_capture_54frames.bin").read_bytes() * REPEAT)
    args = Namespace(recording=[rec], start=replay.DEFAULT_START, interval=300, format=None,
                     device="bench-1", apikey="bench")
    stream = os.path.join(tmp, "events.jsonl")
    with open(stream, "w") as f:
        n = replay.build_stream(args, f)
    t0 = time.perf_counter()
    with open(os.devnull, "w") as out:
        replay.run_stream(stream, False, out)
    elapsed = time.perf_counter() - t0
print("replay.samples_per_s %d samples/s" % round(n / elapsed))
