"""`provision`: per-device config from the fleet description (types, inventory, secrets).

host_tools/inventory.py reads the three files: node types (JSON) that define
sensors, spots, lanes and intervals once; the inventory (a spreadsheet's CSV,
one row per node, any config field as a dotted column); secrets (JSON, only
secrets). Every node is checked against the one schema the node also enforces
(firmware/app/schema.py), with its sensors' buses from the board profile; a
problem is refused naming its file, line or section, and field. With --port
the config and the board profile go onto the node.
"""
import json
import sys
from pathlib import Path

from . import inventory, paths, ports
from .inventory import InventoryError, read_secrets  # noqa: F401  (the API fleet and tests use)


def read_inventory(path, secrets, types=None):
    """-> {device_id: (config, board profile)}; InventoryError naming every problem."""
    return inventory.load(path, secrets, types).nodes


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
    p.add_argument("inventory", help="fleet inventory CSV (one row per node)")
    p.add_argument("--types", help="node types JSON (sensors, spots, lanes, intervals per kind of node)")
    p.add_argument("--secrets", help="secrets JSON (Wi-Fi, MQTT credentials, CA)")
    p.add_argument("--device", help="the device_id to provision (default: check every row)")
    ports.add(p, "serial port of the node to write the config to", auto=False)
    p.add_argument("--out", help="also write <device_id>.json configs into this directory")


def load(args, command):
    """The fleet the arguments describe, its warnings on stderr; SystemExit with the problems."""
    try:
        fleet = inventory.load(args.inventory, args.secrets, getattr(args, "types", None))
    except InventoryError as e:
        raise SystemExit("%s: refused:\n%s" % (command, e))
    for w in fleet.warnings:
        print("%s: warning: %s" % (command, w), file=sys.stderr)
    return fleet


def main(args):
    from .link import Link, LinkError
    fleet = load(args, "provision").nodes
    if args.out:
        try:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            for dev, (cfg, _) in fleet.items():
                (Path(args.out) / (dev + ".json")).write_bytes(to_json(cfg))
        except OSError as e:
            raise SystemExit("provision: cannot write %s" % paths.unwritable(e.filename or args.out, e))
    if args.device and args.device not in fleet:
        raise SystemExit("provision: %s is not in %s (its devices: %s)"
                         % (args.device, args.inventory, ", ".join(sorted(fleet))))
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
