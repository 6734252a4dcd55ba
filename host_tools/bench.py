"""`bench`: measure the figures the README reports, one line each: `<name> <value> <unit>`.

Every script in tests/bench/ is one benchmark: bench_*.py run under the
MicroPython unix port built with the ESP32's 32-bit objects and float model
(firmware-side figures: heap bytes as the chip counts them), host_*.py under
CPython (host-side and end-to-end figures). Each prints its own lines; a figure with a
baseline measured in the same run also prints `<name>.baseline` and
`<name>.ratio`.

stdout carries figures only: under the unix port the node's console
(app.console, where every line the firmware says goes) is sent to stderr
before the benchmark runs, and a line that is not a figure fails the bench.
"""
import re
import subprocess
import sys

from . import mp, paths

BENCH_DIR = paths.ROOT / "tests" / "bench"
# Runs a bench_*.py as `micropython script` would, with the node's console on stderr.
UNDER_MP = ("import sys\nfrom app import console\nconsole.stream = sys.stderr\n"
            "sys.argv[:] = [%r]\nsys.path.insert(0, %r)\nexec(open(%r).read(), {'__name__': '__main__'})")
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
            code = UNDER_MP % (str(script), str(script.parent), str(script))
            proc = mp.run(["-X", "heapsize=8M", "-c", code], build="esp32", cwd=str(paths.ROOT),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sys.stdout.write(proc.stdout)
        sys.stdout.flush()
        sys.stderr.write(proc.stderr)
        bad = [ln for ln in proc.stdout.splitlines() if not FIGURE.match(ln)]
        if bad:
            sys.stderr.write("bench: %s printed lines not of the form `<name> <value> <unit>`: %r\n"
                             % (script.name, bad))
            failed.append(script.name)
        if proc.returncode != 0:
            sys.stderr.write("bench: %s failed (its output is above)\n" % script.name)
            failed.append(script.name)
    if failed:
        raise SystemExit("bench: failed: " + ", ".join(failed))
