# Board layer for ESP32-family boards: pins and buses come from the profile.
import time

import machine

_EPOCH = 0 if time.gmtime(0)[0] == 1970 else 946684800


def reset_cause():
    """Why the chip (re)started, as a name; read first thing at boot."""
    causes = {getattr(machine, c, -1 - i): n for i, (c, n) in enumerate((
        ("PWRON_RESET", "power-on"), ("HARD_RESET", "hard"), ("WDT_RESET", "watchdog"),
        ("DEEPSLEEP_RESET", "deep-sleep"), ("SOFT_RESET", "soft")))}
    return causes.get(machine.reset_cause(), "other")


def watchdog(timeout_ms):
    """machine.WDT: on the ESP32 (1.25) the task watchdog, reconfigured (never stopped)
    by each new WDT; it resets the chip unless fed within timeout_ms."""
    return machine.WDT(timeout=timeout_ms)


def reset():
    machine.reset()


class Board:
    cause = None  # the reset cause main.py recorded at boot

    def __init__(self, profile, feed=False):
        self.profile = profile
        self._uarts = {}
        self._i2cs = {}

    def uart(self, name):
        u = self._uarts.get(name)
        if u is None:
            s = self.profile["uarts"][name]
            u = machine.UART(s["id"], baudrate=s.get("baud", 9600), tx=s["tx"], rx=s["rx"],
                             timeout=0, rxbuf=s.get("rxbuf", 256))
            self._uarts[name] = u
        return u

    def i2c(self, name):
        bus = self._i2cs.get(name)
        if bus is None:
            s = self.profile["i2c"][name]
            bus = machine.I2C(s["id"], scl=machine.Pin(s["scl"]), sda=machine.Pin(s["sda"]),
                              freq=s.get("freq", 100000))
            self._i2cs[name] = bus
        return bus

    def pin(self, number):
        """An output pin (a sensor's SET or enable line)."""
        return machine.Pin(number, machine.Pin.OUT)

    def ultrasonic(self, name):
        """An ultrasonic ranger's (trigger, echo) pins from the profile's "ultrasonic"."""
        s = self.profile["ultrasonic"][name]
        return machine.Pin(s["trigger"], machine.Pin.OUT), machine.Pin(s["echo"], machine.Pin.IN)

    def input(self, name):
        """A plain input pin from the profile's "inputs" (a Doppler module's IF)."""
        s = self.profile["inputs"][name]
        return machine.Pin(s["pin"], machine.Pin.IN, machine.Pin.PULL_UP if s.get("pull_up") else None)

    def presence(self, name):
        """A presence input (loop-detector card contact) on the profile's pin `name`.

        1.25's ESP32 port runs its handler scheduled (no hard IRQ, no PCNT, RMT without
        RX): a stamp is late by less than the sense-loop gap around it, which the traffic
        pipeline checks (edges-late, edges-lost; app/traffic.py PresencePair)."""
        from presence import SCHEDULED_RING, Presence
        s = self.profile["inputs"][name]
        pull = machine.Pin.PULL_UP if s.get("pull_up") else None
        return Presence(machine.Pin(s["pin"], machine.Pin.IN, pull), s.get("ring", SCHEDULED_RING),
                        s.get("active", 1))

    def display(self):
        """The onboard SSD1306 (profile "onboard"/"oled"), None if the board has none.

        OSError if the panel does not answer on its bus."""
        spec = (self.profile.get("onboard") or {}).get("oled")
        if not spec:
            return None
        import ssd1306

        if "rst" in spec:  # Heltec: the panel stays in reset until its RST pin goes high
            rst = machine.Pin(spec["rst"], machine.Pin.OUT)
            rst.value(0)
            time.sleep_ms(20)  # Heltec's own init holds it 20 ms (SSD1306: at least 3 us)
            rst.value(1)
            time.sleep_ms(1)
        bus = machine.I2C(spec["id"], scl=machine.Pin(spec["scl"]), sda=machine.Pin(spec["sda"]),
                          freq=spec.get("freq", 400000))
        return ssd1306.SSD1306_I2C(spec.get("width", 128), spec.get("height", 64), bus, spec.get("addr", 0x3C))

    def now(self):
        return time.time() + _EPOCH

    def log_device(self, cfg):
        """The 'smartlog' data partition; a file on / where the partition table lacks one."""
        import esp32
        found = esp32.Partition.find(esp32.Partition.TYPE_DATA, label=cfg.get("label", "smartlog"))
        if found:
            return found[0], "partition"
        from app.fileblocks import FileBlocks
        return FileBlocks(cfg.get("file", "/smartlog.bin"), cfg.get("sectors", 16)), "file"

    def baseline_file(self):
        """Calibrated baselines: a small file on / beside config.json."""
        return "/baselines.json"

    # -- what the uplink asks of the platform ------------------------------------
    def health(self):
        rssi = None
        wlan = self._wlan
        if wlan is not None and wlan.isconnected():
            try:
                rssi = wlan.status("rssi")
            except Exception:
                pass
        return {"reset_cause": self.cause or reset_cause(), "rssi": rssi}

    _wlan = None

    def network_up(self, cfg):
        """Wi-Fi station up?  Starts (or restarts) joining and returns at once."""
        import network

        if self._wlan is None:
            self._wlan = network.WLAN(network.STA_IF)
            self._wlan.active(True)
        wlan = self._wlan
        if wlan.isconnected():
            return True
        if wlan.status() != getattr(network, "STAT_CONNECTING", 1001):
            w = cfg.get("wifi") or {}
            if w.get("ssid"):
                wlan.connect(w["ssid"], w.get("password", ""))
        return False

    def wifi_up(self):
        return self._wlan is not None and self._wlan.isconnected()

    def clock_set(self):
        return time.gmtime(time.time())[0] >= 2020

    NTP_SERVER = "pool.ntp.org"

    def set_clock(self, unix_s, ms=0):
        """Set the RTC to a time the link learnt by NTP (app.ntp), in whole integers."""
        tm = time.gmtime(unix_s - _EPOCH)
        # (year, month, day, weekday, hours, minutes, seconds, microseconds), as ntptime sets it
        machine.RTC().datetime((tm[0], tm[1], tm[2], tm[6] + 1, tm[3], tm[4], tm[5], ms * 1000))

    def reboot(self):
        machine.reset()

    # -- power (app.power) -------------------------------------------------------
    _sense = None

    def mains_present(self, spec):
        """The supply, from config power.sense: a GPIO at level `active` (an optocoupler on
        the lamp circuit), or an ADC pin at or above `threshold` mV (a divider)."""
        if self._sense is None:
            if "adc" in spec:
                adc = machine.ADC(machine.Pin(spec["adc"]))
                adc.atten(machine.ADC.ATTN_11DB)  # up to ~3.1 V
                self._sense = lambda: adc.read_uv() >= spec.get("threshold", 1000) * 1000
            elif "pin" in spec:
                pin = machine.Pin(spec["pin"], machine.Pin.IN)
                self._sense = lambda: pin.value() == spec.get("active", 1)
            else:
                self._sense = lambda: True  # no sense wired: always on
        return self._sense()

    def radio(self, on):
        """Off: the Wi-Fi station is switched off (network_up switches it on again)."""
        if not on and self._wlan is not None:
            self._wlan.active(False)
            self._wlan = None

    def rtc_memory(self, data=None):
        """RTC slow memory (kept through deep sleep, at most 2048 bytes in 1.25)."""
        rtc = machine.RTC()
        if data is None:
            return rtc.memory()
        rtc.memory(data)

    def deepsleep(self, ms):
        machine.deepsleep(ms)
