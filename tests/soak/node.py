# The fault replay's node (runs under the MicroPython unix port): the real shell
# (app.run.Shell: node, flash log, uplink, link, commands, health) on a recorded
# event stream in virtual time, its log on an emulated NOR flash and its
# filesystem (config.json, baselines) LittleFS on another, talking MQTT to a real
# Mosquitto on loopback while the plan's faults happen to it:
#   {"t", "do": "broker", "up": bool}  the broker stops or starts (asked of the host,
#                                      which stops or starts the Mosquitto process)
#   {"t", "do": "wifi", "up": bool}    Wi-Fi lost (the connection dies) or back
#   {"t", "do": "cut", "at": "now"|"op"|"erase"|"config", "off": s, "k": n}
#       power lost now, at the k-th flash operation of the log from now, during the
#       log's next sector erase, or during a config write (k-th op of the
#       filesystem); the node stays off `off` seconds and boots again
#   {"t", "do": "mains", "off": s}   the switched supply fails: the power profile
#                                      (app.power.Switched) makes the state durable on
#                                      the capacitor, then the node is off `off` seconds
#   {"t", "do": "unplug"|"replug", "sensor": "sds011"|"bme280"|"mag"|"loops"}
#
#     micropython tests/soak/node.py STREAM   (stdin/stdout: the host's side, run.py)
# With "offline" in the stream's head the node makes its readings and never connects
# (the fault-free reference: readings do not depend on the network).
#
# The node's sockets and the broker run in real time; everything else in virtual
# time. Virtual time stands still while the wire is busy (a connect, PUBACKs or
# a PINGRESP awaited), so a keepalive never expires for want of real time.
# Output lines: "D <seq> <key> <json>" a reading durable in the log, "# ..." what
# happened, "@broker up|down" (answered "ok" on stdin), last "R <json>" the result.
import json
import sys
import time
import vfs

from app import link as app_link, mqtt as app_mqtt, power, record, resolve as app_resolve, run
from app.board_unix import Board
from app.commands import ConfigStore
from app.flashlog import FlashLog
from app.norflash import NorFlash

FS = "/soakfs"
MASK = 0x3FFFFFFF
SENSORS = {"sds011": ("air", "sds011"), "bme280": ("air", "bme280"), "mag": ("mag", None),
           "loops": ("agg", None)}
REAL_WAIT_MS = 3000  # the wire silent this long in real time: let virtual time run on


class VirtualTime:
    """What app.link, app.mqtt and app.resolve see as the `time` module."""
    ms = 0
    ticks_add = staticmethod(time.ticks_add)
    ticks_diff = staticmethod(time.ticks_diff)
    sleep_ms = staticmethod(time.sleep_ms)

    def ticks_ms(self):
        return self.ms & MASK


VT = VirtualTime()
for _m in (app_link, app_mqtt, app_resolve):
    _m.time = VT


class Flash(NorFlash):
    """The log's NOR flash; can be told to lose power during its next sector erase."""
    cut_erase = False
    erasing = False  # the operation in progress (or the last one) is an erase

    def erase(self, sector):
        if not self.dead:
            if self.cut_erase:
                self.cut_erase = False
                self.cut_at = self.ops
            self.erasing = True
        NorFlash.erase(self, sector)

    def program(self, addr, data):
        if not self.dead:
            self.erasing = False
        NorFlash.program(self, addr, data)


class DurableLog(FlashLog):
    """The flash log, saying which readings it holds once append has returned."""

    def append(self, payload):
        seq = FlashLog.append(self, payload)
        out("D %d %s" % (seq, record.expand(payload).decode()))
        return seq


class SimBoard(Board):
    """The unix board with virtual time and a Wi-Fi that can be lost."""
    wifi = True
    t = 0

    def now(self):
        return self.t

    def network_up(self, cfg):
        return self.wifi

    def wifi_up(self):
        return self.wifi


def out(line):
    sys.stdout.write(line)
    sys.stdout.write("\n")


def ask_host(line):
    out(line)
    sys.stdout.flush()
    if sys.stdin.readline().strip() != "ok":
        raise SystemExit("host did not confirm " + line)


