"""Board profiles are checked against Espressif's pin facts (ESP-IDF GPIO reference) and the boards' own wiring."""
import copy

import pytest

from host_tools import boards, provision

ESP_BOARDS = ["esp32-devkitc", "esp32-s3-devkitc", "esp32-c3-devkitm", "heltec-wifi-lora-32-v2"]


@pytest.mark.parametrize("name", ["esp32-devkitc", "esp32-s3-devkitc", "esp32-c3-devkitm",
                                  "heltec-wifi-lora-32-v2", "unix-sim"])
def test_shipped_profiles_are_sound(name):
    assert boards.load(name)["name"] == name


def problems_with(name, section="uarts", entry="pm", **pins):
    p = copy.deepcopy(boards.load(name))
    p[section][entry].update(pins)
    return boards.validate(p)


def test_flash_psram_strapping_and_console_pins_are_refused_for_sensors():
    # ESP32: GPIO6-11 SPI flash; 0, 2, 5, 12, 15 strapping; 1/3 UART0 console.
    assert any("SPI flash" in p for p in problems_with("esp32-devkitc", rx=6))
    assert any("strapping" in p for p in problems_with("esp32-devkitc", tx=12))
    assert any("console" in p for p in problems_with("esp32-devkitc", tx=1))
    # ESP32-S3 with octal PSRAM (N8R8): GPIO33-37 belong to the PSRAM.
    assert any("PSRAM" in p for p in problems_with("esp32-s3-devkitc", rx=35))
    # ESP32-C3: GPIO12-17 flash; GPIO8 and 9 strapping.
    assert any("SPI flash" in p for p in problems_with("esp32-c3-devkitm", rx=14))
    assert any("strapping" in p for p in problems_with("esp32-c3-devkitm", tx=9))


def test_input_only_pin_cannot_transmit_and_missing_pins_and_buses_are_refused():
    assert any("input-only" in p for p in problems_with("esp32-devkitc", tx=34))  # GPIO34-39 input only
    assert any("does not exist" in p for p in problems_with("esp32-devkitc", tx=24))  # no GPIO24 on ESP32
    assert any("does not exist" in p for p in problems_with("esp32-c3-devkitm", tx=22))  # C3: GPIO0-21
    assert any("not free" in p for p in problems_with("esp32-devkitc", id=0))  # UART0 is the REPL
    assert any("not free" in p for p in problems_with("esp32-c3-devkitm", id=2))  # C3 has UART0/1 only
    p = copy.deepcopy(boards.load("esp32-c3-devkitm"))
    p["i2c"]["main"]["id"] = 1  # C3 has one I2C controller
    assert any("I2C1" in x for x in boards.validate(p))


def test_a_pin_used_twice_is_refused_even_against_onboard_parts():
    problems = problems_with("heltec-wifi-lora-32-v2", rx=4)  # GPIO4 is the OLED's SDA
    assert any("already used by onboard.oled.sda" in p for p in problems)
    # The OLED's SCL is strapping pin GPIO15: allowed for the maker's own wiring only.
    assert boards.validate(boards.load("heltec-wifi-lora-32-v2")) == []


def test_unknown_board_is_a_clear_error():
    with pytest.raises(boards.BoardError, match="unknown board 'esp33'.*esp32-devkitc"):
        boards.load("esp33")


def test_heltec_v2_parts_keep_their_pins():
    # Heltec's own battery example: the divider reads on GPIO13, on GPIO37 from hardware 2.3 on;
    # the SX1276's DIO1/DIO2 are on GPIO35/34, its DIO0 on 26 (Heltec pins_arduino.h, Paxcounter hal/heltecv2.h).
    for pin, part in ((13, "battery_hw_v2.0.adc"), (37, "battery_hw_v2.3.adc"), (35, "lora.dio1"),
                      (26, "lora.dio0"), (21, "vext.en")):
        assert any("already used by onboard.%s" % part in p
                   for p in problems_with("heltec-wifi-lora-32-v2", "inputs", "loop1", pin=pin, pull_up=False)), pin


