"""Updates over the air on the virtual board, through a real Mosquitto, from a local HTTP
server: bad packages are refused with the reason on cmdexe and the node keeps its version;
a good one is installed and confirmed once it has published; a version that cannot reach
the broker is rolled back by the next boot and the node says why."""
import functools
import http.server
import json
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from host_tools import build, deploy, inspect, paths, provision, release
from host_tools.broker import Mosquitto
from host_tools.link import Link
from host_tools.vboard import VirtualBoard
from tests.test_ota_package import keys  # noqa: F401  (the module-scoped key pair fixture)
from tests.test_tools_deploy import RELEASED, second_version
from tests.uplinkhelp import Collector, readings

CMD, CMDEXE = "/k7/vb-7/cmd", "/json/k7/vb-7/cmdexe"
DEVICE = "/json/k7/vb-7/attrs"  # the node's Device entity: its health


class Server:
    """A local HTTP server for the packages; /cut/NAME sends half of NAME and hangs up,
    /pull/NAME half and then cuts the node's power (on_pull); after[path]() runs once path is sent."""

    def __init__(self, root):
        self.on_pull = None
        self.after = {}  # path -> called once it has been sent
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                kind, _, name = self.path.lstrip("/").partition("/")
                if kind not in ("cut", "pull"):
                    super().do_GET()
                    if self.path in outer.after:
                        outer.after.pop(self.path)()
                    return
                data = (root / name).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:len(data) // 2])
                self.wfile.flush()
                if kind == "pull":
                    time.sleep(0.5)  # the node has written some of /next
                    outer.on_pull()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = "http://127.0.0.1:%d/" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def broker():
    """Persistent: the test's subscriber misses nothing across the broker's restart."""
    with Mosquitto(persistence=True) as b:
        yield b


@pytest.fixture(scope="module")
def node(broker, tmp_path_factory, keys):
    """One virtual node for the module (the tests run in order), running the built
    bundle and trusting the `town` key."""
    inv = tmp_path_factory.mktemp("inv") / "fleet.csv"
    inv.write_text("device_id,municipality,board,sensors,lat,lon,broker,apikey,interval\n"
                   "vb-7,ljubljana,unix-sim,sds011,46.0511,14.5051,127.0.0.1:%d,k7,1\n" % broker.port)
    fleet = provision.read_inventory(inv, {"default": {"wifi": {"ssid": "lab", "password": "wifi-secret"}}})
    cfg, profile = fleet["vb-7"]
    cfg["ota"] = {"key": release.public_bytes(keys["town"]).hex(), "trial": 5}
    cfg["broker"].update(backoff_base=0.2, backoff_cap=1)
    build.build("unix-sim")
    with VirtualBoard() as vb:
        with Link(vb.device) as link:
            provision.write_to_node(link, cfg, profile)
        deploy.deploy(vb.device, paths.BUILD / "bundle" / "unix-sim", wait=40, log=lambda *a: None)
        vb.inventory = inv
        yield vb


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    d = tmp_path_factory.mktemp("www")
    s = Server(d)
    yield d, s
    s.close()


def bundle(tmp_path, name, version):
    d = tmp_path / name
    d.mkdir()
    return second_version(d, version)


def agent(port):
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="agent")
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def update(agent_, col, url, until, timeout=40, **extra):
    """Send `update`; -> the node's answers until one starts with until."""
    agent_.publish(CMD, json.dumps({"update": dict(url=url, **extra)}), qos=1)
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for t, p, _ in col.drain(lambda m: m, timeout=0.5):
            if t == CMDEXE:
                got.append(json.loads(p)["update"])
        if got and got[-1].startswith(until):
            return got
    raise AssertionError("no answer %r within %d s; got %r" % (until, timeout, got))


def publishing(col, timeout=30):
    """Wait until the node publishes (it is connected and takes commands)."""
    assert col.drain(lambda m: any(t.endswith("/attrs") for t, _, _ in m), timeout=timeout)


def running(node):
    return inspect.inspect(node.device, listen=0)["status"]["cur"]


