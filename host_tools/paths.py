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


def unwritable(path, err):
    """Why `path` could not be written (OSError err) and what to do: for a message."""
    folder = os.path.dirname(os.path.abspath(path))
    if isinstance(err, FileNotFoundError) and not os.path.isdir(folder):
        return "%s: the folder %s does not exist: create it (mkdir -p %s) or give another path" % (
            path, folder, folder)
    if isinstance(err, IsADirectoryError):
        return "%s is a folder: give a file name in it" % path
    if isinstance(err, (NotADirectoryError, FileExistsError)):
        return "%s: part of that path is a file, not a folder: give another path" % path
    if isinstance(err, PermissionError):
        return "%s: no permission to write there: choose a folder you own" % path
    return "%s: %s" % (path, err.strerror or err)
