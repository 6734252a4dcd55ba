from mptest import raises, scratch

from app import config, schema


def test_schema_names_each_bad_field():
    errs = dict(schema.validate({"device_id": "a b", "interval": 0}))
    assert set(errs) == {"device_id", "apikey", "interval"}
    assert schema.validate({"device_id": "lj-1", "apikey": "k", "interval": 300}) == []


def test_load_refuses_a_bad_file():
    path = scratch("config.json")
    with open(path, "w") as f:
        f.write('{"device_id": "a b", "interval": "soon"}')
    e = raises(config.ConfigError, config.load, path)
    assert "device_id" in str(e) and "interval" in str(e)
    with open(path, "w") as f:
        f.write("{not json")
    raises(config.ConfigError, config.load, path)


def test_a_field_this_firmware_refuses_falls_back_to_its_default():
    # An older firmware wrote keepalive 70000 (it wrapped to 4464 on the wire): the
    # node boots with the default for that field only and says so.
    path = scratch("config-old.json")
    with open(path, "w") as f:
        f.write('{"device_id": "lj-1", "apikey": "k", "interval": "soon", "broker": {"host": "mq",'
                ' "keepalive": 70000, "port": 1884}, "traffic": {"lanes": [{"lane": 1}, {"lane": 2,'
                ' "spacing_m": -3}]}}')
    cfg = config.load(path)
    assert cfg["interval"] == 300 and cfg["broker"] == {"host": "mq", "port": 1884}
    assert cfg["traffic"]["lanes"] == [{"lane": 1}, {"lane": 2}]
    assert schema.validate(cfg) == []


def test_a_remote_update_is_saved_only_when_valid():
    # The one update path: Commands checks against the schema, ConfigStore writes.
    import json
    from app.commands import Commands, ConfigStore

    path = scratch("update.json")
    with open(path, "w") as f:
        f.write('{"device_id": "lj-1", "apikey": "k", "interval": 300}')
    cfg = config.load(path)
    c = Commands(cfg, None, ConfigStore(path))
    (_, result), = c.handle(b'{"config": {"interval": -5, "air": {"humid": "wet"}}}')
    assert result.startswith("ERROR") and "interval:" in result and "air.humid:" in result
    assert config.load(path)["interval"] == 300  # the file on flash is untouched
    assert c.handle(b'{"config": {"interval": 60}}') == [("config", "OK")]
    with open(path) as f:
        assert json.load(f)["interval"] == 60


def _fresh(name):
    import os
    path = scratch("%s.json" % name)
    for p in (path, path + ".last", path + ".good", path + ".tmp"):
        try:
            os.remove(p)
        except OSError:
            pass
    return path


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def test_a_corrupt_config_outside_a_trial_runs_on_the_last_good_one():
    from app import run
    from app.commands import ConfigStore

    path = _fresh("fallback")
    _write(path, '{"device_id": "lj-1", "apikey": "k", "interval": 60}')
    store = ConfigStore(path)
    assert run.load_config(path, store)["interval"] == 60  # loads, and is kept as the last good
    with open(path + ".last") as f:
        assert '"interval": 60' in f.read()
    for bad in ('{"device_id": "lj-1", "apikey": "k", "interv', "[1, 2]", '{"device_id": "lj 1", "apikey": "k"}'):
        _write(path, bad)
        cfg = run.load_config(path, store)
        assert cfg["device_id"] == "lj-1" and cfg["interval"] == 60, bad
    with open(path) as f:  # the bad file stays for the technician to see (inspect) and replace
        assert f.read() == bad


def test_the_last_good_config_follows_each_good_one():
    from app import run
    from app.commands import ConfigStore

    path = _fresh("follow")
    store = ConfigStore(path)
    _write(path, '{"device_id": "lj-1", "apikey": "k", "interval": 60}')
    run.load_config(path, store)
    _write(path, '{"device_id": "lj-1", "apikey": "k", "interval": 90}')
    run.load_config(path, store)
    _write(path, "{not json")
    assert run.load_config(path, store)["interval"] == 90


def test_without_a_last_good_config_the_error_says_what_to_do():
    from app import run
    from app.commands import ConfigStore

    path = _fresh("nolast")
    _write(path, "{not json")
    e = raises(config.ConfigError, run.load_config, path, ConfigStore(path))
    msg = str(e)
    assert path in msg and "not valid JSON" in msg and "no last good config" in msg
    assert "smartnode provision" in msg


def test_a_config_cut_short_is_refused():
    # MicroPython's json.loads('{"a": 1') gives {'a': 1}: a truncated file must not load.
    path = _fresh("cut")
    whole = '{"device_id": "lj-1", "apikey": "k", "log": {"label": "x\\\\\\"}"}, "broker": {"host": "h"}}'
    _write(path, whole)
    assert config.load(path)["log"]["label"] == 'x\\"}'
    for n in (len(whole) - 1, whole.index("}") + 1, 30):
        _write(path, whole[:n])
        e = raises(config.ConfigError, config.load, path)
        assert "not valid JSON" in str(e), n
