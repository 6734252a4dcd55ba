"""Fleet tools: the generated password file and ACL enforced by a real Mosquitto,
and the IoT Agent provisioning requests checked against the FIWARE contract."""
import json
import subprocess
import sys
import time

import paho.mqtt.client as mqtt
import pytest

from host_tools import fleet, provision
from host_tools.broker import Mosquitto, free_port
from host_tools.paths import ROOT
from host_tools.virtualnode import VirtualNode
from tests.uplinkhelp import Collector

# The example inventory and secrets: the files `provision` reads too.
INVENTORY = ROOT / "host_tools" / "data" / "fleet-example.csv"
SECRETS = ROOT / "host_tools" / "data" / "fleet-example-secrets.json"
TYPES = ROOT / "host_tools" / "data" / "fleet-example-types.json"
APIKEYS = {"device": "kd", "air": "kair", "parking": "kpark", "traffic": "ktraf"}  # the CSV's apikey column


def generated_broker(tmp_path, drop=None):
    """A Mosquitto running the config `fleet mosquitto` generates (less the line `drop`)."""
    out = tmp_path / "mosq"
    subprocess.run([sys.executable, "-m", "host_tools", "fleet", "mosquitto", str(INVENTORY),
                    "--secrets", str(SECRETS), "--types", str(TYPES), "--out", str(out)], cwd=str(ROOT), check=True, capture_output=True)
    assert "pw-001" not in (out / "passwd").read_text()  # hashed, not plain
    conf = (out / "mosquitto.conf").read_text()
    assert drop is None or drop in conf
    return Mosquitto(extra=conf.replace(drop or "\0", ""), anonymous=False)


@pytest.fixture
def fleet_broker(tmp_path):
    with generated_broker(tmp_path) as b:
        yield b


def client(port, user, password, on_message=None):
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="t-" + user)
    c.username_pw_set(user, password)
    result = {}
    c.on_connect = lambda cl, u, f, rc, p: result.setdefault("rc", rc)
    c.on_message = on_message
    c.connect("127.0.0.1", port)
    c.loop_start()
    deadline = time.monotonic() + 10
    while "rc" not in result and time.monotonic() < deadline:
        time.sleep(0.02)
    return c, result.get("rc")


def test_acl_keeps_each_device_to_its_own_topics(fleet_broker):
    port = fleet_broker.port
    agent = Collector(port, topic="/json/#", client_id="iota-view", username="iota", password="agent-secret")
    got = []
    a, rc = client(port, "lj-001", "pw-001", on_message=lambda c, u, m: got.append(m.topic))
    assert rc == 0
    _, bad = client(port, "lj-001", "wrong")
    assert bad != 0
    # lj-001 forges measures and command answers of lj-002, then sends its own.
    for topic in ("/json/kd/lj-002/attrs", "/json/kpark/lj-002-p1/attrs", "/json/kd/lj-002/cmdexe",
                  "/json/kair/lj-001-aq/attrs"):
        a.publish(topic, json.dumps({"from": "lj-001"}), qos=1).wait_for_publish(5)
    seen = agent.drain(lambda m: any(t == "/json/kair/lj-001-aq/attrs" for t, _, _ in m), timeout=10)
    topics = [t for t, _, _ in seen]
    assert "/json/kair/lj-001-aq/attrs" in topics
    assert not [t for t in topics if "lj-002" in t]
    # lj-001 tries to read lj-002's commands; the agent sends commands to both.
    a.subscribe("/kd/lj-002/cmd", qos=1)
    a.subscribe("/kd/lj-001/cmd", qos=1)
    time.sleep(0.5)
    ag = agent.client  # one session per login: the agent publishes on its subscriber's
    ag.publish("/kd/lj-002/cmd", '{"ping": {"data": "2"}}', qos=1).wait_for_publish(5)
    ag.publish("/kd/lj-001/cmd", '{"ping": {"data": "1"}}', qos=1).wait_for_publish(5)
    deadline = time.monotonic() + 10
    while "/kd/lj-001/cmd" not in got and time.monotonic() < deadline:
        time.sleep(0.05)
    assert got == ["/kd/lj-001/cmd"]
    a.loop_stop()
    a.disconnect()
    agent.close()


