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


def merge(base, over):
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


class ConfigError(ValueError):
    pass


def load(path="config.json"):
    """Defaults overlaid with the file; ConfigError naming every bad field."""
    try:
        with open(path) as f:
            cfg = merge(DEFAULTS, json.load(f))
    except OSError:
        return dict(DEFAULTS)
    except ValueError as e:
        raise ConfigError("%s: not valid JSON (%s)" % (path, e))
    errors = schema.validate(cfg)
    if errors:
        raise ConfigError("; ".join("%s: %s" % fe for fe in errors))
    return cfg


def save_update(cfg, changes, path="config.json"):
    """A remote `config` command: -> (config now in force, [(field, message)]).

    The update is merged over cfg and checked against the schema; only a valid
    result is written (to a temporary file, then renamed over the old one, so
    a power cut leaves either config whole) and returned."""
    import os
    new, errors = schema.update(cfg, changes)
    if errors:
        return cfg, errors
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(new, f)
    os.rename(tmp, path)
    return new, []
