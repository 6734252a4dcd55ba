# HMC5883L driver: register writes and decoding per the HMC5883L datasheet.
from i2cbus import RegisterBus

from hmc5883l import HMC5883L


def test_setup_writes_configuration_a_b_and_continuous_mode():
    bus = RegisterBus(0x1E)
    HMC5883L(bus, rate=75, gauss=8.1, averaging=8)
    # CRA: MA 8 samples = 0b11, DO 75 Hz = 0b110, MS normal = 0b00;
    # CRB: GN +-8.1 Ga = 0b111; mode register 0 = continuous.
    assert bus.writes == [(0x00, bytes([0b01111000])), (0x01, bytes([0b11100000])), (0x02, b"\x00")]


def test_datasheet_defaults_15_hz_1_3_gauss():
    bus = RegisterBus(0x1E)
    HMC5883L(bus, averaging=1)
    # Datasheet power-on values: CRA 0x10 (15 Hz, 1 sample), CRB 0x20 (+-1.3 Ga).
    assert bus.writes[:2] == [(0x00, b"\x10"), (0x01, b"\x20")]


def test_data_registers_are_x_z_y_big_endian():
    bus = RegisterBus(0x1E, {0x0A: b"H43"})
    h = HMC5883L(bus)
    assert h.identify()
    bus.regs[3:9] = bytes([0x01, 0x02, 0xFF, 0xFE, 0x80, 0x00])  # X 258, Z -2, Y -32768
    bus.regs[9] = 0x01
    assert h.ready()
    assert h.read() == [258, -32768, -2] and not h.overflow
    bus.regs[3:5] = bytes([0xF0, 0x00])  # -4096: the ADC overflowed on X
    h.read()
    assert h.overflow
