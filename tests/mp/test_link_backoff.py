# The link's reconnect delays against a broker that refuses (port 9 on loopback: nothing listens).
import time

from app.link import Link
from app.memlog import MemLog
from app.uplink import Uplink


class Board:
    NTP_SERVER = None

    def network_up(self, cfg):
        return True

    def wifi_up(self):
        return True


class Clock:
    synced = True


class NoCommands:
    def handle(self, payload):
        return ()


def test_after_quick_failures_the_wait_is_bounded_by_the_time_away():
    draws = [0.01] * 8 + [0.999] * 4  # eight short waits, then long ones
    cfg = {"device_id": "b-1", "apikey": "k",
           "broker": {"host": "127.0.0.1", "port": 9, "backoff_base": 0.1, "backoff_cap": 300}}
    link = Link(cfg, Board(), Uplink(cfg, MemLog()), NoCommands(), Clock(), random=lambda: draws.pop(0))
    start = time.ticks_ms()
    while link.failures < 9 and time.ticks_diff(time.ticks_ms(), start) < 5000:
        link.step()
        time.sleep_ms(2)
    assert link.failures == 9 and not link.connected
    away = time.ticks_diff(time.ticks_ms(), start)
    wait = time.ticks_diff(link._next_try, time.ticks_ms())
    # The exponent alone allows 0.1 * 2**8 = 25.6 s; away is well under a second.
    assert away < 1000, away
    assert 0 < wait <= away + 100, (wait, away)


def test_a_broker_that_drops_each_connection_at_once_does_not_reset_the_backoff():
    import socket
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(socket.getaddrinfo("127.0.0.1", 18931)[0][-1])
    srv.listen(4)
    srv.setblocking(False)
    cfg = {"device_id": "b-2", "apikey": "k",
           "broker": {"host": "127.0.0.1", "port": 18931, "backoff_base": 0.05, "backoff_cap": 300}}
    link = Link(cfg, Board(), Uplink(cfg, MemLog()), NoCommands(), Clock(), random=lambda: 0.999)
    start = time.ticks_ms()
    try:
        while link.connects < 4 and time.ticks_diff(time.ticks_ms(), start) < 8000:
            link.step()
            try:
                conn, _ = srv.accept()
            except OSError:
                conn = None
            if conn is not None:  # CONNACK accepted, then closed: a member that cannot keep it
                conn.settimeout(1)
                conn.recv(256)
                conn.send(b"\x20\x02\x00\x00")
                for _ in range(5):  # until the node has subscribed and published (its step after)
                    link.step()
                    time.sleep_ms(10)
                conn.close()
            time.sleep_ms(2)
    finally:
        srv.close()
    assert link.connects >= 4 and link.failures >= 3
    # Each drop came within STABLE_MS of its CONNACK: the delays kept growing.
    assert link.backoff.attempt >= 3, link.backoff.attempt


def test_refused_connects_leave_no_socket_open():
    import os
    from app.mqtt import Session
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(40):
        s = Session("b-3", "127.0.0.1", 9, timeout=2)
        s.begin()
        try:
            while not s.advance():
                time.sleep_ms(2)
        except OSError:
            pass
        s.close()
    assert len(os.listdir("/proc/self/fd")) - before < 5


class PoweredBoard(Board):
    def __init__(self, cause):
        self.cause = cause


def test_after_a_power_on_the_first_connect_waits_a_random_part_of_backoff_base():
    # A whole street powers on together (lighting circuit at dusk, power back after a cut):
    # each node's first connect is drawn in [0, backoff_base), as a retry would be.
    cfg = {"device_id": "b-3", "apikey": "k",
           "broker": {"host": "127.0.0.1", "port": 9, "backoff_base": 8, "backoff_cap": 300}}
    waits = {}
    for cause, draw in (("power-on", 0.25), ("power-on", 0.75), ("soft", 0.75), ("deep-sleep", 0.75),
                        ("watchdog", 0.75), (None, 0.75)):
        now = time.ticks_ms()
        link = Link(cfg, PoweredBoard(cause), Uplink(cfg, MemLog()), NoCommands(), Clock(),
                    random=lambda: draw)
        waits.setdefault(cause, []).append(time.ticks_diff(link._next_try, now))
        assert link.step() > 0 or cause != "power-on"  # not yet: nothing tried
        assert link.failures == (0 if cause == "power-on" else 1)
    assert [abs(w - x) <= 20 for w, x in zip(waits["power-on"], (2000, 6000))] == [True, True], waits
    for cause in ("soft", "deep-sleep", "watchdog", None):  # one node alone: at once
        assert abs(waits[cause][0]) <= 20, (cause, waits)
