# Delivery from the log to the broker, per entity (IoT Agent device):
#  - each device's readings go out oldest first, batched into one measures
#    message (a JSON array of >= 2 objects, a plain object for one) as large as
#    max_batch/max_bytes allow, gathered across the log's interleaving;
#  - at most ONE unacknowledged message per device, up to `window` devices at
#    once: the agent forwards messages concurrently, so two messages of one
#    entity in flight could reach the context broker newest first;
#  - each reading carries its log sequence number as "seq" (a redelivered
#    duplicate carries the same number);
#  - the log is one ring ordered by sequence number across devices and frees
#    readings only in order: a PUBACK marks its readings done, and the log is
#    acknowledged up to the first reading not yet done;
#  - after a reconnect every reading not acknowledged is sent again; published
#    TimeInstants never go backwards per device.
# Bookkeeping is two bitmaps over the HORIZON readings after the log's ack
# point (taken: in flight or done; done: acknowledged or unpublishable), so the
# heap cost is fixed, whatever the backlog.
from app import fiware, record
from app.timesync import TI, VALID_FROM, flag, set_stamp

TOPIC_ROOM = 128  # room before the payload for topic, packet id and fixed header (app.mqtt)
SEQ = b'{"seq":'
HORIZON = 1024  # readings after the ack point a batch may gather from (a multiple of 8)
CHUNK = 16  # log records read at a time while gathering
# A node's batches (max_batch, max_bytes): a window of 8 such messages keeps a link
# busy, and bigger ones would only cost the heap a chip does not have.
NODE_BATCH = (32, 2048)


