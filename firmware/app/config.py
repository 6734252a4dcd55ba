# The node's configuration: /config.json over built-in defaults.
import json

from app import schema

DEFAULTS = {
    "device_id": "node-1",
    "apikey": "smartnode",
    "interval": 300,
    "board": "unix-sim",
    "broker": {"host": "127.0.0.1", "port": 1883},
}


IDENTITY = ("device_id", "apikey")


class ConfigError(ValueError):
    pass


def load(path="config.json"):
    """Defaults overlaid with the file; ConfigError naming every bad field."""
    try:
        with open(path) as f:
            cfg = schema.merged(DEFAULTS, json.load(f))
    except OSError:
        return dict(DEFAULTS)
    except ValueError as e:
        raise ConfigError("%s: not valid JSON (%s)" % (path, e))
    errors = schema.validate(cfg)
    if errors:
        # A field out of what this firmware accepts (written by an older one, or by
        # hand) falls back to its default; the node still boots unless a required
        # field is bad.
        for field, _ in errors:
            if field.split(".")[0] in IDENTITY:  # never replaced by a default
                raise ConfigError("; ".join("%s: %s" % fe for fe in errors))
            _drop(cfg, field)
        cfg = schema.merged(DEFAULTS, cfg)
        if schema.validate(cfg):
            raise ConfigError("; ".join("%s: %s" % fe for fe in errors))
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

