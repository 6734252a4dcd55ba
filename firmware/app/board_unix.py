# Board layer for the MicroPython unix port (the `unix-sim` profile).
# UARTs are streams that replay a recorded byte capture at its recorded cadence;
# in virtual-time replay the host feeds them directly.
import time

import framebuf

_EPOCH = 0 if time.gmtime(0)[0] == 1970 else 946684800


WAKE = "deepsleep-wake"  # left by Board.deepsleep: the next start is a wake
RTC_FILE = "rtc.mem"  # RTC slow memory: kept through deep sleep, lost with the power
RTC_MAX = 2048  # as MicroPython 1.25's ESP32 port (ports/esp32/machine_rtc.c)


def reset_cause():
    """A virtual node's process start is a power-on, unless the simulated watchdog
    (below) ended the one before in this directory, or Board.deepsleep did."""
    import os

    for marker, cause in (("watchdog-reset", "watchdog"), (WAKE, "deep-sleep")):
        try:
            os.remove(marker)
            return cause
        except OSError:
            pass
    try:
        os.remove(RTC_FILE)  # power-on: RTC memory starts empty
    except OSError:
        pass
    return "power-on"


class DeepSleep(SystemExit):
    """The virtual node's deep sleep: the process ends, as the chip's run does."""


class Watchdog:
    """machine.WDT as the chip has it: a thread ends the whole process (SIGKILL, no
    cleanup, like a chip reset) when feed() has not come within timeout_ms."""

    def __init__(self, timeout_ms):
        import _thread

        self.timeout_ms = timeout_ms
        self.fed = time.ticks_ms()
        _thread.start_new_thread(self._watch, ())

    def feed(self):
        self.fed = time.ticks_ms()

    def _watch(self):
        import os

        while time.ticks_diff(time.ticks_ms(), self.fed) < self.timeout_ms:
            time.sleep_ms(50)
        print("watchdog: not fed for %d ms: reset" % self.timeout_ms)
        with open("watchdog-reset", "w") as f:  # the next start's reset cause
            f.write("1")
        with open("/proc/self/stat") as f:
            pid = f.read().split()[0]
        os.system("kill -KILL " + pid)


_wdt = None


class InertWatchdog:
    def feed(self):
        pass


def watchdog(timeout_ms):
    """One watchdog per process, as on the chip: a second call sets a new timeout.

    The virtual board (host_tools/vboard.py) gets an inert one: its REPL is driven
    by SIGINT, which the unix port may deliver to the watchdog's thread, and a
    second Ctrl-C before the first is handled ends the whole VM."""
    global _wdt
    import os

    if os.getenv("SMARTNODE_INERT_WATCHDOG"):
        return InertWatchdog()
    if _wdt is None:
        _wdt = Watchdog(timeout_ms)
    _wdt.timeout_ms = timeout_ms
    _wdt.feed()
    return _wdt


def reset():
    """A crash ends the virtual node's process, as machine.reset() ends the chip's run."""
    raise SystemExit(3)


class FeedUART:
    """A UART whose bytes arrive through feed(): machine.UART's read side."""

    def __init__(self, size=512):
        self._buf = bytearray(size)
        self._head = 0
        self._tail = 0
        self.written = bytearray()  # commands the driver sent, for inspection

    def feed(self, data):
        buf = self._buf
        if self._head == self._tail:
            self._head = self._tail = 0
        n = len(data)
        if self._tail + n > len(buf):
            # Compact; bytes beyond capacity are lost, as a real UART FIFO overflows.
            live = self._tail - self._head
            buf[0:live] = buf[self._head:self._tail]
            self._head, self._tail = 0, live
            n = min(n, len(buf) - live)
        buf[self._tail:self._tail + n] = data[:n]
        self._tail += n

    def any(self):
        return self._tail - self._head

    def readinto(self, dest, nbytes=-1):
        n = self._tail - self._head
        if not n:
            return None
        if nbytes < 0 or nbytes > len(dest):
            nbytes = len(dest)
        n = min(n, nbytes)
        dest[0:n] = self._buf[self._head:self._head + n]
        self._head += n
        return n

    def read(self, nbytes=-1):
        n = self.any() if nbytes < 0 else min(nbytes, self.any())
        if not n:
            return None
        out = bytes(self._buf[self._head:self._head + n])
        self._head += n
        return out

    def write(self, data):
        self.written += data
        return len(data)


class CaptureUART(FeedUART):
    """Replays a recorded capture file in real time, chunk bytes every period_ms, looping."""

    def __init__(self, path, chunk, period_ms):
        super().__init__()
        with open(path, "rb") as f:
            self._data = f.read()
        self._chunk = chunk
        self._period = period_ms
        self._pos = 0
        self._due = time.ticks_ms()

    def _pump(self):
        now = time.ticks_ms()
        while time.ticks_diff(now, self._due) >= 0:
            end = self._pos + self._chunk
            self.feed(self._data[self._pos:end])
            self._pos = end if end < len(self._data) else 0
            self._due = time.ticks_add(self._due, self._period)

    def any(self):
        self._pump()
        return super().any()

    def readinto(self, dest, nbytes=-1):
        self._pump()
        return super().readinto(dest, nbytes)


