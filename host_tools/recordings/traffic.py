"""Loop-detector recordings: Caltrans PeMS 30-second raw station text.

No header; each line: timestamp (MM/DD/YYYY HH:MM:SS, US Pacific local time),
station, then for lanes 1..8: vehicles in the 30 s, occupancy (fraction),
speed (mph); empty fields = no such lane.  Each line becomes an aggregate
event {"t", "node": station, "period": 30, "agg": [[vehicles, occupancy, km/h
or null] or null per lane]}.  Every station of the file replays as its own
node, whose device id is the station number (lane 1 of 500004 publishes as
`500004-l1`); --station picks one.  `.gz` files are read as they are.
"""
import datetime as dt
import gzip
import re
from zoneinfo import ZoneInfo

from . import Part, fmt

PERIOD = 30
KMH_PER_MPH = 1.609344
PACIFIC = ZoneInfo("America/Los_Angeles")
LINE = re.compile(rb"^\d\d/\d\d/\d{4} \d\d:\d\d:\d\d,\d+,")


def _text(path):
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _is_pems_raw(path, head):
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path) as f:
                head = f.read(256)
        except OSError:
            return False
    return LINE.match(head) is not None


def _num(s):
    return float(s) if s else None


def parse_line(line):
    """-> (unix seconds, station, [(vehicles, occupancy, mph or None) or None per lane])."""
    f = line.split(",")
    t = dt.datetime.strptime(f[0], "%m/%d/%Y %H:%M:%S").replace(tzinfo=PACIFIC).timestamp()
    lanes = []
    for i in range(2, len(f) - 2, 3):
        flow, occ, mph = f[i], f[i + 1], f[i + 2]
        if flow == "" and occ == "":
            lanes.append(None)
        else:
            lanes.append((int(flow or 0), _num(occ) or 0.0, _num(mph)))
    while lanes and lanes[-1] is None:
        lanes.pop()
    return t, f[1], lanes


@fmt("pems-30s-raw", _is_pems_raw)
def pems_raw(path, opts):
    only = getattr(opts, "station", None)
    events = []
    for n, line in enumerate(_text(path).decode("ascii").splitlines(), 1):
        if not line.strip():
            continue
        try:
            t, station, lanes = parse_line(line)
        except ValueError as e:
            raise ValueError("%s:%d: not a PeMS raw line (%s)" % (path, n, e))
        if only and station != only:
            continue
        agg = [None if a is None else
               [a[0], a[1], round(a[2] * KMH_PER_MPH, 3) if a[2] else None] for a in lanes]
        events.append({"t": t, "node": station, "period": PERIOD, "agg": agg})
    return Part(config={"traffic": {"lanes": []}}, events=events)
