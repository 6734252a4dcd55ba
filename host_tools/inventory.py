"""The fleet description `provision` and `fleet` read: node types, the inventory, secrets
(the files themselves: fleetfiles.py).

types (JSON, --types): {"<type>": {part of a node's config}}: the sensors, parking
    spots, traffic lanes and intervals of one kind of node, written once. Any key of
    the node's schema (firmware/app/schema.py) may appear, except device_id.
inventory (CSV, one row per node, as a spreadsheet exports it): the columns
    device_id, municipality, lat, lon  (required)
    type, board, broker (host[:port]), apikey (a key, or kind=key;kind=key), interval,
    sensors (air sensors, e.g. sds011;bme280)  (optional: else from the type)
    and any schema field as a dotted column, e.g. `air.duty.period`, `broker.keepalive`,
    `parking.spots[0].baseline` (an element of the type's list; [0] is the first).
    UTF-8 with or without a BOM, comma, semicolon or tab separated (Excel writes `;`
    where the decimal mark is a comma, as in Slovenia); decimal commas in numbers;
    blank rows and rows whose device_id begins with `#` are skipped.
secrets (JSON, --secrets): {"default" | "<municipality>" | "<device_id>": {"wifi":
    {"ssid", "password"}, "broker": {"user", "password", "ca", "cert", "key"}},
    "agent": {...}}: only secrets. Other fields still apply, with a warning.

A node's config is its type, then its row, then its secrets (default <
municipality < device id); sensors' buses come from the board profile (wiring.py).
Each error names the file, the line or section, and the field, and says what is
allowed (the schema's words).
"""
import copy
import json
import re
from pathlib import Path

from . import boards, paths, wiring
from . import fleetfiles as files

import sys
sys.path.insert(0, str(paths.FIRMWARE))
from app import schema  # noqa: E402  (the device's own schema module)

REQUIRED = ("device_id", "municipality", "lat", "lon")
OPTIONAL = ("type", "board", "broker", "apikey", "interval", "sensors")
SECRET_FIELDS = {"wifi": ("ssid", "password"), "broker": ("user", "password", "ca", "cert", "key")}
NOT_SECTIONS = ("agent",)  # secrets for the fleet's servers, not for a node
_LIST_SPLIT = re.compile(r"[;,\s]+")


InventoryError = files.FleetFileError


def read_secrets(path):
    if not path:
        return files.JsonObject("secrets", "section")
    return files.read_json(path, "secrets", "section",
                           '{"default": {"wifi": {...}, "broker": {...}}, "<municipality>": {...}}')


def read_types(path):
    if not path:
        return None
    types = files.read_json(path, "types", "type",
                            '{"<type name>": {"air": {...}, "parking": {...}, "traffic": {...}}}')
    for t, cfg in types.items():
        if "device_id" in cfg:
            raise InventoryError("%s: device_id: one per node: it belongs in the inventory" % types.where(t))
    return types


# -- cells -> values ------------------------------------------------------------------
def number(text):
    t = text.strip()
    if "," in t and "." not in t and t.count(",") == 1:
        t = t.replace(",", ".")  # a decimal comma (Slovenian and most European locales)
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return text  # the schema names it


BOOLS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False,
         "da": True, "ne": False, "res": True, "ni res": False}


def apikey(text):
    if "=" not in text:
        return text
    return dict(part.split("=", 1) for part in _LIST_SPLIT.split(text) if "=" in part)


def value(kind, text):
    """A cell's text as the schema kind wants it (what cannot be read stays text: the
    schema then says what is allowed)."""
    if kind in ("p", "n", "Y", "X"):
        return number(text)
    if kind in ("i", "N", "o", "T", "a"):
        v = number(text)
        if isinstance(v, str) and kind == "a":
            try:
                return int(text, 0)  # 0x76
            except ValueError:
                pass
        return v
    if kind == "K":
        return apikey(text)
    if kind == "b" or (kind in ("D", "m") and text.lower() in BOOLS):
        return BOOLS.get(text.lower(), text)
    if kind in ("t", "h", "I", "M", "W", "w", "P"):
        return text
    try:
        return json.loads(text)  # objects, lists, filters
    except ValueError:
        if kind in ("L", "B"):  # loop1;loop2, or 120;-40;300
            items = [x for x in _LIST_SPLIT.split(text) if x]
            return items if kind == "L" else [number(x) for x in items]
        return text