def test_the_firmware_works_within_its_acl(fleet_broker):
    port = fleet_broker.port
    agent = Collector(port, topic="/json/#", client_id="iota-view", username="iota", password="agent-secret")
    cfg = {"broker": {"user": "lj-001", "password": "pw-001"}}
    with VirtualNode(port, interval=1, period_ms=100, device_id="lj-001", apikey=APIKEYS, config=cfg):
        first = agent.drain(lambda m: any(t.endswith("-aq/attrs") for t, _, _ in m), timeout=20)
        agent.client.publish("/kd/lj-001/cmd", '{"ping": {"data": "7"}}', qos=1).wait_for_publish(5)
        answers = agent.drain(lambda m: any(t.endswith("/cmdexe") for t, _, _ in m), timeout=10)
    agent.close()
    msgs = {t: p for t, p, _ in first + answers}
    assert msgs["/json/kd/lj-001/attrs/deviceState"] == b'"online"'  # the birth, allowed by the ACL
    assert json.loads(msgs["/json/kd/lj-001/cmdexe"]) == {"ping": "pong 7"}
    assert "/json/kd/lj-001/attrs" in msgs  # health as the Device entity
    body = json.loads(msgs["/json/kair/lj-001-aq/attrs"])
    # The capture holds PM2.5 3.1-3.4 ug/m3 (tests/data/SOURCES.md).
    assert all(3.1 <= o["pm25"] <= 3.4 for o in (body if isinstance(body, list) else [body]))


def takeover(port, drop=None):
    """lj-001 logs in with its own password and client id lj-002 while the node lj-002 runs.
    -> (lj-002's status messages, lj-002's answer to a ping sent after the attempt)."""
    status = "/json/kd/lj-002/attrs/deviceState"
    agent = Collector(port, topic="/json/kd/lj-002/#", client_id="iota", username="iota", password="agent-secret")
    cfg = {"broker": {"user": "lj-002", "password": "pw-002", "backoff_base": 5}}
    with VirtualNode(port, interval=60, device_id="lj-002", apikey=APIKEYS, config=cfg):
        seen = agent.drain(lambda m: any(t == status for t, _, _ in m), timeout=20)
        for _ in range(3):
            c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="lj-002")
            c.username_pw_set("lj-001", "pw-001")
            c.connect("127.0.0.1", port)
            c.loop_start()
            time.sleep(1)
            c.loop_stop()
            c.disconnect()
        seen += agent.drain(lambda m: False, timeout=1)
        agent.client.publish("/kd/lj-002/cmd", '{"ping": {"data": "9"}}', qos=1).wait_for_publish(5)
        seen += agent.drain(lambda m: any(t.endswith("/cmdexe") for t, _, _ in m), timeout=15)
    agent.close()
    return ([p for t, p, _ in seen if t == status],
            [json.loads(p) for t, p, _ in seen if t == "/json/kd/lj-002/cmdexe"])


def test_a_device_cannot_take_over_another_devices_session_or_fire_its_will(tmp_path):
    with generated_broker(tmp_path) as b:
        status, answers = takeover(b.port)
    assert status == [b'"online"']  # the birth; no last will, no reconnect
    assert answers == [{"ping": "pong 9"}]


def test_without_client_ids_bound_to_logins_the_takeover_succeeds(tmp_path):
    # The same attack on a broker without `use_username_as_clientid`: Mosquitto closes
    # the real lj-002 and publishes its will, as seen on the platform (issue 11).
    with generated_broker(tmp_path, drop="use_username_as_clientid true") as b:
        status, _ = takeover(b.port)
    assert b'"offline"' in status


