"""`fleet`: broker credentials, ACL and IoT Agent provisioning for a fleet of nodes.

It reads the same inventory (CSV) and secrets file (JSON) as `provision`,
through provision's reader, so every node is the config the node itself runs
(checked by the one schema). What the fleet adds comes from the secrets file:

    {"agent": {"user": "iota", "password": "..."},          # the IoT Agent's MQTT login
     "default": {...}, "<municipality>": {...},
     "<device_id>": {"broker": {"password": "..."},           # the node's MQTT password
                     "parking": {"spots": [{"spot": 1}, {"spot": 2}]},
                     "traffic": {"lanes": [{"lane": 1}]}}}

A node logs in to the broker as its `broker.user` (provision sets it to the
device id unless the secrets say otherwise); each node needs a user of its own.
A node without `broker.password` gets one generated (written to
credentials.json). Entities follow firmware/app/fiware.py: `<id>` Device,
`<id>-aq` AirQualityObserved, `<id>-p<n>` ParkingSpot, `<id>-l<n>`
TrafficFlowObserved; one IoT Agent service per municipality.

    smartnode fleet mosquitto INVENTORY.csv --secrets SECRETS.json --out DIR   # DIR/mosquitto.conf, passwd, acl
    smartnode fleet iota INVENTORY.csv --secrets SECRETS.json [--out FILE]     # the agent's requests
"""
import json
import os
import secrets
import shutil
import subprocess

from . import provision
from app import fiware  # noqa: E402  (provision puts the firmware on the path)

KINDS = ("device", "air", "parking", "traffic")
ENTITY_TYPE = {"device": "Device", "air": "AirQualityObserved", "parking": "ParkingSpot",
               "traffic": "TrafficFlowObserved"}
SERVICE_PATH = {"device": "/devices", "air": "/environment", "parking": "/parking", "traffic": "/traffic"}
COMMANDS = ("ping", "reboot", "interval", "calibrate", "config")

# (object_id, type, unitCode or None) per kind; names from the Smart Data Models.
ATTRIBUTES = {
    "device": [("deviceState", "Text", None), ("uplink", "Text", None), ("uptime", "Number", "SEC"),
               ("freeHeap", "Number", "AD"), ("rssi", "Number", "2N"), ("backlog", "Number", None),
               ("dropped", "Number", None), ("resetCause", "Text", None),
               ("firmwareVersion", "Text", None), ("timeSync", "Text", None),
               ("lastError", "Text", None), ("dateLastValueReported", "DateTime", None),
               ("seq", "Number", None)],
    "air": [("dateObserved", "DateTime", None), ("pm1", "Number", "GQ"), ("pm25", "Number", "GQ"),
            ("pm10", "Number", "GQ"), ("no2", "Number", "59"), ("o3", "Number", "59"),
            ("co2", "Number", "59"), ("temperature", "Number", "CEL"),
            ("relativeHumidity", "Number", None), ("pressure", "Number", "A97"),
            ("reliability", "Number", None), ("seq", "Number", None)],
    "parking": [("status", "Text", None), ("seq", "Number", None)],
    "traffic": [("dateObservedFrom", "DateTime", None), ("dateObservedTo", "DateTime", None),
                ("intensity", "Number", None), ("occupancy", "Number", None),
                ("averageVehicleSpeed", "Number", "KMH"), ("averageVehicleLength", "Number", "MTR"),
                ("averageHeadwayTime", "Number", "SEC"), ("congested", "Boolean", None),
                ("seq", "Number", None)],
}


class FleetError(ValueError):
    pass


def load(inventory, secrets_path=None):
    """-> {"agent": {user, password}, "nodes": [config, ...]}; FleetError naming what is wrong."""
    try:
        sec = provision.read_secrets(secrets_path)
        nodes = [cfg for cfg, _ in provision.read_inventory(inventory, sec).values()]
    except (provision.InventoryError, OSError) as e:
        raise FleetError("fleet: %s" % e)
    fleet = {"agent": sec.get("agent") or {}, "nodes": nodes}
    check(fleet)
    return fleet


def user(node):
    return node.get("broker", {}).get("user") or node["device_id"]


def check(fleet):
    """Each node its own broker user: the ACL is per user."""
    owner = {}
    for node in fleet["nodes"]:
        u = user(node)
        if u in owner:
            raise FleetError("fleet: %s and %s share the broker user %r: give each node its own "
                             "broker.user in the secrets file" % (owner[u], node["device_id"], u))
        owner[u] = node["device_id"]


