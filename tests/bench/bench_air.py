# air.us_per_sample: CPU time of the air pipeline per SDS011 sample (a frame
#   read, parsed, checked, aggregated; BME280 forced reads every 10 s alongside;
#   interval readings encoded every 300 s), under the unix port.
# air.heap_bytes: heap the pipeline holds for an SDS011 + BME280 node, after
#   the modules are imported and the BME280 has been found.
# air.alloc_bytes_per_sample: heap allocated per SDS011 sample by the driver and
#   pipeline (BME280 reads included), with a UART that copies into the driver's
#   buffer without allocating, as machine.UART.readinto does on the board.
import gc
import sys
import time

sys.path.insert(0, "tests/mp")
from fakei2c import EXAMPLE, EXAMPLE_ADC_H, EXAMPLE_ADC_P, EXAMPLE_ADC_T, RegisterBus, bme280_registers  # noqa

import bme280  # noqa: F401
import sds011  # noqa: F401
from app import air, air_sources, duty, filters, packing, quality, rec_air, record  # noqa: F401
from app.board_unix import FeedUART

N = 20000
T0 = 1795737600


class QuietBus(RegisterBus):
    def writeto_mem(self, addr, reg, buf):
        d = self.devices[addr]
        for i in range(len(buf)):
            d[reg + i] = buf[i]


class Board:
    def __init__(self):
        self.pm = FeedUART(64)
        self.bus = QuietBus()  # keeps no write log
        self.bus.devices[0x76] = bme280_registers(EXAMPLE, EXAMPLE_ADC_T, EXAMPLE_ADC_P, EXAMPLE_ADC_H)

    def uart(self, name):
        return self.pm

    def i2c(self, name):
        return self.bus


with open("tests/data/air/sds011_capture_54frames.bin", "rb") as f:
    data = f.read()
frames = [data[i:i + 10] for i in range(0, len(data), 10)]
cfg = {"device_id": "bench", "apikey": "k", "interval": 300,
       "air": {"sensors": {"sds011": {"uart": "pm"}, "bme280": {"i2c": "main", "address": 0x76}}}}
board = Board()
sent = []


record_buf = bytearray(512)


def emit(kind, key, fields):
    """As the node logs a reading: packed into its buffer (no JSON on the sensing side)."""
    sent.append(record.encode(record_buf, kind, key, fields))


gc.collect()
before = gc.mem_alloc()
pipe = air.build(cfg, board, emit)
pipe.poll(T0)  # finds the BME280, reads its calibration
gc.collect()
heap = gc.mem_alloc() - before

t0 = time.ticks_us()
for i in range(N):
    board.pm.feed(frames[i % 54])
    pipe.poll(T0 + 1 + i)
elapsed = time.ticks_diff(time.ticks_us(), t0)
pipe.close(T0 + N + 1)
assert pipe.sources[0].samples == N and len(sent) >= N // 300
print("air.us_per_sample %.1f us" % (elapsed / N))
print("air.heap_bytes %d bytes" % heap)


class CopyUART:
    def __init__(self):
        self.frame = None

    def readinto(self, buf):
        f = self.frame
        if f is None:
            return None
        for k in range(10):
            buf[k] = f[k]
        self.frame = None
        return 10

    def write(self, data):
        return len(data)


copy_uart = CopyUART()
board.uart = lambda name: copy_uart
pipe = air.build(cfg, board, emit)
M = 3000  # ten intervals: interval encoding is included, per sample
for i in range(M):
    copy_uart.frame = frames[i % 54]
    pipe.poll(T0 + 1 + i)
gc.collect()
gc.disable()
a = gc.mem_alloc()
for i in range(M, 2 * M):
    copy_uart.frame = frames[i % 54]
    pipe.poll(T0 + 1 + i)
allocated = gc.mem_alloc() - a
gc.enable()
print("air.alloc_bytes_per_sample %.1f bytes" % (allocated / M))
