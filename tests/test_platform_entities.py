"""Every entity the node and the fleet tools produce, as the platform stores it.

The node's real payloads (the real recordings in tests/data replayed through the
firmware; a virtual node's health and status through a real Mosquitto) go through
the IoT Agent's transformation with the provisioning `smartnode fleet iota`
generates (tests/ngsi.py), and every entity must validate against the official
Smart Data Models schema of its type, with every key provisioned and typed as its
value is.
"""
import argparse
import ast
import json
import os
import re
import time

import pytest

from host_tools import iota, paths, replay
from host_tools.virtualnode import VirtualNode
from tests import ngsi
from tests.uplinkhelp import Collector

DATA = ngsi.SDM.parent
AIR = DATA / "air"
MAG = DATA / "parking"
MUNI = "ljubljana"
HERE = {"lat": 46.0514, "lon": 14.506}
# (device id, replay arguments): every kind of reading, flags included (missing, humid,
# range, detector-stuck-on, detector-dead: see tests/test_replay_*.py).
RECORDINGS = [
    ("abdn-1", [AIR / "luftdaten_aberdeen_sds011_15092_2018-07-07_to_14.csv",
                AIR / "luftdaten_aberdeen_bme280_15093_2018-07-07_to_14.csv", "--interval", "300"]),
    ("abdn-2", [AIR / "luftdaten_aberdeen_sds011_5331_2018-12-28_to_2019-01-04.csv",
                AIR / "luftdaten_aberdeen_dht22_5332_2018-12-28_to_2019-01-04.csv", "--interval", "300"]),
    ("pms-1", [AIR / "PMS5003T.hexdump", "--interval", "10"]),
    ("sps-1", [AIR / "SPS30.hexdump", "--interval", "10"]),
    ("park-1", [MAG / "mag3110x2_200Hz_5Mph_FordFocus_15s-22s.hexstream.txt", "--as", "parking",
                "--start", "2026-11-21T22:00:15Z"]),
    ("lane-1", [MAG / "mag3110x2_200Hz_DodgeNeon_53s-58s.hexstream.txt", "--as", "traffic",
                "--start", "2026-11-21T22:00:53Z", "--interval", "2"]),
    ("pems", [DATA / "traffic" / "d05_text_station_raw_2012_01_21.txt.gz", "--interval", "300"]),
]


def run_replay(device, argv, tmp):
    """-> (the node's config, [(topic, payload)]) of one replay."""
    p = argparse.ArgumentParser()
    replay.add_arguments(p)
    args = p.parse_args([str(a) for a in argv] + ["--device", device])
    stream = tmp / ("%s.jsonl" % device)
    with open(stream, "w") as f:
        replay.build_stream(args, f)
    with open(stream) as f:
        config = json.loads(f.readline())["config"]
    out = tmp / ("%s.out" % device)
    with open(out, "w") as f:
        replay.run_stream(str(stream), False, f)
    lines = [json.loads(ln) for ln in out.read_text().splitlines()]
    return config, [(ln["topic"], ln["payload"]) for ln in lines if "topic" in ln]


def node_health(port):
    """A virtual node's Device readings and status, with a broker outage in between."""
    col = Collector(port, topic="/json/#")
    cfg = {"health": {"interval": 1}, "broker": {"backoff_base": 0.2, "backoff_cap": 0.5}}
    return col, VirtualNode(port, interval=2, period_ms=100, device_id="vn-1", apikey="smartnode", config=cfg)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """-> {base device id: config}, [(topic, payload)] of everything the node published."""
    from host_tools.broker import Mosquitto

    tmp = tmp_path_factory.mktemp("platform")
    configs, msgs = {}, []
    for device, argv in RECORDINGS:
        cfg, got = run_replay(device, argv, tmp)
        configs[device] = cfg
        msgs += got
    with Mosquitto(persistence=True) as b:
        col, node = node_health(b.port)
        with node:
            configs["vn-1"] = json.loads(open(os.path.join(node.dir, "config.json")).read())
            got = col.drain(lambda m: sum(t.endswith("/vn-1/attrs") for t, _, _ in m) >= 3, timeout=30)
            b.stop()  # an outage: the next health readings carry lastError
            time.sleep(1)
            b.start()
            got += col.drain(lambda m: any(t.endswith("/vn-1/attrs") and b"lastError" in p for t, p, _ in m),
                             timeout=30)
        col.close()
    msgs += [(t, json.loads(p)) for t, p, _ in got]
    return configs, msgs


def base_id(eid):
    for sep in ("-aq", "-p", "-l"):
        head, _, tail = eid.rpartition(sep)
        if head and (sep == "-aq" and not tail or tail.isdigit()):
            return head
    return eid


