# OmniPreSense OPS243-A Doppler radar: speed reports over its UART (USB or
# 3.3 V serial, 115200 8N1 by default).  Handles the report forms of the
# OPS API (AN-010): a bare speed per line ("3.46"), with time and/or magnitude
# in front ("3689529.139,27.34,-3.45", OT/OM on), with a quoted unit first
# ('"mps",3.46', OU on), and JSON ('{"speed":0.58,"direction":"inbound"}', OJ
# on), and object reports ('{... "max_speed_mps": 13.39 ...}').  Lines that are none of these (command answers like {"Units":...}) are
# counted and skipped.  Speeds are in the sensor's unit (m/s by default, UM);
# the sign is the direction.

UNIT_TO_MPS = {"mps": 1.0, "kmph": 1 / 3.6, "mph": 0.44704, "fps": 0.3048, "cps": 0.01}


class OPS243:
    def __init__(self, uart, unit="mps", line_max=384):
        self.uart = uart
        self.scale = UNIT_TO_MPS[unit]
        self._line = bytearray(line_max)
        self._n = 0
        self._chunk = bytearray(32)
        self.speed = 0.0  # m/s, signed
        self.magnitude = None
        self.uptime = None  # sensor clock (s) when OT is on
        self.other = 0  # lines that were not speed reports

    def command(self, cmd):
        """Send an API command such as b"UM", b"OM", b"OT"."""
        self.uart.write(cmd)

    def read(self):
        """Parse waiting bytes up to the next speed report; True if one was decoded."""
        while True:
            n = self.uart.readinto(self._chunk, 1) if self.uart.any() else None
            if not n:
                return False
            c = self._chunk[0]
            if c == 0x0A or c == 0x0D:
                if self._n and self._parse(bytes(self._line[:self._n])):
                    self._n = 0
                    return True
                self._n = 0
            elif self._n < len(self._line):
                self._line[self._n] = c
                self._n += 1
            else:
                self._n = 0  # overlong line: garbage

    def _parse(self, line):
        try:
            text = line.decode().strip()
        except UnicodeError:
            self.other += 1
            return False
        try:
            if text.startswith("{"):
                i = text.find('"speed"')
                scale = self.scale
                if i < 0:  # an object report (OC): its peak speed, always in m/s
                    i = text.find('"max_speed_mps"')
                    scale = 1.0
                if i < 0:
                    self.other += 1
                    return False
                rest = text[text.index(":", i) + 1:].lstrip().lstrip('"')
                end = 0
                while end < len(rest) and rest[end] in "+-.0123456789eE":
                    end += 1
                self.speed = float(rest[:end]) * scale
                self.magnitude = self.uptime = None
                return True
            fields = [f.strip() for f in text.split(",")]
            if fields and fields[0].startswith('"'):
                unit = fields.pop(0).strip('"')
                if unit in UNIT_TO_MPS:
                    self.scale = UNIT_TO_MPS[unit]
            nums = [float(f) for f in fields]
        except ValueError:
            self.other += 1
            return False
        if not 1 <= len(nums) <= 3:
            self.other += 1
            return False
        self.speed = nums[-1] * self.scale
        self.magnitude = nums[-2] if len(nums) >= 2 else None
        self.uptime = nums[0] if len(nums) == 3 else None
        return True
