# HC-SR04 / JSN-SR04T ultrasonic ranger: a 10 us trigger pulse, then the echo
# pin stays high for the sound's round trip, timed with machine.time_pulse_us.
# The speed of sound in air depends on temperature: c = 331.3 * sqrt(1 + T/273.15) m/s.
from math import sqrt


def sound_mps(temp_c):
    return 331.3 * sqrt(1 + temp_c / 273.15)


def distance_mm(echo_us, temp_c=20.0):
    """Round-trip echo time (us) -> one-way distance (mm)."""
    return echo_us * sound_mps(temp_c) / 2000


class HCSR04:
    def __init__(self, trigger, echo, max_mm=4500, temp_c=20.0):
        self.trigger = trigger  # machine.Pin OUT
        self.echo = echo  # machine.Pin IN
        self.temp_c = temp_c  # set from a thermometer: c changes about 0.18 % per K
        self.max_mm = max_mm
        trigger.value(0)

    def timeout_us(self):
        return int(2000 * self.max_mm / sound_mps(self.temp_c)) + 1000

    def echo_us(self):
        """Round-trip time, or a negative number when no echo came (time_pulse_us codes)."""
        from machine import time_pulse_us
        from time import sleep_us
        self.trigger.value(0)
        sleep_us(2)
        self.trigger.value(1)
        sleep_us(10)
        self.trigger.value(0)
        return time_pulse_us(self.echo, 1, self.timeout_us())

    def read_mm(self):
        """-> distance in mm, or None when nothing answered within range."""
        us = self.echo_us()
        if us < 0:
            return None
        d = distance_mm(us, self.temp_c)
        return d if d <= self.max_mm else None
