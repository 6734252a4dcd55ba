# Remote commands under MicroPython: results, validation, persistence, fuzzing.
import json
import os

from mptest import scratch

from app.commands import MAX_PAYLOAD, Commands, ConfigStore, Deferred


class Pipelines:
    """Stands where app.node.Node offers a command to its pipelines."""

    def __init__(self):
        self.calls = []

    def command(self, name, params):
        self.calls.append((name, params))
        return "baseline set" if name == "calibrate" else None


def base_cfg():
    return {"device_id": "lj-7", "apikey": "k", "interval": 300,
            "broker": {"host": "127.0.0.1", "port": 1883}}


def fresh_store(name):
    path = scratch("cmd-%s.json" % name)
    for p in (path, path + ".good", path + ".tmp"):
        try:
            os.remove(p)
        except OSError:
            pass
    return ConfigStore(path)


def test_ping_answers_pong_with_the_agents_data():
    c = Commands(base_cfg(), Pipelines())
    # fiware-contract: {"ping": {"data": "22"}} is answered {"ping": "pong 22"}.
    assert c.handle(b'{"ping": {"data": "22"}}') == [("ping", "pong 22")]
    assert c.handle(b'{"ping": ""}') == [("ping", "pong ")]


def test_interval_is_validated_applied_and_persisted():
    store = fresh_store("interval")
    applied = []
    cfg = base_cfg()
    c = Commands(cfg, Pipelines(), store, apply=lambda cfg, changed: applied.append((cfg, changed)))
    assert c.handle(b'{"interval": {"data": "60"}}') == [("interval", "OK")]
    assert cfg["interval"] == 60 and applied == [(cfg, {"interval": 60})]
    with open(store.path) as f:
        assert json.load(f)["interval"] == 60
    name, result = c.handle(b'{"interval": 0}')[0]
    assert result.startswith("ERROR") and "interval" in result and cfg["interval"] == 60
    assert c.handle(b'{"interval": "soon"}')[0][1].startswith("ERROR")


def test_calibrate_goes_to_the_pipelines():
    p = Pipelines()
    c = Commands(base_cfg(), p)
    assert c.handle(b'{"calibrate": {"data": "spot 2"}}') == [("calibrate", "baseline set")]
    assert p.calls == [("calibrate", "spot 2")]


def test_reboot_and_broker_changes_are_deferred_to_the_link():
    c = Commands(base_cfg(), Pipelines())
    (name, r), = c.handle(b'{"reboot": {}}')
    assert name == "reboot" and isinstance(r, Deferred) and r.kind == "reboot"
    (name, r), = c.handle(b'{"config": {"broker": {"port": 1884}}}')
    assert isinstance(r, Deferred) and r.kind == "trial"
    assert r.cfg["broker"] == {"host": "127.0.0.1", "port": 1884}
    (name, r), = c.handle(b'{"config": {"broker": {"port": 70000}}}')
    assert r.startswith("ERROR") and "broker.port" in r


def test_config_store_trial_commit_and_rollback():
    store = fresh_store("trial")
    good, new = base_cfg(), base_cfg()
    new["broker"]["port"] = 1999
    store.save(good)
    store.begin_trial(good, new)
    assert store.in_trial()
    with open(store.path) as f:
        assert json.load(f)["broker"]["port"] == 1999
    assert store.rollback() == good and not store.in_trial()
    with open(store.path) as f:
        assert json.load(f) == good
    store.begin_trial(good, new)
    store.commit()
    assert not store.in_trial()


def test_bad_commands_get_an_error_result():
    c = Commands(base_cfg(), Pipelines())
    for payload in (b"", b"not json", b"[1,2]", b"{}", b"null", b'"ping"', b"\xff\xfe",
                    b'{"ping": 1', None, b"{" + b" " * MAX_PAYLOAD + b"}"):
        out = c.handle(payload)
        assert len(out) == 1 and out[0][1].startswith("ERROR"), (payload, out)
    assert c.handle(b'{"selfdestruct": 1}') == [("selfdestruct", "ERROR unknown command")]
    assert c.handle(b'{"__init__": 1}')[0][1] == "ERROR unknown command"
    out = c.handle(b'{"config": {"device_id": "a b"}}')
    assert out[0][1].startswith("ERROR") and "device_id" in out[0][1]


