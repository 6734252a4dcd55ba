# Power-cut checks for the flash log (runs under MicroPython).
#
# A scenario is a list of steps: ("append", n, size, compact), ("deliver", n) (read up
# to n pending readings and ack the last, as the uplink does after a PUBACK)
# and ("boot",) (power cycle: a new FlashLog on the same flash). It is first
# run without a cut, keeping the log's state after every step; then, for a cut
# at flash operation i, it runs again until the power goes, recovers, and must
# find the state of the step before or after the interrupted one, every
# surviving reading intact, in order, and no reading lost that append had
# reported durable (unless the ring's capacity dropped it, counted).
#
#     micropython tests/mp/powercut.py [cuts] [seed]   a long random run
import gc
import random
from array import array

from app import rec_health, rec_lane, rec_parking, record
from app.flashlog import FlashLog
from app.norflash import NorFlash, PowerCut

T0 = 1795737600
KINDS = (rec_parking, rec_lane, rec_health)


def scenario(seed, steps, max_len=60, update=True):
    """Appends are compact records of the node (app.record); with update, text records
    of max_len bytes at most (an older firmware's) until the first boot, a firmware update."""
    rnd = random.Random(seed) if hasattr(random, "Random") else None
    if rnd is None:
        random.seed(seed)
        rnd = random
    out = []
    n = 0
    up = True  # the broker: outages long enough to wrap the ring
    compact = not update
    for _ in range(steps):
        r = rnd.getrandbits(8)
        if rnd.getrandbits(4 if up else 6) == 0:
            up = not up
        if r < 160 or (not up and r < 245):
            n += 1
            out.append(("append", n, 1 + rnd.getrandbits(8) % max_len, compact))
        elif r < 245:
            out.append(("deliver", 1 + rnd.getrandbits(4)))
        else:
            out.append(("boot",))
            compact = True
    return out


