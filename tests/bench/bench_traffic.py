# traffic.us_per_event: CPU time per detector edge drained from a presence
# input's ring and accounted to its lane (count, occupancy, speed from a loop
# pair), interval reports included, under the unix port.
import time

from app import traffic
from app.board_unix import Board
from app.isotime import unix

board = Board({"uarts": {}})
emitted = []
cfg = {"device_id": "b", "apikey": "k", "interval": 60,
       "traffic": {"lanes": [{"lane": 1, "presence": ["a", "b"], "spacing_m": 4.0}]}}
p = traffic.build(cfg, board, lambda kind, key, fields: emitted.append(fields))
a, b = board.presence("a"), board.presence("b")
t0 = unix(2026, 11, 21, 22, 0, 0)
VEHICLES = 20000
BATCH = 25  # vehicles between polls (ring of 128 edges)
events = 0
elapsed = 0
for k in range(VEHICLES // BATCH):
    now = time.ticks_us()
    for i in range(BATCH):
        tick = time.ticks_add(now, -1000000 + i * 40000)
        a.push(tick, 1)
        b.push(time.ticks_add(tick, 200000), 1)
        a.push(time.ticks_add(tick, 250000), 0)
        b.push(time.ticks_add(tick, 450000), 0)
    events += 4 * BATCH
    start = time.ticks_us()
    p.poll(t0 + k)
    elapsed += time.ticks_diff(time.ticks_us(), start)
p.close(t0 + VEHICLES // BATCH)
assert len(emitted) > 1
print("traffic.us_per_event %.1f us" % (elapsed / events))
