# Power profiles (config "power": {"profile": ...}):
#  - mains: always powered; nothing here runs.
#  - switched: a street-light circuit, live at night only. The board's mains
#    sense (a GPIO, or an ADC above a threshold) says when the supply goes; the
#    node then lives on its supercapacitor: it reports the intervals in progress
#    into the log (every sample taken ends in a durable reading), switches the
#    radio off and stops sensing. That is at most one append per reading due and
#    one sector opened (durable_bound_ms), whatever the backlog. If the supply
#    returns before the capacitor is empty, sensing begins new intervals and the
#    link drains the backlog; if not, the next boot does.
#  - battery: sample for `window` s with the radio off, report the intervals
#    into the log, radio up only until the log is delivered (or `publish` s),
#    then deep sleep for `sleep` s with the spots' last reported status in RTC
#    memory. The log stays the only place a reading lives: RTC memory holds only
#    what was published last, so a power loss in sleep loses no reading (a spot
#    is then published again once its samples are sure).
# Plain objects fed explicit time (t Unix seconds, ms ticks): the asyncio task at
# the end is the only part that reads clocks.
import struct

PROFILES = ("mains", "switched", "battery")
# Worst case to make the state durable on the chip, from the flash datasheet
# (Winbond W25Q32JV, the ESP32-WROOM-32's usual part: page program max 3 ms,
# 4 KB sector erase max 400 ms): one erase (opening a sector) plus a program
# per reading and one for the new sector's header.
PAGE_PROGRAM_MAX_MS = 3
SECTOR_ERASE_MAX_MS = 400
RTC_MAX = 2048  # MicroPython 1.25, ports/esp32/machine_rtc.c: RTC().memory() holds at most 2 KB
_MAGIC = b"SNp1"
_STATUS = ("free", "occupied", "unknown")


def durable_bound_ms(readings):
    """The longest making the state durable can take on the chip, for `readings` appends."""
    return SECTOR_ERASE_MAX_MS + (readings + 1) * PAGE_PROGRAM_MAX_MS


def due_readings(node):
    """How many readings closing the node's intervals now can append at most."""
    n = 0
    for p in node.pipelines:
        if hasattr(p, "channels"):  # air: one reading for the station
            n += 1
        n += len(getattr(p, "lanes", ()))
    return n


class MainsSense:
    """The supply as the node believes it: a change counts once it has held
    `debounce_ms` (a lamp's inrush or a relay's bounce is not a power cut)."""

    def __init__(self, debounce_ms=20, present=True):
        self.debounce_ms = debounce_ms
        self.present = present
        self._since = None

    def update(self, present, ms):
        """-> "fail" or "back" when the believed state changes, else None."""
        from time import ticks_diff

        if present == self.present:
            self._since = None
            return None
        if self._since is None:
            self._since = ms
        if ticks_diff(ms, self._since) < self.debounce_ms:
            return None
        self.present = present
        self._since = None
        return "back" if present else "fail"


def make_durable(shell, t):
    """Everything the node holds only in RAM goes into the log: the intervals in
    progress are reported now, and sensing stops. -> appends made."""
    before = shell.log.next_seq
    shell.sensing = False
    shell.node.close(t)
    return shell.log.next_seq - before


def radio(shell, on, orderly=True):
    """The run loop's network task steps the link only while the radio is on. Off
    and orderly (a battery node going to sleep: still in service), the broker
    gets a DISCONNECT and keeps the node `online`; otherwise (the supply gone) the
    connection just ends, and the broker publishes the last will `offline`."""
    if not on:
        link = shell.link
        if orderly:
            link.close()
        elif link.session is not None:
            link.session.close()
            link.session = None
        shell.uplink.detach()
    shell.radio = on
    shell.board.radio(on)


def resume(shell):
    """Power is back: new intervals begin, the radio comes back and the link drains."""
    shell.node = shell.new_node()
    shell.sensing = True
    radio(shell, True)


