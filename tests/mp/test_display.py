# The status display, rendered through the vendored ssd1306 driver's framebuf
# under the unix port; the frame it would send to the panel becomes a PNG.
import framebuf
import struct
from binascii import crc32

from ssd1306 import SSD1306

from app.display import Status, StatusDisplay, value_row

PNG = "build/status-display.png"


class CapturedPanel(SSD1306):
    """The real driver; the bytes it would send over I2C are kept instead."""

    def __init__(self):
        self.sent = bytearray()
        super().__init__(128, 64, False)

    def write_cmd(self, cmd):
        pass

    def write_data(self, buf):
        self.sent[:] = buf


def text_band(text, row, inverted=False):
    """framebuf's own rendering of text on one 8-pixel row: the independent reference."""
    fb = framebuf.FrameBuffer(bytearray(128), 128, 8, framebuf.MONO_VLSB)
    fb.fill(1 if inverted else 0)
    fb.text(text, 0, 0, 0 if inverted else 1)
    return [[fb.pixel(x, y) for x in range(128)] for y in range(8)]


def band(panel, row):
    return [[panel.pixel(x, row * 8 + y) for x in range(128)] for y in range(8)]


def sample():
    st = Status("lj-0007-lamp-post-42")
    st.wifi, st.mqtt, st.time_synced, st.backlog = True, False, True, 1234
    st.values = [("pm25", 3.2), ("pm10", 123.94), ("relativeHumidity", 0.812)]
    st.faults = ["sds011 no data", "mqtt refused"]
    return st


def test_each_row_shows_its_field():
    panel = CapturedPanel()
    StatusDisplay(panel).render(sample())
    assert band(panel, 0) == text_band("~07-lamp-post-42", 0, inverted=True)  # the id's tail: 16 columns
    assert band(panel, 1) == text_band("WiFi ok MQTT --", 1)
    assert band(panel, 2) == text_band("backlog 1234", 2)
    assert band(panel, 3) == text_band("pm25 3.2 ug/m3", 3)
    assert band(panel, 4) == text_band("pm10 123.9 ug/m3", 4)  # exactly 16: the unit stays
    assert band(panel, 5) == text_band("RH 81.2 %", 5)  # a fraction on the wire, % on the screen
    assert band(panel, 6) == text_band("! mqtt refused", 6, inverted=True)
    assert band(panel, 7) == text_band("+1 more faults", 7)


def test_values_drop_their_unit_then_decimals_never_a_digit():
    assert value_row("pm10", 1234.56) == "pm10 1234.6"  # "pm10 1234.6 ug/m3" is 17 columns
    assert value_row("averageVehicleSpeed", 112.24) == "speed 112.2 km/h"
    # Values a float32 holds exactly (the ESP32's float), so both builds print the same.
    assert value_row("pressure", 123456792.0) == "pres 123456792.0"
    assert value_row("pressure", 1073741824.0) == "pres 1073741824"  # no room for the decimal
    assert value_row("status", "occupied") == "spot occupied"
    assert value_row("co2", 415) == "CO2 415 ppm"


def test_an_unset_clock_is_a_fault_and_a_long_fault_goes_on_the_next_row():
    st = Status("n1")
    st.wifi = st.mqtt = st.time_synced = True
    st.faults = ["uplink: OSError: 113 (host unreachable)"]
    panel = CapturedPanel()
    StatusDisplay(panel).render(st)
    text = "! uplink: OSError: 113 (host unreachable)"
    assert band(panel, 6) == text_band(text[:16], 6, inverted=True)
    assert band(panel, 7) == text_band(text[16:31] + "~", 7)
    st.time_synced, st.faults = False, []
    StatusDisplay(panel).render(st)
    assert band(panel, 6) == text_band("! time NOT SET", 6, inverted=True)


def test_a_healthy_node_says_no_faults():
    st = Status("n1")
    st.wifi = st.mqtt = st.time_synced = True
    panel = CapturedPanel()
    StatusDisplay(panel).render(st)
    assert band(panel, 0) == text_band("n1", 0, inverted=True)
    assert band(panel, 6) == text_band("no faults", 6)
    assert band(panel, 3) == text_band("", 3)


def png(width, height, pixel):
    """1-bit greyscale PNG, stored (uncompressed) deflate blocks: zlib format by hand."""
    stride = (width + 7) // 8
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for xb in range(stride):
            b = 0
            for bit in range(8):
                x = xb * 8 + bit
                if x < width and pixel(x, y):
                    b |= 0x80 >> bit
            raw.append(b)
    a, b = 1, 0
    for c in raw:
        a = (a + c) % 65521
        b = (b + a) % 65521
    z = bytearray(b"\x78\x01")
    for i in range(0, len(raw), 65535):
        block = raw[i:i + 65535]
        last = 1 if i + 65535 >= len(raw) else 0
        z += struct.pack("<BHH", last, len(block), len(block) ^ 0xFFFF) + block
    z += struct.pack(">I", (b << 16) | a)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", bytes(z)) + chunk(b"IEND", b""))


def test_the_frame_sent_to_the_panel_becomes_the_readme_picture():
    panel = CapturedPanel()
    StatusDisplay(panel).show(sample())
    assert len(panel.sent) == 1024  # 128x64, one bit per pixel, 8 pages
    sent = panel.sent
    # SSD1306 page layout (datasheet, horizontal addressing): byte x + 128*page, bit = y % 8.
    lit = lambda x, y: sent[x + 128 * (y // 8)] >> (y % 8) & 1  # noqa: E731
    assert all(lit(x, y) == panel.pixel(x, y) for y in range(64) for x in range(0, 128, 3))
    scale = 3  # each panel pixel as 3x3, white on black like the OLED
    data = png(128 * scale, 64 * scale, lambda x, y: lit(x // scale, y // scale))
    try:
        import os
        os.mkdir("build")
    except OSError:
        pass
    with open(PNG, "wb") as f:
        f.write(data)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
