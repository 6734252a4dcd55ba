"""`provision`: per-device config from the fleet inventory plus secrets.

The inventory is a CSV file, one node per row, with the columns
  device_id, municipality, board, sensors, lat, lon, broker, apikey, interval
sensors: names separated by ';' (e.g. `sds011`); broker: `host[:port]`;
apikey: one key, or `kind=key;kind=key` per entity kind (device, air, parking,
traffic). The secrets file is JSON, kept out of the inventory:
  {"default": {"wifi": {...}, "broker": {"user", "password", "ca"}},
   "<municipality>": {...}, "<device_id>": {...}}
merged in that order. Every row is checked against the one schema the node
also enforces (firmware/app/schema.py); a bad row is refused with its line
and field. With --port the config and the board profile go onto the node.
"""
import csv
import json
import sys
from pathlib import Path

from . import boards, paths, ports

sys.path.insert(0, str(paths.FIRMWARE))
from app import schema  # noqa: E402  (the device's own schema module)

COLUMNS = ("device_id", "municipality", "board", "sensors", "lat", "lon", "broker", "apikey", "interval")
# sensor -> the config section whose pipeline reads it
SENSOR_SECTION = {"sds011": "air", "pms5003": "air", "sps30": "air", "bme280": "air", "scd4x": "air"}


class InventoryError(ValueError):
    pass


def _float(text):
    try:
        return float(text)
    except ValueError:
        return text  # the schema names it


def _int(text):
    try:
        return int(text)
    except ValueError:
        return text


def _apikey(text):
    if "=" not in text:
        return text
    return dict(part.split("=", 1) for part in text.split(";") if part)


def _broker(text):
    host, _, port = text.partition(":")
    return {"host": host, "port": _int(port) if port else 1883}


def row_config(row, secrets):
    """-> (config, board profile, [(field, message)])."""
    errors = []
    cfg = {"device_id": row["device_id"], "municipality": row["municipality"], "board": row["board"],
           "apikey": _apikey(row["apikey"]), "interval": _int(row["interval"]),
           "location": {"lat": _float(row["lat"]), "lon": _float(row["lon"])},
           "broker": dict(_broker(row["broker"]), user=row["device_id"])}  # its own login (fleet's ACL)
    profile = None
    try:
        profile = boards.load(row["board"])
    except boards.BoardError as e:
        errors.append(("board", str(e)))
    names = [s.strip() for s in row["sensors"].split(";") if s.strip()]
    if profile is not None:
        errors += [("sensors", msg) for msg in boards.clashes(profile, names)]
    for name in names:
        section = SENSOR_SECTION.get(name)
        if section is None:
            errors.append(("sensors", "unknown sensor %r (known: %s)" % (name, ", ".join(sorted(SENSOR_SECTION)))))
        elif profile is not None and name not in profile.get("sensors", {}):
            errors.append(("sensors", "board %s has no wiring for %s" % (row["board"], name)))
        elif profile is not None:
            cfg.setdefault(section, {"sensors": {}})["sensors"][name] = dict(profile["sensors"][name])
    for key in ("default", row["municipality"], row["device_id"]):
        if isinstance(secrets.get(key), dict):
            cfg = schema.merged(cfg, secrets[key])
    errors += schema.validate(cfg, strict=True)
    return cfg, profile, errors


def read_inventory(path, secrets):
    """-> {device_id: (config, profile)}; InventoryError naming every bad row and field."""
    path = Path(path)
    out, problems = {}, []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InventoryError("%s: missing column(s) %s (needed: %s)"
                                 % (path.name, ", ".join(missing), ", ".join(COLUMNS)))
        for row in reader:
            line = reader.line_num
            row = {k: (v or "").strip() for k, v in row.items() if k}
            cfg, profile, errors = row_config(row, secrets)
            for field, msg in errors:
                problems.append("%s line %d (device %s): %s: %s" % (path.name, line, row["device_id"] or "?", field, msg))
            if row["device_id"] in out:
                problems.append("%s line %d: device_id %s appears twice" % (path.name, line, row["device_id"]))
            if not errors:
                out[row["device_id"]] = (cfg, profile)
    if problems:
        raise InventoryError("\n".join(problems))
    return out


def read_secrets(path):
    if not path:
        return {}
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise InventoryError("secrets file %s: %s" % (path, e))


def node_config(raw, port):
    """The bytes of a node's /config.json -> the config; ValueError saying how to mend it."""
    try:
        cfg = json.loads(raw)
        if isinstance(cfg, dict):
            return cfg
        why = "a JSON %s, not an object" % type(cfg).__name__
    except ValueError as e:  # UnicodeDecodeError too
        why = "not valid JSON (%s)" % e
    raise ValueError("/config.json on the node is %s; the node runs on its last good config, if it has "
                     "one. Write a good one: `smartnode provision INVENTORY --device ID --port %s`" % (why, port))


def to_json(obj):
    return (json.dumps(obj, sort_keys=True, indent=1) + "\n").encode()


def write_to_node(link, cfg, profile):
    """Put /config.json and /board.json on the node, each replaced in one rename."""
    link.write_file_atomic("/board.json", to_json(profile))
    link.write_file_atomic("/config.json", to_json(cfg))


def add_arguments(p):
    p.add_argument("inventory", help="fleet inventory CSV")
    p.add_argument("--secrets", help="secrets JSON (Wi-Fi, MQTT credentials, CA)")
    p.add_argument("--device", help="the device_id to provision (default: check every row)")
    ports.add(p, "serial port of the node to write the config to", auto=False)
    p.add_argument("--out", help="also write <device_id>.json configs into this directory")


def main(args):
    from .link import Link, LinkError
    try:
        fleet = read_inventory(args.inventory, read_secrets(args.secrets))
    except (InventoryError, OSError) as e:
        raise SystemExit("provision: refused:\n%s" % e)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        for dev, (cfg, _) in fleet.items():
            (Path(args.out) / (dev + ".json")).write_bytes(to_json(cfg))
    if args.device and args.device not in fleet:
        raise SystemExit("provision: %s is not in %s" % (args.device, args.inventory))
    if args.port:
        if not args.device:
            raise SystemExit("provision: name the node on %s with --device" % args.port)
        cfg, profile = fleet[args.device]
        try:
            with Link(args.port) as link:
                write_to_node(link, cfg, profile)
        except LinkError as e:
            raise SystemExit("provision: %s" % e)
        print("provision: %s configured on %s (board %s)" % (args.device, args.port, cfg["board"]))
    else:
        print("provision: %d device(s) in %s are valid" % (len(fleet), args.inventory))
