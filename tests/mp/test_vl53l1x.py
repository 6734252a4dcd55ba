# VL53L1X driver: the ULD initialisation sequence and result decoding.
from i2cbus import RegisterBus
from mptest import raises

from vl53l1x import VL53L1X, VL53L1XError


def booted_sensor():
    # Model id 0xEACC at 0x010F, firmware booted (0x00E5 bit 0), a ranging ready
    # (GPIO__TIO_HV_STATUS bit 0 with an active-high interrupt).
    return RegisterBus(0x29, {0x010F: b"\xea\xcc", 0x00E5: b"\x01", 0x0031: b"\x01"},
                       status=(0x0031, 0x0089, 0x0096, 0x0097))


def test_initialisation_follows_the_uld_sequence():
    bus = booted_sensor()
    VL53L1X(bus, wait_ms=5)
    cfg = bus.writes[0]
    assert cfg[0] == 0x2D and len(cfg[1]) == 0x87 - 0x2D + 1  # default block 0x2D..0x87
    assert cfg[1][0x30 - 0x2D] == 0x01  # interrupt active high
    assert cfg[1][0x31 - 0x2D] == 0x02
    assert bus.writes[1:] == [(0x87, b"\x40"), (0x86, b"\x01"), (0x87, b"\x00"),
                              (0x08, b"\x09"), (0x0B, b"\x00"), (0x87, b"\x40")]
    assert cfg[1][0x87 - 0x2D] == 0x00  # the block itself does not start ranging


def test_distance_and_range_status():
    bus = booted_sensor()
    s = VL53L1X(bus, wait_ms=5)
    bus.regs[0x96:0x98] = b"\x05\xdc"  # 1500 mm
    bus.regs[0x89] = 0x09  # raw 9 = range valid
    assert s.read_mm() == 1500 and s.status == 0
    assert bus.writes[-1] == (0x86, b"\x01")  # interrupt cleared for the next one
    bus.regs[0x89] = 0x04  # raw 4 = signal fail
    assert s.read_mm() is None and s.status == 2


def test_wrong_chip_or_not_booted_is_a_clear_error():
    e = raises(VL53L1XError, VL53L1X, RegisterBus(0x29, {0x010F: b"\x00\x00"}))
    assert "model id" in str(e)
    raises(VL53L1XError, VL53L1X, RegisterBus(0x29, {0x010F: b"\xea\xcc"}))
