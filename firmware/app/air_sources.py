# Where air-quality samples come from: one source per configured sensor,
# each feeding raw integers (app.quality units) into the channels it owns.
# A source never raises into the pipeline for a bus fault: it counts it, and
# the silent channels are flagged `missing` when the interval closes.

# sensor -> the attributes it measures, in the order its sample() fills them
ATTRIBUTES = {
    "sds011": ("pm25", "pm10"),
    "pms5003": ("pm1", "pm25", "pm10", "temperature", "relativeHumidity"),
    "sps30": ("pm1", "pm25", "pm10"),
    "bme280": ("temperature", "relativeHumidity", "pressure"),
    "dht22": ("temperature", "relativeHumidity"),
    "scd4x": ("co2", "temperature", "relativeHumidity"),
}
# Who owns a shared attribute: the first in this order (a BME280 measures
# climate better than a self-heated SCD4x or a fan-cooled PMS5003T).
PRIORITY = ("sds011", "pms5003", "sps30", "bme280", "dht22", "scd4x")

# Recorded sample fields (replay events {"air": {"sensor": .., <field>: value}})
# -> (attribute, raw units per recorded unit).  Pressure is recorded in Pa.
RECORDED = (
    ("pm1", "pm1", 100), ("pm25", "pm25", 100), ("pm10", "pm10", 100),
    ("temperature", "temperature", 100), ("humidity", "relativeHumidity", 100),
    ("pressure", "pressure", 1), ("co2", "co2", 1),
)


class Source:
    def __init__(self, name, chans, on_sample):
        self.name = name
        self.chans = chans  # attribute -> Channel, only those this source owns
        self.on_sample = on_sample
        self.errors = 0  # bus faults, refused frames
        self.samples = 0

    def poll(self, t):
        pass

    def feed(self, t, values):
        """A recorded sample (replay): field -> value in recorded units."""
        chans = self.chans
        for field, attr, scale in RECORDED:
            v = values.get(field)
            ch = chans.get(attr)
            if v is not None and ch is not None:
                ch.add(t, int(round(v * scale)))
        self.samples += 1
        if self.on_sample:
            self.on_sample(t, values)

    def put(self, t, attr, raw):
        ch = self.chans.get(attr)
        if ch is not None:
            ch.add(t, raw)

    def close(self, t):
        pass


class RecordedSource(Source):
    """A sensor whose samples arrive as recorded events only (replay, no bus)."""


class LaserSource(Source):
    """SDS011 / PMS5003 / SPS30 on a UART, optionally duty cycled."""

    def __init__(self, name, driver, chans, on_sample, duty=None, polled=False):
        Source.__init__(self, name, chans, on_sample)
        self.driver = driver
        self.duty = duty
        self.discarded = 0  # frames read while warming up or asleep
        self.polled = polled  # answers only when asked (query/passive mode): ask once a second
        self._asked = None

    def poll(self, t):
        d = self.driver
        duty = self.duty
        if duty is not None:
            action = duty.step(t)
            if action == "wake":
                d.wake()
            elif action == "sleep":
                d.sleep()
        if self.polled and (duty is None or duty.sampling()) and (self._asked is None or t - self._asked >= 1):
            d.request()
            self._asked = t
        while d.read():
            if duty is not None and not duty.sampling():
                self.discarded += 1
                continue
            self.samples += 1
            self._put(t, d)

    def _put(self, t, d):
        if self.name == "sds011":
            self.put(t, "pm25", d.pm25 * 10)
            self.put(t, "pm10", d.pm10 * 10)
            if self.on_sample:
                self.on_sample(t, {"sensor": "sds011", "pm25": d.pm25 / 10, "pm10": d.pm10 / 10})
            return
        if self.name == "sps30":
            self.put(t, "pm1", d.pm1)
            self.put(t, "pm25", d.pm25)
            self.put(t, "pm10", d.pm10)
            if self.on_sample:
                self.on_sample(t, {"sensor": "sps30", "pm1": d.pm1 / 100, "pm25": d.pm25 / 100,
                                   "pm10": d.pm10 / 100})
            return
        self.put(t, "pm1", d.pm1 * 100)
        self.put(t, "pm25", d.pm25 * 100)
        self.put(t, "pm10", d.pm10 * 100)
        if d.temperature is not None:
            self.put(t, "temperature", d.temperature * 10)
            self.put(t, "relativeHumidity", d.humidity * 10)
        if self.on_sample:
            s = {"sensor": "pms5003", "pm1": d.pm1, "pm25": d.pm25, "pm10": d.pm10}
            if d.temperature is not None:
                s["temperature"] = d.temperature / 10
                s["humidity"] = d.humidity / 10
            self.on_sample(t, s)


