# The one config schema, under MicroPython (the host runs the same file under CPython).
from app import schema

GOOD = {
    "device_id": "lj-0007", "municipality": "ljubljana", "apikey": {"air": "aq-key", "device": "dev-key", "parking": "p-key", "traffic": "t-key"},
    "board": "esp32-devkitc", "interval": 300, "location": {"lat": 46.0511, "lon": 14.5051},
    "broker": {"host": "mqtt.example.org", "port": 8883, "tls": True, "ca": "/ca.pem", "user": "lj",
               "password": "s3cret"},
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


def test_masked_hides_secrets_only():
    m = schema.masked(GOOD)
    assert m["wifi"]["password"] == "***" and m["broker"]["password"] == "***"
    assert m["wifi"]["ssid"] == "city-iot" and m["broker"]["user"] == "lj"
    assert GOOD["wifi"]["password"] == "longenough"


def sensor(name, **spec):
    return {"air": {"sensors": {name: spec}}}


def lanes(*specs):
    return {"traffic": {"lanes": list(specs)}}


def spots(*specs):
    return {"parking": {"spots": list(specs)}}


# (field, an update that makes only that field bad, an update that makes it good or None)
RULES = [
    ("broker.host", {"broker": {"host": "mqtt example"}}, {"broker": {"host": "10.0.0.5"}}),
    ("broker.port", {"broker": {"port": 0}}, {"broker": {"port": 1883}}),
    ("broker.tls", {"broker": {"tls": "yes"}}, {"broker": {"tls": False}}),
    ("broker.ca", {"broker": {"ca": 7}}, None),
    ("broker.cert", {"broker": {"cert": 7, "key": "/k.pem"}}, {"broker": {"cert": "/c.pem", "key": "/k.pem"}}),
    ("broker.key", {"broker": {"key": 7}}, None),
    ("broker.server_hostname", {"broker": {"server_hostname": ""}}, {"broker": {"server_hostname": "mqtt.lj"}}),
    ("broker.tls_insecure_skip_verify", {"broker": {"tls_insecure_skip_verify": "true"}},
     {"broker": {"tls_insecure_skip_verify": True}}),
    ("broker.user", {"broker": {"user": 12}}, None),
    ("broker.password", {"broker": {"password": 12}}, None),
    ("broker.keepalive", {"broker": {"keepalive": 0}}, {"broker": {"keepalive": 30}}),
    ("broker.timeout", {"broker": {"timeout": -1}}, {"broker": {"timeout": 3}}),
    ("broker.backoff_base", {"broker": {"backoff_base": "1"}}, {"broker": {"backoff_base": 0.5}}),
    ("broker.backoff_cap", {"broker": {"backoff_cap": 0}}, {"broker": {"backoff_cap": 300}}),
    ("broker.window", {"broker": {"window": 1.5}}, {"broker": {"window": 8}}),
    ("broker.trial_attempts", {"broker": {"trial_attempts": True}}, {"broker": {"trial_attempts": 3}}),
    ("wifi.ssid", {"wifi": {"ssid": "x" * 33}}, {"wifi": {"ssid": "x" * 32}}),
    ("wifi.password", {"wifi": {"password": "x" * 64}}, {"wifi": {"password": ""}}),
    ("ntp.server", {"ntp": {"server": ""}}, {"ntp": {"server": "pool.ntp.org"}}),
    ("ntp.every", {"ntp": {"every": 0}}, {"ntp": {"every": 3600}}),
    ("ntp.retry", {"ntp": {"retry": "30"}}, {"ntp": {"retry": 30}}),
    ("health.interval", {"health": {"interval": -300}}, {"health": {"interval": 300}}),
    ("display.enabled", {"display": {"enabled": "yes"}}, {"display": {"enabled": False}}),
    ("display.period", {"display": {"period": 0}}, {"display": {"period": 2}}),
    ("log.label", {"log": {"label": 1}}, {"log": {"label": "smartlog"}}),
    ("log.file", {"log": {"file": None}}, {"log": {"file": "/smartlog.bin"}}),
    ("log.sectors", {"log": {"sectors": 0}}, {"log": {"sectors": 16}}),
    ("display", {"display": "on"}, {"display": {}}),
    ("air.sensors", {"air": {"sensors": ["sds011"]}}, None),
    ("air.sensors.sds011.uart", sensor("sds011", uart=1), sensor("sds011", uart="pm")),
    ("air.sensors.sds011.query", sensor("sds011", query="no"), sensor("sds011", query=True)),
    ("air.sensors.sds011.duty.warmup", sensor("sds011", duty={"warmup": -1}), sensor("sds011", duty={"warmup": 0})),
    ("air.sensors.pms5003.climate", sensor("pms5003", climate=1), sensor("pms5003", climate=True)),
    ("air.sensors.pms5003.set_pin", sensor("pms5003", set_pin=-1), sensor("pms5003", set_pin=4)),
    ("air.sensors.sps30.uart", sensor("sps30", uart=[]), sensor("sps30", uart="pm")),
    ("air.sensors.bme280.address", sensor("bme280", address=0x100), sensor("bme280", address=0x76)),
    ("air.sensors.bme280.i2c", sensor("bme280", i2c=0), sensor("bme280", i2c="main")),
    ("air.sensors.bme280.every", sensor("bme280", every=0), sensor("bme280", every=10)),
    ("air.sensors.bme280.retry", sensor("bme280", retry=-60), sensor("bme280", retry=60)),
    ("air.sensors.scd4x.single", sensor("scd4x", single="yes"), sensor("scd4x", single=False)),
    ("air.sensors.dht22.filters", sensor("dht22", filters={"median": 5}), sensor("dht22", filters=[{"median": 5}])),
    ("air.duty", {"air": {"duty": 5}}, {"air": {"duty": True}}),
    ("air.duty.period", {"air": {"duty": {"period": 0}}}, {"air": {"duty": {"period": 300}}}),
    ("air.duty.sample", {"air": {"duty": {"sample": "10"}}}, {"air": {"duty": {}}}),
    ("air.filters.sds011[1].median", {"air": {"filters": {"sds011": [{"mean": 3}, {"median": 0}]}}},
     {"air": {"filters": {"sds011": [{"mean": 3}, {"median": 5}]}}}),
    ("air.filters.sds011[0].smooth", {"air": {"filters": {"sds011": [{"smooth": 3}]}}}, None),
    ("air.filters.sds011[0].reject.ratio", {"air": {"filters": {"sds011": [{"reject": {"ratio": -3}}]}}},
     {"air": {"filters": {"sds011": [{"reject": {"window": 5, "ratio": 3.0, "floor": 0}}]}}}),
    ("air.stuck.seconds", {"air": {"stuck": {"seconds": 0}}}, {"air": {"stuck": {"seconds": 10800}}}),
    ("air.stuck.samples", {"air": {"stuck": {"samples": 2.5}}}, {"air": {"stuck": {"samples": 10}}}),
    ("air.humid", {"air": {"humid": "70"}}, {"air": {"humid": 70}}),
    ("parking.spots", {"parking": {"spots": {"spot": 1}}}, spots({"spot": 1})),
    ("parking.spots[0].spot", spots({"spot": 0}), spots({"spot": 2})),
    ("parking.spots[1].sensor.i2c", spots({}, {"sensor": {"type": "qmc5883l", "i2c": 1}}),
     spots({}, {"sensor": {"type": "qmc5883l", "i2c": "main"}})),
    ("parking.spots[0].sensor.rate", spots({"sensor": {"rate": 0}}), spots({"sensor": {"rate": 50}})),
    ("parking.spots[0].sensor.gauss", spots({"sensor": {"gauss": "2"}}), spots({"sensor": {"gauss": 2}})),
    ("parking.spots[0].ranger.type", spots({"ranger": {"type": 53}}), spots({"ranger": {"type": "vl53l1x"}})),
    ("parking.spots[0].axes", spots({"axes": 0}), spots({"axes": 6})),
    ("parking.spots[0].baseline", spots({"baseline": [1, "2", 3]}), spots({"baseline": [1, 2.5, 3]})),
    ("parking.spots[0].threshold", spots({"threshold": -16}), spots({"threshold": 16})),
    ("parking.heartbeat", {"parking": {"heartbeat": 0}}, {"parking": {"heartbeat": 600}}),
    ("parking.sample_hz", {"parking": {"sample_hz": 0}}, {"parking": {"sample_hz": 10}}),
    ("parking.release", {"parking": {"release": "8"}}, {"parking": {"release": 8}}),
    ("parking.fault", {"parking": {"fault": -1}}, {"parking": {"fault": 4000}}),
    ("parking.debounce", {"parking": {"debounce": None}}, {"parking": {"debounce": 0}}),
    ("parking.drift", {"parking": {"drift": 0}}, {"parking": {"drift": 900}}),
    ("parking.timeout", {"parking": {"timeout": 0}}, {"parking": {"timeout": 10}}),
    ("parking.autocalibrate", {"parking": {"autocalibrate": -2}}, {"parking": {"autocalibrate": 2}}),
    ("traffic.lanes", {"traffic": {"lanes": "1"}}, lanes({"lane": 1})),
    ("traffic.lanes[1].spacing_m", lanes({"lane": 1}, {"lane": 2, "spacing_m": -3}),
     lanes({"lane": 1}, {"lane": 2, "spacing_m": 4.5})),
    ("traffic.lanes[0].lane", lanes({"lane": "1"}), lanes({"lane": 1})),
    ("traffic.lanes[0].presence", lanes({"presence": "loop1"}), lanes({"presence": ["loop1", "loop2"]})),
    ("traffic.lanes[0].magnetometer", lanes({"magnetometer": 1}), lanes({"magnetometer": True})),
    ("traffic.lanes[0].magnetometer.type", lanes({"magnetometer": {"type": 5883}}),
     lanes({"magnetometer": {"type": "qmc5883l"}})),
    ("traffic.lanes[0].axes", lanes({"axes": -3}), lanes({"axes": 3})),
    ("traffic.lanes[0].baseline", lanes({"baseline": 3}), lanes({"baseline": [0, 0, 0]})),
    ("traffic.lanes[0].radar", lanes({"radar": 2}), lanes({"radar": "radar"})),
    ("traffic.lanes[0].radar_unit", lanes({"radar_unit": 1}), lanes({"radar_unit": "kph"})),
    ("traffic.sample_hz", {"traffic": {"sample_hz": 0}}, {"traffic": {"sample_hz": 50}}),
    ("traffic.threshold", {"traffic": {"threshold": -1}}, {"traffic": {"threshold": 16}}),
    ("traffic.release", {"traffic": {"release": "8"}}, {"traffic": {"release": 8}}),
    ("traffic.gap", {"traffic": {"gap": 0}}, {"traffic": {"gap": 0.3}}),
    ("traffic.autocalibrate", {"traffic": {"autocalibrate": -1}}, {"traffic": {"autocalibrate": 0}}),
    ("traffic.radar_gap", {"traffic": {"radar_gap": 0}}, {"traffic": {"radar_gap": 0.5}}),
    ("traffic.stuck_on", {"traffic": {"stuck_on": 0}}, {"traffic": {"stuck_on": 180}}),
    ("traffic.dead_after", {"traffic": {"dead_after": "1h"}}, {"traffic": {"dead_after": 3600}}),
    ("traffic.min_quiet", {"traffic": {"min_quiet": -600}}, {"traffic": {"min_quiet": 600}}),
]


def test_every_documented_key_refuses_a_bad_value_by_its_dotted_name():
    for field, bad, good in RULES:
        got = fields(schema.merged(GOOD, bad))
        assert got == [field], (field, got)
        if good is not None:
            assert fields(schema.merged(GOOD, good), strict=True) == [], (field, good)


def test_tls_needs_a_ca_and_a_client_cert_its_key():
    no_ca = dict(GOOD, broker={"host": "mqtt.lj", "tls": True})
    assert fields(no_ca) == ["broker.ca"]
    assert fields(dict(GOOD, broker={"host": "mqtt.lj", "tls": True, "tls_insecure_skip_verify": True})) == []
    assert fields(schema.merged(GOOD, {"broker": {"cert": "/c.pem"}})) == ["broker.key"]


def test_unknown_keys_inside_sections_are_refused_only_when_strict():
    odd = schema.merged(GOOD, {"broker": {"keepalve": 30}, "air": {"sensors": {"sds012": {}}},
                               "traffic": {"lanes": [{"spacing": 3}]}, "log": {"size": 1}})
    assert fields(odd) == []
    assert fields(odd, strict=True) == ["air.sensors.sds012", "broker.keepalve", "log.size",
                                        "traffic.lanes[0].spacing"]


def test_a_key_per_kind_covers_every_kind_the_node_publishes():
    # fiware.key(cfg, kind, ...) looks the kind up: a missing one would stop the pipeline.
    cfg = dict(GOOD, apikey={"air": "aq-key"})
    assert fields(cfg) == ["apikey.device"]
    cfg = dict(GOOD, apikey={"air": "aq-key", "device": "d"}, parking={}, traffic={"lanes": []})
    assert fields(cfg) == ["apikey.parking", "apikey.traffic"]
    assert fields(dict(cfg, apikey="one-key")) == []


# (field, values the node cannot honour, values it can): found by fuzzing a node over a
# real broker; 1e999 is what MicroPython's json makes of an overlong exponent (inf).
BOUNDS = [
    ("health.interval", [1e999, -1e999, 10 ** 400, 1e-9, 0], [1, 300, 86400]),
    ("broker.keepalive", [70000, 10 ** 400, 0, 1e999, 30.5], [1, 60, 65535]),
    ("broker.window", [10 ** 400, 0, 1e-9, 33], [1, 8, 32]),
    ("broker.timeout", [2.5, 61, 1e999], [1, 5, 60]),  # whole seconds: they become tick arithmetic
    ("broker.backoff_cap", [1e999, 10 ** 400], [1, 300]),
    ("ntp.every", [1e-9, 1e999], [3600]),
    ("display.period", [1e-9, 1e999], [0.5, 2]),
    ("log.sectors", [2, 10 ** 400], [3, 128]),
    ("parking.sample_hz", [2.5, 0, 5000], [1, 10, 1000]),  # 1000 // hz is a sleep in ms
    ("parking.spots[0].baseline", [[1e999, 0, 0], [0] * 13], [[1.5, -2, 3]]),
    ("air.filters.sds011[0].median", [10 ** 400, 256], [255]),
    ("location.lat", [1e999, float("nan")], [46.05]),
]


def test_every_number_is_finite_and_within_what_the_node_can_honour():
    for field, bad, good in BOUNDS:
        for v in bad + good:
            cfg = schema.merged(GOOD, {})
            sec, key = field.split(".", 1)
            if "[" in key:  # parking.spots[0].baseline, air.filters.sds011[0].median
                if sec == "parking":
                    cfg["parking"] = {"spots": [{"baseline": v}]}
                else:
                    cfg["air"] = dict(cfg["air"], filters={"sds011": [{"median": v}]})
            elif sec == "location":
                cfg["location"] = {"lat": v, "lon": 14.5}
            else:
                cfg[sec] = dict(cfg.get(sec) or {}, **{key: v})
            got = fields(cfg)
            assert got == ([field] if v in bad or v != v else []), (field, v, got)