def payload(step):
    """The reading an ("append", n, size, compact) step appends (made on demand: the heap
    stays small): a compact record of the node (app.record) or text of the given size."""
    n = step[1]
    if step[3]:
        k = n % 3
        if k == 0:
            fields = (T0 + n, "free" if n & 1 else "occupied")
        elif k == 1:
            fields = (T0 + 300 * n, T0 + 300 * n - 300, 1 + n % 4, n, n % 97 / 97, n % 130 or None, ())
        else:
            fields = (T0 + 300 * n, n & 1, n, 60000 + n, n, n % 300, n % 101, n % 101 >= 80, n // 7,
                      "power-on", "0.2.0", "ntp", -n % 90, "link: OSError: 113" if n & 2 else None)
        buf = bytearray(256)
        return bytes(buf[:record.encode(buf, KINDS[k], "k/pc-%d" % k, fields)])
    body = ("r%d-" % n).encode()
    return (body * (step[2] // len(body) + 1))[:step[2]]


class Run:
    """Runs steps on dev, remembering what was appended and what append reported durable."""

    def __init__(self, dev, older=FlashLog):
        self.dev = dev
        self.older = older    # the log class before the first boot (an older firmware's)
        self.attempted = []   # [seq - 1]: the append step whose payload got seq (one run: no seq reuse)
        self.durable = 0      # highest seq whose append returned
        self.acked = 0        # highest seq whose ack returned
        self.delivered = bytearray()  # [seq]: 1 once the broker has it (read, then PUBACK),
                                      # 2 once ack() for it has returned
        self.states = array("I")  # next_seq, acked, dropped after each step
        self.step = -1        # the step in progress
        self.log = None

    def go(self, steps, log=None):
        self.log = log or self.older(self.dev)
        for i, st in enumerate(steps):
            self.step = i
            self.do(st)
            lg = self.log
            st = self.states
            st.append(lg.next_seq)
            st.append(lg.acked)
            st.append(lg.dropped)

    def do(self, st):
        lg = self.log
        if st[0] == "append":
            assert len(self.attempted) == lg.next_seq - 1
            self.attempted.append(st)
            self.durable = lg.append(payload(st))
        elif st[0] == "deliver":
            recs = lg.read(0, [], st[1], 4096)
            if recs:
                d = self.delivered
                for seq, _ in recs:
                    while len(d) <= seq:
                        d.append(0)
                    d[seq] = 1
                lg.ack(recs[-1][0])
                for seq, _ in recs:
                    d[seq] = 2
                self.acked = recs[-1][0]
        else:
            self.log = FlashLog(self.dev)


def check_invariants(log, run):
    """What any log must show after a boot, whatever happened before."""
    assert log.acked >= run.acked, "an acknowledged read position was lost"
    assert log.next_seq - 1 >= run.durable, "a reading reported durable was lost"
    recs = log.read(0, [], 1 << 30, 1 << 30)
    seqs = [s for s, _ in recs]
    assert seqs == list(range(log.acked + 1, log.next_seq)), (seqs[:5], log.acked, log.next_seq)
    for s, p in recs:
        assert p == payload(run.attempted[s - 1]), "reading %d corrupted" % s
        if p[0] < 0x21:  # compact: published as '<key> {...}'
            text = record.expand(p)
            assert text[text.find(b" ") + 1] == 123 and text[-1] == 125, text
    assert log.used() <= 100
    assert log.pending == len(recs)
    # Every reading below the read position reached the broker or is counted as
    # dropped; only readings whose acknowledgement was never persisted may be both.
    d = run.delivered[:log.acked + 1]
    delivered = sum(1 for v in d if v)
    confirmed = sum(1 for v in d if v == 2)
    assert log.acked - delivered <= log.dropped <= log.acked - confirmed, \
        (log.acked, delivered, confirmed, log.dropped)


def check_recovered(log, run, ref):
    """The recovered log against the uncut reference states and what the cut run saw."""
    j = run.step
    before = tuple(ref[3 * j - 3:3 * j]) if j > 0 else (1, 0, 0)
    after = tuple(ref[3 * j:3 * j + 3]) if j >= 0 else before
    assert log.next_seq in (before[0], after[0]), (log.next_seq, before, after)
    assert log.dropped in (before[2], after[2]), (log.dropped, before, after)
    lo, hi = min(before[1], after[1]), max(before[1], after[1])
    assert lo <= log.acked <= hi, (log.acked, before, after)
    check_invariants(log, run)


SECTOR = 512  # small sectors: a short scenario wraps the ring many times


def reference(steps, sectors, sector=SECTOR, older=FlashLog):
    dev = NorFlash(sectors, sector)
    run = Run(dev, older)
    run.go(steps)
    return run.states, dev.ops


def cut_once(steps, sectors, ref, op, fraction, recut=None, sector=SECTOR, scatter=False,
             older=FlashLog):
    """Cut at flash op `op`; optionally cut again during recovery (today's firmware recovers,
    whichever wrote the log). Returns the recovered log."""
    gc.collect()
    dev = NorFlash(sectors, sector)
    run = Run(dev, older)
    dev.cut(op, fraction, scatter)
    try:
        run.go(steps)
    except PowerCut:
        pass
    else:
        raise AssertionError("no cut at op %d" % op)
    dev.power_on()
    if recut is not None:
        dev.cut(recut[0], recut[1])
        try:
            FlashLog(dev)
        except PowerCut:
            pass
        dev.power_on()
    log = FlashLog(dev)
    check_recovered(log, run, ref)
    # The recovered log goes on with the rest of the scenario, and what it then
    # holds survives one more boot.
    rest = steps[run.step + 1:]
    del run.attempted[log.next_seq - 1:]
    run.durable = min(run.durable, log.next_seq - 1)
    run.states = array("I")
    run.go(rest, log)
    check_invariants(FlashLog(dev), run)
    return log


def every_op(steps, sectors, fraction=0.5, scatter=False, older=FlashLog):
    ref, total = reference(steps, sectors, SECTOR, older)
    for op in range(total):
        cut_once(steps, sectors, ref, op, fraction, None, SECTOR, scatter, older)
    return total


def random_ops(steps, sectors, cuts, seed, sector=SECTOR):
    ref, total = reference(steps, sectors, sector)
    random.seed(seed)
    for _ in range(cuts):
        op = random.getrandbits(24) % total
        frac = random.getrandbits(8) / 256
        recut = None
        if random.getrandbits(2) == 0:
            recut = (random.getrandbits(2), random.getrandbits(8) / 256)
        cut_once(steps, sectors, ref, op, frac, recut, sector, random.getrandbits(1))
    return total


if __name__ == "__main__":
    import sys
    cuts = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    steps = scenario(seed, 3000)
    total = random_ops(steps, 8, cuts, seed)
    print("ok: %d random cuts (some doubled during recovery) among %d flash operations" % (cuts, total))
    total = random_ops(scenario(seed + 2, 4000, 200), 4, cuts // 4, seed, 4096)
    print("ok: %d random cuts among %d operations on 4 KiB sectors" % (cuts // 4, total))
    for fr, scatter in ((0.0, False), (0.3, False), (0.99, False), (0.0, True), (0.5, True)):
        n = every_op(scenario(seed + 1, 150), 4, fr, scatter)
        print("ok: a cut at every one of %d operations, fraction %.2f%s"
              % (n, fr, ", stray bits past the cut" if scatter else ""))
