# The air pipeline under MicroPython: real SDS011 frames on a UART, a BME280
# register map from the datasheet example on a stand-in I2C bus.
import json

from fakei2c import EXAMPLE, EXAMPLE_ADC_H, EXAMPLE_ADC_P, EXAMPLE_ADC_T, RegisterBus, bme280_registers

from app import air
from app.board_unix import Board, FeedUART
from mptest import readings

CAPTURE = "tests/data/air/sds011_capture_54frames.bin"
T0 = 1795737600  # 2026-11-27T00:00:00Z, a multiple of 60


class FakeBoard:
    def __init__(self):
        self.pm = FeedUART(1024)
        self.bus = RegisterBus()
        self.bus.devices[0x76] = bme280_registers(EXAMPLE, EXAMPLE_ADC_T, EXAMPLE_ADC_P, EXAMPLE_ADC_H)

    def uart(self, name):
        return self.pm

    def i2c(self, name):
        return self.bus


def _frames():
    with open(CAPTURE, "rb") as f:
        data = f.read()
    return [data[i:i + 10] for i in range(0, len(data), 10)]


def _datasheet(frame):
    return (frame[2] | frame[3] << 8) / 10, (frame[4] | frame[5] << 8) / 10


def _node(board, **air_cfg):
    out = []
    cfg = {"device_id": "n1", "apikey": {"air": "aqkey", "device": "d"}, "interval": 60,
           "air": {"sensors": {"sds011": {"uart": "pm"}, "bme280": {"i2c": "main", "every": 10}}}}
    cfg["air"].update(air_cfg)
    p = air.build(cfg, board, readings(out, keyed=True))
    return p, out


def test_sds011_and_bme280_node_publishes_interval_statistics():
    board = FakeBoard()
    p, out = _node(board)
    frames = _frames()
    for i, frame in enumerate(frames):
        board.pm.feed(frame)
        p.poll(T0 + i)
    p.close(T0 + 54)
    (key, r), = out
    assert key == "aqkey/n1-aq"
    assert r["TimeInstant"] == r["dateObserved"] == "2026-11-27T00:01:00Z"
    pm = [_datasheet(f) for f in frames]
    assert r["pm25Count"] == r["pm10Count"] == 54
    assert abs(r["pm25"] - sum(x[0] for x in pm) / 54) < 0.006
    assert r["pm10Min"] == min(x[1] for x in pm) and r["pm10Max"] == max(x[1] for x in pm)
    # BMP280 datasheet 3.12: 25.08 degC, 100653.27 Pa; forced every 10 s, read at the next poll.
    assert r["temperature"] == 25.08 and r["temperatureCount"] == 5
    assert abs(r["pressure"] - 1006.53) < 0.011
    assert 0.54 < r["relativeHumidity"] < 0.56  # 55.0 %RH as a fraction
    assert r["dataQuality"] == []


def test_failing_i2c_never_stops_the_particulate_sensor():
    board = FakeBoard()
    p, out = _node(board)
    frames = _frames()
    board.bus.fail = True  # the BME280 does not answer from the start
    for i in range(120):
        if i == 50:
            board.bus.fail = False  # back before the retry, 60 s after the failure
        board.pm.feed(frames[i % 54])
        p.poll(T0 + i)
    p.close(T0 + 120)
    first, second = [r for _, r in out]
    assert first["pm25Count"] == 60 and "temperature" not in first
    assert {"missing:temperature", "missing:relativeHumidity", "missing:pressure"} <= set(first["dataQuality"])
    assert second["pm25Count"] == 60 and second["temperature"] == 25.08
    assert p.status()["bme280"]["errors"] >= 1


def test_unix_board_without_i2c_reports_missing_and_keeps_going():
    board = Board({"uarts": {"pm": {}}}, feed=True)
    p, out = _node(board)
    board.uart("pm").feed(_frames()[0])
    p.poll(T0 + 1)
    p.close(T0 + 2)
    (_, r), = out
    assert r["pm25Count"] == 1
    assert r["dataQuality"] == ["missing:temperature", "missing:relativeHumidity", "missing:pressure"]


def test_an_interval_without_samples_publishes_flags_not_values():
    board = FakeBoard()
    p, out = _node(board)
    p.poll(T0 + 1)
    board.bus.fail = True
    p.poll(T0 + 61)  # closes the first interval: nothing sampled
    p.poll(T0 + 121)
    (_, r1), (_, r2) = out
    assert "pm25" not in r1 and "missing:pm25" in r1["dataQuality"] and "missing:pm10" in r1["dataQuality"]
    assert set(r2) == {"TimeInstant", "dateObserved", "dataQuality"}
    assert len(r2["dataQuality"]) == 5


def test_impossible_values_are_flagged_but_published_unclipped():
    out = []
    cfg = {"device_id": "n1", "apikey": "k", "interval": 300, "air": {"sensors": {"sds011": {}, "dht22": {}}}}
    p = air.build(cfg, None, readings(out))
    assert p.event(T0, {"t": T0, "air": {"sensor": "sds011", "pm25": 1500.0, "pm10": 248.13}})
    assert p.event(T0 + 1, {"t": T0 + 1, "air": {"sensor": "dht22", "temperature": -60.0, "humidity": 50.0}})
    assert not p.event(T0 + 2, {"t": T0 + 2, "air": {"sensor": "bme280", "pressure": 1e5}})
    assert not p.event(T0 + 2, {"t": T0 + 2, "parking": {}})
    p.close(T0 + 3)
    (r,) = out
    assert r["pm25"] == 1500.0 and r["pm10"] == 248.13 and r["temperature"] == -60.0
    assert r["dataQuality"] == ["range:pm25", "range:temperature"]


