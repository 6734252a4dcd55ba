"""`bench`: measure the figures the README reports, one line each: `<name> <value> <unit>`.

Every script in tests/bench/ is one benchmark: bench_*.py run under the
MicroPython unix port built with the ESP32's 32-bit objects and float model
(firmware-side figures: heap bytes as the chip counts them), host_*.py under
CPython (host-side and end-to-end figures). Each prints its own lines; a figure with a
baseline measured in the same run also prints `<name>.baseline` and
`<name>.ratio`.
"""
import re
import subprocess
import sys

from . import mp, paths

BENCH_DIR = paths.ROOT / "tests" / "bench"
FIGURE = re.compile(r"^\S+ -?[0-9][0-9.e+-]* \S+$")


def main(args=None):
    failed = []
    scripts = sorted(BENCH_DIR.glob("host_*.py")) + sorted(BENCH_DIR.glob("bench_*.py"))
    for script in scripts:
        if script.name.startswith("host_"):
            cmd = [sys.executable, str(script)]
            proc = subprocess.run(cmd, cwd=str(paths.ROOT), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        else:
            # A heap as big as the standard build's: the log bench emulates a 512 KiB partition in RAM.
            proc = mp.run(["-X", "heapsize=8M", str(script)], build="esp32", cwd=str(paths.ROOT),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sys.stdout.write(proc.stdout)
        sys.stdout.flush()
        bad = [ln for ln in proc.stdout.splitlines() if not FIGURE.match(ln)]
        if bad:
            sys.stderr.write("bench: %s printed lines not of the form `<name> <value> <unit>`: %r\n"
                             % (script.name, bad))
            failed.append(script.name)
        if proc.returncode != 0:
            sys.stderr.write("bench: %s failed:\n%s" % (script.name, proc.stderr))
            failed.append(script.name)
    if failed:
        raise SystemExit("bench: failed: " + ", ".join(failed))
