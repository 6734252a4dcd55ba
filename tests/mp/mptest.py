# Small helpers for tests that run under MicroPython (no pytest there).


def scratch(name):
    """A path for `name` in this test's own temporary directory (TMPDIR: conftest.py
    gives each test process a fresh one), so suites run side by side never share a file."""
    import os

    return (os.getenv("TMPDIR") or "/tmp") + "/" + name


def raises(exc, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except exc as e:
        return e
    raise AssertionError("%s not raised" % exc.__name__)


def approx(a, b, tol=1e-6):
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def read_hexdump(path):
    """xxd-style lines 'offset: hh hh ..  ascii' -> list of bytes per line."""
    from binascii import unhexlify
    out = []
    with open(path) as f:
        for line in f:
            if ":" not in line:
                continue
            hexpart = line.split(":", 1)[1].strip().split("  ")[0]
            out.append(unhexlify(hexpart.replace(" ", "")))
    return out


def read_csv_numbers(path):
    """A comma-separated file with a header row -> list of rows of floats."""
    rows = []
    with open(path) as f:
        f.readline()
        for line in f:
            rows.append([float(x) for x in line.split(",")])
    return rows


def expanded(kind, key, fields, keyed=False):
    """A reading packed as the node logs it and expanded as the uplink publishes it:
    -> its JSON (keyed: (key, JSON))."""
    import json
    from app import record
    buf = bytearray(512)
    key, obj = record.split(record.expand(buf[:record.encode(buf, kind, key, fields)]))
    obj = json.loads(obj)
    return (key.decode(), obj) if keyed else obj


def readings(out, keyed=False):
    """A pipeline's emit for tests: each reading appended to out as expanded() gives it."""
    return lambda kind, key, fields: out.append(expanded(kind, key, fields, keyed))


FLOAT32 = float("1e39") == float("inf")  # the ESP32's single-precision float model


def _runs(text):
    """Text -> alternating runs of number characters and the rest."""
    out = []
    for ch in text:
        num = ch in "-0123456789."
        if out and out[-1][0] == num:
            out[-1][1].append(ch)
        else:
            out.append((num, [ch]))
    return [(num, "".join(chars)) for num, chars in out]


def same_text_to_last_digit(got, want):
    """Two texts equal but for decimals that differ by at most one unit of their last
    printed digit: a float32 and a double can round an exact decimal tie apart
    (1013.275 -> 1013.28 / 1013.27); everything else must match exactly."""
    a, b = _runs(got), _runs(want)
    if len(a) != len(b):
        return False
    for (num, x), (_, y) in zip(a, b):
        if x == y:
            continue
        if not num or "." not in x or "." not in y:
            return False
        if len(x) - x.find(".") != len(y) - y.find("."):
            return False  # not the same number of places
        if abs(int(x.replace(".", "")) - int(y.replace(".", ""))) > 1:
            return False
    return True
