"""Remote commands through a real Mosquitto to the firmware under the unix port."""
import json
import random

import paho.mqtt.client as mqtt

from host_tools.broker import free_port
from host_tools.virtualnode import VirtualNode
from tests.uplinkhelp import Collector, readings

FAST_RETRY = {"broker": {"backoff_base": 0.2, "backoff_cap": 0.5, "keepalive": 10}}
CMD = "/k/cm-1/cmd"
CMDEXE = "/json/k/cm-1/cmdexe"


def agent(port):
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="agent")
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def answers(msgs):
    return [json.loads(p) for t, p, _ in msgs if t == CMDEXE]


def wait_answer(col, name, timeout=20, want=None):
    """Answers to command `name` until one (or the one equal to want) has come."""
    match = (lambda a: name in a) if want is None else (lambda a: a == want)
    msgs = col.drain(lambda m: any(match(a) for a in answers(m[-1:])), timeout=timeout)
    return [a for a in answers(msgs) if name in a]


def fuzz_payloads(n, seed=6):
    rnd = random.Random(seed)
    good = [b'{"ping": {"data": "1"}}', b'{"interval": {"data": "1"}}', b'{"calibrate": {}}',
            b'{"config": {"interval": 1}}']
    out = []
    for i in range(n):
        k = i % 5
        if k == 0:
            p = rnd.randbytes(rnd.randrange(0, 80))
        elif k == 1:
            p = bytearray(rnd.choice(good))
            for _ in range(rnd.randrange(1, 4)):
                p[rnd.randrange(len(p))] = rnd.randrange(256)
            p = bytes(p)
        elif k == 2:
            p = rnd.choice(good)[:rnd.randrange(1, 20)]
        elif k == 3:
            p = json.dumps({rnd.choice(["ping", "config", "interval", "x", ""]):
                            rnd.choice([None, [], {"data": {}}, -5, "9" * 30, {"broker": 1}])}).encode()
        else:
            p = b'{"ping": "' + b"x" * rnd.choice([900, 2000, 70000]) + b'"}'  # oversized
        out.append(p)
    return out


def test_fuzzed_commands_leave_the_node_running_and_publishing(broker):
    col = Collector(broker.port, topic="/json/#")
    with VirtualNode(broker.port, interval=1, period_ms=100, device_id="cm-1", apikey="k",
                     config=FAST_RETRY) as node:
        before = col.drain(lambda m: any(t.endswith("-aq/attrs") for t, _ in readings(m)), timeout=20)
        ag = agent(broker.port)
        payloads = fuzz_payloads(3000)
        for k in range(0, len(payloads), 250):
            for p in payloads[k:k + 250]:
                ag.publish(CMD, p, qos=1)
            # Mosquitto queues at most 1000 messages for a busy client and drops the
            # rest: let the node catch up, so every payload of the fuzz reaches it.
            ag.publish(CMD, b'{"ping": {"data": "%d"}}' % k, qos=1)
            want = {"ping": "pong %d" % k}
            col.drain(lambda m: bool(m) and want in answers(m[-1:]), timeout=120)
        ag.publish(CMD, b'{"interval": 1}', qos=1)  # the fuzz may have set up to 9 s
        ag.publish(CMD, b'{"ping": {"data": "after"}}', qos=1)
        msgs = col.drain(lambda m: bool(m) and answers(m[-1:]) == [{"ping": "pong after"}], timeout=60)
        pongs = answers(msgs)
        # Readings logged after the fuzz still go out (numbers above all so far).
        last = max(o["seq"] for t, o in readings(before + msgs))
        later = col.drain(lambda m: any(t.endswith("-aq/attrs") and o["seq"] > last + 1
                                        for t, o in readings(m)), timeout=20)
        alive = node.proc.poll() is None
        ag.loop_stop()
        ag.disconnect()
    col.close()
    assert alive
    assert {"ping": "pong after"} in pongs
    assert any(t.endswith("-aq/attrs") for t, _ in readings(later))


