"""The fleet's files as people write them: a spreadsheet's CSV export, JSON by hand.

Text is UTF-8 with or without a BOM (Excel writes one), or UTF-16 (Excel's
"Unicode text"); anything else is refused with the line of the first byte
that is not UTF-8 and how to save the file. A CSV file's separator is found in
its header line (comma, semicolon as Excel writes where the decimal mark is a
comma, tab; an Excel `sep=;` first line is honoured). A JSON file must be one
object of objects; each key's line is kept for messages.
"""
import csv
import io
import json
import re
from pathlib import Path

SEPARATORS = (",", ";", "\t")


class FleetFileError(ValueError):
    pass


def text(path):
    data = Path(path).read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text"
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise FleetFileError("%s line %d: not UTF-8 text (byte 0x%02x): save it as UTF-8: Excel \"CSV UTF-8\", "
                             "LibreOffice \"Edit filter settings\" > Character set \"Unicode (UTF-8)\""
                             % (Path(path).name, line, data[e.start]))


def read_rows(path, key, example):
    """-> (header, [(line, [cells])]): the first line names the columns, one of them `key`;
    blank rows and rows whose first cell begins with '#' are left out."""
    name = Path(path).name
    lines = text(path).splitlines(True)
    start = 0
    delimiter = None
    if lines and lines[0].lower().startswith("sep=") and len(lines[0].rstrip("\r\n")) == 5:
        delimiter, start = lines[0][4], 1  # Excel's own hint line
    head = lines[start] if start < len(lines) else ""
    for d in ([delimiter] if delimiter else SEPARATORS):
        if key in [c.strip() for c in next(csv.reader([head], delimiter=d), [])]:
            delimiter = d
            break
    else:
        raise FleetFileError("%s line %d: no %s column: the first line must name the columns, separated by "
                             "commas or semicolons, e.g. %s (it holds: %s)"
                             % (name, start + 1, key, example, head.strip()[:80] or "nothing"))
    reader = csv.reader(io.StringIO("".join(lines[start:])), delimiter=delimiter)
    header = [c.strip() for c in next(reader)]
    rows = []
    for cells in reader:
        cells = [c.strip() for c in cells]
        if any(cells) and not cells[0].startswith("#"):
            rows.append((reader.line_num + start, cells))
    return header, rows


class JsonObject(dict):
    """A JSON file's object of sections, with the file's name and each section's line."""

    def __init__(self, name, kind, obj=(), lines=None):
        dict.__init__(self, obj)
        self.name = name
        self.kind = kind  # what a section is called in messages: "type", "section"
        self.lines = lines or {}

    def where(self, key):
        line = self.lines.get(key)
        return "%s%s, %s %r" % (self.name, " line %d" % line if line else "", self.kind, key)


def read_json(path, what, kind, example):
    """A JSON object of objects from a file; FleetFileError naming the file, line and what it must hold."""
    name = Path(path).name
    try:
        source = text(path)
    except OSError as e:
        raise FleetFileError("%s file %s: %s" % (what, path, e.strerror or e))
    try:
        obj = json.loads(source)
    except ValueError as e:
        raise FleetFileError("%s line %s column %s: not valid JSON (%s)"
                             % (name, getattr(e, "lineno", "?"), getattr(e, "colno", "?"), getattr(e, "msg", e)))
    if not isinstance(obj, dict):
        raise FleetFileError("%s: the %s file must hold one JSON object, %s, not a %s"
                             % (name, what, example, {list: "list"}.get(type(obj), type(obj).__name__)))
    lines = {}
    for key, section in obj.items():
        m = re.search(r'%s\s*:' % re.escape(json.dumps(key)), source)
        lines[key] = source.count("\n", 0, m.start()) + 1 if m else None
        if not isinstance(section, dict):
            raise FleetFileError("%s line %s: %r must be an object {...}, not %s"
                                 % (name, lines[key], key, json.dumps(section)[:40]))
    return JsonObject(name, kind, obj, lines)
