# The magnetometer a parking spot or traffic lane reads on a board:
# config {"type": "qmc5883l" | "hmc5883l", "i2c": "<bus name in the board profile>",
#         "rate": Hz, "gauss": range}.


def open_magnetometer(board, sensor):
    kind = sensor.get("type", "qmc5883l")
    i2c = board.i2c(sensor.get("i2c", "main"))
    if kind == "hmc5883l":
        from hmc5883l import HMC5883L
        return HMC5883L(i2c, rate=sensor.get("rate", 75), gauss=sensor.get("gauss", 1.3))
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
