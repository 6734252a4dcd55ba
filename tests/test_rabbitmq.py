"""The durable platform path: virtual nodes publish to a real RabbitMQ (MQTT plugin) with
the definitions `smartnode fleet rabbitmq` generates; a plain AMQP consumer stands in for
the IoT Agent's AMQP binding on the durable queue `iotaqueue`."""
import json
import time

import paho.mqtt.client as mqtt
import pika
import pytest

from host_tools.rabbitmq import QUEUE, RabbitMQ, definitions
from host_tools.virtualnode import VirtualNode
from tests.test_uplink_broker import aq, check_complete_and_ordered, unix

FLEET = {"agent": {"user": "iota"}, "nodes": [
    {"device_id": d, "apikey": "k", "air": {"sensors": {}}, "broker": {"user": d}} for d in ("rb-1", "rb-2")]}
CREDS = {"iota": "agent-secret", "rb-1": "pw-rb-1", "rb-2": "pw-rb-2"}


def node_config(dev):
    return {"broker": {"user": dev, "password": CREDS[dev], "topic_prefix": "", "backoff_base": 0.2,
                       "backoff_cap": 1.0, "keepalive": 10}}


@pytest.fixture(scope="module")
def rabbit():
    with RabbitMQ(definitions=definitions(FLEET, CREDS)) as r:
        yield r


class Agent:
    """What the agent's AMQP binding does with the queue: routing key back to a topic
    ('.' -> '/'), payload as received; reconnects when the broker drops it (the agent
    retries every second)."""

    def __init__(self, port, queue=QUEUE):
        self.port, self.queue = port, queue
        self.conn = None
        self._connect()

    def _connect(self):
        self.conn = pika.BlockingConnection(pika.ConnectionParameters(
            "127.0.0.1", self.port, credentials=pika.PlainCredentials("iota", CREDS["iota"])))
        self.ch = self.conn.channel()

    def take(self, until, timeout):
        """Messages (topic, payload, False) until until(list) or the timeout, oldest first."""
        out = []
        deadline = time.monotonic() + timeout
        while not until(out) and time.monotonic() < deadline:
            try:
                if self.conn is None:
                    self._connect()
                method, _, body = self.ch.basic_get(self.queue, auto_ack=True)
            except pika.exceptions.AMQPError:  # e.g. a quorum queue electing a new leader
                self.conn = None
                time.sleep(0.5)
                continue
            if method is None:
                time.sleep(0.1)
                continue
            out.append((method.routing_key.replace(".", "/"), body, False))
        return out

    def close(self):
        if self.conn is not None and self.conn.is_open:
            self.conn.close()


def measures(msgs):
    from tests.uplinkhelp import readings
    return readings(msgs)


def test_readings_wait_in_the_queue_while_the_agent_is_away_and_across_a_broker_restart(rabbit):
    agent = Agent(rabbit.amqp_port)
    node = VirtualNode(rabbit.mqtt_port, interval=1, period_ms=100, device_id="rb-1", apikey="k",
                       config=node_config("rb-1")).start()
    try:
        before = agent.take(lambda m: len(aq(measures(m))) >= 3, timeout=30)
        agent.close()  # the agent goes away; the node goes on publishing
        away = time.time()
        time.sleep(3)
        rabbit.stop()  # and the broker restarts while readings wait in the queue
        rabbit.start()
        restarted = time.time()
        time.sleep(4)  # the node reconnects and delivers its backlog; nobody consumes
        agent = Agent(rabbit.amqp_port)
        back = time.time()
        after = agent.take(lambda m: any(unix(o["TimeInstant"]) > back + 1 for o in aq(measures(m))),
                           timeout=40)
    finally:
        node.stop()
        agent.close()
    objs = measures(before + after)
    assert all(t.startswith("/k/rb-1") for t, _ in objs)  # the topic form the binding matches
    check_complete_and_ordered(objs)  # every reading, once or more, oldest first per entity
    readings_ = aq(objs)
    # Readings stamped while the agent was away, before and after the restart, all arrived.
    assert any(away + 0.5 <= unix(o["TimeInstant"]) <= restarted - 1 for o in readings_)
    assert any(restarted + 1 <= unix(o["TimeInstant"]) <= back - 0.5 for o in readings_)