def test_iota_provisioning_follows_the_contract():
    out = subprocess.run([sys.executable, "-m", "host_tools", "fleet", "iota", str(INVENTORY),
                          "--secrets", str(SECRETS), "--types", str(TYPES)], cwd=str(ROOT), check=True, capture_output=True, text=True)
    reqs = json.loads(out.stdout)
    groups = [r for r in reqs if r["path"] == "/iot/groups"]
    devices = [r for r in reqs if r["path"] == "/iot/devices"]
    # One group per sensor type of the municipality, timestamp on, service lower case.
    types = {}
    for r in groups:
        assert r["headers"]["fiware-service"] == "ljubljana"
        (g,) = r["body"]["groups"]
        assert g["resource"] == "/iot/json" and g["transport"] == "MQTT" and g["timestamp"] is True
        types[g["entity_type"]] = g["apikey"]
    assert types == {"Device": "kd", "AirQualityObserved": "kair", "ParkingSpot": "kpark",
                     "TrafficFlowObserved": "ktraf"}
    by_id = {d["device_id"]: (r["headers"], d) for r in devices for d in r["body"]["devices"]}
    assert sorted(by_id) == ["lab-1", "lab-1-aq", "lab-1-l1", "lab-1-p1", "lab-1-p2", "lj-001", "lj-001-aq",
                             "lj-002", "lj-002-aq", "lj-002-l1", "lj-002-p1", "lj-002-p2"]
    _, aq = by_id["lj-001-aq"]
    assert aq["entity_name"] == "urn:ngsi-ld:AirQualityObserved:ljubljana-lj-001-aq"
    assert aq["apikey"] == "kair" and aq["transport"] == "MQTT"
    pm25 = [a for a in aq["attributes"] if a["object_id"] == "pm25"][0]
    assert pm25["type"] == "Number" and pm25["metadata"]["unitCode"]["value"] == "GQ"
    loc = [s for s in aq["static_attributes"] if s["name"] == "location"][0]
    assert loc == {"name": "location", "type": "geo:json",
                   "value": {"type": "Point", "coordinates": [14.5060, 46.0514]}}  # [lon, lat]
    _, dev = by_id["lj-002"]
    assert {c["name"] for c in dev["commands"]} >= {"ping", "reboot", "interval", "calibrate", "config"}
    headers, spot = by_id["lj-002-p2"]
    assert headers["fiware-servicepath"] == "/parking"
    statics = {s["name"]: s["value"] for s in spot["static_attributes"]}
    assert statics["category"] == ["onStreet"]
    assert statics["refParkingSite"] == "urn:ngsi-ld:OnStreetParking:ljubljana-lj-002"  # one site per node
    assert statics["refDevice"] == ["urn:ngsi-ld:Device:ljubljana-lj-002"]  # an array (Smart Data Models)
    _, lane = by_id["lj-002-l1"]
    types = {a["object_id"]: (a["type"], a.get("metadata", {}).get("unitCode", {}).get("value"))
             for a in lane["attributes"]}
    # What the FIWARE contract asks: numbers, booleans, lists typed, units where they apply.
    assert types["averageVehicleSpeed"] == ("Number", "KMH") and types["dataQuality"] == ("StructuredValue", None)
    assert types["timeAdjusted"] == ("Boolean", None) and types["dateObservedFrom"] == ("DateTime", None)
    aq_types = {a["object_id"]: a["type"] for a in aq["attributes"]}
    assert aq_types["pm25Count"] == aq_types["co2Max"] == "Number"


def test_fleet_sites_creates_the_site_every_spot_refers_to(tmp_path):
    def run(what):
        out = tmp_path / (what + ".json")
        subprocess.run([sys.executable, "-m", "host_tools", "fleet", what, str(INVENTORY), "--secrets", str(SECRETS),
                        "--types", str(TYPES), "--out", str(out)], cwd=str(ROOT), check=True, capture_output=True)
        return json.loads(out.read_text())

    (req,) = run("sites")
    assert req["path"] == "/v2/op/update" and req["headers"]["fiware-servicepath"] == "/parking"
    sites = {e["id"]: e for e in req["body"]["entities"]}  # lj-002's and lab-1's
    site = sites["urn:ngsi-ld:OnStreetParking:ljubljana-lj-002"]
    assert site["type"] == "OnStreetParking" and site["totalSpotNumber"]["value"] == 2  # lj-002's two spots
    assert site["location"]["value"]["coordinates"] == [14.5058, 46.0569]
    refs = {s["value"] for r in run("iota") if r["path"] == "/iot/devices" for d in r["body"]["devices"]
            for s in d["static_attributes"] if s["name"] == "refParkingSite"}
    assert refs == set(sites) and len(sites) == 2


