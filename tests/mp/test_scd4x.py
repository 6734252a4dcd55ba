# SCD4x driver under MicroPython against datasheet example answers.
from fakei2c import CommandBus
from mptest import raises

from scd4x import CRCError, SCD4x, crc8


def _crc(b0, b1):
    # Independent bitwise CRC-8/0x31, init 0xFF (datasheet section 3.11).
    crc = 0xFF
    for b in (b0, b1):
        crc ^= b
        for _ in range(8):
            crc = (crc << 1 ^ 0x31) if crc & 0x80 else crc << 1
            crc &= 0xFF
    return crc


def _words(*ws):
    out = bytearray()
    for w in ws:
        out += bytes((w >> 8, w & 0xFF, _crc(w >> 8, w & 0xFF)))
    return bytes(out)


def test_crc_matches_the_datasheet_example():
    assert _crc(0xBE, 0xEF) == 0x92
    assert crc8(b"\xbe\xef") == 0x92


def test_read_measurement_decodes_the_datasheet_example():
    # Datasheet read_measurement example: 0x01F4 (500 ppm), 0x6667 (25 degC), 0x5EB9 (37 %RH).
    answer = bytes.fromhex("01f433" "6667a2" "5eb93c")
    assert answer == _words(0x01F4, 0x6667, 0x5EB9)
    bus = CommandBus(0x62, {0xEC05: answer, 0xE4B8: _words(0x8006)})
    d = SCD4x(bus, delay=lambda ms: None)
    d.start_periodic()
    assert d.data_ready()
    d.read()
    assert (d.co2, d.temperature, d.humidity) == (500, 2500, 3700)
    assert bus.commands == [0x21B1, 0xE4B8, 0xEC05]


def test_data_ready_uses_the_low_11_bits():
    bus = CommandBus(0x62, {0xE4B8: _words(0x8000)})
    assert not SCD4x(bus, delay=lambda ms: None).data_ready()


def test_a_corrupted_word_is_refused():
    answer = bytearray(_words(0x01F4, 0x6667, 0x5EB9))
    answer[4] ^= 0x01
    bus = CommandBus(0x62, {0xEC05: bytes(answer)})
    d = SCD4x(bus, delay=lambda ms: None)
    raises(CRCError, d.read)
    assert d.co2 == 0


def test_single_shot_and_serial_number():
    bus = CommandBus(0x62, {0x3682: _words(0xF896, 0x9F07, 0x3BB2)})
    d = SCD4x(bus, delay=lambda ms: None)
    d.single_shot()
    assert bus.commands == [0x219D]
    assert d.serial_number() == 0xF8969F073BB2
