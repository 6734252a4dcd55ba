"""The MicroPython unix port: find (or build) it and run firmware code under it."""
import os
import subprocess

from . import paths, vendor

MP_VERSION = "1.25.0"


def binary():
    """Absolute path of the unix-port binary; builds it on first use (cached)."""
    override = os.environ.get("MICROPYTHON")
    if override:
        return override
    cached = paths.cache_dir() / ("micropython-" + MP_VERSION) / "micropython"
    if cached.exists():
        return str(cached)
    out = subprocess.run(["sh", str(paths.ROOT / "scripts" / "build-micropython.sh")],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return out.strip().splitlines()[-1]


def micropypath(*extra):
    """The device's import path, as on the board: / (firmware), /lib (ours and vendored)."""
    vendor.ensure(str(paths.VENDOR))
    parts = [str(p) for p in extra] + [str(paths.FIRMWARE), str(paths.LIB), str(paths.VENDOR), ".frozen"]
    return ":".join(parts)


def env(*extra):
    e = dict(os.environ)
    e["MICROPYPATH"] = micropypath(*extra)
    return e


def run(args, **kw):
    """Run the unix port with the device's import path; args after the binary."""
    return subprocess.run([binary()] + list(args), env=env(), **kw)
