# What keeps a node unattended for years: the watchdog is fed only while the
# node is demonstrably alive, and a node that keeps resetting soon after boot
# stops trying and waits in safe mode (its REPL free for a deploy or a config
# fix) instead of crash-looping until someone climbs the lamp post.
#
# Boot record: the file `boots` (on the chip /boots) holds
#   "<resets in a row> <reset cause> <config fingerprint>"
# written once per boot and removed once the node has run `stable` seconds.
# A power-on starts the count again; so does a changed config.json or
# board.json, or a deploy (boot.py removes the file when it swaps in a version).
import time

BOOTS = "boots"
LAST_ERROR = "lasterror"
RESETS = 3  # resets in a row, each before `stable` seconds of running, then safe mode
RELAXED_MS = 30 * 60 * 1000  # the watchdog while a technician has the REPL
armed = False  # the app started the watchdog in this boot


def _fingerprint(paths):
    """A short hash of the files a technician fixes (config.json, board.json)."""
    import binascii
    import hashlib

    h = hashlib.sha256()
    for p in paths:
        try:
            with open(p, "rb") as f:
                h.update(f.read())
        except OSError:
            h.update(b"-")
    return binascii.hexlify(h.digest()[:6]).decode()


def read_boots(path=BOOTS):
    """-> (resets in a row, reset cause, config fingerprint); (0, None, None) if none."""
    try:
        with open(path) as f:
            n, cause, fp = f.read().split()
        return int(n), cause, fp
    except (OSError, ValueError):
        return 0, None, None


def count_boot(cause, fixes=("config.json", "board.json"), path=BOOTS):
    """Record this boot (before anything else can fail); -> resets in a row, this one included."""
    n, _, fp = read_boots(path)
    now_fp = _fingerprint(fixes)
    if cause in ("power-on", "deep-sleep") or fp != now_fp:  # a battery node's wake is no crash
        n = 0
    n += 1
    try:
        with open(path, "w") as f:
            f.write("%d %s %s" % (n, cause, now_fp))
    except OSError:  # a full or read-only filesystem must not stop the boot
        pass
    return n


def stable(path=BOOTS, error=LAST_ERROR):
    """The node has run long enough: the resets before it were not a loop."""
    import os

    for p in (path, error):
        try:
            os.remove(p)
        except OSError:
            pass


def last_error(path=LAST_ERROR):
    try:
        with open(path) as f:
            return f.read()[:120]
    except OSError:
        return None


def crashed(e, path=LAST_ERROR):
    """An exception ended the app: keep what it was for the next boot's health."""
    try:
        with open(path, "w") as f:
            f.write("crash: %r" % (e,))
    except OSError:
        pass


class Liveness:
    """Evidence that the node works, from its own tasks: sensing ticks advance and
    the network task finishes its bounded steps. problem(now) names what is wrong,
    or None; the watchdog is fed only on None. All times are ticks_ms."""

    def __init__(self, now, sense_ms=60000, net_ms=120000):
        self.sense_ms = sense_ms  # sensing polls every <= 1 s: a minute of none is a hang
        self.net_ms = net_ms  # a network step is bounded by socket timeouts (a few s each)
        self.sensed = now
        self.net_done = now

    def sense_tick(self, now):
        self.sensed = now

    def net_tick(self, now):
        self.net_done = now

    def problem(self, now):
        if time.ticks_diff(now, self.sensed) > self.sense_ms:
            return "sensing stopped %d s ago" % (time.ticks_diff(now, self.sensed) // 1000)
        if time.ticks_diff(now, self.net_done) > self.net_ms:
            return "network task stuck for %d s" % (time.ticks_diff(now, self.net_done) // 1000)
        return None


def relax(board):
    """A technician interrupted the node (Ctrl-C): the chip's watchdog cannot be
    stopped, so it gets half an hour; a node left at the REPL resets into service."""
    if armed:
        try:
            board.watchdog(RELAXED_MS)
        except Exception:
            pass
