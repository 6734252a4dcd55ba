from mptest import raises

from app import config, schema


def test_schema_names_each_bad_field():
    errs = dict(schema.validate({"device_id": "a b", "interval": 0}))
    assert set(errs) == {"device_id", "apikey", "interval"}
    assert schema.validate({"device_id": "lj-1", "apikey": "k", "interval": 300}) == []


def test_load_refuses_a_bad_file():
    path = "/tmp/smartnode-test-config.json"
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
    path = "/tmp/smartnode-test-config-old.json"
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

    path = "/tmp/smartnode-test-update.json"
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
