"""Recorded sensor data -> the replay event stream the firmware's virtual-time shell reads.

Each reader turns one recording into (config, board, events): the node
configuration and board profile it implies, and time-ordered JSON events.
Formats are recognised from content and name; `--format` forces one.
"""
import json
from pathlib import Path

FORMATS = {}


def reader(name):
    def register(fn):
        FORMATS[name] = fn
        return fn
    return register


def detect(path):
    """Name of the format of the recording at path."""
    head = Path(path).read_bytes()[:4096]
    if b"\xaa\xc0" in head and head.count(b"\xab") >= 1:
        return "sds011-uart"
    raise ValueError("%s: unknown recording format (use --format: %s)"
                     % (path, ", ".join(sorted(FORMATS))))


@reader("sds011-uart")
def sds011_uart(path, start, period=1.0, frame=10):
    """Raw SDS011 UART bytes; one 10-byte frame per `period` seconds from `start`."""
    data = Path(path).read_bytes()
    events = [{"t": start + i * period, "uart": "pm", "hex": data[o:o + frame].hex()}
              for i, o in enumerate(range(0, len(data), frame))]
    sensors = {"sds011": {"uart": "pm"}}
    board = {"name": "unix-sim", "uarts": {"pm": {}}}
    return sensors, board, events


def write_stream(fileobj, config, board, events):
    fileobj.write(json.dumps({"config": config, "board": board}) + "\n")
    for ev in events:
        fileobj.write(json.dumps(ev, separators=(",", ":")) + "\n")
