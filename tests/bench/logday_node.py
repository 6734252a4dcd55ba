# Run by host_logday.py under the unix port: one recorded day of the reference node
# through the node core, every reading logged as the node logs it; prints what the
# log holds per reading kind, compact and as the JSON text records the firmware
# logged before (the baseline: each record expanded by the uplink, which
# tests/test_golden_payloads.py proves is byte-identical to those), and how many
# days each fills of the board's log before the first reading is dropped.
#   micropython logday_node.py day <stream.jsonl> <records file>
#   micropython -X heapsize=64M logday_node.py held <records file> <log sectors> <baseline sectors>
# The baseline's log is the older firmware's too (10-byte record headers: tests/mp/flashlog_v1.py).
import gc
import json
import sys

sys.path.append(__file__.rpartition("/")[0] + "/../mp")
import flashlog_v1  # noqa: E402
from app import rec_health, record  # noqa: E402
from app.board_unix import Board  # noqa: E402
from app.flashlog import FlashLog, record_bytes  # noqa: E402
from app.health import Health  # noqa: E402
from app.isotime import iso  # noqa: E402
from app.node import Node  # noqa: E402
from app.norflash import NorFlash  # noqa: E402

DAY = 86400
NEW_HEALTH = (b'"backlogDays"', b'"logUsed"', b'"logNearlyFull"')  # item 4 of issue 13: not today's


def today(rec):
    """The text record the firmware logged before compact records: '<key> {json}'."""
    text = record.expand(rec)
    for k in NEW_HEALTH:
        i = text.find(k)
        if i >= 0:
            j = text.find(b",", i)
            text = text[:i - 1] + text[j:] if j >= 0 else text[:i - 1] + b"}"
    return text


class DayLog:
    """The log of a day without the broker: every record goes to a file (the heap stays
    device-sized), the oldest is kept for health's backlog age."""

    def __init__(self, f, capacity, pending, oldest):
        self.f = f
        self.capacity = capacity  # readings the board's log holds (for health's logUsed)
        self.pending = pending  # readings of the outage's days before this one
        self.dropped = 0
        self.first = oldest

    def append(self, rec):
        self.f.write(bytes((len(rec),)))
        self.f.write(rec)
        if self.first is None:
            self.first = bytes(rec)
        self.pending += 1
        return self.pending

    def used(self):
        return min(100, self.pending * 100 // self.capacity)

    def read(self, after_seq, out, max_count, max_bytes):
        if self.first is not None and max_count:
            out.append((1, self.first))
        return out


def day(stream, out):
    with open(stream) as f, open(out, "wb") as o:
        head = json.loads(f.readline())
        cfg, t0 = head["config"], head["t0"]
        board = Board(head["board"], feed=True)
        # The middle day of an outage as long as the log is meant to last: health's uptime,
        # backlog and backlog age are as large as on an average day of it.
        before = head["days_before"]
        log = DayLog(o, head["capacity"], before * head["readings_per_day"],
                     record.pack("smartnode/" + cfg["device_id"],
                                 b'{"TimeInstant":"%s"}' % iso(t0 - before * DAY).encode()))
        node = Node(cfg, board, log)
        health = Health(cfg["health"]["interval"], board, log, t0 - before * DAY)
        key = "smartnode/" + cfg["device_id"]
        state = (False, "ntp", "OSError: 113")  # the broker unreachable all day

        def ms_of(t, frac=0):  # the node's millisecond tick (time.ticks_ms() wraps so)
            return ((t - t0) * 1000 + frac) & 0x3FFFFFFF

        def poll(t, frac=0):  # as the shell does (app.run.Shell.sense)
            node.poll(t, ms_of(t, frac))
            if health.due(t, state):
                node.emit(rec_health, key, health.reading(t, *state))

        tick = t0
        for line in f:
            ev = json.loads(line)
            t = ev["t"]
            while tick <= t:
                poll(tick)
                tick += 1  # the shell polls at least once a second
            node.event(t, ev, ms_of(t, ev.get("ms", 0)))
            poll(t, ev.get("ms", 0))
        while tick < t0 + DAY:
            poll(tick)
            tick += 1
        node.poll(t0 + DAY, ms_of(t0 + DAY))  # the day's last intervals end here
        assert not node.unlogged, node.last_error


def days_held(recs, sectors, log_class=FlashLog):
    """Days of recs appended, in order and again, to a log of `sectors` before a drop."""
    log = log_class(NorFlash(sectors))
    n = 0
    while True:
        for r in recs:
            log.append(r)
            if log.dropped:
                return n / len(recs)
            n += 1


def load(path):
    """Records written one length byte (two for text records) and the bytes each."""
    with open(path, "rb") as f:
        data = f.read()
    wide = path.endswith(".text")
    recs, i = [], 0
    while i < len(data):
        n = data[i] << 8 | data[i + 1] if wide else data[i]
        i += 2 if wide else 1
        recs.append(data[i:i + n])
        i += n
    return recs


def main():
    if sys.argv[1] == "held":  # held <records> <log sectors> <baseline log sectors>: a big heap
        held = days_held(load(sys.argv[2]), int(sys.argv[3]))
        gc.collect()
        base = days_held(load(sys.argv[2] + ".text"), int(sys.argv[4]), flashlog_v1.FlashLog)
        print(json.dumps({"days_held": held, "days_held_baseline": base}))
        return
    # day <stream> <records out> [sample]: a device-sized heap (health reports free heap)
    day(sys.argv[2], sys.argv[3])
    recs = load(sys.argv[3])
    with open(sys.argv[3] + ".text", "wb") as f:  # the same readings as text records
        for r in recs:
            t = today(r)
            f.write(bytes((len(t) >> 8, len(t) & 255)))
            f.write(t)
    if len(sys.argv) > 4:  # a sample of records, for whoever tunes a layout
        for r in recs[:40]:
            print(len(r), r, record.expand(r), file=sys.stderr)
    kinds = {1: "air", 2: "parking", 3: "traffic", 4: "health"}
    per = {}
    for r in recs:
        k = kinds[r[0] & 15]
        c = per.setdefault(k, [0, 0, 0])
        c[0] += 1
        c[1] += record_bytes(len(r))  # with the log's record header
        c[2] += 10 + len(today(r))  # the older log's header: length u16, seq u32, CRC u32
    print(json.dumps({"per_kind": per, "readings": len(recs),
                      "bytes": sum(c[1] for c in per.values()),
                      "baseline_bytes": sum(c[2] for c in per.values())}))


main()
