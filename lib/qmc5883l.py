# QST QMC5883L 3-axis magnetometer (I2C, address 0x0D), raw int16 axes.
# Registers (QMC5883L datasheet 1.0): 0x00-0x05 X, Y, Z little-endian;
# 0x06 status (DRDY bit 0, OVL bit 1, DOR bit 2); 0x09 control 1
# (OSR[7:6] RNG[5:4] ODR[3:2] MODE[1:0]); 0x0A control 2 (SOFT_RST bit 7);
# 0x0B SET/RESET period (0x01 recommended); 0x0D chip id 0xFF.
from micropython import const

ADDR = const(0x0D)
_DATA = const(0x00)
_STATUS = const(0x06)
_CTRL1 = const(0x09)
_CTRL2 = const(0x0A)
_PERIOD = const(0x0B)
_CHIP_ID = const(0x0D)

RATES = {10: 0, 50: 1, 100: 2, 200: 3}  # Hz -> ODR bits
RANGES = {2: 0, 8: 1}  # gauss -> RNG bits
OVERSAMPLING = {512: 0, 256: 1, 128: 2, 64: 3}  # -> OSR bits
LSB_PER_GAUSS = {2: 12000, 8: 3000}


class QMC5883L:
    def __init__(self, i2c, addr=ADDR, rate=50, gauss=2, oversampling=512):
        self.i2c = i2c
        self.addr = addr
        self.gauss = gauss
        self._buf = bytearray(6)
        self._one = bytearray(1)
        self.xyz = [0, 0, 0]
        self.overflow = False
        self.write(_CTRL2, 0x80)  # soft reset
        self.write(_PERIOD, 0x01)
        self.write(_CTRL1, OVERSAMPLING[oversampling] << 6 | RANGES[gauss] << 4
                   | RATES[rate] << 2 | 0x01)  # continuous mode

    def write(self, reg, value):
        self._one[0] = value
        self.i2c.writeto_mem(self.addr, reg, self._one)

    def chip_id(self):
        self.i2c.readfrom_mem_into(self.addr, _CHIP_ID, self._one)
        return self._one[0]

    def ready(self):
        self.i2c.readfrom_mem_into(self.addr, _STATUS, self._one)
        return bool(self._one[0] & 0x01)

    def read(self):
        """-> [x, y, z] raw counts (the same list each call); sets `overflow`."""
        b = self._buf
        self.i2c.readfrom_mem_into(self.addr, _DATA, b)
        xyz = self.xyz
        for k in range(3):
            v = b[2 * k] | b[2 * k + 1] << 8
            xyz[k] = v - 0x10000 if v & 0x8000 else v
        self.i2c.readfrom_mem_into(self.addr, _STATUS, self._one)
        self.overflow = bool(self._one[0] & 0x02)
        return xyz

    def standby(self):
        self.write(_CTRL1, 0x00)