def test_refused_packages_and_a_cut_download_leave_the_node_on_its_version(broker, node, served, keys, tmp_path):
    www, server = served
    v1 = json.loads((paths.BUILD / "bundle/unix-sim/manifest.json").read_text())["version"]
    v2 = bundle(tmp_path, "a", "0.2.0")
    release.package(v2, keys["town"], www / "good.snup")
    release.package(v2, keys["other"], www / "otherkey.snup")
    release.package(paths.BUILD / "bundle/unix-sim", keys["town"], www / "same.snup")
    data = bytearray((www / "good.snup").read_bytes())
    data[-200] ^= 0x01
    (www / "flipped.snup").write_bytes(bytes(data))
    server.on_pull = node.power_cut
    col = Collector(broker.port, topic="/json/#", client_id="ota-watch")
    a = agent(broker.port)
    try:
        cases = (("flipped.snup", "sha256 does not match the manifest"),
                 ("otherkey.snup", "this node trusts key %s only" % release.key_id(release.public_bytes(keys["town"]))),
                 ("cut/good.snup", "the download was cut short"),
                 ("same.snup", "is not newer than the running %s" % v1),
                 ("missing.snup", "the server answered 404"))
        for name, why in cases:
            got = update(a, col, server.url + name, "ERROR")
            assert why in got[-1], (name, got)
            assert got[0] == "downloading %s" % (server.url + name)
        # Power gone while /next fills: the boot after throws the half of it away.
        boots = node.boots
        a.publish(CMD, json.dumps({"update": {"url": server.url + "pull/good.snup"}}), qos=1)
        deadline = time.monotonic() + 30
        while node.boots == boots and time.monotonic() < deadline:
            time.sleep(0.2)
        assert node.boots > boots
        publishing(col)
    finally:
        a.loop_stop()
        col.close()
    assert running(node) == v1 and v1.startswith(RELEASED)
    with Link(node.device) as link:
        assert not link.eval("_exists('/next')")


def test_a_good_update_confirms_and_one_that_cannot_publish_is_rolled_back(broker, node, served, keys, tmp_path):
    www, server = served
    v2 = bundle(tmp_path, "a", "0.2.0")
    v3 = bundle(tmp_path, "b", "0.3.0")
    release.package(v2, keys["town"], www / "v2.snup")
    release.package(v3, keys["town"], www / "v3.snup")
    col = Collector(broker.port, topic="/json/#", client_id="ota-watch-2")
    a = agent(broker.port)
    try:
        publishing(col)  # again, after the last test looked at it over USB
        got = update(a, col, server.url + "v2.snup", "OK", timeout=60)
        assert "0.2.0 verified; rebooting into it" in got
        assert got[-1] == "OK 0.2.0 confirmed: it published"
        # The broker goes away once v3 is downloaded: v3 cannot publish, so it must not stay.
        boots = node.boots
        server.after["/v3.snup"] = broker.stop
        a.publish(CMD, json.dumps({"update": {"url": server.url + "v3.snup"}}), qos=1)
        deadline = time.monotonic() + 60
        while node.boots < boots + 2 and time.monotonic() < deadline:  # v3, then v2 again
            time.sleep(0.2)
        assert node.boots >= boots + 2
        broker.start()
        got, health = [], []
        deadline = time.monotonic() + 40
        # Health logged by 0.2.0 before the broker went (lastUpdate: its own confirmation)
        # arrives with the backlog; wait for one logged after the rollback.
        while not (got and got[-1].startswith("ERROR") and any(o["uplink"] == "connected" for o in health)
                   and any(o.get("lastUpdate", "").startswith("ERROR rolled back") for o in health)) \
                and time.monotonic() < deadline:
            msgs = col.drain(lambda m: m, timeout=0.5)
            got += [json.loads(p)["update"] for t, p, _ in msgs if t == CMDEXE]
            health += [o for t, o in readings(msgs) if t == DEVICE]
        assert got[-1].startswith("ERROR rolled back to 0.2.0: 0.3.0 did not publish within 5 s"), got
        # The platform sees which build runs: the Device's firmwareVersion is the bundle's
        # version (not the app's own 0.1.0). Health that 0.3.0 logged while on trial is
        # delivered with its version (the logging firmware's); the newest says 0.2.0.
        assert [o["firmwareVersion"] for o in health if o["uplink"] == "connected"][-1] == "0.2.0"
        # and how the last update ended, in every health reading since (the newest logged:
        # the highest seq)
        assert max(health, key=lambda o: o["seq"]).get("lastUpdate") == got[-1][:80]
        assert {o["firmwareVersion"] for o in health} <= {"0.2.0", "0.3.0"}
    finally:
        a.loop_stop()
        col.close()
    assert running(node) == "0.2.0"