def test_fuzz_thousands_of_random_payloads_never_raise():
    import random

    random.seed(6)
    cfg = base_cfg()
    c = Commands(cfg, Pipelines(), fresh_store("fuzz"), apply=lambda cfg, changed: None)
    seeds = [b'{"ping": {"data": "1"}}', b'{"interval": 60}', b'{"config": {"interval": 5}}',
             b'{"calibrate": {}}', b'{"config": {"broker": {"host": ""}}}', b'{"reboot": 1}']
    for i in range(4000):
        kind = i % 4
        if kind == 0:  # random bytes
            p = bytes(random.getrandbits(8) for _ in range(random.getrandbits(6)))
        elif kind == 1:  # a valid command with bytes flipped
            p = bytearray(seeds[random.getrandbits(8) % len(seeds)])
            for _ in range(1 + random.getrandbits(2)):
                p[random.getrandbits(8) % len(p)] = random.getrandbits(8)
            p = bytes(p)
        elif kind == 2:  # valid JSON, wrong shapes and types
            v = random.choice([None, True, -1, 1e308, "x" * 40, [], [1], {"data": None}, {"a": {}}])
            p = json.dumps({random.choice(["ping", "interval", "config", "calibrate", "x"]): v}).encode()
        else:  # truncated
            s = seeds[random.getrandbits(8) % len(seeds)]
            p = s[:random.getrandbits(8) % len(s)]
        out = c.handle(p)
        assert out and all(isinstance(n, str) for n, _ in out), (p, out)
    # Still a sane node: config intact and commands still work.
    assert isinstance(cfg["interval"], int) and 1 <= cfg["interval"] <= 86400, cfg
    assert c.handle(b'{"ping": {"data": "ok"}}') == [("ping", "pong ok")]


def test_config_refuses_unknown_fields_and_nulls():
    cfg = base_cfg()
    c = Commands(cfg, Pipelines())
    assert c.handle(b'{"config": {"intervall": 5}}')[0][1].startswith("ERROR unknown config field")
    assert c.handle(b'{"config": {"interval": null}}')[0][1].startswith("ERROR")
    assert cfg == base_cfg()


def test_a_config_that_would_not_load_again_is_never_written():
    store = fresh_store("inf")
    cfg = base_cfg()
    store.save(cfg)
    c = Commands(cfg, Pipelines(), store)
    # json.loads reads 1e999 as inf and json.dump would write `inf` (not JSON): refused.
    (_, r), = c.handle(b'{"config": {"health": {"interval": 1e999}}}')
    assert r.startswith("ERROR") and "health.interval" in r
    bad = dict(base_cfg(), health={"interval": float("inf")})
    for write in (lambda: store.save(bad), lambda: store.begin_trial(cfg, bad)):
        try:
            write()
            raise AssertionError("written")
        except ValueError as e:
            assert "would not load again" in str(e)
    with open(store.path) as f:
        assert json.load(f) == base_cfg()
    assert not store.in_trial()


def test_the_answer_says_when_a_change_takes_effect():
    c = Commands(base_cfg(), Pipelines(), fresh_store("later"))
    assert c.handle(b'{"config": {"health": {"interval": 600}}}') == [("config", "OK")]
    (_, r), = c.handle(b'{"config": {"display": {"period": 5}, "log": {"sectors": 32}}}')
    assert r == "OK, display, log after the next reboot" or r == "OK, log, display after the next reboot"


def test_a_window_change_applies_to_the_running_uplink_at_once():
    from app import run
    from app.board_unix import Board
    from app.memlog import MemLog
    cfg = base_cfg()
    shell = run.Shell(cfg, Board({"uarts": {}}), MemLog(), fresh_store("window"))
    assert shell.uplink.window == 8
    (_, r), = shell.commands.handle(b'{"config": {"broker": {"window": 2}}}')
    assert isinstance(r, Deferred)  # a broker change is tried on a new connection ...
    shell.link._start_trial(r.cfg)
    assert shell.uplink.window == 2  # ... with the new window from its first publish


def test_every_failure_answer_begins_with_ERROR():
    # The agent shows `<cmd>_status` OK for any answer; only `<cmd>_info` says a command
    # failed, so every failure must read "ERROR <why>" (FIWARE contract, README Platform).
    from app.memlog import MemLog
    from app.node import Node

    cfg = base_cfg()
    cfg["parking"] = {"spots": [{"spot": 3}]}
    c = Commands(cfg, Node(cfg, None, MemLog()))
    failures = [None, b"", b"not json", b"[1]", b"{}", b'{"ping": 1', b"{" + b" " * MAX_PAYLOAD + b"}",
                b'{"selfdestruct": 1}', b'{"x-y": 1}',
                b'{"interval": "soon"}', b'{"interval": 0}', b'{"interval": 1.5}', b'{"interval": {"data": []}}',
                b'{"calibrate": {"spot": 9}}', b'{"calibrate": {"seconds": 0}}', b'{"calibrate": {"lane": 1}}',
                b'{"config": "not json"}', b'{"config": []}', b'{"config": {}}', b'{"config": {"nosuch": 1}}',
                b'{"config": {"interval": null}}', b'{"config": {"broker": {"port": 0}}}',
                b'{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}']
    for payload in failures:
        out = c.handle(payload)
        assert out and all(r.startswith("ERROR ") for _, r in out), (payload, out)
    assert Commands(base_cfg(), Node(base_cfg(), None, MemLog())).handle(b'{"calibrate": {}}') == [
        ("calibrate", "ERROR no sensor to calibrate")]

    class Broken:
        def command(self, name, params):
            raise RuntimeError("bug")

    (name, result), = Commands(base_cfg(), Broken()).handle(b'{"calibrate": {}}')
    assert name == "calibrate" and result.startswith("ERROR internal")  # shown as calibrate_info
