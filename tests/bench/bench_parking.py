# parking.us_per_sample: CPU time per magnetometer sample through a parking
# spot's detection (glitch filter, deviation, hysteresis, debounce, drift),
# on the real MAG3110 vehicle-pass excerpt (two sensors, six axes), under the unix port.
import time
from binascii import unhexlify

from app import parking
from app.isotime import unix

with open("tests/data/parking/mag3110x2_200Hz_5Mph_FordFocus_15s-22s.hexstream.txt") as f:
    text = f.read()
samples = []
for rec in text.split("7FFF"):
    if len(rec) == 28:
        b = unhexlify(rec)
        samples.append([(v - 0x10000 if v & 0x8000 else v)
                        for v in (b[i] << 8 | b[i + 1] for i in range(0, 12, 2))])

emitted = []
cfg = {"device_id": "b", "apikey": "k", "parking": {"autocalibrate": 1, "spots": [{"axes": 6}]}}
p = parking.build(cfg, None, lambda kind, key, fields: emitted.append(fields))
spot = p.spots[0]
t0 = unix(2026, 11, 21, 22, 0, 0)
REPEAT = 10
n = 0
start = time.ticks_us()
for r in range(REPEAT):
    base = t0 + r * len(samples) / 200
    for i, s in enumerate(samples):
        spot.sample(base + i / 200, s, p.emit)
        n += 1
elapsed = time.ticks_diff(time.ticks_us(), start)
print("parking.us_per_sample %.1f us" % (elapsed / n))
