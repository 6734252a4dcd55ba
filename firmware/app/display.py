# Status display on a 128x64 SSD1306 (micropython-ssd1306): what a technician
# on a ladder needs at a glance. Eight text rows of 16 characters (8x8 font):
#   0  device id (inverted bar)      3-5  the latest values, one per row, with units
#   1  WiFi and MQTT state           6    fault (inverted), or "no faults"
#   2  backlog depth                 7    the fault's rest, or how many more
# Nothing is cut where it matters: a long id shows its tail (the distinguishing
# end), a value drops its unit or decimals before a digit is lost; an unset
# clock is shown as a fault. Humidity and occupancy are shown in %.
# `fb` is any framebuf.FrameBuffer-like object with fill/fill_rect/text/show
# (ssd1306.SSD1306_I2C on a board); render() only draws, show() pushes.

COLS = 16
VALUE_ROWS = 3
# attribute -> (short name, unit, scale); the font is ASCII: no µ or °
SHOWN = {
    "pm1": ("pm1", "ug/m3", 1), "pm25": ("pm25", "ug/m3", 1), "pm10": ("pm10", "ug/m3", 1),
    "temperature": ("temp", "C", 1), "relativeHumidity": ("RH", "%", 100),
    "pressure": ("pres", "hPa", 1), "co2": ("CO2", "ppm", 1),
    "intensity": ("veh", "", 1), "occupancy": ("occ", "%", 100),
    "averageVehicleSpeed": ("speed", "km/h", 1), "status": ("spot", "", 1),
}


def _fit(text):
    return text if len(text) <= COLS else text[:COLS - 1] + "~"


def short_id(device_id):
    """The id as it fits: whole, or '~' and its tail (ids differ at the end: lj-0007-...-42)."""
    return device_id if len(device_id) <= COLS else "~" + device_id[-(COLS - 1):]


def value_row(name, v):
    """'pm25 3.2 ug/m3', 'RH 81 %': the unit goes, then decimals, never a digit of the value."""
    short, unit, scale = SHOWN.get(name, (name[:6], "", 1))
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        v = v * scale
        texts = ("%.1f" % v, "%d" % round(v)) if isinstance(v, float) else (str(v),)
    else:
        texts = (str(v),)
    unit = (" " + unit) if unit else ""
    for text in ["%s %s%s" % (short, texts[0], unit)] + ["%s %s" % (short, t) for t in texts] + list(texts):
        if len(text) <= COLS:
            return text
    return _fit(texts[-1])


class Status:
    """What the display shows; the node updates the fields in place."""

    def __init__(self, device_id):
        self.device_id = device_id
        self.wifi = False
        self.mqtt = False
        self.time_synced = False
        self.backlog = 0
        self.values = []  # [(name, value)], the latest reading: replaced, never changed in place
        self.faults = []  # short texts, newest last


class StatusDisplay:
    def __init__(self, fb, width=128, height=64):
        self.fb = fb
        self.width = width
        self.height = height
        self._values = None  # the values list the rows below were made from
        self._rows = ()
        self._id = None
        self._id_row = ""

    def _row(self, row, text, inverted=False):
        y = row * 8
        if inverted:
            self.fb.fill_rect(0, y, self.width, 8, 1)
        self.fb.text(_fit(text), 0, y, 0 if inverted else 1)

    def render(self, st):
        fb = self.fb
        fb.fill(0)
        if st.device_id is not self._id:  # texts that change with a reading, not per redraw
            self._id, self._id_row = st.device_id, short_id(st.device_id)
        if st.values is not self._values:
            self._values = st.values
            self._rows = [value_row(name, v) for name, v in st.values[:VALUE_ROWS]]
        self._row(0, self._id_row, inverted=True)
        self._row(1, "WiFi %s MQTT %s" % ("ok" if st.wifi else "--", "ok" if st.mqtt else "--"))
        self._row(2, "backlog %d" % st.backlog)
        for i in range(len(self._rows)):
            self._row(3 + i, self._rows[i])
        faults = st.faults if st.time_synced else ["time NOT SET"] + st.faults
        if not faults:
            self._row(6, "no faults")
            return
        text = "! " + faults[-1]
        self._row(6, text[:COLS], inverted=True)
        if len(faults) > 1:
            self._row(7, "+%d more faults" % (len(faults) - 1))
        elif len(text) > COLS:
            self._row(7, text[COLS:])  # the fault's rest (cut with ~ if it is longer still)

    def show(self, st):
        self.render(st)
        self.fb.show()


