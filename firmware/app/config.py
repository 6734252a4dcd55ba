# The node's configuration: /config.json over built-in defaults, and the last
# config that loaded cleanly (<path>.last), to run on when the file goes bad.
import json

from app import schema
from app.console import say

DEFAULTS = {
    "device_id": "node-1",
    "apikey": "smartnode",
    "interval": 300,
    "board": "unix-sim",
    "broker": {"host": "127.0.0.1", "port": 1883},
}
PROVISION = "provision the node again (smartnode provision INVENTORY --device ID --port PORT)"


class ConfigError(ValueError):
    pass


def _read(path):
    """Defaults overlaid with the file; OSError if there is none; ConfigError naming every bad field."""
    with open(path) as f:
        text = f.read()
    try:
        cfg = json.loads(text)
    except ValueError as e:
        raise ConfigError("%s: not valid JSON (%s)" % (path, e))
    if not _closed(text):  # MicroPython's json takes an object cut short for a whole one
        raise ConfigError("%s: not valid JSON (cut short: an object or list is not closed)" % path)
    if not isinstance(cfg, dict):
        raise ConfigError("%s: not a JSON object" % path)
    cfg = schema.merged(DEFAULTS, cfg)
    errors = schema.validate(cfg)
    if errors:
        raise ConfigError("%s: %s" % (path, "; ".join("%s: %s" % fe for fe in errors)))
    return cfg


def _closed(text):
    """Does every object and list in the JSON text end?"""
    depth = 0
    in_str = esc = False
    for c in text:
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c == "{" or c == "[":
            depth += 1
        elif c == "}" or c == "]":
            depth -= 1
    return depth == 0 and not in_str


def load(path="config.json"):
    """The file over the defaults (just the defaults if there is no file); ConfigError if it is bad."""
    try:
        return _read(path)
    except OSError:
        return dict(DEFAULTS)


def remember(path="config.json"):
    """Keep the file that just loaded as the last good config; written only when it
    changed (flash wear), through a temporary file and a rename (power cuts)."""
    import os

    last = path + ".last"
    with open(path, "rb") as f:
        now = f.read()
    try:
        with open(last, "rb") as f:
            if f.read() == now:
                return
    except OSError:
        pass
    with open(last + ".tmp", "wb") as f:
        f.write(now)
    os.rename(last + ".tmp", last)


def fallback(path, err):
    """The last good config when `path` is bad (ConfigError err); ConfigError saying what
    to do when there is none. Prints what happened: the console is what a technician sees."""
    last = path + ".last"
    try:
        cfg = _read(last)
    except (OSError, ConfigError):
        raise ConfigError("%s; no last good config (%s) to run on either: the node stays at the "
                          "REPL; %s" % (err, last, PROVISION))
    say("config: %s - running on the last good config (%s); %s" % (err, last, PROVISION))
    return cfg