class Switched:
    def __init__(self, shell, spec):
        self.shell = shell
        self.sense_spec = spec.get("sense") or {}
        self.mains = MainsSense(int(spec.get("debounce", 0.02) * 1000))
        self.durable_us = None  # how long the last power-fail took to be durable (measured)
        self.appended = 0
        self.poll_ms = 10

    def step(self, t, ms):
        from time import ticks_diff, ticks_us

        ev = self.mains.update(self.shell.board.mains_present(self.sense_spec), ms)
        if ev == "fail":
            t0 = ticks_us()
            try:
                self.appended = make_durable(self.shell, t)
            finally:
                self.durable_us = ticks_diff(ticks_us(), t0)
                radio(self.shell, False, orderly=False)  # the capacitor's energy is for the flash
        elif ev == "back":
            resume(self.shell)
        return ev


def pack_state(spots, wakes):
    """The spots' last reported status for RTC memory: magic, wakes, count, (spot, status)..., CRC."""
    from binascii import crc32

    body = bytearray(_MAGIC + struct.pack("<IB", wakes, len(spots)))
    for n, status in spots:
        body += bytes((n, _STATUS.index(status)))
    body += struct.pack("<I", crc32(body))
    if len(body) > RTC_MAX:
        raise ValueError("state of %d bytes exceeds RTC memory (%d)" % (len(body), RTC_MAX))
    return bytes(body)


def unpack_state(data):
    """-> (wakes, {spot: status}), or (0, {}) for anything not a whole state (a power-on)."""
    from binascii import crc32

    if not data or len(data) < 13 or data[:4] != _MAGIC:
        return 0, {}
    if struct.unpack("<I", data[-4:])[0] != crc32(data[:-4]):
        return 0, {}
    wakes, count = struct.unpack_from("<IB", data, 4)
    if len(data) != 13 + 2 * count:
        return 0, {}
    spots = {}
    for i in range(count):
        n, s = data[9 + 2 * i], data[10 + 2 * i]
        if s < len(_STATUS):
            spots[n] = _STATUS[s]
    return wakes, spots


def spots_of(node):
    return [s for p in node.pipelines for s in getattr(p, "spots", ())]


class Battery:
    """sample (radio off) -> publish (radio up) -> sleep, once per wake."""

    def __init__(self, shell, spec, ms, state=None):
        self.shell = shell
        self.window_ms = int(spec.get("window", 60) * 1000)
        self.publish_ms = int(spec.get("publish", 60) * 1000)
        self.sleep_ms = int(spec.get("sleep", 240) * 1000)
        self.phase = "sample"
        self._since = ms
        self.wakes, last = unpack_state(state)
        for s in spots_of(shell.node):
            s.unsure(last.get(s.n))  # unknown until its samples are sure again
        radio(shell, False)
        self.delivered = False

    def step(self, t, ms):
        """-> the phase after this step; "sleep" once the node may sleep."""
        from time import ticks_diff

        sh = self.shell
        if self.phase == "sample" and ticks_diff(ms, self._since) >= self.window_ms:
            make_durable(sh, t)
            radio(sh, True)
            self.phase, self._since = "publish", ms
        elif self.phase == "publish":
            self.delivered = sh.log.pending == 0 and sh.uplink.idle
            if self.delivered or ticks_diff(ms, self._since) >= self.publish_ms:
                radio(sh, False)
                spots = [(s.n, s.reported) for s in spots_of(sh.node)]
                sh.board.rtc_memory(pack_state(spots, self.wakes + 1))
                self.phase = "sleep"
        return self.phase


def controller(shell, spec, ms):
    """The profile's controller for this boot, or None on mains."""
    profile = spec.get("profile", "mains")
    if profile == "switched":
        return Switched(shell, spec)
    if profile == "battery":
        state = shell.board.rtc_memory() if shell.board.cause == "deep-sleep" else None
        return Battery(shell, spec, ms, state)
    return None


async def supervise(shell, ctl):
    """The asyncio task that runs a controller; a battery node ends in deep sleep."""
    import time

    import asyncio

    from app.console import say

    while True:
        r = ctl.step(shell.board.now(), time.ticks_ms())
        if r == "fail":
            say("power: supply failed: %d readings durable in %d us, radio off"
                % (ctl.appended, ctl.durable_us))
        elif r == "back":
            say("power: supply back: sampling, %d readings to deliver" % shell.log.pending)
        elif r == "sleep":
            say("power: deep sleep %d s (%d readings to deliver)" % (ctl.sleep_ms // 1000, shell.log.pending))
            shell.board.deepsleep(ctl.sleep_ms)
        await asyncio.sleep_ms(getattr(ctl, "poll_ms", 100))
