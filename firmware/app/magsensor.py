# The sensor a parking spot or traffic lane reads on a board:
# magnetometer {"type": "qmc5883l" | "hmc5883l" | "lis3mdl", "i2c": "<bus in the board profile>",
#               "rate": Hz, "gauss": range};
# ranger (overhead, a spot seen from a lamp post) {"type": "vl53l1x", "i2c": "<bus>"} or
#        {"type": "hcsr04", "ultrasonic": "<trigger/echo pair in the board profile>"}.


def open_magnetometer(board, sensor):
    kind = sensor.get("type", "qmc5883l")
    i2c = board.i2c(sensor.get("i2c", "main"))
    if kind == "hmc5883l":
        from hmc5883l import HMC5883L
        return HMC5883L(i2c, rate=sensor.get("rate", 75), gauss=sensor.get("gauss", 1.3))
    if kind == "lis3mdl":
        from lis3mdl import LIS3MDL
        return LIS3MDL(i2c, rate=sensor.get("rate", 80), gauss=sensor.get("gauss", 4))
    if kind == "qmc5883l":
        from qmc5883l import QMC5883L
        return QMC5883L(i2c, rate=sensor.get("rate", 50), gauss=sensor.get("gauss", 2))
    raise ValueError("unknown magnetometer type %r" % kind)


def read_if_ready(driver):
    """The driver's new sample, or None (not ready, or a bus error: one sample lost)."""
    try:
        if driver.ready():
            return driver.read()
    except OSError:
        pass
    return None


class RangerSamples:
    """A ranger as a one-axis sample source: [distance mm]; no valid echo, no sample."""

    def __init__(self, ranger):
        self.ranger = ranger
        self.sample = [0]

    def ready(self):
        return self.ranger.ready()

    def read(self):
        mm = self.ranger.read_mm()
        if mm is None:
            return None
        self.sample[0] = mm
        return self.sample


class EchoRanger:
    """An HC-SR04 / JSN-SR04T as a ranger: pinged at most every period_ms (the last echo
    must die out: 60 ms), its round trip turned into whole mm with integers only."""

    def __init__(self, dev, period_ms=100):
        from hcsr04 import sound_mps
        self.dev = dev
        self.period_ms = period_ms
        self.k16 = int(sound_mps(dev.temp_c) * 16 + 0.5)  # speed of sound, 1/16 m/s
        self._next = None

    def ready(self):
        from time import ticks_add, ticks_diff, ticks_ms
        now = ticks_ms()
        if self._next is not None and ticks_diff(self._next, now) > 0:
            return False
        self._next = ticks_add(now, self.period_ms)
        return True

    def read_mm(self):
        us = self.dev.echo_us()
        if us < 0:  # no echo within range
            return None
        mm = us * self.k16 // 32000  # us * (m/s) / 2 (there and back) / 1000
        return mm if mm <= self.dev.max_mm else None


def open_ranger(board, sensor):
    kind = sensor.get("type", "vl53l1x")
    if kind == "hcsr04":
        from hcsr04 import HCSR04
        trigger, echo = board.ultrasonic(sensor.get("ultrasonic", "ranger"))
        return RangerSamples(EchoRanger(HCSR04(trigger, echo, sensor.get("max_mm", 4500))))
    if kind != "vl53l1x":
        raise ValueError("unknown ranger type %r" % kind)
    from vl53l1x import VL53L1X
    return RangerSamples(VL53L1X(board.i2c(sensor.get("i2c", "main"))))
