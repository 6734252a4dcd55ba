# Nova Fitness SDS011 / SDS018 / SDS021 particulate sensor on a UART (9600 8N1).
#
# Laser Dust Sensor Control Protocol V1.3:
#   data frame  AA C0 pm25_lo pm25_hi pm10_lo pm10_hi id_lo id_hi cs AB
#   reply frame AA C5 cmd d1 d2 d3 id_lo id_hi cs AB
#   cs = sum(bytes 2..7) & 0xFF; PM values are in tenths of ug/m3.
#   command     AA B4 cmd d1 .. d12 id_lo id_hi cs AB  (19 bytes, cs = sum(2..16))
#
# Works with any object that has readinto() and write() like machine.UART:
# readinto() returning None or 0 means "nothing buffered".  No allocation per
# frame: bytes land in a fixed receive buffer and a fixed frame buffer.
from uartframes import FrameReader


HEAD = 0xAA
TAIL = 0xAB
DATA = 0xC0
REPLY = 0xC5

CMD_MODE = 2
CMD_QUERY = 4
CMD_DEVICE_ID = 5
CMD_SLEEP = 6
CMD_FIRMWARE = 7
CMD_PERIOD = 8

MODE_ACTIVE = 0
MODE_QUERY = 1


class SDS011(FrameReader):
    def __init__(self, uart):
        self.uart = uart
        self._init_rx(32)
        self._frame = bytearray(10)
        self._n = 0
        self._spill = bytearray(9)
        self._cmd = bytearray(19)
        self.pm25 = 0  # tenths of ug/m3, from the last valid data frame
        self.pm10 = 0
        self.device_id = None
        self.frames = 0  # valid data frames
        self.errors = 0  # bytes skipped while resynchronising, bad checksums
        self.firmware = None  # (year, month, day) after a firmware reply
        self.mode = None  # MODE_ACTIVE / MODE_QUERY after a mode reply
        self.working = None  # False asleep, True working, after a sleep/work reply
        self.period = None  # working period (minutes) after a period reply
        self.last_reply = 0  # command byte of the last reply frame

    def _push(self, b):
        f = self._frame
        n = self._n
        if n == 0 and b != HEAD:
            self.errors += 1
            return False
        if n == 1 and b != DATA and b != REPLY:
            self._resync(b)
            return False
        f[n] = b
        n += 1
        if n < 10:
            self._n = n
            return False
        self._n = 0
        if f[9] != TAIL or (f[2] + f[3] + f[4] + f[5] + f[6] + f[7]) & 0xFF != f[8]:
            # Lost sync or a damaged frame: a real header may start inside it,
            # so replay bytes 1..9 through the parser (9 bytes cannot complete
            # a frame, so this never recurses further).
            self.errors += 1
            spill = self._spill
            for i in range(9):
                spill[i] = f[i + 1]
            for i in range(9):
                self._push(spill[i])
            return False
        self.device_id = f[6] | f[7] << 8
        if f[1] == DATA:
            self.pm25 = f[2] | f[3] << 8
            self.pm10 = f[4] | f[5] << 8
            self.frames += 1
            return True
        cmd = f[2]
        self.last_reply = cmd
        if cmd == CMD_FIRMWARE:
            self.firmware = (2000 + f[3], f[4], f[5])
        elif cmd == CMD_MODE:
            self.mode = f[4]
        elif cmd == CMD_SLEEP:
            self.working = f[4] == 1
        elif cmd == CMD_PERIOD:
            self.period = f[4]
        return False

    def _resync(self, b):
        self.errors += 1
        self._n = 0
        if b == HEAD:
            self._frame[0] = b
            self._n = 1

    # Commands.  The sensor answers with a reply frame, which read() consumes.

    def command(self, cmd, d1=0, d2=0, device_id=0xFFFF, new_id=0):
        """device_id 0xFFFF addresses every sensor on the line."""
        c = self._cmd
        for i in range(19):
            c[i] = 0
        c[0] = HEAD
        c[1] = 0xB4
        c[2] = cmd
        c[3] = d1
        c[4] = d2
        c[13] = new_id & 0xFF
        c[14] = new_id >> 8
        c[15] = device_id & 0xFF
        c[16] = device_id >> 8
        s = 0
        for i in range(2, 17):
            s += c[i]
        c[17] = s & 0xFF
        c[18] = TAIL
        self.uart.write(c)

    def sleep(self):
        self.command(CMD_SLEEP, 1, 0)

    def wake(self):
        self.command(CMD_SLEEP, 1, 1)

    def set_mode(self, mode):
        self.command(CMD_MODE, 1, mode)

    def ask_mode(self):
        self.command(CMD_MODE, 0)

    def ask_sleep(self):
        self.command(CMD_SLEEP, 0)

    def set_id(self, new_id, device_id=0xFFFF):
        self.command(CMD_DEVICE_ID, device_id=device_id, new_id=new_id)

    def query(self):
        """In query mode, ask for one data frame (read() picks it up)."""
        self.command(CMD_QUERY)

    request = query  # the name the other polled particulate drivers use

    def set_period(self, minutes):
        """Working period: 0 = continuous (1 s), 1..30 = one reading every n minutes."""
        self.command(CMD_PERIOD, 1, minutes)

    def ask_firmware(self):
        self.command(CMD_FIRMWARE)
