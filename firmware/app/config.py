# The node's configuration: /config.json over built-in defaults.
import json

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


def load(path="config.json"):
    try:
        with open(path) as f:
            return merge(DEFAULTS, json.load(f))
    except OSError:
        return dict(DEFAULTS)