def _items(spec):
    """{key: kind} of a schema object, a number's range left out: "p(1,86400)" -> "p"."""
    return {k: re.sub(r"\(.*\)", "", kind) for k, kind in
            (item.rstrip("!").split(":", 1) for item in schema.SPECS[spec].split())}


def parse_path(column):
    """'parking.spots[0].baseline' -> ['parking', 'spots', 0, 'baseline']; ValueError if malformed."""
    out = []
    for part in column.split("."):
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)", part)
        if not m:
            raise ValueError("not a field path (write it as in the schema, e.g. air.duty.period)")
        out.append(m.group(1))
        out += [int(i) for i in re.findall(r"\d+", m.group(2))]
    return out


def kind_of(tokens):
    """The schema kind of a field path; ValueError naming the first unknown part and what is known."""
    spec, kind, where = "", None, ""
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if spec is None or isinstance(t, int):
            raise ValueError("%s has no field %s" % (where or "the config", t))
        items = _items(spec)
        if t not in items:
            raise ValueError("unknown field %r in %s (known: %s)" % (t, where or "the config", ", ".join(sorted(items))))
        kind = items[t]
        where = where + "." + t if where else t
        i += 1
        nxt = tokens[i] if i < len(tokens) else None
        spec = None
        if kind[0] == "{":
            spec = kind[1:-1]
        elif kind[0] == "[" and isinstance(nxt, int):
            spec, kind = kind[1:-1], "{%s}" % kind[1:-1]
            where += "[%d]" % nxt
            i += 1
        elif kind in ("D", "m") and nxt is not None:
            spec = {"D": "duty", "m": "mag"}[kind]
        elif kind == "K" and nxt in schema.APIKEY_KINDS:
            return "t"
    return kind


def _dotted(tokens):
    return "".join("[%d]" % t if isinstance(t, int) else ("." if i else "") + t for i, t in enumerate(tokens))


def set_path(cfg, tokens, v):
    """Set cfg[...] along tokens, making the objects on the way; an index must name an element
    that exists (from the type). -> None, or what is wrong."""
    node = cfg
    for i, t in enumerate(tokens[:-1]):
        nxt = tokens[i + 1]
        if isinstance(t, int):
            if not isinstance(node, list) or t >= len(node):
                return "%s: the type has %d of them (the first is [0])" % (
                    _dotted(tokens[:i]), len(node) if isinstance(node, list) else 0)
            child = node[t]
        else:
            child = node.get(t)
            if child is None or not isinstance(child, (dict, list)):
                child = [] if isinstance(nxt, int) else {}
                node[t] = child
        if isinstance(nxt, int) and not isinstance(child, list):
            return "%s is not a list" % _dotted(tokens[:i + 1])
        node = child
    last = tokens[-1]
    if isinstance(last, int):
        if last >= len(node):
            return "%s: the type has %d of them (the first is [0])" % (_dotted(tokens[:-1]), len(node))
    node[last] = v
    return None


# -- where each value came from ------------------------------------------------------------
class Origins:
    """field path -> the file and section that set it (absent: the inventory row)."""

    def __init__(self):
        self.of = {}

    def set(self, path, origin):
        for k in [k for k in self.of if k == path or k.startswith(path + ".") or k.startswith(path + "[")]:
            del self.of[k]
        if origin:
            self.of[path] = origin

    def layer(self, obj, origin, prefix=""):
        for k, v in obj.items():
            path = prefix + "." + k if prefix else k
            if isinstance(v, dict) and v:
                self.layer(v, origin, path)
            else:
                self.set(path, origin)

    def find(self, field):
        while field:
            if field in self.of:
                return self.of[field]
            cut = max(field.rfind("."), field.rfind("["))
            field = field[:cut] if cut > 0 else ""
        return None


