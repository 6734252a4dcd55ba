# boot.py's swap, trial and rollback with the power cut before each of its file
# operations (and again during the recovery boot): the next boots always end in
# the one intended state, never with both versions gone or the wrong one running.
import sys

import vfs
from app.norflash import NorFlash

MNT = "/bootswap"
SRC = open("firmware/boot.py").read()
BOOT = SRC[:SRC.index("try:\n    _finish_deploy()")]  # the functions, not the app start


class PowerCut(Exception):  # not an OSError: boot.py must not swallow it
    pass


class CutOs:
    """os under MNT, the power cut before the `left`-th changing operation."""

    def __init__(self, left):
        import os

        self.os = os
        self.left = left

    def _tick(self):
        if self.left is not None:
            if self.left == 0:
                raise PowerCut()
            self.left -= 1

    def stat(self, p):
        return self.os.stat(MNT + p)

    def ilistdir(self, p):
        return self.os.ilistdir(MNT + p)

    def remove(self, p):
        self._tick()
        self.os.remove(MNT + p)

    def rmdir(self, p):
        self._tick()
        self.os.rmdir(MNT + p)

    def rename(self, a, b):
        self._tick()
        self.os.rename(MNT + a, MNT + b)

    def open(self, p, mode="r"):
        if "w" in mode:
            self._tick()
        return open(MNT + p, mode)


def boot(cut=None):
    """Run boot.py's swap once; -> True if it ran to the end."""
    fake = CutOs(cut)
    saved = sys.modules.get("os")
    sys.modules["os"] = fake
    try:
        g = {"__name__": "boot", "open": fake.open}
        exec(BOOT, g)
        g["_finish_deploy"]()
        return True
    except PowerCut:
        return False
    finally:
        if saved is not None:
            sys.modules["os"] = saved
        else:
            del sys.modules["os"]


def mount():
    dev = NorFlash(32)
    vfs.VfsLfs2.mkfs(dev)
    vfs.mount(vfs.VfsLfs2(dev), MNT)


def setup(state):
    """state: {"cur": "v1", "next": "v2", "swap": "trial", "trial": ""} -> files under MNT."""
    import os

    try:
        vfs.umount(MNT)
    except OSError:
        pass
    mount()
    for name, v in state.items():
        if name in ("cur", "prev", "next"):
            os.mkdir(MNT + "/" + name)
            os.mkdir(MNT + "/" + name + "/app")
            with open(MNT + "/" + name + "/app/v", "w") as f:
                f.write(v)
        else:
            with open(MNT + "/" + name, "w") as f:
                f.write(v)


def state():
    import os

    out = {}
    for name in os.listdir(MNT):
        if name in ("cur", "prev", "next"):
            try:
                with open(MNT + "/" + name + "/app/v") as f:
                    out[name] = f.read()
            except OSError:
                out[name] = "?"
        elif not name.endswith(".tmp"):
            with open(MNT + "/" + name) as f:
                out[name] = f.read()
    return out


def every_cut(start, want, steps):
    """steps: how many file operations the boot takes (each one is cut)."""
    setup(start)
    assert boot()
    assert state() == want, (start, state())
    ops = 0
    while True:  # cut before operation `ops`, then again during the recovery
        setup(start)
        if boot(ops):
            break
        mid = state()
        for again in range(ops + 8):
            setup(mid)
            if boot(again):
                assert state() == want, (start, ops, mid, state())
                break
            second = state()
            setup(second)
            assert boot(), (start, ops, again)
            assert state() == want, (start, ops, again, second, state())
        ops += 1
    assert ops == steps, ops
    vfs.umount(MNT)


def test_an_update_over_the_air_becomes_the_version_on_trial():
    every_cut({"cur": "v1", "next": "v2", "swap": "trial", "boots": "2 soft x"},
              {"cur": "v2", "prev": "v1", "trial": ""}, 6)


def test_a_version_that_resets_on_trial_gives_way_to_the_one_before():
    every_cut({"cur": "v2", "prev": "v1", "trial": ""}, {"cur": "v1", "prev": "v2"}, 8)
    every_cut({"cur": "v2", "prev": "v1", "trial": "", "swap": "rollback"}, {"cur": "v1", "prev": "v2"}, 6)


def test_a_confirmed_version_stays():
    every_cut({"cur": "v2", "prev": "v1", "boots": "1 soft x"}, {"cur": "v2", "prev": "v1", "boots": "1 soft x"}, 0)


def test_an_update_cut_off_before_its_commit_point_is_thrown_away():
    every_cut({"cur": "v1", "next": "v2-partial"}, {"cur": "v1"}, 3)


def test_a_deploy_over_usb_ends_a_trial():
    every_cut({"cur": "v2", "prev": "v1", "next": "v3", "swap": "v3", "trial": ""},
              {"cur": "v3", "prev": "v2"}, 8)


def test_nothing_to_roll_back_to_leaves_the_running_version():
    every_cut({"cur": "v2", "trial": ""}, {"cur": "v2"}, 1)
    # A deploy over USB cut off during a trial (it dropped /prev): its /next is not a fallback.
    every_cut({"cur": "v2", "next": "v3-partial", "trial": ""}, {"cur": "v2"}, 4)
