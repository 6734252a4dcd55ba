# The log interface the node and the uplink rely on, checked against both
# implementations: MemLog (RAM stand-in) and FlashLog (on the NOR emulator).
from app.flashlog import FlashLog
from app.memlog import MemLog
from app.norflash import NorFlash


def logs():
    yield MemLog(capacity=50)
    yield FlashLog(NorFlash(4, 512))


def reading(i):
    return b'smartnode/n1-aq {"pm25":%d.5,"TimeInstant":"2026-11-21T22:%02d:00Z"}' % (i, i % 60)


def test_append_numbers_readings_in_order():
    for log in logs():
        assert log.next_seq == 1 and log.pending == 0 and log.dropped == 0
        seqs = [log.append(reading(i)) for i in range(5)]
        assert seqs == [1, 2, 3, 4, 5]
        assert log.next_seq == 6 and log.pending == 5


def test_read_oldest_first_after_a_sequence_number():
    for log in logs():
        for i in range(6):
            log.append(reading(i))
        out = log.read(0, [], 100, 10000)
        assert out == [(i + 1, reading(i)) for i in range(6)]
        assert log.read(4, [], 100, 10000) == [(5, reading(4)), (6, reading(5))]
        assert log.read(6, [], 100, 10000) == []
        assert log.pending == 6  # reading does not consume


def test_read_respects_count_and_bytes_but_returns_at_least_one():
    for log in logs():
        for i in range(6):
            log.append(reading(i))
        size = len(reading(0))
        assert [s for s, _ in log.read(0, [], 2, 10000)] == [1, 2]
        assert [s for s, _ in log.read(0, [], 100, 3 * size)] == [1, 2, 3]
        assert [s for s, _ in log.read(0, [], 100, 1)] == [1]
        out = [(0, b"already there")]
        log.read(1, out, 3, 10000)
        assert [s for s, _ in out] == [0, 2, 3]  # max_count counts what out already holds


def test_ack_forgets_everything_up_to_a_sequence_number():
    for log in logs():
        for i in range(6):
            log.append(reading(i))
        log.ack(3)
        assert log.pending == 3
        assert [s for s, _ in log.read(0, [], 100, 10000)] == [4, 5, 6]
        log.ack(2)  # an older ack changes nothing
        assert log.pending == 3
        log.ack(6)
        assert log.pending == 0 and log.read(0, [], 100, 10000) == []
        assert log.append(reading(9)) == 7


def test_an_outage_longer_than_the_capacity_drops_exactly_the_oldest():
    for log in logs():
        n = 0
        while log.dropped == 0 or n < 200:
            n += 1
            log.append(reading(n))
        out = log.read(0, [], 10000, 1 << 20)
        seqs = [s for s, _ in out]
        # What is left is the newest readings, consecutive; the drop count covers the rest.
        assert seqs == list(range(n - len(seqs) + 1, n + 1))
        assert log.dropped == n - len(seqs) and log.pending == len(seqs)
        assert all(p == reading(s) for s, p in out)


def test_acknowledged_readings_are_not_counted_as_dropped():
    for log in logs():
        for n in range(1, 401):
            log.append(reading(n))
            if n % 3 == 0:
                log.ack(n)
        assert log.dropped == 0 and log.pending == 1
