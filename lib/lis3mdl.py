# ST LIS3MDL 3-axis magnetometer (I2C, address 0x1C, or 0x1E with SDO/SA1 high).
# Registers (LIS3MDL datasheet): 0x0F WHO_AM_I = 0x3D; CTRL_REG1 0x20
# (TEMP_EN bit 7, OM[6:5] X/Y performance, DO[4:2] data rate); CTRL_REG2 0x21
# (FS[6:5] full scale); CTRL_REG3 0x22 (MD[1:0] = 0 continuous); CTRL_REG4
# 0x23 (OMZ[3:2] Z performance); CTRL_REG5 0x24 (BDU bit 6); STATUS 0x27
# (ZYXDA bit 3, ZYXOR bit 7); OUT_X_L..OUT_Z_H 0x28-0x2D little-endian.  A
# multi-byte I2C read auto-increments when the register address has bit 7 set.
from micropython import const

ADDR = const(0x1C)
_WHO_AM_I = const(0x0F)
_CTRL1 = const(0x20)
_CTRL2 = const(0x21)
_CTRL3 = const(0x22)
_CTRL4 = const(0x23)
_CTRL5 = const(0x24)
_STATUS = const(0x27)
_OUT = const(0x28)
_AUTO_INCREMENT = const(0x80)
WHO_AM_I = const(0x3D)

RATES = {0.625: 0, 1.25: 1, 2.5: 2, 5: 3, 10: 4, 20: 5, 40: 6, 80: 7}  # Hz -> DO bits
SCALES = {4: 0, 8: 1, 12: 2, 16: 3}  # +-gauss -> FS bits
MODES = {"low": 0, "medium": 1, "high": 2, "ultra": 3}  # -> OM and OMZ bits
LSB_PER_GAUSS = {4: 6842, 8: 3421, 12: 2281, 16: 1711}


class LIS3MDL:
    def __init__(self, i2c, addr=ADDR, rate=80, gauss=4, mode="ultra"):
        self.i2c = i2c
        self.addr = addr
        self.gauss = gauss
        self._buf = bytearray(6)
        self._one = bytearray(1)
        self.xyz = [0, 0, 0]
        self.overrun = False  # a sample was overwritten before it was read
        om = MODES[mode]
        self.write(_CTRL1, om << 5 | RATES[rate] << 2)
        self.write(_CTRL2, SCALES[gauss] << 5)
        self.write(_CTRL3, 0x00)  # continuous conversion
        self.write(_CTRL4, om << 2)
        self.write(_CTRL5, 0x40)  # block data update: no torn high/low bytes

    def write(self, reg, value):
        self._one[0] = value
        self.i2c.writeto_mem(self.addr, reg, self._one)

    def who_am_i(self):
        self.i2c.readfrom_mem_into(self.addr, _WHO_AM_I, self._one)
        return self._one[0]

    def ready(self):
        self.i2c.readfrom_mem_into(self.addr, _STATUS, self._one)
        self.overrun = bool(self._one[0] & 0x80)
        return bool(self._one[0] & 0x08)

    def read(self):
        """-> [x, y, z] raw counts (the same list each call)."""
        b = self._buf
        self.i2c.readfrom_mem_into(self.addr, _OUT | _AUTO_INCREMENT, b)
        xyz = self.xyz
        for k in range(3):
            v = b[2 * k] | b[2 * k + 1] << 8
            xyz[k] = v - 0x10000 if v & 0x8000 else v
        return xyz

    def power_down(self):
        self.write(_CTRL3, 0x03)