class Uplink:
    # max_bytes: readings per message as logged in text; the batch buffer holds that and
    # their seq fields (grown only for one reading larger than any before). A node
    # uses NODE_BATCH (app.run): 2.7 KB of heap, not 7.3 KB.
    def __init__(self, cfg, log, transport=None, window=8, max_batch=64, max_bytes=6144,
                 clock=None):
        self.log = log
        self.transport = transport  # a synchronous publish(topic, payload) (replay)
        self.window = window
        self.max_batch = max_batch
        self.max_bytes = max_bytes
        self.clock = clock  # app.timesync.TimeSync, or None: stamps are trusted
        self.prefix = fiware.prefix(cfg)
        self._buf = bytearray(TOPIC_ROOM + max_bytes + max_batch * 16 + 2)
        self._recs = []
        self._inflight = []  # [pid, key, [seq, ...], highest stamp], one per key at most
        self._acked = 0  # every seq <= this is acknowledged (the log's ack point)
        self._scan = 0  # every seq <= this is taken: gathering starts after it
        self._taken = bytearray(HORIZON // 8)  # bit seq % HORIZON, for _acked < seq <= _acked + HORIZON
        self._done = bytearray(HORIZON // 8)
        self._floor = {}  # key -> highest TimeInstant acknowledged
        self._idle_at = None  # (log.next_seq, acks) when gathering last found nothing
        self._held = False  # gathering stopped at a reading whose time is not known yet
        self._acks = 0
        self.session = None
        self.sent = 0  # readings published (a redelivery counts again)
        self.acked = 0  # readings acknowledged
        self.publishes = 0
        self.wire_bytes = 0
        self.malformed = 0  # log records that were not a reading

    # -- bitmaps -------------------------------------------------------------------
    @staticmethod
    def _bit(bits, seq):
        i = seq % HORIZON
        return bits[i >> 3] & (1 << (i & 7))

    @staticmethod
    def _set(bits, seq):
        i = seq % HORIZON
        bits[i >> 3] |= 1 << (i & 7)

    def _finish(self, seqs):
        """These readings are with the broker (or unpublishable): forget them, in order."""
        for seq in seqs:
            if seq > self._acked:
                self._set(self._done, seq)
                self._set(self._taken, seq)
        a = self._acked
        done, taken = self._done, self._taken
        while self._bit(done, a + 1):
            a += 1
            i = a % HORIZON
            m = ~(1 << (i & 7))
            done[i >> 3] &= m
            taken[i >> 3] &= m
        if a != self._acked:
            self._acked = a
            if self._scan < a:
                self._scan = a
            self.log.ack(a)

    def _jump(self, seq):
        """The log has nothing up to seq and nothing is taken after it."""
        for i in range(len(self._done)):
            self._done[i] = 0
            self._taken[i] = 0
        self._acked = self._scan = seq
        self.log.ack(seq)

    def _untake(self):
        """A new connection: whatever was in flight goes again (done stays done)."""
        del self._inflight[:]
        self._taken[:] = self._done
        self._scan = self._acked
        self._idle_at = None

    # -- building a message --------------------------------------------------------
    def _busy(self, key):
        for m in self._inflight:
            if m[1] == key:
                return True
        return False

    def _next_message(self):
        """Gather the oldest readings of the first device with nothing in flight into
        self._buf. -> (key, start, end, [seq, ...], highest stamp) or None."""
        recs = self._recs
        buf = self._buf
        self._held = False
        start = TOPIC_ROOM
        p = start + 1
        key = None
        seqs = []
        floor = None
        bad = []
        size_left = self.max_bytes
        limit = self._acked + HORIZON
        after = self._scan
        # With messages in flight, another device is looked for among the next
        # max_batch readings only: a backlog of one device costs no scan of the horizon.
        explore = after + (self.max_batch if self._inflight else HORIZON)
        first_free = None  # the first reading seen that was not taken
        full = False
        while not full and after < limit:
            del recs[:]
            self.log.read(after, recs, CHUNK, self.max_bytes)
            if not recs:
                break
            for seq, rec in recs:
                if seq > limit:
                    if after != self._acked:
                        full = True
                        break
                    # Nothing left before seq (the log dropped the oldest while we
                    # were away): move the ack point past the gap.
                    self._jump(seq - 1)
                    after = seq - 1
                    limit = after + HORIZON
                    explore = after + HORIZON
                if key is None and seq > explore:
                    full = True
                    break
                while after + 1 < seq:  # readings the log no longer has (dropped, corrupt)
                    after += 1
                    bad.append(after)
                after = seq
                if self._bit(self._taken, seq):
                    continue
                k = record.address(rec)  # only this device's readings are expanded
                if k is not None and (k != key if key is not None else self._busy(k)):
                    if first_free is None:
                        first_free = seq
                    continue
                rec = record.expand(rec) if k is not None else b""  # '<key> {...}', made only now
                sp = len(k) if k is not None else -1
                logged = len(rec)
                if sp < 1 or len(rec) < sp + 3 or rec[sp] != 32 or rec[sp + 1] != 123 or rec[-1] != 125:
                    # Not '<key> {...}': unpublishable. Forgotten in order, so one bad
                    # record cannot stop delivery.
                    self.malformed += 1
                    bad.append(seq)
                    continue
                if key is None:
                    key = k
                    floor = self._floor.get(key)
                o = sp + 1  # the object is rec[o:]; copied once, into the packet
                ti = rec.find(TI, o)
                if ti >= 0:
                    ti += len(TI)
                    stamp = rec[ti:ti + 20]
                    if stamp < VALID_FROM and self.clock is not None:
                        rec = self.clock.fix(seq, rec[o:])
                        if rec is None:  # time not known yet: hold this and what follows
                            self._held = True
                            full = True
                            if first_free is None:
                                first_free = seq
                            break
                        o = 0
                        ti = rec.find(TI) + len(TI)
                        stamp = rec[ti:ti + 20]
                    if floor is not None and stamp < floor:
                        rec = flag(set_stamp(rec[o:], floor), b'"timeAdjusted":true')
                        o = 0
                    else:
                        floor = stamp
                size = len(rec) - o
                need = size + 24
                if seqs and (len(seqs) >= self.max_batch or logged > size_left):
                    if first_free is None:
                        first_free = seq
                    full = True
                    break
                if p + need + 1 > len(buf):
                    buf = self._buf = bytearray(p + need + 1)  # one reading larger than any before
                size_left -= logged  # max_bytes of readings as logged in text, '<key> {...}'
                buf[p:p + 7] = SEQ
                p += 7
                digits = b"%d" % seq
                buf[p:p + len(digits)] = digits
                p += len(digits)
                if rec[o + 1] != 125:  # not an empty object '{}'
                    buf[p] = 44  # ','
                    p += 1
                buf[p:p + size - 1] = memoryview(rec)[o + 1:]
                p += size - 1
                buf[p] = 44
                p += 1
                seqs.append(seq)
                self._set(self._taken, seq)
        del recs[:]
        # Everything up to the first reading left untaken is taken now.
        self._scan = after if first_free is None else first_free - 1
        if bad:
            self._finish(bad)
        if not seqs:
            return None
        p -= 1  # the trailing comma
        if len(seqs) == 1:
            start += 1
        else:
            buf[start] = 91  # '['
            buf[p] = 93  # ']'
            p += 1
        return key, start, p, seqs, floor

    def _topic(self, key):
        return fiware.attrs_topic(key.decode(), self.prefix)

    def _delivered(self, key, seqs, floor):
        self.acked += len(seqs)
        if floor is not None:
            self._floor[key] = floor
        self._finish(seqs)

    # -- synchronous transport (replay) --------------------------------------------
    def pump(self):
        """Publish what the log holds through self.transport; -> readings delivered."""
        delivered = 0
        while True:
            m = self._next_message()
            if m is None:
                return delivered
            key, start, end, seqs, floor = m
            self.transport.publish(self._topic(key), bytes(self._buf[start:end]))
            self._delivered(key, seqs, floor)
            delivered += len(seqs)
            self.sent += len(seqs)

    # -- windowed delivery over an app.mqtt.Session ----------------------------------
    def attach(self, session):
        """A new connection: start again after the last acknowledged reading."""
        self.session = session
        session.on_puback = self.on_puback
        self._untake()

    def detach(self):
        self.session = None
        self._untake()

    def step(self):
        """Send a message for each device with nothing in flight, up to the window;
        -> publishes sent."""
        s = self.session
        count = 0
        idle = (self.log.next_seq, self._acks)
        if self._idle_at == idle:
            return 0  # nothing new since gathering last found nothing
        while len(self._inflight) < self.window:
            m = self._next_message()
            if m is None:
                if not self._held:  # a held reading waits for the clock, not for news
                    self._idle_at = idle
                break
            key, start, end, seqs, floor = m
            pid, pkt = s.frame_publish(self._buf, start, end, self._topic(key), 1)
            s.send_publish(pkt, 1)
            self._inflight.append([pid, key, seqs, floor])
            self.sent += len(seqs)
            self.publishes += 1
            self.wire_bytes += len(pkt) + 4  # and its PUBACK
            count += 1
        return count

    @property
    def idle(self):
        return not self._inflight

    @property
    def in_flight(self):
        """Keys (b'<apikey>/<device id>') with a message awaiting its PUBACK."""
        return [m[1] for m in self._inflight]

    def on_puback(self, pid):
        inflight = self._inflight
        for i in range(len(inflight)):
            if inflight[i][0] == pid:
                break
        else:
            return  # not a reading (status, command answer)
        # Each PUBACK stands for its own message: another device's earlier message
        # may still be missing (it goes again after a reconnect), and the log frees
        # readings only up to it.
        _, key, seqs, floor = inflight.pop(i)
        self._acks += 1
        self._delivered(key, seqs, floor)
