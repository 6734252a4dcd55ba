# The flash log's format and wear behaviour on the NOR emulator.
from app.crc32 import crc32 as soft_crc32
from app.flashlog import FlashLog, LogError
from app.norflash import NorFlash
import flashlog_v1
from mptest import raises


def test_fallback_crc32_matches_the_standard_check_value():
    # The CRC-32/ISO-HDLC check value for "123456789" (CRC catalogue): 0xCBF43926.
    assert soft_crc32(b"123456789") == 0xCBF43926
    assert soft_crc32(b"56789", soft_crc32(b"1234")) == 0xCBF43926


def test_appending_only_programs_the_record():
    f = NorFlash(8)
    log = FlashLog(f)
    erases, ops = f.total_erases(), f.ops
    before = f.total_programmed()
    for i in range(20):
        log.append(b"%040d" % i)
    # 5 bytes of record header (one length byte, CRC) per 40-byte reading, no erase.
    assert f.total_programmed() - before == 20 * 45
    assert f.total_erases() == erases and f.ops == ops + 20
    before = f.total_programmed()
    log.ack(7)
    log.ack(8)
    assert f.total_programmed() - before == 2  # a read position costs one byte


def test_one_erase_per_sector_filled_and_even_wear():
    f = NorFlash(8)
    log = FlashLog(f)
    for i in range(4000):
        log.ack(log.append(b"%040d" % i))
    per_sector = (4096 - log.data_off) // 45
    # Formatting erases 2 sectors; each further sector opened erases exactly one.
    opened = (4000 - 1) // per_sector
    assert f.total_erases() == 2 + opened
    assert max(f.erases) - min(f.erases) <= 1


def test_recovery_finds_the_state_after_many_laps():
    f = NorFlash(6, 512)
    log = FlashLog(f)
    for i in range(1000):
        s = log.append(b"r%d" % i)
        if i % 7 == 0:
            log.ack(s - 2)
    again = FlashLog(f)
    assert (again.next_seq, again.acked, again.dropped) == (log.next_seq, log.acked, log.dropped)
    assert again.read(0, [], 3, 1000) == log.read(0, [], 3, 1000)


def test_too_large_a_reading_is_refused_and_the_log_goes_on():
    log = FlashLog(NorFlash(4, 512))
    raises(LogError, log.append, b"x" * 500)
    assert log.append(b"fits") == 1


def test_foreign_data_in_the_region_is_formatted_over():
    f = NorFlash(4, 512)
    for s in range(4):
        f.writeblocks(s, b"garbage!" * 64, 0)
    log = FlashLog(f)
    assert log.next_seq == 1 and log.pending == 0
    log.append(b"first")
    assert FlashLog(f).read(0, [], 5, 100) == [(1, b"first")]


def test_a_long_outage_loses_whole_oldest_sectors_and_counts_them():
    # 4 KiB sectors: 24-byte header + 52-byte ack bitmap, then 45-byte records
    # (5-byte record header + 40-byte reading): 89 readings per sector, and a
    # 16-sector ring keeps 15 sectors (one stays erased).
    per_sector = (4096 - 24 - 52) // 45
    assert per_sector == 89
    log = FlashLog(NorFlash(16))
    n = 3000
    for i in range(n):
        log.append(b"%040d" % i)
    head = (n - 1) // per_sector
    first_kept = (head - 14) * per_sector + 1
    assert log.dropped == first_kept - 1 == 1691
    assert log.pending == n - first_kept + 1
    # The broker is back: everything kept arrives, oldest first, once.
    got = []
    while log.pending:
        batch = log.read(0, [], 20, 4096)
        got += [s for s, _ in batch]
        log.ack(batch[-1][0])
    assert got == list(range(first_kept, n + 1))
    assert log.dropped == 1691
    again = FlashLog(log.dev)
    assert again.pending == 0 and again.dropped == 1691 and again.next_seq == n + 1


def test_a_log_of_the_older_layout_is_read_after_an_update_and_goes_on():
    f = NorFlash(6, 512)
    old = flashlog_v1.FlashLog(f)  # "SLg1": 10-byte record headers, 32 of these a sector
    for i in range(60):
        old.append(b"old%02d" % i)
    old.ack(20)
    log = FlashLog(f)
    assert (log.next_seq, log.acked, log.dropped) == (61, 20, 0)
    assert log.read(0, [], 100, 1 << 20) == old.read(0, [], 100, 1 << 20)
    head = log.head
    assert log.append(b"new") == 61
    # Never written in the older layout: the first append opens a sector of today's.
    assert log.head == head + 1
    hdr = bytearray(4)
    f.readblocks(log.head, hdr)
    assert hdr == b"SLg2"
    log.ack(45)
    again = FlashLog(f)
    got = again.read(0, [], 100, 1 << 20)
    assert [p for _, p in got] == [b"old%02d" % i for i in range(45, 60)] + [b"new"]
    assert [s for s, _ in got] == list(range(46, 62)) and again.acked == 45
