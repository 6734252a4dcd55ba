from mptest import raises

from app import config, schema


def test_schema_names_each_bad_field():
    errs = dict(schema.validate({"device_id": "a b", "interval": 0}))
    assert set(errs) == {"device_id", "apikey", "interval"}
    assert schema.validate({"device_id": "lj-1", "apikey": "k", "interval": 300}) == []


def test_load_refuses_a_bad_file():
    path = "/tmp/smartnode-test-config.json"
    with open(path, "w") as f:
        f.write('{"interval": "soon"}')
    e = raises(config.ConfigError, config.load, path)
    assert "interval" in str(e)
    with open(path, "w") as f:
        f.write("{not json")
    raises(config.ConfigError, config.load, path)


def test_a_remote_update_is_saved_only_when_valid():
    import json
    path = "/tmp/smartnode-test-update.json"
    with open(path, "w") as f:
        f.write('{"device_id": "lj-1", "apikey": "k", "interval": 300}')
    cfg = config.load(path)
    same, errs = config.save_update(cfg, {"interval": -5, "broker": {"port": "x"}}, path)
    assert same is cfg and sorted(f for f, _ in errs) == ["broker.port", "interval"]
    assert config.load(path)["interval"] == 300  # the file on flash is untouched
    new, errs = config.save_update(cfg, {"interval": 60}, path)
    assert errs == [] and new["interval"] == 60
    with open(path) as f:
        assert json.load(f)["interval"] == 60
