"""The IoT Agent's provisioning for a fleet: what each key the node publishes becomes.

`ATTRIBUTES` is the one table of every key the firmware can send, per entity kind,
with its NGSI type and unit (UN/CEFACT common code). The agent forwards a key it
does not know as `Text`, whatever its JSON type (FIWARE contract), so a key the
node sends must be here: tests replay the real recordings and fail on any key
missing. The air statistics come from the firmware's own list (app/quality.py ORDER).

NGSI types: Number, Boolean, Text, DateTime (Orion refuses a value that is not an
ISO 8601 time), StructuredValue (lists and objects).
"""
import json

from . import provision  # noqa: F401  (puts the firmware on the path)
from app import fiware, quality  # noqa: E402

ENTITY_TYPE = {"device": "Device", "air": "AirQualityObserved", "parking": "ParkingSpot",
               "traffic": "TrafficFlowObserved"}
SERVICE_PATH = {"device": "/devices", "air": "/environment", "parking": "/parking", "traffic": "/traffic"}
COMMANDS = ("ping", "reboot", "interval", "calibrate", "config")

# Unit of each air attribute as the node publishes it (README, Air quality): GQ ug/m3,
# CEL degC, A97 hPa, 59 ppm; relativeHumidity is a fraction 0..1 (C62, "one").
AIR_UNITS = {"pm1": "GQ", "pm25": "GQ", "pm10": "GQ", "temperature": "CEL", "relativeHumidity": "C62",
             "pressure": "A97", "co2": "59"}


def _air():
    out = [("dateObserved", "DateTime", None)]
    for name in quality.ORDER:  # app/rec_air.py expand: mean, Min, Max, Count
        unit = AIR_UNITS[name]
        out += [(name, "Number", unit), (name + "Min", "Number", unit), (name + "Max", "Number", unit),
                (name + "Count", "Number", None)]
    return out + [("dataQuality", "StructuredValue", None)]


# Added by the uplink to any reading (app/uplink.py, app/timesync.py).
UPLINK = [("seq", "Number", None), ("timeAdjusted", "Boolean", None), ("timeUnsynced", "Boolean", None)]

# (key, NGSI type, unitCode or None) per kind; TimeInstant is the agent's own (DateTime).
ATTRIBUTES = {
    "device": [  # app/rec_health.py, and the status topic (app/fiware.py status_topic)
        ("deviceState", "Text", None), ("dateLastValueReported", "DateTime", None),
        ("uplink", "Text", None), ("uptime", "Number", "SEC"), ("freeHeap", "Number", "AD"),
        ("backlog", "Number", None), ("backlogDays", "Number", "DAY"), ("logUsed", "Number", "P1"),
        ("logNearlyFull", "Boolean", None), ("dropped", "Number", None), ("resetCause", "Text", None),
        ("firmwareVersion", "Text", None), ("timeSync", "Text", None), ("rssi", "Number", "2N"),
        ("lastError", "Text", None), ("lastUpdate", "Text", None),
        ("safeMode", "Boolean", None), ("resets", "Number", None)] + UPLINK,  # app/safemode.py
    "air": _air() + UPLINK,  # app/rec_air.py
    "parking": [("status", "Text", None)] + UPLINK,  # app/rec_parking.py
    "traffic": [  # app/rec_lane.py; dateObserved is the interval "start/end": Text, not DateTime
        ("laneId", "Number", None), ("intensity", "Number", None), ("occupancy", "Number", "C62"),
        ("dateObserved", "Text", None), ("dateObservedFrom", "DateTime", None),
        ("dateObservedTo", "DateTime", None), ("averageVehicleSpeed", "Number", "KMH"),
        ("dataQuality", "StructuredValue", None)] + UPLINK,
}


def entity_id(kind_or_type, muni, eid):
    return "urn:ngsi-ld:%s:%s-%s" % (ENTITY_TYPE.get(kind_or_type, kind_or_type), muni, eid)


def attribute(object_id, typ, unit):
    a = {"object_id": object_id, "name": object_id, "type": typ}
    if unit:
        a["metadata"] = {"unitCode": {"type": "Text", "value": unit}}
    return a


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


def _location(node):
    loc = node["location"]
    return {"type": "Point", "coordinates": [loc["lon"], loc["lat"]]}


def statics(node, kind, eid, site=None):
    """Static attributes of one entity: the Smart Data Models' required ones and defaults
    (the node's config has no site geometry or lane direction). site: parking's site id."""
    muni = node["municipality"]
    out = [{"name": "location", "type": "geo:json", "value": _location(node)}]
    device = entity_id("device", muni, node["device_id"])
    if kind == "device":
        props = [p for k, p in (("air", "airPollution"), ("parking", "occupancy"), ("traffic", "trafficFlow"))
                 if node.get(k)]
        out.append({"name": "controlledProperty", "type": "StructuredValue", "value": props})
    elif kind == "air":
        out.append({"name": "typeofLocation", "type": "Text", "value": "outdoor"})
        out.append({"name": "refDevice", "type": "Relationship", "value": device})
    elif kind == "parking":
        out.append({"name": "category", "type": "StructuredValue", "value": [site_category(node)]})
        out.append({"name": "refParkingSite", "type": "Relationship", "value": site or site_id(node)})
        out.append({"name": "refDevice", "type": "Relationship", "value": [device]})  # an array (schema)
    elif kind == "traffic":
        out.append({"name": "laneDirection", "type": "Text", "value": "forward"})
        out.append({"name": "refDevice", "type": "Relationship", "value": device})
    return out


