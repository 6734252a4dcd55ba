# A stand-in I2C bus for driver tests under the unix port (which has no I2C):
# it serves register maps and command answers the tests build from datasheet
# examples, and fails like a real bus when told to (OSError, as machine.I2C).


class RegisterBus:
    """Register-addressed devices (BME280): address -> bytearray(256)."""

    def __init__(self):
        self.devices = {}
        self.fail = False
        self.writes = []  # (address, register, bytes)

    def _dev(self, addr):
        if self.fail or addr not in self.devices:
            raise OSError(19)  # ENODEV: no ACK, as machine.I2C reports it
        return self.devices[addr]

    def readfrom_mem_into(self, addr, reg, buf):
        d = self._dev(addr)
        for i in range(len(buf)):
            buf[i] = d[reg + i]

    def writeto_mem(self, addr, reg, buf):
        d = self._dev(addr)
        self.writes.append((addr, reg, bytes(buf)))
        for i in range(len(buf)):
            d[reg + i] = buf[i]


class CommandBus:
    """Command-addressed devices (Sensirion): 16-bit command -> the bytes it answers."""

    def __init__(self, addr, answers):
        self.addr = addr
        self.answers = answers
        self.commands = []
        self.fail = False

    def writeto(self, addr, buf):
        if self.fail or addr != self.addr:
            raise OSError(19)
        self.commands.append(buf[0] << 8 | buf[1])

    def readfrom_into(self, addr, buf):
        if self.fail or addr != self.addr:
            raise OSError(19)
        data = self.answers[self.commands[-1]]
        for i in range(len(buf)):
            buf[i] = data[i]


def bme280_registers(calib, adc_t, adc_p, adc_h, chip_id=0x60):
    """A BME280 register map laid out as the datasheet's memory map (section 5.3)."""
    r = bytearray(256)
    r[0xD0] = chip_id

    def put16(reg, v):
        v &= 0xFFFF
        r[reg] = v & 0xFF
        r[reg + 1] = v >> 8

    names = ("T1", "T2", "T3", "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9")
    for i, name in enumerate(names):
        put16(0x88 + 2 * i, calib[name])
    r[0xA1] = calib["H1"]
    put16(0xE1, calib["H2"])
    r[0xE3] = calib["H3"]
    h4 = calib["H4"] & 0xFFF
    h5 = calib["H5"] & 0xFFF
    r[0xE4] = h4 >> 4
    r[0xE5] = (h4 & 0x0F) | (h5 & 0x0F) << 4
    r[0xE6] = h5 >> 4
    r[0xE7] = calib["H6"] & 0xFF
    r[0xF7] = adc_p >> 12
    r[0xF8] = adc_p >> 4 & 0xFF
    r[0xF9] = (adc_p & 0x0F) << 4
    r[0xFA] = adc_t >> 12
    r[0xFB] = adc_t >> 4 & 0xFF
    r[0xFC] = (adc_t & 0x0F) << 4
    r[0xFD] = adc_h >> 8
    r[0xFE] = adc_h & 0xFF
    return r


# BMP280 datasheet (BST-BMP280-DS001) section 3.12 worked example; the BME280
# uses the same temperature and pressure compensation.  Humidity trimming
# values are typical of real parts (no datasheet example exists for them).
EXAMPLE = {"T1": 27504, "T2": 26435, "T3": -1000, "P1": 36477, "P2": -10685, "P3": 3024,
           "P4": 2855, "P5": 140, "P6": -7, "P7": 15500, "P8": -14600, "P9": 6000,
           "H1": 75, "H2": 362, "H3": 0, "H4": 313, "H5": 50, "H6": 30}
EXAMPLE_ADC_T = 519888
EXAMPLE_ADC_P = 415148
EXAMPLE_ADC_H = 30000
