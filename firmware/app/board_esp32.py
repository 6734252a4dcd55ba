# Board layer for ESP32-family boards: pins and buses come from the profile.
import time

import machine

_EPOCH = 0 if time.gmtime(0)[0] == 1970 else 946684800


class Board:
    def __init__(self, profile, feed=False):
        self.profile = profile
        self._uarts = {}

    def uart(self, name):
        u = self._uarts.get(name)
        if u is None:
            s = self.profile["uarts"][name]
            u = machine.UART(s["id"], baudrate=s.get("baud", 9600), tx=s["tx"], rx=s["rx"],
                             timeout=0, rxbuf=s.get("rxbuf", 256))
            self._uarts[name] = u
        return u

    def now(self):
        return time.time() + _EPOCH

    # -- what the uplink asks of the platform ------------------------------------
    def health(self):
        causes = {getattr(machine, c, -1 - i): n for i, (c, n) in enumerate((
            ("PWRON_RESET", "power-on"), ("HARD_RESET", "hard"), ("WDT_RESET", "watchdog"),
            ("DEEPSLEEP_RESET", "deep-sleep"), ("SOFT_RESET", "soft")))}
        rssi = None
        wlan = self._wlan
        if wlan is not None and wlan.isconnected():
            try:
                rssi = wlan.status("rssi")
            except Exception:
                pass
        return {"reset_cause": causes.get(machine.reset_cause(), "other"), "rssi": rssi}

    _wlan = None

    def network_up(self, cfg):
        """Wi-Fi station up?  Starts (or restarts) joining and returns at once."""
        import network

        if self._wlan is None:
            self._wlan = network.WLAN(network.STA_IF)
            self._wlan.active(True)
        wlan = self._wlan
        if wlan.isconnected():
            return True
        if wlan.status() != getattr(network, "STAT_CONNECTING", 1001):
            w = cfg.get("wifi") or {}
            if w.get("ssid"):
                wlan.connect(w["ssid"], w.get("password", ""))
        return False

    def clock_set(self):
        return time.gmtime(time.time())[0] >= 2020

    def sync_time(self, server):
        """NTP (1 s timeout) -> (local seconds before, true seconds after) or None."""
        import ntptime

        ntptime.host = server
        before = self.now()
        ntptime.settime()
        return before, self.now()

    def reboot(self):
        machine.reset()
