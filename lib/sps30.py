# Sensirion SPS30 particulate sensor on a UART (115200 8N1), SHDLC framing.
#
# Datasheet (SPS30, UART interface):
#   frame  7E addr cmd [state] len data.. chk 7E  (MOSI has no state byte)
#   chk    the low byte of the sum of addr..data, inverted
#   bytes  7E 7D 11 13 inside a frame go as 7D 5E / 7D 5D / 7D 31 / 7D 33
#   00 start measurement (data 01 03: big-endian floats), 01 stop,
#   03 read measured values: 10 floats: PM1, PM2.5, PM4, PM10 ug/m3,
#      number concentrations 0.5/1/2.5/4/10 um per cm3, typical size um,
#   10 sleep (from idle), 11 wake up (preceded by a lone 0xFF to wake the UART).
# Values are kept as integers in hundredths (decoded from the IEEE 754 bits,
# no float per reading).  Works with any readinto()/write() stream.
from uartframes import FrameReader


FLAG = 0x7E
ESC = 0x7D
CMD_START = 0x00
CMD_STOP = 0x01
CMD_READ = 0x03
CMD_SLEEP = 0x10
CMD_WAKE = 0x11


def hundredths(b, i):
    """Big-endian IEEE 754 single at b[i:i+4] -> round(value * 100), integers only."""
    bits = b[i] << 24 | b[i + 1] << 16 | b[i + 2] << 8 | b[i + 3]
    exp = bits >> 23 & 0xFF
    if exp == 0:
        return 0  # zero or subnormal: far below a hundredth
    v = (bits & 0x7FFFFF | 0x800000) * 100
    shift = exp - 150
    v = v << shift if shift >= 0 else (v + (1 << (-shift - 1))) >> -shift
    return -v if bits >> 31 else v


class SPS30(FrameReader):
    def __init__(self, uart, address=0):
        self.uart = uart
        self.address = address
        self._init_rx(64)
        self._frame = bytearray(64)  # unstuffed addr..chk
        self._n = -1  # -1: waiting for a start flag
        self._esc = False
        self._tx = bytearray(16)
        self.values = [0] * 10  # hundredths: pm1 pm25 pm4 pm10 nc0.5 nc1 nc2.5 nc4 nc10 size
        self.frames = 0
        self.errors = 0
        self.state = 0  # the state byte of the last reply (0 = ok)
        self.last_reply = None  # command of the last non-measurement reply

    @property
    def pm1(self):
        return self.values[0]

    @property
    def pm25(self):
        return self.values[1]

    @property
    def pm10(self):
        return self.values[3]

    def _push(self, b):
        if b == FLAG:
            n = self._n
            self._n = 0
            self._esc = False
            # A flag both ends a frame and may start the next: empty = a start.
            return n > 0 and self._end(n)
        if self._n < 0:
            self.errors += 1
            return False
        if self._esc:
            self._esc = False
            b ^= 0x20
        elif b == ESC:
            self._esc = True
            return False
        if self._n >= len(self._frame):
            self.errors += 1
            self._n = -1
            return False
        self._frame[self._n] = b
        self._n += 1
        return False

    def _end(self, n):
        f = self._frame
        s = 0
        for i in range(n - 1):
            s += f[i]
        if n < 5 or (~s & 0xFF) != f[n - 1] or f[3] != n - 5:
            self.errors += 1
            return False
        self.state = f[2]
        if f[1] != CMD_READ or f[3] != 40:
            self.last_reply = f[1]
            return False
        v = self.values
        for k in range(10):
            v[k] = hundredths(f, 4 + 4 * k)
        self.frames += 1
        return True

    def command(self, cmd, data=b""):
        t = self._tx
        raw = bytearray(3 + len(data))
        raw[0] = self.address
        raw[1] = cmd
        raw[2] = len(data)
        raw[3:] = data
        chk = ~sum(raw) & 0xFF
        n = 0
        t[n] = FLAG
        n += 1
        for b in raw + bytes((chk,)):
            if b in (FLAG, ESC, 0x11, 0x13):
                t[n] = ESC
                t[n + 1] = b ^ 0x20
                n += 2
            else:
                t[n] = b
                n += 1
        t[n] = FLAG
        self.uart.write(memoryview(t)[:n + 1])

    def start(self):
        self.command(CMD_START, b"\x01\x03")

    def stop(self):
        self.command(CMD_STOP)

    def request(self):
        self.command(CMD_READ)

    def sleep(self):
        self.stop()
        self.command(CMD_SLEEP)

    def wake(self):
        self.uart.write(b"\xff")
        self.command(CMD_WAKE)
        self.start()