def test_a_device_cannot_act_for_another(rabbit):
    """RabbitMQ 3.10 cannot bind a client id to a login (no ssl_cert_client_id_from, no
    use_username_as_clientid): another device's login may knock a node off. What the
    definitions still guarantee: it cannot publish the node's measures or status, nor make
    a last will fire on the node's topics."""
    agent = Agent(rabbit.amqp_port)
    victim = VirtualNode(rabbit.mqtt_port, interval=1, period_ms=100, device_id="rb-2", apikey="k",
                         config=node_config("rb-2")).start()
    try:
        agent.take(lambda m: len(aq(measures(m))) >= 1, timeout=30)
        for cid, will, topic, pm in (("rb-2", "/k/rb-2/attrs/deviceState", "/k/rb-1-aq/attrs", 1),
                                     ("rb-1", "/k/rb-2/attrs/deviceState", "/k/rb-1-aq/attrs", 2),
                                     ("rb-1", None, "/k/rb-2-aq/attrs", 999)):
            c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid)
            c.username_pw_set("rb-1", CREDS["rb-1"])  # a real device's login, not the victim's
            if will:
                c.will_set(will, '"offline"', qos=1, retain=True)
            c.connect("127.0.0.1", rabbit.mqtt_port)
            c.loop_start()
            time.sleep(0.5)
            c.publish(topic, json.dumps({"pm25": pm, "TimeInstant": "2026-11-21T22:00:00Z"}), qos=1)
            time.sleep(0.5)
            c.loop_stop()
            if c.socket() is not None:
                c.socket().close()  # gone without DISCONNECT: the broker would send the will
        time.sleep(2)
        got = agent.take(lambda m: False, timeout=4)
    finally:
        victim.stop()
        agent.close()
    status = [p for t, p, _ in got if t == "/k/rb-2/attrs/deviceState"]
    assert b'"offline"' not in status, status  # no will fired on the victim's status
    assert not any(o.get("pm25") == 999 for t, o in measures(got))  # nothing published as the victim
    # The attacker's own topic is open to it: the check above is not a dead broker.
    # (Under the victim's client id the broker may refuse or bounce it, so only the second.)
    assert 2 in {o.get("pm25") for t, o in measures(got) if t == "/k/rb-1-aq/attrs"}


TLS_PROBE = r"""
import json, sys
from app.mqtt import Session, tls_context
with open(sys.argv[2]) as f:
    b = json.load(f)
s = Session(b["user"], "localhost", int(sys.argv[1]), user=b["user"], password=b["password"],
            ssl_context=tls_context(b), timeout=10)
s.connect()
s.publish("/kair/lj-001-aq/attrs", '{"TimeInstant":"2026-11-21T22:00:00Z","pm25":7}', qos=1)
while s.outstanding:
    s.poll(1000)
s.disconnect()
print("published")
"""


def test_fleet_rabbitmq_output_runs_a_tls_broker_the_node_and_agent_use(tmp_path):
    """What `smartnode fleet rabbitmq` writes, run as written (ports and certificate paths
    aside): MQTT over TLS only, the fleet's logins, the agent's queue."""
    import subprocess
    import sys

    from host_tools import mp, paths
    from host_tools.broker import free_port
    from tests.pki import CA

    secrets = json.load(open(paths.ROOT / "host_tools/data/fleet-example-secrets.json"))
    secrets["default"]["broker"] = {"topic_prefix": ""}
    (tmp_path / "secrets.json").write_text(json.dumps(secrets))
    out = tmp_path / "rabbit"
    r = subprocess.run([sys.executable, "-m", "host_tools", "fleet", "rabbitmq",
                        str(paths.ROOT / "host_tools/data/fleet-example.csv"), "--secrets",
                        str(tmp_path / "secrets.json"), "--types",
                        str(paths.ROOT / "host_tools/data/fleet-example-types.json"), "--out", str(out)], cwd=paths.ROOT,
                       capture_output=True, text=True, check=True)
    assert "WARNING" not in r.stderr  # every node uses the topic form the binding matches
    ca = CA(str(tmp_path), "municipal-ca")
    crt, key = ca.issue("server", "localhost")
    tls = tmp_path / "tls"
    tls.mkdir()
    for src, name in ((ca.cert, "ca.pem"), (crt, "server.pem"), (key, "server.key")):
        (tls / name).write_bytes(open(src, "rb").read())
    mqtts, amqp = free_port(), free_port()
    conf = ((out / "rabbitmq.conf").read_text().replace("/etc/rabbitmq/tls", str(tls))
            .replace("= 8883", "= 127.0.0.1:%d" % mqtts).replace("= 5672", "= 127.0.0.1:%d" % amqp))
    creds = json.loads((out / "credentials.json").read_text())
    with RabbitMQ(conf=conf, ports=(amqp, mqtts)) as broker:
        node = {"tls": True, "ca": ca.cert, "user": "lj-001", "password": creds["lj-001"]}
        (tmp_path / "node.json").write_text(json.dumps(node))
        probe = mp.run(["-c", TLS_PROBE, str(mqtts), str(tmp_path / "node.json")], capture_output=True,
                       text=True, timeout=60)
        assert probe.stdout.strip().endswith("published"), probe.stdout + probe.stderr
        conn = pika.BlockingConnection(pika.ConnectionParameters(
            "127.0.0.1", amqp, credentials=pika.PlainCredentials("iota", creds["iota"])))
        method, _, body = conn.channel().basic_get(QUEUE, auto_ack=True)
        conn.close()
        listeners = broker.ctl("status").stdout
    # MQTT over TLS only: no plain MQTT listener.
    assert "protocol: mqtt/ssl" in listeners and "protocol: mqtt," not in listeners, listeners
    assert method.routing_key == ".kair.lj-001-aq.attrs" and json.loads(body)["pm25"] == 7
