"""The MicroPython unix port: find (or build) it and run firmware code under it.

Two builds of the same 1.25.0 source (scripts/build-micropython.sh):
"std", the standard 64-bit port with double floats, and "esp32", the port built
with the ESP32's numerics and object sizes (32-bit, 31-bit small ints,
single-precision float, integer time.time()).  Firmware tests run under both.
"esp32-frozen" is "esp32" with this checkout's app frozen in (firmware/manifest.py),
rebuilt when the frozen sources change: the heap bench measures a frozen node on it.
"""
import os
import re
import subprocess

from . import paths, vendor

MP_VERSION = "1.25.0"
# build name -> (build script variant, cache directory suffix, override variable):
# the builds firmware tests run under
BUILDS = {
    "std": ("standard", "", "MICROPYTHON"),
    "esp32": ("esp32model", "-esp32model", "MICROPYTHON_ESP32"),
}
# and the one the heap figures of a frozen node come from (no tests run under it twice)
FROZEN = {"esp32-frozen": ("esp32model-frozen", "-esp32model-frozen", "MICROPYTHON_ESP32_FROZEN")}


def binary(build="std"):
    """Absolute path of a unix-port binary (a BUILDS or FROZEN name); builds it on first use (cached)."""
    variant, suffix, override = BUILDS[build] if build in BUILDS else FROZEN[build]
    if os.environ.get(override):
        return os.environ[override]
    cached = paths.cache_dir() / ("micropython-%s%s-%s" % (MP_VERSION, suffix, recipe())) / "micropython"
    if cached.exists() and build != "esp32-frozen":  # that one: the script checks its sources
        return str(cached)
    if build == "esp32-frozen":
        vendor.ensure(str(paths.VENDOR))  # it freezes the vendored modules
    out = subprocess.run(["sh", str(paths.ROOT / "scripts" / "build-micropython.sh"), variant],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return out.strip().splitlines()[-1]


def recipe():
    """The build script's recipe revision: a cached build of an older recipe is not used."""
    text = (paths.ROOT / "scripts" / "build-micropython.sh").read_text()
    return re.search(r"^RECIPE=(\S+)$", text, re.M).group(1)


def micropypath(*extra):
    """The device's import path, as on the board: / (firmware), /lib (ours and vendored)."""
    vendor.ensure(str(paths.VENDOR))
    parts = [str(p) for p in extra] + [str(paths.FIRMWARE), str(paths.LIB), str(paths.VENDOR), ".frozen"]
    return ":".join(parts)


def env(*extra):
    e = dict(os.environ)
    e["MICROPYPATH"] = micropypath(*extra)
    return e


def run(args, build="std", **kw):
    """Run a unix port with the device's import path; args after the binary."""
    return subprocess.run([binary(build)] + list(args), env=env(), **kw)
