# Runs first on every boot; keep it tiny so a broken app never blocks the REPL.
#
# The running version lives in /cur (app package, /cur/lib drivers), the one
# before it in /prev. `host_tools deploy` uploads a new version to /next,
# verifies it and only then writes /swap: the commit point. Here a committed
# swap is finished (each step can be cut and redone on the next boot) and an
# uncommitted /next, a deploy cut off midway, is thrown away. Whoever stages
# into /next (deploy, an OTA update) removes /prev first, so the filesystem
# never holds more than two bundles (host_tools/partitions.py sizes it so).
# An update over the air (app/ota.py) writes /swap "trial": the new version
# then runs on trial (/trial) until it has published and removes /trial
# itself (app/otatrial.py); a reset before that puts /prev back. Every step
# is redone if power is cut.
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


def _put(p, data):
    with open(p + ".tmp", "w") as f:
        f.write(data)
    os.rename(p + ".tmp", p)


def _read(p):
    try:
        with open(p) as f:
            return f.read()
    except OSError:
        return None


def _finish_deploy():
    if _exists("/trial") and not _exists("/swap"):
        # The version on trial reset before it published: back to the one before.
        if _exists("/prev"):
            _put("/swap", "rollback")
        else:  # nothing to go back to (and a /next is uncommitted)
            os.remove("/trial")
    if _exists("/swap"):
        swap = _read("/swap")
        if swap == "rollback" and _exists("/trial"):
            if _exists("/prev") and not _exists("/next"):
                os.rename("/prev", "/next")
            os.remove("/trial")
        if _exists("/next"):
            if _exists("/cur"):
                _rmtree("/prev")
                os.rename("/cur", "/prev")
            os.rename("/next", "/cur")
        if swap == "trial":
            _put("/trial", "")
        elif _exists("/trial"):  # a deploy over USB ends a trial
            os.remove("/trial")
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
