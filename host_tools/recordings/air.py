"""Air-quality recordings: raw UART captures (SDS011, Plantower) as binary or
xxd text dumps, and sensor.community archive CSVs (one sensor per file)."""
import csv
import datetime as dt
import io
import re

from . import Part, fmt

XXD_LINE = re.compile(rb"^[0-9a-fA-F]{8}: ((?:[0-9a-fA-F]{2} ?)+)")


def _xxd_bytes(text):
    """Bytes of an xxd-style dump ('00000000: 42 4d ..  ascii'), or None if it is not one."""
    out = bytearray()
    lines = text.splitlines()
    for line in lines:
        m = XXD_LINE.match(line)
        if not m:
            if line.strip():
                return None
            continue
        out += bytes.fromhex(m.group(1).decode().replace(" ", ""))
    return bytes(out) if out else None


def _capture_bytes(path, head=None):
    data = path.read_bytes() if head is None else head
    if data[8:10] == b": " and XXD_LINE.match(data):
        # A dump cut at 4 KiB may end mid-line: judge whole lines only.
        text = data if head is None else data[:data.rfind(b"\n") + 1]
        return _xxd_bytes(text) or b""
    return data


def _frames(data, size, period, start, uart="pm"):
    return [{"t": start + i * period, "uart": uart, "hex": data[o:o + size].hex()}
            for i, o in enumerate(range(0, len(data), size))]


def _is_pms5003t(path, head):
    return "5003t" in path.name.lower() and _is_pms(path, head)


def _is_pms(path, head):
    b = _capture_bytes(path, head)
    return b"BM\x00\x1c" in b or b"BM\x00\x14" in b


def _is_sds011(path, head):
    """At least one whole, checksum-valid data frame: two bytes AA C0 alone turn up
    by chance in any binary file (a gzip of loop-detector data, say)."""
    b = _capture_bytes(path, head)
    i = b.find(b"\xaa\xc0")
    while 0 <= i <= len(b) - 10:
        f = b[i:i + 10]
        if f[9] == 0xAB and sum(f[2:8]) & 0xFF == f[8]:
            return True
        i = b.find(b"\xaa\xc0", i + 1)
    return False


@fmt("pms5003t-uart", _is_pms5003t)
def pms5003t_uart(path, opts):
    """A PMS5003T capture: Plantower frames with temperature and humidity (name says 5003T)."""
    return _pms(path, opts, climate=True)


@fmt("pms-uart", _is_pms)
def pms_uart(path, opts):
    """PMS5003/7003/A003/3003 UART bytes, 32 bytes per second from --start."""
    return _pms(path, opts, climate=False)


def _pms(path, opts, climate):
    data = _capture_bytes(path)
    spec = {"uart": "pm"}
    if climate:
        spec["climate"] = True
    return Part(config={"air": {"sensors": {"pms5003": spec}}}, board={"uarts": {"pm": {}}},
                events=_frames(data, 32, 1.0, opts.start))


def _is_sps30(path, head):
    return b"\x7e\x00\x03\x00\x28" in _capture_bytes(path, head)


@fmt("sps30-uart", _is_sps30)
def sps30_uart(path, opts):
    """SPS30 SHDLC replies (7E .. 7E), one frame per second from --start."""
    data = _capture_bytes(path)
    frames = re.findall(rb"\x7e[^\x7e]+\x7e", data)
    events = [{"t": opts.start + i, "uart": "pm", "hex": f.hex()} for i, f in enumerate(frames)]
    return Part(config={"air": {"sensors": {"sps30": {"uart": "pm"}}}}, board={"uarts": {"pm": {}}},
                events=events)


@fmt("sds011-uart", _is_sds011)
def sds011_uart(path, opts):
    """Raw SDS011 UART bytes; one 10-byte frame per second from --start."""
    return Part(config={"air": {"sensors": {"sds011": {"uart": "pm"}}}},
                board={"uarts": {"pm": {}}}, events=_frames(_capture_bytes(path), 10, 1.0, opts.start))


# sensor.community archive CSV (archive.luftdaten.info): semicolon-separated,
# header `sensor_id;sensor_type;location;lat;lon;timestamp;...`, UTC timestamps.
# column -> recorded field of the replay event (app.air_sources.RECORDED)
COMMUNITY_COLUMNS = {
    "SDS011": {"P1": "pm10", "P2": "pm25"},
    "PMS5003": {"P0": "pm1", "P1": "pm10", "P2": "pm25"},
    "PMS7003": {"P0": "pm1", "P1": "pm10", "P2": "pm25"},
    "BME280": {"temperature": "temperature", "humidity": "humidity", "pressure": "pressure"},
    "DHT22": {"temperature": "temperature", "humidity": "humidity"},
}
SENSOR_OF = {"SDS011": "sds011", "PMS5003": "pms5003", "PMS7003": "pms5003",
             "BME280": "bme280", "DHT22": "dht22"}


def _is_community_csv(path, head):
    return head.startswith(b"sensor_id;sensor_type;")


def _utc(text):
    t = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.timestamp()


@fmt("sensor-community-csv", _is_community_csv)
def community_csv(path, opts):
    """One sensor's archive CSV: every row a sample at its recorded time."""
    rows = csv.DictReader(io.StringIO(path.read_text()), delimiter=";")
    events = []
    kind = None
    for row in rows:
        kind = kind or row["sensor_type"]
        if row["sensor_type"] != kind:
            raise ValueError("%s: mixes sensor types %s and %s" % (path, kind, row["sensor_type"]))
        cols = COMMUNITY_COLUMNS.get(kind)
        if cols is None:
            raise ValueError("%s: sensor type %s is not supported (%s)"
                             % (path, kind, ", ".join(sorted(COMMUNITY_COLUMNS))))
        sample = {"sensor": SENSOR_OF[kind]}
        for col, name in cols.items():
            v = (row.get(col) or "").strip()
            if v:
                sample[name] = float(v)
        events.append({"t": _utc(row["timestamp"]), "air": sample})
    if kind is None:
        raise ValueError("%s: no rows" % path)
    return Part(config={"air": {"sensors": {SENSOR_OF[kind]: {}}}}, events=events)