# -- the fleet -------------------------------------------------------------------------
class Fleet:
    def __init__(self):
        self.nodes = {}  # device_id -> (config, board profile)
        self.lines = {}  # device_id -> its line in the inventory
        self.warnings = []
        self.secrets = files.JsonObject("secrets", "section")


def columns(header, name):
    """-> {index: (column, setter kind or None)}; InventoryError naming every bad column."""
    problems = []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.append("%s line 1: missing column(s) %s (needed: %s; optional: %s, and any config field "
                        "as a dotted column, e.g. air.duty.period)"
                        % (name, ", ".join(missing), ", ".join(REQUIRED), ", ".join(OPTIONAL)))
    out, seen = {}, {}
    for i, col in enumerate(header):
        if not col:
            continue
        if col in seen:
            problems.append("%s line 1: column %s appears twice (columns %d and %d)" % (name, col, seen[col] + 1, i + 1))
            continue
        seen[col] = i
        if col in REQUIRED or col in OPTIONAL:
            out[i] = (col, None)
            continue
        try:
            tokens = parse_path(col)
            if tokens[0] == "device_id":
                raise ValueError("give it in the device_id column")
            out[i] = (col, (tokens, kind_of(tokens)))
        except ValueError as e:
            problems.append("%s line 1: column %s: %s; the inventory's own columns: %s"
                            % (name, col, e, ", ".join(REQUIRED + OPTIONAL)))
    if problems:
        raise InventoryError("\n".join(problems))
    return out


def _row_config(cells, cols):
    """-> ({column: text}, config from the fixed columns, [(tokens, value, column)] overrides,
    [(field, message)])."""
    get = {col: (cells[i] if i < len(cells) else "") for i, (col, _) in cols.items()}
    dev = get["device_id"]
    cfg = {"device_id": dev, "municipality": get["municipality"],
           "location": {"lat": number(get["lat"]), "lon": number(get["lon"])}}
    errors = []
    if get.get("board"):
        cfg["board"] = get["board"]
    if get.get("apikey"):
        cfg["apikey"] = apikey(get["apikey"])
    if get.get("interval"):
        cfg["interval"] = number(get["interval"])
    if get.get("broker"):
        host, _, port = get["broker"].partition(":")
        cfg["broker"] = {"host": host, "port": number(port) if port else 1883}
    for s in filter(None, _LIST_SPLIT.split(get.get("sensors", ""))):
        air, why = wiring.sensor_column(s)
        if why:
            errors.append(("sensors", why))
        else:
            cfg.setdefault("air", {}).setdefault("sensors", {})[air] = {}
    overrides = []
    for i, (col, setter) in cols.items():
        if setter and get[col] != "":
            tokens, kind = setter
            overrides.append((tokens, value(kind, get[col]), col))
    return get, cfg, overrides, errors


def _secret_warnings(secrets, inventory_keys):
    out = []
    for section, body in secrets.items():
        if section in NOT_SECTIONS:
            continue
        if section != "default" and section not in inventory_keys:
            out.append("%s: no device_id or municipality of the inventory has that name (a typo?); it applies "
                       "to no node" % secrets.where(section))
        for key, v in body.items():
            if not schema.known(key):
                continue  # a typo: the schema's check names it
            if key not in SECRET_FIELDS or not isinstance(v, dict):
                out.append("%s: %s is no secret: it still applies, but a later version will refuse it: move "
                           "it to the node's type (--types) or an inventory column" % (secrets.where(section), key))
                continue
            for sub in v:
                if sub not in SECRET_FIELDS[key] and (" %s:" % sub) in " " + schema.SPECS[key]:
                    column = "broker" if (key, sub) in (("broker", "host"), ("broker", "port")) else key + "." + sub
                    out.append("%s: %s.%s is no secret: it still applies, but a later version will refuse "
                               "it: give it in the inventory (column %s) or the node's type"
                               % (secrets.where(section), key, sub, column))
    return out


