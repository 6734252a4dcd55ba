# An outage that outlasts the log: health says how old the backlog is and that the
# log is nearly full before the first reading is dropped; drops stay oldest first.
import json

from app import rec_health, rec_parking, record
from app.board_unix import Board
from app.flashlog import FlashLog
from app.health import NEARLY_FULL, Health
from app.memlog import MemLog
from app.node import Node
from app.norflash import NorFlash

T0 = 1795737600  # 2026-11-27T00:00:00Z
CFG = {"device_id": "n1", "apikey": "k", "interval": 300}


def published(rec):
    key, obj = record.split(record.expand(rec))
    return key, json.loads(obj)


def test_health_warns_before_the_log_drops_and_drops_stay_oldest_first():
    log = FlashLog(NorFlash(8))  # 8 sectors: the ring is full after about a day of this
    node = Node(CFG, Board({}), log)
    health = Health(300, Board({}), log, T0)
    t = T0
    warned_at = None
    while True:
        node.emit(rec_parking, "k/n1-p1", (t, "free"))
        if log.dropped:
            break
        if t % 3600 == 0:
            used = log.used()
            rec = node.emit(rec_health, "k/n1", health.reading(t, False, "ntp", "OSError: 113"))
            h = published(rec)[1]
            assert h["backlog"] == log.pending - 1 and h["dropped"] == 0, (h, log.pending)
            assert h["backlogDays"] == (t - T0) * 10 // 86400 / 10, (h, t - T0)
            assert h["logUsed"] == used and h["logNearlyFull"] == (h["logUsed"] >= NEARLY_FULL)
            if h["logNearlyFull"] and warned_at is None:
                warned_at = t
            if log.dropped:
                break
        t += 60
    assert warned_at is not None and warned_at < t - 3600  # said so an hour or more ahead
    # The first drop: exactly the oldest sector's readings, counted; the rest in order.
    seq, count, last = 0, 0, T0
    while True:  # in batches, as the uplink reads: the whole log does not fit a chip's heap
        batch = log.read(seq, [], 64, 1 << 30)
        if not batch:
            break
        assert batch[0][0] == (seq + 1 if seq else log.dropped + 1)
        for seq, p in batch:
            assert record.stamp(p) >= last > T0 or record.stamp(p) > last == T0
            last = record.stamp(p)
        count += len(batch)
    assert log.pending == count
    h = published(node.emit(rec_health, "k/n1", health.reading(t, False, "ntp", None)))[1]
    assert h["dropped"] == log.dropped and h["logNearlyFull"] is True


def test_backlog_age_comes_from_the_oldest_reading_not_yet_delivered():
    log = MemLog(capacity=100)
    node = Node(CFG, Board({}), log)
    health = Health(300, Board({}), log, T0)
    for k in range(10):
        node.emit(rec_parking, "k/n1-p1", (T0 + 43200 * k, "occupied"))
    log.ack(3)  # the broker has the first three
    fields = health.reading(T0 + 43200 * 9 + 100, True, "ntp", None)
    h = published(node.emit(rec_health, "k/n1", fields))[1]
    assert h["backlogDays"] == 3.0 and h["backlog"] == 7 and h["logUsed"] == 7
    # A reading stamped by an unset clock (year 2000) says nothing about the age.
    log = MemLog()
    log.append(record.pack("k/n1-aq", b'{"TimeInstant":"2000-01-01T00:05:00Z"}'))
    assert Health(300, Board({}), log, T0).backlog_tenths(T0) == 0
    log.append(record.pack("k/n1-aq", b'{"TimeInstant":"2026-11-26T12:00:00Z"}'))
    log.ack(1)
    assert Health(300, Board({}), log, T0).backlog_tenths(T0) == 5  # text records of older firmware
