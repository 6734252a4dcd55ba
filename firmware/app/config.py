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
        raise ConfigError("; ".join("%s: %s" % fe for fe in errors))
    return cfg