class NorthBound:
    """A stand-in for the agent's north-bound API: records each request, answers `status(path)`."""

    def __init__(self, status):
        import http.server
        import threading

        self.got = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.got.append({"method": "POST", "path": self.path, "body": body,
                                  "headers": {k: self.headers[k] for k in
                                              ("fiware-service", "fiware-servicepath", "Content-Type")}})
                code = status(self.path)
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b'{"name": "DUPLICATE_GROUP"}' if code == 409 else b"")

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def fleet_cli(*args):
    return subprocess.run([sys.executable, "-m", "host_tools", "fleet", *args, str(INVENTORY), "--secrets", str(SECRETS),
                           "--types", str(TYPES)],
                          cwd=str(ROOT), capture_output=True, text=True)


def test_fleet_sends_what_it_prints_and_says_what_failed():
    printed = json.loads(fleet_cli("iota").stdout)
    agent = NorthBound(lambda path: 409 if path == "/iot/groups" else 201)  # groups there from a former run
    try:
        proc = fleet_cli("iota", "--send", agent.url)
        assert proc.returncode == 0, proc.stderr
        assert agent.got == printed
        assert "POST /iot/groups ljubljana/devices: already there, kept" in proc.stdout
        assert "POST /iot/devices ljubljana/parking: 201" in proc.stdout
    finally:
        agent.close()
    orion = NorthBound(lambda path: 400)
    try:
        proc = fleet_cli("sites", "--send", orion.url)
        assert proc.returncode != 0 and "1 of 1 requests failed" in proc.stderr
        assert "POST /v2/op/update ljubljana/parking: FAILED 400" in proc.stdout
    finally:
        orion.close()
    proc = fleet_cli("iota", "--send", "http://127.0.0.1:%d" % free_port())
    assert proc.returncode != 0 and "cannot reach" in proc.stderr and "4041" in proc.stderr


def test_the_inventory_provision_checks_is_the_fleets(tmp_path):
    # The same files pass provision; each node's MQTT login is what its config says.
    sec = provision.read_secrets(SECRETS)
    configs = provision.read_inventory(INVENTORY, sec, TYPES)
    f = fleet.load(INVENTORY, SECRETS, TYPES)
    assert [n["device_id"] for n in f["nodes"]] == list(configs) == ["lj-001", "lj-002", "lab-1"]
    creds = fleet.credentials(f)
    assert creds == {"iota": "agent-secret", "lj-001": "pw-001", "lj-002": "pw-002", "lab-1": "pw-lab-1"}
    assert configs["lj-001"][0]["broker"]["user"] == "lj-001"


def test_fleet_errors_are_named(tmp_path):
    inv = tmp_path / "fleet.csv"
    rows = INVENTORY.read_text().splitlines()
    inv.write_text("\n".join(rows + [rows[2].replace("lj-002", "lj-003").replace("46.0569", "96")]) + "\n")
    with pytest.raises(fleet.FleetError, match=r"line 5 \(device lj-003\): location.lat"):
        fleet.load(inv, SECRETS, TYPES)  # provision's reader and schema
    shared = json.loads(SECRETS.read_text())
    shared["default"]["broker"] = {"user": "node"}
    sec = tmp_path / "secrets.json"
    sec.write_text(json.dumps(shared))
    with pytest.raises(fleet.FleetError, match="lj-001 and lj-002 share the broker user 'node'"):
        fleet.load(INVENTORY, sec, TYPES)
    inv.write_text("\n".join(rows).replace(";parking=kpark", "") + "\n")
    proc = subprocess.run([sys.executable, "-m", "host_tools", "fleet", "iota", str(inv), "--secrets", str(SECRETS),
                           "--types", str(TYPES)],
                          cwd=str(ROOT), capture_output=True, text=True)
    assert proc.returncode != 0 and "line 3 (device lj-002): apikey.parking: required" in proc.stderr
