"""Magnetometer vehicle-pass recordings (parking spot or traffic lane).

MAG3110 hex streams (two MAG3110 side by side, 200 Hz): 14-byte records as
ASCII hex, X1 Y1 Z1 X2 Y2 Z2 big-endian int16 plus 2 trailer bytes, separated
by the sync word `7FFF` or by `-`.  Each record becomes a magnetometer sample
event {"t", "mag": [x1, y1, z1, x2, y2, z2]} at 200 Hz from --start; `--as
parking` feeds spot 1, `--as traffic` lane 1.  The baseline is taken over the
first --calibrate seconds (the recording starts with the bay/lane empty).
"""
import re
import struct

from . import Part, fmt

RATE_HZ = 200
RECORD = re.compile(rb"^[0-9A-Fa-f]{28}$")
HEX_TEXT = re.compile(rb"^[0-9A-Fa-f\-\s]+$")


def _is_mag3110_hex(path, head):
    head = head.strip()
    return (len(head) >= 64 and HEX_TEXT.match(head) is not None
            and (head.upper().startswith(b"7FFF") or b"-" in head))


def records(text):
    """Hex text -> list of (x1, y1, z1, x2, y2, z2); malformed records are skipped."""
    text = b"".join(text.split())
    parts = text.split(b"-") if b"-" in text else text.upper().split(b"7FFF")
    out = []
    for r in parts:
        if RECORD.match(r):
            out.append(struct.unpack(">6h", bytes.fromhex(r.decode())[:12]))
    return out


def mag_config(role, calibrate):
    if role == "parking":
        return {"parking": {"autocalibrate": calibrate, "spots": [{"spot": 1, "axes": 6}]}}
    if role == "traffic":
        return {"traffic": {"autocalibrate": calibrate,
                            "lanes": [{"lane": 1, "magnetometer": True, "axes": 6}]}}
    raise ValueError("a magnetometer recording feeds a parking spot or a traffic lane: "
                     "say --as parking or --as traffic")


@fmt("mag3110-hex", _is_mag3110_hex)
def mag3110_hex(path, opts):
    config = mag_config(getattr(opts, "as_", None), getattr(opts, "calibrate", 1.0))
    recs = records(path.read_bytes())
    if not recs:
        raise ValueError("%s: no MAG3110 records" % path)
    events = [{"t": opts.start + i / RATE_HZ, "mag": list(r)} for i, r in enumerate(recs)]
    return Part(config=config, events=events)