def entities(node):
    """-> [(kind, device_id)] of one node, as its pipelines name them (app/parking.py, app/traffic.py)."""
    dev = node["device_id"]
    out = [("device", dev)]
    if node.get("air"):
        out.append(("air", dev + "-aq"))
    if isinstance(node.get("parking"), dict):
        for i, spec in enumerate(node["parking"].get("spots") or [{}]):
            out.append(("parking", "%s-p%d" % (dev, spec.get("spot", i + 1))))
    if isinstance(node.get("traffic"), dict):
        for n in sorted({spec.get("lane", 1) for spec in node["traffic"].get("lanes", ())}):
            out.append(("traffic", "%s-l%d" % (dev, n)))
    return out


# -- Mosquitto ---------------------------------------------------------------------
def acl(fleet):
    """Mosquitto ACL text: each node writes only its own measures and command answers and
    reads only its own commands; the agent reads measures and writes commands."""
    agent = (fleet.get("agent") or {}).get("user", "iota")
    lines = ["# generated by `python -m host_tools fleet mosquitto`", "",
             "user " + agent, "topic read /json/#", "topic read /+/+/attrs/#", "topic write /+/+/cmd", ""]
    for node in fleet["nodes"]:
        lines.append("user " + user(node))
        for kind, eid in entities(node):
            key = fiware.key(node, kind, eid)
            lines.append("topic write /json/%s/attrs/#" % key)  # '#' covers the parent level too
            if kind == "device":
                lines.append("topic write /json/%s/cmdexe" % key)
                lines.append("topic read /%s/cmd" % key)
        lines.append("")
    return "\n".join(lines)


def credentials(fleet):
    """-> {user: password}, generating what the fleet file leaves out."""
    out = {}
    agent = fleet.get("agent") or {}
    out[agent.get("user", "iota")] = agent.get("password") or secrets.token_urlsafe(18)
    for node in fleet["nodes"]:
        out[user(node)] = node.get("broker", {}).get("password") or secrets.token_urlsafe(18)
    return out


def mosquitto_conf(outdir):
    """The broker settings for the fleet (Mosquitto 2.0), for its conf.d: listeners and TLS
    stay the operator's."""
    d = os.path.abspath(outdir)
    return "\n".join([
        "# generated by `smartnode fleet mosquitto`",
        "allow_anonymous false",
        "password_file %s" % os.path.join(d, "passwd"),
        "acl_file %s" % os.path.join(d, "acl"),
        "# A client id is the login: a device cannot take over another's session or fire",
        "# its last will by connecting under its client id (the IoT Agent too is one",
        "# session per login).",
        "use_username_as_clientid true", ""])


