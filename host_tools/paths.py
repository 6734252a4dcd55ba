"""Where things are: the checkout, the build output, the cache outside the checkout."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"
LIB = ROOT / "lib"
BOARDS = ROOT / "boards"
BUILD = ROOT / "build"
VENDOR = BUILD / "vendor"
DATA = Path(__file__).resolve().parent / "data"


def cache_dir():
    base = os.environ.get("SMARTNODE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "smartnode")
    return Path(base)
