# The node's configuration: /config.json over built-in defaults, and the last
# config that loaded cleanly (<path>.last), to run on when the file goes bad.
import json

DEFAULTS = {
    "device_id": "node-1",
    "apikey": "smartnode",
    "interval": 300,
    "board": "unix-sim",
    "broker": {"host": "127.0.0.1", "port": 1883},
}
PROVISION = "provision the node again (smartnode provision INVENTORY --device ID --port PORT)"
IDENTITY = ("device_id", "apikey")


class ConfigError(ValueError):
    pass


def load_schema():
    """The schema module, imported on demand: the node validates its config at boot
    and on a remote `config` update, and gives the module back in between (~12 KB
    on a 32-bit board, more than any one pipeline)."""
    from app import schema

    return schema


def release_schema():
    """Drop the schema module until it is needed again (see load_schema())."""
    import sys

    import app

    sys.modules.pop("app.schema", None)
    if "schema" in app.__dict__:
        del app.schema


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
    schema = load_schema()
    try:
        return _valid(path, schema, cfg)
    finally:
        release_schema()


def _valid(path, schema, cfg):
    cfg = schema.merged(DEFAULTS, cfg)
    errors = schema.validate(cfg)
    if errors:
        # A field out of what this firmware accepts (written by an older one, or by
        # hand) falls back to its default; the node still boots unless a required
        # field is bad.
        for field, _ in errors:
            if field.split(".")[0] in IDENTITY:  # never replaced by a default
                raise ConfigError("%s: %s" % (path, "; ".join("%s: %s" % fe for fe in errors)))
            _drop(cfg, field)
        cfg = schema.merged(DEFAULTS, cfg)
        if schema.validate(cfg):
            raise ConfigError("%s: %s" % (path, "; ".join("%s: %s" % fe for fe in errors)))
        for fe in errors:
            print("config: %s: %s - ignored, the default applies" % fe)
    return cfg


def _drop(cfg, field):
    """Remove the dotted field ('traffic.lanes[1].spacing_m') from cfg, if there."""
    node, parts = cfg, field.split(".")
    for i, part in enumerate(parts):
        k = part.find("[")
        name, index = (part, None) if k < 0 else (part[:k], int(part[k + 1:-1]))
        last = i == len(parts) - 1 and index is None
        if not isinstance(node, dict) or name not in node:
            return
        if last:
            del node[name]
            return
        node = node[name]
        if index is not None:
            if not isinstance(node, list) or index >= len(node):
                return
            if i == len(parts) - 1:
                node.pop(index)
                return
            node = node[index]



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
    print("config: %s - running on the last good config (%s); %s" % (err, last, PROVISION))
    return cfg