class I2CSource(Source):
    """BME280 / SCD4x (or a DHT22 on its data pin) sampled every `every` s; a missing or
    failing chip is retried."""

    def __init__(self, name, make, chans, on_sample, every=10, retry=60, single=False):
        Source.__init__(self, name, chans, on_sample)
        self.single = single  # SCD41 single-shot instead of periodic measurement
        self.stage = 0
        self.make = make  # () -> driver; OSError if the chip does not answer
        self.every = every
        self.retry = retry
        self.driver = None
        self.pending = False  # a measurement was started
        self.due = None

    def poll(self, t):
        if self.due is not None and t < self.due:
            return
        try:
            if self.driver is None:
                self.driver = self.make()
                self.pending = False
                self.stage = 0
            self._step(t)
        except (OSError, ValueError):
            self.errors += 1
            self.driver = None
            self.due = t + self.retry

    def _step(self, t):
        d = self.driver
        if self.name == "dht22":  # MicroPython's dht module: the whole exchange in C, ~5 ms
            try:
                d.measure()
            except OSError:
                raise
            except Exception:  # "checksum error": a garbled answer
                raise OSError("dht22 checksum")
            self.due = t + self.every
            self.samples += 1
            temp, rh = d.temperature(), d.humidity()
            self.put(t, "temperature", round(temp * 100))
            self.put(t, "relativeHumidity", round(rh * 100))
            if self.on_sample:
                self.on_sample(t, {"sensor": "dht22", "temperature": temp, "humidity": rh})
            return
        if self.name == "bme280":
            # forced mode: start a measurement, read it at the next poll (~10 ms later)
            if not self.pending:
                d.force()
                self.pending = True
                self.due = None
                return
            if d.busy():
                return
            d.read()
            self.pending = False
            self.due = t + self.every
            self.samples += 1
            self.put(t, "temperature", d.temperature)
            self.put(t, "relativeHumidity", d.humidity * 100 >> 10)
            self.put(t, "pressure", d.pressure >> 8)
            if self.on_sample:
                self.on_sample(t, {"sensor": "bme280", "temperature": d.temperature / 100,
                                   "humidity": d.humidity / 1024, "pressure": d.pressure / 256})
            return
        # scd4x: stop whatever mode a reboot left it in (it refuses most commands while
        # measuring), then periodic measurement (a reading every 5 s) or, on an SCD41
        # with "single", one single shot (5 s) every `every` s.
        if self.stage == 0:
            d.stop_periodic()
            self.stage = 1
            self.due = t + 1  # 500 ms until the sensor listens again
            return
        if self.stage == 1:
            if self.single:
                d.single_shot()
            else:
                d.start_periodic()
            self.stage = 2
            self.due = t + 5
            return
        if not d.data_ready():
            self.due = t + 1
            return
        d.read()
        self.samples += 1
        self.put(t, "co2", d.co2)
        self.put(t, "temperature", d.temperature)
        self.put(t, "relativeHumidity", d.humidity)
        if self.on_sample:
            self.on_sample(t, {"sensor": "scd4x", "co2": d.co2, "temperature": d.temperature / 100,
                               "humidity": d.humidity / 100})
        if self.single:
            self.stage = 1
            self.due = t + max(0, self.every - 5)
        else:
            self.due = t + self.every


def make_source(name, spec, board, chans, on_sample, duty_cfg, interval):
    """The source for sensor `name` with its config entry `spec`."""
    if "uart" in spec:
        uart = board.uart(spec["uart"])
        polled = bool(spec.get("query"))
        if name == "sds011":
            from sds011 import MODE_QUERY, SDS011
            driver = SDS011(uart)
            if polled:
                driver.set_mode(MODE_QUERY)
        elif name == "sps30":
            from sps30 import SPS30
            driver = SPS30(uart)
            driver.start()  # idle after power-up until told to measure
            polled = True
        else:
            from pms5003 import PMS5003
            # SET pin (high: work, low: sleep) where the board can drive one, else commands
            has_pin = "set_pin" in spec and hasattr(board, "pin")
            set_pin = board.pin(spec["set_pin"]) if has_pin else None
            driver = PMS5003(uart, set_pin, with_climate=bool(spec.get("climate")))
            if polled:
                driver.passive()
        duty = None
        d = spec.get("duty", duty_cfg)
        if d is not None and d is not False:  # {} or true: the defaults
            from app.duty import DutyCycle  # only for a duty-cycled sensor

            d = d if isinstance(d, dict) else {}
            duty = DutyCycle(d.get("period", interval), d.get("warmup", 30), d.get("sample", 10))
        return LaserSource(name, driver, chans, on_sample, duty, polled)
    if "data" in spec:  # a DHT22 on a GPIO (the chip's frozen dht module)
        def make():
            from dht import DHT22
            return DHT22(board.pin(spec["data"]))
        every = max(2, spec.get("every", 10))  # the DHT22 answers at most every 2 s
        return I2CSource(name, make, chans, on_sample, every, spec.get("retry", every))
    if "i2c" in spec:
        bus_name = spec["i2c"]

        if name == "bme280":
            def make():
                from bme280 import BME280
                return BME280(board.i2c(bus_name), spec.get("address", 0x76))
        else:
            def make():
                from scd4x import SCD4x
                return SCD4x(board.i2c(bus_name), spec.get("address", 0x62))
        return I2CSource(name, make, chans, on_sample, spec.get("every", 10 if name == "bme280" else 5),
                         spec.get("retry", 60), bool(spec.get("single")))
    return RecordedSource(name, chans, on_sample)
