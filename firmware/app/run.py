# The imperative shell on a real (or real-time simulated) board: an asyncio
# loop that samples on its own cadence and talks to the broker in a separate
# task, so sensing never waits for the network (the link's steps never wait
# for a socket: app.link says what little still can block).
import json
import time

import asyncio

from app import config, fiware, guard, rec_health, record
from app.baselines import BaselineStore
from app.board import Board, watchdog
from app.commands import Commands, ConfigStore
from app.flashlog import open_log
from app.health import Health
from app.link import Link
from app.narrator import Narrator
from app.node import Node
from app.timesync import TimeSync
from app.uplink import NODE_BATCH, Uplink
from app.console import say

# The running node's parts, for `host_tools inspect` after it interrupts the loop.
STATE = {}


class Shell:
    """What lives for the whole run; the node is rebuilt when its config changes."""

    def __init__(self, cfg, board, log, store):
        self.cfg = cfg
        self.board = board
        self.log = log
        self.baselines = BaselineStore(board.baseline_file())
        record.use_book(beside(board.baseline_file(), "keys.json"))
        self.narrator = Narrator()  # the console lines a technician follows
        self.node = self.new_node()
        self.sensing = self.radio = True  # off while a power profile (app.power) says so
        self.clock = TimeSync(synced=board.clock_set(), boot_seq=log.next_seq)
        self.uplink = Uplink(cfg, log, clock=self.clock, window=cfg["broker"].get("window", 8),
                             max_batch=NODE_BATCH[0], max_bytes=NODE_BATCH[1])
        self.commands = Commands(cfg, self, store, apply=self.reconfigure)
        self.link = Link(cfg, board, self.uplink, self.commands, self.clock, store,
                         on_reconfigure=self.reconfigure)
        self.link.on_update = self.start_update
        self.last_update = None  # how the last update over the air ended (health: lastUpdate)
        self.trial = start_trial(self)
        h = cfg.get("health") or {}
        self.health = Health(h.get("interval", 300), board, log, board.now())
        self.health_key = fiware.key(cfg, "device", cfg["device_id"])
        self._unsynced = not self.clock.synced
        self.link.last_error = guard.last_error()  # why the boot before this one ended
        w = cfg.get("watchdog") or {}
        self.wd_timeout_ms = w.get("timeout", 60) * 1000
        self.liveness = guard.Liveness(time.ticks_ms(), self.wd_timeout_ms, 2 * self.wd_timeout_ms)

    def command(self, name, params):
        return self.node.command(name, params)

    def start_update(self, kind, params):
        from app import ota  # only while an update runs

        ota.start(self, kind, params)

    def new_node(self, cfg=None):
        return Node(cfg or self.cfg, self.board, self.log, baselines=self.baselines,
                    on_reading=self.narrator.reading)

    def reconfigure(self, cfg, changed=None):
        if changed is not None and list(changed) == ["interval"] and all(
                hasattr(p, "interval") for p in self.node.pipelines):
            for p in self.node.pipelines:
                p.interval = cfg["interval"]  # from the next interval on
        else:
            self.node.close(self.board.now())  # the interval in progress is reported, not lost
            self.node = self.new_node(cfg)
        self.health_key = fiware.key(cfg, "device", cfg["device_id"])
        h = cfg.get("health") or {}
        self.health.interval = h.get("interval", 300)
        self.uplink.window = cfg["broker"].get("window", 8)

    def sense(self, t, ms):
        if self._unsynced and self.clock.synced:
            # The clock jumped (NTP): intervals begun on the old clock end here; their
            # readings carry old stamps, which the uplink corrects.
            self._unsynced = False
            self.health.started += self.clock.offset
            self.reconfigure(self.cfg)
        self.node.poll(t, ms)
        link = self.link
        state = (link.connected, self.clock.state, link.last_error, self.last_update)
        if self.health.due(t, state):
            self.node.emit(rec_health, self.health_key, self.health.reading(t, *state))


async def sense(shell, period_ms=None):
    """Poll the node every period_ms (default: what its pipelines need)."""
    board = shell.board
    while True:
        try:
            if shell.sensing:
                shell.sense(board.now(), time.ticks_ms())
        except Exception as e:  # a sensor fault must not stop delivery of what is logged
            shell.link.last_error = "sense: %r" % (e,)
            say("sense:", repr(e))
        shell.liveness.sense_tick(time.ticks_ms())
        await asyncio.sleep_ms(period_ms or shell.node.poll_ms)


async def show(screen):
    """Redraw the status display every period until it is switched off (a panel fault)."""
    while screen.on:
        screen.step()
        await asyncio.sleep_ms(screen.period_ms)