def test_values_the_data_model_forbids_are_flagged_and_kept_out():
    # AirQualityObserved allows relativeHumidity only in [0, 1] (Smart Data Models
    # schema): a DHT22 misread of 120 %RH must not make the entity unpublishable.
    out = []
    cfg = {"device_id": "n1", "apikey": "k", "interval": 300, "air": {"sensors": {"dht22": {}}}}
    p = air.build(cfg, None, readings(out))
    for i, rh in enumerate((120.0, 50.0, 52.0)):
        p.event(T0 + i, {"t": T0 + i, "air": {"sensor": "dht22", "temperature": 20.0, "humidity": rh}})
    p.close(T0 + 300)
    p.event(T0 + 301, {"t": T0 + 301, "air": {"sensor": "dht22", "temperature": 20.0, "humidity": 130.0}})
    p.close(T0 + 600)
    r1, r2 = out
    assert r1["relativeHumidity"] == 0.51 and r1["dataQuality"] == ["range:relativeHumidity"]
    assert "relativeHumidity" not in r2 and r2["dataQuality"] == ["range:relativeHumidity"]


def test_humid_flags_start_at_70_percent():
    out = []
    cfg = {"device_id": "n1", "apikey": "k", "interval": 300, "air": {"sensors": {"sds011": {}, "dht22": {}}}}
    p = air.build(cfg, None, readings(out))
    for i, rh in enumerate((69.9, 70.0)):
        t = T0 + 300 * i
        p.event(t, {"air": {"sensor": "sds011", "pm25": 5.0, "pm10": 9.0}})
        p.event(t, {"air": {"sensor": "dht22", "temperature": 5.0, "humidity": rh}})
    p.close(T0 + 600)
    assert [r["dataQuality"] for r in out] == [[], ["humid:pm25", "humid:pm10"]]


def test_bad_sensor_and_filter_config_is_reported_not_fatal():
    board = FakeBoard()
    p, out = _node(board, sensors={"sds011": {"uart": "pm", "filters": [{"wobble": 3}]}, "ozone9000": {}},)
    assert sorted(x.split(":")[0] for x in p.problems) == ["ozone9000", "sds011 filters"]
    board.pm.feed(_frames()[0])
    p.poll(T0)
    p.close(T0 + 1)
    assert out[0][1]["pm25Count"] == 1


class SCDBoard:
    def __init__(self, answers):
        from fakei2c import CommandBus
        self.bus = CommandBus(0x62, answers)

    def i2c(self, name):
        return self.bus


def _scd_words(*ws):
    # CRC-8 0x31/0xFF per word; CRC(0xBEEF) = 0x92 checks it (SCD4x datasheet).
    def crc(b0, b1):
        c = 0xFF
        for b in (b0, b1):
            c ^= b
            for _ in range(8):
                c = ((c << 1) ^ 0x31) & 0xFF if c & 0x80 else (c << 1) & 0xFF
        return c
    assert crc(0xBE, 0xEF) == 0x92
    return bytes(x for w in ws for x in (w >> 8, w & 0xFF, crc(w >> 8, w & 0xFF)))


def _scd_node(single):
    board = SCDBoard({0xE4B8: _scd_words(0x8006), 0xEC05: _scd_words(0x01F4, 0x6667, 0x5EB9)})
    out = []
    cfg = {"device_id": "n1", "apikey": "k", "interval": 60,
           "air": {"sensors": {"scd4x": {"i2c": "main", "single": single, "every": 30}}}}
    p = air.build(cfg, board, readings(out))
    return board, p, out


def test_scd4x_periodic_and_single_shot_feed_co2():
    for single in (False, True):
        board, p, out = _scd_node(single)
        for s in range(60):
            p.poll(T0 + s)
        p.close(T0 + 60)
        (r,) = out
        # Datasheet example words: 500 ppm, 25 degC, 37 %RH.
        assert r["co2"] == 500 and r["temperature"] == 25.0 and r["relativeHumidity"] == 0.37
        first = 0x219D if single else 0x21B1
        assert board.bus.commands[0:2] == [0x3F86, first]  # stop first: a reboot may leave it measuring
        # periodic: read every 30 s from t+6; single shot: a shot, 5 s, read, then 25 s idle
        assert r["co2Count"] == 2


def test_scd4x_crc_error_counts_and_recovers():
    board, p, out = _scd_node(False)
    good = board.bus.answers[0xEC05]
    board.bus.answers[0xEC05] = good[:4] + bytes((good[4] ^ 1,)) + good[5:]
    for s in range(60):
        p.poll(T0 + s)
    assert p.status()["scd4x"]["errors"] == 1
    board.bus.answers[0xEC05] = good
    for s in range(60, 180):
        p.poll(T0 + s)
    p.close(T0 + 180)
    assert [r.get("co2Count", 0) for r in out] == [0, 2, 2]
    assert "missing:co2" in out[0]["dataQuality"]


class BrokenTxUART(FeedUART):
    def write(self, data):
        raise OSError(5)  # EIO


def test_a_sensor_whose_uart_fails_does_not_stop_the_others():
    board = FakeBoard()
    board.pm = BrokenTxUART()
    p, out = _node(board, duty={})  # the duty cycle's first sleep command fails
    for s in range(60):
        p.poll(T0 + s)
    p.close(T0 + 60)
    (_, r), = out
    assert r["temperatureCount"] == 6 and "missing:pm25" in r["dataQuality"]
    assert p.status()["sds011"]["errors"] >= 1
