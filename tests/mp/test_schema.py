# The one config schema, under MicroPython (the host runs the same file under CPython).
from app import schema

GOOD = {
    "device_id": "lj-0007", "municipality": "ljubljana", "apikey": {"air": "aq-key", "device": "dev-key"},
    "board": "esp32-devkitc", "interval": 300, "location": {"lat": 46.0511, "lon": 14.5051},
    "broker": {"host": "mqtt.example.org", "port": 8883, "tls": True, "user": "lj", "password": "s3cret"},
    "wifi": {"ssid": "city-iot", "password": "longenough"},
    "air": {"sensors": {"sds011": {"uart": "pm"}}},
}


def fields(cfg, strict=False):
    return sorted(f for f, _ in schema.validate(cfg, strict))


def test_a_complete_good_config_passes_strictly():
    assert schema.validate(GOOD, strict=True) == []


def test_each_bad_field_is_named_once():
    bad = schema.merged(GOOD, {
        "municipality": "Ljubljana City", "location": {"lat": 91, "lon": -181.5},
        "broker": {"port": 70000, "tls": "yes"}, "wifi": {"ssid": "", "password": "short"},
        "apikey": {"air": "a/b", "lights": "x"}, "interval": True})
    assert fields(bad) == ["apikey.air", "apikey.lights", "broker.port", "broker.tls", "interval",
                           "location.lat", "location.lon", "municipality", "wifi.password", "wifi.ssid"]


def test_required_fields_and_unknown_keys():
    assert fields({}) == ["apikey", "device_id"]
    typo = schema.merged(GOOD, {"intervall": 60})
    assert fields(typo) == []  # the device boots with a newer or odd config
    assert fields(typo, strict=True) == ["intervall"]


def test_a_remote_update_is_applied_only_when_the_result_is_valid():
    cfg, errs = schema.update(GOOD, {"interval": 0, "location": {"lat": 46.1}})
    assert cfg is GOOD and [f for f, _ in errs] == ["interval"]
    cfg, errs = schema.update(GOOD, {"interval": 60, "location": {"lat": 46.1}})
    assert errs == [] and cfg["interval"] == 60 and cfg["location"] == {"lat": 46.1, "lon": 14.5051}
    assert GOOD["interval"] == 300


def test_masked_hides_secrets_only():
    m = schema.masked(GOOD)
    assert m["wifi"]["password"] == "***" and m["broker"]["password"] == "***"
    assert m["wifi"]["ssid"] == "city-iot" and m["broker"]["user"] == "lj"
    assert GOOD["wifi"]["password"] == "longenough"