def load(inventory, secrets=None, types=None):
    """inventory: path; secrets: a path or a dict (read_secrets); types: a path or None. -> Fleet;
    InventoryError naming every problem."""
    fleet = Fleet()
    if not isinstance(secrets, files.JsonObject):
        secrets = files.JsonObject("secrets", "section", secrets) if isinstance(secrets, dict) else read_secrets(secrets)
    fleet.secrets = secrets
    type_cfgs = read_types(types)
    name = Path(inventory).name
    try:
        header, rows = files.read_rows(inventory, "device_id", ",".join(REQUIRED + OPTIONAL[:3]))
    except OSError as e:
        raise InventoryError("inventory %s: %s" % (inventory, e.strerror or e))
    cols = columns(header, name)
    problems, shared = [], []  # shared: problems of a types or secrets section, said once
    first = {}
    profiles = {}
    for line, cells in rows:
        if len(cells) > len(header):
            problems.append("%s line %d: %d cells for %d columns: a value holding the separator needs quotes"
                            % (name, line, len(cells), len(header)))
            continue
        get, base, overrides, errors = _row_config(cells, cols)
        dev = base["device_id"]
        where = "%s line %d (device %s)" % (name, line, dev or "?")
        if dev in first:
            problems.append("%s line %d: device_id %s is already on line %d: each node needs its own id"
                            % (name, line, dev, first[dev]))
            continue
        first[dev] = line
        origins = Origins()
        cfg = {}
        tname = get.get("type")
        if tname:
            if type_cfgs is None:
                errors.append(("type", "%r needs the types file: give --types FILE" % tname))
            elif tname not in type_cfgs:
                errors.append(("type", "%r is not in %s (its types: %s)"
                               % (tname, type_cfgs.name, ", ".join(sorted(type_cfgs)))))
            else:
                cfg = copy.deepcopy(type_cfgs[tname])
                origins.layer(cfg, type_cfgs.where(tname))
        cfg = schema.merged(cfg, base)
        origins.layer(base, None)
        for tokens, v, col in overrides:
            why = set_path(cfg, tokens, v)
            if why:
                errors.append((col, why))
            else:
                origins.set(_dotted(tokens), None)
        for key in ("default", cfg.get("municipality"), dev):
            if isinstance(secrets.get(key), dict):
                cfg = schema.merged(cfg, secrets[key])
                origins.layer(secrets[key], secrets.where(key))
        cfg.setdefault("broker", {}).setdefault("user", dev)  # its own login (the fleet's ACL)
        profile = None
        board = cfg.get("board")
        if not board:
            errors.append(("board", "required: a board column or \"board\" in the type (known: %s)"
                           % ", ".join(boards.names())))
        else:
            try:
                profile = profiles.get(board) or boards.load(board)
                profiles[board] = profile
            except boards.BoardError as e:
                errors.append(("board", str(e)))
        if not cfg["broker"].get("host"):
            errors.append(("broker", "required: a broker column (host or host:port) or \"broker\" in the type"))
        if profile is not None:
            wiring.Wiring(board, profile, lambda f, m: errors.append((f, m)),
                          lambda f: origins.set(f, "boards/%s.json sensors" % board)).fill(cfg)
        for field, msg in schema.validate(cfg, strict=True):
            origin = origins.find(field)
            if origin:
                shared.append("%s: %s: %s" % (origin, field, msg))
            else:
                errors.append((field, msg))
        for field, msg in errors:
            problems.append("%s: %s: %s" % (where, field, msg))
        if not errors:
            fleet.nodes[dev] = (cfg, profile)
            fleet.lines[dev] = line
    problems += list(dict.fromkeys(shared))
    if problems:
        raise InventoryError("\n".join(problems))
    keys = set(first) | {cfg.get("municipality") for cfg, _ in fleet.nodes.values()}
    fleet.warnings = _secret_warnings(secrets, keys)
    return fleet