def test_c3_flash_supply_pin_and_esp32_pins_without_pull_ups():
    # ESP32-C3: GPIO11 is VDD_SPI, the in-package flash's supply (GPIO only after burning an eFuse)
    assert any("SPI flash" in p for p in problems_with("esp32-c3-devkitm", "ultrasonic", "ranger", trigger=11))
    # ESP32 GPIO34-39: "do not have software pullup or pulldown functions" (ESP-IDF GPIO reference)
    assert any("no internal pull-up" in p for p in problems_with("esp32-devkitc", "inputs", "loop1", pin=36))
    assert problems_with("esp32-devkitc", "inputs", "loop1", pin=36, pull_up=False) == []
    assert any("input-only" in p for p in problems_with("esp32-devkitc", "ultrasonic", "ranger", trigger=39))


def test_pins_and_uarts_are_shared_only_by_declared_alternatives():
    p = copy.deepcopy(boards.load("heltec-wifi-lora-32-v2"))
    assert boards.validate(p) == []  # the ultrasonic ranger sits on the aux UART's pins, instead of it
    del p["ultrasonic"]["ranger"]["instead_of"]
    assert any("GPIO32 is already used by uarts.aux.tx" in x for x in boards.validate(p))
    p = copy.deepcopy(boards.load("heltec-wifi-lora-32-v2"))  # its DHT22 too takes the aux pins
    del p["sensors"]["dht22"]["instead_of"]
    assert any("sensors.dht22.data: GPIO32 is already used by uarts.aux.tx" in x for x in boards.validate(p))
    p = copy.deepcopy(boards.load("esp32-devkitc"))
    p["sensors"]["dht22"]["data"] = 34  # the host drives the line low to start a reading
    assert "sensors.dht22.data: GPIO34 is input-only" in boards.validate(p)
    p = copy.deepcopy(boards.load("esp32-c3-devkitm"))  # one free UART: aux instead of pm
    del p["uarts"]["aux"]["instead_of"]
    assert any("UART1 is already uarts pm" in x for x in boards.validate(p))


@pytest.mark.parametrize("name", ESP_BOARDS)
def test_every_board_wires_every_kind_of_sensor_the_firmware_reads(name):
    p = boards.load(name)
    assert {"pm", "aux"} <= set(p["uarts"]) and "main" in p["i2c"]  # PM 9600, SPS30/OPS243 115200; I2C
    assert p["uarts"]["pm"]["baud"] == 9600 and p["uarts"]["aux"]["baud"] == 115200
    assert {"loop1", "loop2", "doppler"} <= set(p["inputs"]) and {"trigger", "echo"} <= set(p["ultrasonic"]["ranger"])
    assert set(p["sensors"]) == {"sds011", "pms5003", "sps30", "bme280", "scd4x", "dht22"}
    assert "data" in p["sensors"]["dht22"]  # a GPIO that can drive: the DHT22's line is read and driven
    assert p["micropython"]["board"] in ("ESP32_GENERIC", "ESP32_GENERIC_S3", "ESP32_GENERIC_C3")


def air_sensors(tmp_path, board, sensors):
    inv = tmp_path / "fleet.csv"
    inv.write_text("device_id,municipality,board,lat,lon,broker,apikey,sensors\n"
                   "lj-1,ljubljana,%s,46.05,14.5,mqtt.lj.si,k,%s\n" % (board, sensors))
    try:
        return provision.read_inventory(inv, {})["lj-1"][0]["air"]["sensors"]
    except provision.InventoryError as e:
        return str(e)


def test_provision_takes_any_air_sensor_a_board_wires_and_refuses_two_on_one_connector(tmp_path):
    assert air_sensors(tmp_path, "esp32-devkitc", "sps30;bme280;scd4x") == {
        "sps30": {"uart": "aux"}, "bme280": {"i2c": "main"}, "scd4x": {"i2c": "main"}}
    assert ("air.sensors: sds011 and sps30 share one connector on esp32-c3-devkitm: fit one of them"  # one free UART
            in air_sensors(tmp_path, "esp32-c3-devkitm", "sds011;sps30"))
    assert "share one connector" in air_sensors(tmp_path, "esp32-devkitc", "sds011;pms5003")
