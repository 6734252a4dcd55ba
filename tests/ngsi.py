"""What the platform makes of the node's messages, for the tests.

`to_entity` applies the IoT Agent for JSON's documented transformation (and what the
FIWARE contract (shared with the platform operators) records of the real agent 3.14): a
measures object becomes NGSI-v2 attributes named and typed as provisioned, a key
that is not provisioned becomes type `Text`, the device's static attributes are
added, `TimeInstant` is a DateTime. `validate` checks an entity, in keyValues form,
against the official Smart Data Models JSON Schema of its type (tests/data/smart-data-models,
their `$ref` URLs resolved to the local copies, formats checked).
"""
import datetime as dt
import json
from pathlib import Path

import jsonschema
from referencing import Registry, Resource

SDM = Path(__file__).resolve().parent / "data" / "smart-data-models"
SCHEMAS = {"AirQualityObserved": "Environment/AirQualityObserved.schema.json",
           "ParkingSpot": "Parking/ParkingSpot.schema.json",
           "OnStreetParking": "Parking/OnStreetParking.schema.json",
           "OffStreetParking": "Parking/OffStreetParking.schema.json",
           "TrafficFlowObserved": "Transportation/TrafficFlowObserved.schema.json",
           "Device": "Device/Device.schema.json"}
# URLs the schemas use for a file besides its own $id.
ALIASES = {"https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/Environment-schema.json":
           "Environment/Environment-schema.json"}
UNPROVISIONED = "Text"  # what the agent makes of a key it does not know


def _registry():
    resources = []
    for path in sorted(SDM.rglob("*.json")):
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], Resource.from_contents(contents)))
    for url, rel in ALIASES.items():
        resources.append((url, Resource.from_contents(json.loads((SDM / rel).read_text()))))
    return Registry().with_resources(resources)  # no retrieve: an unknown URL fails, never fetched


REGISTRY = _registry()


def validator(entity_type):
    schema = json.loads((SDM / SCHEMAS[entity_type]).read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=REGISTRY, format_checker=cls.FORMAT_CHECKER)


_VALIDATORS = {}


def errors(key_values):
    """-> list of schema violations of an entity in keyValues form (empty if valid)."""
    t = key_values["type"]
    if t not in _VALIDATORS:
        _VALIDATORS[t] = validator(t)
    return ["%s: %s" % ("/".join(map(str, e.absolute_path)) or "(entity)", e.message)
            for e in _VALIDATORS[t].iter_errors(key_values)]


def to_entity(device, measures):
    """A provisioned device (the body of POST /iot/devices) and one measures object ->
    the NGSI-v2 entity in normalized form ({"id", "type", name: {"type", "value", ...}})."""
    attrs = {a["object_id"]: a for a in device["attributes"]}
    ent = {"id": device["entity_name"], "type": device["entity_type"]}
    for key, value in measures.items():
        if key == "TimeInstant":
            ent[key] = {"type": "DateTime", "value": value}
            continue
        a = attrs.get(key)
        attr = {"type": a["type"] if a else UNPROVISIONED, "value": value}
        if a and a.get("metadata"):
            attr["metadata"] = a["metadata"]
        ent[a["name"] if a else key] = attr
    for s in device.get("static_attributes", ()):
        ent[s["name"]] = {"type": s["type"], "value": s["value"]}
    return ent


def key_values(entity):
    """Normalized NGSI-v2 -> keyValues (what the schemas describe)."""
    return {k: (v if k in ("id", "type") else v["value"]) for k, v in entity.items()}


def _iso(v):
    try:
        return isinstance(v, str) and dt.datetime.fromisoformat(v.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


TYPE_OK = {
    "Number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "Boolean": lambda v: isinstance(v, bool),
    "Text": lambda v: isinstance(v, str),
    "DateTime": _iso,  # Orion refuses a DateTime it cannot parse
    "StructuredValue": lambda v: isinstance(v, (list, dict)),
    "geo:json": lambda v: isinstance(v, dict) and "type" in v,
    "Relationship": lambda v: isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)),
}


def type_errors(entity, provisioned):
    """-> what the platform would store wrongly: keys forwarded as unprovisioned Text, or a
    value whose JSON type does not fit the provisioned NGSI type. provisioned: the names
    the device's provisioning knows (attributes, statics, TimeInstant)."""
    out = []
    for name, attr in entity.items():
        if name in ("id", "type"):
            continue
        if name not in provisioned:
            out.append("%s: not provisioned (the agent stores it as Text)" % name)
        elif not TYPE_OK[attr["type"]](attr["value"]):
            out.append("%s: %r is not a %s" % (name, attr["value"], attr["type"]))
    return out


def provisioned_names(device):
    return ({a["name"] for a in device["attributes"]} | {s["name"] for s in device.get("static_attributes", ())}
            | {"TimeInstant"})
