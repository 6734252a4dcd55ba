"""`bench`: measure the figures the README reports, one line each: `<name> <value> <unit>`.

Host-side benchmarks live here; MicroPython-side ones are scripts
tests/bench/bench_*.py run under the unix port, each printing its own lines.
A figure with a baseline measured in the same run also prints
`<name>.baseline` and `<name>.ratio`.
"""
import os
import subprocess
import sys
import tempfile
import time

from . import mp, paths, replay

BENCH_DIR = paths.ROOT / "tests" / "bench"


def line(name, value, unit):
    if isinstance(value, float):
        value = "%d" % round(value) if abs(value) >= 100 else "%.4g" % value
    print("%s %s %s" % (name, value, unit), flush=True)


def bench_replay():
    """replay.samples_per_s: decoded samples per second of wall time, whole replay path on the unix port."""
    repeat = 200
    with tempfile.TemporaryDirectory() as tmp:
        rec = os.path.join(tmp, "long.bin")
        with open(rec, "wb") as f:
            f.write((paths.DATA / "sds011_capture_54frames.bin").read_bytes() * repeat)
        args = type("A", (), dict(recording=rec, start=replay.DEFAULT_START, interval=300, format=None,
                                  device="bench-1", apikey="bench"))
        stream = os.path.join(tmp, "events.jsonl")
        with open(stream, "w") as f:
            n = replay.build_stream(args, f)
        t0 = time.perf_counter()
        with open(os.devnull, "w") as out:
            replay.run_stream(stream, False, out)
        elapsed = time.perf_counter() - t0
    line("replay.samples_per_s", n / elapsed, "samples/s")


HOST_BENCHES = [bench_replay]


def main(args=None):
    for fn in HOST_BENCHES:
        fn()
    for script in sorted(BENCH_DIR.glob("bench_*.py")):
        proc = mp.run([str(script)], cwd=str(paths.ROOT), stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            sys.stderr.write("bench: %s failed:\n%s" % (script.name, proc.stderr))
            raise SystemExit(1)
        sys.stdout.write(proc.stdout)
        sys.stdout.flush()
