"""Recorded sensor data -> the event stream the firmware's virtual-time shell reads.

A format is a reader registered with `@fmt(name, sniff)`: `sniff(path, head)`
says from the file's name and first bytes whether it is that format, and
`read(path, opts)` returns a Part: the node configuration sections and board
profile the recording implies, and its time-ordered events. Several files of
one node replay together: their parts are merged and the events interleaved
by time. Domain modules (air, parking, traffic) register their own formats.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path

FORMATS = {}  # name -> (sniff, read)


@dataclass
class Part:
    config: dict = field(default_factory=dict)  # e.g. {"air": {"sensors": {...}}}
    board: dict = field(default_factory=dict)  # e.g. {"uarts": {"pm": {}}}
    events: list = field(default_factory=list)  # [{"t": unix s, ...}], time-ordered


def fmt(name, sniff):
    def register(read):
        FORMATS[name] = (sniff, read)
        return read
    return register


def detect(path):
    """Name of the format of the recording at path, from its name and content."""
    head = Path(path).read_bytes()[:4096]
    for name, (sniff, _) in FORMATS.items():
        if sniff(Path(path), head):
            return name
    raise ValueError("%s: unknown recording format (force one with --format: %s)"
                     % (path, ", ".join(sorted(FORMATS))))


def _merge(a, b):
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(a.get(k), dict):
            _merge(a[k], v)
        else:
            a[k] = v
    return a


def read(paths, opts, forced=None):
    """Read and merge recordings into one Part; opts carries start, as_ and the like."""
    whole = Part(board={"name": "unix-sim", "uarts": {}})
    for p in paths:
        name = forced or detect(p)
        part = FORMATS[name][1](Path(p), opts)
        _merge(whole.config, part.config)
        _merge(whole.board, part.board)
        whole.events.extend(part.events)
    whole.events.sort(key=lambda ev: ev["t"])  # stable: same-time events keep file order
    return whole


def split_time(t):
    """Unix seconds (int or float) -> (whole seconds, milliseconds 0..999): the node's
    time pair.  On the ESP32 a float holds a Unix time only to 128 s."""
    ms = round(t * 1000)
    return ms // 1000, ms % 1000


def write_stream(fileobj, config, board, events):
    """The stream the firmware's replay shell reads: times as whole seconds "t" plus
    milliseconds "ms" (left out when 0), never a float."""
    fileobj.write(json.dumps({"config": config, "board": board}) + "\n")
    for ev in events:
        s, ms = split_time(ev["t"])
        ev = dict(ev, t=s)
        if ms:
            ev["ms"] = ms
        fileobj.write(json.dumps(ev, separators=(",", ":")) + "\n")


from . import air  # noqa: E402,F401  (registers its formats)
from . import parking, traffic  # noqa: E402,F401
from . import node  # noqa: E402,F401  (recordings made by `record`)
