# Plantower PMS5003 / PMS7003 / PMSA003 (and PMS3003, PMS5003T) particulate
# sensors on a UART (9600 8N1).
#
# Plantower data manual (PMS5003 2016 V2.5 and siblings):
#   frame    42 4D len_hi len_lo  data words (big endian)  cs_hi cs_lo
#   len      28 for the PMS5003 family (32-byte frame), 20 for the PMS3003,
#            4 for a command reply; cs = 16-bit sum of every byte before it.
#   words    1-3 PM1/PM2.5/PM10 "CF=1", 4-6 PM1/PM2.5/PM10 atmospheric (ug/m3),
#            7-12 particles > 0.3/0.5/1.0/2.5/5.0/10 um per 0.1 L;
#            PMS5003T: words 11-12 are temperature and humidity in tenths.
#   command  42 4D cmd d_hi d_lo cs_hi cs_lo
#            E2 00 00 passive read, E1 00 0x mode (0 passive, 1 active),
#            E4 00 0x sleep (0) / wake (1).
#
# Works with any object with readinto()/write() like machine.UART.  No
# allocation per frame.  A lone 0x00 between 42 and 4D (seen on a Raspberry Pi
# mini-UART, PyPMS issue 19) is dropped; the checksum still decides.
from uartframes import FrameReader


START1 = 0x42
START2 = 0x4D
CMD_READ = 0xE2
CMD_MODE = 0xE1
CMD_SLEEP = 0xE4

LENGTHS = (4, 20, 28)


def _word(f, i):
    """Data word i (0 = the length) of a frame, big endian."""
    return f[2 + 2 * i] << 8 | f[3 + 2 * i]


class PMS5003(FrameReader):
    def __init__(self, uart, set_pin=None, with_climate=False):
        """with_climate: a PMS5003T (temperature and humidity instead of the >5 um counts)."""
        self.uart = uart
        self.set_pin = set_pin
        self.with_climate = with_climate
        self._init_rx(64)
        self._frame = bytearray(32)
        self._n = 0
        self._zero_skipped = False
        self._cmd = bytearray(7)
        self.pm1 = 0  # atmospheric ug/m3, from the last valid data frame
        self.pm25 = 0
        self.pm10 = 0
        self.pm1_cf = 0
        self.pm25_cf = 0
        self.pm10_cf = 0
        self.counts = [0] * 6  # particles per 0.1 L above 0.3, 0.5, 1.0, 2.5, 5.0, 10 um
        self.temperature = None  # tenths of degC (PMS5003T)
        self.humidity = None  # tenths of %RH (PMS5003T)
        self.frames = 0
        self.errors = 0  # bytes skipped while resynchronising, bad checksums
        self.repairs = 0  # frames accepted after dropping a stray 0x00 in the header
        self.last_reply = None  # (cmd, data) of the last command reply

    def _push(self, b):
        n = self._n
        if n == 1 and b == 0 and not self._zero_skipped:
            self._zero_skipped = True
            return False
        self._frame[n] = b
        self._n = n + 1
        return self._settle()

    def _status(self, n):
        """0: incomplete so far, 1: a complete valid frame, -1: not a frame."""
        f = self._frame
        if f[0] != START1 or (n > 1 and f[1] != START2):
            return -1
        if n < 4:
            return 0
        length = f[2] << 8 | f[3]
        if length not in LENGTHS:
            return -1
        total = length + 4
        if n < total:
            return 0
        s = 0
        for i in range(total - 2):
            s += f[i]
        return 1 if s & 0xFFFF == (f[total - 2] << 8 | f[total - 1]) else -1

    def _settle(self):
        f = self._frame
        fresh = False
        while self._n:
            n = self._n
            st = self._status(n)
            if st == 0:
                return fresh
            if st == 1:
                if self._zero_skipped:
                    self.repairs += 1
                fresh = self._decode() or fresh
                self._n = 0
                self._zero_skipped = False
                return fresh
            # Not a frame: a real header may start inside it.
            self.errors += 1
            self._zero_skipped = False
            j = 1
            while j < n and f[j] != START1:
                j += 1
            for i in range(n - j):
                f[i] = f[j + i]
            self._n = n - j
        return fresh

    def _decode(self):
        f = self._frame
        length = _word(f, 0)
        if length == 4:
            self.last_reply = (f[4], f[5])
            return False
        self.pm1_cf = _word(f, 1)
        self.pm25_cf = _word(f, 2)
        self.pm10_cf = _word(f, 3)
        self.pm1 = _word(f, 4)
        self.pm25 = _word(f, 5)
        self.pm10 = _word(f, 6)
        if length == 28:
            c = self.counts
            for i in range(6):
                c[i] = _word(f, 7 + i)
            if self.with_climate:
                t = c[4]
                self.temperature = t - 0x10000 if t & 0x8000 else t
                self.humidity = c[5]
                c[4] = c[5] = 0
        self.frames += 1
        return True

    # Commands

    def command(self, cmd, data=0):
        c = self._cmd
        c[0] = START1
        c[1] = START2
        c[2] = cmd
        c[3] = data >> 8
        c[4] = data & 0xFF
        s = c[0] + c[1] + c[2] + c[3] + c[4]
        c[5] = s >> 8
        c[6] = s & 0xFF
        self.uart.write(c)

    def passive(self):
        self.command(CMD_MODE, 0)

    def active(self):
        self.command(CMD_MODE, 1)

    def request(self):
        """In passive mode, ask for one data frame (read() picks it up)."""
        self.command(CMD_READ)

    def sleep(self):
        if self.set_pin is not None:
            self.set_pin.value(0)
        else:
            self.command(CMD_SLEEP, 0)

    def wake(self):
        """The fan needs about 30 s before readings are stable (data manual)."""
        if self.set_pin is not None:
            self.set_pin.value(1)
        else:
            self.command(CMD_SLEEP, 1)
