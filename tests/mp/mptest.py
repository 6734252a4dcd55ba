# Small helpers for tests that run under MicroPython (no pytest there).


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
