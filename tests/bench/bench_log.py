# Flash log figures on the NOR emulator (unix port), with the LittleFS append
# baseline measured in the same run: vfs.VfsLfs2 on the same emulator as its
# block device, a 40-byte reading appended to a file and flushed each time.
import gc
import time

import vfs

from app.flashlog import FlashLog, record_bytes
from app.norflash import NorFlash

READING = 40
PART = 128  # sectors: a 512 KiB partition


def reading(i):
    return b"%040d" % i


def littlefs_baseline(n):
    dev = NorFlash(PART)
    vfs.VfsLfs2.mkfs(dev)
    fs = vfs.VfsLfs2(dev)
    vfs.mount(fs, "/lfsbench")
    f = open("/lfsbench/log.bin", "ab")
    f.write(reading(0))
    f.flush()
    p0, e0 = dev.total_programmed(), dev.total_erases()
    for i in range(n):
        f.write(reading(i))
        f.flush()
    wa = (dev.total_programmed() - p0) / (n * READING)
    epk = (dev.total_erases() - e0) * 1000 / n
    f.close()
    vfs.umount("/lfsbench")
    return wa, epk


def live(log, n):
    """The broker is up: each reading is read, published and acknowledged as it comes."""
    for i in range(n):
        seq = log.append(reading(i))
        log.read(seq - 1, [], 1, 4096)
        log.ack(seq)


def main():
    base_wa, base_epk = littlefs_baseline(1000)
    gc.collect()

    dev = NorFlash(PART)
    log = FlashLog(dev)
    p0, e0 = dev.total_programmed(), dev.total_erases()
    n = 30000  # more than two laps of the ring
    live(log, n)
    wa = (dev.total_programmed() - p0) / (n * READING)
    epk = (dev.total_erases() - e0) * 1000 / n
    del dev, log
    gc.collect()
    print("log.write_amplification %.3f bytes/byte" % wa)
    print("log.write_amplification.baseline %.1f bytes/byte" % base_wa)
    print("log.write_amplification.ratio %.4f x" % (wa / base_wa))
    print("log.erases_per_1000 %.2f erases" % epk)
    print("log.erases_per_1000.baseline %.1f erases" % base_epk)
    print("log.erases_per_1000.ratio %.4f x" % (epk / base_epk))

    # Wear after 100 laps of a smaller ring (same code path, fewer appends to run).
    dev = NorFlash(16)
    log = FlashLog(dev)
    per_lap = (16 - 1) * ((dev.sector_size - log.data_off) // record_bytes(READING))
    live(log, per_lap * 100)
    erases = list(dev.erases)
    mean = sum(erases) / len(erases)
    # Measured over 100 laps of a 16-sector ring (the full 128-sector ring would take minutes).
    print("log.wear_spread %.3f max/mean" % (max(erases) / mean))

    del dev, log
    gc.collect()
    # Appends with nothing delivered (broker down): the ring fills, then drops the oldest.
    dev = NorFlash(PART)
    log = FlashLog(dev)
    n = 20000
    t0 = time.ticks_us()
    for i in range(n):
        log.append(reading(i))
    dt = time.ticks_diff(time.ticks_us(), t0)
    print("log.appends_per_s %d appends/s" % (n * 1000000 // dt))  # on the NOR emulator

    # Boot recovery of the full 512 KiB log.
    best = None
    for _ in range(5):
        t0 = time.ticks_us()
        FlashLog(dev)
        dt = time.ticks_diff(time.ticks_us(), t0)
        best = dt if best is None or dt < best else best
    print("log.recovery_ms %.1f ms" % (best / 1000))  # a full log, every reading pending

    del dev, log
    for sectors, name in ((PART, "log.heap_bytes"), (PART // 8, "log.heap_bytes.64kib")):
        gc.collect()
        dev = NorFlash(sectors)
        FlashLog(dev)
        gc.collect()
        a = gc.mem_alloc()
        log = FlashLog(dev)
        gc.collect()
        b = gc.mem_alloc()
        del log, dev
        print("%s %d bytes" % (name, b - a))


main()
