# A plain CW Doppler module (lib/doppler.py) as a traffic lane's radar: app/traffic.py's
# RadarLane takes speed readings and makes one vehicle of each burst, its peak the speed.
# Each poll times one window of the IF in C (Doppler.window: 16 periods, 7 ms at 50 km/h
# on K band); with no target the wait ends after one period of the slowest speed counted
# (`min_kmh`), so a quiet road holds the VM a few ms per poll.


class CWRadar:
    def __init__(self, doppler, pin, min_kmh=5):
        self.doppler = doppler
        self.pin = pin
        self.timeout_us = int(1000000 / (min_kmh * doppler.per_kmh)) + 1
        self.speed = 0.0  # m/s, as the OPS243 driver reports it
        self._read = False

    def read(self):
        """One window per poll: True with .speed set when a target moved, then False."""
        if self._read:
            self._read = False
            return False
        hz = self.doppler.window(self.pin, self.timeout_us)
        if not hz:
            return False
        self.speed = hz / self.doppler.per_kmh / 3.6
        self._read = True
        return True
