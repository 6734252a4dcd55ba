# Bosch BME280 temperature / pressure / humidity sensor on I2C.
#
# Datasheet BST-BME280-DS002: chip id 0x60 at 0xD0; calibration 0x88..0xA1 and
# 0xE1..0xE7; ctrl_hum 0xF2, status 0xF3 (bit 3: measuring), ctrl_meas 0xF4;
# data 0xF7..0xFE (pressure 20 bit, temperature 20 bit, humidity 16 bit).
# Compensation is the datasheet's integer code (section 4.2.3): temperature in
# 0.01 degC, pressure in Q24.8 Pa (the 64-bit variant), humidity in Q22.10 %RH.
# Forced mode: one measurement per force(), then the chip sleeps.
#
# Works with machine.I2C (readfrom_mem_into, writeto_mem).  OSError from the
# bus propagates: the caller decides what a failed read means.

CHIP_ID = 0x60
REG_ID = 0xD0
REG_CALIB_TP = 0x88
REG_CALIB_H = 0xE1
REG_CTRL_HUM = 0xF2
REG_STATUS = 0xF3
REG_CTRL_MEAS = 0xF4
REG_DATA = 0xF7


def _u16(b, i):
    return b[i] | b[i + 1] << 8


def _s16(b, i):
    v = b[i] | b[i + 1] << 8
    return v - 0x10000 if v & 0x8000 else v


def _s12(v):
    return v - 0x1000 if v & 0x800 else v


class BME280:
    def __init__(self, i2c, address=0x76):
        self.i2c = i2c
        self.address = address
        self._b1 = bytearray(1)
        self._data = bytearray(8)
        i2c.readfrom_mem_into(address, REG_ID, self._b1)
        if self._b1[0] != CHIP_ID:
            raise OSError("BME280: chip id 0x%02x at 0x%02x, not 0x60" % (self._b1[0], address))
        c = bytearray(26)
        i2c.readfrom_mem_into(address, REG_CALIB_TP, c)
        self.T1, self.T2, self.T3 = _u16(c, 0), _s16(c, 2), _s16(c, 4)
        self.P1 = _u16(c, 6)
        self.P2, self.P3, self.P4, self.P5, self.P6, self.P7, self.P8, self.P9 = (
            _s16(c, i) for i in range(8, 24, 2))
        self.H1 = c[25]
        h = bytearray(7)
        i2c.readfrom_mem_into(address, REG_CALIB_H, h)
        self.H2 = _s16(h, 0)
        self.H3 = h[2]
        self.H4 = _s12(h[3] << 4 | h[4] & 0x0F)
        self.H5 = _s12(h[5] << 4 | h[4] >> 4)
        self.H6 = h[6] - 256 if h[6] & 0x80 else h[6]
        self.t_fine = 0
        self.temperature = 0  # 0.01 degC
        self.pressure = 0  # Q24.8 Pa (pressure / 256 = Pa)
        self.humidity = 0  # Q22.10 %RH (humidity / 1024 = %RH)

    def force(self):
        """Start one measurement (oversampling x1 for all three); ready after about 10 ms."""
        b = self._b1
        b[0] = 0x01
        self.i2c.writeto_mem(self.address, REG_CTRL_HUM, b)
        b[0] = 0x25  # osrs_t x1, osrs_p x1, forced mode
        self.i2c.writeto_mem(self.address, REG_CTRL_MEAS, b)

    def busy(self):
        self.i2c.readfrom_mem_into(self.address, REG_STATUS, self._b1)
        return bool(self._b1[0] & 0x08)

    def read(self):
        """Read and compensate the last measurement into temperature/pressure/humidity."""
        d = self._data
        self.i2c.readfrom_mem_into(self.address, REG_DATA, d)
        adc_p = d[0] << 12 | d[1] << 4 | d[2] >> 4
        adc_t = d[3] << 12 | d[4] << 4 | d[5] >> 4
        adc_h = d[6] << 8 | d[7]
        self.temperature = self.compensate_t(adc_t)
        self.pressure = self.compensate_p(adc_p)
        self.humidity = self.compensate_h(adc_h)

    def compensate_t(self, adc_t):
        T1 = self.T1
        var1 = (((adc_t >> 3) - (T1 << 1)) * self.T2) >> 11
        x = (adc_t >> 4) - T1
        var2 = (((x * x) >> 12) * self.T3) >> 14
        self.t_fine = var1 + var2
        return (self.t_fine * 5 + 128) >> 8

    def compensate_p(self, adc_p):
        var1 = self.t_fine - 128000
        var2 = var1 * var1 * self.P6
        var2 = var2 + ((var1 * self.P5) << 17)
        var2 = var2 + (self.P4 << 35)
        var1 = ((var1 * var1 * self.P3) >> 8) + ((var1 * self.P2) << 12)
        var1 = (((1 << 47) + var1) * self.P1) >> 33
        if var1 == 0:
            return 0  # the datasheet's guard against a division by zero
        p = 1048576 - adc_p
        n = ((p << 31) - var2) * 3125
        p = n // var1 if n >= 0 else -((-n) // var1)  # C division truncates
        var1 = (self.P9 * (p >> 13) * (p >> 13)) >> 25
        var2 = (self.P8 * p) >> 19
        return ((p + var1 + var2) >> 8) + (self.P7 << 4)

    def compensate_h(self, adc_h):
        v = self.t_fine - 76800
        v = ((((adc_h << 14) - (self.H4 << 20) - (self.H5 * v)) + 16384) >> 15) * (
            ((((((v * self.H6) >> 10) * (((v * self.H3) >> 11) + 32768)) >> 10) + 2097152)
              * self.H2 + 8192) >> 14)
        v = v - (((((v >> 15) * (v >> 15)) >> 7) * self.H1) >> 4)
        if v < 0:
            v = 0
        elif v > 419430400:
            v = 419430400
        return v >> 12
