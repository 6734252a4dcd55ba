# ST VL53L1X time-of-flight ranger (I2C, address 0x29, 16-bit register
# addresses): a bay seen from above, distance to the roof of a car or the road.
# Follows ST's ultra-lite driver (ULD, STSW-IMG009) register sequence: the
# default configuration block at 0x2D..0x87, one ranging to settle VHV, then
# continuous ranging; distances from RESULT__FINAL_CROSSTALK_CORRECTED_RANGE_MM_SD0.
from micropython import const

ADDR = const(0x29)
_SOFT_RESET = const(0x0000)
_VHV_LOOP_BOUND = const(0x0008)
_VHV_INIT = const(0x000B)
_GPIO_HV_MUX_CTRL = const(0x0030)
_GPIO_TIO_HV_STATUS = const(0x0031)
_INTERRUPT_CLEAR = const(0x0086)
_MODE_START = const(0x0087)
_RANGE_STATUS = const(0x0089)
_RANGE_MM = const(0x0096)
_BOOT_STATUS = const(0x00E5)
_MODEL_ID = const(0x010F)
MODEL_ID = const(0xEACC)

# ULD VL51L1X_DEFAULT_CONFIGURATION: registers 0x2D..0x87, 91 bytes.
DEFAULT_CONFIG = bytes((
    0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x02, 0x08, 0x00, 0x08, 0x10, 0x01, 0x01, 0x00, 0x00, 0x00,
    0x00, 0xFF, 0x00, 0x0F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x0B, 0x00, 0x00, 0x02, 0x0A, 0x21,
    0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0xC8, 0x00, 0x00, 0x38, 0xFF, 0x01, 0x00, 0x08, 0x00,
    0x00, 0x01, 0xCC, 0x0F, 0x01, 0xF1, 0x0D, 0x01, 0x68, 0x00, 0x80, 0x08, 0xB8, 0x00, 0x00, 0x00,
    0x00, 0x0F, 0x89, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0F, 0x0D, 0x0E, 0x0E, 0x00,
    0x00, 0x02, 0xC7, 0xFF, 0x9B, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00))

# Raw RESULT__RANGE_STATUS (low 5 bits) -> ULD range status: 0 valid, 1 sigma
# fail, 2 signal fail, 4 out of bounds, 7 wrap-around, ...; 255 undefined.
_STATUS_MAP = bytes((255, 255, 255, 5, 2, 4, 1, 7, 3, 0, 255, 255, 9, 13, 255, 255,
                     255, 255, 10, 6, 255, 255, 11, 12))


class VL53L1XError(OSError):
    pass


class VL53L1X:
    def __init__(self, i2c, addr=ADDR, wait_ms=None):
        self.i2c = i2c
        self.addr = addr
        self._one = bytearray(1)
        self._two = bytearray(2)
        self.status = 255  # ULD range status of the last reading
        if self.read16(_MODEL_ID) != MODEL_ID:
            raise VL53L1XError("no VL53L1X at 0x%02x (model id)" % addr)
        if not self.booted():
            raise VL53L1XError("VL53L1X firmware not booted")
        self.i2c.writeto_mem(addr, 0x2D, DEFAULT_CONFIG, addrsize=16)
        self.start()
        self._wait_ready(wait_ms)
        self.clear()
        self.stop()
        self.write8(_VHV_LOOP_BOUND, 0x09)  # two VHV bounds
        self.write8(_VHV_INIT, 0x00)  # start VHV from the previous temperature
        self.start()

    def write8(self, reg, value):
        self._one[0] = value
        self.i2c.writeto_mem(self.addr, reg, self._one, addrsize=16)

    def read8(self, reg):
        self.i2c.readfrom_mem_into(self.addr, reg, self._one, addrsize=16)
        return self._one[0]

    def read16(self, reg):
        b = self._two
        self.i2c.readfrom_mem_into(self.addr, reg, b, addrsize=16)
        return b[0] << 8 | b[1]

    def booted(self):
        return bool(self.read8(_BOOT_STATUS) & 0x01)

    def start(self):
        self.write8(_MODE_START, 0x40)

    def stop(self):
        self.write8(_MODE_START, 0x00)

    def clear(self):
        self.write8(_INTERRUPT_CLEAR, 0x01)

    def ready(self):
        active_high = not (self.read8(_GPIO_HV_MUX_CTRL) & 0x10)
        return (self.read8(_GPIO_TIO_HV_STATUS) & 0x01) == active_high

    def _wait_ready(self, wait_ms):
        from time import sleep_ms
        for _ in range(wait_ms or 1000):
            if self.ready():
                return
            sleep_ms(1)
        raise VL53L1XError("VL53L1X: no first ranging")

    def read_mm(self):
        """The last distance in mm (None unless its range status is valid); re-arms."""
        raw = self.read8(_RANGE_STATUS) & 0x1F
        self.status = _STATUS_MAP[raw] if raw < len(_STATUS_MAP) else 255
        mm = self.read16(_RANGE_MM)
        self.clear()
        return mm if self.status == 0 else None
