# LIS3MDL driver: register writes and decoding per the LIS3MDL datasheet.
from i2cbus import RegisterBus

from lis3mdl import LIS3MDL


def test_setup_writes_control_registers_per_datasheet():
    bus = RegisterBus(0x1C)
    LIS3MDL(bus, rate=80, gauss=4, mode="ultra")
    # CTRL1: OM ultra-high = 0b11, DO 80 Hz = 0b111 -> 0b0111_1100; CTRL2: FS +-4 G = 0;
    # CTRL3: continuous; CTRL4: OMZ ultra-high = 0b11 << 2; CTRL5: BDU.
    assert bus.writes == [(0x20, b"\x7c"), (0x21, b"\x00"), (0x22, b"\x00"), (0x23, b"\x0c"),
                          (0x24, b"\x40")]
    bus2 = RegisterBus(0x1C)
    LIS3MDL(bus2, rate=10, gauss=16, mode="low")
    assert bus2.writes[:2] == [(0x20, bytes([0b00010000])), (0x21, bytes([0b01100000]))]


def test_reads_little_endian_axes_with_auto_increment():
    bus = RegisterBus(0x1C, {0x0F: b"\x3d"})
    m = LIS3MDL(bus)
    assert m.who_am_i() == 0x3D
    # The burst read addresses OUT_X_L with bit 7 set (0xA8).
    bus.regs[0xA8:0xAE] = bytes([0x10, 0x00, 0xF0, 0xFF, 0x00, 0x80])
    bus.regs[0x27] = 0x08
    assert m.ready() and not m.overrun
    assert m.read() == [16, -16, -32768]
    bus.regs[0x27] = 0x80
    assert not m.ready() and m.overrun
