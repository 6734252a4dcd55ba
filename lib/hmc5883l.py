# Honeywell HMC5883L 3-axis magnetometer (I2C, address 0x1E), raw int16 axes.
# Registers (HMC5883L datasheet): 0x00 config A (MA[6:5] averaging, DO[4:2]
# output rate, MS[1:0] bias), 0x01 config B (GN[7:5] gain), 0x02 mode (0
# continuous), 0x03-0x08 data X, Z, Y big-endian, 0x09 status (RDY bit 0),
# 0x0A-0x0C identification "H43".  An axis reads -4096 on ADC overflow.
from micropython import const

ADDR = const(0x1E)
_CRA = const(0x00)
_CRB = const(0x01)
_MODE = const(0x02)
_DATA = const(0x03)
_STATUS = const(0x09)
_ID = const(0x0A)

RATES = {0.75: 0, 1.5: 1, 3: 2, 7.5: 3, 15: 4, 30: 5, 75: 6}  # Hz -> DO bits
AVERAGING = {1: 0, 2: 1, 4: 2, 8: 3}  # samples -> MA bits
GAINS = {0.88: 0, 1.3: 1, 1.9: 2, 2.5: 3, 4.0: 4, 4.7: 5, 5.6: 6, 8.1: 7}  # +-gauss -> GN bits
LSB_PER_GAUSS = {0.88: 1370, 1.3: 1090, 1.9: 820, 2.5: 660, 4.0: 440, 4.7: 390, 5.6: 330, 8.1: 230}
OVERFLOW = const(-4096)


class HMC5883L:
    def __init__(self, i2c, addr=ADDR, rate=15, gauss=1.3, averaging=8):
        self.i2c = i2c
        self.addr = addr
        self.gauss = gauss
        self._buf = bytearray(6)
        self._one = bytearray(1)
        self.xyz = [0, 0, 0]
        self.overflow = False
        self.write(_CRA, AVERAGING[averaging] << 5 | RATES[rate] << 2)
        self.write(_CRB, GAINS[gauss] << 5)
        self.write(_MODE, 0x00)  # continuous measurement

    def write(self, reg, value):
        self._one[0] = value
        self.i2c.writeto_mem(self.addr, reg, self._one)

    def identify(self):
        b = bytearray(3)
        self.i2c.readfrom_mem_into(self.addr, _ID, b)
        return bytes(b) == b"H43"

    def ready(self):
        self.i2c.readfrom_mem_into(self.addr, _STATUS, self._one)
        return bool(self._one[0] & 0x01)

    def read(self):
        """-> [x, y, z] raw counts (the same list each call); sets `overflow`."""
        b = self._buf
        self.i2c.readfrom_mem_into(self.addr, _DATA, b)
        xyz = self.xyz
        for k, off in ((0, 0), (2, 2), (1, 4)):  # registers hold X, Z, Y
            v = b[off] << 8 | b[off + 1]
            xyz[k] = v - 0x10000 if v & 0x8000 else v
        self.overflow = OVERFLOW in xyz
        return xyz

    def idle(self):
        self.write(_MODE, 0x03)