def _site(node):
    return (node.get("parking") or {}).get("site") or {}


def site_category(node):
    return "offStreet" if _site(node).get("offstreet") else "onStreet"


def site_type(node):
    return "OffStreetParking" if _site(node).get("offstreet") else "OnStreetParking"


def site_id(node):
    """The parking site a node's spots belong to: parking.site.id, else one per node."""
    return entity_id(site_type(node), node["municipality"], _site(node).get("id") or node["device_id"])


def sites(fleet):
    """-> [{"method", "path", "headers", "body"}] for the context broker (NGSI-v2): per
    municipality one batch creating or updating the parking sites the fleet's spots
    name in refParkingSite: location (the mean of its nodes'), spot count, spots."""
    found = {}  # (municipality, site id) -> entity
    for node in fleet["nodes"]:
        spots = [entity_id("parking", node["municipality"], eid) for kind, eid in entities(node) if kind == "parking"]
        if not spots:
            continue
        key = (node["municipality"], site_id(node))
        e = found.setdefault(key, {"id": key[1], "type": site_type(node), "nodes": [], "spots": []})
        e["nodes"].append(node)
        e["spots"] += spots
        if _site(node).get("name"):
            e["name"] = _site(node)["name"]
    out = []
    for muni in sorted({m for m, _ in found}):
        batch = [_site_entity(e) for (m, _), e in sorted(found.items()) if m == muni]
        out.append({"method": "POST", "path": "/v2/op/update",
                    "headers": {"fiware-service": muni, "fiware-servicepath": SERVICE_PATH["parking"],
                                "Content-Type": "application/json"},
                    "body": {"actionType": "append", "entities": batch}})
    return out


def _site_entity(e):
    pts = [_location(n)["coordinates"] for n in e["nodes"]]
    lon, lat = (round(sum(p[i] for p in pts) / len(pts), 7) for i in (0, 1))
    ent = {"id": e["id"], "type": e["type"],
           "location": {"type": "geo:json", "value": {"type": "Point", "coordinates": [lon, lat]}},
           "totalSpotNumber": {"type": "Number", "value": len(e["spots"])},
           "occupancyDetectionType": {"type": "StructuredValue", "value": ["singleSpaceDetection"]}}
    if e["type"] == "OnStreetParking":  # OffStreetParking's schema takes a single spot only
        ent["refParkingSpot"] = {"type": "Relationship", "value": e["spots"]}
    if e.get("name"):
        ent["name"] = {"type": "Text", "value": e["name"]}
    return ent


def requests(fleet):
    """-> [{"method", "path", "headers", "body"}] for the agent's north-bound API: per
    municipality (FIWARE service) and kind (service path), the groups (one per API key)
    first, then the devices."""
    used = {}
    for node in fleet["nodes"]:
        for kind, eid in entities(node):
            used.setdefault((node["municipality"], kind), []).append((node, eid))
    out = []
    for muni in sorted({m for m, _ in used}):
        for kind in ENTITY_TYPE:
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
                d = {"device_id": eid, "entity_name": entity_id(kind, muni, eid),
                     "entity_type": ENTITY_TYPE[kind], "apikey": fiware.apikey(node, kind), "transport": "MQTT",
                     "timezone": "UTC",
                     "attributes": [attribute(*a) for a in ATTRIBUTES[kind]],
                     "static_attributes": statics(node, kind, eid)}
                if kind == "device":
                    d["commands"] = [{"name": c, "type": "command"} for c in COMMANDS]
                devices.append(d)
            out.append({"method": "POST", "path": "/iot/devices", "headers": headers,
                        "body": {"devices": devices}})
    return out


def send(requests, base_url, out):
    """POST each request to base_url (the agent's north-bound API or the context broker);
    a line per request on out. -> the number that failed (an entry the agent already
    has, 409, is not a failure: it is kept as it is)."""
    import urllib.error
    import urllib.request

    failed = 0
    for r in requests:
        url = base_url.rstrip("/") + r["path"]
        where = "%s %s %s%s" % (r["method"], r["path"], r["headers"]["fiware-service"],
                                r["headers"]["fiware-servicepath"])
        req = urllib.request.Request(url, data=json.dumps(r["body"]).encode(), headers=r["headers"],
                                     method=r["method"])
        try:
            with urllib.request.urlopen(req, timeout=15) as resp:
                out.write("%s: %d\n" % (where, resp.status))
        except urllib.error.HTTPError as e:
            body = e.read().decode("utf-8", "replace")[:300]
            if e.code == 409:
                out.write("%s: already there, kept (409 %s); to provision it anew, delete it first\n"
                          % (where, body))
            else:
                failed += 1
                out.write("%s: FAILED %d %s\n" % (where, e.code, body))
        except (urllib.error.URLError, OSError) as e:
            raise SystemExit("fleet: cannot reach %s (%s): is the IoT Agent's north-bound port (4041) "
                             "or the context broker (1026) there?" % (base_url, getattr(e, "reason", e)))
    return failed
