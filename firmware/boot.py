# Runs first on every boot; keep it tiny so a broken app never blocks the REPL.
#
# The running version lives in /cur (app package, /cur/lib drivers), the one
# before it in /prev. `host_tools deploy` uploads a new version to /next,
# verifies it and only then writes /swap: the commit point. Here a committed
# swap is finished (each step can be cut and redone on the next boot) and an
# uncommitted /next, a deploy cut off midway, is thrown away. Whoever stages
# into /next (deploy, an OTA update) removes /prev first, so the filesystem
# never holds more than two bundles (host_tools/partitions.py sizes it so).
import gc
import os
import sys


def _exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


def _rmtree(p):
    try:
        entries = list(os.ilistdir(p))
    except OSError:
        return
    for e in entries:
        q = p + "/" + e[0]
        if e[1] == 0x4000:
            _rmtree(q)
        else:
            os.remove(q)
    os.rmdir(p)


def _finish_deploy():
    if _exists("/swap"):
        if _exists("/next"):
            if _exists("/cur"):
                _rmtree("/prev")
                os.rename("/cur", "/prev")
            os.rename("/next", "/cur")
        try:  # a new version gets a fresh count of resets (app/guard.py)
            os.remove("/boots")
        except OSError:
            pass
        os.remove("/swap")
    elif _exists("/next"):
        _rmtree("/next")


try:
    _finish_deploy()
except OSError as e:
    print("boot: deploy swap:", e)
sys.path[1:1] = ["/cur", "/cur/lib"]
gc.collect()
