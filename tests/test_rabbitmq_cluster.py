"""Regions that outgrow one broker: a three-member RabbitMQ cluster on loopback, the agent's
queue replicated on every member; a node fails over between members by its host list
(broker.hosts) and nothing is lost when the member it uses stops."""
import time

import pika
import pytest

from host_tools.rabbitmq import Cluster, definitions
from host_tools.virtualnode import VirtualNode
from tests.test_rabbitmq import CREDS, FLEET, Agent, measures, node_config
from tests.test_uplink_broker import aq, check_complete_and_ordered, unix


def both_kinds():
    """The fleet's definitions with the agent's queue as a quorum queue (iotaqueue) and a
    mirrored twin (mirrored) on the same bindings: both get every reading."""
    defs = definitions(FLEET, CREDS, cluster="quorum")
    twin = definitions(FLEET, CREDS, queue="mirrored", cluster="mirrored")
    for k in ("queues", "bindings", "policies"):
        defs[k] += twin[k]
    for p in defs["permissions"]:
        if p["user"] == "iota":  # the agent may use either
            p.update((k, p[k].replace("iotaqueue", "(iotaqueue|mirrored)")) for k in ("configure", "write", "read"))
    return defs


@pytest.fixture(scope="module")
def cluster():
    with Cluster(size=3, definitions=both_kinds()) as c:
        yield c


def test_queues_are_replicated_on_every_member(cluster):
    out = cluster.nodes[0].ctl("list_queues", "name", "type", "members", "pid", "slave_pids",
                               "--no-table-headers").stdout
    rows = {line.split("\t")[0]: line for line in out.splitlines() if "\t" in line}
    for member in cluster.nodes:
        assert member.node in rows["iotaqueue"]  # a quorum queue member on each
        assert member.node in rows["mirrored"]  # the master or a mirror on each
    assert "\tquorum\t" in rows["iotaqueue"] and "\tclassic\t" in rows["mirrored"]


def test_how_the_agent_declares_its_queue(cluster):
    # iotagent-json 3.14 asserts its queue with no arguments (lib/bindings/AMQPBinding.js):
    # a mirrored classic queue accepts that; RabbitMQ 3.10 refuses it on a quorum queue.
    conn = pika.BlockingConnection(pika.ConnectionParameters(
        "127.0.0.1", cluster.nodes[1].amqp_port, credentials=pika.PlainCredentials("iota", CREDS["iota"])))
    try:
        conn.channel().queue_declare("mirrored", durable=True)
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
            conn.channel().queue_declare("iotaqueue", durable=True)
        assert e.value.reply_code == 406 and "x-queue-type" in e.value.reply_text
    finally:
        conn.close()


def test_a_member_stops_and_the_node_fails_over_losing_nothing(cluster):
    first, second, third = cluster.nodes
    cfg = node_config("rb-1")
    cfg["broker"].update(port=first.mqtt_port, hosts=["127.0.0.1:%d" % n.mqtt_port for n in (second, third)])
    agent = Agent(third.amqp_port)  # the agent on a member that stays
    node = VirtualNode(first.mqtt_port, interval=1, period_ms=100, device_id="rb-1", apikey="k",
                       config=cfg).start()
    try:
        before = agent.take(lambda m: len(aq(measures(m))) >= 3, timeout=30)
        first.stop()
        stopped = time.time()
        after = agent.take(lambda m: any(unix(o["TimeInstant"]) > stopped + 3 for o in aq(measures(m))),
                           timeout=60)
        twin = Agent(third.amqp_port, "mirrored")
        mirrored = twin.take(lambda m: any(unix(o["TimeInstant"]) > stopped + 3 for o in aq(measures(m))),
                             timeout=30)
        twin.close()
    finally:
        node.stop()
        agent.close()
    for objs in (measures(before + after), measures(mirrored)):
        check_complete_and_ordered(objs)
        # readings taken around the stop arrived through the other members
        assert any(stopped - 1 <= unix(o["TimeInstant"]) <= stopped + 2 for o in aq(objs))
    health = [o for t, o in measures(before + after) if t == "/k/rb-1/attrs"]
    assert any(o.get("uplink") == "disconnected" for o in health)  # it did lose its member
