# Delivery from the log to the broker: oldest first, consecutive readings of
# one device batched into one measures message (a JSON array of >= 2 objects,
# a plain object for one), each reading carrying its log sequence number as
# "seq" so downstream can spot a redelivered duplicate.  Publishes are QoS 1
# with a bounded window in flight; the log forgets readings only when their
# PUBACKs arrive, in order.  After a reconnect everything not acknowledged is
# sent again.  Published TimeInstants never go backwards per device.
from app import fiware, record
from app.timesync import TI, VALID_FROM, flag, set_stamp

TOPIC_ROOM = 128  # room before the payload for topic, packet id and fixed header (app.mqtt)
SEQ = b'{"seq":'


class Uplink:
    def __init__(self, cfg, log, transport=None, window=8, max_batch=64, max_bytes=6144,
                 clock=None):
        self.log = log
        self.transport = transport  # a synchronous publish(topic, payload) (replay)
        self.window = window
        self.max_batch = max_batch
        self.max_bytes = max_bytes
        self.clock = clock  # app.timesync.TimeSync, or None: stamps are trusted
        self._buf = bytearray(TOPIC_ROOM + max_bytes + max_batch * 16 + 2)
        self._recs = []
        self._inflight = []  # [pid, last seq, count, key, highest stamp], oldest first
        self._acked = 0  # every seq <= this is acknowledged
        self._sent = 0  # every seq <= this is published (or acknowledged)
        self._floor_acked = {}  # key -> highest TimeInstant acknowledged
        self._floor = {}  # key -> highest TimeInstant published
        self.session = None
        self.sent = 0  # readings published (a redelivery counts again)
        self.acked = 0  # readings acknowledged
        self.publishes = 0
        self.wire_bytes = 0
        self.malformed = 0  # log records that were not a reading

    # -- building a message --------------------------------------------------------
    def _next_message(self):
        """Encode the next batch after self._sent into self._buf.
        -> (key, start, end, last seq, count, highest stamp) or None."""
        recs = self._recs
        del recs[:]
        self.log.read(self._sent, recs, self.max_batch, self.max_bytes)
        if not recs:
            return None
        key = None
        buf = self._buf
        start = TOPIC_ROOM
        p = start + 1
        n = 0
        last = 0
        floor = None
        taken = 0
        for seq, rec in recs:
            rec = record.expand(rec)  # the FIWARE JSON, '<key> {...}', made only now
            taken += len(rec)
            if taken > self.max_bytes and seq > recs[0][0]:
                break  # max_bytes of readings as published (the log counts packed bytes)
            sp = rec.find(b" ")
            if sp < 1 or len(rec) < sp + 3 or rec[sp + 1] != 123 or rec[-1] != 125:
                # Not '<key> {...}': unpublishable. Skipped, and forgotten with the
                # batch, so one bad record cannot stop delivery.
                self.malformed += 1
                last = seq
                continue
            if key is None:
                key = rec[:sp]
                floor = self._floor.get(key)
            elif not (rec.startswith(key) and sp == len(key)):
                break
            o = sp + 1  # the object is rec[o:]; copied once, into the packet
            ti = rec.find(TI, o)
            if ti >= 0:
                ti += len(TI)
                stamp = rec[ti:ti + 20]
                if stamp < VALID_FROM and self.clock is not None:
                    rec = self.clock.fix(seq, rec[o:])
                    if rec is None:
                        break  # time not known yet: hold this and what follows
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
            if p + need + 1 > len(buf):
                if n:
                    break
                buf = self._buf = bytearray(p + need + 1)  # one reading larger than any before
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
            n += 1
            last = seq
        if not n:
            return (None, 0, 0, last, 0, None) if last else None
        p -= 1  # the trailing comma
        if n == 1:
            start += 1
        else:
            buf[start] = 91  # '['
            buf[p] = 93  # ']'
            p += 1
        return key, start, p, last, n, floor

    # -- synchronous transport (replay) --------------------------------------------
    def pump(self):
        """Publish what the log holds through self.transport; -> readings delivered."""
        delivered = 0
        while True:
            m = self._next_message()
            if m is None:
                return delivered
            key, start, end, last, n, floor = m
            if key is not None:
                self.transport.publish(fiware.attrs_topic(key.decode()), bytes(self._buf[start:end]))
            self._sent = last
            self._ack_upto(last, n, key, floor)
            delivered += n
            self.sent += n

    # -- windowed delivery over an app.mqtt.Session ----------------------------------
    def attach(self, session):
        """A new connection: start again after the last acknowledged reading."""
        self.session = session
        session.on_puback = self.on_puback
        del self._inflight[:]
        self._sent = self._acked
        self._floor = dict(self._floor_acked)

    def detach(self):
        self.session = None
        del self._inflight[:]
        self._sent = self._acked
        self._floor = dict(self._floor_acked)

    def step(self):
        """Fill the window of unacknowledged publishes; -> publishes sent."""
        s = self.session
        count = 0
        while len(self._inflight) < self.window:
            m = self._next_message()
            if m is None:
                break
            key, start, end, last, n, floor = m
            if key is None:  # only malformed records: forget them in order
                self._sent = last
                if self._inflight:
                    self._inflight.append([-1, last, 0, None, None])
                else:
                    self._ack_upto(last, 0, None, None)
                continue
            pid, pkt = s.frame_publish(self._buf, start, end, fiware.attrs_topic(key.decode()), 1)
            s.send_publish(pkt, 1)
            self._inflight.append([pid, last, n, key, floor])
            self._sent = last
            if floor is not None:
                self._floor[key] = floor
            self.sent += n
            self.publishes += 1
            self.wire_bytes += len(pkt) + 4  # and its PUBACK
            count += 1
        return count

    @property
    def idle(self):
        return not self._inflight

    def on_puback(self, pid):
        inflight = self._inflight
        for i in range(len(inflight)):
            if inflight[i][0] == pid:
                break
        else:
            return  # not a reading (status, command answer)
        # MQTT 3.1.1 (4.6) has the broker acknowledge in order; an earlier one
        # missing would mean it was lost, so stop acknowledging at the gap.
        if i:
            inflight[i][0] = -1
            return
        while inflight and (inflight[0][0] == pid or inflight[0][0] == -1):
            _, last, n, key, floor = inflight.pop(0)
            self._ack_upto(last, n, key, floor)
            pid = None

    def _ack_upto(self, last, n, key, floor):
        self.log.ack(last)
        self._acked = last
        self.acked += n
        if floor is not None:
            self._floor_acked[key] = floor
            if self.session is None:
                self._floor[key] = floor