async def network(shell, boot_ms):
    link = shell.link
    first = True
    while True:
        if not shell.radio:  # a power profile has the radio off
            shell.liveness.net_tick(time.ticks_ms())
            await asyncio.sleep_ms(100)
            continue
        try:
            ms = link.step()
        except Exception as e:  # a bug in delivery must not end the node's sensing
            link.last_error = "link: %r" % (e,)
            say("link:", repr(e))
            ms = 1000
        shell.liveness.net_tick(time.ticks_ms())
        if shell.trial is not None and not shell.trial.step(shell, time.ticks_ms()):
            shell.trial = None  # confirmed
        if first and shell.uplink.acked:
            first = False
            say("uplink: first ack %d ms after boot" % time.ticks_diff(time.ticks_ms(), boot_ms))
        shell.narrator.step(link.connected, link.last_error, shell.log.pending)
        await asyncio.sleep_ms(ms)


async def watch(shell, wdt, stable_s):
    """Feed the watchdog while the node is alive (a blocked loop never gets here);
    after stable_s of it, the resets before this boot were not a crash loop."""
    up = time.ticks_ms()
    said = None
    while True:
        now = time.ticks_ms()
        why = shell.liveness.problem(now)
        if why is None:
            wdt.feed()
            if up is not None and time.ticks_diff(now, up) >= stable_s * 1000:
                up = None
                guard.stable()
        elif why != said:
            say("watchdog: not fed:", why)
        said = why
        await asyncio.sleep_ms(min(1000, shell.wd_timeout_ms // 4))


def start_screen(shell):
    """The status display, or None; its modules (~6 KB of bytecode) are imported
    only on a board that has a panel."""
    if not (shell.board.profile.get("onboard") or {}).get("oled"):
        return None
    from app.screen import open_screen

    return open_screen(shell)


def start_trial(shell):
    """A version updated over the air on trial (app.otatrial), or None; that module
    is imported only when an update left its marks."""
    import os

    for p in ("/trial", "/ota.json"):
        try:
            os.stat(p)
        except OSError:
            continue
        from app import otatrial

        trial = otatrial.start(shell)
        if trial is None:  # nothing on trial: the module is not kept
            import sys

            import app

            sys.modules.pop("app.otatrial", None)
            if "otatrial" in app.__dict__:
                del app.otatrial
        return trial
    return None


def beside(path, name):
    """name in the directory of path."""
    i = path.rfind("/")
    return path[:i + 1] + name


def load_config(path, store):
    """A config on trial that fails is rolled back; a bad one otherwise gives way to the
    last good one; ConfigError if there is none."""
    try:
        cfg = config.load(path)
    except config.ConfigError as e:
        if not store.in_trial():
            return config.fallback(path, e)
        say("config:", e, "- back to the last known good config")
        store.rollback()
        return config.load(path)
    if not store.in_trial():
        try:
            config.remember(path)
        except OSError:  # no file (the defaults) or a full filesystem: nothing to keep
            pass
    return cfg


def load_board(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise config.ConfigError("%s: missing or not valid JSON (%s): the node stays at the REPL; %s"
                                 % (path, e, config.PROVISION))


def main(config_path="config.json", board_path="board.json", cause=None):
    boot_ms = time.ticks_ms()
    store = ConfigStore(config_path)
    try:
        cfg = load_config(config_path, store)
        profile = load_board(board_path)
    except config.ConfigError as e:  # no traceback: say what to do, keep the REPL for the fix
        say("config:", e)
        return
    w = cfg.get("watchdog") or {}
    wdt = watchdog(w.get("timeout", 60) * 1000)  # armed before anything that could hang
    guard.armed = True
    board = Board(profile)
    board.cause = cause
    shell = Shell(cfg, board, open_log(board, cfg.get("log") or {}), store)
    screen = start_screen(shell)
    ctl = None
    if (cfg.get("power") or {}).get("profile", "mains") != "mains":
        from app import power
        ctl = power.controller(shell, cfg["power"], time.ticks_ms())
    STATE.update(cfg=cfg, shell=shell, log=shell.log, uplink=shell.uplink, display=screen)
    say("node", cfg["device_id"], "up, interval", cfg["interval"], "s")

    async def both():
        asyncio.create_task(sense(shell))
        asyncio.create_task(watch(shell, wdt, w.get("stable", 300)))
        if screen is not None:
            asyncio.create_task(show(screen))
        if ctl is not None:
            asyncio.create_task(power.supervise(shell, ctl))
        await network(shell, boot_ms)

    asyncio.run(both())
