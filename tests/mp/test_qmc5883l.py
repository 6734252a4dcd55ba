# QMC5883L driver: register writes and decoding per the QMC5883L datasheet.
from i2cbus import RegisterBus
from mptest import raises

from qmc5883l import QMC5883L


def test_setup_writes_reset_period_and_control_per_datasheet():
    bus = RegisterBus(0x0D)
    QMC5883L(bus, rate=200, gauss=8, oversampling=64)
    # Soft reset (0x0A bit 7), SET/RESET period 0x01, then control 1:
    # OSR 64 = 0b11, RNG 8 G = 0b01, ODR 200 Hz = 0b11, MODE continuous = 0b01.
    assert bus.writes == [(0x0A, b"\x80"), (0x0B, b"\x01"), (0x09, bytes([0b11011101]))]


def test_defaults_are_50_hz_2_gauss_512_oversampling():
    bus = RegisterBus(0x0D)
    QMC5883L(bus)
    assert bus.writes[-1] == (0x09, bytes([0b00000101]))


def test_axes_are_little_endian_signed_and_status_bits_decode():
    bus = RegisterBus(0x0D)
    q = QMC5883L(bus)
    bus.regs[0:6] = bytes([0x34, 0x12, 0xFE, 0xFF, 0x00, 0x80])  # 0x1234, -2, -32768
    bus.regs[6] = 0x01
    assert q.ready()
    assert q.read() == [0x1234, -2, -32768] and not q.overflow
    bus.regs[6] = 0x02  # OVL, no new data
    assert not q.ready()
    q.read()
    assert q.overflow


def test_chip_id_and_a_missing_device():
    bus = RegisterBus(0x0D, {0x0D: b"\xff"})
    assert QMC5883L(bus).chip_id() == 0xFF
    raises(OSError, QMC5883L, RegisterBus(0x0C))  # nothing at 0x0D: a clear bus error
