# Status display on a 128x64 SSD1306 (micropython-ssd1306): what a technician
# on a ladder needs at a glance. Eight text rows of 16 characters (8x8 font):
#   0  device id (inverted bar)      4  last values, e.g. pm25 3.2
#   1  WiFi and MQTT state           5  (more values)
#   2  time sync state               6  fault, or "no faults"
#   3  backlog depth                 7  (second fault / count)
# `fb` is any framebuf.FrameBuffer-like object with fill/fill_rect/text/show
# (ssd1306.SSD1306_I2C on a board); render() only draws, show() pushes.

COLS = 16


def _fit(text):
    return text if len(text) <= COLS else text[:COLS - 1] + "~"


class Status:
    """What the display shows; the node updates the fields in place."""

    def __init__(self, device_id):
        self.device_id = device_id
        self.wifi = False
        self.mqtt = False
        self.time_synced = False
        self.backlog = 0
        self.values = []  # [(name, value)], the latest reading
        self.faults = []  # short texts, newest last


class StatusDisplay:
    def __init__(self, fb, width=128, height=64):
        self.fb = fb
        self.width = width
        self.height = height

    def _row(self, row, text, inverted=False):
        y = row * 8
        if inverted:
            self.fb.fill_rect(0, y, self.width, 8, 1)
        self.fb.text(_fit(text), 0, y, 0 if inverted else 1)

    def render(self, st):
        fb = self.fb
        fb.fill(0)
        self._row(0, st.device_id, inverted=True)
        self._row(1, "WiFi %s MQTT %s" % ("ok" if st.wifi else "--", "ok" if st.mqtt else "--"))
        self._row(2, "time " + ("synced" if st.time_synced else "NOT SET"))
        self._row(3, "backlog %d" % st.backlog)
        vals = st.values
        for i in range(2):
            if 2 * i < len(vals):
                line = " ".join("%s %s" % (n, _num(v)) for n, v in vals[2 * i:2 * i + 2])
                self._row(4 + i, line)
        if not st.faults:
            self._row(6, "no faults")
        else:
            self._row(6, "! " + st.faults[-1], inverted=True)
            if len(st.faults) > 1:
                self._row(7, "+%d more faults" % (len(st.faults) - 1))

    def show(self, st):
        self.render(st)
        self.fb.show()


def _num(v):
    if isinstance(v, float):
        return "%.1f" % v
    return str(v)
