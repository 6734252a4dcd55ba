# The status display driven by the running node: the real Shell's state drawn on
# a panel the unix board keeps in RAM; a panel that is missing or stops
# answering switches the display off and the node goes on sensing.
import json
import os

import asyncio
from mptest import scratch
from ssd1306 import SSD1306_I2C
from test_display import band, text_band  # framebuf's own text: the independent reference

from app import record, run
from app.board_unix import Board
from app.commands import ConfigStore
from app.memlog import MemLog
from app.screen import open_screen

FRAME = bytes.fromhex("aac0e2004001e994a0ab")  # SDS011 datasheet layout: PM2.5 22.6, PM10 32.0
CFG = {"device_id": "lj-7", "apikey": "k", "interval": 10, "broker": {"host": "127.0.0.1", "port": 1},
       "display": {"period": 0.01}, "air": {"sensors": {"sds011": {"uart": "pm"}}}}
OLED = {"onboard": {"oled": {"bus": "framebuf", "width": 128, "height": 64}}}


SCRATCH = scratch("screen")


def shell_on(profile, cfg=CFG, board_class=Board):
    # The node's files (baselines.json, keys.json: the log's address book) in a scratch
    # directory, fresh each time, not in the checkout.
    try:
        os.mkdir(SCRATCH)
    except OSError:
        pass
    with open(SCRATCH + "/baselines.json", "w") as f:
        f.write("{}")
    try:
        os.remove(SCRATCH + "/keys.json")
    except OSError:
        pass
    board = board_class(dict(profile, uarts={"pm": {}}, baselines=SCRATCH + "/baselines.json"), feed=True)
    return run.Shell(cfg, board, MemLog(), ConfigStore(scratch("screen.json")))


def sense(shell, start, seconds):
    for t in range(start, start + seconds):
        shell.board.uart("pm").feed(FRAME)
        shell.sense(t, (t - start) * 1000)


def logged(shell):
    """The log's readings as the uplink publishes them ('<key> {json}')."""
    return [record.expand(p) for _, p in shell.log.read(0, [], 100, 100000)]


def test_the_display_shows_the_running_node():
    shell = shell_on(OLED)
    screen = open_screen(shell)
    panel = screen.view.fb
    sense(shell, 1000, 12)  # one interval closes at 1010: one air reading, plus the boot health
    screen.step()
    assert panel.shows == 1
    assert band(panel, 0) == text_band("lj-7", 0, inverted=True)
    assert band(panel, 1) == text_band("WiFi ok MQTT --", 1)  # the host's network; no broker session yet
    assert band(panel, 2) == text_band("backlog %d" % len(logged(shell)), 2)
    assert band(panel, 3) == text_band("pm25 22.6 ug/m3", 3)  # the air reading, not the health one
    assert band(panel, 4) == text_band("pm10 32.0 ug/m3", 4)
    assert band(panel, 6) == text_band("no faults", 6)


def test_config_can_switch_the_display_off():
    cfg = dict(CFG, display={"enabled": False})
    assert open_screen(shell_on(OLED, cfg)) is None
    assert open_screen(shell_on({})) is None  # a board without a panel


def test_a_panel_that_does_not_answer_is_switched_off_and_the_node_goes_on():
    with open("boards/heltec-wifi-lora-32-v2.json") as f:
        profile = json.load(f)  # its OLED sits on an I2C bus: the unix port has none
    shell = shell_on(profile)
    screen = open_screen(shell)
    assert not screen.on and "OSError" in screen.fault
    screen.step()
    sense(shell, 1000, 12)
    assert any(b"k/lj-7-aq " in p and b'"pm25":22.6' in p for p in logged(shell))


class Bus:
    """machine.I2C's write side; after `answers` frames the panel stops acknowledging."""

    def __init__(self, answers):
        self.answers = answers

    def writeto(self, addr, buf):
        if self.answers <= 0:
            raise OSError(19)  # ENODEV: no ACK, as machine.I2C reports it

    def writevto(self, addr, bufs):
        self.writeto(addr, bufs[0])
        self.answers -= 1  # one frame per show()


class UnpluggedLater(Board):
    bus = Bus(2)  # the driver's init clears the panel (one frame), then one status frame

    def display(self):
        return SSD1306_I2C(128, 64, self.bus)  # the real driver


def test_a_panel_lost_while_running_ends_the_display_task_not_the_node():
    shell = shell_on(OLED, board_class=UnpluggedLater)
    screen = open_screen(shell)
    asyncio.run(run.show(screen))  # draws once, then the panel is gone: the task ends by itself
    assert screen.draws == 1 and not screen.on and "OSError" in screen.fault
    sense(shell, 1000, 12)
    assert any(b'"pm25":22.6' in p for p in logged(shell))