def fleet_of(configs, msgs):
    """The fleet that published msgs: each node's config, where it stands; a PeMS station
    is a node with the lanes it reported."""
    nodes = {}
    for topic, _ in msgs:
        eid = topic.split("/")[3]
        base = base_id(eid)
        if base not in nodes:
            cfg = dict(configs["pems"] if base.isdigit() else configs[base])
            cfg.update(device_id=base, municipality=MUNI, location=HERE)
            nodes[base] = cfg
        head, sep, n = eid.rpartition("-l")
        if sep and head == base and base.isdigit():
            lanes = nodes[base]["traffic"] = {"lanes": list(nodes[base]["traffic"]["lanes"])}
            if {"lane": int(n)} not in lanes["lanes"]:
                lanes["lanes"].append({"lane": int(n)})
    return {"nodes": list(nodes.values())}


def provisioned_devices(fleet):
    return {(d["apikey"], d["device_id"]): d
            for r in iota.requests(fleet) if r["path"] == "/iot/devices" for d in r["body"]["devices"]}


def entities_of(msgs, devices):
    """The agent's work: -> [(topic, normalized entity)] for every measures object."""
    out = []
    for topic, payload in msgs:
        parts = topic.split("/")
        if parts[1] != "json" or parts[4] != "attrs":
            continue  # command answers: not attributes
        device = devices.get((parts[2], parts[3]))
        assert device is not None, "%s: no device provisioned" % topic
        if len(parts) == 6:  # /json/<apikey>/<id>/attrs/<attribute>: one raw JSON value
            objs = [{parts[5]: payload}]
        else:
            objs = payload if isinstance(payload, list) else [payload]
        out += [(topic, device, ngsi.to_entity(device, o)) for o in objs]
    return out


def test_every_key_the_node_publishes_is_provisioned_with_its_type(published):
    configs, msgs = published
    devices = provisioned_devices(fleet_of(configs, msgs))
    seen = {}
    for topic, device, ent in entities_of(msgs, devices):
        bad = ngsi.type_errors(ent, ngsi.provisioned_names(device))
        assert not bad, (topic, bad)
        seen.setdefault(ent["type"], set()).update(ent)
    # The recordings reach every kind and the keys that only some readings carry.
    assert set(seen) == {"Device", "AirQualityObserved", "ParkingSpot", "TrafficFlowObserved"}
    assert {"pm1Min", "pressureCount", "relativeHumidityMax", "dataQuality", "seq"} <= seen["AirQualityObserved"]
    assert {"averageVehicleSpeed", "dateObserved", "dataQuality"} <= seen["TrafficFlowObserved"]
    assert {"deviceState", "lastError", "freeHeap"} <= seen["Device"]


# The firmware's encoders of each kind's JSON, and what the uplink adds to any reading.
ENCODERS = {"device": ["rec_health.py"], "air": ["rec_air.py"], "parking": ["rec_parking.py"],
            "traffic": ["rec_lane.py"]}
ANY_KIND = ["uplink.py", "timesync.py"]


def literal_keys(name):
    """JSON member names ("key": in a string literal, docstrings aside) in a firmware module."""
    tree = ast.parse((paths.FIRMWARE / "app" / name).read_text())
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    keys = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Constant) and isinstance(n.value, (str, bytes)) and id(n) not in docs:
            text = n.value.decode() if isinstance(n.value, bytes) else n.value
            keys |= set(re.findall(r'"([A-Za-z][A-Za-z0-9]*)":', text))
    return keys


def test_every_key_in_the_firmwares_encoders_is_provisioned():
    # Also the keys no recording reaches (rssi on a chip, timeUnsynced after a reboot
    # without time): each literal member name of an encoder is in the one table.
    common = set().union(*map(literal_keys, ANY_KIND))
    assert {"seq", "timeAdjusted", "timeUnsynced", "TimeInstant"} <= common  # the scan sees them
    for kind, files in ENCODERS.items():
        sent = set().union(common, *map(literal_keys, files)) - {"TimeInstant"}
        table = {k for k, _, _ in iota.ATTRIBUTES[kind]}
        assert sent and sent <= table, (kind, sorted(sent - table))


def test_a_key_the_provisioning_misses_fails_the_check(published):
    configs, msgs = published
    devices = provisioned_devices(fleet_of(configs, msgs))
    aq = next(d for d in devices.values() if d["entity_type"] == "AirQualityObserved")
    aq["attributes"] = [a for a in aq["attributes"] if a["object_id"] != "pm25Max"]
    bad = [b for _, device, ent in entities_of(msgs, devices) if device is aq
           for b in ngsi.type_errors(ent, ngsi.provisioned_names(device))]
    assert bad and all(b.startswith("pm25Max: not provisioned") for b in bad)


def test_every_entity_validates_against_its_smart_data_model(published):
    configs, msgs = published
    devices = provisioned_devices(fleet_of(configs, msgs))
    checked = {}
    for topic, _, ent in entities_of(msgs, devices):
        kv = ngsi.key_values(ent)
        errors = ngsi.errors(kv)
        assert not errors, (topic, kv, errors)
        checked[ent["type"]] = checked.get(ent["type"], 0) + 1
    assert set(checked) == {"Device", "AirQualityObserved", "ParkingSpot", "TrafficFlowObserved"}, checked


