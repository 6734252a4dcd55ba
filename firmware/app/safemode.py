# Safe mode (app/guard.py counts the resets that lead here): the node stays at
# the REPL, free for a deploy or a config fix, and says why once to the platform.
# A module of its own: a healthy node never imports it.
import time

from app import guard


def enter(resets, cause, config_path="config.json", board_path="board.json"):
    """Stay at the REPL; say why on the console and, once, to the platform."""
    err = guard.last_error()
    print("safe mode: %d resets in a row soon after boot (last: %s%s); the node waits at the "
          "REPL. Deploy a fix (smartnode deploy) or correct the config (smartnode provision): "
          "either ends safe mode at the next reset." % (resets, cause, ", " + err if err else ""))
    try:
        _announce(resets, cause, err, config_path, board_path)
    except Exception as e:  # the broker, or the very code that crashed: the REPL stays
        print("safe mode: not reported to the broker:", repr(e))


def _announce(resets, cause, err, config_path, board_path):
    import json

    import app
    from app import config, fiware
    from app.board import Board
    from app.link import new_session

    cfg = config.load(config_path)
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
    print("safe mode: reported to the broker")
