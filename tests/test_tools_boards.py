"""Board profiles are checked against Espressif's pin facts (ESP-IDF GPIO reference)."""
import copy

import pytest

from host_tools import boards


@pytest.mark.parametrize("name", ["esp32-devkitc", "esp32-s3-devkitc", "esp32-c3-devkitm",
                                  "heltec-wifi-lora-32-v2", "unix-sim"])
def test_shipped_profiles_are_sound(name):
    assert boards.load(name)["name"] == name


def problems_with(name, **uart):
    p = copy.deepcopy(boards.load(name))
    p["uarts"]["pm"].update(uart)
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
    assert any("already used by onboard oled.sda" in p for p in problems)
    # The OLED's SCL is strapping pin GPIO15: allowed for the maker's own wiring only.
    assert boards.validate(boards.load("heltec-wifi-lora-32-v2")) == []


def test_unknown_board_is_a_clear_error():
    with pytest.raises(boards.BoardError, match="unknown board 'esp33'.*esp32-devkitc"):
        boards.load("esp33")