def test_the_schemas_refuse_what_the_platform_received_before(published):
    # Issue 11: TrafficFlowObserved without dateObserved, ParkingSpot.refDevice a string.
    lane = {"id": "urn:ngsi-ld:TrafficFlowObserved:x-l1", "type": "TrafficFlowObserved",
            "dateObservedFrom": "2026-11-21T22:00:00Z", "dateObservedTo": "2026-11-21T22:05:00Z"}
    assert any("'dateObserved' is a required property" in e for e in ngsi.errors(lane))
    spot = {"id": "urn:ngsi-ld:ParkingSpot:x-p1", "type": "ParkingSpot", "status": "free",
            "category": ["onStreet"], "refParkingSite": "urn:ngsi-ld:OnStreetParking:x",
            "location": {"type": "Point", "coordinates": [14.5, 46.0]}, "refDevice": "urn:ngsi-ld:Device:x"}
    assert any(e.startswith("refDevice:") for e in ngsi.errors(spot))
    assert any(e.startswith("status:") for e in ngsi.errors(dict(spot, refDevice=["d"], status="6f6e")))


def site_entities(fleet):
    return [e for r in iota.sites(fleet) for e in r["body"]["entities"]]


def test_every_spot_names_a_site_the_fleet_tools_create(published):
    configs, msgs = published
    fleet = fleet_of(configs, msgs)
    created = {e["id"]: e for e in site_entities(fleet)}
    spots = [ent for _, _, ent in entities_of(msgs, provisioned_devices(fleet)) if ent["type"] == "ParkingSpot"]
    assert spots and {s["refParkingSite"]["value"] for s in spots} <= set(created)
    for e in created.values():
        assert not ngsi.errors(ngsi.key_values(e)), e


def spot_node(dev, lat, lon, spots, site=None):
    parking = {"spots": [{"spot": n} for n in spots]}
    if site:
        parking["site"] = site
    return {"device_id": dev, "municipality": MUNI, "apikey": "k", "location": {"lat": lat, "lon": lon},
            "parking": parking}


def test_sites_on_and_off_street_shared_by_nodes_validate():
    street = {"id": "presernova", "name": "Prešernova cesta"}
    lot = {"id": "bs4", "name": "P+R Barje", "offstreet": True}
    fleet = {"nodes": [spot_node("lj-10", 46.05, 14.50, [1, 2], street), spot_node("lj-11", 46.07, 14.52, [1], street),
                       spot_node("lj-12", 46.03, 14.47, [1, 2, 3], lot), spot_node("lj-13", 46.0, 14.4, [4])]}
    (req,) = iota.sites(fleet)
    assert req["path"] == "/v2/op/update" and req["body"]["actionType"] == "append"
    assert req["headers"]["fiware-service"] == MUNI and req["headers"]["fiware-servicepath"] == "/parking"
    got = {e["id"]: ngsi.key_values(e) for e in req["body"]["entities"]}
    for kv in got.values():
        assert not ngsi.errors(kv), kv
    shared = got["urn:ngsi-ld:OnStreetParking:ljubljana-presernova"]
    assert shared["totalSpotNumber"] == 3 and shared["name"] == "Prešernova cesta"
    assert shared["location"] == {"type": "Point", "coordinates": [14.51, 46.06]}  # between its two nodes
    assert shared["refParkingSpot"] == ["urn:ngsi-ld:ParkingSpot:ljubljana-lj-10-p1",
                                        "urn:ngsi-ld:ParkingSpot:ljubljana-lj-10-p2",
                                        "urn:ngsi-ld:ParkingSpot:ljubljana-lj-11-p1"]
    assert got["urn:ngsi-ld:OffStreetParking:ljubljana-bs4"]["totalSpotNumber"] == 3
    assert got["urn:ngsi-ld:OnStreetParking:ljubljana-lj-13"]["totalSpotNumber"] == 1  # no site: its own
    spots = {d["device_id"]: {s["name"]: s["value"] for s in d["static_attributes"]}
             for r in iota.requests(fleet) if r["path"] == "/iot/devices" for d in r["body"]["devices"]
             if d["entity_type"] == "ParkingSpot"}
    assert spots["lj-12-p3"]["category"] == ["offStreet"]
    assert spots["lj-12-p3"]["refParkingSite"] == "urn:ngsi-ld:OffStreetParking:ljubljana-bs4"
    assert {s["refParkingSite"] for s in spots.values()} == set(got)
    for eid, statics in spots.items():
        kv = dict(statics, id="urn:ngsi-ld:ParkingSpot:x-" + eid, type="ParkingSpot", status="free")
        assert not ngsi.errors(kv), kv
