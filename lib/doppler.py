# A plain continuous-wave Doppler radar module (24 GHz K-band such as the
# CDM324/IPM-165, or 10.525 GHz X-band such as the HB100) whose IF output,
# amplified to a square wave, drives a pin.  The Doppler shift is
# f = 2 v f0 / c: 44.7 Hz per km/h at 24.125 GHz, 19.5 Hz per km/h at 10.525 GHz.
#
#   d = Doppler(machine.Pin(35, machine.Pin.IN), hz_per_kmh=K_BAND)
#   ... d.kmh() every gate time (e.g. 100 ms) -> speed of the strongest target, or 0
#
# On the ESP32 in MicroPython 1.25 pin handlers are scheduled (no hard IRQ, no
# PCNT): at kilohertz IF rates the 8-entry scheduler queue overflows and each
# stamp is as late as the VM was busy, so edge counting is only for ports with
# hard interrupts.  There, use window(): machine.time_pulse_us waits for each
# edge in a C busy loop, so the IF period is timed without any handler.
from array import array
from time import ticks_diff, ticks_us

C = 299792458.0
K_BAND = 44.7  # Hz per km/h at 24.125 GHz
X_BAND = 19.5  # Hz per km/h at 10.525 GHz


def hz_per_kmh(f0_hz):
    """Doppler shift per km/h for a carrier f0 (Hz)."""
    return 2 * f0_hz / C / 3.6


def kmh(freq_hz, per_kmh=K_BAND):
    return freq_hz / per_kmh


class Doppler:
    """Counts IF rising edges in an interrupt handler (no allocation there) and
    turns the count over a gate time into a frequency and a speed."""

    def __init__(self, pin=None, hz_per_kmh=K_BAND, min_cycles=4, cycles=16, irq=True):
        self.per_kmh = hz_per_kmh
        self.min_cycles = min_cycles  # fewer edges in a gate: noise, no target
        self._n = 0
        self._first = 0
        self._last = 0
        self.freq = 0.0
        self.rejected = 0  # windows thrown away: a cycle was missed
        self._ticks = array("i", bytes(4 * (cycles + 1)))  # window(): one stamp per rising edge
        self._handler = self.edge
        if pin is not None and irq:
            import machine
            pin.irq(handler=self._handler, trigger=machine.Pin.IRQ_RISING)

    def edge(self, _pin=None, ticks=None):
        t = ticks_us() if ticks is None else ticks
        if self._n == 0:
            self._first = t
        self._last = t
        self._n += 1

    def measure(self):
        """Frequency (Hz) of the edges since the last call; 0 when too few."""
        n = self._n
        first, last = self._first, self._last
        self._n = 0
        span = ticks_diff(last, first)
        self.freq = (n - 1) * 1e6 / span if n >= self.min_cycles and span > 0 else 0.0
        return self.freq

    def kmh(self):
        return self.measure() / self.per_kmh

    def window(self, pin, timeout_us=20000):
        """IF frequency (Hz) timed in C: each machine.time_pulse_us(pin, 0) returns at a
        rising edge (it waits out the low half in a busy loop), so the stamps taken after
        successive returns are whole periods apart, give or take the jitter of the return
        path (a few us on the chip).  A call that starts late still returns at the next
        rising edge; only a stall longer than a whole period skips one, and a period far
        from the mean rejects the window (counted in `rejected`).  Holds the VM for the
        window: `cycles` periods (16 at 50 km/h on K band: 7 ms).  0 when no target (a
        wait timed out) or rejected."""
        from machine import time_pulse_us
        ts = self._ticks
        n = len(ts)
        self.freq = 0.0
        for i in range(n):
            if time_pulse_us(pin, 0, timeout_us) < 0:
                return 0.0
            ts[i] = ticks_us()
        span = ticks_diff(ts[n - 1], ts[0])
        mean = span // (n - 1)
        if mean <= 0:
            return 0.0
        for i in range(1, n):
            if abs(ticks_diff(ts[i], ts[i - 1]) - mean) > mean // 4:
                self.rejected += 1
                return 0.0
        self.freq = (n - 1) * 1e6 / span
        return self.freq
