# Compact log records: packed by the node, expanded by the uplink into the JSON
# the node published when it logged JSON text (tests/golden: made by that firmware).
import json
import os
import sys

from mptest import FLOAT32, expanded, same_text_to_last_digit, scratch

from app import health, rec_health, rec_parking, record
from app.memlog import MemLog
from app.uplink import Uplink

GOLDEN_HEALTH = "tests/golden/health.jsonl"
sys.path.append("tests/golden")
from health_cases import Board, Gc, Log  # noqa: E402  (the stand-ins the golden file was made with)


class EmptyLog(Log):
    def used(self):
        return 0

    def read(self, after, out, count, size):
        return out


def test_health_readings_expand_to_the_golden_json():
    import app
    gc = health.gc = Gc()
    version, app.VERSION = app.VERSION, "0.9.0-golden"
    buf = bytearray(512)
    try:
        with open(GOLDEN_HEALTH) as f:
            cases = [json.loads(line) for line in f]
        assert len(cases) == 5
        for c in cases:
            case = c["case"]
            gc.free = case["free"]
            h = health.Health(300, Board(case), EmptyLog(case), case["started"])
            fields = h.reading(case["t"], case["connected"], case["time"], case["error"])
            app.VERSION = "other"  # published by a newer firmware: the reading keeps its own
            n = record.encode(buf, rec_health, "k/n", fields)
            assert n < 200 or case["error"]
            key, obj = record.split(record.expand(buf[:n]))
            assert key == b"k/n"
            new = b'"backlogDays":0.0,"logUsed":0,"logNearlyFull":false,'  # issue 13, item 4
            assert new in obj, obj
            assert obj.replace(new, b"") == c["payload"].encode(), (obj, c["payload"])
            app.VERSION = "0.9.0-golden"
    finally:
        app.VERSION = version
        import gc as real_gc
        health.gc = real_gc


def test_text_records_of_older_firmware_are_published_as_they_are():
    old = record.pack("k/n-aq", b'{"TimeInstant":"2026-11-21T22:00:00Z","pm25":1.20}')
    assert record.expand(old) == old
    assert record.expand(b"") == b""
    assert record.expand(b"\x0e\x00junk") == b""  # a format this firmware does not know
    assert record.expand(b"\x02\xfe\x00") == b""  # an index the book never gave


def test_a_full_book_puts_the_key_inside_the_record():
    book = record.BOOK
    record.BOOK = record.AddressBook()
    try:
        for i in range(record.BOOK_MAX):
            assert record.BOOK.index("k/n%d" % i) == i
        got = expanded(rec_parking, "k/one-more-p1", (1795737600, "occupied"), keyed=True)
        assert got == ("k/one-more-p1", {"TimeInstant": "2026-11-27T00:00:00Z", "status": "occupied"})
        assert expanded(rec_parking, "k/n7", (1795737600, "free"), keyed=True)[0] == "k/n7"
    finally:
        record.BOOK = book


def test_a_reading_keeps_its_key_across_a_config_change_and_a_reboot():
    path = scratch("keys.json")
    for p in (path, path + ".tmp"):
        try:
            os.remove(p)
        except OSError:
            pass
    book = record.BOOK
    try:
        record.use_book(path)
        log = MemLog()
        buf = bytearray(64)
        log.append(buf[:record.encode(buf, rec_parking, "old-key/n1-p1", (1795737600, "free"))])
        log.append(buf[:record.encode(buf, rec_parking, "new-key/n1-p1", (1795737900, "free"))])
        record.use_book(path)  # reboot with the new config: the book is read back
        sent = []

        class T:
            def publish(self, topic, payload):
                sent.append(topic)

        Uplink({}, log, T()).pump()
        assert sent == ["/json/old-key/n1-p1/attrs", "/json/new-key/n1-p1/attrs"]
    finally:
        record.BOOK = book
        os.remove(path)


def test_an_unreadable_book_never_reuses_an_index():
    path = scratch("keys-bad.json")
    with open(path, "w") as f:
        f.write('{"n": 2, "keys": ["a/b", ')  # torn
    try:
        b = record.AddressBook(path)
        assert b.index("k/n") is None and b.last_error
    finally:
        os.remove(path)


def test_records_of_the_first_compact_layouts_publish_as_that_firmware_published_them():
    from binascii import unhexlify
    with open("tests/golden/records-v1.jsonl") as f:
        lines = [json.loads(line) for line in f]
    book = record.BOOK
    record.BOOK = record.AddressBook()
    try:
        for k in lines[-1]["book"]:
            record.BOOK.index(k)
        for ln in lines[:-1]:
            rec = unhexlify(ln["hex"])
            assert rec[0] < 0x10  # version 1
            got, want = record.expand(rec), ln["published"].encode()
            # Published by the 64-bit host; the chip's float32 may round a mean's exact tie apart.
            assert got == want or FLOAT32 and same_text_to_last_digit(got.decode(), ln["published"]), ln
        assert len(lines) == 11
    finally:
        record.BOOK = book


def test_the_last_update_rides_in_health_by_its_book_entry():
    book = record.BOOK
    record.BOOK = record.AddressBook()
    try:
        fields = (1764460800, True, 3600, 81920, 0, 0, 0, False, 0, "power-on", "0.2.0", "ntp", None, None)
        why = "ERROR rolled back to 0.2.0: 0.3.0 did not publish within 300 s (link: OSError(113,))"
        plain = expanded(rec_health, "k/n", fields)
        told = expanded(rec_health, "k/n", fields + (why,))
        assert "lastUpdate" not in plain
        assert told.pop("lastUpdate") == why[:80]  # cut as errors are
        assert told == plain
        buf = bytearray(512)
        a = record.encode(buf, rec_health, "k/n", fields + ("OK 0.3.0 confirmed: it published",))
        b = record.encode(buf, rec_health, "k/n", fields + ("OK 0.3.0 confirmed: it published",))
        assert a == b <= record.encode(buf, rec_health, "k/n", fields) + 2  # one varint: its index
    finally:
        record.BOOK = book
