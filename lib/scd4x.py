# Sensirion SCD40 / SCD41 CO2, temperature and humidity sensor on I2C (0x62).
#
# Datasheet (SCD4x, version 1.x): 16-bit commands sent big endian; every
# 16-bit word the sensor sends or receives is followed by CRC-8 (polynomial
# 0x31, init 0xFF; CRC of 0xBEEF is 0x92).  A word with a bad CRC is refused.
#   0x21B1 start periodic measurement (one reading every 5 s)
#   0x3F86 stop periodic measurement (500 ms)
#   0xE4B8 get data ready status: ready when the low 11 bits are not 0
#   0xEC05 read measurement: CO2 ppm, T = -45 + 175 * w / 65535, RH = 100 * w / 65535
#   0x219D measure single shot (SCD41 only, 5 s)
#   0x3682 get serial number (3 words)
try:
    from time import sleep_ms
except ImportError:  # CPython
    from time import sleep

    def sleep_ms(ms):
        sleep(ms / 1000)

START_PERIODIC = 0x21B1
STOP_PERIODIC = 0x3F86
DATA_READY = 0xE4B8
READ_MEASUREMENT = 0xEC05
SINGLE_SHOT = 0x219D
SERIAL_NUMBER = 0x3682


def crc8(buf, start=0, n=2):
    crc = 0xFF
    for i in range(start, start + n):
        crc ^= buf[i]
        for _ in range(8):
            crc = ((crc << 1) ^ 0x31) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


class CRCError(OSError):
    pass


class SCD4x:
    def __init__(self, i2c, address=0x62, delay=sleep_ms):
        self.i2c = i2c
        self.address = address
        self.delay = delay  # the sensor needs 1 ms between a command and its answer
        self._cmd = bytearray(2)
        self._rx = bytearray(9)
        self._words = [0, 0, 0]
        self.co2 = 0  # ppm
        self.temperature = 0  # 0.01 degC
        self.humidity = 0  # 0.01 %RH

    def command(self, cmd):
        c = self._cmd
        c[0] = cmd >> 8
        c[1] = cmd & 0xFF
        self.i2c.writeto(self.address, c)

    def _read_words(self, cmd, n):
        self.command(cmd)
        self.delay(1)
        rx = self._rx
        mv = memoryview(rx)[:3 * n]
        self.i2c.readfrom_into(self.address, mv)
        w = self._words
        for i in range(n):
            if crc8(rx, 3 * i) != rx[3 * i + 2]:
                raise CRCError("SCD4x: CRC mismatch in word %d of 0x%04x" % (i, cmd))
            w[i] = rx[3 * i] << 8 | rx[3 * i + 1]
        return w

    def start_periodic(self):
        self.command(START_PERIODIC)

    def stop_periodic(self):
        self.command(STOP_PERIODIC)

    def single_shot(self):
        """SCD41: one measurement, ready after 5 s (poll data_ready)."""
        self.command(SINGLE_SHOT)

    def data_ready(self):
        return bool(self._read_words(DATA_READY, 1)[0] & 0x07FF)

    def read(self):
        w = self._read_words(READ_MEASUREMENT, 3)
        self.co2 = w[0]
        self.temperature = -4500 + 17500 * w[1] // 65535
        self.humidity = 10000 * w[2] // 65535

    def serial_number(self):
        w = self._read_words(SERIAL_NUMBER, 3)
        return w[0] << 32 | w[1] << 16 | w[2]