def write_mosquitto(fleet, outdir):
    """DIR/mosquitto.conf, DIR/passwd (hashed by the real mosquitto_passwd), DIR/acl,
    DIR/credentials.json."""
    exe = shutil.which("mosquitto_passwd")
    if not exe:
        raise SystemExit("mosquitto_passwd not found: run `make deps`")
    os.makedirs(outdir, exist_ok=True)
    creds = credentials(fleet)
    passwd = os.path.join(outdir, "passwd")
    with open(passwd, "w") as f:
        os.chmod(passwd, 0o600)
        for user, pw in creds.items():
            if ":" in user or "\n" in pw:
                raise FleetError("fleet: user or password with ':' or a newline")
            f.write("%s:%s\n" % (user, pw))
    subprocess.run([exe, "-U", passwd], check=True, capture_output=True)  # hash in place
    with open(os.path.join(outdir, "acl"), "w") as f:
        f.write(acl(fleet))
    conf = os.path.join(outdir, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(mosquitto_conf(outdir))
    cred_path = os.path.join(outdir, "credentials.json")
    with open(cred_path, "w") as f:
        os.chmod(cred_path, 0o600)
        json.dump(creds, f, indent=1)
    return conf, passwd, os.path.join(outdir, "acl"), cred_path


# -- IoT Agent ---------------------------------------------------------------------
def _attribute(object_id, typ, unit):
    a = {"object_id": object_id, "name": object_id, "type": typ}
    if unit:
        a["metadata"] = {"unitCode": {"type": "Text", "value": unit}}
    return a


def _statics(node, kind, eid):
    # Site, category, direction: the Smart Data Models' defaults (the node's config has none).
    loc = node["location"]
    out = [{"name": "location", "type": "geo:json",
            "value": {"type": "Point", "coordinates": [loc["lon"], loc["lat"]]}}]
    muni = node["municipality"]
    if kind == "device":
        props = [p for k, p in (("air", "airPollution"), ("parking", "occupancy"), ("traffic", "trafficFlow"))
                 if node.get(k)]
        out.append({"name": "controlledProperty", "type": "StructuredValue", "value": props})
    elif kind == "air":
        out.append({"name": "typeofLocation", "type": "Text", "value": "outdoor"})
    elif kind == "parking":
        out.append({"name": "category", "type": "StructuredValue", "value": ["onStreet"]})
        out.append({"name": "refParkingSite", "type": "Relationship",
                    "value": "urn:ngsi-ld:ParkingSite:%s-%s" % (muni, node["device_id"])})
    elif kind == "traffic":
        out.append({"name": "laneId", "type": "Number", "value": int(eid.rsplit("-l", 1)[1])})
        out.append({"name": "laneDirection", "type": "Text", "value": "forward"})
    if kind != "device":
        out.append({"name": "refDevice", "type": "Relationship",
                    "value": "urn:ngsi-ld:Device:%s-%s" % (muni, node["device_id"])})
    return out


def iota_requests(fleet):
    """-> [{"method", "path", "headers", "body"}]: per municipality (FIWARE service) and
    kind (service path), the groups (one per API key) first, then the devices."""
    used = {}
    for node in fleet["nodes"]:
        for kind, eid in entities(node):
            used.setdefault((node["municipality"], kind), []).append((node, eid))
    out = []
    for muni in sorted({m for m, _ in used}):
        for kind in KINDS:
            if (muni, kind) not in used:
                continue
            members = used[(muni, kind)]
            headers = {"fiware-service": muni, "fiware-servicepath": SERVICE_PATH[kind],
                       "Content-Type": "application/json"}
            keys = sorted({fiware.apikey(node, kind) for node, _ in members})
            out.append({"method": "POST", "path": "/iot/groups", "headers": headers,
                        "body": {"groups": [{"apikey": k, "resource": "/iot/json", "entity_type": ENTITY_TYPE[kind],
                                             "transport": "MQTT", "timestamp": True} for k in keys]}})
            devices = []
            for node, eid in members:
                d = {"device_id": eid, "entity_name": "urn:ngsi-ld:%s:%s-%s" % (ENTITY_TYPE[kind], muni, eid),
                     "entity_type": ENTITY_TYPE[kind], "apikey": fiware.apikey(node, kind), "transport": "MQTT",
                     "timezone": "UTC",
                     "attributes": [_attribute(*a) for a in ATTRIBUTES[kind]],
                     "static_attributes": _statics(node, kind, eid)}
                if kind == "device":
                    d["commands"] = [{"name": c, "type": "command"} for c in COMMANDS]
                devices.append(d)
            out.append({"method": "POST", "path": "/iot/devices", "headers": headers,
                        "body": {"devices": devices}})
    return out


# -- CLI ---------------------------------------------------------------------------
def add_arguments(p):
    sub = p.add_subparsers(dest="fleet_command", required=True, metavar="WHAT")
    for name, helptext in (("mosquitto", "password file (mosquitto_passwd) and ACL for the broker"),
                           ("iota", "IoT Agent provisioning requests (groups, devices) as JSON")):
        w = sub.add_parser(name, help=helptext)
        w.add_argument("inventory", help="the fleet inventory CSV (as for provision)")
        w.add_argument("--secrets", help="secrets JSON (as for provision, plus the agent's login)")
        if name == "mosquitto":
            w.add_argument("--out", required=True,
                           help="directory for mosquitto.conf, passwd, acl, credentials.json")
        else:
            w.add_argument("--out", help="write to this file instead of standard output")
        w.set_defaults(func=_main_mosquitto if name == "mosquitto" else _main_iota)


def main(args):
    args.func(args)


def _load(args):
    try:
        return load(args.inventory, args.secrets)
    except FleetError as e:
        raise SystemExit(str(e))


def _main_mosquitto(args):
    for path in write_mosquitto(_load(args), args.out):
        print(path)


def _main_iota(args):
    text = json.dumps(iota_requests(_load(args)), indent=1)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
