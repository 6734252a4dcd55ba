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
