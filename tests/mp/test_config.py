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