class Soak:
    def __init__(self, head):
        self.cfg = head["config"]
        self.profile = head["board"]
        self.faults = head["faults"]
        self.offline = head.get("offline", False)  # the reference run: readings only, no network
        self.logdev = Flash(head.get("log_sectors", 64))
        self.fsdev = NorFlash(head.get("fs_sectors", 32))
        vfs.VfsLfs2.mkfs(self.fsdev)
        self._mount()
        ops = self.fsdev.ops
        ConfigStore(FS + "/config.json").save(self.cfg)
        self.config_ops = self.fsdev.ops - ops  # what one config write costs in flash operations
        self.wifi = True
        self.unplugged = {}
        self.shell = None
        self.on_at = None  # virtual ms the power returns (None: powered)
        self.pending_off = 0  # seconds off after an armed cut
        self.t = 0
        self.net_due = 0
        self.counts = {"boots": 0, "cuts": 0, "cut_ops": 0, "cut_erases": 0, "cut_configs": 0,
                       "config_writes": 0, "outages": 0, "wifi_losses": 0, "unplugs": 0,
                       "connects": 0, "real_waits": 0, "mains_fails": 0, "durable_us_max": 0}

    def _mount(self):
        try:
            vfs.umount(FS)
        except OSError:
            pass
        vfs.mount(vfs.VfsLfs2(self.fsdev), FS)

    # -- power ---------------------------------------------------------------------
    def boot(self):
        self.logdev.power_on()
        self.fsdev.power_on()
        self._mount()  # LittleFS recovers from a cut at mount
        path = FS + "/config.json"
        store = ConfigStore(path)
        cfg = run.load_config(path, store)
        if cfg["interval"] != self.cfg["interval"]:
            raise AssertionError("config after boot: %r" % cfg)
        board = SimBoard(self.profile)
        board.t = self.t
        board.wifi = self.wifi
        self.shell = run.Shell(cfg, board, DurableLog(self.logdev), store)
        self.ctl = power.controller(self.shell, cfg.get("power") or {}, VT.ticks_ms())
        self.on_at = None
        self.net_due = VT.ms
        self.counts["boots"] += 1
        out("# %d boot: %d pending, next seq %d" % (self.t, self.shell.log.pending,
                                                     self.shell.log.next_seq))

    def power_fail(self, off_s, why):
        """RAM is gone; the sockets die with the node (the broker sees the TCP end)."""
        sh = self.shell
        if sh is not None:
            self.counts["connects"] += sh.link.connects
            s = sh.link.session
            if s is not None and s.raw is not None:
                s.raw.close()
        self.shell = None
        self.counts["cuts"] += 1
        self.on_at = VT.ms + off_s * 1000
        self.logdev.dead = self.fsdev.dead = True
        out("# %d power lost (%s), back in %d s" % (self.t, why, off_s))

    def _dead(self):
        return self.logdev.dead or self.fsdev.dead

    # -- the network task, in virtual time up to `until` (ms) ----------------------
    def network(self, until):
        if self.offline:
            VT.ms = max(VT.ms, until)
            return
        while self.shell is not None and VT.ms < until:
            if VT.ms < self.net_due:
                VT.ms = min(until, self.net_due)
                continue
            link = self.shell.link
            ms = link.step()
            if self._dead():
                return
            real = time.ticks_ms()
            while self._wire_busy(link):
                self.counts["real_waits"] += 1
                if time.ticks_diff(time.ticks_ms(), real) > REAL_WAIT_MS:
                    break  # the other end is silent: virtual time must run for the timeouts
                if not link.connected:
                    time.sleep_ms(1)  # connecting; once connected, step() waits on the socket
                ms = link.step()
                if self._dead():
                    return
            if link.session is None:
                ms = max(ms, time.ticks_diff(link._next_try, VT.ticks_ms()))
            elif link.connected and link.uplink.idle and not link.session.outstanding:
                ms = until - VT.ms  # nothing to do until the node has news
            self.net_due = VT.ms + max(1, ms)

    @staticmethod
    def _wire_busy(link):
        s = link.session
        if s is None:
            return False
        return not s.connected or s.outstanding or not link.uplink.idle

    # -- faults --------------------------------------------------------------------
    def fault(self, f):
        do = f["do"]
        if do == "broker":
            self.counts["outages"] += not f["up"]
            ask_host("@broker " + ("up" if f["up"] else "down"))
        elif do == "wifi":
            self.wifi = f["up"]
            self.counts["wifi_losses"] += not f["up"]
            sh = self.shell
            if sh is not None:
                sh.board.wifi = self.wifi
                s = sh.link.session
                if not self.wifi and s is not None and s.raw is not None:
                    s.raw.close()  # the station left: the connection is gone
        elif do == "mains":
            self.mains_fail(f)
        elif do in ("unplug", "replug"):
            self.counts["unplugs"] += do == "unplug"
            self.unplugged[f["sensor"]] = do == "unplug"
        elif do == "cut":
            if self.shell is None:
                return
            at = f["at"]
            if at == "now":
                self.power_fail(f["off"], "at a random moment")
            elif at == "op":
                self.logdev.cut(f["k"], f.get("fraction", 0.5))
                self.pending_off = f["off"]
            elif at == "erase":
                self.logdev.cut_erase = True
                self.pending_off = f["off"]
            elif at == "config":
                self.config_write(f)

    def config_write(self, f):
        """A remote config update, the power lost during its write to the filesystem."""
        update = ('{"config": {"interval": %d}}' % self.cfg["interval"]).encode()
        for _ in range(2):
            ops = self.fsdev.ops
            self.fsdev.cut(f["k"] % self.config_ops, f.get("fraction", 0.5))
            self.counts["config_writes"] += 1
            res = self.shell.commands.handle(update)
            if self.fsdev.dead:
                self.counts["cut_configs"] += 1
                self.power_fail(f["off"], "during a config write")
                return
            self.fsdev.power_on()  # the write was shorter than k operations: once more
            self.config_ops = self.fsdev.ops - ops
            out("# %d config write done before the cut (%d operations): %r" % (self.t, self.config_ops, res))

    def mains_fail(self, f):
        """The supply goes; the profile has its debounce, then makes the state durable."""
        sh, ctl = self.shell, self.ctl
        if sh is None:
            return
        sh.board.mains = False
        ms = VT.ticks_ms()
        ctl.step(self.t, ms)
        if ctl.step(self.t, time.ticks_add(ms, ctl.mains.debounce_ms + 10)) != "fail":
            raise AssertionError("the switched profile missed a power-fail")
        self.counts["mains_fails"] += 1
        self.counts["durable_us_max"] = max(self.counts["durable_us_max"], ctl.durable_us)
        self.power_fail(f["off"], "mains failed, %d readings durable first" % ctl.appended)

    def _check_cut(self):
        if self.shell is not None and self._dead():
            if self.logdev.dead:
                erase = self.logdev.erasing
                kind = "during a log erase" if erase else "during a log write"
                self.counts["cut_erases" if erase else "cut_ops"] += 1
            else:
                kind = "during a filesystem write"
            self.power_fail(self.pending_off, kind)

    # -- the run -------------------------------------------------------------------
    def advance(self, t, ms=0):
        """Virtual time to (t, ms): the network task runs up to it; power returns on time."""
        target = t * 1000 + ms
        while True:
            if self.shell is None:
                if self.on_at is not None and self.on_at <= target:
                    VT.ms = max(VT.ms, self.on_at)
                    self.t = VT.ms // 1000
                    self.boot()
                    continue
                VT.ms = max(VT.ms, target)
                break
            self.network(target)
            self._check_cut()
            if self.shell is not None:
                break
        self.t = t

    def sense(self, ev):
        sh = self.shell
        if sh is None:
            return
        t = self.t
        ms = VT.ticks_ms()
        sh.board.t = t
        try:
            if not self._unplugged(ev):
                sh.node.event(t, ev, ms)
            sh.sense(t, ms)
        except Exception as e:  # as app.run.sense: a fault in sensing stops nothing
            sh.link.last_error = "sense: %r" % (e,)
        self._check_cut()

    def _unplugged(self, ev):
        for name, gone in self.unplugged.items():
            if gone:
                field, sensor = SENSORS[name]
                if field in ev and (sensor is None or ev[field].get("sensor") == sensor):
                    return True
        return False

    def go(self, lines):
        faults = self.faults
        fi = 0
        self.t = VT.ms = None
        for line in lines:
            ev = json.loads(line)
            if self.t is None:
                self.t = ev["t"]
                VT.ms = self.t * 1000
                self.boot()
            while fi < len(faults) and faults[fi]["t"] <= ev["t"]:
                self.advance(faults[fi]["t"])
                self.fault(faults[fi])
                self._check_cut()
                fi += 1
            self.advance(ev["t"], ev.get("ms", 0))
            self.sense(ev)
        self.finish()

    def finish(self):
        """Power, Wi-Fi and broker back; the node runs on (no news) until its log is delivered."""
        self.unplugged = {}
        if not self.wifi:
            self.fault({"do": "wifi", "up": True})
        t_end = self.t
        deadline = self.t + 3 * 86400
        while self.t < deadline and not self.offline:
            self.advance(self.t + 60)
            sh = self.shell
            if sh is not None and sh.log.pending == 0 and sh.link.uplink.idle and sh.link.connected:
                break
        sh = self.shell
        if sh is not None:
            self.counts["connects"] += sh.link.connects
        log = sh.log if sh else None
        res = dict(self.counts, pending=log.pending if log else -1, dropped=log.dropped if log else -1,
                   next_seq=log.next_seq if log else -1, drained_s=self.t - t_end,
                   unlogged=sh.node.unlogged if sh else -1, erases=self.logdev.total_erases())
        out("R " + json.dumps(res))


def main(path):
    with open(path) as f:
        soak = Soak(json.loads(f.readline()))
        soak.go(f)


if __name__ == "__main__":
    main(sys.argv[1])