def test_config_is_rolled_back_when_the_broker_is_unreachable(broker, tmp_path):
    col = Collector(broker.port, topic="/json/#")
    with VirtualNode(broker.port, interval=1, period_ms=100, device_id="cm-1", apikey="k",
                     config=FAST_RETRY, workdir=str(tmp_path)) as node:
        col.drain(lambda m: any(t.endswith("/deviceState") for t, _, _ in m), timeout=20)
        ag = agent(broker.port)
        dead = free_port()
        ag.publish(CMD, json.dumps({"config": {"broker": {"port": dead}}}), qos=1)
        (rolled,) = wait_answer(col, "config", timeout=30)
        assert rolled["config"].startswith("ERROR rolled back")
        saved = json.loads((tmp_path / "config.json").read_text())
        assert saved["broker"]["port"] == broker.port
        assert not (tmp_path / "config.json.good").exists()
        # A good change is kept: answered OK once the node is back with it.
        ag.publish(CMD, json.dumps({"config": {"broker": {"keepalive": 30}}}), qos=1)
        (ok,) = wait_answer(col, "config", timeout=30)
        assert ok == {"config": "OK"}
        assert json.loads((tmp_path / "config.json").read_text())["broker"]["keepalive"] == 30
        ag.publish(CMD, '{"interval": {"data": "2"}}', qos=1)
        assert wait_answer(col, "interval") == [{"interval": "OK"}]
        assert json.loads((tmp_path / "config.json").read_text())["interval"] == 2
        ag.publish(CMD, '{"reboot": {}}', qos=1)
        assert wait_answer(col, "reboot") == [{"reboot": "rebooting"}]
        node.proc.wait(10)  # the unix board's reboot ends the process
        ag.loop_stop()
        ag.disconnect()
    col.close()


def test_values_the_node_cannot_honour_are_refused_and_nothing_is_lost(broker, tmp_path):
    """Found by fuzzing: 1e999 (inf) was saved as `inf` and the node could not boot
    again; 70000 wrapped the 16-bit keepalive; 10**400 and 1e-9 were taken. Each is
    refused now, a window change applies at once, 1 MB payloads and commands sent
    while the node reconnects do not disturb it, and every reading arrives."""
    col = Collector(broker.port, topic="/json/#")
    with VirtualNode(broker.port, interval=1, period_ms=100, device_id="cm-1", apikey="k",
                     config=FAST_RETRY, workdir=str(tmp_path)) as node:
        seen = col.drain(lambda m: any(t.endswith("-aq/attrs") for t, _ in readings(m)), timeout=20)
        ag = agent(broker.port)
        refused = ['{"config": {"health": {"interval": 1e999}}}',
                   '{"config": {"broker": {"keepalive": 70000}}}',
                   '{"config": {"broker": {"keepalive": 1%s}}}' % ("0" * 400),
                   '{"config": {"broker": {"window": 1e-9}}}',
                   '{"config": {"health": {"interval": 1e-9}}}']
        for p in refused:
            ag.publish(CMD, p, qos=1)
            got = col.drain(lambda m: any("config" in a for a in answers(m)), timeout=20)
            seen += got
            (a,) = [a for a in answers(got) if "config" in a]
            assert a["config"].startswith("ERROR "), (p, a)
        for _ in range(3):
            ag.publish(CMD, b'{"ping": "' + b"x" * 1_000_000 + b'"}', qos=1)
        ag.publish(CMD, '{"config": {"broker": {"window": 2}}}', qos=1)  # a new connection ...
        ag.publish(CMD, '{"config": {"display": {"period": 5}}}', qos=1)  # ... answered before it
        for i in range(20):  # ... and commands while it is being made (clean session: these
            ag.publish(CMD, '{"ping": {"data": "r%d"}}' % i, qos=1)  # may be lost, never harm)
        seen += col.drain(lambda m: {"config": "OK"} in answers(m), timeout=30)
        ag.publish(CMD, '{"ping": {"data": "end"}}', qos=1)
        seen += col.drain(lambda m: {"ping": "pong end"} in answers(m), timeout=30)
        seen += col.drain(lambda m: len(readings(m)) >= 5, timeout=20)
        ag.loop_stop()
        ag.disconnect()
        alive = node.proc.poll() is None
    col.close()
    assert alive
    configs = [a["config"] for a in answers(seen) if "config" in a]
    assert configs[-2:] == ["OK, display after the next reboot", "OK"], answers(seen)
    assert {"ping": "pong end"} in answers(seen)
    saved = json.loads((tmp_path / "config.json").read_text())  # JSON that loads again
    assert saved["broker"]["window"] == 2 and saved["display"] == {"period": 5}
    # Health and air readings alike: none missing between the first and the last seen.
    seqs = sorted({o["seq"] for t, o in readings(seen)})
    assert len(seqs) > 5 and seqs == list(range(seqs[0], seqs[-1] + 1))
    # The node boots again on what it saved.
    col = Collector(broker.port, topic="/json/#", client_id="collector-2")
    with VirtualNode(broker.port, device_id="cm-1", apikey="k", workdir=str(tmp_path)):
        later = col.drain(lambda m: any(t.endswith("-aq/attrs") for t, _ in readings(m)), timeout=30)
    col.close()
    assert any(t.endswith("-aq/attrs") for t, _ in readings(later))
