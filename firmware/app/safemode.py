# Safe mode (app/guard.py counts the resets that lead here): the node stays at
# the REPL, free for a deploy or a config fix, and says why once to the platform.
# A module of its own: a healthy node never imports it.
import time

from app import guard
from app.console import say


def enter(resets, cause, config_path="config.json", board_path="board.json"):
    """Stay at the REPL; say why on the console and, once, to the platform."""
    err = guard.last_error()
    say("safe mode: %d resets in a row soon after boot (last: %s%s); the node waits at the "
        "REPL. Deploy a fix (smartnode deploy) or correct the config (smartnode provision): "
        "either ends safe mode at the next reset." % (resets, cause, ", " + err if err else ""))
    try:
        _announce(resets, cause, err, config_path, board_path)
    except Exception as e:  # the broker, or the very code that crashed: the REPL stays
        say("safe mode: not reported to the broker:", repr(e))


def _announce(resets, cause, err, config_path, board_path):
    import json

    import app
    from app import config, fiware
    from app.board import Board
    from app.link import new_session

    try:
        cfg = config.load(config_path)
    except config.ConfigError as e:  # as the node itself would run: on the last good one
        cfg = config.fallback(config_path, e)
    with open(board_path) as f:
        board = Board(json.load(f))
    deadline = time.ticks_add(time.ticks_ms(), 30000)
    while not board.network_up(cfg):
        if time.ticks_diff(deadline, time.ticks_ms()) < 0:
            raise OSError("no network in 30 s")
        time.sleep_ms(500)
    s = new_session(cfg)
    s.connect()
    s.publish(fiware.attrs_topic(fiware.key(cfg, "device", cfg["device_id"])), json.dumps(
        {"safeMode": True, "resets": resets, "resetCause": cause, "lastError": err or "",
         "firmwareVersion": app.VERSION}), qos=1)
    s.poll(1000)  # the PUBACK
    s.disconnect()
    say("safe mode: reported to the broker")