class SimPin:
    """A digital input driven by a simulation thread, with the ESP32's Pin.irq of
    MicroPython 1.25: no `hard` argument; each edge queues the handler with
    micropython.schedule (its queue is small: 4 entries here, 8 on the chip), and it
    runs when the main thread next runs Python, not while it is blocked in a C call."""

    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self):
        self.level = 0
        self.dropped = 0  # edges whose handler found the scheduler queue full
        self._handler = None

    def value(self):
        return self.level

    def irq(self, handler=None, trigger=3):
        self._handler = handler

    def drive(self, level):
        """The wire changes (called from the simulation thread: the GPIO ISR)."""
        if level == self.level:
            return
        self.level = level
        if self._handler is not None:
            import micropython
            try:
                micropython.schedule(self._handler, self)
            except RuntimeError:  # queue full: the chip's ISR drops the edge silently
                self.dropped += 1


class FramePanel(framebuf.FrameBuffer):
    """A display panel with no screen: the frame stays in RAM, where tests read it back."""

    def __init__(self, width, height):
        self.width = width
        self.height = height
        self.buffer = bytearray(width * height // 8)
        self.shows = 0
        super().__init__(self.buffer, width, height, framebuf.MONO_VLSB)

    def show(self):
        self.shows += 1


class Board:
    cause = None  # the reset cause main.py recorded at boot

    def __init__(self, profile, feed=False):
        self.profile = profile
        self.feed = feed  # virtual time: UARTs are fed by the caller
        self._uarts = {}
        self._inputs = {}

    def presence(self, name):
        """A presence input's edge ring; on the unix port the caller pushes the edges
        (as a hard interrupt would), or, for an input {"scheduled": true} in the
        profile, drives its SimPin, whose handler runs as the ESP32's does."""
        r = self._inputs.get(name)
        if r is None:
            spec = (self.profile.get("inputs") or {}).get(name) or {}
            if spec.get("scheduled"):
                from presence import SCHEDULED_RING, Presence
                r = Presence(SimPin(), spec.get("ring", SCHEDULED_RING), spec.get("active", 1),
                             SimPin.IRQ_RISING | SimPin.IRQ_FALLING)
            else:
                from presence import EdgeRing
                r = EdgeRing()
            self._inputs[name] = r
        return r

    def uart(self, name):
        u = self._uarts.get(name)
        if u is None:
            spec = self.profile["uarts"][name]
            if self.feed or "replay" not in spec:
                u = FeedUART()
            else:
                u = CaptureUART(spec["replay"], spec.get("chunk", 10), spec.get("period_ms", 1000))
            self._uarts[name] = u
        return u

    def i2c(self, name):
        """The unix port has no I2C: a sensor on it is reported missing (replay feeds samples instead)."""
        raise OSError("no I2C bus %r on the unix port" % name)

    def display(self):
        """The profile's status panel (onboard "oled"), None if it has none.

        A "framebuf" panel is a frame in RAM; one on an I2C bus is missing here (no I2C on
        the unix port), as a panel that does not answer on a board."""
        spec = (self.profile.get("onboard") or {}).get("oled")
        if not spec:
            return None
        if spec.get("bus") != "framebuf":
            raise OSError("no I2C bus for the display on the unix port")
        return FramePanel(spec.get("width", 128), spec.get("height", 64))

    def now(self):
        return int(time.time()) + _EPOCH  # whole seconds, as the ESP32 port gives

    def log_device(self, cfg):
        """An emulated NOR region, kept in a file so the log survives restarts.

        The profile's "log" says where (the virtual board keeps it beside its
        filesystem, as an ESP32 keeps the log partition beside /); config overrides.
        """
        from app.norflash import NorFlash
        spec = dict(self.profile.get("log") or {})
        spec.update(cfg)
        return NorFlash(spec.get("sectors", 128), path=spec.get("file", "smartlog.img")), "emulated"

    def baseline_file(self):
        """Calibrated baselines: in the node's working directory (its filesystem)."""
        return self.profile.get("baselines", "baselines.json")

    def status(self):
        return {"platform": "unix"}

    # -- what the uplink asks of the platform (stand-ins on the unix port) --------
    def health(self):
        return {"reset_cause": self.cause or "power-on", "rssi": None}

    def network_up(self, cfg):
        """The host's network is always there."""
        return True

    def wifi_up(self):
        return True

    def clock_set(self):
        return True

    NTP_SERVER = None  # the host keeps time: NTP only when the config names a server

    def set_clock(self, unix_s, ms=0):
        """The host's clock is not ours to set; the link still records the sync."""

    def reboot(self):
        raise SystemExit("reboot requested")

    # -- power (app.power): a simulated supply, radio, RTC memory and deep sleep -----
    mains = True  # what the mains sense reads; tests switch it

    def mains_present(self, spec):
        """`mains`, or for a virtual node the profile's "mains_file": "0" in it is a
        supply gone (a switch the test or the technician throws)."""
        path = self.profile.get("mains_file")
        if path:
            try:
                with open(path) as f:
                    return f.read(1) != "0"
            except OSError:
                pass
        return self.mains

    radio_on = True
    radio_log = None  # [(on, board.now())] once the radio is switched, for tests

    def radio(self, on):
        if self.radio_log is None:
            self.radio_log = []
        self.radio_log.append((on, self.now()))
        self.radio_on = on

    def rtc_memory(self, data=None):
        """machine.RTC().memory(): bytes kept through deep sleep (a file here)."""
        if data is None:
            try:
                with open(RTC_FILE, "rb") as f:
                    return f.read()
            except OSError:
                return b""
        if len(data) > RTC_MAX:
            raise ValueError("RTC memory holds %d bytes" % RTC_MAX)
        with open(RTC_FILE, "wb") as f:
            f.write(data)

    def deepsleep(self, ms):
        with open(WAKE, "w") as f:
            f.write(str(ms))
        raise DeepSleep(ms)
