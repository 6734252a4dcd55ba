# Vehicles over a presence input, as its interrupt handler would record them.
import time


def pass_vehicles(ring, n, ms):
    """n vehicles, each over the loop `ms` ms and `ms` ms apart, edges pushed in real time."""
    for _ in range(n):
        ring.push(time.ticks_us(), 1)
        time.sleep_ms(ms)
        ring.push(time.ticks_us(), 0)
        time.sleep_ms(ms)
